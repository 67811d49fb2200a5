"""The session record in the service: pair servers send it, history reads it.

- ``POST /api/record``: a pair server's batch of Yjs updates (``record_hook.py``), with the
  pair server's own hub token. The hub says whose token it is; only the pair user of an active
  (or ending) room may send, and the batch is filed under that room, whatever the body says.
  A notebook in the batch becomes the room's snapshot (what history holds if the server dies).
- ``GET /api/history/{id}/record``: metrics, pastes, run diffs, authorship and the replay
  steps of an attempt; ``GET /api/rooms/{id}/pastes`` the pastes of a live room, for the
  partner. A member of the room or an instructor of one of its students; 404 for anyone else.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from tornado import web
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from traitlets import Float, Integer, Unicode
from traitlets.config import LoggingConfigurable

from .. import db, record
from ..db.models import Room, RoomState, Run, utcnow
from ..db.record_models import RecordBatch
from ..record import codec
from ..record.summary import RunFact, summarize
from . import record_report
from .auth import is_pair_user
from .handlers.base import APIHandler, authenticated
from .handlers.classview import ClassHandlerBase
from .record_store import load_entries
from .rooms import state as roomstate

assert record  # the package docstring explains the pieces

LIVE = (RoomState.active.value, RoomState.ending.value)


class SessionRecord(LoggingConfigurable):
    """How the service reads a session record."""

    paste_chars = Integer(
        200,
        help="""An insertion of more than this many characters in one change is flagged as a
        paste (who, when, what) for the partner and in history. Typing never inserts more than
        a few characters per change; an autocompletion rarely more than a line.""",
    ).tag(config=True)

    active_gap = Float(
        20.0,
        help="""Seconds between two edits of a student that still count as typing time; a
        longer pause is not counted (collaboration metrics).""",
    ).tag(config=True)

    token_cache_seconds = Float(
        60.0,
        help="""Seconds the hub's answer about a pair server's token is remembered (a pair
        server sends a batch every couple of seconds).""",
    ).tag(config=True)

    report_chromium = Unicode(
        "/usr/bin/chromium",
        help="""The Chromium executable that prints attempt reports to PDF (through Playwright,
        installed with ``pip install jupyter-peerprep[report]``). The HTML report works without
        it.""",
    ).tag(config=True)

    report_timeout = Float(
        60.0, help="Seconds a PDF report may take to print before the request fails."
    ).tag(config=True)


def settings_of(handler: APIHandler) -> SessionRecord:
    """The session record's settings, made once per service from its config."""
    found = handler.settings.get("peerprep_session_record")
    if found is None:
        found = SessionRecord(parent=handler.service)
        handler.settings["peerprep_session_record"] = found
    return found


def record_json(
    factory: sessionmaker[Session], room_id: str, paste_chars: int, active_gap: float
) -> dict[str, Any]:
    """The record of a room as history shows it (in a worker thread: replay takes a while)."""
    with factory() as s:
        room = s.get(Room, room_id)
        assert room is not None
        entries = load_entries(s, room_id)
        runs = [
            RunFact(_ms(r.created), r.username, r.kind, r.passed, r.total, r.source)
            for r in s.scalars(select(Run).where(Run.room_id == room_id).order_by(Run.created))
        ]
        members = sorted(m.username for m in room.members)
        start = _ms(room.started) if room.started else (entries[0].at_ms if entries else 0)
        end = _ms(room.ended) if room.ended else int(time.time() * 1000)
    data = summarize(
        entries,
        runs,
        start_ms=start,
        end_ms=max(start, end),
        members=members,
        paste_chars=paste_chars,
        active_gap_s=active_gap,
    )
    data["room_id"] = room_id
    data["recorded"] = bool(entries)
    return data


def _ms(moment: Any) -> int:
    return int(moment.timestamp() * 1000)


class RecordIngestHandler(APIHandler):
    """A pair server sends its room's record: only with its own token, only for its room."""

    body_limit_trait = "max_upload_bytes"

    async def prepare(self) -> None:
        self.refuse_large_body()  # the pair token is checked in post, not by HubOAuth

    def check_xsrf_cookie(self) -> None:
        """Token-only: a cookie never authenticates this endpoint, so no XSRF to forge."""

    async def pair_user_of(self, token: str) -> str:
        cache: dict[str, tuple[float, str]] = self.settings.setdefault("peerprep_record_tokens", {})
        key = hashlib.sha256(token.encode()).hexdigest()
        now = time.monotonic()
        cached = cache.get(key)
        if cached and now - cached[0] < settings_of(self).token_cache_seconds:
            return cached[1]
        request = HTTPRequest(
            f"{self.service.hub_api_url.rstrip('/')}/user",
            headers={"Authorization": f"token {token}"},
            request_timeout=10,
        )
        response = await AsyncHTTPClient().fetch(request, raise_error=False)
        if response.code == 599:
            raise web.HTTPError(503, "The hub cannot be asked about this token; retry shortly.")
        model = json.loads(response.body or b"{}") if response.code == 200 else {}
        name = str(model.get("name") or "")
        if model.get("kind") != "user" or not is_pair_user(name):
            raise web.HTTPError(
                403, "Only a room's pair server sends its record, with its own hub token."
            )
        cache[key] = (now, name)
        return name

    async def post(self) -> None:
        scheme, _, token = self.request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() not in ("token", "bearer") or not token.strip():
            raise web.HTTPError(403, "Send the pair server's hub token (Authorization: token ...).")
        pair_user = await self.pair_user_of(token.strip())
        with self.db() as s:
            room_id = s.scalar(
                select(Room.id).where(Room.pair_user == pair_user, Room.state.in_(LIVE))
            )
        if room_id is None:
            raise web.HTTPError(403, f"{pair_user} hosts no live room; nothing is recorded.")
        try:
            batch_id, entries, snapshot = codec.parse_batch(self.get_json_body())
        except codec.BatchError as e:
            raise web.HTTPError(400, str(e)) from None
        duplicate = False
        if entries or snapshot is not None:
            try:
                with db.transaction(self.db) as s:
                    s.add(
                        RecordBatch(
                            room_id=room_id,
                            batch=batch_id,
                            entries=len(entries),
                            snapshot=snapshot is not None,
                            data=codec.encode(entries),
                        )
                    )
            except IntegrityError:
                duplicate = True  # a resent batch: already kept
        if snapshot is not None:
            roomstate.store_snapshot(self.db, room_id, snapshot, utcnow())
        self.write_json({"room_id": room_id, "entries": len(entries), "duplicate": duplicate})


