"""Fixtures of the sandbox suites: a real container engine, a grader per backend, leak checks.

``container_engine`` (session, in ``tests/conftest.py``) is ``docker_host`` (runs
``docker/engine-up.sh``, podman behind the Docker API) plus ``docker/build-images.sh grader``;
both are idempotent and take well under a second once done.
Every test parametrised over ``backend`` runs on bwrap and, marked ``container``, on docker.
After each test no host process may carry the test's mark and no grader container may remain.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from traitlets.config import Config

from jupyter_peerprep.grader import Grader
from jupyter_peerprep.sandbox.docker import RUN_LABEL

MARK_VAR = "PEERPREP_TEST_MARK"

BACKENDS = [
    pytest.param("bwrap", id="bwrap"),
    pytest.param("docker", id="docker", marks=[pytest.mark.container, pytest.mark.timeout(900)]),
]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "docker":
        request.getfixturevalue("container_engine")
    return str(request.param)


@pytest.fixture
def mark() -> str:
    return f"mark-{uuid.uuid4().hex}"


def make_grader(backend: str, mark: str, **traits: object) -> Grader:
    config = Config()
    for cls in ("BwrapSandbox", "DockerSandbox"):
        config[cls].extra_env = {MARK_VAR: mark}
    if backend == "docker":
        config.DockerSandbox.docker_host = os.environ.get(
            "PEERPREP_TEST_DOCKER_HOST", "unix:///run/peerprep-podman.sock"
        )
    return Grader(config=config, backend=backend, **traits)


def processes_with(marker: str) -> list[str]:
    """Host processes whose environment or command line contains ``marker``."""
    found = []
    needle = marker.encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        for name in ("environ", "cmdline"):
            try:
                data = Path(f"/proc/{entry}/{name}").read_bytes()
            except OSError:
                continue
            if needle in data:
                found.append(f"{entry}: {data[:200]!r}")
                break
    return found


@pytest.fixture(name="processes_with")
def processes_with_fixture() -> Callable[[str], list[str]]:
    """``processes_with(marker)``: host processes whose environment or argv holds it."""
    return processes_with


def grader_containers(mark: str) -> list[str]:
    import docker

    client = docker.DockerClient(base_url="unix:///run/peerprep-podman.sock")
    try:
        names = []
        for container in client.containers.list(all=True, filters={"label": RUN_LABEL}):
            env = container.attrs.get("Config", {}).get("Env") or []
            if f"{MARK_VAR}={mark}" in env:
                names.append(container.name)
        return names
    finally:
        client.close()


@pytest.fixture
def grader(backend: str, mark: str) -> Iterator[Grader]:
    """A real Grader on ``backend``; afterwards nothing of its runs may be left on the host."""
    yield make_grader(backend, mark)
    deadline = time.monotonic() + 3
    while processes_with(mark) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_with(mark) == [], "a sandboxed process outlived its run"
    if backend == "docker":
        assert grader_containers(mark) == [], "a grader container outlived its run"


_startup: dict[str, float] = {}


class Overhead:
    """The backend's fixed cost per run (start, stop, clean up), to add to a run's limit.

    On a shared two-core machine that cost swings with load, so ``allowance()`` takes the
    larger of the session's first measurement and a trivial run made right now, twice.
    """

    def __init__(self, grader: Grader, first_s: float) -> None:
        self.grader = grader
        self.first_s = first_s

    async def trivial_run_s(self, language: str = "python") -> float:
        started = time.monotonic()
        report = await self.grader.run_cases(
            source=TRIVIAL[language],
            entry_point="f",
            cases=[{"name": "one", "args": [], "expected": 1}],
            language=language,
        )
        assert report.verdict == "passed", report.to_json(reveal=True)
        return time.monotonic() - started

    async def allowance(self, language: str = "python") -> float:
        """Twice the larger of the first measurement and a trivial run in ``language`` now
        (a JavaScript run also starts V8: more than Python's start, and more under load)."""
        return 2 * max(self.first_s, await self.trivial_run_s(language))


TRIVIAL = {
    "python": "def f():\n    return 1\n",
    "javascript": "function f() {\n  return 1;\n}\n",
}


@pytest.fixture
async def overhead(grader: Grader, backend: str) -> Overhead:
    """See ``Overhead``; the first measurement is the slowest of 3 trivial runs."""
    probe = Overhead(grader, 0.0)
    if backend not in _startup:
        _startup[backend] = max([await probe.trivial_run_s() for _ in range(3)])
    return Overhead(grader, _startup[backend])
