"""pytest fixtures for PeerPrep and for projects that extend it.

Enable with ``pytest_plugins = ["jupyter_peerprep.pytest_plugin"]``. Factories, not singletons:

- ``db_url``: a fresh, empty database URL (SQLite in tmp_path; PostgreSQL with
  ``--peerprep-db=postgres`` or the ``postgres_url`` fixture);
- ``postgres_url``: a brand-new PostgreSQL database on 127.0.0.1:5432, dropped afterwards;
- ``make_service``: a running PeerPrep service (real Tornado server on a free port) with
  migrations applied, and ``service_fetch`` to call it with an identity;
- ``free_port``.

The real-hub fixtures live in ``jupyter_peerprep.testing.hub`` (``running_hub``).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import socket
import subprocess
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from tornado.httpclient import AsyncHTTPClient, HTTPRequest, HTTPResponse
from traitlets.config import Config

POSTGRES_ADMIN_URL = os.environ.get(
    "PEERPREP_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--peerprep-db",
        default="sqlite",
        choices=["sqlite", "postgres"],
        help="Database backend for the db_url fixture.",
    )


# Ports handed to test servers: below Linux's ephemeral range (32768-60999), from which the
# kernel picks the local port of every outgoing connection and of bind(0), so no client socket
# takes a port between our choice and the server's listen(). Under pytest-xdist each worker
# owns a slice of its own, so two workers never pick the same port.
TEST_PORTS = range(20000, 32000)


def _worker_ports() -> range:
    count = max(1, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    index = int(worker) % count if worker.isdigit() else 0
    size = len(TEST_PORTS) // count
    return range(TEST_PORTS.start + index * size, TEST_PORTS.start + (index + 1) * size)


def _port_cycle() -> Iterator[int]:
    ports = _worker_ports()
    # A random start: another test run on this machine (another checkout) starts elsewhere.
    start = random.randrange(len(ports))  # noqa: S311 (not a secret)
    while True:
        for i in range(len(ports)):
            yield ports[(start + i) % len(ports)]


_ports: Iterator[int] | None = None


def find_free_port() -> int:
    """A TCP port no one on this machine listens on, not handed out before by this process
    (until its slice of ``TEST_PORTS`` wraps round)."""
    global _ports
    if _ports is None:
        _ports = _port_cycle()
    for _ in range(len(TEST_PORTS)):
        port = next(_ports)
        with socket.socket() as s:
            try:
                # The wildcard address: taken if anything listens on the port, on any address.
                s.bind(("", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free TCP port in {_worker_ports()}")


@pytest.fixture
def free_port() -> int:
    return find_free_port()


def ensure_postgres_running() -> None:
    """Start the machine's PostgreSQL cluster if it has stopped (test machines only)."""
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return
    except OSError:
        pass
    versions = os.listdir("/etc/postgresql") if os.path.isdir("/etc/postgresql") else []
    if versions and shutil.which("pg_ctlcluster"):
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", versions[0], "main", "start"],
            check=False,
            capture_output=True,
        )


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A new, empty PostgreSQL database; dropped (with its connections) after the test."""
    ensure_postgres_running()
    name = f"peerprep_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'peerprep.sqlite'}"


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.config.getoption("--peerprep-db") == "postgres":
        yield request.getfixturevalue("postgres_url")
    else:
        yield f"sqlite:///{tmp_path / 'peerprep.sqlite'}"


class ServiceClient:
    """Calls a test service as a given user, the way the relay in a Jupyter server does.

    It sends ``Authorization: token test-token-<user>``, which only ``FakeHubIdentity`` accepts
    (named so: no hub runs in these service-level tests; tests/integration use a real hub).
    """

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    async def fetch(
        self,
        path: str,
        *,
        user: str | None = "alice",
        method: str = "GET",
        body: Any = None,
        raw_body: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 30.0,
    ) -> HTTPResponse:
        all_headers = dict(headers or {})
        if user is not None:
            all_headers["Authorization"] = f"token test-token-{user}"
        data: bytes | str | None = raw_body
        if body is not None:
            data = json.dumps(body)
            all_headers.setdefault("Content-Type", "application/json")
        if data is None and method in ("POST", "PUT", "PATCH"):
            data = b""
        request = HTTPRequest(
            f"{self.base_url}/{path.lstrip('/')}",
            method=method,
            headers=all_headers,
            body=data,
            allow_nonstandard_methods=True,
            request_timeout=timeout,
        )
        return await AsyncHTTPClient().fetch(request, raise_error=False)

    async def json(self, path: str, **kwargs: Any) -> Any:
        response = await self.fetch(path, **kwargs)
        return json.loads(response.body) if response.body else None


class FakeHubIdentity:
    """Stands in for the Hub's token check in service-level tests (no hub process).

    A token ``test-token-<name>`` belongs to user <name>; ``admins`` and ``groups`` say what
    the hub would say about them.
    """

    def __init__(self) -> None:
        self.admins: set[str] = set()
        self.groups: dict[str, list[str]] = {}

    def user_model(self, token: str) -> dict[str, Any] | None:
        if not token.startswith("test-token-"):
            return None
        name = token.removeprefix("test-token-")
        return {
            "kind": "user",
            "name": name,
            "admin": name in self.admins,
            "groups": self.groups.get(name, []),
            "scopes": ["access:services!service=peerprep"],
        }


@pytest.fixture
def fake_hub() -> FakeHubIdentity:
    return FakeHubIdentity()


@pytest.fixture
async def make_service(
    tmp_path: Path, db_url: str, fake_hub: FakeHubIdentity
) -> AsyncIterator[Callable[..., Awaitable[tuple[Any, ServiceClient]]]]:
    """Factory: ``service, client = await make_service(**traits)`` runs a real service."""
    from .hub.app import PeerPrepService

    started: list[Any] = []

    async def factory(**traits: Any) -> tuple[Any, ServiceClient]:
        config = Config()
        config.PeerPrepService.db_url = traits.pop("db_url", db_url)
        config.PeerPrepService.state_dir = str(tmp_path / "state")
        config.PeerPrepService.port = find_free_port()
        config.PeerPrepService.api_token = ""
        config.PeerPrepService.config_file = ""
        # No hub behind a service-level test: nothing to spawn rooms on.
        config.RoomManager.enabled = False
        for key, value in traits.items():
            cls, _, name = key.rpartition("__")
            setattr(config[cls or "PeerPrepService"], name, value)
        service = PeerPrepService(config=config)
        service.initialize([])
        install_fake_hub(service, fake_hub)
        await service.start_async()
        started.append(service)
        base = f"http://127.0.0.1:{service.port}{service.base_url}"
        return service, ServiceClient(base)

    yield factory
    for service in started:
        await service.stop_async()


def install_fake_hub(service: Any, fake_hub: FakeHubIdentity) -> None:
    """Make the service resolve tokens and users with ``fake_hub`` instead of a Hub."""
    hub_auth = service.tornado_app.settings["hub_auth"]

    async def user_for_token(token: str, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        return fake_hub.user_model(token)

    hub_auth.user_for_token = user_for_token

    class FakeHubAPI:
        async def get_user(self, name: str) -> dict[str, Any] | None:
            return fake_hub.user_model(f"test-token-{name}")

        async def get_group_members(self, group: str) -> list[str]:
            return sorted(n for n, groups in fake_hub.groups.items() if group in groups)

    service.hub_api = FakeHubAPI()


# -- a real hub ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def make_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Any]]:
    """Factory: ``hub = make_hub(**env)`` starts a real JupyterHub from hub_config/ on free
    ports with its own state directory; every hub started is stopped at the end of the session.
    ``env`` adds PEERPREP_* variables (a service config file, say)."""
    from .launch import LocalHub

    hubs: list[LocalHub] = []

    def factory(extra_env: dict[str, str] | None = None, **kwargs: Any) -> LocalHub:
        state = tmp_path_factory.mktemp("hub")
        extra_env = dict(extra_env or {})
        if "PEERPREP_SERVICE_CONFIG" not in extra_env:
            # A hub that needs no questions does not validate the whole shipped bank.
            config = state / "peerprep_config.py"
            config.write_text("c.QuestionBank.load_on_start = False\n")
            extra_env["PEERPREP_SERVICE_CONFIG"] = str(config)
        hub = LocalHub(
            state,
            port=find_free_port(),
            hub_port=find_free_port(),
            proxy_api_port=find_free_port(),
            service_port=find_free_port(),
            extra_env=extra_env,
            die_with_parent=True,
            **kwargs,
        )
        hub.start()
        hubs.append(hub)
        return hub

    yield factory
    for hub in hubs:
        hub.stop()


@pytest.fixture(scope="session")
def peerprep_hub(make_hub: Callable[..., Any]) -> Any:
    """One real hub with the embedded-default configuration, shared by a test session."""
    return make_hub()


@pytest.fixture
def hub_user(peerprep_hub: Any) -> Callable[..., Any]:
    """Factory: ``alice = hub_user("alice")`` signs up and logs in a new user at the shared hub
    (a unique suffix keeps names distinct across tests)."""
    from .testing.hubclient import HubUser

    def factory(prefix: str = "student", *, login: bool = True) -> HubUser:
        user = HubUser(peerprep_hub.url, f"{prefix}{uuid.uuid4().hex[:6]}")
        user.signup()
        if login:
            user.login()
        return user

    return factory


# -- a real browser --------------------------------------------------------------------------

from .testing.chromium import CHROMIUM_ARGS, chromium_path  # noqa: E402


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium driven by Playwright, shared by one module's browser tests.

    Module scope, not session: Playwright's sync API keeps an event loop running in the main
    thread while it is open, and asyncio tests in later modules could not start theirs."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()


@pytest.fixture
def artifacts_dir(request: pytest.FixtureRequest) -> Path:
    """Where a test saves screenshots: test-artifacts/<test name>/ at the repository root."""
    root = Path(str(request.config.rootpath)) / "test-artifacts" / request.node.name
    root.mkdir(parents=True, exist_ok=True)
    return root


@pytest.fixture
def peerprep_grader() -> Callable[..., Any]:
    """Factory: ``grader = peerprep_grader(backend="bwrap", **traits)`` is a real Grader.

    ``await grader.run_cases(...)`` runs in a real sandbox (bwrap by default; ``backend=
    "docker"`` needs the engine from docker/engine-up.sh and the grader image).
    """
    from .grader import Grader

    def factory(**traits: Any) -> Any:
        return Grader(**traits)

    return factory
