"""Attacks on the PeerPrep API itself: huge bodies, deeply nested JSON, floods, retried Submits.

Each test is what a hostile (or buggy) client does to a real service process, and what it must
see: a 413 before its body was read, a 400 that says what is wrong (never a 500), a 429 with
``Retry-After``, and a retried Submit answered with the run it already made.
"""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

from jupyter_peerprep.db.models import Run
from jupyter_peerprep.testing import seed

SPEC: dict[str, Any] = {
    "id": "echo",
    "title": "Echo",
    "difficulty": "easy",
    "topics": ["arrays"],
    "entry_point": "echo",
    "language": "python",
    "limits": {"time_s": 2.0},
    "checker": "exact",
    "prompt": "Return x.",
    "starter": "def echo(x):\n    pass\n",
    "solution": "def echo(x):\n    return x\n",
    "public_tests": [{"name": "one", "args": [1], "expected": 1}],
    "hidden_tests": [{"name": "hidden", "args": [7], "expected": 7}],
}
SOLUTION = "def echo(x):\n    return x\n"


def runs_in(service: Any, room_id: str) -> int:
    with service.session_factory() as s:
        return s.query(Run).filter_by(room_id=room_id).count()


def raw_request(port: int, head: str, timeout: float = 30.0) -> bytes:
    """Send only a request head (no body) and read what the server answers to it."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head.encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        return data


async def test_a_huge_body_is_refused_with_413_before_it_is_sent(make_service):
    service, client = await make_service(max_body_bytes=64 * 1024)
    room_id = seed.add_room(service, SPEC)
    # Announce 50 MB and send none of it: the answer must come from the head alone.
    head = (
        f"POST {service.base_url}api/rooms/{room_id}/runs HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{service.port}\r\n"
        "Authorization: token test-token-alice\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {50 * 1024 * 1024}\r\n\r\n"
    )
    answer = await asyncio.to_thread(raw_request, service.port, head)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    # A body that is sent, too large: a JSON message saying what to do.
    response = await client.fetch(
        f"api/rooms/{room_id}/runs",
        method="POST",
        body={"kind": "run", "source": "#" * 100_000 + SOLUTION},
    )
    assert response.code == 413
    message = json.loads(response.body)["message"]
    assert "64 KB" in message and "smaller" in message
    assert runs_in(service, room_id) == 0


async def test_deeply_nested_json_is_a_400_not_a_500(make_service):
    service, client = await make_service()
    room_id = seed.add_room(service, SPEC)
    for depth in (100, 20_000):
        nested = "[" * depth + "]" * depth
        raw = '{"kind": "run", "source": "x", "extra": ' + nested + "}"
        response = await client.fetch(
            f"api/rooms/{room_id}/runs",
            method="POST",
            raw_body=raw,
            headers={"Content-Type": "application/json"},
        )
        assert response.code == 400, (depth, response.code, response.body[:200])
        assert "nested" in json.loads(response.body)["message"]
    response = await client.fetch(
        "api/profile", method="PUT", raw_body="{" * 5000, headers={"Content-Type": "text/plain"}
    )
    assert response.code == 400
    assert runs_in(service, room_id) == 0


async def test_runs_are_rate_limited_per_user_with_retry_after(make_service):
    service, client = await make_service(RateLimiter__runs_per_minute=2)
    room_id = seed.add_room(service, SPEC)
    codes = []
    for _ in range(3):
        response = await client.fetch(
            f"api/rooms/{room_id}/runs",
            method="POST",
            body={"kind": "run", "source": SOLUTION},
        )
        codes.append(response.code)
    assert codes == [201, 201, 429]
    assert int(response.headers["Retry-After"]) >= 1
    assert "Too many runs" in json.loads(response.body)["message"]
    assert runs_in(service, room_id) == 2
    # Another student is not held back by alice's runs.
    response = await client.fetch(
        f"api/rooms/{room_id}/runs",
        method="POST",
        user="bob",
        body={"kind": "run", "source": SOLUTION},
    )
    assert response.code == 201


async def test_heartbeats_and_event_streams_are_rate_limited(make_service):
    service, client = await make_service(
        RateLimiter__heartbeats_per_minute=3, RateLimiter__event_streams_per_minute=2
    )
    room_id = seed.add_room(service, SPEC)
    beats = [
        await client.fetch(f"api/rooms/{room_id}/heartbeat", method="POST", user="bob")
        for _ in range(4)
    ]
    assert [b.code for b in beats] == [200, 200, 200, 429]
    assert int(beats[-1].headers["Retry-After"]) >= 1
    assert "heartbeats" in json.loads(beats[-1].body)["message"]
    # Streams of tickets that do not exist still cost: scanning for tickets is a flood too.
    streams = [
        await client.fetch(f"api/match/{'0' * 32}/events", user="carol", timeout=10)
        for _ in range(3)
    ]
    assert [s.code for s in streams] == [404, 404, 429]
    assert int(streams[-1].headers["Retry-After"]) >= 1


async def test_a_retried_submit_returns_the_same_run_and_grades_once(make_service):
    service, client = await make_service()
    room_id = seed.add_room(service, SPEC)
    body = {"kind": "submit", "source": SOLUTION, "idempotency_key": "submit-1"}
    first = await client.fetch(f"api/rooms/{room_id}/runs", method="POST", body=body)
    again = await client.fetch(f"api/rooms/{room_id}/runs", method="POST", body=body)
    assert (first.code, again.code) == (201, 200)
    assert json.loads(again.body)["id"] == json.loads(first.body)["id"]
    assert runs_in(service, room_id) == 1
    # Two copies of one request at once (a double click, a retry racing the original): one
    # run is graded; the other copy is told to wait, then gets that run.
    body = {"kind": "submit", "source": SOLUTION, "idempotency_key": "submit-2"}
    a, b = await asyncio.gather(
        client.fetch(f"api/rooms/{room_id}/runs", method="POST", body=body),
        client.fetch(f"api/rooms/{room_id}/runs", method="POST", body=body),
    )
    assert sorted([a.code, b.code]) in ([200, 201], [201, 429])
    retried = await client.fetch(f"api/rooms/{room_id}/runs", method="POST", body=body)
    assert retried.code == 200
    assert runs_in(service, room_id) == 2
    # The same key for a different request is a mistake the client must hear about.
    body = {"kind": "run", "source": SOLUTION, "idempotency_key": "submit-1"}
    response = await client.fetch(f"api/rooms/{room_id}/runs", method="POST", body=body)
    assert response.code == 409
    assert "idempotency_key" in json.loads(response.body)["message"]
