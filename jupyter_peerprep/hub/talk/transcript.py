"""A room's chat as part of the attempt: the chat file a room starts with, and its transcript.

The chat is a jupyterlab-chat document (``<room>/question.chat``, Yjs like the notebook). The
room loop copies it with the service's own access whenever it copies the notebook (every
``RoomManager.snapshot_interval``) and once more when the room ends, so a reload, a restarted
or lost pair server loses at most the last few seconds. History keeps a plain transcript:
who (as the chat document names them), when, and what, in order.

The document is shared by both students, so what a message says about its sender is what the
shared document says, no more: either student (or code in the room) could write any message
there, as they could write any line of the notebook. System messages are those whose sender
is ``SYSTEM_SENDER`` (written by the room's server, ``jupyter_peerprep/room_talk.py``).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from sqlalchemy.orm import Session, sessionmaker

from ... import db
from ...db.models import TalkTranscript, utcnow

# The chat document's user id of PeerPrep's own messages (joined, left, verdicts, reminders).
SYSTEM_SENDER = "peerprep"
SYSTEM_USER = {
    "username": SYSTEM_SENDER,
    "name": "PeerPrep",
    "display_name": "PeerPrep",
    "initials": "PP",
    "bot": True,
}

ServerRequest = Callable[..., Awaitable[Any]]


def initial_chat() -> str:
    """The chat file a room starts with: no messages, PeerPrep's own user known."""
    return json.dumps(
        {"messages": [], "users": {SYSTEM_SENDER: SYSTEM_USER}, "attachments": {}, "metadata": {}}
    )


async def write_chat_once(request: ServerRequest, pair_user: str, chat_file: str) -> None:
    """Create the room's chat beside the notebook unless it exists (a second preparation must
    never wipe what the students wrote)."""
    path = f"api/contents/{quote(chat_file)}"
    try:
        await request(pair_user, "GET", f"{path}?content=0")
        return
    except Exception as e:
        if getattr(e, "status", None) != 404:
            raise
    await request(
        pair_user, "PUT", path, {"type": "file", "format": "text", "content": initial_chat()}
    )


def transcript(chat_text: str) -> list[dict[str, Any]]:
    """The messages of a chat file, in order, as history shows them."""
    try:
        chat = json.loads(chat_text or "{}")
    except ValueError:
        return []
    if not isinstance(chat, dict):
        return []
    users: dict[str, Any] = chat["users"] if isinstance(chat.get("users"), dict) else {}
    out: list[dict[str, Any]] = []
    for message in chat.get("messages") or []:
        if not isinstance(message, dict) or message.get("deleted"):
            continue
        sender = str(message.get("sender") or "")
        user: dict[str, Any] = users[sender] if isinstance(users.get(sender), dict) else {}
        try:
            at = datetime.fromtimestamp(float(message.get("time") or 0), timezone.utc)
        except (TypeError, ValueError, OverflowError):
            at = datetime.fromtimestamp(0, timezone.utc)
        out.append(
            {
                "time": at.isoformat(),
                "sender": sender,
                "name": str(user.get("display_name") or user.get("name") or sender),
                "body": str(message.get("body") or ""),
                "system": sender == SYSTEM_SENDER,
            }
        )
    out.sort(key=lambda m: m["time"])
    return out


async def read_transcript(
    request: ServerRequest, pair_user: str, chat_file: str
) -> list[dict[str, Any]]:
    """The room's chat now: the live shared document through the room server's
    ``/peerprep/chat`` (``room_talk.py``), else the file (a server without that endpoint)."""
    try:
        model = await request(pair_user, "GET", "peerprep/chat")
    except Exception as e:
        if getattr(e, "status", None) != 404:
            raise
        model = await request(pair_user, "GET", f"api/contents/{quote(chat_file)}?content=1")
    return transcript(str((model or {}).get("content") or ""))


def store(factory: sessionmaker[Session], room_id: str, messages: list[dict[str, Any]]) -> None:
    """Keep the newest transcript of a room (never a shorter one over a longer one: a chat
    file lost with its server must not wipe the copy)."""
    with db.transaction(factory) as s:
        row = s.get(TalkTranscript, room_id)
        if row is None:
            s.add(TalkTranscript(room_id=room_id, messages=messages, saved_at=utcnow()))
        elif len(messages) >= len(row.messages or []):
            row.messages = messages
            row.saved_at = utcnow()


def saved(s: Session, room_id: str) -> list[dict[str, Any]]:
    """The transcript history shows for a room ([] when it had no chat)."""
    row = s.get(TalkTranscript, room_id)
    return list(row.messages) if row is not None else []
