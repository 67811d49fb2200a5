"""What the room loop (``hub/rooms.py``) does for talk, in three calls: create the chat when a
room is prepared, copy its transcript with every notebook copy, forget the call's signalling
messages when the room ends."""

from __future__ import annotations

from typing import Any

from . import transcript
from .settings import talk_settings
from .signals import Mailbox


def mailbox(service: Any) -> Mailbox:
    """The service's signalling mailbox (one per process, shared by its handlers)."""
    box: Mailbox | None = getattr(service, "_talk_mailbox", None)
    if box is None:
        box = Mailbox(service.session_factory)
        service._talk_mailbox = box
    return box


def _chat_file(rooms: Any) -> str:
    return talk_settings(rooms.parent or rooms).chat_file


async def on_prepare(rooms: Any, room_id: str, pair_user: str) -> None:
    """Write the room's chat beside its notebook (once)."""
    await transcript.write_chat_once(rooms.server_request, pair_user, _chat_file(rooms))


async def on_copy(rooms: Any, room_id: str, pair_user: str) -> None:
    """Copy the chat transcript of a live (or ending) room; a failure only logs: the notebook
    copy beside it decides whether the server is gone."""
    try:
        messages = await transcript.read_transcript(
            rooms.server_request, pair_user, _chat_file(rooms)
        )
    except Exception as e:
        rooms.log.warning("Rooms: room %s: chat not copied: %s", room_id, e)
        return
    transcript.store(rooms.session_factory, room_id, messages)


def on_ended(rooms: Any, room_id: str) -> None:
    """The call is over: its unread signalling messages go."""
    Mailbox(rooms.session_factory).clear(room_id)
