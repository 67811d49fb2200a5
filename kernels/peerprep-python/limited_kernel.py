"""Start an IPython kernel under resource limits, so a runaway cell cannot take the machine down.

Used by the ``peerprep-python`` kernel spec, the only kernel pair servers offer. It lowers its
own rlimits and CPU priority, then replaces itself with ``python -m ipykernel_launcher`` (same
interpreter, same arguments), so the kernel and everything it starts inherit them:

- ``PEERPREP_KERNEL_MEMORY_MB``: address space per process (a ``MemoryError`` instead of the
  machine swapping or the OOM killer picking the Jupyter server);
- ``PEERPREP_KERNEL_NPROC``: processes of the kernel's user (unset by default: it never binds
  root, and it counts every process of the uid on the machine, so in containers that all run as
  jovyan it would make one busy node refuse every kernel its threads; a fork bomb stops at the
  server's pids cgroup or the container's pids limit instead);
- ``PEERPREP_KERNEL_FSIZE_MB``: largest file a cell may write;
- ``PEERPREP_KERNEL_NOFILE``: open files;
- ``PEERPREP_KERNEL_CPU_S``: total CPU seconds of the kernel (unset by default: a long session
  legitimately adds up);
- ``PEERPREP_KERNEL_NICE``: niceness added, so the Jupyter server and the collaboration stay
  responsive while a cell spins.

The spec's ``env`` sets the defaults; a deployment overrides them in the kernel spec or the
server's environment. Limits can only be lowered here (no CAP_SYS_RESOURCE needed).
"""

from __future__ import annotations

import os
import resource
import sys

LIMITS = (
    ("PEERPREP_KERNEL_MEMORY_MB", resource.RLIMIT_AS, 1024 * 1024),
    ("PEERPREP_KERNEL_NPROC", resource.RLIMIT_NPROC, 1),
    ("PEERPREP_KERNEL_FSIZE_MB", resource.RLIMIT_FSIZE, 1024 * 1024),
    ("PEERPREP_KERNEL_NOFILE", resource.RLIMIT_NOFILE, 1),
    ("PEERPREP_KERNEL_CPU_S", resource.RLIMIT_CPU, 1),
)


def apply_limits(environ: dict[str, str]) -> list[str]:
    """Lower this process's limits from ``environ``; return what was set, for the log."""
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
    nice = environ.get("PEERPREP_KERNEL_NICE", "").strip()
    if nice:
        os.nice(int(nice))
        applied.append(f"PEERPREP_KERNEL_NICE={nice}")
    return applied


def main() -> None:
    apply_limits(dict(os.environ))
    os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", *sys.argv[1:]])  # noqa: S606


if __name__ == "__main__":
    main()
