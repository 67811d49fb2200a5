"""Talk's pure parts: TURN credentials coturn accepts, settings that explain a bad value, the
chat's system messages from what the room relay sees, and the transcript history shows."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from traitlets import TraitError

from jupyter_peerprep.hub.talk.settings import TalkSettings
from jupyter_peerprep.hub.talk.transcript import SYSTEM_SENDER, initial_chat, transcript
from jupyter_peerprep.room_talk import RoomChatEvents

ROOM = "0123456789abcdef0123456789abcdef"


def test_turn_credentials_follow_coturns_rest_api():
    talk = TalkSettings(
        stun_urls=["stun:turn.example.edu:3478"],
        turn_urls=["turns:turn.example.edu:443?transport=tcp"],
        turn_secret="s3cret",
        turn_credential_seconds=600,
    )
    user, password = talk.turn_credential("ann", now=1_000_000)
    assert user == "1000600:ann"
    expected = hmac.new(b"s3cret", b"1000600:ann", hashlib.sha1).digest()
    assert password == base64.b64encode(expected).decode()
    rtc = talk.rtc_configuration("ann")
    assert rtc["iceServers"][0] == {"urls": ["stun:turn.example.edu:3478"]}
    assert rtc["iceServers"][1]["urls"] == ["turns:turn.example.edu:443?transport=tcp"]
    assert "s3cret" not in json.dumps(rtc)  # the secret never leaves the service


def test_no_turn_without_its_secret_and_no_servers_by_default():
    assert TalkSettings().rtc_configuration("ann") == {
        "iceServers": [],
        "iceTransportPolicy": "all",
    }
    assert (
        TalkSettings(turn_urls=["turn:t.example.edu"]).rtc_configuration("ann")["iceServers"] == []
    )


@pytest.mark.parametrize(
    ("trait", "value", "hint"),
    [("turn_urls", ["stun:x"], "stun_urls"), ("stun_urls", ["turn:x"], "turn_urls")],
)
def test_misplaced_ice_urls_say_where_they_belong(trait, value, hint):
    with pytest.raises(TraitError, match=hint):
        TalkSettings(**{trait: value})


def room(state="active", elapsed=10.0, online=("ann",), **extra):
    return json.dumps(
        {
            "id": ROOM,
            "state": state,
            "elapsed_s": elapsed,
            "members": [
                {"name": n, "display_name": n.title(), "online": n in online}
                for n in ("ann", "ben")
            ],
            **extra,
        }
    ).encode()


def test_system_messages_for_joining_leaving_reminders_and_the_end():
    events = RoomChatEvents([15, 30])
    get = ("GET", f"rooms/{ROOM}", 200)
    assert events.messages(*get, room()) == ["Ann joined the room."]
    assert events.messages(*get, room()) == []  # said once
    assert events.messages(*get, room(online=("ann", "ben"))) == ["Ben joined the room."]
    assert events.messages(*get, room(online=("ben",), elapsed=15 * 60 + 1)) == [
        "Ann left the room.",
        "15 minutes into the session.",
    ]
    assert events.messages(*get, room(online=("ben",), elapsed=16 * 60)) == []
    ended = events.messages(
        "POST", f"rooms/{ROOM}/end", 200, room(state="ending", online=("ben",), ended_by="ben")
    )
    assert ended == [
        "The session is ending (ended by Ben). The notebook and this chat are saved to "
        "both histories."
    ]


def test_system_messages_for_runs_and_nothing_for_the_rest():
    events = RoomChatEvents([])
    run = {"id": "r1", "kind": "submit", "username": "ben", "verdict": "accepted"}
    body = json.dumps({**run, "passed": 5, "total": 5}).encode()
    assert events.messages("POST", f"rooms/{ROOM}/runs", 201, body) == [
        "ben submitted: accepted, 5/5 passed."
    ]
    assert events.messages("POST", f"rooms/{ROOM}/runs", 200, body) == []  # a retried run
    assert events.messages("POST", f"rooms/{ROOM}/runs", 429, b"{}") == []
    assert events.messages("GET", "history", 200, b"{}") == []
    assert events.messages("GET", f"rooms/{ROOM}/signal", 200, b'{"messages": []}') == []


def test_transcript_in_order_with_names_and_system_lines():
    chat = json.loads(initial_chat())
    chat["users"]["ann"] = {"username": "ann", "display_name": "Ann A."}
    chat["messages"] = [
        {"id": "2", "sender": SYSTEM_SENDER, "body": "Ann joined the room.", "time": 20.0},
        {"id": "1", "sender": "ann", "body": "hi\n```py\nx = 1\n```", "time": 10.0},
        {"id": "3", "sender": "ann", "body": "gone", "time": 30.0, "deleted": True},
    ]
    lines = transcript(json.dumps(chat))
    assert [(line["name"], line["body"], line["system"]) for line in lines] == [
        ("Ann A.", "hi\n```py\nx = 1\n```", False),
        ("PeerPrep", "Ann joined the room.", True),
    ]
    assert transcript("not json") == [] and transcript("[]") == []
