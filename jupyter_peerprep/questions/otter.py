"""Convert otter-grader ``assign`` master notebooks (format v1) into PeerPrep question notebooks.

The common subset that converts, per otter question (``# BEGIN QUESTION`` ... ``# END
QUESTION`` raw cells):

- the question config (``name``; ``difficulty`` and ``topics`` if present, else the command's
  options); ``points``/``manual`` and other keys are reported as not converted;
- the markdown cells after ``# BEGIN QUESTION`` become the prompt;
- the code cells between ``# BEGIN SOLUTION`` / ``# END SOLUTION`` raw cells become the
  reference solution (otter's markers removed) and, with otter's own replacements applied
  (``# SOLUTION`` lines, ``# BEGIN SOLUTION`` blocks become ``...``; ``NO PROMPT`` variants are
  dropped), the starter; the entry point is the function the tests call;
- each test cell between ``# BEGIN TESTS`` / ``# END TESTS`` becomes cases when it is
  ``assert f(<literals>) == <literal>`` (one or more), ``f(<literals>) == <literal>``, or
  ``f(<literals>)`` whose recorded output is a literal; ``# HIDDEN`` as first line, or
  ``hidden: true`` in a ``# BEGIN TEST CONFIG`` block, makes its cases hidden.

Everything else (other test shapes, setup code outside questions, manually graded questions,
assignment config) is listed in ``not_converted``. Otter has no input generator, so converted
questions have no complexity block until an instructor adds one.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .loader import cell_source, parse_notebook_text
from .problems import ProblemList, QuestionError
from .vocabulary import DIFFICULTIES, TOPICS


@dataclass
class OtterConversion:
    """One otter question converted (maybe partly) into a PeerPrep question notebook."""

    question_id: str
    notebook: dict[str, Any]
    public: int = 0
    hidden: int = 0
    not_converted: list[str] = field(default_factory=list)
    # False when the notebook cannot validate as written (no hidden case, no topics, ...).
    complete: bool = True


_DELIMITER = re.compile(r"^\s*#\s*(BEGIN|END)\s+(QUESTION|SOLUTION|TESTS|PROMPT)\b(.*)$", re.I)
_SLUG = re.compile(r"[^a-z0-9]+")


def _slug(text: str) -> str:
    return _SLUG.sub("-", text.lower()).strip("-") or "question"


def _delimiter(cell: dict[str, Any]) -> tuple[str, str, str] | None:
    if cell.get("cell_type") != "raw":
        return None
    first = cell_source(cell).strip().splitlines()[:1]
    match = _DELIMITER.match(first[0]) if first else None
    if not match:
        return None
    return match.group(1).upper(), match.group(2).upper(), match.group(3).strip().upper()


def _simple_yaml(text: str) -> tuple[dict[str, Any], list[str]]:
    """``key: value`` lines (strings, numbers, booleans, [a, b] lists); the rest is reported."""
    out: dict[str, Any] = {}
    skipped: list[str] = []
    for line in text.splitlines():
        if not line.strip() or line.strip().startswith("#"):
            continue
        if ":" not in line or line.startswith((" ", "\t", "-")):
            skipped.append(line.strip())
            continue
        key, _, value = line.partition(":")
        value = value.strip()
        parsed: Any = value
        if value.lower() in ("true", "false"):
            parsed = value.lower() == "true"
        elif value.startswith("[") and value.endswith("]"):
            parsed = [v.strip().strip("'\"") for v in value[1:-1].split(",") if v.strip()]
        else:
            try:
                parsed = ast.literal_eval(value)
            except (ValueError, SyntaxError):
                parsed = value.strip("'\"")
        out[key.strip()] = parsed
    return out, skipped


def _strip_solution_markers(source: str) -> str:
    """The reference solution: otter's markers removed, the code kept."""
    lines = []
    for line in source.splitlines():
        stripped = line.strip()
        if re.match(r"#\s*(BEGIN|END)\s+SOLUTION\b", stripped):
            continue
        line = re.sub(r"\s*#\s*SOLUTION(\s+NO\s+PROMPT)?\s*$", "", line)
        lines.append(line)
    return "\n".join(lines).rstrip() + "\n"


