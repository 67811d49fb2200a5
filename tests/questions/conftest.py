"""Fixtures of the question-bank tests (helpers live in question_notebooks.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from question_notebooks import build_notebook


@pytest.fixture
def question_notebook() -> Callable[..., dict[str, Any]]:
    return build_notebook


@pytest.fixture
def write_notebook(tmp_path: Path) -> Callable[..., Path]:
    def write(nb: dict[str, Any] | str, name: str = "pair-sum-demo.ipynb") -> Path:
        path = tmp_path / name
        path.write_text(nb if isinstance(nb, str) else json.dumps(nb, indent=1))
        return path

    return write
