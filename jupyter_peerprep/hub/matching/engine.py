"""The matching engine: ``Matchmaker``, the configurable the service runs.

It owns the settings (traits), the loop that ticks every ``tick_interval``, and the public
operations the handlers call (``validate_request``, ``enqueue``, ``get``, ``cancel``); the
work is done by the batched writer (``writer.py``), the tick (``ticks.py``), room creation
(``rooms.py``) and the views (``views.py``). How matching works, and why it is safe across
several service processes: docs/explanation/matching.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from traitlets import Bool, Float, Integer, List, TraitError, Unicode, default, validate
from traitlets.config import LoggingConfigurable

from ... import db
from ...db.models import Ticket, TicketState, utcnow
from ..room_language import offered_languages
from . import sql
from .core import Agreement, Policy, Waiting
from .question_choice import PublishedQuestions
from .requests import MatchError, MatchRequest, parse_request
from .rooms import MadeRoom, RoomMaker
from .streams import TicketNotifier, read_followed
from .ticks import Ticker, finish
from .views import ticket_json
from .writer import BatchWriter


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

    synchronous_commit = Bool(
        False,
        help="""On PostgreSQL, whether a matching transaction (a batch of match requests, a
        tick) waits for the database to flush it to disk before answering. Off by default,
        as the service's SQLite setting (synchronous=NORMAL) is: a crash of the database
        server (not of the service) can then lose the matches of its last fraction of a
        second (at most 3 x PostgreSQL's wal_writer_delay, 0.6 s by default; the database is
        never corrupted, and any later durable commit flushes them too), and a match no longer
        pays a disk flush (about 6 ms on this project's test machine, most of a match's
        latency). Set True if even that window is unacceptable.""",
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
        help="""Languages students may ask for. Defaults to those whose kernels this host
        provides: python, plus javascript and typescript when the peerprep-deno kernel spec
        and Deno are installed.""",
    ).tag(config=True)

    @default("languages")
    def _default_languages(self) -> list[str]:
        return offered_languages()  # the kernels present (room_language.py)

    room_url_template = Unicode(
        help="""URL of a pair's room, formatted with {pair_user} and {room_id}. Defaults to the
        service's room page (/services/peerprep/rooms/{room_id}), which shows progress while the
        pair server starts and then redirects into the shared JupyterLab.""",
    ).tag(config=True)

    @default("room_url_template")
    def _default_room_url_template(self) -> str:
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
        self.room_maker = RoomMaker(PublishedQuestions(clock, lambda: self.tick_interval), self.log)
        self.writer = BatchWriter(self)
        self.ticker = Ticker(self)
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self.check_config()

    def check_config(self) -> None:
        try:
            self.policy  # noqa: B018 (validates the times together)
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
        lease = timedelta(seconds=self.lease_seconds)
        views = read_followed(self.session_factory, ids, self.clock(), lease, self.ticket_json)
        self.notifier.publish(views)
        return len(views)

    def repair(self) -> dict[str, int]:
        """Bring the database to a consistent state after a crash (see ``Ticker.repair``)."""
        return self.ticker.repair()

    # -- requests ---------------------------------------------------------------------------

    def validate_request(self, body: dict[str, Any]) -> MatchRequest:
        """Check a POST /api/match body; raise MatchError(400) saying what to fix."""
        return parse_request(body, self.languages)

    async def enqueue(self, username: str, request: MatchRequest) -> tuple[dict[str, Any], bool]:
        """Open a ticket (or return the one for this idempotency key) and try to match it.

        Returns (ticket json, created). Raises MatchError(409) with the open ticket, or naming
        the active room, when the student may not open another ticket.

        Requests are written in batches (group commit, ``writer.py``): an idle service writes
        each request at once; a busy one pays one commit for many students.
        """
        return await self.writer.enqueue(username, request)

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
                finish(ticket, TicketState.cancelled.value, "You left the queue.", now)
                self.log.info("Ticket %s cancelled by %s", ticket_id, username)
            result = self.ticket_json(s, ticket, now)
        self.notifier.notify([ticket_id])
        return result

    def ticket_json(self, s: Session, t: Ticket, now: datetime) -> dict[str, Any]:
        return ticket_json(s, t, now, self.policy, self.room_url_template)

    # -- matching ---------------------------------------------------------------------------

    async def tick(self) -> dict[str, int]:
        """One pass: expire leases, time out, relax, and pair everyone who fits."""
        counts, notify = self.ticker.tick()
        self.notifier.notify(notify)
        return counts

    def serialise(self, s: Session) -> None:
        """Make this matching transaction wait for any other one (a batch or a tick of another
        service process) to commit first, so that it sees all their tickets.

        SQLite's ``BEGIN IMMEDIATE`` already does this. On PostgreSQL a transaction-scoped
        advisory lock does: without it, two processes inserting compatible tickets at the same
        moment would each miss the other's (invisible until committed) and leave both waiting.
        """
        if self.is_postgres:
            s.connection().execute(
                sql.SERIALISE_MATCHING
                if self.synchronous_commit
                else sql.SERIALISE_MATCHING_ASYNC_COMMIT
            )

    def recent_partners(
        self, s: Session, usernames: Collection[str], now: datetime
    ) -> set[frozenset[str]]:
        """The pairs made within the rematch cooldown that involve one of ``usernames``."""
        if self.rematch_cooldown <= 0:
            return set()
        since = now - timedelta(seconds=self.rematch_cooldown)
        return sql.recent_partners(s.connection(), usernames, since)

    def _make_rooms(
        self,
        s: Session,
        pairs: Sequence[tuple[Waiting, Waiting, Agreement]],
        now: datetime,
        stored: set[str],
        writes: sql.PendingWrites | None = None,
    ) -> list[MadeRoom]:
        """Create the rooms of ``pairs`` in the caller's transaction: the one place where the
        writer and the tick turn pairs into rooms (``rooms.RoomMaker.make``)."""
        return self.room_maker.make(s, pairs, now, stored, writes)
