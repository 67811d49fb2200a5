"""Read a question notebook (.ipynb) into a question spec, or say precisely what is wrong.

The spec is the JSON dict stored in ``QuestionVersion.spec``: the ``peerprep`` metadata
(normalised) plus ``prompt``, ``starter``, ``solution``, ``generator``, ``checker_source``,
``public_tests`` and ``hidden_tests``. Generated hidden cases (``{"generate": {...}}``) are
left as they are here; ``validate.run_generators`` turns them into args/expected by running
the generator and the reference solution in the grader's sandbox.

Nothing here executes notebook code: Python cells are only parsed (``ast``).
"""

from __future__ import annotations

import ast
import hashlib
import json
from pathlib import Path
from typing import Any

from .languages import load_language_cells
from .problems import ProblemList, QuestionError
from .schema import METADATA_KEY, check_cases, check_metadata
from .vocabulary import (
    CELL_TAGS,
    TAG_CHECKER,
    TAG_GENERATOR,
    TAG_HIDDEN,
    TAG_PROMPT,
    TAG_PUBLIC,
    TAG_SOLUTION,
    TAG_STARTER,
)

SPEC_FORMAT = 1

# The cell type each tag expects; tests may also live in code cells (the JSON is the same).
EXPECTED_CELL_TYPES: dict[str, tuple[str, ...]] = {
    TAG_PROMPT: ("markdown",),
    TAG_STARTER: ("code",),
    TAG_SOLUTION: ("code",),
    TAG_GENERATOR: ("code",),
    TAG_CHECKER: ("code",),
    TAG_PUBLIC: ("raw", "code"),
    TAG_HIDDEN: ("raw", "code"),
}
REQUIRED_TAGS = (TAG_PROMPT, TAG_STARTER, TAG_SOLUTION, TAG_PUBLIC, TAG_HIDDEN)


def cell_source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    if isinstance(source, list):
        return "".join(str(s) for s in source)
    return str(source)


def cell_tags(cell: dict[str, Any]) -> list[str]:
    meta = cell.get("metadata")
    tags = meta.get("tags") if isinstance(meta, dict) else None
    return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []


def parse_notebook_text(text: str | bytes, filename: str) -> dict[str, Any]:
    """Parse .ipynb JSON text; a QuestionError names the line and column of bad JSON."""
    found = ProblemList(filename)
    try:
        nb = json.loads(text)
    except UnicodeDecodeError as e:
        found.add(f"is not UTF-8 text ({e.reason} at byte {e.start}); save it as a notebook")
        raise QuestionError(found.problems) from None
    except json.JSONDecodeError as e:
        found.add(f"is not valid notebook JSON: {e.msg} at line {e.lineno}, column {e.colno}")
        raise QuestionError(found.problems) from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        found.add('is JSON but not a Jupyter notebook: no "cells" list at the top level')
        raise QuestionError(found.problems)
    if nb.get("nbformat") != 4:
        found.add(
            f"is nbformat {nb.get('nbformat')!r}; save it as nbformat 4 (JupyterLab does)",
            field="nbformat",
        )
        raise QuestionError(found.problems)
    return nb