def _starter_from_solution(source: str) -> str:
    """otter's student version of a solution cell."""
    out: list[str] = []
    skipping: str | None = None  # "prompt" (replace by ...) or "drop"
    for line in source.splitlines():
        stripped = line.strip()
        begin = re.match(r"#\s*BEGIN\s+SOLUTION(\s+NO\s+PROMPT)?\b", stripped)
        if begin:
            indent = line[: len(line) - len(line.lstrip())]
            skipping = "drop" if begin.group(1) else "prompt"
            if skipping == "prompt":
                out.append(f"{indent}...")
            continue
        if re.match(r"#\s*END\s+SOLUTION\b", stripped):
            skipping = None
            continue
        if skipping:
            continue
        marker = re.search(r"\s*#\s*SOLUTION(\s+NO\s+PROMPT)?\s*$", line)
        if marker:
            if marker.group(1):
                continue
            code = line[: marker.start()]
            indent = code[: len(code) - len(code.lstrip())]
            assign = re.match(r"^(\s*[\w\.\[\], ]+?\s*=)(?!=)", code)
            if assign:
                out.append(f"{assign.group(1)} ...")
            elif code.lstrip().startswith("return"):
                out.append(f"{indent}return ...")
            else:
                out.append(f"{indent}...")
            continue
        out.append(line)
    return "\n".join(out).rstrip() + "\n"


def _json_literal(node: ast.AST) -> Any:
    """A JSON value from a literal expression; ValueError if it is not one."""
    value = ast.literal_eval(node)

    def convert(v: Any) -> Any:
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        if isinstance(v, (list, tuple)):
            return [convert(x) for x in v]
        if isinstance(v, dict) and all(isinstance(k, str) for k in v):
            return {k: convert(x) for k, x in v.items()}
        raise ValueError(f"{type(v).__name__} is not a JSON value")

    return convert(value)


def _call_case(call: ast.AST, functions: set[str]) -> tuple[str, list[Any]]:
    if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name):
        raise ValueError("not a call of the question's function")
    if call.func.id not in functions:
        raise ValueError(f"calls {call.func.id}(), which the solution does not define")
    if call.keywords:
        raise ValueError("keyword arguments are not supported (cases pass positional args)")
    return call.func.id, [_json_literal(a) for a in call.args]


def _cases_from_test(
    source: str, outputs: list[dict[str, Any]], functions: set[str]
) -> tuple[list[tuple[str, list[Any], Any]], str | None]:
    """(function, args, expected) per case in one otter test cell, or the reason it won't go."""
    try:
        tree = ast.parse(source)
    except SyntaxError as e:
        return [], f"not valid Python ({e.msg})"
    body = [
        node
        for node in tree.body
        if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
    ]
    if not body:
        return [], "empty test"
    cases: list[tuple[str, list[Any], Any]] = []
    try:
        for i, node in enumerate(body):
            expr = node.test if isinstance(node, ast.Assert) else None
            if expr is None and isinstance(node, ast.Expr):
                expr = node.value
            if expr is None:
                raise ValueError(f"a {type(node).__name__} statement")
            if (
                isinstance(expr, ast.Compare)
                and len(expr.ops) == 1
                and isinstance(expr.ops[0], ast.Eq)
            ):
                left, right = expr.left, expr.comparators[0]
                if not isinstance(left, ast.Call):
                    left, right = right, left
                fn, args = _call_case(left, functions)
                if isinstance(node, ast.Expr) and i == len(body) - 1 and outputs:
                    shown = _output_text(outputs)
                    if shown is not None and shown.strip() != "True":
                        raise ValueError("the comparison's recorded output is not True")
                cases.append((fn, args, _json_literal(right)))
            elif isinstance(expr, ast.Call) and not isinstance(node, ast.Assert):
                if i != len(body) - 1:
                    raise ValueError("a bare call before the last line has no recorded output")
                fn, args = _call_case(expr, functions)
                shown = _output_text(outputs)
                if shown is None:
                    raise ValueError("a bare call with no recorded output to compare with")
                try:
                    expected = _json_literal(ast.parse(shown.strip(), mode="eval").body)
                except (ValueError, SyntaxError):
                    raise ValueError(
                        f"recorded output {shown.strip()[:40]!r} is not a literal"
                    ) from None
                cases.append((fn, args, expected))
            else:
                raise ValueError("not `assert f(...) == value` or `f(...)` with an output")
    except ValueError as e:
        return [], str(e)
    return cases, None


def _output_text(outputs: list[dict[str, Any]]) -> str | None:
    for output in outputs:
        if output.get("output_type") == "execute_result":
            data = output.get("data", {}).get("text/plain")
            if data is not None:
                return "".join(data) if isinstance(data, list) else str(data)
    return None


