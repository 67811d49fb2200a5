"""The languages a solution can be graded in, and what each needs in the sandbox.

Python runs in the harness's own interpreter; JavaScript and TypeScript run in Deno (the
``deno`` package from PyPI ships the binary), started by the harness per case with no
``--allow-*`` flag. Cases are JSON, so one set of tests serves every language.
"""

from __future__ import annotations

from pathlib import Path

PYTHON = "python"
DENO_LANGUAGES = ("javascript", "typescript")
GRADED_LANGUAGES = (PYTHON, *DENO_LANGUAGES)

# The Deno runners the harness writes into the run's work directory (see deno_child.py).
DENO_FILES = [
    (name, (Path(__file__).parent / "deno" / name).read_text())
    for name in ("common.js", "case.js", "timed.js")
]


def uses_deno(language: str) -> bool:
    return language in DENO_LANGUAGES


def check_language(language: object) -> str:
    """``language`` if the grader runs it, else ValueError naming the ones it does."""
    if language not in GRADED_LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(GRADED_LANGUAGES)}, got {language!r}")
    return str(language)
