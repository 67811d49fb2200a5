"""Run and Submit in a room: ``/services/peerprep/api/rooms/{room_id}/runs``.

- ``POST {"kind": "run" | "submit", "source": "<the solution>"}``: grades ``source`` in a fresh
  sandbox (``hub/runs.py``) and answers the stored run with 201.
- ``GET``: the room's runs, newest first, for both partners (``?limit=``, default 50).

A POST may carry ``"idempotency_key"`` (1 to 100 characters, like a match request): a retry
with the same key by the same student in the same room gets the run already made (200), never
a second grading; the same key with a different kind or source is a 409. Runs are rate limited
per student (``RateLimiter.runs_per_minute``; 429 with ``Retry-After``).

Only members see a room's runs (``rooms/access.py``: 404 for anyone else), and only active
members of an active room may run. One run at a time per room: a second request while one is
grading gets 429 with ``Retry-After`` and a message to wait (the room's grading lock).
"""

from __future__ import annotations

from tornado import web

from ...db.models import Room, new_id
from ...grader import Grader, GraderInputError
from .. import metrics, runs
from ..ratelimit import TooManyRequests
from ..room_language import room_language
from ..rooms import access
from .base import APIHandler, authenticated

MAX_SOURCE_BYTES = 64 * 1024
# Seconds a request that found its room busy is told to wait before retrying.
BUSY_RETRY_AFTER_S = 2


class RunsHandler(APIHandler):
    """Run (public tests) and Submit (hidden tests) for a room, and the room's run list."""

    @property
    def grader(self) -> Grader:
        grader: Grader = self.running("grader")
        return grader

    def _room_for_member(self, room_id: str, *, must_be_active: bool) -> Room:
        with self.db() as session:
            room = access.member_room(session, room_id, self.identity.name)
            if must_be_active:
                access.require_active(session, room, self.identity.name)
            session.expunge(room)
            return room

    def _lock(self) -> access.GradingLock:
        lapse = self.grader.longest_run_s() + self.grader.busy_room_margin_s
        return access.GradingLock(self.db, lapse)

    def _earlier_run(self, room_id: str, key: str, kind: str, source: str) -> dict | None:
        try:
            return runs.earlier_run(self.db, room_id, self.identity.name, key, kind, source)
        except runs.RunConflict as e:
            raise web.HTTPError(409, str(e)) from None

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
        self.write_json({"runs": runs.room_runs(self.db, room_id, limit)})

    @authenticated
    async def post(self, room_id: str) -> None:
        body = self.get_json_object()
        kind = body.get("kind")
        source = body.get("source")
        key = body.get("idempotency_key", new_id())
        if kind not in runs.KINDS:
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
        try:
            spec = runs.room_spec(self.db, room)
        except runs.RunConflict as e:
            raise web.HTTPError(409, str(e)) from None
        lock = self._lock()
        claim = lock.claim(room_id)
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
            try:
                report, complexity = await runs.grade(
                    self.grader, kind, source, spec, room_language(self.db, room.id)
                )
            except GraderInputError as e:
                self.service.log.error(
                    "Room %s: question %s cannot be graded: %s", room.id, room.question_id, e
                )
                raise web.HTTPError(
                    409, f"This question cannot be graded ({e}); tell your instructor."
                ) from None
            data, created = runs.store_run(
                self.db, room_id, self.identity.name, key, kind, source, report, complexity
            )
        finally:
            # After the run is stored: a retry that claims the room next finds it.
            lock.release(room_id, claim)
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


run_handlers: list[tuple[str, type]] = [
    (r"api/rooms/([0-9a-f]{32})/runs", RunsHandler),
]