def _test_config(source: str) -> tuple[str, dict[str, Any], bool]:
    """Strip ``# HIDDEN`` and a TEST CONFIG block; return (code, config, hidden)."""
    hidden = False
    lines = source.splitlines()
    if lines and re.match(r"^\s*#\s*HIDDEN\s*$", lines[0]):
        hidden = True
        lines = lines[1:]
    text = "\n".join(lines)
    config: dict[str, Any] = {}
    match = re.search(
        r'("""|\'\'\')\s*#\s*BEGIN TEST CONFIG(.*?)("""|\'\'\')\s*#\s*END TEST CONFIG',
        text,
        re.S,
    )
    if match:
        config, _ = _simple_yaml(match.group(2).strip().strip("'\"").strip())
        text = text[: match.start()] + text[match.end() :]
        hidden = hidden or bool(config.get("hidden"))
    return text, config, hidden


def _cases_text(cases: list[dict[str, Any]]) -> str:
    """One case per line: readable and diff-friendly in the raw cell."""
    if not cases:
        return "[]"
    return "[\n" + ",\n".join(" " + json.dumps(c) for c in cases) + "\n]"


def _cell(cell_type: str, source: str, tag: str | None) -> dict[str, Any]:
    c: dict[str, Any] = {
        "cell_type": cell_type,
        "metadata": {"tags": [tag]} if tag else {},
        "source": source,
    }
    if cell_type == "code":
        c.update(execution_count=None, outputs=[])
    return c


def convert_notebook(
    nb: dict[str, Any],
    filename: str,
    *,
    difficulty: str = "medium",
    topics: list[str] | None = None,
) -> list[OtterConversion]:
    """Every otter question of a master notebook, converted."""
    found = ProblemList(filename)
    prefix = _slug(Path(filename).stem)
    conversions: list[OtterConversion] = []
    outside: list[str] = []
    current: dict[str, Any] | None = None
    section: str | None = None
    for index, cell in enumerate(nb["cells"], start=1):
        delim = _delimiter(cell)
        source = cell_source(cell)
        if delim and delim[1] == "QUESTION":
            if delim[0] == "BEGIN":
                config, skipped = _simple_yaml("\n".join(source.splitlines()[1:]))
                current = {
                    "cell": index,
                    "config": config,
                    "skipped": skipped,
                    "prompt": [],
                    "solution": [],
                    "tests": [],
                    "prompts": [],
                }
                section = "prompt"
            elif current is not None:
                conversions.append(_build(current, prefix, difficulty, topics or [], filename))
                current, section = None, None
            continue
        if current is None:
            if source.strip() and cell.get("cell_type") == "code":
                outside.append(f"code cell {index} outside any question (setup code?)")
            elif cell.get("cell_type") == "raw" and "ASSIGNMENT CONFIG" in source.upper():
                outside.append(f"cell {index}: the assignment config")
            continue
        if delim:
            begin_end, kind, _ = delim
            section = kind.lower() if begin_end == "BEGIN" else "after"
            continue
        if section == "prompt" and cell.get("cell_type") == "markdown":
            current["prompt"].append(source)
        elif section == "solution" and cell.get("cell_type") == "code":
            current["solution"].append(source)
        elif section == "tests" and cell.get("cell_type") == "code":
            current["tests"].append((index, source, cell.get("outputs") or []))
        elif section == "prompt" and cell.get("cell_type") == "code":
            # otter v1 also accepts an unwrapped solution cell right after the prompt.
            current["solution"].append(source)
        elif section == "prompts":
            current["prompts"].append(index)
        elif source.strip():
            current.setdefault("ignored", []).append(index)
    if current is not None:
        found.add(
            f"question {current['config'].get('name', '?')!r} (cell {current['cell']}) "
            "has no # END QUESTION cell"
        )
    if not conversions and not found.problems:
        found.add(
            "has no otter question: no raw cell starting with # BEGIN QUESTION "
            "(only otter assign format v1 is supported)"
        )
    found.raise_if_errors()
    for conversion in conversions:
        conversion.not_converted[:0] = outside
    return conversions


