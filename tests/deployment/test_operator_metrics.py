"""The metrics behind the operator dashboard and alerts (monitoring/): what an operator sees on
/metrics when the grader is saturated, the database fails, rooms hang or the pool is empty."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from prometheus_client.parser import text_string_to_metric_families

from jupyter_peerprep import db
from jupyter_peerprep.db.models import PairServer, Question, Room
from jupyter_peerprep.hub.rooms import state as roomstate

SLOW = "import time\n\ndef f(x):\n    time.sleep(1.5)\n    return x\n"


async def scrape(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await client.fetch("metrics", user=None)
    assert response.code == 200
    found = {}
    for family in text_string_to_metric_families(response.body.decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def test_a_saturated_grader_shows_a_run_waiting_for_its_slot(make_service):
    service, client = await make_service(Grader__max_concurrent=1)
    before = await scrape(client)
    runs = [
        asyncio.create_task(
            service.grader.run_cases(
                source=SLOW, entry_point="f", cases=[{"name": "one", "args": [1], "expected": 1}]
            )
        )
        for _ in range(2)
    ]
    seen: dict = {}
    for _ in range(200):  # poll until one run holds the slot and the other waits
        seen = await scrape(client)
        if seen[("peerprep_grader_queue_length", ())] == 1:
            break
        await asyncio.sleep(0.05)
    assert seen[("peerprep_grader_queue_length", ())] == 1
    assert seen[("peerprep_grader_running", ())] == 1
    assert seen[("peerprep_grader_slots", ())] == 1
    reports = await asyncio.gather(*runs)
    assert [r.verdict for r in reports] == ["passed", "passed"]
    after = await scrape(client)
    assert after[("peerprep_grader_queue_length", ())] == 0
    assert after[("peerprep_grader_running", ())] == 0
    count = ("peerprep_grader_run_seconds_count", ())
    assert after[count] == before.get(count, 0) + 2
    # The second run waited about as long as the first one ran.
    waited = ("peerprep_grader_wait_seconds_bucket", (("le", "1.0"),))
    total = ("peerprep_grader_wait_seconds_count", ())
    assert after[total] - before.get(total, 0) == 2
    assert after[waited] - before.get(waited, 0) == 1


async def test_database_errors_are_counted_by_kind(make_service):
    service, client = await make_service()
    key = ("peerprep_database_errors_total", (("kind", "operational"),))
    before = await scrape(client)
    assert ("peerprep_database_errors_total", (("kind", "integrity"),)) in before
    service.engine.dispose()
    with service.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE tickets")
    failed = await scrape(client)
    assert failed[("peerprep_database_up", ())] == 0
    # The counters are written before the database gauges are read: the next scrape has it.
    again = await scrape(client)
    assert again[key] >= before[key] + 1


async def test_hanging_rooms_and_the_warm_pool_show_on_the_gauges(make_service):
    service, client = await make_service()
    now = datetime.now(timezone.utc)
    with db.transaction(service.session_factory) as session:
        session.add(Question(id="two-sum"))
        session.flush()
        for i, (state, created, ended) in enumerate(
            [
                ("starting", now - timedelta(minutes=10), None),
                ("starting", now - timedelta(seconds=5), None),
                ("ending", now - timedelta(minutes=30), now - timedelta(minutes=7)),
            ]
        ):
            session.add(
                Room(
                    pair_user=f"pair-{i:012d}",
                    question_id="two-sum",
                    question_version=1,
                    difficulty="easy",
                    state=state,
                    created=created,
                    ended=ended,
                )
            )
        for i, state in enumerate(["ready", "ready", "warming", "retired"]):
            session.add(PairServer(name=f"pair-pool{i}", state=state))
    found = await scrape(client)
    starting = found[("peerprep_rooms_oldest_seconds", (("state", "starting"),))]
    ending = found[("peerprep_rooms_oldest_seconds", (("state", "ending"),))]
    assert 590 <= starting <= 700
    assert 410 <= ending <= 500
    assert found[("peerprep_pair_servers", (("state", "ready"),))] == 2
    assert found[("peerprep_pair_servers", (("state", "warming"),))] == 1
    assert found[("peerprep_pair_servers", (("state", "assigned"),))] == 0


async def test_a_room_becoming_active_records_its_readiness(make_service):
    """Seconds from the match to an active room, counted once, and only for a room that was
    still starting (one ended while it started never becomes active)."""
    service, client = await make_service()
    key = ("peerprep_room_ready_seconds_count", ())
    now = datetime.now(timezone.utc)
    with db.transaction(service.session_factory) as session:
        session.add(Question(id="two-sum"))
        session.flush()
        rooms = [
            Room(
                pair_user=f"pair-ready{i:06d}",
                question_id="two-sum",
                question_version=1,
                difficulty="easy",
                created=now - timedelta(seconds=3),
                state=state,
            )
            for i, state in enumerate(["starting", "ending"])
        ]
        session.add_all(rooms)
        session.flush()
        starting, ending = (r.id for r in rooms)
    before = await scrape(client)
    changed = [
        roomstate.mark_active(service.session_factory, room_id)
        for room_id in (starting, ending, starting)  # only the first finds a starting room
    ]
    assert changed == [True, False, False]
    after = await scrape(client)
    assert after[key] == before.get(key, 0) + 1
    seconds = after[("peerprep_room_ready_seconds_sum", ())] - before.get(
        ("peerprep_room_ready_seconds_sum", ()), 0
    )
    assert 2.5 <= seconds <= 5
