"""What every grader sandbox backend offers: run one Python program, contained, once.

A backend (``bwrap.py``, ``docker.py``) starts a fresh sandbox per call, feeds ``stdin``,
collects stdout and stderr up to a cap (the reader enforces it: a program that writes more is
killed), kills the whole sandbox at the wall-clock limit, and leaves nothing behind. The
sandbox has no network, a read-only root with only what Python needs, private size-capped
writable ``/work``, ``/tmp`` and ``/dev/shm``, its own pid namespace, a clean environment and
limits on memory, processes, file size and open files.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from traitlets import Dict, Unicode
from traitlets.config import LoggingConfigurable


@dataclass(frozen=True)
class SandboxLimits:
    """Limits of one sandbox run (the whole program, every process in it)."""

    wall_s: float = 10.0  # wall clock for the whole run; then everything is killed
    cpu_s: float = 10.0  # CPU seconds per process (RLIMIT_CPU), a backstop
    memory_mb: int = 256  # per process address space (bwrap) / whole container (docker)
    pids: int = 64  # processes and threads
    fsize_mb: int = 16  # largest file a process may write
    nofile: int = 256  # open files per process
    output_bytes: int = 4 * 1024 * 1024  # stdout + stderr the reader accepts
    tmp_mb: int = 16  # size of each writable tmpfs (/work, /tmp, /dev/shm)
    # RLIMIT_AS on the whole tree (bwrap). Off for Deno, whose V8 reserves gigabytes of address
    # space it never touches; its memory is bounded by V8's heap flags and the cgroup instead.
    address_space: bool = True
    # Make the Deno runtime available inside (at ``Sandbox.deno_inside``).
    deno: bool = False

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class SandboxResult:
    """What came out of one sandbox run."""

    stdout: bytes = b""
    stderr: bytes = b""
    exit_code: int | None = None  # None when killed
    timed_out: bool = False  # the wall-clock limit was hit
    output_exceeded: bool = False  # more than output_bytes were written
    oom_killed: bool = False  # the engine's memory limit killed it (docker backend)
    wall_s: float = 0.0
    backend: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not (self.timed_out or self.output_exceeded)


class SandboxError(RuntimeError):
    """The sandbox itself could not be started (not the program's fault); says why."""


class Sandbox(LoggingConfigurable):
    """Base class of grader sandbox backends."""

    name = "base"

    env_lang = Unicode("C.UTF-8", help="LANG inside the sandbox.").tag(config=True)

    extra_env = Dict(
        value_trait=Unicode(),
        help="""Extra environment variables inside the sandbox (the environment is otherwise
        clean: PATH, HOME, LANG). Never put a secret here: the program can read it.""",
    ).tag(config=True)

    deno_inside = "/opt/peerprep/bin/deno"  # where a run with ``limits.deno`` finds Deno

    async def run_python(
        self, args: list[str], *, stdin: bytes = b"", limits: SandboxLimits
    ) -> SandboxResult:
        """Run ``python3 <args>`` in a fresh sandbox and return what it wrote."""
        raise NotImplementedError

    async def check(self) -> None:
        """Raise SandboxError with an actionable message if this backend cannot run here."""


class CappedReader:
    """Reads a stream into memory up to a shared byte budget; past it, calls ``on_exceed``."""

    def __init__(self, budget: list[int], on_exceed: Any) -> None:
        self.budget = budget
        self.on_exceed = on_exceed
        self.data = bytearray()
        self.exceeded = False

    def feed(self, chunk: bytes) -> None:
        if self.exceeded:
            return
        if len(chunk) > self.budget[0]:
            self.data += chunk[: self.budget[0]]
            self.budget[0] = 0
            self.exceeded = True
            self.on_exceed()
            return
        self.budget[0] -= len(chunk)
        self.data += chunk

    async def drain(self, stream: asyncio.StreamReader) -> None:
        while True:
            chunk = await stream.read(65536)
            if not chunk:
                return
            self.feed(chunk)


def monotonic() -> float:
    return time.monotonic()
