"""The SQL statements of the matcher, built once, and the reads every path shares.

The batched writer (``writer.py``), the tick (``ticks.py``) and room creation (``rooms.py``)
run the statements below on the session's connection. They are SQLAlchemy Core statements on the
tables of ``models.py``, built at import time with expanding bind parameters for the lists,
so that every batch reuses one compiled form instead of building (and compiling) a new
statement and paying the ORM's per-statement overhead: at a thousand requests a second that
overhead, not the database, was most of the cost.

Every statement takes its values as bind parameters named in its comment.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
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

from ..models import Profile, Room, RoomMember, Ticket, TicketState

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


def active_rooms(conn: Connection, usernames: Collection[str]) -> dict[str, str]:
    """The active room of each of ``usernames`` who is in one (student -> room id): the one
    "already in a room" check of the matcher."""
    if not usernames:
        return {}
    return dict(conn.execute(ACTIVE_ROOMS, {"names": sorted(set(usernames))}).all())


def profiles(conn: Connection, usernames: Collection[str]) -> dict[str, Any]:
    """The profile columns the matcher reads (display name, language, proficiency, rating),
    by student; students without a profile are missing."""
    if not usernames:
        return {}
    rows = conn.execute(MATCH_PROFILES, {"names": sorted(set(usernames))})
    return {row.username: row for row in rows}


def recent_partners(
    conn: Connection, usernames: Collection[str], since: datetime
) -> set[frozenset[str]]:
    """The pairs made since ``since`` that involve one of ``usernames``."""
    if not usernames:
        return set()
    rows = conn.execute(RECENT_PARTNERS, {"names": sorted(set(usernames)), "since": since})
    return {frozenset(r) for r in rows}


def attempted(conn: Connection, usernames: Collection[str]) -> dict[str, list[str]]:
    """The questions of every room each of ``usernames`` was in."""
    out: dict[str, list[str]] = {}
    for username, qid in conn.execute(ATTEMPTED, {"names": sorted(set(usernames))}):
        out.setdefault(username, []).append(qid)
    return out
