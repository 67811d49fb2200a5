"""Read nbgrader source notebooks as PeerPrep questions.

nbgrader marks cells in ``metadata.nbgrader``. Per autograded answer cell (``solution: true``,
``grade: false``, a code cell):

- the markdown cells before it (since the previous answer or test cell): the prompt;
- the cell with its ``### BEGIN SOLUTION`` / ``### END SOLUTION`` markers removed: the reference
  solution; with each block replaced by nbgrader's own stub (``# YOUR CODE HERE`` /
  ``raise NotImplementedError()``): the starter;
- the autograder test cells (``grade: true``, ``solution: false``) that call its functions:
  cases through ``asserts.py``; the lines between ``### BEGIN HIDDEN TESTS`` and ``### END
  HIDDEN TESTS`` become hidden cases, the rest public ones.

Manually graded answers (written or code), ``### AUTOTEST`` lines and tests that are not
asserts on calls are listed in ``not_converted``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

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

_BEGIN_SOLUTION = re.compile(r"^(\s*)#+\s*BEGIN\s+SOLUTION\s*$", re.I)
_END_SOLUTION = re.compile(r"^\s*#+\s*END\s+SOLUTION\s*$", re.I)
_BEGIN_HIDDEN = re.compile(r"^\s*#+\s*BEGIN\s+HIDDEN\s+TESTS\s*$", re.I)
_END_HIDDEN = re.compile(r"^\s*#+\s*END\s+HIDDEN\s+TESTS\s*$", re.I)
_AUTOTEST = re.compile(r"^\s*#+\s*(HASHED\s+)?AUTOTEST\b", re.I)


def _meta(cell: dict[str, Any]) -> dict[str, Any]:
    meta = cell.get("metadata")
    found = meta.get("nbgrader") if isinstance(meta, dict) else None
    return found if isinstance(found, dict) else {}


def _split_solution(source: str) -> tuple[str, str, bool]:
    """(solution, starter, whether the cell had solution markers)."""
    solution: list[str] = []
    starter: list[str] = []
    inside = False
    marked = False
    for line in source.splitlines():
        begin = _BEGIN_SOLUTION.match(line)
        if begin:
            inside, marked = True, True
            starter += [
                f"{begin.group(1)}# YOUR CODE HERE",
                f"{begin.group(1)}raise NotImplementedError()",
            ]
            continue
        if _END_SOLUTION.match(line):
            inside = False
            continue
        solution.append(line)
        if not inside:
            starter.append(line)
    return "\n".join(solution).rstrip() + "\n", "\n".join(starter).rstrip() + "\n", marked


def _split_hidden(source: str) -> tuple[str, str, list[str]]:
    """(public lines, hidden lines, ### AUTOTEST lines) of a test cell."""
    public: list[str] = []
    hidden: list[str] = []
    autotest: list[str] = []
    inside = False
    for line in source.splitlines():
        if _BEGIN_HIDDEN.match(line):
            inside = True
            continue
        if _END_HIDDEN.match(line):
            inside = False
            continue
        if _AUTOTEST.match(line):
            autotest.append(line.strip())
            continue
        (hidden if inside else public).append(line)
    return "\n".join(public), "\n".join(hidden), autotest


def convert_notebook(
    nb: dict[str, Any],
    filename: str,
    *,
    difficulty: str = "medium",
    topics: list[str] | None = None,
    hide_last: bool = False,
) -> list[Conversion]:
    """Every autograded answer cell of an nbgrader source notebook, as a question."""
    problems = ProblemList(filename)
    prefix = slug(Path(filename).stem)
    questions: list[dict[str, Any]] = []
    prompt: list[str] = []
    unplaced: list[str] = []
    released = 0
    setup: dict[str, str] = {}  # imports of plain code cells, for solutions that use them
    for index, cell in enumerate(nb["cells"], start=1):
        meta, kind, source = _meta(cell), cell.get("cell_type"), cell_source(cell)
        grade_id = str(meta.get("grade_id") or f"cell-{index}")
        if meta.get("solution") and not meta.get("grade") and kind == "code":
            solution, starter, marked = _split_solution(source)
            if not marked:
                released += 1
            questions.append(
                {
                    "cell": index,
                    "grade_id": grade_id,
                    "prompt": prompt,
                    "solution": solution,
                    "starter": starter,
                    "marked": marked,
                    "tests": [],
                    "notes": [],
                    "functions": set(top_level_definitions(solution)),
                }
            )
            prompt = []
        elif meta.get("solution") and meta.get("grade"):
            what = "written" if kind == "markdown" else "code"
            note = f"cell {index} ({grade_id}): a manually graded {what} answer"
            (questions[-1]["notes"] if questions else unplaced).append(note)
            prompt = []
        elif meta.get("grade") and kind == "code":
            owner = _owner(questions, source)
            if owner is None:
                unplaced.append(f"cell {index} ({grade_id}): tests before any answer cell")
                continue
            public, hidden, autotest = _split_hidden(source)
            outputs = cell.get("outputs") or []
            owner["tests"].append(TestCell(index, public, False, outputs, grade_id))
            if hidden.strip():
                owner["tests"].append(TestCell(index, hidden, True, [], f"{grade_id} hidden"))
            for line in autotest:
                owner["notes"].append(f"cell {index} ({grade_id}): `{line[:60]}` (AUTOTEST)")
            prompt = []
        elif kind == "markdown" and source.strip():
            prompt.append(source)
        elif kind == "code" and not meta:
            setup.update(top_level_definitions(source, imports=True))
    if not any(_meta(c) for c in nb["cells"]):
        problems.add(
            "has no nbgrader cell (no cell has metadata.nbgrader); is it an nbgrader source "
            "notebook? (for otter-grader master notebooks use import-otter)"
        )
    elif not questions:
        problems.add(
            "has no autograded answer cell (a code cell with nbgrader solution: true and "
            "grade: false): nothing PeerPrep can grade by test cases"
        )
    elif released == len(questions):
        problems.add(
            "has no ### BEGIN SOLUTION in any answer cell: this looks like the released "
            "(student) version; import the source version, which has the solutions"
        )
    problems.raise_if_errors()
    conversions: list[Conversion] = []
    earlier: dict[str, str] = dict(setup)
    for q in questions:
        notes = list(unplaced) + q["notes"]
        if not q["marked"]:
            notes.insert(0, f"cell {q['cell']} has no ### BEGIN SOLUTION: its code is the starter")
        found = Found(
            qid=f"{prefix}-{slug(q['grade_id'])}"[:100].strip("-"),
            name=q["grade_id"],
            kind="nbgrader",
            prompt="\n\n".join(p.strip() for p in q["prompt"]),
            solution=q["solution"],
            starter=q["starter"],
            tests=q["tests"],
            notes=notes,
            difficulty=difficulty,
            topics=topics or [],
            earlier=dict(earlier),
        )
        conversions.append(build(found, filename, hide_last=hide_last))
        earlier.update(top_level_definitions(q["solution"]))
    return conversions


def _owner(questions: list[dict[str, Any]], source: str) -> dict[str, Any] | None:
    """The latest answer cell whose functions the test calls, else the latest one."""
    for q in reversed(questions):
        if any(re.search(rf"\b{re.escape(fn)}\s*\(", source) for fn in q["functions"]):
            return q
    return questions[-1] if questions else None


def convert_path(path: str | Path, **options: Any) -> list[Conversion]:
    """Every autograded answer of the nbgrader notebook at ``path``, converted.

    ``options``: ``difficulty``, ``topics``, ``hide_last`` as for ``convert_notebook``.
    """
    return convert_notebook(read_notebook(path), str(path), **options)
