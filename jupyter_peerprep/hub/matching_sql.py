"""The SQL statements of the matcher's hot path, built once.

``Matchmaker`` (``matching.py``) writes match requests in batches; each batch runs the
statements below on the session's connection. They are SQLAlchemy Core statements on the
tables of ``models.py``, built at import time with expanding bind parameters for the lists,
so that every batch reuses one compiled form instead of building (and compiling) a new
statement and paying the ORM's per-statement overhead: at a thousand requests a second that
overhead, not the database, was most of the cost.

Every statement takes its values as bind parameters named in its comment.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Select,
    Table,
    and_,
    bindparam,
    func,
    or_,
    select,
    update,
)

from ..db.models import Profile, Room, RoomMember, Ticket, TicketState

TICKETS = cast(Table, Ticket.__table__)
PROFILES = cast(Table, Profile.__table__)
ROOMS = cast(Table, Room.__table__)
MEMBERS = cast(Table, RoomMember.__table__)

WAITING = TicketState.waiting.value

# PostgreSQL only: wait until no other matching transaction runs (released at commit).
MATCHING_LOCK_KEY = 0x5065_6572_5072_6570  # "PeerPrep"
SERIALISE_MATCHING = select(func.pg_advisory_xact_lock(MATCHING_LOCK_KEY))

# names, keys: the tickets of these students that are open, or carry one of these keys.
HELD_TICKETS = select(
    TICKETS.c.id, TICKETS.c.username, TICKETS.c.idempotency_key, TICKETS.c.state
).where(
    TICKETS.c.username.in_(bindparam("names", expanding=True)),
    or_(
        TICKETS.c.state == WAITING,
        TICKETS.c.idempotency_key.in_(bindparam("keys", expanding=True)),
    ),
)

# names: who of these students is in an active room, and which.
ACTIVE_ROOMS = select(MEMBERS.c.username, MEMBERS.c.room_id).where(
    MEMBERS.c.active.is_(True), MEMBERS.c.username.in_(bindparam("names", expanding=True))
)

# names: the profile columns the matcher reads.
MATCH_PROFILES = select(
    PROFILES.c.username,
    PROFILES.c.display_name,
    PROFILES.c.language,
    PROFILES.c.proficiency,
    PROFILES.c.rating,
).where(PROFILES.c.username.in_(bindparam("names", expanding=True)))

# u, r (executemany): store a refreshed rating.
SET_RATING = (
    update(PROFILES).where(PROFILES.c.username == bindparam("u")).values(rating=bindparam("r"))
)


def waiting_candidates(limit: int) -> Select[Any]:
    """now, languages: the oldest ``limit`` waiting tickets with a live lease, locked for this
    transaction (others' locked rows skipped), with their students' profile columns."""
    return (
        select(
            TICKETS.c.id,
            TICKETS.c.username,
            TICKETS.c.difficulty,
            TICKETS.c.topics,
            TICKETS.c.language,
            TICKETS.c.created,
            PROFILES.c.proficiency,
            PROFILES.c.rating,
            PROFILES.c.display_name,
        )
        .select_from(TICKETS.outerjoin(PROFILES, PROFILES.c.username == TICKETS.c.username))
        .where(
            TICKETS.c.state == WAITING,
            TICKETS.c.lease_expires >= bindparam("now"),
            TICKETS.c.language.in_(bindparam("languages", expanding=True)),
        )
        .order_by(TICKETS.c.created)
        .limit(limit)
        .with_for_update(of=TICKETS, skip_locked=True)
    )


_m1, _m2 = MEMBERS.alias("m1"), MEMBERS.alias("m2")
# names, since: (student, partner) of every room since ``since`` of one of these students.
RECENT_PARTNERS = (
    select(_m1.c.username, _m2.c.username)
    .select_from(
        _m1.join(_m2, and_(_m2.c.room_id == _m1.c.room_id, _m2.c.username != _m1.c.username)).join(
            ROOMS, ROOMS.c.id == _m1.c.room_id
        )
    )
    .where(
        _m1.c.username.in_(bindparam("names", expanding=True)),
        ROOMS.c.created >= bindparam("since"),
    )
)

# names: (student, question id) of every room these students were in.
ATTEMPTED = (
    select(MEMBERS.c.username, ROOMS.c.question_id)
    .select_from(MEMBERS.join(ROOMS, ROOMS.c.id == MEMBERS.c.room_id))
    .where(MEMBERS.c.username.in_(bindparam("names", expanding=True)))
)


# tid, rid, msg, at (executemany): claim a waiting ticket for a room.
CLAIM = (
    update(TICKETS)
    .where(TICKETS.c.id == bindparam("tid"), TICKETS.c.state == WAITING)
    .values(
        state=TicketState.matched.value,
        room_id=bindparam("rid"),
        updated=bindparam("at"),
        message=bindparam("msg"),
    )
)

# One executemany INSERT per table (psycopg sends the rows in one pipeline; both drivers
# reuse one prepared statement).
INSERT = {t.name: t.insert() for t in (TICKETS, PROFILES, ROOMS, MEMBERS)}


def insert_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table``."""
    if rows:
        conn.execute(INSERT[table.name], list(rows))


def claim(conn: Connection, rooms: dict[str, str], messages: dict[str, str], at: datetime) -> int:
    """Mark the tickets ``rooms`` (ticket id -> room id) matched, with their ``messages``, if
    they are still waiting; how many were."""
    if not rooms:
        return 0
    params = [{"tid": t, "rid": r, "msg": messages[t], "at": at} for t, r in rooms.items()]
    return int(conn.execute(CLAIM, params).rowcount)
