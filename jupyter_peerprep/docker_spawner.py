"""The one-host tier's spawner: DockerSpawner with what PeerPrep's pair rooms need.

Every server is a container of the single-user image (``hub_config/jupyterhub_config.d/
50-docker.py`` configures image, network and limits). Pair servers (hub users ``pair-*``) get
the same treatment as from the embedded default's ``PeerPrepSpawner``: real-time collaboration
on with its document store in the room's home, a short hub-auth cache so a revoked share stops
working quickly, no "Authorize access" page for the two students, only the limited kernel
(``kernels/peerprep-python``), their own memory, CPU and pids limits, and Jupyter's config
and data directories in the image's read-only environment (``room_env.py``). Students' own
servers run with collaboration off.
"""

from __future__ import annotations

import posixpath
from typing import Any

from dockerspawner import DockerSpawner
from jupyterhub.traitlets import ByteSpecification
from traitlets import Float, Integer, Unicode

from .hub.auth import is_pair_user
from .room_env import pair_server_args, pair_server_environment
from .spawner import PeerPrepSpawner, room_kernel_args


class PeerPrepDockerSpawner(DockerSpawner):
    """DockerSpawner for PeerPrep: pair rooms and students' servers as containers."""

    pair_auth_cache_seconds = Integer(
        1,
        min=1,
        help="""Seconds a pair server remembers the hub's answer about a token
        (HubOAuth.cache_max_age, 300 by default in JupyterHub). A share revoked when a session
        ends stops working at most this long after: 1 (the shortest; JupyterHub reads 0 as
        "forever") keeps revocation within about a second of End.""",
    ).tag(config=True)

    pair_mem_limit = ByteSpecification(
        None,
        allow_none=True,
        help="""Memory limit of a pair server (a room: two students, one kernel), e.g. "1G".
        None: the same as mem_limit.""",
    ).tag(config=True)

    pair_cpu_limit = Float(
        None,
        allow_none=True,
        help="CPUs a pair server may use at most, e.g. 1.0. None: the same as cpu_limit.",
    ).tag(config=True)

    pair_pids_limit = Integer(
        None,
        allow_none=True,
        help="""Processes and threads of a pair server (the container's pids limit): where a
        fork bomb in a room stops. None: extra_host_config's pids_limit (50-docker.py).""",
    ).tag(config=True)

    pair_ystore_path = Unicode(
        "/home/jovyan/.jupyter_ystore.db",
        help="Where a pair server keeps its collaboration document store (inside the container).",
    ).tag(config=True)

    pair_python_prefix = Unicode(
        "/opt/peerprep",
        help="""The single-user image's Python environment (root-owned, read-only to the
        server's user). A pair server's Jupyter config and data directories are its own, so no
        extension or setting a student writes into the room's home is loaded (room_env.py).""",
    ).tag(config=True)

    @property
    def is_pair(self) -> bool:
        return is_pair_user(self.user.name)

    def get_args(self) -> list[str]:
        args: list[str] = super().get_args()
        if self.is_pair:
            args += [
                f"--HubOAuth.cache_max_age={self.pair_auth_cache_seconds}",
                "--YDocExtension.disable_rtc=False",
                f"--SQLiteYStore.db_path={self.pair_ystore_path}",
                "--YDocExtension.document_save_delay=0.5",
                *room_kernel_args(),
                *pair_server_args(posixpath.dirname(self.pair_ystore_path)),
            ]
        else:
            args.append("--YDocExtension.disable_rtc=True")
        return args

    def get_env(self) -> dict[str, str]:
        env: dict[str, str] = super().get_env()
        if self.is_pair:
            env.update(pair_server_environment(self.pair_python_prefix))
        return env

    async def start(self, *args: Any, **kwargs: Any) -> Any:
        if self.is_pair:
            if self.pair_mem_limit:
                self.mem_limit = self.pair_mem_limit
            if self.pair_cpu_limit:
                self.cpu_limit = self.pair_cpu_limit
            if self.pair_pids_limit:
                host_config: dict[str, Any] = dict(self.extra_host_config)  # type: ignore[has-type]
                self.extra_host_config = {**host_config, "pids_limit": self.pair_pids_limit}
            PeerPrepSpawner._skip_oauth_confirm(self, True)
        return await super().start(*args, **kwargs)

    async def stop(self, *args: Any, **kwargs: Any) -> Any:
        if self.is_pair:
            PeerPrepSpawner._skip_oauth_confirm(self, False)
        return await super().stop(*args, **kwargs)
