"""Prometheus metrics of the PeerPrep service, served at ``/services/peerprep/metrics``.

Two kinds:

- **Counted in process** (module-level, so feature modules import and update them):
  ``MATCH_LATENCY`` (histogram, seconds from a ticket's creation to its match, by difficulty),
  ``MATCH_BATCH_REQUESTS`` / ``MATCH_BATCH_SECONDS`` (how many match requests each database
  transaction wrote, and how long it took) and ``RUNS`` (counter of Run/Submit results by kind
  and verdict), ``ROOMS_FAILED`` (``peerprep_rooms_failed_total{reason}``, rooms that failed
  by what happened) and ``EVENT_LOOP_LAG`` (``peerprep_event_loop_lag_seconds``, how late a
  periodic timer ran: what every request waited for a blocked loop). Use the helpers::

      from jupyter_peerprep.hub import metrics
      metrics.observe_match(seconds, difficulty="easy")
      metrics.count_run(kind="submit", verdict="passed")

  With several service replicas each replica counts its own share; Prometheus sums them
  (``sum(rate(peerprep_runs_total[5m]))``).
- **Observed without touching the code they watch** (``instrument_grader`` and an SQLAlchemy
  event listener installed on import): ``peerprep_grader_*`` (sandbox runs waiting for and
  holding one of ``Grader.max_concurrent`` slots, and how long) and
  ``peerprep_database_errors_total{kind}`` (every error the database driver raised, by kind).
- ``peerprep_room_ready_seconds`` (from a match to its room being active) is observed where a
  room becomes active, ``rooms/state.mark_active``.
- **Read from the database at scrape time** (``DatabaseCollector``): queue length per category
  (``peerprep_queue_length{difficulty,language}`` and ``..._by_topic{topic}``), the oldest
  waiting ticket's age, rooms per state (``peerprep_active_rooms``, ``peerprep_rooms``), and
  the warm pool (``peerprep_pair_servers{state}``, ``peerprep_warm_pool_target``).
  Every replica reports the same database, so aggregate these with ``max``, not ``sum``.

The handler may require a bearer token (``PeerPrepService.metrics_token``); the numbers are
aggregates with no user names in them.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import time
from collections import Counter as TallyCounter
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from typing import Any, Literal

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session
from tornado import web

from ..db.models import (
    Difficulty,
    PairServer,
    PairServerState,
    Room,
    RoomState,
    Ticket,
    TicketState,
)

log = logging.getLogger(__name__)

MATCH_LATENCY = Histogram(
    "peerprep_match_latency_seconds",
    "Seconds from a ticket's creation to its match, by the ticket's difficulty.",
    ["difficulty"],
    buckets=(0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800),
)

MATCH_BATCH_REQUESTS = Histogram(
    "peerprep_match_batch_requests",
    "Match requests written per database transaction (group commit: requests that arrive "
    "while one batch is written share the next).",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
)

MATCH_BATCH_SECONDS = Histogram(
    "peerprep_match_batch_seconds",
    "Seconds to write one batch of match requests (checks, tickets, pairing, rooms, commit).",
    buckets=(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)

RUNS = Counter(
    "peerprep_runs",
    "Run (public tests) and Submit (hidden tests) results, by kind and verdict.",
    ["kind", "verdict"],
)

ROOMS_FAILED = Counter(
    "peerprep_rooms_failed",
    "Rooms that failed, by what happened: server_lost (the pair server died or stopped "
    "answering; the room was ended with the last copy of its notebook), start_failed (the "
    "room could not be started), stop_failed (stopping its server failed; retried).",
    ["reason"],
)
ROOM_FAILURE_REASONS = ("server_lost", "start_failed", "stop_failed")
for _reason in ROOM_FAILURE_REASONS:
    ROOMS_FAILED.labels(reason=_reason)  # every reason shows on /metrics from the start

EVENT_LOOP_LAG = Histogram(
    "peerprep_event_loop_lag_seconds",
    "How late the service's event loop ran a timer (a periodic callback): the time every "
    "request waited because something held the loop. Healthy: well under 0.05 s.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)

ROOM_READY = Histogram(
    "peerprep_room_ready_seconds",
    "Seconds from a match (the room's creation) to the room being active: both students can "
    "open the shared notebook. Well under a second from the warm pool; a cold spawn takes "
    "seconds.",
    buckets=(0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300),
)

DATABASE_ERRORS = Counter(
    "peerprep_database_errors",
    "Errors the database driver raised, by kind: operational (connection lost, database "
    "locked, timeout), integrity (a constraint refused a write; a few are expected, e.g. a "
    "second open ticket of one student), other.",
    ["kind"],
)
for _kind in ("operational", "integrity", "other"):
    DATABASE_ERRORS.labels(kind=_kind)

GRADER_QUEUE = Gauge(
    "peerprep_grader_queue_length",
    "Grader sandbox runs waiting for a free slot (Grader.max_concurrent) in this replica.",
)
GRADER_RUNNING = Gauge(
    "peerprep_grader_running", "Grader sandbox runs in progress in this replica."
)
GRADER_SLOTS = Gauge(
    "peerprep_grader_slots",
    "Grader sandbox runs this replica allows at once (Grader.max_concurrent).",
)
GRADER_WAIT_SECONDS = Histogram(
    "peerprep_grader_wait_seconds",
    "Seconds a grader sandbox run waited for a free slot.",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
)
GRADER_RUN_SECONDS = Histogram(
    "peerprep_grader_run_seconds",
    "Seconds a grader sandbox run held its slot (a Run's or Submit's cases, or a Submit's "
    "complexity measurement).",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60),
)

# Rooms in these states hold (or are about to hold) a pair server.
LIVE_ROOM_STATES = (RoomState.starting.value, RoomState.active.value, RoomState.ending.value)


def observe_match(seconds: float, *, difficulty: str) -> None:
    """Record how long a ticket waited before it was matched."""
    MATCH_LATENCY.labels(difficulty=difficulty).observe(max(0.0, seconds))


def observe_match_batch(requests: int, seconds: float) -> None:
    """Record one written batch of match requests: how many, and how long it took."""
    MATCH_BATCH_REQUESTS.observe(requests)
    MATCH_BATCH_SECONDS.observe(seconds)


def count_run(*, kind: str, verdict: str) -> None:
    """Count one graded Run or Submit (``kind`` "run" | "submit", ``verdict`` from the report)."""
    RUNS.labels(kind=kind, verdict=verdict or "unknown").inc()


def count_room_failure(reason: str) -> None:
    """Count one failed room (``reason`` one of ``ROOM_FAILURE_REASONS``)."""
    ROOMS_FAILED.labels(reason=reason).inc()


class LoopLagMonitor:
    """Measures the event loop's lag: a timer due every ``interval`` seconds records how late
    it ran in ``EVENT_LOOP_LAG``. Anything that blocks the loop (a synchronous wait on a lock,
    a long computation) shows up here, whatever it was."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.interval > 0:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + self.interval
            await asyncio.sleep(self.interval)
            EVENT_LOOP_LAG.observe(max(0.0, loop.time() - due))


