"""One crashed room must never take PeerPrep down: pair servers killed with ``kill -9`` (idle,
mid-edit, during Submit, during End, while starting), and the room races of issue 12.

Every case runs on one real embedded hub (SQLite, sandboxed local servers) with a bystander
probing ``api/health`` and ``api/match`` while the fault is on: both must keep answering
without a 5xx, the affected room must end (or fail cleanly) and land in both histories, and no
attempt or run may be lost. Timing goals belong to ``benchmarks/faults.py``, not here.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time
from typing import Any

import pytest
import requests
from fault_support import assert_in_both_histories, assert_kept_answering, wait_snapshot_holds

from jupyter_peerprep.testing.faults import (
    Prober,
    ServiceCaller,
    hub_student,
    kill_hub_user_server,
    notebook_text,
    processes_of_server,
    save_code,
    wait_for,
    wait_state,
)
from jupyter_peerprep.testing.rooms import match_pair
from jupyter_peerprep.testing.ydoc import YClient

pytestmark = pytest.mark.slow

MARKER_CODE = "def pair_sum(nums, target):\n    return [0, 1]  # saved-before-the-crash\n"


def open_room(a: ServiceCaller, b: ServiceCaller, *, wait_active: bool = True) -> dict[str, Any]:
    return match_pair(a, b, wait_active=wait_active)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def people(fault_hub: Any) -> dict[str, ServiceCaller]:
    return {name: hub_student(fault_hub.url, name) for name in ("ann", "ben", "bystander")}


def both_free(people: dict[str, ServiceCaller]) -> None:
    """Neither student is held in a room: both may ask for a partner again."""
    for name in ("ann", "ben"):
        current = people[name]("GET", "rooms/current").json()["room"]
        assert current is None, current


def test_pair_server_killed_while_idle_ends_the_room_with_the_saved_code(fault_hub, people):
    room = open_room(people["ann"], people["ben"])
    save_code(people["ann"], room["pair_user"], MARKER_CODE)
    wait_snapshot_holds(people["ann"], room["id"], "saved-before-the-crash")
    with Prober(fault_hub.url, people["bystander"]) as prober:
        assert kill_hub_user_server(room["pair_user"]) > 0
        ended = wait_state(people["ben"], room["id"], {"ended"}, timeout=120)
    assert_kept_answering(prober)
    assert ended["end_reason"] == "server lost"
    item = assert_in_both_histories(people, room["id"], reason="server lost")
    assert "saved-before-the-crash" in notebook_text(item["final_notebook"])
    both_free(people)


def test_pair_server_killed_mid_edit_keeps_the_last_copy(fault_hub, people):
    room = open_room(people["ann"], people["ben"])
    server = f"{fault_hub.url}/user/{room['pair_user']}"
    typed: list[str] = []

    async def type_forever() -> None:
        async with YClient.connect(server, "question.ipynb", people["ann"].user.token()) as y:
            index = y.cell_index("def pair_sum")
            for n in range(10_000):
                word = f" w{n}"
                y.append_to_cell(index, word)
                typed.append(word)
                # Bursts with pauses, as people type: the room saves the file after a pause
                # (YDocExtension.document_save_delay), and PeerPrep copies the saved file.
                await asyncio.sleep(1.0 if n % 10 == 9 else 0.05)

    def editor() -> None:
        with contextlib.suppress(Exception):
            asyncio.run(type_forever())

    thread = threading.Thread(target=editor, daemon=True)
    thread.start()
    wait_for(lambda: len(typed) > 20, timeout=60, what="the student typing")
    wait_snapshot_holds(people["ann"], room["id"], " w5 ")
    with Prober(fault_hub.url, people["bystander"]) as prober:
        kill_hub_user_server(room["pair_user"])
        wait_state(people["ann"], room["id"], {"ended"}, timeout=120)
    thread.join(30)
    assert_kept_answering(prober)
    item = assert_in_both_histories(people, room["id"], reason="server lost")
    assert " w5 " in notebook_text(item["final_notebook"])  # what was typed and copied


def test_pair_server_killed_during_submit_keeps_the_run(fault_hub, people):
    room = open_room(people["ann"], people["ben"])
    slow = "import time\n\ndef pair_sum(nums, target):\n    time.sleep(0.4)\n    return [0, 1]\n"
    answers: list[Any] = []

    def submit() -> None:
        try:
            answers.append(
                people["ann"].user.server(
                    "POST",
                    f"peerprep/api/rooms/{room['id']}/runs",
                    owner=room["pair_user"],
                    json={"kind": "submit", "source": slow},
                    timeout=120,
                )
            )
        except requests.RequestException as e:
            answers.append(e)

    thread = threading.Thread(target=submit)
    with Prober(fault_hub.url, people["bystander"]) as prober:
        thread.start()
        time.sleep(0.8)  # the run is being graded now (each case sleeps)
        kill_hub_user_server(room["pair_user"])
        wait_state(people["ben"], room["id"], {"ended"}, timeout=120)
        thread.join(120)
    assert_kept_answering(prober)
    assert_in_both_histories(people, room["id"], reason="server lost")
    runs = wait_for(
        lambda: people["ben"]("GET", f"rooms/{room['id']}/runs").json()["runs"],
        timeout=60,
        what="the submitted run stored",
    )
    assert [(r["kind"], r["username"]) for r in runs] == [("submit", people["ann"].user.name)]


def test_pair_server_killed_during_end_still_ends_the_room(fault_hub, people):
    room = open_room(people["ann"], people["ben"])
    save_code(people["ben"], room["pair_user"], MARKER_CODE)
    wait_snapshot_holds(people["ben"], room["id"], "saved-before-the-crash")
    with Prober(fault_hub.url, people["bystander"]) as prober:
        ended = people["ann"]("POST", f"rooms/{room['id']}/end")
        assert ended.status_code == 200, ended.text
        kill_hub_user_server(room["pair_user"])
        final = wait_state(people["ben"], room["id"], {"ended"}, timeout=120)
    assert_kept_answering(prober)
    assert final["ended_by"] == people["ann"].user.name
    item = assert_in_both_histories(people, room["id"])
    assert "saved-before-the-crash" in notebook_text(item["final_notebook"])
    both_free(people)


def test_pair_server_killed_while_starting_frees_both_students(fault_hub, people):
    with Prober(fault_hub.url, people["bystander"]) as prober:
        room = open_room(people["ann"], people["ben"], wait_active=False)
        assert room["state"] == "starting"
        wait_for(lambda: processes_of_server(room["pair_user"]), timeout=60, what="spawn begun")
        kill_hub_user_server(room["pair_user"])
        done = wait_state(people["ann"], room["id"], {"failed", "ended"}, timeout=180)
    assert_kept_answering(prober)
    assert done["message"]  # says what happened
    both_free(people)


def test_ending_a_room_while_it_starts_ends_it(fault_hub, people):
    """Issue 12 race: an End while the room is starting must win (the preparation must not
    set the room active again)."""
    room = open_room(people["ann"], people["ben"], wait_active=False)
    assert room["state"] == "starting"
    ended = people["ann"]("POST", f"rooms/{room['id']}/end")
    assert ended.status_code == 200 and ended.json()["state"] == "ending", ended.text
    final = wait_state(people["ben"], room["id"], {"ended", "active"}, timeout=180)
    assert final["state"] == "ended", final
    both_free(people)
    hub_user = people["ann"].user.hub_api("GET", f"users/{room['pair_user']}")
    assert hub_user.status_code in (403, 404)  # the pair user is gone


def test_a_second_preparation_never_overwrites_the_students_edits(fault_hub, people):
    """Issue 12 race: a room prepared again (a replica or a restart half-way) must not write
    the student notebook over what the students wrote."""
    room = open_room(people["ann"], people["ben"])
    save_code(people["ann"], room["pair_user"], MARKER_CODE)
    with sqlite3.connect(fault_hub.database, timeout=30) as conn:
        conn.execute("UPDATE rooms SET state = 'starting' WHERE id = ?", (room["id"],))
    wait_state(people["ann"], room["id"], {"active"}, timeout=60)
    saved = people["ben"].user.server("GET", "api/contents/question.ipynb", owner=room["pair_user"])
    assert saved.status_code == 200
    assert "saved-before-the-crash" in notebook_text(saved.json()["content"])
    assert people["ann"]("POST", f"rooms/{room['id']}/end").status_code == 200
    wait_state(people["ann"], room["id"], {"ended"})
