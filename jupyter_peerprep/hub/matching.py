"""The matching engine: who is paired with whom, on which question, and when tickets relax.

Two layers:

- a pure core (``Policy``, ``Waiting``, ``relax_level``, ``agreement``, ``choose_partner``,
  ``plan``, ``choose_question``) that decides pairs from waiting tickets and a clock, with no
  I/O, so that it can be tested exhaustively (``tests/matching``) and run a million times in
  ``benchmarks/matching.py`` (``InMemoryEngine``);
- ``Matchmaker``, the configurable that keeps tickets in the service database and claims two
  tickets plus creates the ``Room`` and both ``RoomMember`` rows in one transaction.

Relaxation levels, by time waited: 0 exact (difficulty + a shared topic + language); 1 after
``topic_relax_after`` any topic; 2 after ``difficulty_relax_after`` also a neighbouring
difficulty; at ``timeout_after`` the ticket times out with a message saying what to try.

Throughput: match requests are written in batches, one transaction per batch (group commit).
While a batch is being written, new requests queue up and form the next batch, which reads
what it needs with a handful of set-based statements (open tickets and rooms of its students,
their profiles, the waiting tickets, recent partners, attempted questions), pairs its new
tickets with the waiting ones and with each other through the pure core, and inserts
tickets, rooms and members with one statement each. Matched new tickets are inserted already
matched, so a ticket that finds a partner at once is never visible as waiting.

Safety across several service processes on one PostgreSQL: matching transactions (batches and
ticks) take one transaction-scoped advisory lock first, so they run one at a time across all
processes and each sees every ticket the previous one committed (on SQLite, ``BEGIN
IMMEDIATE`` in ``db/engine.py`` serialises every writer the same way). Within one, the waiting
tickets it may claim are locked with ``FOR UPDATE SKIP LOCKED``, so a ticket is claimed only by
the transaction holding its row lock (a student cancelling it at that moment holds it too),
and only while it is still ``waiting``. The partial unique indexes (one waiting ticket, one
active room per user) are the last line of defence: a batch they refuse is written again
request by request.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from traitlets import Float, Integer, List, TraitError, Unicode, default, validate
from traitlets.config import LoggingConfigurable

from .. import db
from ..db.models import (
    Proficiency,
    Profile,
    Question,
    QuestionVersion,
    Room,
    RoomMember,
    RoomState,
    Ticket,
    TicketState,
    new_id,
    utcnow,
)
from ..questions.vocabulary import DIFFICULTIES, LANGUAGES, TOPICS
from . import matching_sql as sql
from . import metrics, profiles

EXACT, TOPIC_DROPPED, NEIGHBOUR_DIFFICULTY, TIMED_OUT = 0, 1, 2, 3
PROFICIENCIES: tuple[str, ...] = tuple(p.value for p in Proficiency)
TERMINAL_STATES = frozenset(
    {TicketState.matched.value, TicketState.cancelled.value, TicketState.timed_out.value}
)

# ---------------------------------------------------------------------------------------------
# Pure core
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """When tickets relax and time out (seconds), and how long a recent partner is avoided."""

    topic_relax_after: float = 30.0
    difficulty_relax_after: float = 75.0
    timeout_after: float = 180.0
    rematch_cooldown: float = 3600.0

    def __post_init__(self) -> None:
        if not 0 <= self.topic_relax_after <= self.difficulty_relax_after <= self.timeout_after:
            raise ValueError(
                "Matching times must satisfy 0 <= topic_relax_after <= difficulty_relax_after "
                f"<= timeout_after, got {self.topic_relax_after}, "
                f"{self.difficulty_relax_after}, {self.timeout_after}"
            )


@dataclass(frozen=True)
class Waiting:
    """A waiting ticket as the core sees it (``created`` in seconds since the epoch)."""

    id: str
    username: str
    difficulty: str
    topics: tuple[str, ...]
    language: str
    created: float
    proficiency: str = Proficiency.beginner.value
    rating: float = 1000.0


@dataclass(frozen=True)
class Agreement:
    """What two tickets agree on: the difficulty, the acceptable topics, how relaxed it is."""

    difficulty: str
    topics: tuple[str, ...]
    relax: int  # the lowest relaxation level both tickets needed to reach for this pair


@dataclass
class Plan:
    """What one tick decides: pairs to create, tickets to time out, relaxation changes."""

    pairs: list[tuple[Waiting, Waiting, Agreement]] = field(default_factory=list)
    timed_out: list[Waiting] = field(default_factory=list)
    levels: dict[str, int] = field(default_factory=dict)


def relax_level(waited: float, policy: Policy) -> int:
    """The relaxation level of a ticket that has waited ``waited`` seconds (3 = timed out)."""
    if waited >= policy.timeout_after:
        return TIMED_OUT
    if waited >= policy.difficulty_relax_after:
        return NEIGHBOUR_DIFFICULTY
    if waited >= policy.topic_relax_after:
        return TOPIC_DROPPED
    return EXACT


def allowed_difficulties(difficulty: str, level: int) -> tuple[str, ...]:
    if level < NEIGHBOUR_DIFFICULTY or difficulty not in DIFFICULTIES:
        return (difficulty,)
    i = DIFFICULTIES.index(difficulty)
    return DIFFICULTIES[max(0, i - 1) : i + 2]


def criteria(difficulty: str, topics: Sequence[str], level: int) -> dict[str, Any]:
    """The criteria a ticket accepts at ``level`` (``topics`` None = any topic)."""
    return {
        "difficulties": list(allowed_difficulties(difficulty, level)),
        "topics": None if level >= TOPIC_DROPPED else list(topics),
    }


def agreement(a: Waiting, b: Waiting, level_a: int, level_b: int) -> Agreement | None:
    """What ``a`` (at ``level_a``) and ``b`` (at ``level_b``) both accept, or None."""
    if a.username == b.username or a.language != b.language:
        return None
    if level_a >= TIMED_OUT or level_b >= TIMED_OUT:
        return None
    da = allowed_difficulties(a.difficulty, level_a)
    db_ = allowed_difficulties(b.difficulty, level_b)
    shared = [d for d in DIFFICULTIES if d in da and d in db_]
    if not shared:
        return None
    # Prefer a difficulty both asked for, then one either asked for, then the easier.
    difficulty = min(
        shared,
        key=lambda d: (-(d == a.difficulty) - (d == b.difficulty), DIFFICULTIES.index(d)),
    )
    common = tuple(sorted(set(a.topics) & set(b.topics)))
    if common:
        topics, topic_relax = common, EXACT
    elif level_a >= TOPIC_DROPPED and level_b >= TOPIC_DROPPED:
        topics, topic_relax = tuple(sorted(set(a.topics) | set(b.topics))), TOPIC_DROPPED
    elif level_a >= TOPIC_DROPPED:
        topics, topic_relax = tuple(b.topics), TOPIC_DROPPED
    elif level_b >= TOPIC_DROPPED:
        topics, topic_relax = tuple(a.topics), TOPIC_DROPPED
    else:
        return None
    relax = topic_relax
    if difficulty != a.difficulty or difficulty != b.difficulty:
        relax = NEIGHBOUR_DIFFICULTY
    return Agreement(difficulty=difficulty, topics=topics, relax=relax)


def _proficiency_gap(a: Waiting, b: Waiting) -> int:
    try:
        return abs(PROFICIENCIES.index(a.proficiency) - PROFICIENCIES.index(b.proficiency))
    except ValueError:
        return 1


def choose_partner(
    ticket: Waiting,
    candidates: Iterable[Waiting],
    now: float,
    policy: Policy,
    recently_met: Callable[[str, str], bool] = lambda a, b: False,
) -> tuple[Waiting, Agreement] | None:
    """The best partner for ``ticket`` among ``candidates``, with what they agree on.

    Preference, in order: not met within the rematch cooldown; the least relaxed agreement;
    close self-rated proficiency; close rating (100-point bands); first come, first served.
    """
    level = relax_level(now - ticket.created, policy)
    if level >= TIMED_OUT:
        return None
    best: tuple[tuple[Any, ...], Waiting, Agreement] | None = None
    for other in candidates:
        if other.id == ticket.id:
            continue
        found = agreement(ticket, other, level, relax_level(now - other.created, policy))
        if found is None:
            continue
        key = (
            recently_met(ticket.username, other.username),
            found.relax,
            _proficiency_gap(ticket, other),
            int(abs(ticket.rating - other.rating) // 100),
            other.created,
            other.id,
        )
        if best is None or key < best[0]:
            best = (key, other, found)
    return None if best is None else (best[1], best[2])


def plan(
    tickets: Iterable[Waiting],
    now: float,
    policy: Policy,
    recently_met: Callable[[str, str], bool] = lambda a, b: False,
    drivers: set[str] | None = None,
) -> Plan:
    """Decide one tick: time out, relax, then pair greedily in first-come order.

    With ``drivers``, only those tickets look for partners (among everyone): the ones whose
    level just changed or that are new; pairs of the others were already ruled out at their
    current levels, so looking again would only cost time (O(n^2) on a long queue).
    """
    result = Plan()
    open_: list[Waiting] = []
    for t in sorted(tickets, key=lambda t: (t.created, t.id)):
        level = relax_level(now - t.created, policy)
        result.levels[t.id] = level
        if level >= TIMED_OUT:
            result.timed_out.append(t)
        else:
            open_.append(t)
    taken: set[str] = set()
    for t in open_:
        if t.id in taken or (drivers is not None and t.id not in drivers):
            continue
        rest = (o for o in open_ if o.id not in taken and o.id != t.id)
        chosen = choose_partner(t, rest, now, policy, recently_met)
        if chosen is None:
            continue
        other, agreed = chosen
        taken.update((t.id, other.id))
        result.pairs.append((t, other, agreed))
    return result


class InMemoryEngine:
    """The engine model without a database: the core plus dicts, for property tests and the
    one-million-operation benchmark. Matches on enqueue and on ``tick``, like ``Matchmaker``."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.waiting: dict[str, Waiting] = {}
        self.by_user: dict[str, str] = {}
        self.state: dict[str, str] = {}
        self.partner: dict[str, str] = {}
        self.history: list[tuple[str, str, float]] = []
        self.levels: dict[str, int] = {}

    def enqueue(self, t: Waiting, now: float) -> tuple[str, str] | None:
        if t.username in self.by_user or t.id in self.state:
            raise ValueError(f"{t.username} already holds an open ticket")
        self.waiting[t.id] = t
        self.by_user[t.username] = t.id
        self.state[t.id] = TicketState.waiting.value
        chosen = choose_partner(t, list(self.waiting.values()), now, self.policy)
        if chosen is None:
            return None
        self._pair(t, chosen[0], now)
        return t.id, chosen[0].id

    def cancel(self, ticket_id: str) -> bool:
        t = self.waiting.pop(ticket_id, None)
        if t is None:
            return False
        del self.by_user[t.username]
        self.state[ticket_id] = TicketState.cancelled.value
        return True

    def tick(self, now: float) -> Plan:
        # Like Matchmaker: only tickets whose level changed look for partners; every other
        # pair was already ruled out at the current levels (on enqueue or an earlier tick).
        drivers = set()
        for t in self.waiting.values():
            level = relax_level(now - t.created, self.policy)
            if level != self.levels.get(t.id, EXACT):
                drivers.add(t.id)
                self.levels[t.id] = level
        decided = plan(list(self.waiting.values()), now, self.policy, drivers=drivers)
        for t in decided.timed_out:
            self.waiting.pop(t.id)
            del self.by_user[t.username]
            self.state[t.id] = TicketState.timed_out.value
        for a, b, _ in decided.pairs:
            self._pair(a, b, now)
        return decided

    def _pair(self, a: Waiting, b: Waiting, now: float) -> None:
        for t in (a, b):
            if self.state.get(t.id) != TicketState.waiting.value:
                raise AssertionError(f"double match of ticket {t.id}")
            self.waiting.pop(t.id)
            del self.by_user[t.username]
            self.state[t.id] = TicketState.matched.value
        self.partner[a.id], self.partner[b.id] = b.id, a.id
        self.history.append((a.id, b.id, now))


