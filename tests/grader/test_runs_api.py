"""POST/GET /api/rooms/{id}/runs: Run shows everything, Submit keeps hidden tests hidden."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta

import pytest

from jupyter_peerprep import db
from jupyter_peerprep.db.models import Room, Run, utcnow
from jupyter_peerprep.testing import seed

SOLUTION = """
def two_sum(nums, target):
    seen = {}
    for i, x in enumerate(nums):
        if target - x in seen:
            return [seen[target - x], i]
        seen[x] = i
    return []
"""

SPEC = {
    "id": "two-sum",
    "title": "Two Sum",
    "difficulty": "easy",
    "topics": ["arrays", "hash-maps"],
    "entry_point": "two_sum",
    "language": "python",
    "limits": {"time_s": 2.0, "memory_mb": 256},
    "checker": "exact",
    "complexity": {"sizes": [500, 1000, 2000, 4000], "expected": "O(n)", "repeats": 3},
    "prompt": "Find two indices.",
    "starter": "def two_sum(nums, target):\n    pass\n",
    "solution": SOLUTION,
    "generator": (
        "def generate(n, rng):\n    return [[rng.randint(0, 10**9) for _ in range(n)], -1]\n"
    ),
    "checker_source": None,
    "public_tests": [
        {"name": "example", "args": [[2, 7, 11, 15], 9], "expected": [0, 1]},
        {"name": "no pair", "args": [[1, 2], 10], "expected": []},
    ],
    "hidden_tests": [
        {"name": "hidden small", "args": [[5, 918273, 6], 918279], "expected": [1, 2]},
        {"name": "hidden negative", "args": [[-4, 1, 777665], 777661], "expected": [0, 2]},
    ],
}


def make_room(service, *, state="active", members=("alice", "bob")) -> str:
    return seed.add_room(service, SPEC, state=state, members=members)


async def post_run(client, room_id, kind, source=SOLUTION, user="alice"):
    return await client.fetch(
        f"api/rooms/{room_id}/runs",
        method="POST",
        user=user,
        body={"kind": kind, "source": source},
    )


async def test_run_shows_public_cases_in_full(make_service):
    service, client = await make_service()
    room_id = make_room(service)
    response = await post_run(client, room_id, "run")
    assert response.code == 201, response.body
    body = json.loads(response.body)
    assert body["kind"] == "run" and body["username"] == "alice"
    assert (body["passed"], body["total"], body["verdict"]) == (2, 2, "passed")
    first = body["cases"][0]
    assert first["args"] == [[2, 7, 11, 15], 9] and first["expected"] == [0, 1]
    assert first["got"] == [0, 1] and first["wall_ms"] > 0
    assert body["complexity"] is None


async def test_submit_hides_hidden_tests_and_measures_complexity(make_service):
    service, client = await make_service()
    room_id = make_room(service)
    # Prints its (hidden) input and raises on stderr: none of it may reach the students.
    leaky = SOLUTION.replace(
        "    seen = {}", "    seen = {}\n    if len(nums) < 10:\n        print('LEAK', nums)"
    )
    response = await post_run(client, room_id, "submit", source=leaky, user="bob")
    assert response.code == 201, response.body
    body = json.loads(response.body)
    assert (body["passed"], body["total"]) == (2, 2)
    text = response.body.decode()
    for secret in ("918273", "777665", "LEAK", "918279"):
        assert secret not in text
    assert body["cases"][0] == {"name": "hidden small", "passed": True, "reason": None}
    complexity = body["complexity"]
    assert complexity["expected"] == "O(n)"
    assert [p["n"] for p in complexity["points"]] == [500, 1000, 2000, 4000]
    assert complexity["estimate"] is not None and 0 <= complexity["confidence"] <= 1
    # Both partners see it, newest first; what is stored is what was shown.
    await post_run(client, room_id, "run", user="alice")
    listing = await client.json(f"api/rooms/{room_id}/runs", user="alice")
    assert [r["kind"] for r in listing["runs"]] == ["run", "submit"]
    assert listing["runs"][1]["username"] == "bob"
    assert "918273" not in json.dumps(listing)
    with service.session_factory() as s:
        stored = s.query(Run).filter_by(room_id=room_id, kind="submit").one()
        assert "918273" not in json.dumps(stored.report)


async def test_wrong_submit_gives_generic_reasons(make_service):
    service, client = await make_service()
    room_id = make_room(service)
    source = "def two_sum(nums, target):\n    return [0, 1]\n"
    body = json.loads((await post_run(client, room_id, "submit", source=source)).body)
    assert body["verdict"] == "failed"
    assert {c["reason"] for c in body["cases"]} == {"wrong answer"}
    assert all(set(c) == {"name", "passed", "reason"} for c in body["cases"])


async def test_only_members_of_an_active_room(make_service):
    service, client = await make_service()
    room_id = make_room(service)
    response = await post_run(client, room_id, "run", user="mallory")
    # One membership check for every room API: a non-member learns nothing (404).
    assert response.code == 404
    assert "of yours" in json.loads(response.body)["message"]
    assert (await client.fetch(f"api/rooms/{room_id}/runs", user="mallory")).code == 404
    ended = make_room(service, state="ended")
    response = await post_run(client, ended, "run")
    assert response.code == 409 and "ended" in json.loads(response.body)["message"]
    # Ended rooms keep their history readable to members.
    assert (await client.fetch(f"api/rooms/{ended}/runs")).code == 200
    missing = "0" * 32
    assert (await post_run(client, missing, "run")).code == 404
    assert (await client.fetch(f"api/rooms/{room_id}/runs", user=None)).code == 403


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"kind": "lint", "source": ""}, '"kind" must be "run" or "submit"'),
        ({"kind": "run"}, '"source" must be the solution code'),
        ({"kind": "run", "source": "x" * 70_000}, "larger than 64 KB"),
    ],
)
async def test_bad_requests_are_400_with_a_message(make_service, body, message):
    service, client = await make_service()
    room_id = make_room(service)
    response = await client.fetch(f"api/rooms/{room_id}/runs", method="POST", body=body)
    assert response.code == 400
    assert message in json.loads(response.body)["message"]
    with service.session_factory() as s:
        assert s.query(Run).count() == 0


async def test_one_run_at_a_time_per_room(make_service):
    service, client = await make_service()
    room_id = make_room(service)
    slow = "import time\ndef two_sum(nums, target):\n    time.sleep(0.5)\n    return []\n"
    first, second = await asyncio.gather(
        post_run(client, room_id, "run", source=slow),
        post_run(client, room_id, "run", source=slow, user="bob"),
    )
    assert sorted([first.code, second.code]) == [201, 429]
    busy = first if first.code == 429 else second
    assert "already being graded" in json.loads(busy.body)["message"]


async def test_one_run_at_a_time_across_replicas(make_service):
    # Two replicas of the service on one database; each partner's request reaches another.
    first_service, first = await make_service()
    _, second = await make_service()
    room_id = make_room(first_service)
    slow = "import time\ndef two_sum(nums, target):\n    time.sleep(0.5)\n    return []\n"
    a, b = await asyncio.gather(
        post_run(first, room_id, "run", source=slow),
        post_run(second, room_id, "run", source=slow, user="bob"),
    )
    assert sorted([a.code, b.code]) == [201, 429]
    # Once the first is graded the room is free again, on either replica.
    assert (await post_run(second, room_id, "run")).code == 201


def mark_grading(service, room_id: str, since: datetime) -> None:
    """What a replica grading a run of the room has written (and not cleared, if it died)."""
    with db.transaction(service.session_factory) as s:
        room = s.get(Room, room_id)
        room.grading_since = since


async def test_a_crashed_replicas_grading_mark_lapses(make_service):
    service, client = await make_service()
    room_id = make_room(service)
    # Another replica is grading a run of this room right now: wait for it.
    mark_grading(service, room_id, utcnow())
    response = await post_run(client, room_id, "run")
    assert response.code == 429
    assert "already being graded" in json.loads(response.body)["message"]
    # That replica died mid-run: its mark no longer counts after the longest run + margin.
    lapse = service.grader.longest_run_s() + service.grader.busy_room_margin_s
    mark_grading(service, room_id, utcnow() - timedelta(seconds=lapse + 5))
    assert (await post_run(client, room_id, "run")).code == 201
    # ...and the run that took over cleared it: the next run goes ahead at once.
    assert (await post_run(client, room_id, "run", user="bob")).code == 201