class GraderSlots(asyncio.Semaphore):
    """The grader's semaphore, counting the runs that wait for and hold a sandbox slot."""

    def __init__(self, slots: int) -> None:
        super().__init__(slots)
        GRADER_SLOTS.set(slots)
        # When each task holding a slot got it (``async with`` acquires and releases in one task).
        self._since: dict[asyncio.Task[Any] | None, float] = {}

    async def acquire(self) -> Literal[True]:
        started = time.monotonic()
        GRADER_QUEUE.inc()
        try:
            await super().acquire()
        finally:
            GRADER_QUEUE.dec()
        now = time.monotonic()
        GRADER_WAIT_SECONDS.observe(now - started)
        GRADER_RUNNING.inc()
        self._since[asyncio.current_task()] = now
        return True

    def release(self) -> None:
        since = self._since.pop(asyncio.current_task(), None)
        if since is not None:
            GRADER_RUN_SECONDS.observe(time.monotonic() - since)
            GRADER_RUNNING.dec()
        super().release()


def instrument_grader(grader: Any) -> None:
    """Count the sandbox runs of ``grader`` (a ``Grader``) in the ``peerprep_grader_*``
    metrics: give it a counting semaphore with its ``max_concurrent`` slots."""
    grader._semaphore = GraderSlots(grader.max_concurrent)


