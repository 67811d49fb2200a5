"""What students see of a question: the student view (API) and the student notebook (a room).

Both are built from an allow-list of spec keys, never by deleting secrets from the spec, so a
key added to the spec later stays service-only until someone adds it here on purpose. Neither
contains the reference solution, a hidden case, the generator or a custom checker's source.
"""

from __future__ import annotations

import pprint
from typing import Any

from .languages import languages_of, starter_for
from .student_deno import DENO_KERNELSPEC, deno_tests_source
from .vocabulary import TAG_PROMPT, TAG_PUBLIC, TAG_STARTER

PYTHON_KERNELSPEC = {
    "name": "peerprep-python",
    "display_name": "Python 3 (PeerPrep, limited)",
    "language": "python",
}

# Metadata keys students may see (and the room's tools use).
STUDENT_KEYS = (
    "id",
    "title",
    "difficulty",
    "topics",
    "entry_point",
    "language",
    "limits",
    "checker",
)


def student_view(
    spec: dict[str, Any], *, version: int, language: str | None = None
) -> dict[str, Any]:
    """The student view of a question: statement, starter (in ``language``, by default the
    question's base language), public tests, limits, and the languages it can be solved in."""
    view: dict[str, Any] = {key: spec.get(key) for key in STUDENT_KEYS}
    view["version"] = version
    complexity = spec.get("complexity") or {}
    view["expected_complexity"] = complexity.get("expected")
    view["prompt"] = spec["prompt"]
    view["languages"] = languages_of(spec)
    starter = starter_for(spec, language) if language else None
    view["language"] = language if starter is not None else spec.get("language") or "python"
    view["starter"] = starter if starter is not None else spec["starter"]
    view["public_tests"] = [
        {"name": c["name"], "args": c["args"], "expected": c["expected"]}
        for c in spec["public_tests"]
    ]
    view["hidden_test_count"] = len(spec["hidden_tests"])
    return view


def summary(spec: dict[str, Any], *, version: int) -> dict[str, Any]:
    """A line of the question list."""
    return {
        "id": spec["id"],
        "title": spec["title"],
        "difficulty": spec["difficulty"],
        "topics": spec["topics"],
        "version": version,
    }


def _lines(text: str) -> list[str]:
    lines = text.splitlines(keepends=True)
    return lines


def _cell(cell_type: str, cell_id: str, source: str, tags: list[str]) -> dict[str, Any]:
    cell: dict[str, Any] = {
        "cell_type": cell_type,
        "id": cell_id,
        "metadata": {"tags": tags} if tags else {},
        "source": _lines(source),
    }
    if cell_type == "code":
        cell["execution_count"] = None
        cell["outputs"] = []
    return cell


LOCAL_CHECK = """
import copy as _copy
import json as _json


def _peerprep_plain(value):
    if isinstance(value, (set, frozenset)):  # a set is a list, as in the grader
        return list(value)
    raise TypeError(f"a {{type(value).__name__}} is not a JSON value")


def _peerprep_same(expected, got, checker):
    # tuples become lists, as in the grader
    got = _json.loads(_json.dumps(got, default=_peerprep_plain))
    if checker == "unordered" and isinstance(expected, list) and isinstance(got, list):
        key = lambda v: _json.dumps(v, sort_keys=True)  # noqa: E731
        return sorted(expected, key=key) == sorted(got, key=key)
    if checker.startswith("float:"):
        tol = float(checker.split(":", 1)[1])

        def close(a, b):
            if isinstance(a, (int, float)) and isinstance(b, (int, float)):
                return abs(a - b) <= tol * max(1.0, abs(a))
            if isinstance(a, list) and isinstance(b, list):
                return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b))
            return a == b

        return close(expected, got)
    return expected == got


for _case in PUBLIC_TESTS:
    try:
        _got = {entry}(*_copy.deepcopy(_case["args"]))
    except Exception as _e:  # show the error and go on with the next case
        print(f"ERROR  {{_case['name']}}: {{type(_e).__name__}}: {{_e}}")
        continue
    if CHECKER == "custom":
        print(f"?      {{_case['name']}}: got {{_got!r}} (checked by the service on Run)")
    elif _peerprep_same(_case["expected"], _got, CHECKER):
        print(f"PASS   {{_case['name']}}")
    else:
        print(f"FAIL   {{_case['name']}}: expected {{_case['expected']!r}}, got {{_got!r}}")
"""


def student_notebook(
    spec: dict[str, Any], *, version: int, language: str | None = None
) -> dict[str, Any]:
    """The notebook a room receives: prompt, starter and public tests only (nbformat 4.5),
    in ``language`` when the question has a starter in it."""
    return notebook_from_view(student_view(spec, version=version, language=language))


def notebook_from_view(view: dict[str, Any]) -> dict[str, Any]:
    """The student notebook built from a student view (nothing else is needed)."""
    version = view["version"]
    topics = ", ".join(view["topics"])
    header = f"# {view['title']}\n\n*{view['difficulty']} · {topics}*\n\n"
    limits = view["limits"] or {}
    footer = (
        f"\n\n---\nImplement `{view['entry_point']}`. Limits per test: "
        f"{limits.get('time_s')} s, {limits.get('memory_mb')} MiB."
    )
    if view["expected_complexity"]:
        footer += f" Aim for {view['expected_complexity']}."
    footer += (
        " **Run** checks the public tests below in the grader; **Submit** also runs "
        f"{view['hidden_test_count']} hidden tests (you see only which pass)."
    )
    deno = view.get("language") in ("javascript", "typescript")
    if deno:
        tests_source = deno_tests_source(view)
    else:
        public = pprint.pformat(view["public_tests"], width=96, sort_dicts=False)
        tests_source = (
            "# Public tests: run this cell after the one above to check your function here.\n"
            f"PUBLIC_TESTS = {public}\n"
            f"CHECKER = {view['checker']!r}\n" + LOCAL_CHECK.format(entry=view["entry_point"])
        )
    metadata_peerprep = {key: view[key] for key in STUDENT_KEYS}
    metadata_peerprep["version"] = version
    metadata_peerprep["student"] = True
    # The limited kernels (kernels/peerprep-python, kernels/peerprep-deno) a room offers.
    kernelspec = DENO_KERNELSPEC if deno else PYTHON_KERNELSPEC
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": dict(kernelspec),
            "language_info": {"name": view.get("language") or "python"},
            "peerprep": metadata_peerprep,
        },
        "cells": [
            _cell("markdown", "peerprep-prompt", header + view["prompt"] + footer, [TAG_PROMPT]),
            _cell("code", "peerprep-starter", view["starter"], [TAG_STARTER]),
            _cell("code", "peerprep-public-tests", tests_source, [TAG_PUBLIC]),
        ],
    }