def record_version(factory: sessionmaker[Session], room_id: str) -> tuple[Any, ...]:
    """What a room's record summary depends on: its newest batch, its runs, its end."""
    with factory() as s:
        batch = s.scalar(select(func.max(RecordBatch.id)).where(RecordBatch.room_id == room_id))
        runs = s.scalar(select(func.count(Run.id)).where(Run.room_id == room_id))
        ended = s.scalar(select(Room.ended).where(Room.id == room_id))
    return (room_id, batch, runs, ended)


class RecordReader(ClassHandlerBase):
    async def readable_room(self, room_id: str) -> Room:
        """The room if the caller is a member or an instructor of one of its students."""
        with self.db() as s:
            room = s.get(Room, room_id)
            members = {m.username for m in room.members} if room else set()
        if room is None:
            raise web.HTTPError(404, f"No attempt {room_id!r} of yours.")
        if self.identity.name in members:
            return room
        if self.identity.instructor:
            _, students = await self.class_roster()
            if students is None or members & students:
                return room
        raise web.HTTPError(404, f"No attempt {room_id!r} of yours.")

    async def summary(self, room_id: str) -> dict[str, Any]:
        """The record summary, recomputed only when a batch or a run arrived (the partner's
        panel polls the pastes of a live room)."""
        conf = settings_of(self)
        cache: dict[tuple[Any, ...], dict[str, Any]] = self.settings.setdefault(
            "peerprep_record_summaries", {}
        )
        key = record_version(self.db, room_id)
        if key not in cache:
            if len(cache) >= 64:
                cache.pop(next(iter(cache)))
            cache[key] = await asyncio.to_thread(
                record_json, self.db, room_id, conf.paste_chars, conf.active_gap
            )
        return cache[key]


class RecordHandler(RecordReader):
    @authenticated
    async def get(self, room_id: str) -> None:
        await self.readable_room(room_id)
        self.write_json(await self.summary(room_id))


class ReportHandler(RecordReader):
    """The attempt's report: ``report.html`` (the page) or ``report.pdf`` (it, printed)."""

    @authenticated
    async def get(self, room_id: str, kind: str) -> None:
        await self.readable_room(room_id)
        conf = settings_of(self)
        summary = await self.summary(room_id)
        html = await asyncio.to_thread(record_report.report_html, self.db, room_id, summary)
        if kind == "html":
            self.set_header("Content-Type", "text/html; charset=UTF-8")
            self.set_header(
                "Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'"
            )
            self.finish(html)
            return
        try:
            pdf = await asyncio.wait_for(
                record_report.pdf_of(html, conf.report_chromium, conf.report_timeout),
                conf.report_timeout,
            )
        except ImportError:
            raise web.HTTPError(
                503,
                "PDF reports need Playwright on the service: pip install "
                "'jupyter-peerprep[report]'; the HTML report works meanwhile.",
            ) from None
        except Exception as e:
            self.service.log.error("Record: report of room %s not printed: %s", room_id, e)
            raise web.HTTPError(
                503,
                f"The PDF report could not be printed ({type(e).__name__}); check "
                "SessionRecord.report_chromium. The HTML report works meanwhile.",
            ) from None
        self.set_header("Content-Type", "application/pdf")
        self.set_header(
            "Content-Disposition", f'attachment; filename="peerprep-attempt-{room_id}.pdf"'
        )
        self.finish(pdf)


class LivePastesHandler(RecordReader):
    """The pastes of a live room so far, for the partner's room panel."""

    @authenticated
    async def get(self, room_id: str) -> None:
        await self.readable_room(room_id)
        data = await self.summary(room_id)
        self.write_json({"pastes": data["pastes"]})


ROOM_ID = r"([0-9a-f]{32})"
record_handlers: list[tuple[str, type]] = [
    (r"api/record", RecordIngestHandler),
    (rf"api/history/{ROOM_ID}/record", RecordHandler),
    (rf"api/rooms/{ROOM_ID}/pastes", LivePastesHandler),
    (rf"api/history/{ROOM_ID}/report\.(pdf|html)", ReportHandler),
]
