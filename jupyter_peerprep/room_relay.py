"""What the relay of a pair server forwards: the room's own actions, and nothing else.

Script running in a room's page (both students share the server's origin) could call the
room's relay with the other student's session. So on a pair server the relay forwards only
what the room panel calls there (``labextension/src/components/room.tsx``): who am I, the
service's health, the caller's current room, and for the room of this server its state,
heartbeat, end, runs (run and submit) and its call's signalling. History, profiles,
questions and matching are refused with a 403 that sends the student to their own JupyterLab
(docs/explanation/security.md, "The room relay").
"""

from __future__ import annotations

import re

ROOM_ID = r"(?P<room>[0-9a-f]{32})"

# (method, path pattern relative to /services/peerprep/api/): what the room panel calls.
ROOM_ACTIONS: list[tuple[str, re.Pattern[str]]] = [
    (method, re.compile(pattern))
    for method, pattern in (
        ("GET", r"me"),
        ("GET", r"health"),
        ("GET", r"rooms/current"),
        ("GET", rf"rooms/{ROOM_ID}"),
        ("POST", rf"rooms/{ROOM_ID}/heartbeat"),
        ("POST", rf"rooms/{ROOM_ID}/end"),
        ("GET", rf"rooms/{ROOM_ID}/runs"),
        ("POST", rf"rooms/{ROOM_ID}/runs"),
        ("GET", rf"rooms/{ROOM_ID}/pastes"),  # the session record's paste flags
        # The call (room_talk.py, hub/talk/): its configuration and signalling.
        ("GET", rf"rooms/{ROOM_ID}/talk"),
        ("GET", rf"rooms/{ROOM_ID}/signal"),
        ("POST", rf"rooms/{ROOM_ID}/signal"),
    )
]

NOT_A_ROOM_ACTION = (
    "This is a room's server: PeerPrep here only does the room's own actions (the room, its "
    "runs, Submit, End). Open your own JupyterLab from the hub for your history, profile, "
    "questions and matching."
)


def not_this_room(room_id: str) -> str:
    return (
        f"Room {room_id} is not the room of this server: a room's server acts for its own room "
        "only. Open your own JupyterLab from the hub for your other rooms."
    )


class NotARoomAction(Exception):
    """The call is not one of the room's own actions."""


def room_action(method: str, path: str) -> str | None:
    """The room id a room action names (None for one that names none, like ``me``).

    Raises ``NotARoomAction`` for anything else.
    """
    for allowed, pattern in ROOM_ACTIONS:
        found = pattern.fullmatch(path)
        if found and method == allowed:
            return found.groupdict().get("room")
    raise NotARoomAction(f"{method} {path}")
