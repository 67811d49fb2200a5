"""Nothing blocks the event loop: a locked database costs one request a quick, explained 503,
never a 30-second stall of every request; the loop's lag and failed rooms are on /metrics."""

from __future__ import annotations

import asyncio
import json
import sqlite3

from jupyter_peerprep.hub import metrics


async def test_a_locked_database_is_a_quick_503_and_the_rest_keeps_answering(
    make_service, sqlite_url
):
    _, client = await make_service(db_url=sqlite_url, db_lock_timeout=0.2)
    path = sqlite_url.removeprefix("sqlite:///")
    holder = sqlite3.connect(path, isolation_level=None, timeout=5)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        body = {"difficulty": "easy", "topics": ["arrays"], "idempotency_key": "k1"}
        match, health = await asyncio.gather(
            client.fetch("api/match", user="alice", method="POST", body=body),
            client.fetch("api/health", user=None),
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert match.code == 503
    answer = json.loads(match.body)
    assert answer["status"] == 503 and "busy" in answer["message"]
    assert match.headers["Retry-After"]
    assert health.code == 200  # reading never waits for the writer (WAL)
    # The lock released, the same request (same idempotency key) goes through.
    again = await client.fetch("api/match", user="alice", method="POST", body=body)
    assert again.code == 201, again.body


async def test_loop_lag_and_failed_rooms_are_on_metrics_from_the_start(make_service):
    _, client = await make_service(loop_lag_interval=0.05)
    await asyncio.sleep(0.3)  # a few lag measurements
    text = (await client.fetch("metrics", user=None)).body.decode()
    count = next(
        line
        for line in text.splitlines()
        if line.startswith("peerprep_event_loop_lag_seconds_count")
    )
    assert float(count.split()[-1]) >= 1
    for reason in metrics.ROOM_FAILURE_REASONS:
        assert f'peerprep_rooms_failed_total{{reason="{reason}"}}' in text
