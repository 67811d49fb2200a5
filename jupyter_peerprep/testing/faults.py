"""Injecting faults into a running PeerPrep, for the fault suite and its benchmark.

- ``kill_hub_user_server(name)``: ``kill -9`` every process of a hub user's server (as the
  kernel's OOM killer or a drained node would), found by ``JUPYTERHUB_USER`` in its environment;
- ``service_process(state_dir)`` / ``kill_service``: the PeerPrep service a hub started;
- ``kill_hub(hub)``: ``kill -9`` a ``LocalHub``'s hub with its proxy and service (not the
  servers of a container tier: the engine runs those), as a crashed hub machine;
- ``ServiceCaller``: a hub user calling the service directly through the proxy with a hub API
  token (no single-user server needed), as a bystander does while a fault is on;
- ``Prober``: a background thread that keeps asking ``api/health`` and ``api/match`` (open and
  cancel a ticket) and records every status and latency;
- ``wait_for``: poll a condition with a generous timeout.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import psutil
import requests

from .hubclient import HubClientError, HubUser

T = TypeVar("T")


def wait_for(
    check: Callable[[], T | None], *, timeout: float = 90.0, interval: float = 0.3, what: str = ""
) -> T:
    """Call ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise HubClientError(f"not within {timeout:.0f}s: {what} (last: {last!r})")


def _environ(process: psutil.Process) -> dict[str, str]:
    try:
        return process.environ()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return {}


def processes_of_server(name: str) -> list[psutil.Process]:
    """Every process of hub user ``name``'s single-user server (sandbox, server, kernels)."""
    return [p for p in psutil.process_iter() if _environ(p).get("JUPYTERHUB_USER") == name]


def kill_hub_user_server(name: str) -> int:
    """``kill -9`` every process of ``name``'s server; returns how many were killed."""
    killed = 0
    for process in processes_of_server(name):
        try:
            process.send_signal(signal.SIGKILL)
            killed += 1
        except psutil.NoSuchProcess:
            pass
    return killed


def service_process(state_dir: str | os.PathLike[str]) -> psutil.Process | None:
    """The PeerPrep service process of the hub whose state directory is ``state_dir``."""
    for p in psutil.process_iter(["cmdline"]):
        if "jupyter_peerprep.hub.app" in " ".join(p.info["cmdline"] or []) and _environ(p).get(
            "PEERPREP_STATE_DIR"
        ) == str(state_dir):
            return p
    return None


def kill_service(state_dir: str | os.PathLike[str]) -> int:
    """``kill -9`` the PeerPrep service; returns its pid (the hub starts a new one)."""
    process = service_process(state_dir)
    if process is None:
        raise HubClientError(f"no PeerPrep service runs for {state_dir}")
    process.send_signal(signal.SIGKILL)
    return int(process.pid)


def kill_hub(hub: Any) -> None:
    """``kill -9`` the hub of ``hub`` (a ``launch.LocalHub``), every process it started
    (proxy, PeerPrep service, local servers) and its service; wait until the hub is gone."""
    root = psutil.Process(hub.process.pid)
    doomed = [root, *root.children(recursive=True)]
    service = service_process(hub.state_dir)
    for process in [*doomed, *([service] if service else [])]:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.send_signal(signal.SIGKILL)
    hub.process.wait(10)


