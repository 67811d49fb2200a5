"""Matching through a real JupyterHub: logged-in students reach the service through the relay
of their own JupyterLab servers, as the lobby does. Two compatible students are matched and
both event streams say so; a third waits, relaxes and times out."""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any
from urllib.parse import quote

import pytest

pytestmark = pytest.mark.slow

SERVICE_CONFIG = """
c.Matchmaker.topic_relax_after = 1.0
c.Matchmaker.difficulty_relax_after = 2.0
c.Matchmaker.timeout_after = 3.0
c.Matchmaker.tick_interval = 0.2
c.RoomManager.warm_pool_size = 0
"""


@pytest.fixture(scope="module")
def fast_hub(make_hub, tmp_path_factory):
    config = tmp_path_factory.mktemp("matching") / "peerprep_config.py"
    config.write_text(SERVICE_CONFIG)
    return make_hub(extra_env={"PEERPREP_SERVICE_CONFIG": str(config)})


def user(hub, prefix):
    from jupyter_peerprep.testing.hubclient import HubUser

    u = HubUser(hub.url, f"{prefix}{uuid.uuid4().hex[:6]}")
    u.signup()
    u.login()
    return u


def follow(student, ticket_id: str, out: list[tuple[str, dict[str, Any]]]) -> None:
    """Read the ticket's event stream through the relay until it ends."""
    response = student.server(
        "GET",
        f"peerprep/api/match/{ticket_id}/events",
        headers={"Accept": "text/event-stream"},
        stream=True,
        timeout=60,
    )
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/event-stream")
    name = None
    for line in response.iter_lines(decode_unicode=True):
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: ") and name:
            out.append((name, json.loads(line[6:])))
            if name in ("matched", "timed_out", "cancelled"):
                break
    response.close()


def test_two_match_and_a_third_relaxes_then_times_out(fast_hub):
    alice, bob, carol = (user(fast_hub, p) for p in ("alice", "bob", "carol"))
    for s in (alice, bob, carol):
        response = s.hub_api("POST", f"users/{quote(s.name)}/server")
        assert response.status_code in (201, 202), response.text
    for s in (alice, bob, carol):
        s.wait_ready(180)

    ask = {"difficulty": "easy", "topics": ["arrays"], "idempotency_key": "first"}
    a = alice.peerprep("POST", "match", json=ask)
    assert a.status_code == 201, a.text
    alice_events: list[tuple[str, dict[str, Any]]] = []
    reader = threading.Thread(target=follow, args=(alice, a.json()["id"], alice_events))
    reader.start()
    b = bob.peerprep("POST", "match", json=ask)
    assert b.status_code == 201, b.text
    bob_events: list[tuple[str, dict[str, Any]]] = []
    follow(bob, b.json()["id"], bob_events)
    reader.join(30)
    assert alice_events[0][0] == "waiting"
    assert alice_events[-1][0] == "matched" and bob_events[-1][0] == "matched"
    room_a, room_b = alice_events[-1][1]["room"], bob_events[-1][1]["room"]
    assert room_a["id"] == room_b["id"]
    assert room_a["partner"]["name"] == bob.name and room_b["partner"]["name"] == alice.name

    c = carol.peerprep("POST", "match", json={"difficulty": "hard", "topics": ["graphs"]})
    assert c.status_code == 201, c.text
    carol_events: list[tuple[str, dict[str, Any]]] = []
    follow(carol, c.json()["id"], carol_events)
    names = [name for name, _ in carol_events]
    assert names[0] == "waiting" and names[-1] == "timed_out"
    levels = [data["relax_level"] for _, data in carol_events]
    assert levels == sorted(levels) and {1, 2} <= set(levels)
    assert "Try again" in carol_events[-1][1]["message"]
    # Alice, in a room now, cannot queue again; the 409 names the room.
    again = alice.peerprep("POST", "match", json={**ask, "idempotency_key": "second"})
    assert again.status_code == 409 and room_a["id"] in again.json()["message"]
