"""The ``docker`` sandbox backend: one container per run through the Docker API.

Works against Docker or podman's Docker-compatible API (``$DOCKER_HOST``; on the test machines
``unix:///run/peerprep-podman.sock`` from ``docker/engine-up.sh``). Each run gets a new
container from the grader image (``docker/grader/Dockerfile``, built by
``docker/build-images.sh``): ``network_mode="none"``, read-only root filesystem, private tmpfs
``/work`` and ``/tmp`` and a capped ``/dev/shm``, a memory limit with no swap, a pids limit, a
CPU quota, every capability dropped, ``no-new-privileges``, a non-root user, a clean
environment. The program arrives on stdin (attached before start), its output is read from the
attach stream up to a cap, the container is killed at the wall-clock limit and removed after
the run whatever happened; containers left by a crashed service carry a label and are removed
by ``remove_stale``.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import socket
import struct
import threading
from typing import Any

from traitlets import Float, Integer, Unicode, default

from .base import CappedReader, Sandbox, SandboxError, SandboxLimits, SandboxResult, monotonic

RUN_LABEL = "org.peerprep.grader-run"


class DockerSandbox(Sandbox):
    """Runs each program in a fresh container (Docker API, e.g. podman's)."""

    name = "docker"

    docker_host = Unicode(
        help="""Docker API endpoint. Defaults to $DOCKER_HOST, else the podman socket that
        docker/engine-up.sh starts (unix:///run/peerprep-podman.sock).""",
    ).tag(config=True)

    @default("docker_host")
    def _default_docker_host(self) -> str:
        return os.environ.get("DOCKER_HOST", "unix:///run/peerprep-podman.sock")

    image = Unicode(
        help="""Image of the per-run container; docker/build-images.sh grader builds it.
        Defaults to $PEERPREP_GRADER_IMAGE (the tag that script builds), else
        localhost/peerprep-grader:latest.""",
    ).tag(config=True)

    @default("image")
    def _default_image(self) -> str:
        return os.environ.get("PEERPREP_GRADER_IMAGE", "localhost/peerprep-grader:latest")

    python = Unicode("python3", help="Python interpreter inside the image.").tag(config=True)

    user = Unicode("10001:10001", help="Non-root uid:gid the program runs as.").tag(config=True)

    nproc_ulimit = Integer(
        1000,
        help="""RLIMIT_NPROC of the run containers. The kernel counts it per uid across all
        containers of that uid, so it is a machine-wide cap; pids_limit bounds one run.""",
    ).tag(config=True)

    cpus = Float(1.0, help="CPU quota of one run container, in CPUs.").tag(config=True)

    startup_grace_s = Float(
        3.0,
        help="""Seconds added to the wall-clock limit for creating and starting the container
        (the program's own limits are enforced inside).""",
    ).tag(config=True)

    api_timeout_s = Integer(30, help="Timeout of one Docker API call.").tag(config=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._client: Any = None
        self._client_lock = threading.Lock()

    @property
    def client(self) -> Any:
        with self._client_lock:
            if self._client is None:
                try:
                    # By name: this module is called docker too.
                    docker = importlib.import_module("docker")
                except ImportError as e:
                    raise SandboxError(
                        "the docker backend needs the Python package docker>=7 "
                        "(pip install 'jupyter_peerprep[docker]')"
                    ) from e
                self._client = docker.DockerClient(
                    base_url=self.docker_host, timeout=self.api_timeout_s, max_pool_size=64
                )
            return self._client

    async def check(self) -> None:
        def ping() -> None:
            try:
                self.client.ping()
            except SandboxError:
                raise
            except Exception as e:
                raise SandboxError(
                    f"no container engine answers at {self.docker_host} ({e}); run "
                    f"docker/engine-up.sh or set DockerSandbox.docker_host"
                ) from e
            try:
                self.client.images.get(self.image)
            except Exception as e:
                raise SandboxError(
                    f"the grader image {self.image} is missing ({e}); run "
                    f"docker/build-images.sh grader"
                ) from e

        await asyncio.to_thread(ping)

    def _create(self, args: list[str], limits: SandboxLimits) -> Any:
        Ulimit = importlib.import_module("docker.types").Ulimit

        tmpfs_opts = f"rw,nosuid,nodev,size={limits.tmp_mb}m,mode=1777"
        memory = (limits.memory_mb + 3 * limits.tmp_mb) * 1024 * 1024
        fsize = limits.fsize_mb * 1024 * 1024
        try:
            return self.client.containers.create(
                self.image,
                [self.python, *args],
                stdin_open=True,
                detach=True,
                network_mode="none",
                read_only=True,
                tmpfs={"/work": tmpfs_opts, "/tmp": tmpfs_opts},  # noqa: S108 (in the container)
                shm_size=f"{limits.tmp_mb}m",
                mem_limit=memory,
                memswap_limit=memory,
                pids_limit=limits.pids + 4,
                nano_cpus=int(self.cpus * 1e9),
                cap_drop=["ALL"],
                security_opt=["no-new-privileges"],
                user=self.user,
                working_dir="/work",
                hostname="sandbox",
                environment={
                    "HOME": "/work",
                    "LANG": self.env_lang,
                    "PATH": "/usr/bin:/bin",
                    **self.extra_env,
                },
                # Naming any ulimit replaces the engine's defaults, and a container without an
                # explicit nproc fails on hosts without CAP_SYS_RESOURCE (../shared/ENGINE.md).
                ulimits=[
                    Ulimit(name="nproc", soft=self.nproc_ulimit, hard=self.nproc_ulimit),
                    Ulimit(name="nofile", soft=limits.nofile, hard=limits.nofile),
                    Ulimit(name="fsize", soft=fsize, hard=fsize),
                    Ulimit(name="core", soft=0, hard=0),
                ],
                labels={RUN_LABEL: "1"},
            )
        except Exception as e:
            raise SandboxError(f"cannot create a grader container from {self.image}: {e}") from e

    @staticmethod
    def _pump(
        sock: Any, stdin: bytes, out: CappedReader, err: CappedReader, stop: threading.Event
    ) -> None:
        """Send stdin, then demultiplex the attach stream into ``out``/``err`` until EOF."""
        raw: socket.socket = getattr(sock, "_sock", sock)
        raw.settimeout(None)
        with contextlib.suppress(OSError):
            raw.sendall(stdin)
            raw.shutdown(socket.SHUT_WR)
        buffer = b""
        try:
            while not stop.is_set():
                chunk = raw.recv(65536)
                if not chunk:
                    break
                buffer += chunk
                while len(buffer) >= 8:
                    kind, size = struct.unpack(">BxxxL", buffer[:8])
                    if len(buffer) < 8 + size:
                        break
                    payload, buffer = buffer[8 : 8 + size], buffer[8 + size :]
                    (err if kind == 2 else out).feed(payload)
                if out.exceeded or err.exceeded:
                    break
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                raw.close()

    def _kill(self, container: Any) -> None:
        with contextlib.suppress(Exception):
            container.kill()

    def _remove(self, container: Any) -> None:
        for _ in range(3):
            try:
                container.remove(force=True)
                return
            except Exception as e:
                if "No such container" in str(e) or "404" in str(e):
                    return
                self.log.warning("Could not remove grader container %s: %s", container.id, e)

    async def run_python(
        self, args: list[str], *, stdin: bytes = b"", limits: SandboxLimits
    ) -> SandboxResult:
        result = SandboxResult(backend=self.name)
        started = monotonic()
        container = await asyncio.to_thread(self._create, args, limits)
        stop = threading.Event()
        try:
            exceeded = threading.Event()
            budget = [limits.output_bytes]
            out = CappedReader(budget, exceeded.set)
            err = CappedReader(budget, exceeded.set)
            try:
                sock = await asyncio.to_thread(
                    container.attach_socket,
                    params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1},
                )
                await asyncio.to_thread(container.start)
            except Exception as e:
                raise SandboxError(f"cannot start a grader container: {e}") from e
            pump = asyncio.ensure_future(asyncio.to_thread(self._pump, sock, stdin, out, err, stop))
            try:
                await asyncio.wait_for(
                    asyncio.shield(pump), timeout=limits.wall_s + self.startup_grace_s
                )
            except asyncio.TimeoutError:
                result.timed_out = True
            if result.timed_out or exceeded.is_set():
                stop.set()
                await asyncio.to_thread(self._kill, container)
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(pump, timeout=self.api_timeout_s)
            state = await asyncio.to_thread(self._final_state, container)
            result.exit_code = None if result.timed_out or exceeded.is_set() else state[0]
            result.oom_killed = state[1]
            result.stdout = bytes(out.data)
            result.stderr = bytes(err.data)
            result.output_exceeded = out.exceeded or err.exceeded
        finally:
            stop.set()
            await asyncio.to_thread(self._remove, container)
        result.wall_s = monotonic() - started
        return result

    def _final_state(self, container: Any) -> tuple[int | None, bool]:
        try:
            status = container.wait(timeout=self.api_timeout_s)
            container.reload()
            state = container.attrs.get("State", {})
            return int(status.get("StatusCode", -1)), bool(state.get("OOMKilled"))
        except Exception as e:
            self.log.warning("Grader container %s: no exit status (%s)", container.id, e)
            return None, False

    def remove_stale(self) -> int:
        """Remove run containers left behind (by a crashed service); returns how many."""
        stale = self.client.containers.list(all=True, filters={"label": RUN_LABEL})
        for container in stale:
            self._remove(container)
        return len(stale)
