"""Starters and reference solutions in languages other than Python (JavaScript, TypeScript).

A question notebook keeps its Python ``starter`` and ``solution`` cells and may add, per
language, a pair of code cells tagged ``starter:<language>`` and ``solution:<language>`` (for
example ``starter:javascript``, ``solution:typescript``). The cases stay JSON, so the same
public and hidden tests serve every language; the generator and a custom checker stay Python
(instructor code, run by the grader's harness). Nothing here runs code: the cells are only
checked for their shape; ``validate.py`` runs them in the grader's sandbox.

The spec holds them as ``spec["languages"] = {"javascript": {"starter": ..., "solution":
...}}``, present only when a notebook has any, so the checksum of a Python-only question is
unchanged.
"""

from __future__ import annotations

import re
from typing import Any

from .problems import ProblemList
from .vocabulary import LANGUAGES, TAG_SOLUTION, TAG_STARTER

BASE_LANGUAGE = "python"
KINDS = (TAG_STARTER, TAG_SOLUTION)


def language_tag(kind: str, language: str) -> str:
    return f"{kind}:{language}"


def _defines(source: str, name: str) -> bool:
    """Whether JavaScript/TypeScript ``source`` declares ``name`` at some point (a function,
    a const/let/var binding or a class); a light check, the sandbox run is the real one."""
    word = re.escape(name)
    pattern = rf"(?:\bfunction\s*\*?\s*{word}\b|\b(?:const|let|var|class)\s+{word}\b)"
    return re.search(pattern, source) is not None


def load_language_cells(
    cells: list[Any],
    entry_point: str | None,
    found: ProblemList,
    cell_source: Any,
    positions: dict[str, int],
) -> dict[str, dict[str, str]]:
    """The ``starter:<language>`` / ``solution:<language>`` cells of a notebook, checked;
    where each is (1-based) goes into ``positions`` under its tag."""
    seen: dict[str, dict[str, tuple[int, str]]] = {}
    for index, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict):
            continue
        meta = cell.get("metadata")
        tags = meta.get("tags") if isinstance(meta, dict) else None
        for tag in tags if isinstance(tags, list) else []:
            if not isinstance(tag, str) or ":" not in tag:
                continue
            kind, _, language = tag.partition(":")
            if kind not in KINDS:
                continue
            if language == BASE_LANGUAGE or language not in LANGUAGES:
                others = ", ".join(x for x in LANGUAGES if x != BASE_LANGUAGE)
                found.add(
                    f"tag {tag!r} names no language PeerPrep grades besides Python; use "
                    f"{kind}:<language> with one of {others} (the untagged {kind} is Python)",
                    cell=index,
                    tag=tag,
                    field="metadata.tags",
                )
                continue
            # Raw is allowed too: in a Python notebook, Python tools (ruff, the kernel) leave a
            # raw cell alone, while they would read a code cell as Python.
            if cell.get("cell_type") not in ("code", "raw"):
                found.add(
                    f"is a {cell.get('cell_type')} cell; a {tag!r} cell must be code or raw",
                    cell=index,
                    tag=tag,
                    field="cell_type",
                )
                continue
            if kind in seen.setdefault(language, {}):
                found.add(
                    f"cells {seen[language][kind][0]} and {index} are both tagged {tag!r}; "
                    "exactly one cell may be",
                    cell=index,
                    tag=tag,
                    field="metadata.tags",
                )
                continue
            seen[language][kind] = (index, cell_source(cell))
    languages: dict[str, dict[str, str]] = {}
    for language, kinds in sorted(seen.items()):
        for kind in KINDS:
            if kind not in kinds:
                other = next(k for k in KINDS if k != kind)
                found.add(
                    f"a cell is tagged {language_tag(other, language)!r} but none "
                    f"{language_tag(kind, language)!r}; a language needs both a starter and "
                    "a reference solution",
                    cell=kinds[other][0],
                    tag=language_tag(kind, language),
                    field="metadata.tags",
                )
        if len(kinds) < len(KINDS):
            continue
        for kind in KINDS:
            at, source = kinds[kind]
            if not source.strip():
                found.add("is empty", cell=at, tag=language_tag(kind, language), field="source")
            elif entry_point and not _defines(source, entry_point):
                found.add(
                    f"does not define {entry_point} (a function, or a const bound to one)",
                    cell=at,
                    tag=language_tag(kind, language),
                    field="source",
                )
        if kinds[TAG_STARTER][1] == kinds[TAG_SOLUTION][1]:
            found.add(
                "is identical to the solution; students would get the answer",
                cell=kinds[TAG_STARTER][0],
                tag=language_tag(TAG_STARTER, language),
                field="source",
            )
        languages[language] = {kind: kinds[kind][1] for kind in KINDS}
        for kind in KINDS:
            positions[language_tag(kind, language)] = kinds[kind][0]
    return languages


def languages_of(spec: dict[str, Any]) -> list[str]:
    """Every language a question can be solved in, the base language first."""
    return [spec.get("language") or BASE_LANGUAGE, *sorted(spec.get("languages") or {})]


def starter_for(spec: dict[str, Any], language: str) -> str | None:
    """The starter in ``language`` (None when the question has none in it)."""
    if language == (spec.get("language") or BASE_LANGUAGE):
        starter: str = spec["starter"]
        return starter
    entry = (spec.get("languages") or {}).get(language)
    return str(entry["starter"]) if entry else None
