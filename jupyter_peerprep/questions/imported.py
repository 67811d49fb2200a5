"""One question read from another grader's notebook, written as a PeerPrep question notebook.

The otter and nbgrader readers (``otter.py``, ``nbgrader.py``) find a question's prompt,
solution, starter and test cells; this module turns their test cells into cases (through
``asserts.py``), picks the entry point and the checker, and builds the notebook, listing what
did not convert.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .asserts import Case, cases_from_test, question_checker
from .loader import parse_notebook_text
from .problems import ProblemList, QuestionError
from .vocabulary import DIFFICULTIES, TOPICS

_SLUG = re.compile(r"[^a-z0-9]+")
NO_GENERATOR_NOTE = (
    "no input generator or complexity block (the source format has none); add them to "
    "measure complexity"
)


def slug(text: str) -> str:
    return _SLUG.sub("-", text.lower()).strip("-") or "question"


@dataclass
class Conversion:
    """One question converted (maybe partly) into a PeerPrep question notebook."""

    question_id: str
    notebook: dict[str, Any]
    public: int = 0
    hidden: int = 0
    not_converted: list[str] = field(default_factory=list)
    # False when the notebook cannot validate as written (no hidden case, no topics, ...).
    complete: bool = True


@dataclass
class TestCell:
    """A test cell (or the hidden part of one) of the source notebook."""

    cell: int  # 1-based position in the source notebook
    source: str
    hidden: bool
    outputs: list[dict[str, Any]] = field(default_factory=list)
    label: str = ""  # how the report names it, e.g. "test 2" or "correct_squares"


@dataclass
class Found:
    """What a reader found of one question."""

    qid: str
    name: str
    kind: str  # "otter" or "nbgrader", for the notes
    prompt: str
    solution: str
    starter: str
    tests: list[TestCell]
    notes: list[str] = field(default_factory=list)
    difficulty: Any = None
    topics: Any = None
    # Top-level definitions of earlier questions' solutions, by name: a helper this solution
    # calls (nbgrader's sum_of_squares calls squares) is copied into it.
    earlier: dict[str, str] = field(default_factory=dict)


def read_notebook(path: str | Path) -> dict[str, Any]:
    """The notebook at ``path``; a QuestionError says why it cannot be read."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        found = ProblemList(str(path))
        found.add(f"cannot be read: {e.strerror or e}")
        raise QuestionError(found.problems) from None
    return parse_notebook_text(data, str(path))


def top_level_definitions(source: str, *, imports: bool = False) -> dict[str, str]:
    """name -> source of each top-level function or class (and import); {} if it won't parse."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    out: dict[str, str] = {}
    for node in tree.body:
        segment = ast.get_source_segment(source, node) or ""
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out[node.name] = segment
        elif imports and isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                out[(alias.asname or alias.name).split(".")[0]] = segment
    return out


def _helpers(solution: str, earlier: dict[str, str]) -> list[str]:
    """Sources of earlier definitions the solution uses but does not define, in use order."""
    try:
        tree = ast.parse(solution)
    except SyntaxError:
        return []
    defined = set(top_level_definitions(solution))
    used: list[str] = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Name)
            and isinstance(node.ctx, ast.Load)
            and node.id in earlier
            and node.id not in defined
            and node.id not in used
        ):
            used.append(node.id)
    sources: list[str] = []
    for name in used:
        for inner in _helpers(earlier[name], {k: v for k, v in earlier.items() if k != name}):
            if inner not in sources:
                sources.append(inner)
        if earlier[name] not in sources:
            sources.append(earlier[name])
    return sources


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


def _named(cases: list[tuple[TestCell, Case]]) -> list[tuple[TestCell, dict[str, Any]]]:
    """Unique, input-free case names: the test's label (its function), numbered."""
    out: list[tuple[TestCell, dict[str, Any]]] = []
    groups: dict[str, int] = {}
    for test, case in cases:
        groups[case.group or test.label] = groups.get(case.group or test.label, 0) + 1
    seen: dict[str, int] = {}
    for test, case in cases:
        key = case.group or test.label
        seen[key] = seen.get(key, 0) + 1
        name = key if groups[key] == 1 else f"{key}.{seen[key]}"
        out.append((test, {"name": name, "args": case.args, "expected": case.expected}))
    return out


