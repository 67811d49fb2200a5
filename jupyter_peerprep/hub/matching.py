"""The matching engine: who is paired with whom, on which question, and when tickets relax.

Two layers:

- a pure core (``Policy``, ``Waiting``, ``relax_level``, ``agreement``, ``choose_partner``,
  ``plan``) that decides pairs from waiting tickets and a clock, with no I/O, so that it can be
  tested exhaustively (``tests/matching``) and run a million times in ``benchmarks/matching.py``
  (``InMemoryEngine``);
- ``Matchmaker``, the configurable that keeps tickets in the service database and claims two
  tickets plus creates the ``Room`` and both ``RoomMember`` rows in one transaction.

Relaxation levels, by time waited: 0 exact (difficulty + a shared topic + language); 1 after
``topic_relax_after`` any topic; 2 after ``difficulty_relax_after`` also a neighbouring
difficulty; at ``timeout_after`` the ticket times out with a message saying what to try.

Safety across several service processes on one PostgreSQL: a matcher first locks its own ticket
(``FOR UPDATE``), then the candidates with ``FOR UPDATE SKIP LOCKED``, so a ticket is only ever
claimed by the transaction holding its row lock, and it claims it only while it is still
``waiting``. The partial unique indexes (one waiting ticket, one active room per user) are the
last line of defence. On SQLite every transaction is ``BEGIN IMMEDIATE`` (``db.py``), which
serialises writers. A matcher that skipped locked candidates and found nobody retries after a
short random pause, and the periodic tick catches anything left, so no pair is missed for long.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value
from traitlets import Float, Integer, List, TraitError, Unicode, default, validate
from traitlets.config import LoggingConfigurable

from ..questions.vocabulary import DIFFICULTIES, LANGUAGES, TOPICS
from . import db, metrics, profiles
from .models import (
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
    """Wakes event streams of this process when one of their tickets changes."""

    def __init__(self) -> None:
        self._events: dict[str, set[asyncio.Event]] = {}
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

    def notify(self, ticket_ids: Iterable[str]) -> None:
        ids = list(ticket_ids)
        for ticket_id in ids:
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
        pass for new and just-relaxed tickets), and how often event streams re-read the
        database, which is how a stream learns about a match made by another service
        process.""",
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
            except asyncio.CancelledError:
                raise
            except Exception:
                self.log.exception("Matching tick failed; retrying at the next tick")

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

    async def enqueue(
        self, username: str, request: MatchRequest, _retry: bool = False
    ) -> tuple[dict[str, Any], bool]:
        """Open a ticket (or return the one for this idempotency key) and try to match it.

        Returns (ticket json, created). Raises MatchError(409) with the open ticket, or naming
        the active room, when the student may not open another ticket.
        """
        now = self.clock()
        try:
            with db.transaction(self.session_factory) as s:
                existing = self._existing(s, username, request.idempotency_key, now)
                if existing is not None:
                    return existing, False
                profile = profiles.get_or_create(s, username)
                profiles.refresh_rating(s, profile)
                language = request.language or profile.language
                if language not in self.languages:
                    language = self.languages[0]
                ticket = Ticket(
                    id=new_id(),
                    username=username,
                    idempotency_key=request.idempotency_key,
                    difficulty=request.difficulty,
                    topics=request.topics,
                    language=language,
                    state=TicketState.waiting.value,
                    relax_level=EXACT,
                    created=now,
                    updated=now,
                    lease_expires=now + timedelta(seconds=self.lease_seconds),
                    message=relax_message_for_new(),
                )
                s.add(ticket)
                s.flush()
                ticket_id = ticket.id
                # Match in the same transaction: one commit per enqueue, and the ticket is
                # never visible to others as waiting if a partner was already there.
                room_id, skipped, notify = self._match_locked(s, ticket, now)
                result = self.ticket_json(s, ticket, now)
        except IntegrityError:
            # A concurrent request of the same student won the race: answer as it would.
            with db.transaction(self.session_factory) as s:
                existing = self._existing(s, username, request.idempotency_key, now)
            if existing is not None:
                return existing, False
            if _retry:
                raise
            # Two first requests of one student both created the profile: once more.
            return await self.enqueue(username, request, _retry=True)
        self.log.info(
            "Ticket %s waiting: %s wants %s (%s)",
            ticket_id,
            username,
            describe(request.difficulty, request.topics),
            language,
        )
        self.notifier.notify(notify)
        if skipped:
            _, retried = await self.try_match(ticket_id)
            result = retried or result
        elif room_id is None and self.is_postgres:
            # Another process may have been inserting a compatible ticket at this moment,
            # invisible to us until it commits; its own matcher then sees ours. To be sure
            # neither side missed the other, look once more right after our commit.
            _, retried = await self.try_match(ticket_id, attempts=1)
            result = retried or result
        return result, True

    def _existing(
        self, s: Session, username: str, key: str, now: datetime
    ) -> dict[str, Any] | None:
        mine = s.scalars(
            select(Ticket).where(
                Ticket.username == username,
                (Ticket.idempotency_key == key) | (Ticket.state == TicketState.waiting.value),
            )
        ).all()
        same = next((t for t in mine if t.idempotency_key == key), None)
        if same is not None:
            return self.ticket_json(s, same, now)
        open_ = next(iter(mine), None)
        if open_ is not None:
            raise MatchError(
                409,
                "You already have an open ticket; cancel it before asking for another match.",
                self.ticket_json(s, open_, now),
            )
        member = s.scalar(
            select(RoomMember).where(RoomMember.username == username, RoomMember.active.is_(True))
        )
        if member is not None:
            raise MatchError(
                409,
                f"You are in room {member.room_id}; end that session before looking for a "
                "new partner.",
            )
        return None

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

    async def try_match(
        self, ticket_id: str, attempts: int = 5
    ) -> tuple[str | None, dict[str, Any] | None]:
        """Try to pair one waiting ticket now: (room id or None, the ticket's json after).

        Without a partner now, the periodic tick tries again."""
        ticket_json: dict[str, Any] | None = None
        for attempt in range(attempts):
            room_id, skipped, ticket_json = self._try_match_once(ticket_id)
            if room_id is not None or not skipped:
                return room_id, ticket_json
            # Another process held some candidates: it may be pairing them, or it may be a
            # matcher for one of them that skipped *us*. Back off briefly and look again.
            await asyncio.sleep(random.uniform(0.0005, 0.004) * (attempt + 1))  # noqa: S311
        self._wake.set()
        return None, ticket_json

    def _try_match_once(self, ticket_id: str) -> tuple[str | None, bool, dict[str, Any] | None]:
        now = self.clock()
        now_s = _ts(now)
        notify: list[str] = []
        with db.transaction(self.session_factory) as s:
            me = s.scalar(select(Ticket).where(Ticket.id == ticket_id).with_for_update())
            if me is None:
                return None, False, None
            if (
                me.state != TicketState.waiting.value
                or me.lease_expires < now
                or relax_level(now_s - _ts(me.created), self.policy) >= TIMED_OUT
            ):
                return None, False, self.ticket_json(s, me, now)
            room_id, skipped, notify = self._match_locked(s, me, now)
            result = self.ticket_json(s, me, now)
        self.notifier.notify(notify)
        return room_id, skipped, result

    def _match_locked(
        self, s: Session, me: Ticket, now: datetime
    ) -> tuple[str | None, bool, list[str]]:
        """Pair ``me`` (waiting, row locked or just inserted by ``s``) with the best partner
        among the waiting tickets no other transaction holds. Returns (room id or None,
        whether locked candidates were skipped, tickets to notify after commit)."""
        now_s = _ts(now)
        base = select(Ticket).where(
            Ticket.state == TicketState.waiting.value,
            Ticket.language == me.language,
            Ticket.id != me.id,
            Ticket.username != me.username,
            Ticket.lease_expires >= now,
        )
        candidates = s.scalars(
            base.order_by(Ticket.created)
            .limit(self.max_candidates)
            .with_for_update(skip_locked=True)
        ).all()
        waiting = self._as_waiting(s, [me, *candidates])
        recent = self._recent_partners(s, me.username, now) if candidates else set()
        chosen = choose_partner(
            waiting[me.id],
            [waiting[c.id] for c in candidates],
            now_s,
            self.policy,
            lambda a, b: b in recent,
        )
        if chosen is None:
            skipped = False
            if self.is_postgres and len(candidates) < self.max_candidates:
                total = s.scalar(select(func.count()).select_from(base.subquery()))
                skipped = bool(total and total > len(candidates))
            return None, skipped, []
        other = next(c for c in candidates if c.id == chosen[0].id)
        room_id = self._create_room(s, me, other, chosen[1], now)
        return room_id, False, [me.id, other.id] if room_id is not None else []

    async def tick(self) -> dict[str, int]:
        """One pass: expire leases, time out, relax, and pair everyone who fits."""
        now = self.clock()
        now_s = _ts(now)
        counts = {"expired": 0, "timed_out": 0, "relaxed": 0, "matched": 0, "in_room": 0}
        notify: list[str] = []
        with db.transaction(self.session_factory) as s:
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
            paired: set[str] = set()
            for a, b, agreed in decided.pairs:
                room_id = self._create_room(s, by_id[a.id], by_id[b.id], agreed, now)
                if room_id is not None:
                    counts["matched"] += 1
                    paired.update((a.id, b.id))
                    notify.extend((a.id, b.id))
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
        profiles = {}
        if with_profiles and names:
            profiles = {
                p.username: (p.proficiency, p.rating)
                for p in s.execute(
                    select(Profile.username, Profile.proficiency, Profile.rating).where(
                        Profile.username.in_(names)
                    )
                ).all()
            }
        out: dict[str, Waiting] = {}
        for t in tickets:
            proficiency, rating = profiles.get(t.username, (Proficiency.beginner.value, 1000.0))
            out[t.id] = Waiting(
                id=t.id,
                username=t.username,
                difficulty=t.difficulty,
                topics=tuple(t.topics),
                language=t.language,
                created=_ts(t.created),
                proficiency=proficiency,
                rating=rating,
            )
        return out

    def _recent_partners(self, s: Session, username: str, now: datetime) -> set[str]:
        """Who ``username`` was paired with within the rematch cooldown."""
        if self.rematch_cooldown <= 0:
            return set()
        cutoff = now - timedelta(seconds=self.rematch_cooldown)
        m1, m2 = aliased(RoomMember), aliased(RoomMember)
        return set(
            s.scalars(
                select(m2.username)
                .join(m1, and_(m1.room_id == m2.room_id, m1.username == username))
                .join(Room, Room.id == m2.room_id)
                .where(m2.username != username, Room.created >= cutoff)
            ).all()
        )

    def _recent_pairs(
        self, s: Session, usernames: Sequence[str], now: datetime
    ) -> set[frozenset[str]]:
        if len(usernames) < 2 or self.rematch_cooldown <= 0:
            return set()
        cutoff = now - timedelta(seconds=self.rematch_cooldown)
        m1, m2 = aliased(RoomMember), aliased(RoomMember)
        names = set(usernames)
        rows = s.execute(
            select(m1.username, m2.username)
            .join(m2, and_(m2.room_id == m1.room_id, m2.username > m1.username))
            .join(Room, Room.id == m1.room_id)
            .where(m1.username.in_(names), m2.username.in_(names), Room.created >= cutoff)
        ).all()
        return {frozenset(r) for r in rows}

    def _create_room(
        self, s: Session, a: Ticket, b: Ticket, agreed: Agreement, now: datetime
    ) -> str | None:
        """Claim ``a`` and ``b`` and create their room, inside the caller's transaction.

        Runs in a savepoint: if a constraint refuses (a student got into a room meanwhile),
        nothing of this pair is kept and the rest of the transaction goes on.
        """
        picked = self.pick_question(s, agreed, [a.username, b.username])
        if picked is None:
            for t in (a, b):
                t.message = (
                    "Waiting: no questions have been published yet, so no room can be made. "
                    "Ask your instructor to publish one."
                )
            return None
        qv, note = picked
        room_id = new_id()
        pair_user = f"pair-{room_id[:12]}"
        topic = next(
            (x for x in qv.topics if x in agreed.topics), qv.topics[0] if qv.topics else ""
        )
        try:
            with s.begin_nested():
                s.add(
                    Room(
                        id=room_id,
                        pair_user=pair_user,
                        question_id=qv.question_id,
                        question_version=qv.version,
                        difficulty=qv.difficulty,
                        topic=topic,
                        state=RoomState.starting.value,
                        message=note,
                        created=now,
                    )
                )
                s.flush()
                for t in (a, b):
                    s.add(RoomMember(room_id=room_id, username=t.username, active=True))
                messages = {
                    t.id: (
                        f"Matched with {other.username} on {qv.title} "
                        f"({describe(qv.difficulty, qv.topics)}). {note}"
                    ).strip()
                    for t, other in ((a, b), (b, a))
                }
                for t in (a, b):
                    claimed = s.execute(
                        update(Ticket)
                        .where(Ticket.id == t.id, Ticket.state == TicketState.waiting.value)
                        .values(
                            state=TicketState.matched.value,
                            room_id=room_id,
                            updated=now,
                            message=messages[t.id],
                        )
                        .execution_options(synchronize_session=False)
                    )
                    if claimed.rowcount != 1:  # type: ignore[attr-defined]
                        raise _Lost(t.id)
                s.flush()
        except (IntegrityError, _Lost) as e:
            self.log.warning("Pair %s + %s not made: %s", a.id, b.id, e)
            return None
        for t in (a, b):
            # The UPDATE above changed the rows; bring the loaded objects up to date without
            # another round trip (and without marking them dirty).
            set_committed_value(t, "state", TicketState.matched.value)
            set_committed_value(t, "room_id", room_id)
            set_committed_value(t, "updated", now)
            set_committed_value(t, "message", messages[t.id])
            metrics.observe_match(_ts(now) - _ts(t.created), difficulty=t.difficulty)
        self.log.info(
            "Room %s created: %s + %s on %s v%s (tickets %s, %s)",
            room_id,
            a.username,
            b.username,
            qv.question_id,
            qv.version,
            a.id,
            b.id,
        )
        return room_id

    def pick_question(
        self, s: Session, agreed: Agreement, usernames: Sequence[str]
    ) -> tuple[PickedQuestion, str] | None:
        """The question for a pair, and a note when it is not what they agreed on.

        Best: the agreed difficulty and one of the agreed topics, attempted by neither student.
        Without one, the closest: agreed difficulty any topic, then a neighbouring difficulty.
        """
        rows = self._current_questions(s)
        if not rows:
            return None
        attempted: dict[str, int] = {}
        for (qid,) in s.execute(
            select(Room.question_id)
            .join(RoomMember, RoomMember.room_id == Room.id)
            .where(RoomMember.username.in_(list(usernames)))
        ).all():
            attempted[qid] = attempted.get(qid, 0) + 1
        want = DIFFICULTIES.index(agreed.difficulty)

        def rank(row: Any) -> tuple[int, int, int, float]:
            d = DIFFICULTIES.index(row.difficulty) if row.difficulty in DIFFICULTIES else 9
            topical = any(x in agreed.topics for x in row.topics)
            # Criteria first (difficulty, then topic), then not attempted, then random.
            return (
                abs(d - want),
                0 if topical else 1,
                attempted.get(row.question_id, 0),
                random.random(),  # noqa: S311 (variety, not secrecy)
            )

        best = min(rows, key=rank)
        note = ""
        best_rank = rank(best)
        if best_rank[0] or best_rank[1]:
            note = (
                f"No question matches {describe(agreed.difficulty, agreed.topics)}; "
                f"picked the closest: {best.title} ({describe(best.difficulty, best.topics)})."
            )
        return (
            PickedQuestion(
                question_id=best.question_id,
                version=best.version,
                title=best.title,
                difficulty=best.difficulty,
                topics=list(best.topics),
            ),
            note,
        )

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
            "room": self._room_json(s, t) if t.room_id else None,
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


class _Lost(Exception):
    """A ticket was no longer waiting when we tried to claim it."""


def relax_message_for_new() -> str:
    return "Looking for a partner with the same difficulty, topic and language."


def as_utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)
