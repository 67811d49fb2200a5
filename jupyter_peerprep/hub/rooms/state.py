"""A room's state changes in the service database: each one short transaction, no I/O inside.

The room loop (``manager.py``) talks to the hub and to pair servers *between* these calls, never
while a transaction is open: a transaction held across a slow or dead server would hold
SQLite's write lock (or PostgreSQL row locks) and stall every other request of every student.

A **lease** (``Room.lease_owner`` / ``lease_expires``) says which service replica prepares or
ends a room now. Two replicas never both prepare one room (two pair servers, a second notebook
write over the students' edits) or both end it; the lease of a replica that died lapses and
another one (or the same one restarted: the owner is host and port) takes over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from ... import db
from ...db.models import Room, RoomMember, RoomState, utcnow
from ...questions.store import NotFound, load_spec
from .. import metrics

# What a room's end reason says when its pair server was gone (crashed, killed, drained).
SERVER_LOST = "server lost"


@dataclass(frozen=True)
class RoomFacts:
    """What the room loop needs to know about a room, read under its lease."""

    id: str
    state: str
    pair_user: str
    members: tuple[str, ...]
    ended: datetime | None
    ended_by: str
    end_reason: str
    snapshot: dict[str, Any] | None
    snapshot_at: datetime | None


def take_lease(
    factory: sessionmaker[Session], room_id: str, state: str, owner: str, seconds: float
) -> RoomFacts | None:
    """Lease the room in ``state`` to ``owner`` for ``seconds``; None if it is not in that
    state or another live replica holds it. One conditional UPDATE decides."""
    now = utcnow()
    with db.transaction(factory) as s:
        taken = s.execute(
            update(Room)
            .where(
                Room.id == room_id,
                Room.state == state,
                or_(
                    Room.lease_owner == "",
                    Room.lease_owner == owner,
                    Room.lease_expires.is_(None),
                    Room.lease_expires < now,
                ),
            )
            .values(lease_owner=owner, lease_expires=now + timedelta(seconds=seconds))
            .execution_options(synchronize_session=False)
        )
        if not taken.rowcount:  # type: ignore[attr-defined]
            return None
        room = s.get(Room, room_id)
        assert room is not None
        return RoomFacts(
            id=room.id,
            state=room.state,
            pair_user=room.pair_user,
            members=tuple(m.username for m in room.members),
            ended=room.ended,
            ended_by=room.ended_by,
            end_reason=room.end_reason,
            snapshot=room.final_notebook,
            snapshot_at=room.snapshot_at,
        )


def release_lease(factory: sessionmaker[Session], room_id: str, owner: str) -> None:
    with db.transaction(factory) as s:
        s.execute(
            update(Room)
            .where(Room.id == room_id, Room.lease_owner == owner)
            .values(lease_owner="", lease_expires=None)
            .execution_options(synchronize_session=False)
        )


def mark_active(factory: sessionmaker[Session], room_id: str) -> bool:
    """``starting`` -> ``active``, counting the seconds since the match in
    ``peerprep_room_ready_seconds``; False if the room left ``starting`` meanwhile (a student
    ended it while it started: the room loop ends it next, it must not come back to life)."""
    with db.transaction(factory) as s:
        now = utcnow()
        created = s.scalar(
            update(Room)
            .where(Room.id == room_id, Room.state == RoomState.starting.value)
            .values(state=RoomState.active.value, started=now, message="")
            .returning(Room.created)
            .execution_options(synchronize_session=False)
        )
    if created is None:
        return False
    metrics.ROOM_READY.observe(max(0.0, (now - created).total_seconds()))
    return True


def request_end(factory: sessionmaker[Session], room_id: str, *, by: str, reason: str) -> bool:
    """``starting``/``active`` -> ``ending``; True if this call changed it."""
    with db.transaction(factory) as s:
        result = s.execute(
            update(Room)
            .where(
                Room.id == room_id,
                Room.state.in_([RoomState.active.value, RoomState.starting.value]),
            )
            .values(state=RoomState.ending.value, ended_by=by, end_reason=reason, ended=utcnow())
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def fail_room(factory: sessionmaker[Session], room_id: str, message: str) -> bool:
    """A room that could not start: ``failed``, both students free to match again."""
    with db.transaction(factory) as s:
        room = s.get(Room, room_id)
        if room is None or room.state != RoomState.starting.value:
            return False
        room.state = RoomState.failed.value
        room.message = message
        room.ended = utcnow()
        room.end_reason = "failed"
        for m in room.members:
            m.active = False
        return True


def store_snapshot(
    factory: sessionmaker[Session], room_id: str, notebook: dict[str, Any], at: datetime
) -> None:
    """Keep the newest notebook read from a live room (the history if its server dies)."""
    with db.transaction(factory) as s:
        s.execute(
            update(Room)
            .where(
                Room.id == room_id,
                Room.state.in_([RoomState.active.value, RoomState.ending.value]),
            )
            .values(final_notebook=notebook, snapshot_at=at)
            .execution_options(synchronize_session=False)
        )


def mark_ended(
    factory: sessionmaker[Session],
    room_id: str,
    *,
    notebook: dict[str, Any] | None,
    lost_message: str | None,
) -> bool:
    """``ending`` -> ``ended`` with the final notebook; ``lost_message`` (the server was gone)
    sets the end reason to ``server lost`` and says what the history holds. True if it did."""
    with db.transaction(factory) as s:
        room = s.get(Room, room_id)
        if room is None or room.state != RoomState.ending.value:
            return False
        if notebook is not None:
            room.final_notebook = notebook
        if lost_message is not None:
            room.end_reason = SERVER_LOST
            room.message = lost_message
        room.state = RoomState.ended.value
        room.ended = room.ended or utcnow()
        room.lease_owner = ""
        room.lease_expires = None
        for m in room.members:
            m.active = False
        return True


def question_spec(factory: sessionmaker[Session], room_id: str) -> tuple[dict[str, Any], int]:
    """The room's question (spec, version), read in a session of its own."""
    with factory() as s:
        room = s.get(Room, room_id)
        if room is None:
            raise LookupError(f"room {room_id} is missing")
        try:
            return load_spec(s, room.question_id, room.question_version), room.question_version
        except NotFound:
            raise LookupError(f"the question of room {room_id} is missing") from None


def heartbeat(factory: sessionmaker[Session], room_id: str, username: str) -> bool:
    """Record that ``username`` has the room open now; False if they are not a member."""
    now = utcnow()
    with db.transaction(factory) as s:
        member = s.scalar(
            select(RoomMember).where(RoomMember.room_id == room_id, RoomMember.username == username)
        )
        if member is None:
            return False
        member.last_seen = now
        if member.joined is None:
            member.joined = now
        return True
