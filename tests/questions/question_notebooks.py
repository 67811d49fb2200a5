"""A small, valid question notebook to vary, for the question-bank tests.

``question_notebook(**changes)`` returns a notebook dict (nbformat 4) for a question with id
``pair-sum-demo``; ``write_notebook(nb, name)`` saves it under tmp_path. Tests break one thing
at a time (a tag, a field, the solution) and check the message names file, cell and field.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

PROMPT = """Given a list of integers `nums` and an integer `target`, return the indices `[i, j]`
(with `i < j`) of the two numbers that add up to `target`. Exactly one pair does.

**Example:** `pair_sum([3, 8, 5], 13)` returns `[1, 2]`.

Constraints: 2 <= len(nums) <= 100000."""

STARTER = "def pair_sum(nums, target):\n    pass\n"

SOLUTION = """def pair_sum(nums, target):
    seen_positions = {}
    for index, value in enumerate(nums):
        if target - value in seen_positions:
            return [seen_positions[target - value], index]
        seen_positions[value] = index
    return []
"""

GENERATOR = """def generate(n, rng):
    nums = [rng.randint(1, 10**6) * 2 for _ in range(max(2, n))]
    nums[-1] = 1
    nums[-2] = 3
    return [nums, 4]
"""

PUBLIC = [
    {"name": "example", "args": [[3, 8, 5], 13], "expected": [1, 2]},
    {"name": "first two", "args": [[1, 2, 9], 3], "expected": [0, 1]},
    {"name": "negatives", "args": [[-4, 10, 7], 3], "expected": [0, 2]},
]

HIDDEN = [
    {"name": "zeros", "args": [[0, 5, 0], 0], "expected": [0, 2]},
    {"name": "duplicate values", "args": [[6, 6], 12], "expected": [0, 1]},
    {"name": "pair at the ends", "args": [[7391, 12, 40, 2609], 10000], "expected": [0, 3]},
    {"name": "large", "generate": {"n": 50000, "seed": 7}},
]


def cell(cell_type: str, source: str, tag: str | None) -> dict[str, Any]:
    c: dict[str, Any] = {
        "cell_type": cell_type,
        "metadata": {"tags": [tag]} if tag else {},
        "source": source,
    }
    if cell_type == "code":
        c["execution_count"] = None
        c["outputs"] = []
    return c


def build_notebook(
    meta: dict[str, Any] | None = None,
    *,
    prompt: str | None = PROMPT,
    starter: str | None = STARTER,
    solution: str | None = SOLUTION,
    generator: str | None = GENERATOR,
    public: Any = PUBLIC,
    hidden: Any = HIDDEN,
    checker_source: str | None = None,
    drop_meta: tuple[str, ...] = (),
) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "id": "pair-sum-demo",
        "title": "Pair Sum (demo)",
        "difficulty": "easy",
        "topics": ["arrays", "hash-maps"],
        "entry_point": "pair_sum",
        "language": "python",
        "limits": {"time_s": 2.0, "memory_mb": 256},
        "checker": "exact",
        "complexity": {"sizes": [2000, 4000, 8000, 16000], "expected": "O(n)", "repeats": 3},
    }
    metadata.update(meta or {})
    for key in drop_meta:
        metadata.pop(key, None)
    cells = [cell("markdown", "Instructor notes: not shown to anyone.", None)]
    if prompt is not None:
        cells.append(cell("markdown", prompt, "prompt"))
    if starter is not None:
        cells.append(cell("code", starter, "starter"))
    if solution is not None:
        cells.append(cell("code", solution, "solution"))
    if public is not None:
        cells.append(
            cell("raw", public if isinstance(public, str) else json.dumps(public), "public-tests")
        )
    if hidden is not None:
        cells.append(
            cell("raw", hidden if isinstance(hidden, str) else json.dumps(hidden), "hidden-tests")
        )
    if generator is not None:
        cells.append(cell("code", generator, "generator"))
    if checker_source is not None:
        cells.append(cell("code", checker_source, "checker"))
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3"},
            "peerprep": metadata,
        },
        "cells": cells,
    }


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``jupyter peerprep questions ARGS`` in a subprocess, as an instructor runs it."""
    return subprocess.run(
        [sys.executable, "-m", "jupyter_peerprep.cli", "questions", *args],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=cwd,
    )
