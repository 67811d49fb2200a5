"""Talk in a room on a real hub: the chat document between the two students (pycrdt clients
through the hub's proxy and the pair server), its transcript in both histories, and the
call's signalling, refused to anyone but the two members."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from jupyter_peerprep.testing.hubclient import HubUser
from jupyter_peerprep.testing.rooms import match_pair, new_student
from jupyter_peerprep.testing.ychat import ChatClient

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

# Seconds a server may take to start: generous, the test machines are shared.
SPAWN_S = 300.0


def in_room(user, room: dict, method: str, path: str, **kwargs):
    """Call the PeerPrep API through the room's own server, as the room panel does."""
    return user.server(method, f"peerprep/api/{path}", owner=room["pair_user"], **kwargs)


def _history(user, room_id: str, timeout: float = 90.0) -> dict:
    deadline = time.monotonic() + timeout
    item: dict = {}
    while time.monotonic() < deadline:
        response = user.peerprep("GET", f"history/{room_id}")
        if response.status_code == 200 and (item := response.json())["state"] == "ended":
            return item
        time.sleep(0.5)
    raise AssertionError(f"room {room_id} not ended in {user.name}'s history: {item}")


async def _chat(server: str, a, b, room: dict) -> None:
    async with (
        ChatClient.connect_chat(server, "question.chat", a.token()) as ann,
        ChatClient.connect_chat(server, "question.chat", b.token()) as ben,
    ):
        ann.say(a.name, "Shall we try a hash map?\n```python\nseen = {}\n```")
        await ben.wait_for_body("hash map")
        ben.say(b.name, "Yes, one pass.")
        await ann.wait_for_body("one pass")
        # The room's server writes what happens into the chat: a student joining.
        beat = in_room(a, room, "POST", f"rooms/{room['id']}/heartbeat", json={})
        assert beat.status_code == 200, beat.text
        await ben.wait_for_body(f"{a.name} joined the room.")
        # Ann ends the session at once, both still in the room: nothing typed is lost.
        ended = in_room(a, room, "POST", f"rooms/{room['id']}/end", json={})
        assert ended.status_code == 200, ended.text


def test_talk_between_exactly_the_two_students(room_hub):
    a = new_student(room_hub.url, "ann", spawn_timeout=SPAWN_S)
    b = new_student(room_hub.url, "ben", spawn_timeout=SPAWN_S)
    room = match_pair(a, b, room_timeout=SPAWN_S)
    rid, pair = room["id"], room["pair_user"]
    # Each member learns the call's configuration and the partner's name.
    talk = in_room(a, room, "GET", f"rooms/{rid}/talk").json()
    assert talk["partner"] == b.name and talk["chat_path"] == "question.chat"
    assert "iceServers" in talk["rtc"]
    # An offer from one member reaches the other, and only the other.
    offer = {"type": "offer", "sdp": {"type": "offer", "sdp": "v=0\r\n"}}
    sent = in_room(a, room, "POST", f"rooms/{rid}/signal", json={"payload": offer})
    assert sent.status_code == 201, sent.text
    got = in_room(b, room, "GET", f"rooms/{rid}/signal?after=0").json()["messages"]
    assert [(m["from"], m["payload"]) for m in got] == [(a.name, offer)]
    assert in_room(a, room, "GET", f"rooms/{rid}/signal?after=0&wait=0").json()["messages"] == []
    # Reading after an id acknowledges it: it is not delivered again.
    again = in_room(b, room, "GET", f"rooms/{rid}/signal?after={got[-1]['id']}&wait=0").json()
    assert again["messages"] == []
    # Bad input is named.
    bad = a.peerprep("POST", f"rooms/{rid}/signal", json={"payload": {"type": "shell"}})
    assert bad.status_code == 400 and "type" in bad.json()["message"]
    # A third user: refused by the pair server (not shared with them) and by the service.
    carol = HubUser(room_hub.url, f"carol{uuid.uuid4().hex[:6]}")
    carol.signup()
    carol.login()
    assert (
        carol.server("POST", f"peerprep/api/rooms/{rid}/signal", owner=pair, json={}).status_code
        == 403
    )
    for method, path in (("GET", "talk"), ("GET", "signal?after=0"), ("POST", "signal")):
        response = carol.session.request(
            method,
            f"{room_hub.url}/services/peerprep/api/rooms/{rid}/{path}",
            headers={"Authorization": f"token {carol.token()}"},
            json={"payload": offer},
        )
        assert response.status_code == 403, (method, path, response.text)
        assert "not a member" in response.json()["message"]
    # A member's browser session without the XSRF token cannot send (cookie auth).
    a.session.get(f"{room_hub.url}/user/{pair}/lab", allow_redirects=True)
    cookie_read = a.session.get(f"{room_hub.url}/user/{pair}/peerprep/api/rooms/{rid}/talk")
    assert cookie_read.status_code == 200, cookie_read.text  # the cookie does authenticate
    forged = a.session.post(
        f"{room_hub.url}/user/{pair}/peerprep/api/rooms/{rid}/signal", json={"payload": offer}
    )
    assert forged.status_code == 403

    # The chat: a message from one student reaches the other through the pair server.
    asyncio.run(_chat(f"{room_hub.url}/user/{pair}", a, b, room))
    # The transcript is in both histories (Ann ended the session with both still there).
    for user in (a, b):
        chat = _history(user, rid)["chat"]
        said = [(line["sender"], line["body"]) for line in chat if not line["system"]]
        assert (a.name, "Shall we try a hash map?\n```python\nseen = {}\n```") in said
        assert (b.name, "Yes, one pass.") in said
        assert any(line["system"] and "joined the room" in line["body"] for line in chat)
    # After End the call is over: signalling is refused.
    after = a.peerprep("POST", f"rooms/{rid}/signal", json={"payload": offer})
    assert after.status_code == 409, after.text