def build(found: Found, filename: str, *, hide_last: bool = False) -> Conversion:
    """The PeerPrep notebook of one question, with what did not convert listed."""
    notes = list(found.notes)
    functions: list[str] = []
    try:
        for node in ast.parse(found.solution).body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                functions.append(node.name)
    except SyntaxError as e:
        notes.append(f"the solution is not valid Python after removing the markers: {e.msg}")

    converted: list[tuple[TestCell, Case]] = []
    complete = True
    for test in found.tests:
        cases, reasons = cases_from_test(test.source, test.outputs, set(functions))
        for reason in reasons[:3]:
            complete = False
            notes.append(f"{test.label} (cell {test.cell}): {reason}")
        if len(reasons) > 3:
            notes.append(f"{test.label} (cell {test.cell}): {len(reasons) - 3} more like these")
        converted += [(test, case) for case in cases]
    called: dict[str, int] = {}
    for _, case in converted:
        called[case.fn] = called.get(case.fn, 0) + 1
    entry = max(called, key=lambda f: called[f]) if called else (functions[0] if functions else "")
    for test, case in converted:
        if case.fn != entry:
            complete = False
            notes.append(f"{test.label} (cell {test.cell}) calls {case.fn}(), not {entry}()")
    converted = [(t, c) for t, c in converted if c.fn == entry]
    checker, checker_note = question_checker([c for _, c in converted])
    if checker_note:
        notes.append(f"checker {checker!r}: {checker_note}")

    named = _named(converted)
    public = [case for test, case in named if not test.hidden]
    hidden = [case for test, case in named if test.hidden]
    if hide_last and not hidden and len(public) > 1:
        hidden.append(public.pop())
        notes.append(
            f"no hidden test in the source: the last public case {hidden[0]['name']!r} "
            "was made hidden (--hide-last)"
        )
    if not functions:
        notes.append("no function in the solution: PeerPrep questions test a function")
        complete = False
    if not public:
        notes.append("no public test converted; a question needs at least one")
        complete = False
    if not hidden:
        notes.append("no hidden test converted; a question needs at least one")
        complete = False
    topics = found.topics
    if isinstance(topics, str):
        topics = [topics]
    if not topics or any(t not in TOPICS for t in topics):
        notes.append(f"topics {topics!r}: give --topics from {', '.join(TOPICS)}")
        complete = False
    difficulty = found.difficulty or "medium"
    if difficulty not in DIFFICULTIES:
        notes.append(f"difficulty {difficulty!r} is not one of {', '.join(DIFFICULTIES)}")
        complete = False
    notes.append(NO_GENERATOR_NOTE)

    helpers = _helpers(found.solution, found.earlier)
    if helpers:
        names = ", ".join(sorted(set(top_level_definitions("\n\n".join(helpers)))))
        notes.append(f"copied {names} from earlier cells into the starter and the solution")
    prefix = "".join(h.rstrip() + "\n\n\n" for h in helpers)
    prompt = found.prompt.strip()
    prompt = re.sub(r"^(-{3,}|\*{3,})\s*\n", "", prompt).strip()  # nbgrader's leading rule
    heading = re.search(r"^#+\s*(.+)$", prompt, re.M)
    title = heading.group(1).strip() if heading else found.name
    if not heading and entry and re.fullmatch(r"q\w{0,6}", found.name, re.I):
        title = f"{entry} ({found.name})"  # otter's "q4" says less than "hailstone (q4)"
    metadata = {
        "id": found.qid,
        "title": title[:200],
        "difficulty": difficulty,
        "topics": list(topics or []),
        "entry_point": entry,
        "language": "python",
        "checker": checker,
        "limits": {"time_s": 2.0, "memory_mb": 256},
    }
    origin = f"{found.kind} question {found.name!r} in {Path(filename).name}"
    cells = [
        _cell("markdown", f"Converted from {origin}.", None),
        _cell("markdown", prompt or f"(The {origin} had no prompt.)", "prompt"),
        _cell("code", prefix + found.starter, "starter"),
        _cell("code", prefix + found.solution, "solution"),
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
    return Conversion(found.qid, notebook, len(public), len(hidden), notes, complete)
