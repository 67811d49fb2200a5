"""Helpers of the fault suite: the service configuration its hubs share (one small question,
cold rooms, quick room checks) and waiting for the question bank."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from jupyter_peerprep.testing.faults import Prober, ServiceCaller, notebook_text, wait_for

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent / "questions"))
from question_notebooks import build_notebook  # noqa: E402


def write_service_config(directory: Path, extra: str = "") -> Path:
    bank = directory / "bank"
    bank.mkdir(exist_ok=True)
    (bank / "pair-sum-demo.ipynb").write_text(json.dumps(build_notebook()))
    config = directory / "peerprep_config.py"
    config.write_text(
        f"c.QuestionBank.bank_dirs = [{str(bank)!r}]\n"
        # Cold rooms: a room stays "starting" for seconds, so faults can hit it then.
        "c.RoomManager.warm_pool_size = 0\n"
        "c.RoomManager.idle_timeout = 0\n"
        "c.RoomManager.snapshot_interval = 1.0\n"
        "c.RoomManager.server_lost_after = 3.0\n"
        # Tickets of different topics stay apart for the suite's length.
        "c.Matchmaker.topic_relax_after = 600\n"
        "c.Matchmaker.difficulty_relax_after = 900\n"
        "c.Matchmaker.timeout_after = 1200\n" + extra
    )
    return config


def wait_for_questions_of(caller: ServiceCaller) -> None:
    wait_for(
        lambda: caller("GET", "questions").json().get("questions"),
        timeout=120,
        what="the question bank loaded",
    )


def assert_kept_answering(prober: Prober) -> None:
    """The rest of PeerPrep answered every probe while the fault was on: health 200 and a
    match request opened, never a 5xx or no answer at all."""
    assert prober.health.statuses and prober.match.statuses
    assert prober.health.failures == [], prober.health.statuses
    assert prober.match.failures == [], prober.match.statuses
    assert set(prober.health.statuses) == {200}, prober.health.statuses
    assert set(prober.match.statuses) <= {200, 201}, prober.match.statuses


def assert_in_both_histories(
    people: dict[str, ServiceCaller], room_id: str, *, reason: str | None = None
) -> dict[str, Any]:
    """The room's attempt is in ann's and ben's history, each other's partner, with a
    notebook (and ``reason`` as end reason); returns ben's history item."""
    item: dict[str, Any] = {}
    for me, partner in (("ann", "ben"), ("ben", "ann")):
        attempts = people[me]("GET", "history").json()["attempts"]
        mine = [a for a in attempts if a["room_id"] == room_id]
        assert len(mine) == 1, attempts
        assert mine[0]["partner"]["name"] == people[partner].user.name
        if reason is not None:
            assert mine[0]["end_reason"] == reason, mine[0]
            assert mine[0]["end_message"], mine[0]  # says what happened
        item = people[me]("GET", f"history/{room_id}").json()
        assert item["final_notebook"], "the attempt has no notebook"
    return item


def wait_snapshot_holds(caller: ServiceCaller, room_id: str, text: str) -> None:
    """PeerPrep has copied the room's notebook with ``text`` in it (the history's fallback)."""
    wait_for(
        lambda: text in notebook_text(caller("GET", f"history/{room_id}").json()["final_notebook"]),
        timeout=60,
        what=f"a snapshot of room {room_id} holding {text!r}",
    )
