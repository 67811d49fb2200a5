"""Faults of the production database: PostgreSQL stopped and restarted under traffic, and two
service replicas on one PostgreSQL preparing rooms at once (issue 12's double claim).

PostgreSQL on 127.0.0.1:5432 is shared by other test runs, so this module starts a private
cluster of its own (``initdb`` + ``pg_ctl`` from the installed server, on a free port) that it
may stop and start at will.
"""

from __future__ import annotations

import contextlib
import glob
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fault_support import wait_for_questions_of, write_service_config
from sqlalchemy import create_engine, text

from jupyter_peerprep.pytest_plugin import find_free_port
from jupyter_peerprep.testing.faults import (
    Prober,
    hub_student,
    service_process,
    wait_for,
    wait_state,
)
from jupyter_peerprep.testing.rooms import match_pair

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


class PrivatePostgres:
    """A PostgreSQL cluster in a temporary directory, run by the ``postgres`` system user."""

    def __init__(self, directory: Path) -> None:
        binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not binaries:
            raise RuntimeError("PostgreSQL server binaries not found (Debian package postgresql)")
        self.bin = Path(binaries[-1]).parent
        self.data = directory / "data"
        self.port = find_free_port()
        self.log = directory / "postgres.log"
        directory.chmod(0o755)
        shutil.chown(directory, user="postgres")
        self._as_postgres(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust")

    def _as_postgres(self, *cmd: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *cmd], check=True, capture_output=True)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/peerprep"

    def start(self) -> None:
        options = f"-p {self.port} -k /tmp -c listen_addresses=127.0.0.1"
        self._as_postgres(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log),
            "-o", options, "-w", "start",
        )  # fmt: skip

    def stop(self) -> None:
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop")


@pytest.fixture(scope="module")
def postgres() -> Iterator[PrivatePostgres]:
    if not shutil.which("runuser"):
        pytest.fail("runuser (util-linux) is needed to run a private PostgreSQL as postgres")
    # Outside pytest's private temporary tree: the postgres user must reach the directory.
    directory = Path(tempfile.mkdtemp(prefix="peerprep-pg-"))
    cluster = PrivatePostgres(directory)
    cluster.start()
    admin = create_engine(cluster.url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE DATABASE peerprep"))
    admin.dispose()
    yield cluster
    with contextlib.suppress(subprocess.CalledProcessError):
        cluster.stop()
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def pg_hub(make_hub: Any, postgres: PrivatePostgres, tmp_path_factory: Any) -> Iterator[Any]:
    config = write_service_config(
        tmp_path_factory.mktemp("pgsvc"), "c.RoomManager.warm_pool_size = 2\n"
    )
    hub = make_hub(
        extra_env={"PEERPREP_SERVICE_CONFIG": str(config), "PEERPREP_DB_URL": postgres.url}
    )
    wait_for_questions_of(hub_student(hub.url, "first"))
    yield hub
    # Before the module's PostgreSQL goes, and so its warm pool does not outlive the module.
    hub.stop()


def test_postgres_stopped_and_restarted_under_traffic(pg_hub, postgres):
    bystander = hub_student(pg_hub.url, "by")
    student = hub_student(pg_hub.url, "wait")
    before = student(
        "POST", "match",
        json={"difficulty": "hard", "topics": ["matrix"], "idempotency_key": uuid.uuid4().hex},
    )  # fmt: skip
    assert before.status_code == 201, before.text
    service = service_process(pg_hub.state_dir)
    with Prober(pg_hub.url, bystander) as prober:
        wait_for(lambda: len(prober.match.statuses) >= 3, what="traffic before the fault")
        postgres.stop()
        try:
            wait_for(lambda: 503 in prober.health.statuses, what="health reporting the outage")
            outage = len(prober.health.statuses)
            wait_for(lambda: len(prober.health.statuses) >= outage + 5, what="outage answers")
        finally:
            postgres.start()
        wait_for(
            lambda: prober.match.statuses[-3:] in ([201, 201, 201], [200, 201, 201]),
            timeout=60,
            what="matching working again",
        )
    # While the database was down every request was answered at once, with a JSON 503 that
    # says so: never a 500, never a hang; the service process itself lived through it.
    for status in prober.health.statuses + prober.match.statuses:
        assert status in (200, 201, 503), status
    assert service is not None and service.is_running()
    assert service_process(pg_hub.state_dir).pid == service.pid
    # Nothing written before the outage was lost.
    again = student("GET", f"match/{before.json()['id']}")
    assert again.status_code == 200 and again.json()["state"] == "waiting", again.text
    assert student("DELETE", f"match/{before.json()['id']}").status_code == 200


@pytest.fixture
def second_replica(pg_hub: Any, tmp_path: Path) -> Iterator[Path]:
    """A second PeerPrep service process on the same PostgreSQL and hub (as a Kubernetes
    Deployment with two replicas runs it); yields its log file."""
    first = service_process(pg_hub.state_dir)
    assert first is not None
    env = dict(first.environ())
    port = find_free_port()
    env["JUPYTERHUB_SERVICE_URL"] = f"http://127.0.0.1:{port}"
    log = tmp_path / "replica.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "jupyter_peerprep.hub.app",
                f"--config={env['PEERPREP_SERVICE_CONFIG']}",
                "--QuestionBank.load_on_start=False",
            ],
            env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_for(lambda: "listening on" in log.read_text(), what="the second replica up")
        yield log
    finally:
        process.terminate()
        process.wait(30)


def test_two_replicas_never_both_prepare_a_room_or_claim_one_server(
    pg_hub, postgres, second_replica
):
    a, b = hub_student(pg_hub.url, "rep"), hub_student(pg_hub.url, "lica")
    engine = create_engine(postgres.url)

    def pool_full() -> bool:
        with engine.connect() as conn:
            ready = conn.execute(text("SELECT count(*) FROM pair_servers WHERE state = 'ready'"))
            return int(ready.scalar_one()) >= 2

    rooms = []
    for _ in range(3):
        # Both replicas see ready pool servers they could (wrongly) claim for the same room.
        wait_for(pool_full, timeout=180, what="the warm pool full")
        room = match_pair(a, b)
        rooms.append(room)
        assert a("POST", f"rooms/{room['id']}/end").status_code == 200
        wait_state(a, room["id"], {"ended"})
    with engine.connect() as conn:
        for room in rooms:
            servers = conn.execute(
                text("SELECT name FROM pair_servers WHERE room_id = :id"), {"id": room["id"]}
            ).all()
            # One pair server per room: the one the students were given.
            assert [s.name for s in servers] == [room["pair_user"]], servers
    engine.dispose()
    logs = Path(pg_hub.log_path).read_text() + second_replica.read_text()
    for room in rooms:
        # Prepared once, by one replica.
        assert logs.count(f"Rooms: room {room['id']} active on") == 1