def _build(
    q: dict[str, Any], prefix: str, difficulty: str, topics: list[str], filename: str
) -> OtterConversion:
    config = q["config"]
    name = str(config.get("name") or f"q{q['cell']}")
    notes: list[str] = []
    qid = f"{prefix}-{_slug(name)}"[:100].strip("-")
    for key in sorted(set(config) - {"name", "difficulty", "topics"}):
        notes.append(f"question config {key}: {config[key]!r} (PeerPrep has no such setting)")
    for line in q["skipped"]:
        notes.append(f"question config line {line!r}")
    if config.get("manual"):
        notes.append("a manually graded question: PeerPrep grades by test cases only")
    if q["prompts"]:
        notes.append(f"# BEGIN PROMPT cells {q['prompts']} (written answers)")
    for index in q.get("ignored", []):
        notes.append(f"cell {index} in the question is in no section PeerPrep reads")

    solution_src = "\n\n".join(_strip_solution_markers(s).rstrip() for s in q["solution"]) + "\n"
    starter_src = "\n\n".join(_starter_from_solution(s).rstrip() for s in q["solution"]) + "\n"
    functions: list[str] = []
    try:
        for node in ast.parse(solution_src).body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                functions.append(node.name)
    except SyntaxError as e:
        notes.append(f"the solution is not valid Python after removing otter markers: {e.msg}")

    public: list[dict[str, Any]] = []
    hidden: list[dict[str, Any]] = []
    called: dict[str, int] = {}
    for t, (index, source, outputs) in enumerate(q["tests"], start=1):
        code, _config, is_hidden = _test_config(source)
        cases, reason = _cases_from_test(code, outputs, set(functions))
        if reason:
            first = next((ln.strip() for ln in code.splitlines() if ln.strip()), "")
            notes.append(f"test {t} (cell {index}) `{first[:60]}`: {reason}")
            continue
        for k, (fn, args, expected) in enumerate(cases, start=1):
            called[fn] = called.get(fn, 0) + 1
            case_name = f"test {t}" + (f".{k}" if len(cases) > 1 else "")
            (hidden if is_hidden else public).append(
                {"name": case_name, "args": args, "expected": expected, "_fn": fn}
            )
    entry = max(called, key=lambda f: called[f]) if called else (functions[0] if functions else "")
    for case in public + hidden:
        if case.pop("_fn") != entry:
            notes.append(f"{case['name']} calls another function than {entry}(); dropped")
            case["drop"] = True
    public = [c for c in public if not c.pop("drop", False)]
    hidden = [c for c in hidden if not c.pop("drop", False)]

    complete = True
    if not functions:
        notes.append("no function in the solution: PeerPrep questions test a function")
        complete = False
    if not public:
        notes.append("no public test converted; a question needs at least one")
        complete = False
    if not hidden:
        notes.append("no hidden test converted (# HIDDEN); a question needs at least one")
        complete = False
    q_topics = config.get("topics") or topics
    if isinstance(q_topics, str):
        q_topics = [q_topics]
    if not q_topics or any(t not in TOPICS for t in q_topics):
        notes.append(f"topics {q_topics!r}: give --topics from {', '.join(TOPICS)}")
        complete = False
    q_difficulty = config.get("difficulty") or difficulty
    if q_difficulty not in DIFFICULTIES:
        notes.append(f"difficulty {q_difficulty!r} is not one of {', '.join(DIFFICULTIES)}")
        complete = False
    notes.append(
        "no input generator or complexity block (otter has none); add them to measure complexity"
    )

    prompt = "\n\n".join(p.strip() for p in q["prompt"]).strip()
    heading = re.match(r"^#+\s*(.+)$", prompt.splitlines()[0]) if prompt else None
    title = heading.group(1).strip() if heading else name
    metadata = {
        "id": qid,
        "title": title[:200],
        "difficulty": q_difficulty,
        "topics": list(q_topics or []),
        "entry_point": entry,
        "language": "python",
        "checker": "exact",
        "limits": {"time_s": 2.0, "memory_mb": 256},
    }
    cells = [
        _cell(
            "markdown", f"Converted from otter question {name!r} in {Path(filename).name}.", None
        ),
        _cell("markdown", prompt or f"(The otter question {name!r} had no prompt.)", "prompt"),
        _cell("code", starter_src, "starter"),
        _cell("code", solution_src, "solution"),
        _cell("raw", _cases_text(public), "public-tests"),
        _cell("raw", _cases_text(hidden), "hidden-tests"),
    ]
    notebook = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "peerprep": metadata,
        },
        "cells": cells,
    }
    real_notes = [n for n in notes if not n.startswith("no input generator")]
    complete = complete and not any(n.startswith("test ") for n in real_notes)
    return OtterConversion(qid, notebook, len(public), len(hidden), notes, complete)


def convert_path(
    path: str | Path, *, difficulty: str = "medium", topics: list[str] | None = None
) -> list[OtterConversion]:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        found = ProblemList(str(path))
        found.add(f"cannot be read: {e.strerror or e}")
        raise QuestionError(found.problems) from None
    nb = parse_notebook_text(data, str(path))
    return convert_notebook(nb, str(path), difficulty=difficulty, topics=topics)
