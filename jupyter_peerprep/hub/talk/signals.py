"""The signalling mailbox of a room's call: messages from one member to the other.

WebRTC needs the two browsers to swap an offer, an answer and their ICE candidates before
media flows peer to peer. PeerPrep carries those messages itself (never a public service):
each is a database row addressed to the partner, read by the partner's long poll and
deleted once the partner acknowledges it (reads ``after`` its id). Rows are rows so that any
service replica can serve either student; a replica wakes its own waiting readers at once and
the others notice within ``TalkSettings.signal_poll_seconds``. A room's rows go when it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from ... import db
from ...db.models import TalkSignal, utcnow


class MailboxFull(Exception):
    """The sender has too many messages the partner has not read."""


class Mailbox:
    """Posts and long-polled reads of signalling messages, for one service process."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory
        self._waiters: dict[tuple[str, str], set[asyncio.Event]] = defaultdict(set)

    def post(
        self, room_id: str, sender: str, recipient: str, payload: dict[str, Any], limit: int
    ) -> int:
        with db.transaction(self.factory) as s:
            pending = s.scalar(
                select(func.count(TalkSignal.id)).where(
                    TalkSignal.room_id == room_id, TalkSignal.sender == sender
                )
            )
            if (pending or 0) >= limit:
                raise MailboxFull(
                    f"{pending} signalling messages are waiting for your partner to read; "
                    "wait until their browser catches up (or reload the room)."
                )
            row = TalkSignal(
                room_id=room_id,
                sender=sender,
                recipient=recipient,
                payload=payload,
                created=utcnow(),
            )
            s.add(row)
            s.flush()
            message_id = int(row.id)
        for event in self._waiters.get((room_id, recipient), ()):
            event.set()
        return message_id

    def unread(self, room_id: str, recipient: str, after: int) -> list[dict[str, Any]]:
        """Messages for ``recipient`` newer than ``after``; those up to ``after`` are read
        (acknowledged by this request) and deleted."""
        with db.transaction(self.factory) as s:
            if after > 0:
                s.execute(
                    delete(TalkSignal)
                    .where(
                        TalkSignal.room_id == room_id,
                        TalkSignal.recipient == recipient,
                        TalkSignal.id <= after,
                    )
                    .execution_options(synchronize_session=False)
                )
            rows = s.scalars(
                select(TalkSignal)
                .where(
                    TalkSignal.room_id == room_id,
                    TalkSignal.recipient == recipient,
                    TalkSignal.id > after,
                )
                .order_by(TalkSignal.id)
                .limit(100)
            ).all()
            return [{"id": r.id, "from": r.sender, "payload": r.payload} for r in rows]

    async def wait(
        self, room_id: str, recipient: str, after: int, timeout: float, poll: float
    ) -> list[dict[str, Any]]:
        """``unread``, waiting up to ``timeout`` seconds for a first message."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        event = asyncio.Event()
        key = (room_id, recipient)
        self._waiters[key].add(event)
        try:
            while True:
                event.clear()
                messages = self.unread(room_id, recipient, after)
                left = deadline - loop.time()
                if messages or left <= 0:
                    return messages
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(event.wait(), min(left, poll))
        finally:
            self._waiters[key].discard(event)
            if not self._waiters[key]:
                del self._waiters[key]

    def clear(self, room_id: str) -> None:
        """Forget a room's messages (it ended)."""
        with db.transaction(self.factory) as s:
            s.execute(
                delete(TalkSignal)
                .where(TalkSignal.room_id == room_id)
                .execution_options(synchronize_session=False)
            )
