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

from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

import psycopg
from sqlalchemy import (
    Connection,
    Executable,
    Select,
    Table,
    and_,
    bindparam,
    func,
    literal_column,
    null,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy import cast as cast_
from sqlalchemy.exc import IntegrityError

from ...db.models import Profile, Room, RoomMember, Ticket, TicketState

TICKETS = cast(Table, Ticket.__table__)
PROFILES = cast(Table, Profile.__table__)
ROOMS = cast(Table, Room.__table__)
MEMBERS = cast(Table, RoomMember.__table__)

WAITING = TicketState.waiting.value

# PostgreSQL only: wait until no other matching transaction runs (released at commit).
MATCHING_LOCK_KEY = 0x5065_6572_5072_6570  # "PeerPrep"
SERIALISE_MATCHING = select(func.pg_advisory_xact_lock(MATCHING_LOCK_KEY))
# The same, and this transaction's commit does not wait for its WAL to reach the disk
# (``Matchmaker.synchronous_commit = False``); in the same round trip.
SERIALISE_MATCHING_ASYNC_COMMIT = select(
    func.pg_advisory_xact_lock(MATCHING_LOCK_KEY),
    func.set_config("synchronous_commit", "off", True),
)

_NAMES: Any = bindparam("names", expanding=True)
# names, keys: what the matcher checks of these students, in one read (one round trip):
# "t" rows: (id, idempotency key, state) of their open tickets and of those with one of these
# keys; "r" rows: (room id) of their active rooms; "p" rows: (display name, language,
# proficiency, rating) of their profiles.
STUDENTS = union_all(
    select(
        literal_column("'t'").label("kind"),
        TICKETS.c.username,
        TICKETS.c.id.label("a"),
        TICKETS.c.idempotency_key.label("b"),
        TICKETS.c.state.label("c"),
        cast_(null(), PROFILES.c.rating.type).label("rating"),
    ).where(
        TICKETS.c.username.in_(_NAMES),
        or_(
            TICKETS.c.state == WAITING,
            TICKETS.c.idempotency_key.in_(bindparam("keys", expanding=True)),
        ),
    ),
    select(
        literal_column("'r'"),
        MEMBERS.c.username,
        MEMBERS.c.room_id,
        null(),
        null(),
        cast_(null(), PROFILES.c.rating.type),
    ).where(MEMBERS.c.active.is_(True), MEMBERS.c.username.in_(_NAMES)),
    select(
        literal_column("'p'"),
        PROFILES.c.username,
        PROFILES.c.display_name,
        PROFILES.c.language,
        PROFILES.c.proficiency,
        PROFILES.c.rating,
    ).where(PROFILES.c.username.in_(_NAMES)),
)


@dataclass(frozen=True)
class StoredProfile:
    """The profile columns the matcher reads."""

    display_name: str
    language: str
    proficiency: str
    rating: float


@dataclass
class Students:
    """What the database holds of some students: their tickets (open, or with one of the keys
    asked about) as (id, username, idempotency key, state), their active rooms (student ->
    room id; the matcher's one "already in a room" check) and their profiles."""

    tickets: list[tuple[str, str, str, str]] = field(default_factory=list)
    rooms: dict[str, str] = field(default_factory=dict)
    profiles: dict[str, StoredProfile] = field(default_factory=dict)


def students(conn: Connection, usernames: Collection[str], keys: Collection[str] = ()) -> Students:
    """Read what the matcher checks of ``usernames`` (and their tickets with ``keys``)."""
    out = Students()
    if not usernames:
        return out
    params = {"names": sorted(set(usernames)), "keys": sorted(set(keys))}
    for kind, username, a, b, c, rating in conn.execute(STUDENTS, params):
        if kind == "t":
            out.tickets.append((a, username, b, c))
        elif kind == "r":
            out.rooms[username] = a
        else:
            out.profiles[username] = StoredProfile(a, b, c, rating)
    return out


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
# reuse one prepared statement); ``PendingWrites`` sends several in one round trip.
INSERT = {t.name: t.insert() for t in (TICKETS, PROFILES, ROOMS, MEMBERS)}


@contextmanager
def pipelined(conn: Connection) -> Iterator[None]:
    """On PostgreSQL, send the statements executed inside to the server without waiting for
    each answer, in one round trip (psycopg's pipeline mode); elsewhere, run them as usual.
    Only for statements whose results are not read: row counts are not known inside."""
    raw = conn.connection.driver_connection
    if conn.dialect.name != "postgresql" or not isinstance(raw, psycopg.Connection):
        yield
        return
    try:
        with raw.pipeline():
            yield
    except psycopg.IntegrityError as e:
        # Raised as it would be outside the pipeline, so callers handle a refusal one way.
        raise IntegrityError("pipelined writes", None, e) from e


class PendingWrites:
    """Inserts and updates a matching transaction holds back until it has decided everything,
    then sends together (``pipelined``): one round trip for all of them on PostgreSQL."""

    def __init__(self) -> None:
        self._items: list[tuple[Executable, list[dict[str, Any]]]] = []

    def insert(self, table: Table, rows: Sequence[dict[str, Any]]) -> None:
        self.execute(INSERT[table.name], rows)

    def execute(self, statement: Executable, rows: Sequence[dict[str, Any]]) -> None:
        """Queue ``statement`` once per row of ``rows`` (executemany)."""
        if rows:
            self._items.append((statement, list(rows)))

    def flush(self, conn: Connection) -> None:
        items, self._items = self._items, []
        if len(items) == 1:
            conn.execute(*items[0])
        elif items:
            with pipelined(conn):
                for statement, rows in items:
                    conn.execute(statement, rows)


def claim(conn: Connection, rooms: dict[str, str], messages: dict[str, str], at: datetime) -> int:
    """Mark the tickets ``rooms`` (ticket id -> room id) matched, with their ``messages``, if
    they are still waiting; how many were."""
    if not rooms:
        return 0
    params = [{"tid": t, "rid": r, "msg": messages[t], "at": at} for t, r in rooms.items()]
    return int(conn.execute(CLAIM, params).rowcount)


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
