"""The embedded default's spawner: local processes, each in a bubblewrap sandbox.

Every single-user server (a student's own, and a pair room's) runs inside ``bwrap`` and sees:

- its own home directory, read-write (``<state dir>/homes/<user>``);
- the Python environment and the PeerPrep package, read-only;
- the system's ``/usr`` and a few files of ``/etc`` (TLS roots, name resolution), read-only;
- private ``/tmp``, ``/proc`` (own pid namespace) and ``/dev``.

It does not see other homes, the state directory (hub and service databases, hidden tests),
the question bank (hidden even where it sits inside a bound path: ``hidden_paths``), or the
repository. All capabilities are dropped. Each server also runs in a cgroup of its own
(memory, pids, CPU weight; ``sandbox.bwrap.CgroupSet``, the grader's), so a fork bomb or a
memory hog in one room stops at that room's limits; stopping the server kills everything in
it. What it does *not* isolate: the network (servers must reach the hub, so they share the
host's network namespace) (docs/explanation/security.md). The docker and kubernetes tiers
use containers instead.

Pair servers offer only the limited kernel (``kernels/peerprep-python``: rlimits, lower CPU
priority), never the unlimited ``python3``.

Pair servers (hub users ``pair-*``) also get real-time collaboration on, with its document store
in the room's directory, a short hub-auth cache so a revoked share stops working quickly, and
Jupyter's config and data directories in the read-only environment (``room_env.py``).
Students' own servers run with collaboration off.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import uuid
from pathlib import Path
from typing import Any

from jupyterhub.spawner import SimpleLocalProcessSpawner
from jupyterhub.traitlets import ByteSpecification
from traitlets import Bool, Integer, List, Unicode, default

from . import credentials
from .hub.auth import is_pair_user
from .questions.locations import bank_locations
from .room_env import pair_server_args, pair_server_environment
from .room_footprint import KERNEL_CULL_SECONDS
from .sandbox.bwrap import CgroupSet

# The kernel specs of pair servers (kernels/peerprep-python, the default, and
# kernels/peerprep-deno for JavaScript/TypeScript rooms): the only ones a room offers.
ROOM_KERNEL = "peerprep-python"
ROOM_KERNELS = (ROOM_KERNEL, "peerprep-deno")


def room_kernel_args(kernels: tuple[str, ...] = ROOM_KERNELS) -> list[str]:
    """Server arguments that make ``kernels`` the only kernels listed and startable, the first
    the default (every tier; kernelspecs.py says why the manager class too). A spec that is
    not installed is simply absent."""
    return [
        "--ServerApp.kernel_spec_manager_class="
        "jupyter_peerprep.kernelspecs.AllowedKernelSpecManager",
        *(f"--KernelSpecManager.allowed_kernelspecs={kernel}" for kernel in kernels),
        f"--MultiKernelManager.default_kernel_name={kernels[0]}",
    ]


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

    hidden_paths = List(
        Unicode(),
        help="""Host paths no server may read even when they lie inside a bound path (an empty
        read-only tmpfs covers them). By default every place the shipped question bank may be
        (questions/locations.py) and the state directory. Add your own bank folders here if
        they sit inside the Python environment.""",
    ).tag(config=True)

    @default("hidden_paths")
    def _default_hidden_paths(self) -> list[str]:
        paths = [str(p) for p in bank_locations()]
        state = os.environ.get("PEERPREP_STATE_DIR")
        if state:
            paths.append(state)
        return paths

    use_cgroups = Bool(
        True,
        help="""Run every server in a cgroup of its own with mem_limit (JupyterHub's
        Spawner.mem_limit, 2G by default here), pids_limit, cpu_shares and cpu_limit (a cap in
        CPUs, none by default). Needs root and writable cgroup controllers, v1 or v2; without
        them the hub logs a warning and only the kernel's rlimits apply.""",
    ).tag(config=True)

    cgroup_root = Unicode("/sys/fs/cgroup", help="Where the cgroup hierarchies are mounted.").tag(
        config=True
    )

    @default("mem_limit")
    def _default_mem_limit(self) -> int:
        return 2 * 1024**3

    pair_mem_limit = ByteSpecification(
        None,
        allow_none=True,
        help="""Memory of a pair server (a room: the server and its kernels), e.g. "1G".
        None: mem_limit. The kernel's own address-space limit (kernels/peerprep-python) turns
        one huge allocation into a MemoryError first.""",
    ).tag(config=True)

    pids_limit = Integer(
        512,
        help="""Processes and threads of one server (its cgroup's pids.max): where a fork
        bomb stops. JupyterLab with a kernel uses about 40.""",
    ).tag(config=True)

    pair_pids_limit = Integer(
        None,
        allow_none=True,
        help="Processes and threads of one pair server; None: pids_limit.",
    ).tag(config=True)

    cpu_shares = Integer(
        256,
        help="""Relative CPU weight of one server's cgroup (cgroup v1 cpu.shares; 1024 is that
        of the hub, the service and any ordinary process group), so a spinning room cannot
        starve the hub. cpu_limit, if set, caps a server at that many CPUs.""",
    ).tag(config=True)

    pair_auth_cache_seconds = Integer(
        1,
        min=1,
        help="""Seconds a pair server remembers the hub's answer about a token
        (HubOAuth.cache_max_age, 300 by default in JupyterHub). A share revoked when a session
        ends stops working at most this long after: 1 (the shortest; JupyterHub reads 0 as
        "forever") keeps revocation within about a second of End.""",
    ).tag(config=True)

    room_kernel_cull_seconds = Integer(
        KERNEL_CULL_SECONDS,
        min=0,
        help="""Seconds after which a room's kernel that no page is connected to, and that ran
        nothing meanwhile, is shut down to give its memory back (MappingKernelManager.
        cull_idle_timeout). A kernel a student's page is connected to is never culled. 0 keeps
        every kernel until the room ends.""",
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
        bound = [*self.environment_paths(), *self.readonly_paths]
        for path in bound:
            cmd += ["--ro-bind", path, path]
        for path in self._hidden_inside(bound, home):
            cmd += ["--tmpfs", path, "--remount-ro", path]
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

    def _hidden_inside(self, bound: list[str], home: str) -> list[str]:
        """The hidden paths that exist under a bound path (others are not there to hide)."""
        roots = [os.path.realpath(b) for b in bound]
        home_real = os.path.realpath(home)
        hidden = []
        for path in self.hidden_paths:
            real = os.path.realpath(path)
            if not os.path.isdir(real) or home_real.startswith(real + os.sep):
                continue  # a file is not mounted over; the state dir holds the home itself
            for root, shown in zip(roots, bound, strict=True):
                if real == root or real.startswith(root + os.sep):
                    hidden.append(os.path.join(shown, os.path.relpath(real, root)))
        return hidden

    def get_args(self) -> list[str]:
        args: list[str] = super().get_args()
        if self.is_pair:
            home = self._home()
            args += [
                f"--HubOAuth.cache_max_age={self.pair_auth_cache_seconds}",
                "--YDocExtension.disable_rtc=False",
                f"--SQLiteYStore.db_path={os.path.join(home, '.jupyter_ystore.db')}",
                "--YDocExtension.document_save_delay=0.5",
                *room_kernel_args(),
                *pair_server_args(home, self.room_kernel_cull_seconds),
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

    _configured_shell_cmd: list[str] | None = None
    _cgroup: CgroupSet | None = None

    async def start(self) -> Any:
        home = self._home()
        os.makedirs(home, exist_ok=True)
        if self._configured_shell_cmd is None:
            configured: list[str] = list(self.shell_cmd or [])  # type: ignore[has-type]
            self._configured_shell_cmd = configured
        shell_cmd = self._configured_shell_cmd or ["/bin/sh", "-c"]
        if self.sandbox:
            if not os.path.exists(self.bwrap_path):  # noqa: ASYNC240 (one stat at spawn)
                raise RuntimeError(
                    f"bwrap not found at {self.bwrap_path}: install the Debian package "
                    "bubblewrap (make run does), or set PeerPrepSpawner.bwrap_path."
                )
            shell_cmd = self.sandbox_command(home)
        cgroup = await self._make_cgroup()
        self.shell_cmd = cgroup.wrap(shell_cmd) if cgroup else shell_cmd
        if self.is_pair:
            self._skip_oauth_confirm(True)
        command: list[str] = list(self.cmd)  # type: ignore[has-type]
        self.cmd = [sys.executable, "-m", "jupyter_peerprep.credentials", *command]
        try:
            return await super().start()
        except BaseException:
            await self._remove_cgroup()
            raise
        finally:
            self.cmd = command
            if self._secrets_fd is not None:
                os.close(self._secrets_fd)
                self._secrets_fd = None
                self.popen_kwargs.pop("pass_fds", None)

    async def stop(self, now: bool = False) -> Any:
        if self.is_pair:
            self._skip_oauth_confirm(False)
        try:
            return await super().stop(now=now)
        finally:
            # Whatever the server left (a fork bomb's processes included) dies with its cgroup.
            await self._remove_cgroup()

    async def _make_cgroup(self) -> CgroupSet | None:
        await self._remove_cgroup()  # one left by an earlier start of this server
        root = Path(self.cgroup_root)
        if not self.use_cgroups:
            return None
        if not CgroupSet.available(root, cpu=True):
            self.log.warning(
                "No cgroup for the server of %s (the hub needs root and writable cgroup "
                "controllers): only the kernel's rlimits limit it",
                self.user.name,
            )
            return None
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", self.user.name)[:40]
        cgroup = CgroupSet(root, f"server-{safe}-{uuid.uuid4().hex[:8]}", cpu=True)
        memory = self.pair_mem_limit if self.is_pair and self.pair_mem_limit else self.mem_limit
        pids = self.pair_pids_limit if self.is_pair and self.pair_pids_limit else self.pids_limit
        try:
            cgroup.create(int(memory), pids, cpu_shares=self.cpu_shares, cpu_quota=self.cpu_limit)
        except OSError as e:
            self.log.warning("No cgroup for the server of %s: %s", self.user.name, e)
            await cgroup.remove()
            return None
        self.log.info(
            "Server of %s in cgroup %s: memory %s, pids %s, cpu shares %s",
            self.user.name,
            cgroup.name,
            memory,
            pids,
            self.cpu_shares,
        )
        self._cgroup = cgroup
        return cgroup

    async def _remove_cgroup(self) -> None:
        cgroup, self._cgroup = self._cgroup, None
        if cgroup is not None:
            await cgroup.remove()

    def get_state(self) -> dict[str, Any]:
        state: dict[str, Any] = super().get_state()
        if self._cgroup is not None:
            state["cgroup"] = self._cgroup.name
        return state

    def load_state(self, state: dict[str, Any]) -> None:
        super().load_state(state)
        if state.get("cgroup"):
            self._cgroup = CgroupSet(Path(self.cgroup_root), state["cgroup"], cpu=True)

    async def poll(self) -> int | None:
        had_process = bool(self.pid)
        status: int | None = await super().poll()
        if status is not None and had_process:
            # The server is gone (stopped, or died on its own: then the hub does not call
            # stop); whatever it left in its cgroup goes too. (poll also clears the state.)
            await self._remove_cgroup()
        return status

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
