"""The embedded default's spawner: local processes, each in a bubblewrap sandbox.

Every single-user server (a student's own, and a pair room's) runs inside ``bwrap`` and sees:

- its own home directory, read-write (``<state dir>/homes/<user>``);
- the Python environment and the PeerPrep package, read-only;
- the system's ``/usr`` and a few files of ``/etc`` (TLS roots, name resolution), read-only;
- private ``/tmp``, ``/proc`` (own pid namespace) and ``/dev``.

It does not see other homes, the state directory (hub and service databases, hidden tests),
the question bank, or the repository. All capabilities are dropped. What it does *not*
isolate: the network (servers must reach the hub, so they share the host's network namespace)
and CPU/memory beyond the kernel limits in ``kernels/`` (docs/explanation/security.md). The
docker and kubernetes tiers use containers instead.

Pair servers (hub users ``pair-*``) also get real-time collaboration on, with its document store
in the room's directory, a short hub-auth cache so a revoked share stops working quickly, and
Jupyter's config and data directories in the read-only environment (``room_env.py``).
Students' own servers run with collaboration off.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

from jupyterhub.spawner import SimpleLocalProcessSpawner
from traitlets import Bool, Integer, List, Unicode, default

from . import credentials
from .hub.auth import is_pair_user
from .room_env import pair_server_args, pair_server_environment

# Files of /etc a Python server needs; the rest of /etc (shadow, ssh keys, ...) stays out.
ETC_FILES = [
    "/etc/ssl",
    "/etc/ca-certificates",
    "/etc/resolv.conf",
    "/etc/hosts",
    "/etc/nsswitch.conf",
    "/etc/passwd",
    "/etc/group",
    "/etc/localtime",
    "/etc/ld.so.cache",
    "/etc/alternatives",
    "/etc/mime.types",
]


class PeerPrepSpawner(SimpleLocalProcessSpawner):
    """Local single-user servers in a bubblewrap sandbox, one home per user."""

    sandbox = Bool(
        True,
        help="""Run every server inside bubblewrap. Turning this off lets servers see the whole
        machine (the service database with hidden tests included), and lets code in a room
        outlive its server and take the partner's requests: only for debugging.""",
    ).tag(config=True)

    bwrap_path = Unicode(
        help="Path of the bwrap binary (Debian package bubblewrap). Found on PATH by default.",
    ).tag(config=True)

    @default("bwrap_path")
    def _default_bwrap(self) -> str:
        return shutil.which("bwrap") or "/usr/bin/bwrap"

    readonly_paths = List(
        Unicode(),
        help="""Extra host paths bound read-only into every server (for example a shared
        dataset). The Python environment and the PeerPrep package are always bound.""",
    ).tag(config=True)

    pair_auth_cache_seconds = Integer(
        5,
        help="""Seconds a pair server remembers the hub's answer about a token
        (HubOAuth.cache_max_age, 300 by default in JupyterHub). Short, so a revoked share
        stops working quickly.""",
    ).tag(config=True)

    _secrets_fd: int | None = None

    @property
    def is_pair(self) -> bool:
        return is_pair_user(self.user.name)

    def environment_paths(self) -> list[str]:
        """Host paths the server needs to run Python, JupyterLab and PeerPrep (read-only)."""
        package_dir = Path(__file__).resolve().parent
        paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, str(package_dir)}
        # The venv's python is a symlink into the base interpreter's prefix.
        paths.add(str(Path(os.path.realpath(sys.executable)).parent.parent))
        return sorted(p for p in paths if p and os.path.exists(p))

    def sandbox_command(self, home: str) -> list[str]:
        cmd = [
            self.bwrap_path,
            "--die-with-parent",
            "--unshare-pid",
            "--unshare-ipc",
            "--unshare-uts",
            "--unshare-cgroup-try",
            "--cap-drop",
            "ALL",
            # /proc, /dev and /tmp first: a later bind (the home) may live under /tmp.
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            "--tmpfs",
            "/tmp",  # noqa: S108 (a private tmpfs inside the sandbox)
            "--ro-bind",
            "/usr",
            "/usr",
        ]
        for link in ("bin", "sbin", "lib", "lib64", "lib32"):
            target = os.path.join("/", link)
            if os.path.islink(target):
                cmd += ["--symlink", os.readlink(target), target]
            elif os.path.isdir(target):
                cmd += ["--ro-bind", target, target]
        for path in ETC_FILES:
            if os.path.exists(path):
                cmd += ["--ro-bind", path, path]
        for path in [*self.environment_paths(), *self.readonly_paths]:
            cmd += ["--ro-bind", path, path]
        cmd += [
            "--bind",
            home,
            home,
            "--chdir",
            home,
            "--setenv",
            "HOME",
            home,
            "--",
            "/bin/sh",
            "-c",
        ]
        return cmd

    def get_args(self) -> list[str]:
        args: list[str] = super().get_args()
        if self.is_pair:
            home = self._home()
            args += [
                f"--HubOAuth.cache_max_age={self.pair_auth_cache_seconds}",
                "--YDocExtension.disable_rtc=False",
                f"--SQLiteYStore.db_path={os.path.join(home, '.jupyter_ystore.db')}",
                "--YDocExtension.document_save_delay=0.5",
                *pair_server_args(home),
            ]
        else:
            args.append("--YDocExtension.disable_rtc=True")
        return args

    def get_env(self) -> dict[str, str]:
        # The hub secrets reach the server through a pipe, not the environment: no process in
        # the sandbox but the server ever holds them (jupyter_peerprep/credentials.py).
        env, self._secrets_fd = credentials.hand_over(super().get_env())
        if self.is_pair:
            # Jupyter's config and data directories out of the room's writable home (room_env.py).
            env.update(pair_server_environment(sys.prefix))
        if self._secrets_fd is not None:
            popen_kwargs: dict[str, Any] = dict(self.popen_kwargs)  # type: ignore[has-type]
            self.popen_kwargs = {**popen_kwargs, "pass_fds": (self._secrets_fd,)}
        return env

    def _home(self) -> str:
        return str(self.home_dir_template.format(username=self.user.name))

    async def start(self) -> Any:
        home = self._home()
        os.makedirs(home, exist_ok=True)
        if self.sandbox:
            if not os.path.exists(self.bwrap_path):  # noqa: ASYNC240 (one stat at spawn)
                raise RuntimeError(
                    f"bwrap not found at {self.bwrap_path}: install the Debian package "
                    "bubblewrap (make run does), or set PeerPrepSpawner.bwrap_path."
                )
            self.shell_cmd = self.sandbox_command(home)
        if self.is_pair:
            self._skip_oauth_confirm(True)
        command: list[str] = list(self.cmd)  # type: ignore[has-type]
        self.cmd = [sys.executable, "-m", "jupyter_peerprep.credentials", *command]
        try:
            return await super().start()
        finally:
            self.cmd = command
            if self._secrets_fd is not None:
                os.close(self._secrets_fd)
                self._secrets_fd = None
                self.popen_kwargs.pop("pass_fds", None)

    async def stop(self, now: bool = False) -> Any:
        if self.is_pair:
            self._skip_oauth_confirm(False)
        return await super().stop(now=now)

    def _skip_oauth_confirm(self, skip: bool) -> None:
        """Let the two students into a pair server without JupyterHub's "Authorize access" page.

        The hub asks a user to confirm before another user's server learns who they are. A
        pair server is PeerPrep's own, shared by the service with exactly the matched students,
        so the question would only puzzle them. The set is the hub's ``oauth_no_confirm_list``
        (the one services with ``oauth_no_confirm`` are in); this spawner runs in the hub.
        """
        no_confirm = getattr(self.user, "settings", {}).get("oauth_no_confirm_list")
        if not isinstance(no_confirm, set):
            self.log.warning("No oauth_no_confirm_list: students will see an authorize page")
            return
        if skip:
            no_confirm.add(self.oauth_client_id)
        else:
            no_confirm.discard(self.oauth_client_id)
