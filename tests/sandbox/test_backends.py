"""The sandbox backends directly: what a program sees, and the limits the reader enforces."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest

from jupyter_peerprep.sandbox.base import Sandbox, SandboxLimits

# The repository (and so the question bank) wherever this checkout lives.
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def sandbox(grader) -> Sandbox:
    return grader.get_sandbox()


async def test_large_stdin_arrives_intact(sandbox):
    payload = bytes(range(256)) * (6 * 4096)  # 6 MB, like a large hidden input
    program = "import sys, hashlib; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())"
    result = await sandbox.run_python(["-c", program], stdin=payload, limits=SandboxLimits())
    assert result.exit_code == 0, result.stderr
    assert result.stdout.decode().strip() == hashlib.sha256(payload).hexdigest()


async def test_root_holds_only_what_python_needs(sandbox, backend):
    program = (
        "import os\n"
        "print(sorted(os.listdir('/')))\n"
        "def readable(p):\n"
        "    try:\n"
        "        return bool(os.listdir(p)) if os.path.isdir(p) else bool(open(p).read(1))\n"
        "    except OSError:\n"
        "        return False\n"
        f"print([p for p in ({str(REPO)!r}, '/root', '/home', '/etc/shadow', '/.peerprep')"
        " if readable(p)])\n"
    )
    result = await sandbox.run_python(["-c", program], limits=SandboxLimits())
    assert result.exit_code == 0, result.stderr
    top, exposed = result.stdout.decode().splitlines()
    if backend == "bwrap":
        expected = ["bin", "dev", "lib", "lib64", "proc", "sbin", "tmp", "usr", "work"]
        assert eval(top) == sorted(expected)
    assert eval(exposed) == []


async def test_wall_clock_kills_the_whole_tree(sandbox, overhead, processes_with, mark):
    program = "import os, time\nos.fork()\nos.fork()\ntime.sleep(100)\n"
    started = time.monotonic()
    result = await sandbox.run_python(["-c", program], limits=SandboxLimits(wall_s=1.0))
    elapsed = time.monotonic() - started
    assert result.timed_out and result.exit_code is None
    # A container backend may spend startup_grace_s starting before the program's clock runs.
    grace = getattr(sandbox, "startup_grace_s", 0.0)
    assert elapsed < 1.0 + 1.0 + grace + await overhead.allowance()
    assert processes_with(mark) == []


async def test_the_reader_caps_output(sandbox):
    program = "import os\nwhile True:\n    os.write(1, b'x' * 65536)\n"
    result = await sandbox.run_python(
        ["-c", program], limits=SandboxLimits(wall_s=20, output_bytes=256 * 1024)
    )
    assert result.output_exceeded
    assert len(result.stdout) == 256 * 1024
    assert not result.timed_out
