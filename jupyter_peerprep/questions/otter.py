"""Read otter-grader ``assign`` master notebooks (formats v1 and v0) as PeerPrep questions.

Per otter question (v1: ``# BEGIN QUESTION`` ... ``# END QUESTION`` raw cells, or the same in
a fenced ``otter`` block of a markdown cell; v0: a markdown cell with a fenced ``BEGIN
QUESTION`` config, then its solution and ``## Test ##`` / ``## Hidden Test ##`` cells):

- the question config: ``name``; ``difficulty`` and ``topics`` if present, else the command's
  options; ``points``/``manual`` and other keys are reported as not converted;
- the markdown cells after the config: the prompt;
- the solution cells (``# BEGIN SOLUTION`` / ``# END SOLUTION``): the reference solution with
  otter's markers and ``# IGNORE`` lines removed, and, with otter's own replacements applied
  (``# SOLUTION`` lines, ``# BEGIN SOLUTION`` blocks become ``...``, ``# BEGIN PROMPT``
  strings their text, ``NO PROMPT`` variants are dropped), the starter;
- the test cells: cases through ``asserts.py`` (v1 test functions ``def test_x(f): assert
  f(...) == ...``, bare asserts, v0 expressions with their recorded output); ``# HIDDEN``,
  ``hidden: true`` in a ``# BEGIN TEST CONFIG`` block, or v0's ``## Hidden Test ##`` make
  them hidden.

Everything else (other test shapes, setup code outside questions, manually graded questions,
the assignment config) is listed in ``not_converted``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

from .asserts import strip_ignored
from .imported import (
    Conversion,
    Found,
    TestCell,
    build,
    read_notebook,
    slug,
    top_level_definitions,
)
from .loader import cell_source
from .problems import ProblemList

# The old name of a converted question, kept for callers of this module.
OtterConversion = Conversion

_DELIMITER = re.compile(r"^\s*#\s*(BEGIN|END)\s+(QUESTION|SOLUTION|TESTS|PROMPT)\b(.*)$", re.I)
_FENCE = re.compile(r"```[ \t]*(\w*)[ \t]*\n(.*?)```", re.S)
_V0_TEST = re.compile(r"^\s*##\s*(HIDDEN\s+)?TESTS?\s*##\s*$", re.I)
_V0_QUESTION = re.compile(r"^\s*#?\s*BEGIN\s+QUESTION\s*$", re.I)
_TAG = re.compile(r"<[^>]+>")


def _delimiter(cell: dict[str, Any]) -> tuple[str, str, str, str] | None:
    """(BEGIN|END, kind, rest of the line, text after the line) of an otter v1 delimiter."""
    source = cell_source(cell)
    if cell.get("cell_type") == "raw":
        if "<pre>" in source:  # a raw cell kept as rendered HTML, as in otter's own docs
            source = _TAG.sub("", source)
        text = source.strip()
    elif cell.get("cell_type") == "markdown":
        fence = next((m for m in _FENCE.finditer(source) if m.group(1) in ("", "otter")), None)
        if fence is None:
            return None
        text = fence.group(2).strip()
    else:
        return None
    lines = text.splitlines()
    match = _DELIMITER.match(lines[0]) if lines else None
    if not match:
        return None
    rest = "\n".join(lines[1:])
    return match.group(1).upper(), match.group(2).upper(), match.group(3).strip().upper(), rest


def _prompt_outside_fence(cell: dict[str, Any]) -> str:
    if cell.get("cell_type") != "markdown":
        return ""
    return _FENCE.sub("", cell_source(cell), count=1).strip()


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


_PROMPT_BLOCK = re.compile(
    r'^([ \t]*)[rRbBuU]?("""|\'\'\')[ \t]*#\s*BEGIN\s+PROMPT[ \t]*\n(.*?)\n[ \t]*\2;?[ \t]*'
    r"#\s*END\s+PROMPT[ \t]*$",
    re.S | re.M,
)


def _solution(source: str) -> str:
    source = _PROMPT_BLOCK.sub("", strip_ignored(source))
    return _strip_solution_markers(source)


def _starter(source: str) -> str:
    source = _PROMPT_BLOCK.sub(lambda m: m.group(3), strip_ignored(source))
    return _starter_from_solution(source)


def _new_question(cell: int, config_text: str, prompt: str) -> dict[str, Any]:
    config, skipped = _simple_yaml(config_text)
    return {
        "cell": cell,
        "config": config,
        "skipped": skipped,
        "prompt": [prompt] if prompt else [],
        "solution": [],
        "tests": [],
        "prompts": [],
        "ignored": [],
    }


def convert_notebook(
    nb: dict[str, Any],
    filename: str,
    *,
    difficulty: str = "medium",
    topics: list[str] | None = None,
    hide_last: bool = False,
) -> list[Conversion]:
    """Every otter question of a master notebook, converted."""
    found = ProblemList(filename)
    setup: list[str] = []  # code outside questions: its imports go where a solution uses them
    if not any(_delimiter(c) for c in nb["cells"]) and any(_v0_config(c) for c in nb["cells"]):
        questions, outside = _read_v0(nb, setup)
    else:
        questions, outside = _read_v1(nb, found, setup)
    if not questions and not found.problems:
        found.add(
            "has no otter question: no raw cell starting with # BEGIN QUESTION (format v1) "
            "and no markdown cell with a fenced BEGIN QUESTION block (format v0); is it an "
            "otter master notebook? (for nbgrader notebooks use import-nbgrader)"
        )
    found.raise_if_errors()
    prefix = slug(Path(filename).stem)
    conversions: list[Conversion] = []
    earlier: dict[str, str] = {}
    for source in setup:
        earlier.update(top_level_definitions(source, imports=True))
    for q in questions:
        conversion = build(
            _found(q, prefix, difficulty, topics or [], earlier), filename, hide_last=hide_last
        )
        conversion.not_converted[:0] = outside
        conversions.append(conversion)
        for source in q["solution"]:
            earlier.update(top_level_definitions(_solution(source)))
    return conversions