# ---------------------------------------------------------------------------------------------
# Messages a student reads
# ---------------------------------------------------------------------------------------------


def describe(difficulty: str, topics: Sequence[str] | None) -> str:
    return f"{difficulty} · {', '.join(topics)}" if topics else f"{difficulty} · any topic"


def relax_message(t: Ticket, level: int) -> str:
    if level == TOPIC_DROPPED:
        return (
            f"No one else picked {', '.join(t.topics)} at {t.difficulty} yet, so any topic at "
            f"{t.difficulty} is fine now."
        )
    if level == NEIGHBOUR_DIFFICULTY:
        other = [d for d in allowed_difficulties(t.difficulty, level) if d != t.difficulty]
        return f"Still looking: now also matching {' or '.join(other)} questions, any topic."
    return "Looking for a partner with the same difficulty, topic and language."


def timeout_message(t: Ticket, waited: float, busiest: str | None) -> str:
    minutes = max(1, round(waited / 60))
    text = (
        f"No partner found in {minutes} min for {describe(t.difficulty, t.topics)}. "
        "Try again with more topics or another difficulty"
    )
    if busiest:
        text += f" (most students waiting now chose {busiest})"
    return text + ", or come back when your class practises together."


# ---------------------------------------------------------------------------------------------
# Database layer
# ---------------------------------------------------------------------------------------------