class ServiceCaller:
    """``user`` calls the PeerPrep API at ``hub_url`` directly with a hub API token. Has the
    ``name`` and ``peerprep()`` of a ``HubUser``, so ``testing.rooms.match_pair`` takes it."""

    def __init__(self, user: HubUser) -> None:
        self.user = user
        self.session = requests.Session()

    @property
    def name(self) -> str:
        return self.user.name

    def peerprep(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self(method, path, **kwargs)

    def __call__(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = kwargs.pop("headers", {})
        headers["Authorization"] = f"token {self.user.token()}"
        kwargs.setdefault("timeout", 30)
        return self.session.request(
            method,
            f"{self.user.hub_url}/services/peerprep/api/{path.lstrip('/')}",
            headers=headers,
            **kwargs,
        )


@dataclass
class Probe:
    """What one endpoint answered while probed: statuses (0: no answer) and latencies."""

    statuses: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    @property
    def failures(self) -> list[int]:
        return [s for s in self.statuses if s == 0 or s >= 500]


class Prober:
    """Asks ``api/health`` (no login) and ``api/match`` (a bystander opens and cancels a
    ticket) over and over in a thread, until stopped; ``health`` and ``match`` hold what each
    answered. Use as a context manager around a fault."""

    def __init__(
        self,
        hub_url: str,
        bystander: ServiceCaller,
        *,
        pause: float = 0.2,
        match_body: dict[str, Any] | None = None,
    ) -> None:
        self.hub_url = hub_url
        self.bystander = bystander
        self.pause = pause
        self.match_body = match_body or {"difficulty": "easy", "topics": ["hash-maps"]}
        self.health = Probe()
        self.match = Probe()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="peerprep-prober", daemon=True)

    def __enter__(self) -> Prober:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(60)

    def _timed(self, probe: Probe, call: Callable[[], requests.Response]) -> requests.Response:
        started = time.perf_counter()
        try:
            response = call()
        except requests.RequestException:
            probe.statuses.append(0)
            probe.seconds.append(time.perf_counter() - started)
            raise
        probe.statuses.append(response.status_code)
        probe.seconds.append(time.perf_counter() - started)
        return response

    def _match_once(self) -> requests.Response:
        body = {**self.match_body, "language": "python", "idempotency_key": uuid.uuid4().hex}
        return self.bystander("POST", "match", json=body)

    def _run(self) -> None:
        health = requests.Session()
        url = f"{self.hub_url}/services/peerprep/api/health"
        while not self._stop.is_set():
            try:
                self._timed(self.health, lambda: health.get(url, timeout=30))
                opened = self._timed(self.match, self._match_once)
                if opened.status_code in (200, 201):
                    self.bystander("DELETE", f"match/{opened.json()['id']}")
            except requests.RequestException:
                pass
            self._stop.wait(self.pause)


def hub_student(hub_url: str, prefix: str) -> ServiceCaller:
    """A signed-up, logged-in student with a hub token (and no server of their own)."""
    user = HubUser(hub_url, f"{prefix}{uuid.uuid4().hex[:6]}")
    user.signup()
    user.login()
    user.token()
    return ServiceCaller(user)


def wait_state(
    caller: ServiceCaller, room_id: str, states: set[str], timeout: float = 90
) -> dict[str, Any]:
    """Poll the room until its state is one of ``states``; return it."""

    def in_state() -> dict[str, Any] | None:
        answer = caller("GET", f"rooms/{room_id}")
        if answer.status_code != 200:
            return None  # the service is restarting (the proxy answers for it)
        room: dict[str, Any] = answer.json()
        return room if room.get("state") in states else None

    return wait_for(in_state, timeout=timeout, what=f"room {room_id} in {sorted(states)}")


def save_code(caller: ServiceCaller, pair_user: str, code: str) -> None:
    """The student saves ``code`` as the room notebook's starter cell (Contents API)."""
    user = caller.user
    model = user.server("GET", "api/contents/question.ipynb", owner=pair_user).json()
    notebook = model["content"]
    cell = next(c for c in notebook["cells"] if "def " in "".join(c["source"]))
    cell["source"] = code
    response = user.server(
        "PUT",
        "api/contents/question.ipynb",
        owner=pair_user,
        json={"type": "notebook", "format": "json", "content": notebook},
    )
    if response.status_code not in (200, 201):
        raise HubClientError(f"saving the room notebook: {response.status_code} {response.text}")


def notebook_text(notebook: dict[str, Any] | None) -> str:
    """Every cell's source of ``notebook``, one after the other."""
    if not notebook:
        return ""
    return "\n".join("".join(c.get("source") or "") for c in notebook.get("cells", []))


def fill_disk(directory: Path) -> Path:
    """Write a file in ``directory`` until its file system is full; return the file's path
    (delete it to end the fault)."""
    filler = directory / "filler"
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(b"\0" * (1 << 20))
                f.flush()
        except OSError as e:
            if e.errno != errno.ENOSPC:
                raise
    return filler
