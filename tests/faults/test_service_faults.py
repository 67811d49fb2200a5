"""Faults of the service and around it, on the suite's embedded hub: a grader that hangs, a
full disk under the service database, the PeerPrep service killed with ``kill -9`` mid-batch
and mid-End, and (last: it restarts the hub) the whole hub killed while rooms run.

For each: what still works while the fault is on, that the affected room ends or recovers,
and that no attempt, ticket or run is lost. Timing goals belong to ``benchmarks/faults.py``.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import uuid
from typing import Any

import pytest
import requests
from fault_support import assert_kept_answering

from jupyter_peerprep.testing.faults import (
    Prober,
    ServiceCaller,
    fill_disk,
    hub_student,
    kill_hub,
    kill_service,
    notebook_text,
    save_code,
    wait_for,
    wait_state,
)
from jupyter_peerprep.testing.rooms import match_pair

pytestmark = pytest.mark.slow

CODE = "def pair_sum(nums, target):\n    return [0, 1]  # kept-through-the-fault\n"
RIGHT = (
    "def pair_sum(nums, target):\n    seen = {}\n    for i, v in enumerate(nums):\n"
    "        if target - v in seen:\n            return [seen[target - v], i]\n"
    "        seen[v] = i\n    return []\n"
)


@pytest.fixture(scope="module")
def people(fault_hub: Any) -> dict[str, ServiceCaller]:
    return {name: hub_student(fault_hub.url, name) for name in ("cat", "dan", "eve")}


def test_a_hanging_grader_costs_one_run_not_the_service(fault_hub, people):
    room = match_pair(people["cat"], people["dan"])
    runs = f"rooms/{room['id']}/runs"
    fault_hub.grader_hangs.touch()
    try:
        with Prober(fault_hub.url, people["eve"]) as prober:
            hung = people["cat"]("POST", runs, json={"kind": "run", "source": RIGHT}, timeout=120)
    finally:
        fault_hub.grader_hangs.unlink()
    assert_kept_answering(prober)
    # The hung run is answered (killed at the grader's wall clock) and kept, never lost.
    assert hung.status_code == 201, hung.text
    assert hung.json()["passed"] < hung.json()["total"]
    # The room is not stuck: the next run is graded as usual.
    again = people["dan"]("POST", runs, json={"kind": "run", "source": RIGHT}, timeout=120)
    assert again.status_code == 201 and again.json()["verdict"] == "passed", again.text
    kept = people["dan"]("GET", runs).json()["runs"]
    assert [r["id"] for r in kept] == [again.json()["id"], hung.json()["id"]]
    assert people["cat"]("POST", f"rooms/{room['id']}/end").status_code == 200
    wait_state(people["cat"], room["id"], {"ended"})


def test_a_full_disk_refuses_writes_cleanly_and_loses_nothing(fault_hub, people):
    room = match_pair(people["cat"], people["dan"])
    waiter = hub_student(fault_hub.url, "waiter")
    before = waiter(
        "POST",
        "match",
        json={"difficulty": "easy", "topics": ["graphs"], "idempotency_key": uuid.uuid4().hex},
    )
    assert before.status_code == 201, before.text
    filler = fill_disk(fault_hub.disk)
    answers: list[requests.Response] = []
    try:
        with Prober(
            fault_hub.url, people["eve"], match_body={"difficulty": "medium", "topics": ["trees"]}
        ) as prober:
            for _ in range(5):
                answers.append(people["cat"]("POST", f"rooms/{room['id']}/heartbeat"))
    finally:
        filler.unlink()
    # Health kept answering 200; writes were either done or refused with a JSON 503 that
    # says what is wrong, never a bare 500 or a hang.
    assert prober.health.statuses and set(prober.health.statuses) == {200}
    for status in prober.match.statuses + [a.status_code for a in answers]:
        assert status in (200, 201, 503), status
    for response in answers:
        if response.status_code == 503:
            assert "disk is full" in response.json()["message"]
    # Space again: everything works, and the ticket opened before the fault is still there.
    again = waiter("GET", f"match/{before.json()['id']}")
    assert again.status_code == 200 and again.json()["state"] == "waiting", again.text
    assert waiter("DELETE", f"match/{before.json()['id']}").status_code == 200
    assert people["cat"]("POST", f"rooms/{room['id']}/end").status_code == 200
    wait_state(people["dan"], room["id"], {"ended"})


def retry_until_answered(caller: ServiceCaller, body: dict[str, Any]) -> requests.Response:
    """POST a match request again (same idempotency key) until the service answers it."""
    return wait_for(
        lambda: (r := caller("POST", "match", json=body)).status_code in (200, 201) and r,
        timeout=120,
        interval=0.5,
        what=f"match request of {caller.name} answered",
    )


def test_service_killed_mid_batch_loses_no_ticket(fault_hub):
    topics = ["strings", "trees", "graphs", "heaps", "greedy", "math"]
    students = [hub_student(fault_hub.url, "batch") for _ in topics]
    bodies = [
        {"difficulty": "medium", "topics": [t], "idempotency_key": uuid.uuid4().hex} for t in topics
    ]
    first: dict[str, requests.Response | None] = {}
    start = threading.Barrier(len(students) + 1)

    def ask(caller: ServiceCaller, body: dict[str, Any]) -> None:
        start.wait()
        try:
            first[caller.name] = caller("POST", "match", json=body)
        except requests.RequestException:
            first[caller.name] = None

    threads = [
        threading.Thread(target=ask, args=pair) for pair in zip(students, bodies, strict=True)
    ]
    for t in threads:
        t.start()
    start.wait()
    kill_service(fault_hub.hub.state_dir)
    for t in threads:
        t.join(60)
    # The hub restarts the service; every request is answered, retried with its key.
    final = {s.name: retry_until_answered(s, b) for s, b in zip(students, bodies, strict=True)}
    database = sqlite3.connect(fault_hub.database, timeout=30)
    with contextlib.closing(database):
        for student in students:
            answered = first.get(student.name)
            ticket = final[student.name].json()
            if answered is not None and answered.status_code in (200, 201):
                # Acknowledged before the kill: the very same ticket, never a second one.
                assert answered.json()["id"] == ticket["id"]
            (count,) = database.execute(
                "SELECT count(*) FROM tickets WHERE username = ?", (student.name,)
            ).fetchone()
            assert count == 1, student.name
            assert ticket["state"] == "waiting"
            assert student("DELETE", f"match/{ticket['id']}").status_code == 200


def test_service_killed_mid_end_finishes_the_end(fault_hub, people):
    room = match_pair(people["cat"], people["dan"])
    save_code(people["dan"], room["pair_user"], CODE)
    assert people["cat"]("POST", f"rooms/{room['id']}/end").status_code == 200
    kill_service(fault_hub.hub.state_dir)
    # The hub restarts the service, which takes the End up where it was.
    ended = wait_state(people["dan"], room["id"], {"ended"}, timeout=180)
    assert ended["ended_by"] == people["cat"].name
    for me in ("cat", "dan"):
        item = people[me]("GET", f"history/{room['id']}").json()
        assert "kept-through-the-fault" in notebook_text(item["final_notebook"])


def test_hub_killed_while_rooms_run_ends_them_cleanly_on_the_next_start(fault_hub, people):
    """Last in the suite: kills the whole embedded tier (hub, proxy, service, servers) like a
    crashed machine, then starts the hub again on the same state."""
    room = match_pair(people["cat"], people["dan"])
    save_code(people["cat"], room["pair_user"], CODE)
    wait_for(
        lambda: (
            "kept-through-the-fault"
            in notebook_text(people["cat"]("GET", f"history/{room['id']}").json()["final_notebook"])
        ),
        timeout=60,
        what="a snapshot of the room",
    )
    waiting = people["eve"](
        "POST",
        "match",
        json={"difficulty": "hard", "topics": ["matrix"], "idempotency_key": uuid.uuid4().hex},
    )
    assert waiting.status_code == 201, waiting.text
    hub = fault_hub.hub
    kill_hub(hub)
    hub.start(timeout=120)
    # The room whose server died with the machine ends, with the copy PeerPrep took.
    ended = wait_state(people["dan"], room["id"], {"ended"}, timeout=180)
    assert ended["end_reason"] == "server lost"
    for me in ("cat", "dan"):
        item = people[me]("GET", f"history/{room['id']}").json()
        assert "kept-through-the-fault" in notebook_text(item["final_notebook"])
        assert item["end_message"]
    # The ticket that waited before the crash still waits.
    still = people["eve"]("GET", f"match/{waiting.json()['id']}")
    assert still.status_code == 200 and still.json()["state"] == "waiting", still.text
    assert people["eve"]("DELETE", f"match/{waiting.json()['id']}").status_code == 200