def _database_error_kind(error: BaseException | None) -> str:
    if isinstance(error, OperationalError):
        return "operational"
    if isinstance(error, IntegrityError):
        return "integrity"
    return "other"


@event.listens_for(Engine, "handle_error")
def _count_database_error(context: Any) -> None:
    DATABASE_ERRORS.labels(kind=_database_error_kind(context.sqlalchemy_exception)).inc()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class DatabaseCollector(Collector):
    """Gauges computed from the service database each time Prometheus scrapes."""

    def __init__(
        self,
        session_factory: Callable[[], Session],
        pool_target: Callable[[], int] | None = None,
    ) -> None:
        self.session_factory = session_factory
        # The configured warm pool size (RoomManager.warm_pool_size), for the pool alert.
        self.pool_target = pool_target

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily(
            "peerprep_database_up", "1 if the last scrape could read the service database."
        )
        try:
            families = list(self._families())
        except SQLAlchemyError as e:
            log.error("Metrics: cannot read the database: %s", e)
            up.add_metric([], 0)
            return [up]
        up.add_metric([], 1)
        return [up, *families]

    def _families(self) -> Iterator[Metric]:
        now = datetime.now(timezone.utc)
        with self.session_factory() as session:
            waiting = session.execute(
                select(Ticket.difficulty, Ticket.language, Ticket.topics, Ticket.created).where(
                    Ticket.state == TicketState.waiting.value
                )
            ).all()
            rooms = dict(
                session.execute(
                    select(Room.state, func.count())
                    .where(Room.state.in_(LIVE_ROOM_STATES))
                    .group_by(Room.state)
                ).all()
            )
            # When each room in a transitional state entered it: starting from its creation,
            # ending from the end request.
            since = dict(
                session.execute(
                    select(Room.state, func.min(Room.created))
                    .where(Room.state == RoomState.starting.value)
                    .group_by(Room.state)
                ).all()
            ) | dict(
                session.execute(
                    select(Room.state, func.min(Room.ended))
                    .where(Room.state == RoomState.ending.value)
                    .group_by(Room.state)
                ).all()
            )
            servers = dict(
                session.execute(
                    select(PairServer.state, func.count())
                    .where(PairServer.state != PairServerState.retired.value)
                    .group_by(PairServer.state)
                ).all()
            )

        by_category: TallyCounter[tuple[str, str]] = TallyCounter(
            {(d.value, "python"): 0 for d in Difficulty}
        )
        by_topic: TallyCounter[str] = TallyCounter()
        oldest: dict[str, float] = {d.value: 0.0 for d in Difficulty}
        for difficulty, language, topics, created in waiting:
            by_category[(difficulty, language)] += 1
            for topic in topics or ["any"]:
                by_topic[str(topic)] += 1
            if created.tzinfo is None:
                created = created.replace(tzinfo=timezone.utc)
            age = (now - created).total_seconds()
            oldest[difficulty] = max(oldest.get(difficulty, 0.0), age)

        queue = GaugeMetricFamily(
            "peerprep_queue_length",
            "Tickets waiting to be matched, by difficulty and language.",
            labels=["difficulty", "language"],
        )
        for (difficulty, language), count in sorted(by_category.items()):
            queue.add_metric([difficulty, language], count)
        yield queue

        topic_queue = GaugeMetricFamily(
            "peerprep_queue_length_by_topic",
            "Waiting tickets that asked for each topic ('any' when none was chosen).",
            labels=["topic"],
        )
        for topic, count in sorted(by_topic.items()):
            topic_queue.add_metric([topic], count)
        yield topic_queue

        wait = GaugeMetricFamily(
            "peerprep_queue_oldest_wait_seconds",
            "Age of the oldest waiting ticket, by difficulty (0 when none waits).",
            labels=["difficulty"],
        )
        for difficulty, age in sorted(oldest.items()):
            wait.add_metric([difficulty], age)
        yield wait

        active = GaugeMetricFamily(
            "peerprep_active_rooms", "Rooms both students can work in now (state active)."
        )
        active.add_metric([], rooms.get(RoomState.active.value, 0))
        yield active

        by_state = GaugeMetricFamily(
            "peerprep_rooms",
            "Rooms holding a pair server, by state (starting, active, ending).",
            labels=["state"],
        )
        for state in LIVE_ROOM_STATES:
            by_state.add_metric([state], rooms.get(state, 0))
        yield by_state

        oldest_room = GaugeMetricFamily(
            "peerprep_rooms_oldest_seconds",
            "How long the oldest room in a transitional state has been in it (starting: since "
            "the match; ending: since the end request); 0 when none is. A room stays starting "
            "for seconds (a cold spawn) and ending for about one room-manager tick.",
            labels=["state"],
        )
        for state in (RoomState.starting.value, RoomState.ending.value):
            entered = since.get(state)
            age = (now - _aware(entered)).total_seconds() if entered is not None else 0.0
            oldest_room.add_metric([state], max(0.0, age))
        yield oldest_room

        pool = GaugeMetricFamily(
            "peerprep_pair_servers",
            "Pair servers by state: warming (starting), ready (the warm pool, unassigned), "
            "assigned (hosting a room).",
            labels=["state"],
        )
        for server_state in ("warming", "ready", "assigned"):
            pool.add_metric([server_state], servers.get(server_state, 0))
        yield pool

        if self.pool_target is not None:
            target = GaugeMetricFamily(
                "peerprep_warm_pool_target",
                "Ready pair servers the warm pool should hold (RoomManager.warm_pool_size).",
            )
            target.add_metric([], self.pool_target())
            yield target


