"""Start Deno's Jupyter kernel (JavaScript and TypeScript) under limits, like peerprep-python.

Used by the ``peerprep-deno`` kernel spec. The same variables as ``limited_kernel.py`` (its
spec sets the defaults), with one difference: V8 reserves gigabytes of address space it never
touches, so ``PEERPREP_KERNEL_MEMORY_MB`` caps V8's heap (``--max-old-space-size`` through
``DENO_V8_FLAGS``) instead of the address space; the room's cgroup or container bounds the rest.
File size, open files, processes, CPU seconds and niceness are lowered as rlimits, then this
process becomes ``deno jupyter --kernel`` (the binary of the ``deno`` package from PyPI, else
``deno`` on PATH), which inherits them.

Deno's kernel runs cells with every permission (its documented behaviour): the room's sandbox
(bubblewrap or the container) is the boundary, as it is for the Python kernel.
"""

from __future__ import annotations

import os
import resource
import shutil
import sys

LIMITS = (
    ("PEERPREP_KERNEL_NPROC", resource.RLIMIT_NPROC, 1),
    ("PEERPREP_KERNEL_FSIZE_MB", resource.RLIMIT_FSIZE, 1024 * 1024),
    ("PEERPREP_KERNEL_NOFILE", resource.RLIMIT_NOFILE, 1),
    ("PEERPREP_KERNEL_CPU_S", resource.RLIMIT_CPU, 1),
)


def apply_limits(environ: dict[str, str]) -> list[str]:
    """Lower this process's limits and set V8's heap cap in ``environ``; return what was set."""
    applied = []
    for var, which, unit in LIMITS:
        raw = environ.get(var, "").strip()
        if not raw:
            continue
        value = int(raw) * unit
        _, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, value))
        applied.append(f"{var}={raw}")
    memory = environ.get("PEERPREP_KERNEL_MEMORY_MB", "").strip()
    if memory:
        flags = [f for f in environ.get("DENO_V8_FLAGS", "").split(",") if f]
        flags.append(f"--max-old-space-size={int(memory)}")
        environ["DENO_V8_FLAGS"] = ",".join(flags)
        applied.append(f"PEERPREP_KERNEL_MEMORY_MB={memory}")
    nice = environ.get("PEERPREP_KERNEL_NICE", "").strip()
    if nice:
        os.nice(int(nice))
        applied.append(f"PEERPREP_KERNEL_NICE={nice}")
    return applied


def find_deno() -> str:
    try:
        from deno import find_deno_bin

        return str(find_deno_bin())
    except (ImportError, FileNotFoundError):
        found = shutil.which("deno")
        if not found:
            sys.exit("peerprep-deno: no deno executable; pip install deno")
        return found


def main() -> None:
    environ = dict(os.environ)
    apply_limits(environ)
    environ.setdefault("DENO_NO_UPDATE_CHECK", "1")
    deno = find_deno()
    os.execve(deno, [deno, "jupyter", "--kernel", *sys.argv[1:]], environ)  # noqa: S606


if __name__ == "__main__":
    main()