def _read_v1(
    nb: dict[str, Any], found: ProblemList, setup: list[str]
) -> tuple[list[dict[str, Any]], list[str]]:
    questions: list[dict[str, Any]] = []
    outside: list[str] = []
    current: dict[str, Any] | None = None
    section: str | None = None
    for index, cell in enumerate(nb["cells"], start=1):
        delim = _delimiter(cell)
        source = cell_source(cell)
        kind = cell.get("cell_type")
        if delim and delim[1] == "QUESTION":
            if delim[0] == "BEGIN":
                current = _new_question(index, delim[3], _prompt_outside_fence(cell))
                section = "prompt"
            elif current is not None:
                questions.append(current)
                current, section = None, None
            continue
        if current is None:
            if source.strip() and kind == "code":
                outside.append(f"code cell {index} outside any question (setup code?)")
                setup.append(source)
            elif kind == "raw" and "ASSIGNMENT CONFIG" in source.upper():
                outside.append(f"cell {index}: the assignment config")
            continue
        if delim:
            section = delim[1].lower() if delim[0] == "BEGIN" else "after"
            continue
        if section == "prompt" and kind == "markdown":
            current["prompt"].append(source)
        elif section in ("solution", "prompt") and kind == "code":
            # otter v1 also accepts an unwrapped solution cell right after the prompt.
            current["solution"].append(source)
        elif section == "tests" and kind == "code":
            current["tests"].append((index, source, cell.get("outputs") or [], None))
        elif section == "prompts":
            current["prompts"].append(index)
        elif source.strip():
            current["ignored"].append(index)
    if current is not None:
        found.add(
            f"question {current['config'].get('name', '?')!r} (cell {current['cell']}) "
            "has no # END QUESTION cell"
        )
    return questions, outside


def _v0_config(cell: dict[str, Any]) -> str | None:
    if cell.get("cell_type") != "markdown":
        return None
    for fence in _FENCE.finditer(cell_source(cell)):
        lines = fence.group(2).strip().splitlines()
        if lines and _V0_QUESTION.match(lines[0]):
            return "\n".join(lines[1:])
    return None


def _read_v0(nb: dict[str, Any], setup: list[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """otter v0: the question's markdown, then its solution and ``## Test ##`` cells."""
    questions: list[dict[str, Any]] = []
    outside: list[str] = []
    current: dict[str, Any] | None = None
    for index, cell in enumerate(nb["cells"], start=1):
        source = cell_source(cell)
        kind = cell.get("cell_type")
        config = _v0_config(cell)
        if config is not None:
            current = _new_question(index, config, _prompt_outside_fence(cell))
            questions.append(current)
            continue
        if current is None:
            if source.strip() and kind == "code":
                outside.append(f"code cell {index} outside any question (setup code?)")
                setup.append(source)
            continue
        lines = source.splitlines()
        test = _V0_TEST.match(lines[0]) if kind == "code" and lines else None
        if test:
            body = "\n".join(lines[1:])
            current["tests"].append((index, body, cell.get("outputs") or [], bool(test.group(1))))
        elif kind == "code" and not current["tests"]:
            if lines and re.match(r"^\s*##\s*solution\s*##\s*$", lines[0], re.I):
                source = "\n".join(lines[1:])
            current["solution"].append(source)
        elif kind == "markdown" and not current["tests"] and not current["solution"]:
            current["prompt"].append(source)
        elif current["tests"] or kind == "markdown":
            current = None  # the question's cells end with its tests
    return questions, outside


def _found(
    q: dict[str, Any], prefix: str, difficulty: str, topics: list[str], earlier: dict[str, str]
) -> Found:
    config = q["config"]
    name = str(config.get("name") or f"q{q['cell']}")
    notes: list[str] = []
    for key in sorted(set(config) - {"name", "difficulty", "topics"}):
        notes.append(f"question config {key}: {config[key]!r} (PeerPrep has no such setting)")
    for line in q["skipped"]:
        notes.append(f"question config line {line!r}")
    if config.get("manual"):
        notes.append("a manually graded question: PeerPrep grades by test cases only")
    if q["prompts"]:
        notes.append(f"# BEGIN PROMPT cells {q['prompts']} (written answers)")
    for index in q["ignored"]:
        notes.append(f"cell {index} in the question is in no section PeerPrep reads")
    tests: list[TestCell] = []
    for t, (index, source, outputs, v0_hidden) in enumerate(q["tests"], start=1):
        code, _config, hidden = _test_config(source)
        tests.append(TestCell(index, code, bool(v0_hidden or hidden), outputs, f"test {t}"))
    solution = "\n\n".join(_solution(s).rstrip() for s in q["solution"]) + "\n"
    starter = "\n\n".join(_starter(s).rstrip() for s in q["solution"]) + "\n"
    return Found(
        qid=f"{prefix}-{slug(name)}"[:100].strip("-"),
        name=name,
        kind="otter",
        prompt="\n\n".join(p.strip() for p in q["prompt"]),
        solution=solution,
        starter=starter,
        tests=tests,
        notes=notes,
        difficulty=config.get("difficulty") or difficulty,
        topics=config.get("topics") or topics,
        earlier=dict(earlier),
    )


def convert_path(path: str | Path, **options: Any) -> list[Conversion]:
    """Every otter question of the master notebook at ``path``, converted.

    ``options``: ``difficulty``, ``topics``, ``hide_last`` as for ``convert_notebook``.
    """
    return convert_notebook(read_notebook(path), str(path), **options)