class MatchError(Exception):
    """A request the engine refuses: HTTP ``status``, a message, maybe the ticket concerned."""

    def __init__(self, status: int, message: str, ticket: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.ticket = ticket


class TicketNotifier:
    """Wakes event streams of this process when one of their tickets changes, and hands them
    the fresh views ``Matchmaker.refresh_streams`` reads for all of them at once every tick."""

    def __init__(self) -> None:
        self._events: dict[str, set[asyncio.Event]] = {}
        # ticket id -> (publication number, ticket json) of the latest refresh.
        self._views: dict[str, tuple[int, dict[str, Any]]] = {}
        self._published = 0
        # Woken on every change of any ticket: the room manager starts preparing a room at once
        # instead of at its next tick.
        self.watchers: list[asyncio.Event] = []

    def subscribe(self, ticket_id: str) -> asyncio.Event:
        event = asyncio.Event()
        self._events.setdefault(ticket_id, set()).add(event)
        return event

    def unsubscribe(self, ticket_id: str, event: asyncio.Event) -> None:
        events = self._events.get(ticket_id)
        if events is not None:
            events.discard(event)
            if not events:
                del self._events[ticket_id]
                self._views.pop(ticket_id, None)

    def watched(self) -> list[str]:
        """The tickets an event stream of this process follows."""
        return list(self._events)

    def publish(self, views: dict[str, dict[str, Any]]) -> None:
        """Fresh views of followed tickets; wakes their streams to send them."""
        self._published += 1
        for ticket_id, view in views.items():
            if ticket_id in self._events:
                self._views[ticket_id] = (self._published, view)
                for event in self._events[ticket_id]:
                    event.set()

    def view(self, ticket_id: str, newer_than: int) -> tuple[int, dict[str, Any]] | None:
        """The latest published view of a ticket, if published after ``newer_than``."""
        found = self._views.get(ticket_id)
        return found if found is not None and found[0] > newer_than else None

    def notify(self, ticket_ids: Iterable[str]) -> None:
        """The tickets changed: wake their streams, which read them from the database."""
        ids = list(ticket_ids)
        for ticket_id in ids:
            self._views.pop(ticket_id, None)
            for event in self._events.get(ticket_id, ()):
                event.set()
        if ids:
            for watcher in self.watchers:
                watcher.set()

    @property
    def listeners(self) -> int:
        return sum(len(e) for e in self._events.values())


@dataclass
class MatchRequest:
    """A validated POST /api/match body."""

    difficulty: str
    topics: list[str]
    language: str | None
    idempotency_key: str


def _ts(value: datetime) -> float:
    return value.timestamp()


def as_waiting(t: Any, proficiency: str | None, rating: float | None) -> Waiting:
    """The core's view of a ticket (a ``Ticket``, a row of one, or a ticket a batch is about
    to insert) and its student's profile (None: no profile yet, a beginner at the start)."""
    return Waiting(
        id=t.id,
        username=t.username,
        difficulty=t.difficulty,
        topics=tuple(t.topics),
        language=t.language,
        created=_ts(t.created),
        proficiency=proficiency or Proficiency.beginner.value,
        rating=profiles.INITIAL_RATING if rating is None else rating,
    )


class Matchmaker(LoggingConfigurable):
    """Pairs waiting students: tickets in the database, matched on enqueue and on every tick."""

    topic_relax_after = Float(
        30.0,
        help="""Seconds a ticket waits for an exact match (same difficulty, a shared topic, same
        language) before any topic is accepted. For a class of 30 practising together, 30 s
        lets most students get the topic they asked for.""",
    ).tag(config=True)

    difficulty_relax_after = Float(
        75.0,
        help="""Seconds before a neighbouring difficulty is accepted too (easy<->medium<->hard).
        Must be at least topic_relax_after.""",
    ).tag(config=True)

    timeout_after = Float(
        180.0,
        help="""Seconds after which a ticket that found nobody times out; the student is told
        what to try instead. Must be at least difficulty_relax_after.""",
    ).tag(config=True)

    lease_seconds = Float(
        30.0,
        help="""A waiting ticket stays in the queue this long after its last sign of life (an
        open event stream or a status request renews it). A student who closes the tab leaves
        the queue after at most this long.""",
    ).tag(config=True)

    rematch_cooldown = Float(
        3600.0,
        help="""Seconds during which two students who were just paired prefer other partners
        (a preference, never a refusal: if nobody else fits they are paired again).""",
    ).tag(config=True)

    tick_interval = Float(
        1.0,
        help="""Seconds between matching ticks (relaxation, timeouts, lease expiry, a matching
        pass for new and just-relaxed tickets), and how often the tickets of all open event
        streams are read again (in one query), which is how a stream learns about a match
        made by another service process.""",
    ).tag(config=True)

    full_pass_interval = Float(
        10.0,
        help="""Seconds between full matching passes over every waiting ticket. Other ticks
        only look for partners for tickets that are new or just relaxed; the full pass
        catches anything missed (say, a ticket whose service process died right after
        accepting it).""",
    ).tag(config=True)

    max_candidates = Integer(
        500,
        help="""At most this many waiting tickets (oldest first) are considered for a new
        ticket on enqueue; the periodic tick considers all of them.""",
    ).tag(config=True)

    max_batch = Integer(
        200,
        help="""At most this many match requests are written in one database transaction.
        Requests that arrive while a transaction is being written wait for the next one
        (group commit), so a busy service pays one commit for many students; this bounds
        how long the last of them waits.""",
    ).tag(config=True)

    @validate("max_batch")
    def _validate_max_batch(self, proposal: dict[str, Any]) -> int:
        value: int = proposal["value"]
        if value < 1:
            raise TraitError(f"Matchmaker.max_batch must be >= 1, got {value}")
        return value

    languages = List(
        Unicode(),
        help="Languages students may ask for (the kernels the rooms provide).",
    ).tag(config=True)

    @default("languages")
    def _default_languages(self) -> list[str]:
        return list(LANGUAGES)

    room_url_template = Unicode(
        help="""URL of a pair's room, formatted with {pair_user} and {room_id}. Defaults to the
        service's room page (/services/peerprep/rooms/{room_id}), which shows progress while the
        pair server starts and then redirects into the shared JupyterLab.""",
    ).tag(config=True)

    @default("room_url_template")
    def _default_room_url_template(self) -> str:
        import os

        prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/peerprep/")
        return prefix.rstrip("/") + "/rooms/{room_id}"

    @validate("topic_relax_after", "difficulty_relax_after", "timeout_after")
    def _validate_times(self, proposal: dict[str, Any]) -> float:
        value: float = proposal["value"]
        if value < 0:
            raise TraitError(f"Matchmaker.{proposal['trait'].name} must be >= 0, got {value}")
        return value

    @validate("lease_seconds", "tick_interval")
    def _validate_positive(self, proposal: dict[str, Any]) -> float:
        value: float = proposal["value"]
        if value <= 0:
            raise TraitError(f"Matchmaker.{proposal['trait'].name} must be > 0, got {value}")
        return value

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        clock: Callable[[], datetime] = utcnow,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.session_factory = session_factory
        self.clock = clock
        self.notifier = TicketNotifier()
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._last_tick: datetime | None = None
        self._last_full_pass: datetime | None = None
        self._question_cache: tuple[datetime, Sequence[Any]] | None = None
        self._requests: list[_Request] = []
        self._writer: asyncio.Task[None] | None = None
        self._candidates_stmt: tuple[int, Any] | None = None
        self.check_config()

    def check_config(self) -> None:
        try:
            Policy(
                self.topic_relax_after,
                self.difficulty_relax_after,
                self.timeout_after,
                self.rematch_cooldown,
            )
        except ValueError as e:
            raise TraitError(f"Matchmaker: {e}") from None

    @property
    def policy(self) -> Policy:
        return Policy(
            topic_relax_after=self.topic_relax_after,
            difficulty_relax_after=self.difficulty_relax_after,
            timeout_after=self.timeout_after,
            rematch_cooldown=self.rematch_cooldown,
        )

    @property
    def is_postgres(self) -> bool:
        bind = self.session_factory.kw.get("bind")
        return bool(bind is not None and bind.dialect.name == "postgresql")

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Repair what a crash left, run one tick, then tick every ``tick_interval``."""
        self.repair()
        await self.tick()
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.tick_interval)
            self._wake.clear()
            try:
                await self.tick()
                self.refresh_streams()
            except asyncio.CancelledError:
                raise
            except Exception:
                self.log.exception("Matching tick failed; retrying at the next tick")

    def refresh_streams(self) -> int:
        """Read every ticket an event stream of this process follows, renewing the leases of
        the waiting ones, in one transaction, and hand the views to the streams.

        Streams send a fresh elapsed time every tick and learn about changes made by other
        service processes this way; reading once for all of them keeps a queue of hundreds of
        open streams at two statements a tick instead of hundreds. Returns how many were read.
        """
        ids = self.notifier.watched()
        if not ids:
            return 0
        now = self.clock()
        lease = timedelta(seconds=self.lease_seconds)
        with db.transaction(self.session_factory) as s:
            s.execute(
                update(Ticket)
                .where(
                    Ticket.id.in_(ids),
                    Ticket.state == TicketState.waiting.value,
                    Ticket.lease_expires < now + lease / 2,
                )
                .values(lease_expires=now + lease)
                .execution_options(synchronize_session=False)
            )
            tickets = s.scalars(select(Ticket).where(Ticket.id.in_(ids))).all()
            views = {t.id: self.ticket_json(s, t, now) for t in tickets}
        self.notifier.publish(views)
        return len(views)

    def repair(self) -> dict[str, int]:
        """Bring the database to a consistent state after a crash or an unclean stop.

        A match is one transaction, so it is never half-made; what can be left is: waiting
        tickets whose leases ran out while no service was up (renewed: the outage was not the
        student's doing), waiting tickets of students who are in an active room (cancelled,
        naming the room), matched tickets whose room is gone (cancelled with an apology), and
        stale relaxation levels (fixed by the tick that follows).
        """
        now = self.clock()
        counts = {"leases_renewed": 0, "in_room_cancelled": 0, "orphans_cancelled": 0}
        with db.transaction(self.session_factory) as s:
            renewed = s.execute(
                update(Ticket)
                .where(Ticket.state == TicketState.waiting.value, Ticket.lease_expires < now)
                .values(lease_expires=now + timedelta(seconds=self.lease_seconds))
            )
            counts["leases_renewed"] = int(renewed.rowcount or 0)  # type: ignore[attr-defined]
            in_room = s.execute(
                select(Ticket, RoomMember.room_id)
                .join(RoomMember, RoomMember.username == Ticket.username)
                .where(Ticket.state == TicketState.waiting.value, RoomMember.active.is_(True))
            ).all()
            for ticket, room_id in in_room:
                self._finish(
                    ticket,
                    TicketState.cancelled.value,
                    f"You are already in room {room_id}; end it before looking for a partner.",
                    now,
                )
            counts["in_room_cancelled"] = len(in_room)
            orphans = s.scalars(
                select(Ticket)
                .outerjoin(Room, Room.id == Ticket.room_id)
                .where(Ticket.state == TicketState.matched.value, Room.id.is_(None))
            ).all()
            for ticket in orphans:
                self._finish(
                    ticket,
                    TicketState.cancelled.value,
                    "Your match was lost in a service restart; please look for a partner again.",
                    now,
                )
            counts["orphans_cancelled"] = len(orphans)
        if any(counts.values()):
            self.log.info("Matching repair on start-up: %s", counts)
        return counts

    # -- requests ---------------------------------------------------------------------------

    def validate_request(self, body: dict[str, Any]) -> MatchRequest:
        """Check a POST /api/match body; raise MatchError(400) saying what to fix."""
        if "username" in body or "user" in body:
            raise MatchError(
                400, "Do not send a user name: your identity comes from your hub log-in."
            )
        allowed = {"difficulty", "topics", "language", "idempotency_key"}
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise MatchError(
                400,
                f"Unknown field(s) {', '.join(unknown)}; send only {', '.join(sorted(allowed))}.",
            )
        difficulty = body.get("difficulty")
        if difficulty not in DIFFICULTIES:
            raise MatchError(
                400,
                f"Unknown difficulty {difficulty!r}; choose one of {', '.join(DIFFICULTIES)}.",
            )
        topics = body.get("topics")
        if not isinstance(topics, list) or not topics:
            raise MatchError(400, 'topics must be a non-empty list of topics, e.g. ["arrays"].')
        bad = [t for t in topics if not isinstance(t, str) or t not in TOPICS]
        if bad:
            raise MatchError(
                400,
                f"Unknown topic(s) {', '.join(map(repr, bad))}; choose from {', '.join(TOPICS)}.",
            )
        language = body.get("language")  # None: the student's profile language
        if language is not None and language not in self.languages:
            raise MatchError(
                400,
                f"Unsupported language {language!r}; choose one of {', '.join(self.languages)}.",
            )
        key = body.get("idempotency_key", new_id())
        if not isinstance(key, str) or not 0 < len(key) <= 100:
            raise MatchError(
                400,
                "idempotency_key must be a string of 1 to 100 characters, reused only when "
                "retrying the same request.",
            )
        return MatchRequest(
            difficulty=difficulty,
            topics=sorted(set(topics), key=TOPICS.index),
            language=language,
            idempotency_key=key,
        )

    async def enqueue(self, username: str, request: MatchRequest) -> tuple[dict[str, Any], bool]:
        """Open a ticket (or return the one for this idempotency key) and try to match it.

        Returns (ticket json, created). Raises MatchError(409) with the open ticket, or naming
        the active room, when the student may not open another ticket.

        Requests are written in batches (group commit): the requests that arrive while one
        batch is being written form the next, which checks them, inserts their tickets, pairs
        them with the waiting tickets and with each other, and creates the rooms, all in one
        transaction. An idle service writes each request at once; a busy one pays one commit
        for many students instead of one each.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[tuple[dict[str, Any], bool]] = loop.create_future()
        self._requests.append(_Request(username, request, self.clock(), future))
        if self._writer is None or self._writer.done():
            self._writer = loop.create_task(self._write_batches())
        return await future

    async def _write_batches(self) -> None:
        """Write queued requests batch by batch until none are left."""
        while self._requests:
            batch = self._requests[: self.max_batch]
            del self._requests[: len(batch)]
            started = time.perf_counter()
            try:
                outcome = self._write_batch(batch)
            except Exception as e:
                self.log.exception("Could not write %d match request(s)", len(batch))
                outcome = _BatchOutcome(answers=[e] * len(batch))
            metrics.observe_match_batch(len(batch), time.perf_counter() - started)
            self.notifier.notify(outcome.notify)
            for r, answer in zip(batch, outcome.answers, strict=True):
                if r.future.done():  # the client went away; its ticket stays, its lease ends
                    continue
                if isinstance(answer, BaseException):
                    r.future.set_exception(answer)
                else:
                    r.future.set_result(answer)
            # Let the requests that arrived while this batch was written join the next one.
            await asyncio.sleep(0)

    def _write_batch(self, batch: list[_Request]) -> _BatchOutcome:
        try:
            return self._batch_transaction(batch)
        except (IntegrityError, _Lost) as e:
            # A constraint refused the batch: a concurrent request of one of these students, in
            # another service process, got in first. Write the requests one by one, so that
            # each is answered as the winner's request would be and the others go ahead.
            if len(batch) > 1:
                self.log.info("Batch of %d match requests refused (%s); one by one", len(batch), e)
                outcome = _BatchOutcome()
                for r in batch:
                    outcome.extend(self._write_batch([r]))
                return outcome
            try:
                return self._batch_transaction(batch)
            except (IntegrityError, _Lost) as again:
                return _BatchOutcome(answers=[again])

    def _batch_transaction(self, batch: list[_Request]) -> _BatchOutcome:
        """Admit, insert, pair and answer ``batch`` in one transaction."""
        now = self.clock()
        now_s = _ts(now)
        outcome = _BatchOutcome()
        with db.transaction(self.session_factory) as s:
            self._serialise(s)
            fresh, verdicts = self._admit(s, batch, now)
            people = self._profiles(s, {t.username for t in fresh.values()}, now)
            for t in fresh.values():
                language = t.language or people[t.username].language
                t.language = language if language in self.languages else self.languages[0]
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
                recent = self._recent_pairs(s, {w.username for w in pool if w.id in drivers}, now)
                pairs = plan(
                    pool,
                    now_s,
                    self.policy,
                    lambda a, b: frozenset((a, b)) in recent,
                    drivers=drivers,
                ).pairs
            made = self._make_rooms(s, pairs, now, stored)
            rooms: dict[str, dict[str, Any]] = {}
            for m in made:
                for me, other in ((m.a, m.b), (m.b, m.a)):
                    rooms[me.id] = self._made_room_json(m, names[other.username], other.username)
                    if me.id in fresh:
                        fresh[me.id].matched(m.room_id, m.messages[me.id], now)
                outcome.notify += [m.a.id, m.b.id]
            unmade = {w.id for pair in pairs for w in pair[:2]} - set(rooms)
            for t in new:
                if t.id in unmade:
                    t.message = NO_QUESTIONS
            if new:
                sql.insert_rows(s.connection(), sql.TICKETS, [t.row() for t in new])
            for t in new:
                self.log.info(
                    "Ticket %s opened: %s wants %s (%s)",
                    t.id,
                    t.username,
                    describe(t.difficulty, t.topics),
                    t.language,
                )
            for verdict in verdicts:
                outcome.answers.append(self._answer(s, verdict, rooms, now))
        return outcome

    def _waiting(
        self, s: Session, languages: set[str], now: datetime
    ) -> tuple[list[Waiting], dict[str, str]]:
        """The waiting tickets a batch may pair with (locked; see ``matching_sql``), and the
        display names of their students."""
        pool: list[Waiting] = []
        names: dict[str, str] = {}
        for row in s.connection().execute(
            self._candidates(), {"now": now, "languages": sorted(languages)}
        ):
            pool.append(as_waiting(row, row.proficiency, row.rating))
            names[row.username] = row.display_name or row.username
        return pool, names

    def _serialise(self, s: Session) -> None:
        """Make this matching transaction wait for any other one (a batch or a tick of another
        service process) to commit first, so that it sees all their tickets.

        SQLite's ``BEGIN IMMEDIATE`` already does this. On PostgreSQL a transaction-scoped
        advisory lock does: without it, two processes inserting compatible tickets at the same
        moment would each miss the other's (invisible until committed) and leave both waiting.
        """
        if self.is_postgres:
            s.connection().execute(sql.SERIALISE_MATCHING)

    def _candidates(self) -> Any:
        """The statement that reads (and locks) the waiting tickets a batch may pair with."""
        if self._candidates_stmt is None or self._candidates_stmt[0] != self.max_candidates:
            self._candidates_stmt = (
                self.max_candidates,
                sql.waiting_candidates(self.max_candidates),
            )
        return self._candidates_stmt[1]

    def _admit(
        self, s: Session, batch: list[_Request], now: datetime
    ) -> tuple[dict[str, _NewTicket], list[_Verdict]]:
        """Which requests open a ticket; the others are a retry of an earlier request (the same
        ticket again) or refused (409: an open ticket, an active room)."""
        held: dict[tuple[str, str], str] = {}
        open_: dict[str, str | _NewTicket] = {}
        conn = s.connection()
        names = sorted({r.username for r in batch})
        keys = sorted({r.request.idempotency_key for r in batch})
        for tid, username, idempotency_key, state in conn.execute(
            sql.HELD_TICKETS, {"names": names, "keys": keys}
        ):
            held[(username, idempotency_key)] = tid
            if state == TicketState.waiting.value:
                open_[username] = tid
        in_room = dict(conn.execute(sql.ACTIVE_ROOMS, {"names": names}).all())
        fresh: dict[str, _NewTicket] = {}
        made_here: dict[tuple[str, str], _NewTicket] = {}
        verdicts: list[_Verdict] = []
        for r in batch:
            key = (r.username, r.request.idempotency_key)
            if key in made_here or key in held:
                verdicts.append(_Verdict("same", made_here.get(key) or held[key]))
            elif r.username in open_:
                verdicts.append(_Verdict("open", open_[r.username]))
            elif r.username in in_room:
                verdicts.append(
                    _Verdict(
                        "refused",
                        error=MatchError(
                            409,
                            f"You are in room {in_room[r.username]}; end that session before "
                            "looking for a new partner.",
                        ),
                    )
                )
            else:
                t = _NewTicket.open(r, lease=timedelta(seconds=self.lease_seconds))
                fresh[t.id] = made_here[key] = t
                open_[r.username] = t
                verdicts.append(_Verdict("new", t))
        return fresh, verdicts

    def _profiles(self, s: Session, usernames: set[str], now: datetime) -> dict[str, Any]:
        """Profile columns the matcher needs, creating missing profiles and refreshing ratings."""
        if not usernames:
            return {}
        conn = s.connection()
        names = sorted(usernames)
        rows = {row.username: row for row in conn.execute(sql.MATCH_PROFILES, {"names": names})}
        missing = [n for n in names if n not in rows]
        if missing:
            sql.insert_rows(
                conn, sql.PROFILES, [profiles.new_profile_values(n, now) for n in missing]
            )
        # A new profile has no submits yet: only the others' ratings may need a refresh.
        ratings = dict.fromkeys(missing, profiles.INITIAL_RATING)
        ratings.update(profiles.compute_ratings(s, [n for n in names if n in rows]))
        stale = [
            {"u": n, "r": r}
            for n, r in ratings.items()
            if n in rows and abs(rows[n].rating - r) > 1e-9
        ]
        if stale:
            conn.execute(sql.SET_RATING, stale)
        out: dict[str, Any] = {}
        for n in usernames:
            row = rows.get(n)
            out[n] = _Person(
                display_name=row.display_name if row else "",
                language=row.language if row else "python",
                proficiency=row.proficiency if row else Proficiency.beginner.value,
                rating=ratings[n],
            )
        return out

    def _answer(
        self, s: Session, verdict: _Verdict, rooms: dict[str, dict[str, Any]], now: datetime
    ) -> tuple[dict[str, Any], bool] | MatchError:
        if verdict.error is not None:
            return verdict.error
        ticket = verdict.ticket
        if isinstance(ticket, _NewTicket):
            body = self._ticket_view(ticket, now, rooms.get(ticket.id))
        else:
            body = self.ticket_json(s, s.get_one(Ticket, ticket), now)
        if verdict.kind == "open":
            return MatchError(
                409,
                "You already have an open ticket; cancel it before asking for another match.",
                body,
            )
        return body, verdict.kind == "new"

    def get(self, username: str, ticket_id: str, *, renew: bool = False) -> dict[str, Any]:
        """The ticket as its owner sees it; 404 for anyone else. ``renew`` extends the lease."""
        now = self.clock()
        with db.transaction(self.session_factory) as s:
            ticket = s.get(Ticket, ticket_id)
            if ticket is None or ticket.username != username:
                raise MatchError(404, f"No ticket {ticket_id} of yours; it may be someone else's.")
            if renew and ticket.state == TicketState.waiting.value:
                half = timedelta(seconds=self.lease_seconds / 2)
                if ticket.lease_expires - now < half:
                    # No lock needed: renewing a lease never changes who is matched.
                    s.execute(
                        update(Ticket)
                        .where(Ticket.id == ticket_id, Ticket.state == TicketState.waiting.value)
                        .values(lease_expires=now + timedelta(seconds=self.lease_seconds))
                    )
            return self.ticket_json(s, ticket, now)

    def cancel(self, username: str, ticket_id: str) -> dict[str, Any]:
        """Cancel the student's waiting ticket; cancelling twice is fine; matched is 409."""
        now = self.clock()
        with db.transaction(self.session_factory) as s:
            ticket = s.scalar(select(Ticket).where(Ticket.id == ticket_id).with_for_update())
            if ticket is None or ticket.username != username:
                raise MatchError(404, f"No ticket {ticket_id} of yours; it may be someone else's.")
            if ticket.state == TicketState.matched.value:
                raise MatchError(
                    409,
                    "This ticket is already matched; end the session in the room instead.",
                    self.ticket_json(s, ticket, now),
                )
            if ticket.state == TicketState.waiting.value:
                self._finish(ticket, TicketState.cancelled.value, "You left the queue.", now)
                self.log.info("Ticket %s cancelled by %s", ticket_id, username)
            result = self.ticket_json(s, ticket, now)
        self.notifier.notify([ticket_id])
        return result

    # -- matching ---------------------------------------------------------------------------

    async def tick(self) -> dict[str, int]:
        """One pass: expire leases, time out, relax, and pair everyone who fits."""
        now = self.clock()
        now_s = _ts(now)
        counts = {"expired": 0, "timed_out": 0, "relaxed": 0, "matched": 0, "in_room": 0}
        notify: list[str] = []
        with db.transaction(self.session_factory) as s:
            self._serialise(s)
            tickets = s.scalars(
                select(Ticket)
                .where(Ticket.state == TicketState.waiting.value)
                .order_by(Ticket.created)
                .with_for_update(skip_locked=True)
            ).all()
            if not tickets:
                return counts
            in_room = dict(
                s.execute(
                    select(RoomMember.username, RoomMember.room_id).where(
                        RoomMember.active.is_(True),
                        RoomMember.username.in_({t.username for t in tickets}),
                    )
                ).all()
            )
            live: list[Ticket] = []
            for t in tickets:
                if t.lease_expires < now:
                    self._finish(
                        t,
                        TicketState.cancelled.value,
                        "You left the queue: no open PeerPrep page kept your ticket alive for "
                        f"{self.lease_seconds:g} s. Ask for a match again.",
                        now,
                    )
                    counts["expired"] += 1
                    notify.append(t.id)
                    self.log.info("Ticket %s left the queue (lease expired)", t.id)
                elif t.username in in_room:
                    self._finish(
                        t,
                        TicketState.cancelled.value,
                        f"You are in room {in_room[t.username]}; end that session first.",
                        now,
                    )
                    counts["in_room"] += 1
                    notify.append(t.id)
                else:
                    live.append(t)
            drivers = self._drivers(live, now)
            waiting = self._as_waiting(s, live, with_profiles=bool(drivers))
            recent = self._recent_pairs(s, [t.username for t in live], now) if drivers else set()
            decided = plan(
                waiting.values(),
                now_s,
                self.policy,
                lambda a, b: frozenset((a, b)) in recent,
                drivers=drivers,
            )
            by_id = {t.id: t for t in live}
            if decided.timed_out:
                busiest = self._busiest(live, decided)
                for w in decided.timed_out:
                    t = by_id[w.id]
                    self._finish(
                        t,
                        TicketState.timed_out.value,
                        timeout_message(t, now_s - _ts(t.created), busiest),
                        now,
                    )
                    counts["timed_out"] += 1
                    notify.append(t.id)
                    self.log.info("Ticket %s timed out", t.id)
            made = self._make_rooms(s, decided.pairs, now, set(by_id))
            paired = {w.id for m in made for w in (m.a, m.b)}
            counts["matched"] = len(made)
            notify.extend(paired)
            for t in live:
                level = decided.levels.get(t.id, EXACT)
                if t.id in paired or level >= TIMED_OUT or level == t.relax_level:
                    continue
                t.relax_level = level
                t.message = relax_message(t, level)
                t.updated = now
                counts["relaxed"] += 1
                notify.append(t.id)
                self.log.info("Ticket %s relaxed to level %s", t.id, level)
        self.notifier.notify(notify)
        return counts

    def _drivers(self, live: Sequence[Ticket], now: datetime) -> set[str]:
        """Tickets that should look for a partner in this tick (see ``plan``)."""
        full = self._last_full_pass is None or (now - self._last_full_pass).total_seconds() >= (
            self.full_pass_interval
        )
        last = self._last_tick
        self._last_tick = now
        if full:
            self._last_full_pass = now
            return {t.id for t in live}
        since = (last or now) - timedelta(seconds=self.tick_interval)
        now_s = _ts(now)
        return {
            t.id
            for t in live
            if t.created >= since
            or relax_level(now_s - _ts(t.created), self.policy) != t.relax_level
        }

    def _busiest(self, live: Sequence[Ticket], decided: Plan) -> str | None:
        gone = {w.id for w in decided.timed_out}
        counts: dict[str, int] = {}
        for t in live:
            if t.id not in gone:
                for topic in t.topics:
                    key = f"{t.difficulty} · {topic}"
                    counts[key] = counts.get(key, 0) + 1
        return max(counts, key=lambda k: counts[k]) if counts else None

    def _finish(self, t: Ticket, state: str, message: str, now: datetime) -> None:
        t.state = state
        t.message = message
        t.updated = now

    def _as_waiting(
        self, s: Session, tickets: Sequence[Ticket], with_profiles: bool = True
    ) -> dict[str, Waiting]:
        names = {t.username for t in tickets}
        people: dict[str, tuple[str | None, float | None]] = {}
        if with_profiles and names:
            people = {
                p.username: (p.proficiency, p.rating)
                for p in s.execute(
                    select(Profile.username, Profile.proficiency, Profile.rating).where(
                        Profile.username.in_(names)
                    )
                ).all()
            }
        return {t.id: as_waiting(t, *people.get(t.username, (None, None))) for t in tickets}

    def _recent_pairs(
        self, s: Session, usernames: Collection[str], now: datetime
    ) -> set[frozenset[str]]:
        """The pairs made within the rematch cooldown that involve one of ``usernames``."""
        if not usernames or self.rematch_cooldown <= 0:
            return set()
        since = now - timedelta(seconds=self.rematch_cooldown)
        rows = s.connection().execute(
            sql.RECENT_PARTNERS, {"names": sorted(set(usernames)), "since": since}
        )
        return {frozenset(r) for r in rows}

    def _make_rooms(
        self,
        s: Session,
        pairs: Sequence[tuple[Waiting, Waiting, Agreement]],
        now: datetime,
        stored: set[str],
    ) -> list[_MadeRoom]:
        """Create the rooms of ``pairs`` inside the caller's transaction: the room, both
        members, and the claim of the tickets already in the database (``stored``; the caller
        inserts its new tickets as matched itself). A claim that finds its ticket no longer
        waiting raises ``_Lost`` and the whole transaction rolls back: it cannot happen while
        the caller holds the rows' locks, and the database refuses what the locks would miss.
        """
        if not pairs:
            return []
        questions = self._current_questions(s)
        if not questions:
            waiting_for_questions = [w.id for pair in pairs for w in pair[:2] if w.id in stored]
            if waiting_for_questions:
                s.execute(
                    update(Ticket)
                    .where(Ticket.id.in_(waiting_for_questions))
                    .values(message=NO_QUESTIONS)
                    .execution_options(synchronize_session=False)
                )
            return []
        attempted = self._attempted(s, {w.username for pair in pairs for w in pair[:2]})
        made: list[_MadeRoom] = []
        for a, b, agreed in pairs:
            counts: dict[str, int] = {}
            for username in (a.username, b.username):
                for qid in attempted.get(username, ()):
                    counts[qid] = counts.get(qid, 0) + 1
            qv, note = choose_question(questions, agreed, counts)
            room_id = new_id()
            topic = next(
                (x for x in qv.topics if x in agreed.topics), qv.topics[0] if qv.topics else ""
            )
            messages = {
                me.id: (
                    f"Matched with {other.username} on {qv.title} "
                    f"({describe(qv.difficulty, qv.topics)}). {note}"
                ).strip()
                for me, other in ((a, b), (b, a))
            }
            made.append(_MadeRoom(room_id, f"pair-{room_id[:12]}", qv, topic, note, a, b, messages))
        conn = s.connection()
        sql.insert_rows(
            conn,
            sql.ROOMS,
            [
                {
                    "id": m.room_id,
                    "pair_user": m.pair_user,
                    "question_id": m.question.question_id,
                    "question_version": m.question.version,
                    "difficulty": m.question.difficulty,
                    "topic": m.topic,
                    "state": RoomState.starting.value,
                    "message": m.note,
                    "created": now,
                }
                for m in made
            ],
        )
        sql.insert_rows(
            conn,
            sql.MEMBERS,
            [
                {"room_id": m.room_id, "username": w.username, "active": True}
                for m in made
                for w in (m.a, m.b)
            ],
        )
        claims = {w.id: m.room_id for m in made for w in (m.a, m.b) if w.id in stored}
        messages = {tid: m.messages[tid] for m in made for tid in m.messages if tid in claims}
        claimed = sql.claim(conn, claims, messages, now)
        if claimed != len(claims):
            raise _Lost(f"{len(claims) - claimed} ticket(s) no longer waiting")
        for m in made:
            for w in (m.a, m.b):
                metrics.observe_match(_ts(now) - w.created, difficulty=w.difficulty)
            self.log.info(
                "Room %s created: %s + %s on %s v%s (tickets %s, %s)",
                m.room_id,
                m.a.username,
                m.b.username,
                m.question.question_id,
                m.question.version,
                m.a.id,
                m.b.id,
            )
        return made

    def _attempted(self, s: Session, usernames: Collection[str]) -> dict[str, list[str]]:
        """The questions of every room each of ``usernames`` was in."""
        out: dict[str, list[str]] = {}
        for username, qid in s.connection().execute(
            sql.ATTEMPTED, {"names": sorted(set(usernames))}
        ):
            out.setdefault(username, []).append(qid)
        return out

    def pick_question(
        self, s: Session, agreed: Agreement, usernames: Sequence[str]
    ) -> tuple[PickedQuestion, str] | None:
        """The question for a pair, and a note when it is not what they agreed on (see
        ``choose_question``); None while no question is published."""
        questions = self._current_questions(s)
        if not questions:
            return None
        counts: dict[str, int] = {}
        for qids in self._attempted(s, usernames).values():
            for qid in qids:
                counts[qid] = counts.get(qid, 0) + 1
        return choose_question(questions, agreed, counts)

    def _current_questions(self, s: Session) -> Sequence[Any]:
        """Current versions of the questions not retired (title, difficulty, topics only).

        Cached for one tick interval: every match needs them, and a newly published question
        is picked up within a second.
        """
        now = self.clock()
        cached = self._question_cache
        if cached is not None and (now - cached[0]).total_seconds() < self.tick_interval:
            return cached[1]
        rows = s.execute(
            select(
                QuestionVersion.question_id,
                QuestionVersion.version,
                QuestionVersion.title,
                QuestionVersion.difficulty,
                QuestionVersion.topics,
            )
            .join(
                Question,
                and_(
                    Question.id == QuestionVersion.question_id,
                    Question.current_version == QuestionVersion.version,
                ),
            )
            .where(Question.retired.is_(False))
        ).all()
        self._question_cache = (now, rows) if rows else None
        return rows

    # -- presentation -----------------------------------------------------------------------

    def ticket_json(self, s: Session, t: Ticket, now: datetime) -> dict[str, Any]:
        return self._ticket_view(t, now, self._room_json(s, t) if t.room_id else None)

    def _ticket_view(self, t: Ticket | _NewTicket, now: datetime, room: Any) -> dict[str, Any]:
        waiting = t.state == TicketState.waiting.value
        end = now if waiting else t.updated
        elapsed = max(0.0, _ts(end) - _ts(t.created))
        level = t.relax_level
        if waiting:
            level = max(level, min(relax_level(elapsed, self.policy), NEIGHBOUR_DIFFICULTY))
        state = t.state
        if waiting and level > EXACT:
            state = "relaxed"
        return {
            "id": t.id,
            "state": state,
            "difficulty": t.difficulty,
            "topics": list(t.topics),
            "language": t.language,
            "relax_level": level,
            "criteria": criteria(t.difficulty, t.topics, level),
            "created": t.created.isoformat(),
            "elapsed_s": round(elapsed, 3),
            "message": t.message,
            "room": room,
        }

    def _made_room_json(self, m: _MadeRoom, partner_display: str, partner: str) -> dict[str, Any]:
        """``_room_json`` of a room this process just made, without reading it back."""
        return {
            "id": m.room_id,
            "pair_user": m.pair_user,
            "state": RoomState.starting.value,
            "url": self.room_url_template.format(pair_user=m.pair_user, room_id=m.room_id),
            "question": {"id": m.question.question_id, "title": m.question.title},
            "difficulty": m.question.difficulty,
            "topic": m.topic,
            "note": m.note,
            "partner": {"name": partner, "display_name": partner_display},
        }

    def _room_json(self, s: Session, t: Ticket) -> dict[str, Any] | None:
        room = s.get(Room, t.room_id)
        if room is None:
            return None
        partner = s.execute(
            select(RoomMember.username, Profile.display_name)
            .outerjoin(Profile, Profile.username == RoomMember.username)
            .where(RoomMember.room_id == room.id, RoomMember.username != t.username)
        ).first()
        title = s.scalar(
            select(QuestionVersion.title).where(
                QuestionVersion.question_id == room.question_id,
                QuestionVersion.version == room.question_version,
            )
        )
        return {
            "id": room.id,
            "pair_user": room.pair_user,
            "state": room.state,
            "url": self.room_url_template.format(pair_user=room.pair_user, room_id=room.id),
            "question": {"id": room.question_id, "title": title or room.question_id},
            "difficulty": room.difficulty,
            "topic": room.topic,
            "note": room.message,
            "partner": {
                "name": partner[0] if partner else "",
                "display_name": (partner[1] or partner[0]) if partner else "",
            },
        }


@dataclass(frozen=True)
class PickedQuestion:
    """The current version of the question chosen for a pair."""

    question_id: str
    version: int
    title: str
    difficulty: str
    topics: list[str]


def choose_question(
    questions: Sequence[Any], agreed: Agreement, attempted: dict[str, int]
) -> tuple[PickedQuestion, str]:
    """The best of ``questions`` (rows with question_id, version, title, difficulty, topics)
    for a pair, and a note when it is not what they agreed on.

    Best: the agreed difficulty and one of the agreed topics, attempted by neither student
    (``attempted``: question id -> rooms of the two students that had it). Without one, the
    closest: agreed difficulty any topic, then a neighbouring difficulty. Ties: at random.
    """
    want = DIFFICULTIES.index(agreed.difficulty)

    def rank(row: Any) -> tuple[int, int, int, float]:
        d = DIFFICULTIES.index(row.difficulty) if row.difficulty in DIFFICULTIES else 9
        topical = any(x in agreed.topics for x in row.topics)
        return (
            abs(d - want),
            0 if topical else 1,
            attempted.get(row.question_id, 0),
            random.random(),  # noqa: S311 (variety, not secrecy)
        )

    best = min(questions, key=rank)
    best_rank = rank(best)
    note = ""
    if best_rank[0] or best_rank[1]:
        note = (
            f"No question matches {describe(agreed.difficulty, agreed.topics)}; "
            f"picked the closest: {best.title} ({describe(best.difficulty, best.topics)})."
        )
    picked = PickedQuestion(
        question_id=best.question_id,
        version=best.version,
        title=best.title,
        difficulty=best.difficulty,
        topics=list(best.topics),
    )
    return picked, note


# ---------------------------------------------------------------------------------------------
# What a batch of match requests carries through its transaction
# ---------------------------------------------------------------------------------------------


@dataclass
class _Request:
    """A POST /api/match waiting for the next batch."""

    username: str
    request: MatchRequest
    arrived: datetime
    future: asyncio.Future[tuple[dict[str, Any], bool]]


@dataclass
class _NewTicket:
    """A ticket a batch is about to insert, with the attributes ``_ticket_view`` reads."""

    id: str
    username: str
    idempotency_key: str
    difficulty: str
    topics: list[str]
    language: str | None  # None until the batch has read the student's profile
    created: datetime
    updated: datetime
    lease_expires: datetime
    state: str = TicketState.waiting.value
    relax_level: int = EXACT
    room_id: str | None = None
    message: str = field(default_factory=lambda: relax_message_for_new())

    @classmethod
    def open(cls, r: _Request, lease: timedelta) -> _NewTicket:
        return cls(
            id=new_id(),
            username=r.username,
            idempotency_key=r.request.idempotency_key,
            difficulty=r.request.difficulty,
            topics=r.request.topics,
            language=r.request.language,
            created=r.arrived,
            updated=r.arrived,
            lease_expires=r.arrived + lease,
        )

    def waiting(self, proficiency: str, rating: float) -> Waiting:
        assert self.language is not None
        return as_waiting(self, proficiency, rating)

    def matched(self, room_id: str, message: str, now: datetime) -> None:
        self.state = TicketState.matched.value
        self.room_id = room_id
        self.message = message
        self.updated = now

    def row(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.username,
            "idempotency_key": self.idempotency_key,
            "difficulty": self.difficulty,
            "topics": self.topics,
            "language": self.language,
            "state": self.state,
            "relax_level": self.relax_level,
            "created": self.created,
            "updated": self.updated,
            "lease_expires": self.lease_expires,
            "room_id": self.room_id,
            "message": self.message,
        }


@dataclass
class _Verdict:
    """What a batch does with one request: ``new`` ticket, ``same`` ticket again (a retry of
    its idempotency key), ``open`` ticket in the way (409), or ``refused`` with ``error``."""

    kind: str
    ticket: str | _NewTicket = ""
    error: MatchError | None = None


@dataclass
class _Person:
    """The profile columns the matcher reads."""

    display_name: str
    language: str
    proficiency: str
    rating: float


@dataclass
class _MadeRoom:
    """A room created for a pair, with the question picked and each ticket's message."""

    room_id: str
    pair_user: str
    question: PickedQuestion
    topic: str
    note: str
    a: Waiting
    b: Waiting
    messages: dict[str, str]


@dataclass
class _BatchOutcome:
    """A written batch: an answer per request (or the error to raise), and the tickets whose
    streams to wake."""

    answers: list[tuple[dict[str, Any], bool] | BaseException] = field(default_factory=list)
    notify: list[str] = field(default_factory=list)

    def extend(self, other: _BatchOutcome) -> None:
        self.answers += other.answers
        self.notify += other.notify


class _Lost(Exception):
    """A ticket was no longer waiting when we tried to claim it."""


NO_QUESTIONS = (
    "Waiting: no questions have been published yet, so no room can be made. "
    "Ask your instructor to publish one."
)


def relax_message_for_new() -> str:
    return "Looking for a partner with the same difficulty, topic and language."


def as_utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)
