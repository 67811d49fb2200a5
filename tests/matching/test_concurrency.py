"""A thousand students enqueue at once through the HTTP API: no double match, every ticket
ends matched, cancelled or timed out. On PostgreSQL across two service processes (the second
a real subprocess), on SQLite with one."""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
from matching_support import EventStream, add_bank
from sqlalchemy import select
from tornado.httpclient import AsyncHTTPClient, HTTPRequest

from jupyter_peerprep.db.models import Room, RoomMember, Ticket
from jupyter_peerprep.pytest_plugin import find_free_port

HERE = Path(__file__).parent
TIMES = {
    "topic_relax_after": 0.5,
    "difficulty_relax_after": 1.0,
    "timeout_after": 2.0,
    "tick_interval": 0.1,
    "lease_seconds": 60.0,
}
# A realistic spread: most students pick easy/medium and a couple of popular topics.
DIFFICULTY_WEIGHTS = {"easy": 5, "medium": 4, "hard": 1}
TOPIC_CHOICES = ["arrays", "strings", "hash-maps", "graphs", "trees", "dynamic-programming"]


def crowd(n: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    people = []
    for i in range(n):
        difficulty = rng.choices(list(DIFFICULTY_WEIGHTS), weights=DIFFICULTY_WEIGHTS.values())[0]
        topics = rng.sample(TOPIC_CHOICES, k=rng.choice([1, 1, 2, 3]))
        people.append(
            {
                "user": f"student{i:04d}",
                "body": {"difficulty": difficulty, "topics": topics, "idempotency_key": f"k{i}"},
                "cancel": i % 25 == 0,
            }
        )
    return people


async def enqueue_all(base_urls: list[str], people: list[dict]) -> list[tuple[int, dict, int]]:
    http = AsyncHTTPClient(force_instance=True, max_clients=200)

    async def one(i: int, person: dict) -> tuple[int, dict, int]:
        base = base_urls[i % len(base_urls)]
        headers = {"Authorization": f"token test-token-{person['user']}"}
        response = await http.fetch(
            HTTPRequest(
                f"{base}/api/match",
                method="POST",
                headers=headers,
                body=json.dumps(person["body"]),
                request_timeout=600,
                connect_timeout=600,
            ),
            raise_error=False,
        )
        ticket = json.loads(response.body)
        if person["cancel"] and response.code == 201:
            cancel = await http.fetch(
                HTTPRequest(
                    f"{base}/api/match/{ticket['id']}",
                    method="DELETE",
                    headers=headers,
                    request_timeout=600,
                    connect_timeout=600,
                ),
                raise_error=False,
            )
            # 200: cancelled; 409: matched before the cancel arrived.
            assert cancel.code in (200, 409), cancel.body
            # 200 answers the ticket as it is: cancelled, or already timed out.
            ticket["cancelled"] = json.loads(cancel.body).get("state") == "cancelled"
        return response.code, ticket, i % len(base_urls)

    try:
        return await asyncio.gather(*(one(i, p) for i, p in enumerate(people)))
    finally:
        http.close()


async def settle(factory, deadline: float = 180.0) -> None:
    start = time.monotonic()
    while time.monotonic() - start < deadline:
        with factory() as s:
            if s.scalar(select(Ticket.id).where(Ticket.state == "waiting").limit(1)) is None:
                return
        await asyncio.sleep(0.2)
    raise AssertionError("tickets still waiting long after timeout_after")


def check_outcome(factory, people: list[dict], answers: list[tuple[int, dict, int]]) -> dict:
    assert [code for code, _, _ in answers] == [201] * len(people), "every enqueue accepted"
    with factory() as s:
        tickets = s.scalars(select(Ticket)).all()
        rooms = s.scalars(select(Room)).all()
        members = s.scalars(select(RoomMember)).all()
    assert len(tickets) == len(people), "no ticket lost, none duplicated"
    states = {t.state for t in tickets}
    assert states <= {"matched", "cancelled", "timed_out"}
    by_room: dict[str, list[str]] = {}
    for m in members:
        by_room.setdefault(m.room_id, []).append(m.username)
    users_in_rooms = [u for names in by_room.values() for u in names]
    assert len(users_in_rooms) == len(set(users_in_rooms)), "a student matched twice"
    assert all(len(set(names)) == 2 for names in by_room.values()), "a room is two students"
    matched = [t for t in tickets if t.state == "matched"]
    assert len(matched) == 2 * len(rooms)
    for t in matched:
        assert t.username in by_room[t.room_id]
    for _, ticket, _ in answers:
        if ticket.get("cancelled"):
            assert next(t for t in tickets if t.id == ticket["id"]).state == "cancelled"
    counts = {s: sum(t.state == s for t in tickets) for s in ("matched", "cancelled", "timed_out")}
    assert counts["matched"] > len(people) // 2, counts
    return counts


def start_second_service(db_url: str, log: Path) -> tuple[subprocess.Popen, str]:
    port = find_free_port()
    settings = [f"Matchmaker.{k}={float(v)}" for k, v in TIMES.items()]
    process = subprocess.Popen(
        [sys.executable, str(HERE / "service_process.py"), db_url, str(port), *settings],
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
        env={**os.environ, "PYTHONPATH": str(HERE.parent.parent)},
    )
    return process, f"http://127.0.0.1:{port}/services/peerprep"


async def wait_healthy(process: subprocess.Popen, base: str) -> None:
    http = AsyncHTTPClient()
    deadline = time.monotonic() + 90  # start-up imports take long on a loaded machine
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError("second service exited early; see its log")
        try:
            response = await http.fetch(f"{base}/api/health", raise_error=False)
        except OSError:
            response = None
        if response is not None and response.code == 200:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("second service did not become healthy")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def fast_commits(url: str) -> str:
    """The test database without waiting for fsync at commit: this test is about locking,
    not durability, and on this shared machine a synchronous commit costs over 10 ms."""
    return url + "?options=-csynchronous_commit%3Doff"


# Slow on a loaded 2-core machine (about 1 min idle, 2-3 min under other suites' load).
@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.postgres
async def test_thousand_enqueues_two_processes_postgres(make_service, postgres_url, tmp_path):
    postgres_url = fast_commits(postgres_url)
    service, client = await make_service(
        db_url=postgres_url, **{f"Matchmaker__{k}": v for k, v in TIMES.items()}
    )
    add_bank(service.session_factory)
    process, second = start_second_service(postgres_url, tmp_path / "second.log")
    try:
        await wait_healthy(process, second)
        people = crowd(int(os.environ.get("CROWD", "1000")))
        answers = await enqueue_all([client.base_url, second], people)
        # Both processes matched students on enqueue, not only one of them.
        on_post = [
            sum(1 for _, t, k in answers if k == j and t["state"] == "matched") for j in (0, 1)
        ]
        assert min(on_post) > 50, on_post
        await settle(service.session_factory)
        check_outcome(service.session_factory, people, answers)
    finally:
        stop(process)


@pytest.mark.postgres
async def test_stream_on_one_process_sees_a_match_made_by_the_other(
    make_service, postgres_url, tmp_path
):
    service, client = await make_service(
        db_url=postgres_url, **{f"Matchmaker__{k}": v for k, v in TIMES.items()}
    )
    add_bank(service.session_factory)
    process, second = start_second_service(postgres_url, tmp_path / "second.log")
    try:
        await wait_healthy(process, second)
        body = {"difficulty": "medium", "topics": ["graphs"]}
        alice = await client.json("api/match", user="alice", method="POST", body=body)
        stream = await EventStream(
            client.base_url, f"api/match/{alice['id']}/events", "alice"
        ).open()
        assert (await stream.next_event())[0] == "waiting"
        http = AsyncHTTPClient()
        response = await http.fetch(
            f"{second}/api/match",
            method="POST",
            headers={"Authorization": "token test-token-bob"},
            body=json.dumps(body),
        )
        assert json.loads(response.body)["state"] == "matched"
        matched = await stream.until({"matched"}, timeout=20)
        stream.close()
        assert matched["room"]["partner"]["name"] == "bob"
    finally:
        stop(process)


@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_thousand_enqueues_sqlite_one_process(make_service, sqlite_url):
    service, client = await make_service(
        db_url=sqlite_url, **{f"Matchmaker__{k}": v for k, v in TIMES.items()}
    )
    add_bank(service.session_factory)
    people = crowd(1000, seed=11)
    answers = await enqueue_all([client.base_url], people)
    await settle(service.session_factory)
    check_outcome(service.session_factory, people, answers)