def exposition(database: CollectorRegistry) -> bytes:
    """The text exposition: process-wide metrics, then the database gauges."""
    return generate_latest(REGISTRY) + generate_latest(database)


def database_registry(
    session_factory: Callable[[], Session], pool_target: Callable[[], int] | None = None
) -> CollectorRegistry:
    """A registry holding one service instance's database gauges."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(session_factory, pool_target))
    return registry


class MetricsHandler(web.RequestHandler):
    """``GET /metrics``: Prometheus text format, optionally behind a bearer token."""

    def initialize(self, service: Any) -> None:
        self.service = service  # a route argument, like the API handlers' (handlers/base.py)

    def _authorized(self) -> bool:
        expected: str = self.service.metrics_token
        if not expected:
            return True
        header = self.request.headers.get("Authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() not in {"bearer", "token"}:
            return False
        return hmac.compare_digest(given.strip().encode(), expected.encode())

    async def get(self) -> None:
        self.set_header("Cache-Control", "no-store")
        if not self._authorized():
            self.set_status(403)
            self.set_header("Content-Type", "application/json; charset=UTF-8")
            self.finish(
                '{"status": 403, "message": "Metrics need the scrape token: send '
                "'Authorization: Bearer <PeerPrepService.metrics_token>'.\"}"
            )
            return
        registry = self.settings.get("peerprep_metrics_registry")
        if registry is None:
            service = self.service

            def pool_target() -> int:
                rooms = getattr(service, "rooms", None)
                return int(rooms.warm_pool_size) if rooms is not None else 0

            registry = database_registry(service.session_factory, pool_target)
            self.settings["peerprep_metrics_registry"] = registry
        body = exposition(registry)
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.finish(body)