def load_path(path: str | Path, *, max_limits: dict[str, float] | None = None) -> dict[str, Any]:
    """Load the question notebook at ``path``; raise QuestionError with every problem found."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        found = ProblemList(str(path))
        found.add(f"cannot be read: {e.strerror or e}")
        raise QuestionError(found.problems) from None
    nb = parse_notebook_text(data, str(path))
    return load_notebook(nb, str(path), max_limits=max_limits)


def load_notebook(
    nb: dict[str, Any], filename: str, *, max_limits: dict[str, float] | None = None
) -> dict[str, Any]:
    """Turn a parsed notebook into a question spec; raise QuestionError listing every problem.

    Warnings (unknown keys, a test cell that is not raw) are kept in ``spec["warnings"]``.
    """
    found = ProblemList(filename)
    raw_metadata = nb.get("metadata")
    metadata: dict[str, Any] = raw_metadata if isinstance(raw_metadata, dict) else {}
    meta = check_metadata(metadata.get(METADATA_KEY), found, max_limits=max_limits)

    tagged: dict[str, list[tuple[int, dict[str, Any]]]] = {tag: [] for tag in CELL_TAGS}
    for index, cell in enumerate(nb["cells"], start=1):
        if not isinstance(cell, dict):
            found.add("is not a cell object", cell=index)
            continue
        tags = [t for t in cell_tags(cell) if t in CELL_TAGS]
        if len(tags) > 1:
            found.add(
                f"has several PeerPrep tags ({', '.join(tags)}); give each cell one",
                cell=index,
                field="metadata.tags",
            )
            continue
        for tag in tags:
            tagged[tag].append((index, cell))
            wanted = EXPECTED_CELL_TYPES[tag]
            if cell.get("cell_type") not in wanted:
                found.add(
                    f"is a {cell.get('cell_type')} cell; a {tag!r} cell must be "
                    f"{' or '.join(wanted)}",
                    cell=index,
                    tag=tag,
                    field="cell_type",
                )

    for tag in REQUIRED_TAGS:
        if not tagged[tag]:
            found.add(
                f"no cell is tagged {tag!r}; add the tag to the cell holding the "
                f"{_tag_purpose(tag)} (JupyterLab: Property Inspector > Cell Tags)",
                tag=tag,
                field="metadata.tags",
            )
    for tag in CELL_TAGS:
        if tag != TAG_PROMPT and len(tagged[tag]) > 1:
            cells = ", ".join(str(i) for i, _ in tagged[tag])
            found.add(
                f"cells {cells} are all tagged {tag!r}; exactly one cell may be",
                cell=tagged[tag][1][0],
                tag=tag,
                field="metadata.tags",
            )

    def source_of(tag: str) -> tuple[int | None, str | None]:
        cells = tagged[tag]
        if not cells:
            return None, None
        return cells[0][0], cell_source(cells[0][1])

    prompt = "\n\n".join(cell_source(c).strip() for _, c in tagged[TAG_PROMPT]).strip()
    if tagged[TAG_PROMPT] and not prompt:
        found.add(
            "is empty; write the statement, constraints and examples",
            cell=tagged[TAG_PROMPT][0][0],
            tag=TAG_PROMPT,
            field="source",
        )

    entry = meta.get("entry_point")
    code: dict[str, str | None] = {}
    for tag, needs in (
        (TAG_STARTER, entry),
        (TAG_SOLUTION, entry),
        (TAG_GENERATOR, "generate"),
        (TAG_CHECKER, "check"),
    ):
        at, source = source_of(tag)
        code[tag] = source
        if at is None or source is None:
            continue
        _check_python(source, found, cell=at, tag=tag, defines=needs)

    if code[TAG_STARTER] is not None and code[TAG_STARTER] == code[TAG_SOLUTION]:
        found.add(
            "is identical to the solution; students would get the answer",
            cell=source_of(TAG_STARTER)[0],
            tag=TAG_STARTER,
            field="source",
        )

    cases: dict[str, list[dict[str, Any]]] = {}
    for tag in (TAG_PUBLIC, TAG_HIDDEN):
        at, source = source_of(tag)
        cases[tag] = []
        if at is None or source is None:
            continue
        try:
            raw = json.loads(source)
        except json.JSONDecodeError as e:
            found.add(
                f"is not a JSON array of cases: {e.msg} at line {e.lineno}, column {e.colno}",
                cell=at,
                tag=tag,
                field="source",
            )
            continue
        cases[tag] = check_cases(raw, found, tag=tag, cell=at, allow_generated=tag == TAG_HIDDEN)
        if not cases[tag] and isinstance(raw, list) and not raw:
            found.add("has no cases; add at least one", cell=at, tag=tag, field=tag)

    generated = [c for c in cases[TAG_HIDDEN] if "generate" in c]
    if generated and code[TAG_GENERATOR] is None:
        found.add(
            f"hidden case {generated[0]['name']!r} is generated but no cell is tagged "
            "'generator'; add a cell defining generate(n, rng)",
            tag=TAG_GENERATOR,
            field="metadata.tags",
        )
    if meta.get("complexity") and code[TAG_GENERATOR] is None:
        found.add(
            "the complexity block needs a cell tagged 'generator' defining generate(n, rng)",
            tag=TAG_GENERATOR,
            field="peerprep.complexity",
        )
    if meta.get("checker") == "custom" and code[TAG_CHECKER] is None:
        found.add(
            "checker is 'custom' but no cell is tagged 'checker'; add one defining "
            "check(args, expected, got)",
            field="peerprep.checker",
        )
    if meta.get("checker") not in (None, "custom") and code[TAG_CHECKER] is not None:
        found.add(
            f"a 'checker' cell is present but peerprep.checker is {meta['checker']!r}; "
            "set it to 'custom' to use the cell",
            tag=TAG_CHECKER,
            cell=source_of(TAG_CHECKER)[0],
            field="peerprep.checker",
            severity="warning",
        )

    positions = {tag: cells[0][0] for tag, cells in tagged.items() if cells}
    languages = load_language_cells(nb["cells"], entry, found, cell_source, positions)

    found.raise_if_errors()
    return {
        "format": SPEC_FORMAT,
        **meta,
        "prompt": prompt,
        "starter": code[TAG_STARTER],
        "solution": code[TAG_SOLUTION],
        "generator": code[TAG_GENERATOR],
        "checker_source": code[TAG_CHECKER] if meta.get("checker") == "custom" else None,
        "public_tests": cases[TAG_PUBLIC],
        "hidden_tests": cases[TAG_HIDDEN],
        # Only when present, so a Python-only question keeps its checksum.
        **({"languages": languages} if languages else {}),
        "warnings": [p.to_json() for p in found.problems if p.severity != "error"],
        # Where each tagged cell is (1-based), so later findings can name it.
        "cells": positions,
    }


def _tag_purpose(tag: str) -> str:
    return {
        TAG_PROMPT: "statement (markdown)",
        TAG_STARTER: "starter code students get",
        TAG_SOLUTION: "reference solution",
        TAG_PUBLIC: "public test cases (a raw cell with a JSON array)",
        TAG_HIDDEN: "hidden test cases (a raw cell with a JSON array)",
    }.get(tag, tag)


def _check_python(
    source: str, found: ProblemList, *, cell: int, tag: str, defines: str | None
) -> None:
    try:
        tree = ast.parse(source)
    except SyntaxError as e:
        found.add(
            f"is not valid Python: {e.msg} at line {e.lineno}", cell=cell, tag=tag, field="source"
        )
        return
    if not defines:
        return
    functions = {
        node.name: node
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    }
    if defines not in functions:
        found.add(
            f"does not define {defines}() at the top level", cell=cell, tag=tag, field="source"
        )
        return
    if tag == TAG_GENERATOR:
        args = functions[defines].args
        if len(args.args) + len(args.posonlyargs) != 2 and not args.vararg:
            found.add(
                "generate must take two arguments: generate(n, rng)",
                cell=cell,
                tag=tag,
                field="source",
            )
    if tag == TAG_CHECKER:
        args = functions[defines].args
        if len(args.args) + len(args.posonlyargs) != 3 and not args.vararg:
            found.add(
                "check must take three arguments: check(args, expected, got)",
                cell=cell,
                tag=tag,
                field="source",
            )


def checksum(spec: dict[str, Any]) -> str:
    """SHA-256 of what defines a question (not outputs, cell ids or warnings).

    Computed on the spec before generated cases are resolved: generation is deterministic
    (seeded), so the same checksum means the same question, and re-publishing it is a no-op.
    """
    content = {k: v for k, v in spec.items() if k not in ("warnings", "cells")}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
