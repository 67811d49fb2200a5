"""Who may do what in a room: membership (one check, one answer) and the grading lock.

A room is seen only by its two members: anyone else is told there is no such room of theirs
(404), so a third user cannot even learn that a room exists. Runs also need the member to be
active in an active room (409 otherwise).

One run at a time per room: the "being graded" mark is ``Room.grading_since`` in the database,
claimed with a conditional UPDATE, so it holds across service replicas; a mark left by a
replica that died mid-run lapses after ``lapse_s`` seconds.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from tornado import web

from ... import db
from ...db.models import Room, RoomMember, RoomState, utcnow

log = logging.getLogger(__name__)


def not_yours(room_id: str) -> web.HTTPError:
    """The one answer to anyone who is not a member of ``room_id`` (or asks for no room)."""
    return web.HTTPError(404, f"No room {room_id!r} of yours.")


LIVE_STATES = (RoomState.starting.value, RoomState.active.value, RoomState.ending.value)


def live_room(session: Session, username: str) -> Room | None:
    """``username``'s room that is starting, active or ending, if any (the newest)."""
    return session.scalar(
        select(Room)
        .join(RoomMember)
        .where(RoomMember.username == username, Room.state.in_(LIVE_STATES))
        .order_by(Room.created.desc())
    )


def member_room(session: Session, room_id: str, username: str) -> Room:
    """The room ``room_id`` if ``username`` is one of its members, else ``not_yours``."""
    room = session.get(Room, room_id)
    if room is None or username not in {m.username for m in room.members}:
        raise not_yours(room_id)
    return room


def require_active(session: Session, room: Room, username: str) -> None:
    """409 unless ``room`` is active and ``username`` still active in it (runs need both)."""
    member = session.scalar(
        select(RoomMember).where(RoomMember.room_id == room.id, RoomMember.username == username)
    )
    if member is None or not member.active or room.state != RoomState.active.value:
        raise web.HTTPError(
            409,
            f"Room {room.id!r} is {room.state}; runs are only possible while the session "
            f"is active.",
        )


class GradingLock:
    """The per-room "a run is being graded" mark, shared by every service replica."""

    def __init__(self, factory: sessionmaker[Session], lapse_s: float) -> None:
        self.factory = factory
        self.lapse_s = lapse_s

    def claim(self, room_id: str) -> datetime | None:
        """Mark the room as being graded; None if a run already is (on any replica).

        One conditional UPDATE decides, so two requests cannot both win: on SQLite the write
        lock serialises them, on PostgreSQL the second re-checks the row after the first
        commits. A mark older than ``lapse_s`` was left by a replica that died mid-run and is
        taken over.
        """
        now = utcnow()
        with db.transaction(self.factory) as session:
            result = session.execute(
                update(Room)
                .where(
                    Room.id == room_id,
                    or_(
                        Room.grading_since.is_(None),
                        Room.grading_since < now - timedelta(seconds=self.lapse_s),
                    ),
                )
                .values(grading_since=now)
                .execution_options(synchronize_session=False)
            )
            claimed = bool(result.rowcount)  # type: ignore[attr-defined]
        return now if claimed else None

    def release(self, room_id: str, claim: datetime) -> None:
        """Clear this claim's mark (not a newer one that took over a lapsed mark of ours)."""
        try:
            with db.transaction(self.factory) as session:
                session.execute(
                    update(Room)
                    .where(Room.id == room_id, Room.grading_since == claim)
                    .values(grading_since=None)
                    .execution_options(synchronize_session=False)
                )
        except SQLAlchemyError as e:
            # Never hide the run's own outcome; the mark lapses by itself.
            log.error(
                "Room %s: could not clear its grading mark (%s); it lapses after %.0fs",
                room_id,
                e,
                self.lapse_s,
            )
