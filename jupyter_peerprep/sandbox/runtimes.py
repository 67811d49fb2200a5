"""Where the language runtimes the sandboxes expose live on the host."""

from __future__ import annotations

import shutil


def find_deno() -> str | None:
    """The Deno executable: the one the ``deno`` PyPI package installed, else ``deno`` on PATH."""
    try:
        from deno import find_deno_bin

        return str(find_deno_bin())
    except (ImportError, FileNotFoundError):
        return shutil.which("deno")
