"""The batched writer: match requests written in groups, one transaction per group.

Requests that arrive while a batch is being written form the next batch (group commit). A
batch admits its requests (a retry of an earlier request, an open ticket or an active room in
the way, or a new ticket), reads what pairing needs with a handful of set-based statements,
pairs its new tickets with the waiting ones and with each other through the pure core, and
sends its profiles, rooms, members and tickets together (one round trip on PostgreSQL) before
claiming the waiting tickets it paired. See docs/explanation/matching.md.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ... import db
from ...db.models import Proficiency, Ticket, TicketState
from .. import metrics, profiles
from . import sql
from .core import Agreement, Waiting, plan
from .messages import NO_QUESTIONS, describe
from .requests import MatchError, MatchRequest
from .rooms import Lost, made_room_json
from .tickets import NewTicket, as_waiting, ts
from .views import ticket_view

if TYPE_CHECKING:
    from .engine import Matchmaker

Answer = tuple[dict[str, Any], bool]


@dataclass
class Request:
    """A POST /api/match waiting for the next batch."""

    username: str
    request: MatchRequest
    arrived: datetime
    future: asyncio.Future[Answer]


@dataclass
class Verdict:
    """What a batch does with one request: ``new`` ticket, ``same`` ticket again (a retry of
    its idempotency key), ``open`` ticket in the way (409), or ``refused`` with ``error``."""

    kind: str
    ticket: str | NewTicket = ""
    error: MatchError | None = None


@dataclass
class Person:
    """The profile columns the matcher reads."""

    display_name: str
    language: str
    proficiency: str
    rating: float


@dataclass
class BatchOutcome:
    """A written batch: an answer per request (or the error to raise), and the tickets whose
    streams to wake."""

    answers: list[Answer | BaseException] = field(default_factory=list)
    notify: list[str] = field(default_factory=list)

    def extend(self, other: BatchOutcome) -> None:
        self.answers += other.answers
        self.notify += other.notify


class BatchWriter:
    """Queues match requests and writes them batch by batch for ``mm`` (its settings, its
    clock, its room maker and its notifier)."""

    def __init__(self, mm: Matchmaker) -> None:
        self.mm = mm
        self._requests: list[Request] = []
        self._task: asyncio.Task[None] | None = None
        self._candidates_stmt: tuple[int, Any] | None = None

    async def enqueue(self, username: str, request: MatchRequest) -> Answer:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Answer] = loop.create_future()
        self._requests.append(Request(username, request, self.mm.clock(), future))
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._write_batches())
        return await future

    async def _write_batches(self) -> None:
        """Write queued requests batch by batch until none are left."""
        while self._requests:
            batch = self._requests[: self.mm.max_batch]
            del self._requests[: len(batch)]
            started = time.perf_counter()
            try:
                outcome = self._write_batch(batch)
            except Exception as e:
                self.mm.log.exception("Could not write %d match request(s)", len(batch))
                outcome = BatchOutcome(answers=[e] * len(batch))
            metrics.observe_match_batch(len(batch), time.perf_counter() - started)
            self.mm.notifier.notify(outcome.notify)
            for r, answer in zip(batch, outcome.answers, strict=True):
                if r.future.done():  # the client went away; its ticket stays, its lease ends
                    continue
                if isinstance(answer, BaseException):
                    r.future.set_exception(answer)
                else:
                    r.future.set_result(answer)
            # Let the requests that arrived while this batch was written join the next one.
            await asyncio.sleep(0)

    def _write_batch(self, batch: list[Request]) -> BatchOutcome:
        try:
            return self._transaction(batch)
        except (IntegrityError, Lost) as e:
            # A constraint refused the batch: a concurrent request of one of these students, in
            # another service process, got in first. Write the requests one by one, so that
            # each is answered as the winner's request would be and the others go ahead.
            if len(batch) > 1:
                self.mm.log.info(
                    "Batch of %d match requests refused (%s); one by one", len(batch), e
                )
                outcome = BatchOutcome()
                for r in batch:
                    outcome.extend(self._write_batch([r]))
                return outcome
            try:
                return self._transaction(batch)
            except (IntegrityError, Lost) as again:
                return BatchOutcome(answers=[again])

    def _transaction(self, batch: list[Request]) -> BatchOutcome:
        """Admit, insert, pair and answer ``batch`` in one transaction."""
        mm = self.mm
        now = mm.clock()
        outcome = BatchOutcome()
        with db.transaction(mm.session_factory) as s:
            mm.serialise(s)
            conn = s.connection()
            # Everything this batch writes is sent at the end, in one round trip.
            writes = sql.PendingWrites()
            fresh, verdicts = self._admit(s, batch, now)
            people = self._profiles(s, list(fresh.values()), now, writes)
            for t in fresh.values():
                language = t.language or people[t.username].language
                t.language = language if language in mm.languages else mm.languages[0]
            new = list(fresh.values())
            pool, names = (
                ([], {}) if not new else self._waiting(s, {t.language or "" for t in new}, now)
            )
            stored = {w.id for w in pool}
            drivers = {t.id for t in new}
            for t in new:
                person = people[t.username]
                pool.append(t.waiting(person.proficiency, person.rating))
                names[t.username] = person.display_name or t.username
            pairs: list[tuple[Waiting, Waiting, Agreement]] = []
            if drivers and len(pool) > 1:
                recent = mm.recent_partners(s, {w.username for w in pool if w.id in drivers}, now)
                pairs = plan(
                    pool,
                    ts(now),
                    mm.policy,
                    lambda a, b: frozenset((a, b)) in recent,
                    drivers=drivers,
                ).pairs
            made = mm._make_rooms(s, pairs, now, stored, writes)
            rooms: dict[str, dict[str, Any]] = {}
            for m in made:
                for me, other in ((m.a, m.b), (m.b, m.a)):
                    rooms[me.id] = made_room_json(
                        m, other.username, names[other.username], mm.room_url_template
                    )
                    if me.id in fresh:
                        fresh[me.id].matched(m.room_id, m.messages[me.id], now)
                outcome.notify += [m.a.id, m.b.id]
            unmade = {w.id for pair in pairs for w in pair[:2]} - set(rooms)
            for t in new:
                if t.id in unmade:
                    t.message = NO_QUESTIONS
            writes.insert(sql.TICKETS, [t.row() for t in new])
            writes.flush(conn)
            mm.room_maker.claim(conn, made, now, stored)
            for t in new:
                mm.log.info(
                    "Ticket %s opened: %s wants %s (%s)",
                    t.id,
                    t.username,
                    describe(t.difficulty, t.topics),
                    t.language,
                )
            for verdict in verdicts:
                outcome.answers.append(self._answer(s, verdict, rooms, now))
        return outcome

    def _admit(
        self, s: Session, batch: list[Request], now: datetime
    ) -> tuple[dict[str, NewTicket], list[Verdict]]:
        """Which requests open a ticket; the others are a retry of an earlier request (the same
        ticket again) or refused (409: an open ticket, an active room)."""
        held: dict[tuple[str, str], str] = {}
        open_: dict[str, str | NewTicket] = {}
        known = sql.students(
            s.connection(), {r.username for r in batch}, {r.request.idempotency_key for r in batch}
        )
        for tid, username, idempotency_key, state in known.tickets:
            held[(username, idempotency_key)] = tid
            if state == TicketState.waiting.value:
                open_[username] = tid
        in_room = known.rooms
        fresh: dict[str, NewTicket] = {}
        made_here: dict[tuple[str, str], NewTicket] = {}
        verdicts: list[Verdict] = []
        lease = timedelta(seconds=self.mm.lease_seconds)
        for r in batch:
            key = (r.username, r.request.idempotency_key)
            if key in made_here or key in held:
                verdicts.append(Verdict("same", made_here.get(key) or held[key]))
            elif r.username in open_:
                verdicts.append(Verdict("open", open_[r.username]))
            elif r.username in in_room:
                message = (
                    f"You are in room {in_room[r.username]}; end that session before "
                    "looking for a new partner."
                )
                verdicts.append(Verdict("refused", error=MatchError(409, message)))
            else:
                t = NewTicket.open(r.username, r.request, r.arrived, lease)
                t.profile = known.profiles.get(r.username)
                fresh[t.id] = made_here[key] = t
                open_[r.username] = t
                verdicts.append(Verdict("new", t))
        return fresh, verdicts

    def _profiles(
        self, s: Session, fresh: list[NewTicket], now: datetime, writes: sql.PendingWrites
    ) -> dict[str, Person]:
        """Profile columns of the students of ``fresh`` tickets (read on admission); missing
        profiles and refreshed ratings are queued in ``writes``."""
        if not fresh:
            return {}
        usernames = {t.username for t in fresh}
        names = sorted(usernames)
        rows = {t.username: t.profile for t in fresh if t.profile is not None}
        missing = [n for n in names if n not in rows]
        writes.insert(sql.PROFILES, [profiles.new_profile_values(n, now) for n in missing])
        # A new profile has no submits yet: only the others' ratings may need a refresh.
        ratings = dict.fromkeys(missing, profiles.INITIAL_RATING)
        ratings.update(profiles.compute_ratings(s, [n for n in names if n in rows]))
        stale = [
            {"u": n, "r": r}
            for n, r in ratings.items()
            if n in rows and abs(rows[n].rating - r) > 1e-9
        ]
        writes.execute(sql.SET_RATING, stale)
        out: dict[str, Person] = {}
        for n in usernames:
            row = rows.get(n)
            out[n] = Person(
                display_name=row.display_name if row else "",
                language=row.language if row else "python",
                proficiency=row.proficiency if row else Proficiency.beginner.value,
                rating=ratings[n],
            )
        return out

    def _waiting(
        self, s: Session, languages: set[str], now: datetime
    ) -> tuple[list[Waiting], dict[str, str]]:
        """The waiting tickets a batch may pair with (locked; see ``sql.waiting_candidates``),
        and the display names of their students."""
        pool: list[Waiting] = []
        names: dict[str, str] = {}
        for row in s.connection().execute(
            self._candidates(), {"now": now, "languages": sorted(languages)}
        ):
            pool.append(as_waiting(row, row.proficiency, row.rating))
            names[row.username] = row.display_name or row.username
        return pool, names

    def _candidates(self) -> Any:
        """The statement that reads (and locks) the waiting tickets a batch may pair with."""
        limit = self.mm.max_candidates
        if self._candidates_stmt is None or self._candidates_stmt[0] != limit:
            self._candidates_stmt = (limit, sql.waiting_candidates(limit))
        return self._candidates_stmt[1]

    def _answer(
        self, s: Session, verdict: Verdict, rooms: dict[str, dict[str, Any]], now: datetime
    ) -> Answer | MatchError:
        if verdict.error is not None:
            return verdict.error
        ticket = verdict.ticket
        if isinstance(ticket, NewTicket):
            body = ticket_view(ticket, now, rooms.get(ticket.id), self.mm.policy)
        else:
            body = self.mm.ticket_json(s, s.get_one(Ticket, ticket), now)
        if verdict.kind == "open":
            return MatchError(
                409,
                "You already have an open ticket; cancel it before asking for another match.",
                body,
            )
        return body, verdict.kind == "new"
