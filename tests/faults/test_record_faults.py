"""Nothing lost: the session record and the notebook reach the service while the room runs,
so a pair server killed with SIGKILL mid-session leaves the history with the last edits."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any

import pytest
from fault_support import assert_in_both_histories

from jupyter_peerprep.testing.faults import (
    ServiceCaller,
    hub_student,
    kill_hub_user_server,
    notebook_text,
    wait_for,
    wait_state,
)
from jupyter_peerprep.testing.rooms import match_pair
from jupyter_peerprep.testing.ydoc import YClient

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def people(fault_hub: Any) -> dict[str, ServiceCaller]:
    return {name: hub_student(fault_hub.url, name) for name in ("ann", "ben")}


def recorded_sources(caller: ServiceCaller, room_id: str) -> str:
    answer = caller("GET", f"history/{room_id}/record")
    return "\n".join(answer.json().get("final_sources", [])) if answer.status_code == 200 else ""


def test_pair_server_killed_mid_typing_leaves_the_last_edits_in_history(fault_hub, people):
    ann = people["ann"]
    room = match_pair(ann, people["ben"])  # type: ignore[arg-type]
    server = f"{fault_hub.url}/user/{room['pair_user']}"
    typed: list[str] = []
    stop = threading.Event()

    async def type_without_pause() -> None:
        # Never a pause: the room never saves its file, so only the record has these words.
        async with YClient.connect(server, "question.ipynb", ann.user.token()) as y:
            index = y.cell_index("def pair_sum")
            n = 0
            while not stop.is_set():
                word = f" k{n}k"
                y.append_to_cell(index, word)
                typed.append(word)
                n += 1
                await asyncio.sleep(0.05)

    def editor() -> None:
        with contextlib.suppress(Exception):
            asyncio.run(type_without_pause())

    thread = threading.Thread(target=editor, daemon=True)
    thread.start()
    wait_for(lambda: len(typed) > 40, timeout=60, what="the student typing")
    stop.set()  # the last edit: the kill comes as soon as the service has it
    thread.join(30)
    last = typed[-1]
    wait_for(
        lambda: last in recorded_sources(ann, room["id"]),
        timeout=30,
        what=f"the record holding the last word {last!r}",
    )
    assert kill_hub_user_server(room["pair_user"]) > 0
    wait_state(ann, room["id"], {"ended"}, timeout=120)

    item = assert_in_both_histories(people, room["id"], reason="server lost")
    assert last in notebook_text(item["final_notebook"])
    assert all(word in recorded_sources(ann, room["id"]) for word in typed)
