"""Run and Submit in a room: ``/services/peerprep/api/rooms/{room_id}/runs``.

- ``POST {"kind": "run" | "submit", "source": "<the solution>"}``: grades ``source`` in a fresh
  sandbox. *Run* uses the question's public tests and shows everything about each case;
  *Submit* uses the hidden tests and shows per case only a name, pass/fail and a generic
  reason, plus a measured complexity when the question has a complexity block. The run is
  stored (``Run``) with exactly what the students may see, and answered with 201.
- ``GET``: the room's runs, newest first, for both partners (``?limit=``, default 50).

A POST may carry ``"idempotency_key"`` (1 to 100 characters, like a match request): a retry
with the same key by the same student in the same room gets the run already made (200), never
a second grading; the same key with a different kind or source is a 409. Runs are rate limited
per student (``RateLimiter.runs_per_minute``; 429 with ``Retry-After``).

Only active members of an active room may do either. One run at a time per room: a second
request while one is grading gets 429 with ``Retry-After`` and a message to wait. The room's
"being graded" mark is ``Room.grading_since`` in the database, claimed with a conditional
UPDATE, so it holds across service replicas; a mark left by a replica that died mid-run lapses
after the grader's longest run plus ``Grader.busy_room_margin_s``.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from tornado import web

from ... import db
from ...db.models import Room, RoomMember, RoomState, Run, new_id, utcnow
from ...grader import ComplexityReport, Grader, GradeReport, GraderInputError
from .. import metrics
from ..ratelimit import TooManyRequests
from .base import APIHandler, authenticated

MAX_SOURCE_BYTES = 64 * 1024
KINDS = ("run", "submit")
# Seconds a request that found its room busy is told to wait before retrying.
BUSY_RETRY_AFTER_S = 2


def run_to_json(run: Run) -> dict[str, Any]:
    report = run.report or {}
    return {
        "id": run.id,
        "kind": run.kind,
        "username": run.username,
        "created": run.created.isoformat(),
        "passed": run.passed,
        "total": run.total,
        "verdict": run.verdict,
        "message": report.get("message", ""),
        "cases": report.get("cases", []),
        "complexity": report.get("complexity"),
    }


class RunsHandler(APIHandler):
    """Run (public tests) and Submit (hidden tests) for a room, and the room's run list."""

    @property
    def grader(self) -> Grader:
        grader: Grader | None = getattr(self.service, "grader", None)
        if grader is None:
            raise web.HTTPError(503, "The grader is not running on this service.")
        return grader

    def _room_for_member(self, room_id: str, *, must_be_active: bool) -> Room:
        with self.db() as session:
            room = session.get(Room, room_id)
            if room is None:
                raise web.HTTPError(404, f"No room {room_id!r}.")
            member = session.scalar(
                select(RoomMember).where(
                    RoomMember.room_id == room_id, RoomMember.username == self.identity.name
                )
            )
            if member is None:
                raise web.HTTPError(403, f"You are not a member of room {room_id!r}.")
            if must_be_active and (not member.active or room.state != RoomState.active.value):
                raise web.HTTPError(
                    409,
                    f"Room {room_id!r} is {room.state}; runs are only possible while the "
                    f"session is active.",
                )
            session.expunge(room)
            return room

    def _spec(self, room: Room) -> dict[str, Any]:
        from ...questions.store import NotFound, load_spec

        with self.db() as session:
            try:
                return load_spec(session, room.question_id, room.question_version)
            except NotFound as e:
                raise web.HTTPError(409, f"{e} The room's question is gone.") from None

    def _claim_room(self, room_id: str) -> datetime | None:
        """Mark the room as being graded; None if a run already is (on any replica).

        One conditional UPDATE decides, so two requests cannot both win: on SQLite the write
        lock serialises them, on PostgreSQL the second re-checks the row after the first
        commits. A mark older than the grader's longest run plus a margin was left by a
        replica that died mid-run and is taken over.
        """
        now = utcnow()
        lapse = self.grader.longest_run_s() + self.grader.busy_room_margin_s
        with db.transaction(self.db) as session:
            result = session.execute(
                update(Room)
                .where(
                    Room.id == room_id,
                    or_(
                        Room.grading_since.is_(None),
                        Room.grading_since < now - timedelta(seconds=lapse),
                    ),
                )
                .values(grading_since=now)
                .execution_options(synchronize_session=False)
            )
            claimed = bool(result.rowcount)  # type: ignore[attr-defined]
        return now if claimed else None

    def _release_room(self, room_id: str, claim: datetime) -> None:
        """Clear this request's mark (not a newer one that took over a lapsed mark of ours)."""
        try:
            with db.transaction(self.db) as session:
                session.execute(
                    update(Room)
                    .where(Room.id == room_id, Room.grading_since == claim)
                    .values(grading_since=None)
                    .execution_options(synchronize_session=False)
                )
        except SQLAlchemyError as e:
            # Never hide the run's own outcome; the mark lapses by itself.
            self.service.log.error(
                "Room %s: could not clear its grading mark (%s); it lapses after %.0fs",
                room_id,
                e,
                self.grader.longest_run_s() + self.grader.busy_room_margin_s,
            )

    @authenticated
    async def get(self, room_id: str) -> None:
        self._room_for_member(room_id, must_be_active=False)
        raw = self.get_query_argument("limit", "50")
        try:
            limit = int(raw)
        except ValueError:
            raise web.HTTPError(400, f"limit must be an integer, got {raw!r}.") from None
        if not 1 <= limit <= 500:
            raise web.HTTPError(400, f"limit must be between 1 and 500, got {limit}.")
        with self.db() as session:
            runs = session.scalars(
                select(Run)
                .where(Run.room_id == room_id)
                .order_by(Run.created.desc(), Run.id)
                .limit(limit)
            ).all()
            self.write_json({"runs": [run_to_json(r) for r in runs]})

    def _earlier_run(self, room_id: str, key: str, kind: str, source: str) -> dict[str, Any] | None:
        """The run this student already made in this room with ``key``, if any."""
        with self.db() as session:
            run = session.scalar(
                select(Run).where(
                    Run.room_id == room_id,
                    Run.username == self.identity.name,
                    Run.idempotency_key == key,
                )
            )
            if run is None:
                return None
            if run.kind != kind or run.source != source:
                raise web.HTTPError(
                    409,
                    f"idempotency_key {key!r} was used for a different run in this room; use "
                    f"a new key for a new run, the same one only to retry the same request.",
                )
            return run_to_json(run)

    @authenticated
    async def post(self, room_id: str) -> None:
        body = self.get_json_object()
        kind = body.get("kind")
        source = body.get("source")
        key = body.get("idempotency_key", new_id())
        if kind not in KINDS:
            raise web.HTTPError(400, f'"kind" must be "run" or "submit", got {kind!r}.')
        if not isinstance(source, str):
            raise web.HTTPError(400, '"source" must be the solution code as a string.')
        if len(source.encode()) > MAX_SOURCE_BYTES:
            raise web.HTTPError(
                400, f"The solution is larger than {MAX_SOURCE_BYTES // 1024} KB; shorten it."
            )
        if not isinstance(key, str) or not 0 < len(key) <= 100:
            raise web.HTTPError(
                400,
                "idempotency_key must be a string of 1 to 100 characters, reused only when "
                "retrying the same request.",
            )
        room = self._room_for_member(room_id, must_be_active=True)
        earlier = self._earlier_run(room_id, key, kind, source)
        if earlier is not None:
            self.write_json(earlier, status=200)
            return
        self.service.rate_limits.take("runs", self.identity.name)
        spec = self._spec(room)
        claim = self._claim_room(room_id)
        if claim is None:
            raise TooManyRequests(
                BUSY_RETRY_AFTER_S,
                "A run is already being graded in this room; wait for its result.",
            )
        try:
            # A copy of this request may have finished while we waited for the room.
            earlier = self._earlier_run(room_id, key, kind, source)
            if earlier is not None:
                self.write_json(earlier, status=200)
                return
            data, report, created = await self._grade_and_store(room, kind, source, spec, key)
        finally:
            # After the run is stored: a retry that claims the room next finds it.
            self._release_room(room_id, claim)
        if not created:
            self.write_json(data, status=200)
            return
        self.service.log.info(
            "Run %s in room %s by %s: %s %s %d/%d",
            data["id"],
            room_id,
            self.identity.name,
            kind,
            report.verdict,
            report.passed,
            report.total,
        )
        metrics.count_run(kind=kind, verdict=report.verdict)
        self.write_json(data, status=201)

    async def _grade_and_store(
        self, room: Room, kind: str, source: str, spec: dict[str, Any], key: str
    ) -> tuple[dict[str, Any], GradeReport, bool]:
        """Grade, then store the run; (its json, the report, whether this request stored it)."""
        try:
            report, complexity = await self._grade(kind, source, spec)
        except GraderInputError as e:
            self.service.log.error(
                "Room %s: question %s cannot be graded: %s", room.id, room.question_id, e
            )
            raise web.HTTPError(
                409, f"This question cannot be graded ({e}); tell your instructor."
            ) from None
        reveal = kind == "run"
        stored = report.to_json(reveal=reveal)
        stored["complexity"] = complexity.to_json() if complexity else None
        try:
            with db.transaction(self.db) as session:
                run = Run(
                    room_id=room.id,
                    username=self.identity.name,
                    idempotency_key=key,
                    kind=kind,
                    source=source,
                    passed=report.passed,
                    total=report.total,
                    verdict=report.verdict,
                    report=stored,
                )
                session.add(run)
                session.flush()
                data = run_to_json(run)
        except IntegrityError:
            # Stored meanwhile by a copy of this request whose room mark had lapsed.
            earlier = self._earlier_run(room.id, key, kind, source)
            if earlier is None:
                raise
            return earlier, report, False
        return data, report, True

    async def _grade(
        self, kind: str, source: str, spec: dict[str, Any]
    ) -> tuple[GradeReport, ComplexityReport | None]:
        cases = spec.get("public_tests" if kind == "run" else "hidden_tests") or []
        grading = self.grader.run_cases(
            source=source,
            entry_point=spec["entry_point"],
            cases=cases,
            checker=spec.get("checker") or "exact",
            checker_source=spec.get("checker_source"),
            limits=spec.get("limits"),
        )
        block = spec.get("complexity")
        if kind != "submit" or not block or not spec.get("generator"):
            return await grading, None
        measuring = self.grader.measure_complexity(
            source=source,
            entry_point=spec["entry_point"],
            generator=spec["generator"],
            sizes=list(block.get("sizes") or []),
            expected=block.get("expected"),
            repeats=int(block.get("repeats") or 3),
            limits=spec.get("limits"),
        )
        report, complexity = await asyncio.gather(grading, measuring)
        return report, complexity


run_handlers: list[tuple[str, type]] = [
    (r"api/rooms/([0-9a-f]{32})/runs", RunsHandler),
]
