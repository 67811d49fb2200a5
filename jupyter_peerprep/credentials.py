"""A single-user server's hub credentials stay in the server process: never in a kernel's or a
terminal's environment, never readable through ``/proc``.

Code in a kernel or terminal runs as the server's own user, and in a room either student writes
it. So the server's hub token (``$JUPYTERHUB_API_TOKEN``, ``$JPY_API_TOKEN``) and the tokens of
visitors passing through the server must be out of that code's reach:

- ``withhold_from_children``, called by the server extension once the server's HubAuth objects
  have read their token: removes the secrets from ``os.environ`` (kernels and terminals inherit
  it) and makes the server process non-dumpable, so a process of the same user without
  ``CAP_SYS_PTRACE`` can neither read its ``/proc/<pid>/environ`` nor its memory
  (``/proc/<pid>/mem``, ptrace). Every tier runs this.
- ``hand_over`` and ``main`` (local tier): the spawner passes the secrets through a pipe instead
  of the environment, and ``python -m jupyter_peerprep.credentials <server command>`` puts them
  into the server's ``os.environ`` in-process. So no process in the sandbox (bubblewrap's init,
  the shell) starts with them in its environment block, which ``/proc/<pid>/environ`` shows.
  It also takes the working directory (the home, which kernels write) off the server's
  ``sys.path``, where ``python -m`` put it.
"""

from __future__ import annotations

import ctypes
import json
import os
import runpy
import shutil
import sys
from collections.abc import Iterable
from typing import Any

# What a hub gives a server that lets its holder act at the hub (or forge its cookies).
HUB_SECRET_VARIABLES = (
    "JUPYTERHUB_API_TOKEN",
    "JPY_API_TOKEN",
    "JUPYTERHUB_COOKIE_SECRET",
    "JPY_COOKIE_SECRET",
    "JUPYTER_COOKIE_SECRET",
    "CONFIGPROXY_AUTH_TOKEN",
    "JUPYTERHUB_CRYPT_KEY",
)
SECRETS_FD_VARIABLE = "PEERPREP_HUB_SECRETS_FD"
_PR_SET_DUMPABLE = 4


def hand_over(env: dict[str, str]) -> tuple[dict[str, str], int | None]:
    """Move the secrets of a server's ``env`` into a pipe; return the env and the pipe's read end.

    The caller passes the read end to the server (``pass_fds``) and closes it afterwards.
    """
    secrets = {name: env[name] for name in HUB_SECRET_VARIABLES if name in env}
    if not secrets:
        return env, None
    data = json.dumps(secrets).encode()
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, data)  # a few hundred bytes: far below a pipe's buffer
    finally:
        os.close(write_end)
    rest = {k: v for k, v in env.items() if k not in secrets}
    rest[SECRETS_FD_VARIABLE] = str(read_end)
    return rest, read_end


def take_over() -> None:
    """Read the secrets ``hand_over`` piped to this process into ``os.environ`` (in-process:
    the process's own environment block never holds them)."""
    fd = os.environ.pop(SECRETS_FD_VARIABLE, "")
    if not fd:
        return
    chunks = []
    while chunk := os.read(int(fd), 65536):
        chunks.append(chunk)
    os.close(int(fd))
    os.environ.update(json.loads(b"".join(chunks)))


def make_undumpable() -> bool:
    """Make this process non-dumpable (Linux): its /proc environ, memory and ptrace are then
    closed to every process without CAP_SYS_PTRACE, its own user's included."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    return bool(libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0) == 0)


def withhold_from_children(hub_auths: Iterable[Any]) -> list[str]:
    """Keep the hub secrets out of every process this server starts from now on.

    ``hub_auths`` are the server's HubAuth objects: their token is read first (traitlets
    defaults are computed on first use, from the environment). Returns the variables removed.
    """
    for hub_auth in hub_auths:
        _ = hub_auth.api_token
    removed = [name for name in HUB_SECRET_VARIABLES if os.environ.pop(name, None) is not None]
    make_undumpable()
    return removed


def main(argv: list[str] | None = None) -> None:
    """``python -m jupyter_peerprep.credentials <command> [args]``: take the piped secrets, then
    run the server command in this process (a Python script), so they never enter an exec'd
    environment."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        sys.exit("usage: python -m jupyter_peerprep.credentials <server command> [args...]")
    take_over()
    make_undumpable()
    # `python -m` put the working directory first on sys.path: the server's home, which its
    # kernels write. A package planted there under the name of one the server imports on
    # demand (nbconvert, say) would run inside the server, next to the visitors' tokens.
    if sys.path and os.path.abspath(sys.path[0] or os.curdir) == os.getcwd():
        del sys.path[0]
    script = shutil.which(args[0]) or args[0]
    with open(script, "rb") as f:
        is_python = f.read(2) == b"#!" and b"python" in f.readline()
    if not is_python:
        # Not a Python script: exec it (its environment then holds the secrets).
        os.execvp(script, args)  # noqa: S606
    sys.argv = [script, *args[1:]]
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
