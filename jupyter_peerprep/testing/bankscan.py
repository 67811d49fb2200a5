"""Looking for the question bank where it must not be: a scan of every readable file.

``needles(specs)`` turns parsed questions (``questions.loader.load_path``) into the strings that
would betray them: each hidden test (its name with its arguments, as a bank notebook writes it,
and the whole case as the service database stores it) and each distinctive line of the reference
solution (one a student's notebook does not also show), each raw and JSON-escaped (an
``.ipynb`` or a database row holds the escaped form).

``scan_program(needles)`` is a Python program to run *inside* the place under test (a room's
kernel, a grader run, a container). It walks every readable regular file below ``/`` (but
``/proc``, ``/sys`` and ``/dev``) with ``find`` and ``grep -F`` (multi-pattern, fast), and prints
one JSON line: how many files it read and which of them held a needle. The needles travel
inside the program (or as its argument) compressed and base64-encoded, and the only file it
writes (the pattern file for grep) is left out of the scan, so the scanner never finds itself.
"""

from __future__ import annotations

import base64
import json
import re
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

# Shorter solution lines ("return out", "for x in xs:") are common in any Python library.
MIN_SOLUTION_LINE = 30
# `for i in range(n - 1, -1, -1):` and the like: in numpy, scipy and sympy too.
IDIOM = re.compile(r"for [\w, ()]+ in (range|enumerate|zip|reversed)\(.*\):$")
# Files larger than this are skipped (binaries, browsers, fonts); counted in the result.
MAX_FILE_MB = 64


def _both_forms(text: str) -> list[str]:
    escaped = json.dumps(text)[1:-1]
    return [text] if escaped == text else [text, escaped]


def needles(specs: Iterable[dict[str, Any]]) -> list[str]:
    """The strings whose presence in a file means a hidden test or a solution leaked."""
    found: set[str] = set()
    specs = list(specs)
    visible = "\n".join(
        str(spec.get(key) or "")
        for spec in specs
        for key in ("prompt", "starter", "public_tests", "checker_source")
    )
    for spec in specs:
        for case in spec.get("hidden_tests") or []:
            found.add(json.dumps(case))
            # The name with what follows it in a bank notebook: arguments or generator input.
            rest = next(key for key in case if key != "name")
            named = f"{json.dumps(case['name'])}, {json.dumps(rest)}: {json.dumps(case[rest])}"
            found.update(_both_forms(named))
        for line in str(spec.get("solution") or "").splitlines():
            line = line.strip()
            if line.startswith(("import ", "from ")) or IDIOM.match(line):
                continue  # an import or a counting loop is no secret, and common in libraries
            if len(line) >= MIN_SOLUTION_LINE and line not in visible:
                found.update(_both_forms(line))
    return sorted(found)


def shipped_specs(bank_dir: Path) -> list[dict[str, Any]]:
    """Every question of a bank folder, parsed (what the service publishes from it)."""
    from ..questions.loader import load_path

    return [load_path(path) for path in sorted(bank_dir.glob("*.ipynb"))]


SCANNER = r"""
import base64, json, os, subprocess, sys, tempfile, zlib
encoded = globals().get("NEEDLES") or sys.argv[1]
needles = json.loads(zlib.decompress(base64.b64decode(encoded)))
if not needles:
    sys.exit("no needles given")
fd, patterns = tempfile.mkstemp(prefix="scan-patterns-")
with os.fdopen(fd, "w") as f:
    f.write("\n".join(needles) + "\n")
prune = ["/proc", "/sys", "/dev", patterns]
find = ["find", "/"]
find += ["("] + sum([["-path", p, "-o"] for p in prune], [])[:-1] + [")", "-prune", "-o"]
find += ["-type", "f", "-readable", "-size", "-%dM", "-print0"]
files = subprocess.run(find, capture_output=True).stdout.split(b"\0")
files = [f for f in files if f]
hits = []
for start in range(0, len(files), 2000):
    chunk = files[start:start + 2000]
    out = subprocess.run(
        ["grep", "-l", "-F", "-f", patterns, "--"] + chunk,
        capture_output=True,
        env={"LC_ALL": "C", "PATH": os.environ.get("PATH", "/usr/bin:/bin")},
    ).stdout
    hits += [h.decode(errors="replace") for h in out.splitlines() if h]
os.unlink(patterns)
print(json.dumps({"files": len(files), "hits": hits}))
"""


def scan_program(found: list[str] | None = None) -> str:
    """The scanner's source, with the needles inside it; without them, pass them as the
    program's first argument (``encode(needles)``)."""
    program = SCANNER % MAX_FILE_MB
    if found:
        program = f"NEEDLES = {encode(found)!r}\n" + program
    return program


def encode(found: list[str]) -> str:
    """The needles as the scanner takes them: compressed, so they fit one argument (128 KiB)."""
    return base64.b64encode(zlib.compress(json.dumps(found).encode(), 9)).decode()
