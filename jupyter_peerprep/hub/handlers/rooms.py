"""Rooms and history: ``/api/rooms/...``, ``/api/history/...`` and the ``/rooms/{id}`` page.

``api/rooms/{id}/student-notebook``: the room's starting notebook, in the room's language.
Only the two members of a room see it (``rooms/access.py``: 404 for anyone else).
``/rooms/{id}`` is the stable address a match hands out: it waits (with progress) while the
pair server starts, then redirects into the shared JupyterLab; its HTML is the Tornado
templates ``hub/templates/room.html`` and ``room_error.html`` (autoescaped).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tornado import web

from ...db.models import Room, RoomState
from ..rooms import RoomManager, access, history
from ..talk import transcript as talk_transcript
from .base import APIHandler, authenticated

# The pages' Tornado templates (shipped in the wheel with the package).
TEMPLATES_DIR = Path(__file__).parent.parent / "templates"


class RoomHandlerBase(APIHandler):
    @property
    def rooms(self) -> RoomManager:
        rooms: RoomManager = self.running("rooms")
        return rooms

    def member_room(self, session: Any, room_id: str) -> Room:
        return access.member_room(session, room_id, self.identity.name)


class CurrentRoomHandler(RoomHandlerBase):
    """The caller's live room, if any."""

    @authenticated
    async def get(self) -> None:
        with self.db() as s:
            room = access.live_room(s, self.identity.name)
            self.write_json({"room": self.rooms.room_json(s, room) if room else None})


class RoomHandler(RoomHandlerBase):
    @authenticated
    async def get(self, room_id: str) -> None:
        with self.db() as s:
            self.write_json(self.rooms.room_json(s, self.member_room(s, room_id)))


class StudentNotebookHandler(RoomHandlerBase):
    """The room's notebook as it started (the starter again), in the room's language: the
    question's starter in the language both students chose, with that language's kernel."""

    @authenticated
    async def get(self, room_id: str) -> None:
        with self.db() as s:
            self.member_room(s, room_id)
        self.write_json(self.rooms.student_notebook(room_id))


class HeartbeatHandler(RoomHandlerBase):
    """The room panel says "I am here" every few seconds (presence, disconnect grace)."""

    @authenticated
    async def post(self, room_id: str) -> None:
        self.service.rate_limits.take("heartbeats", self.identity.name)
        if not self.rooms.heartbeat(room_id, self.identity.name):
            raise access.not_yours(room_id)
        with self.db() as s:
            self.write_json(self.rooms.room_json(s, self.member_room(s, room_id)))


class EndHandler(RoomHandlerBase):
    """End the session: history is saved, the server stopped, the shares revoked."""

    @authenticated
    async def post(self, room_id: str) -> None:
        with self.db() as s:
            room = self.member_room(s, room_id)
            state = room.state
        if state in (RoomState.ended.value, RoomState.failed.value):
            raise web.HTTPError(409, f"This session has already {state}.")
        self.rooms.request_end(room_id, by=self.identity.name, reason="ended by a student")
        with self.db() as s:
            self.write_json(self.rooms.room_json(s, self.member_room(s, room_id)))


class HistoryHandler(RoomHandlerBase):
    """The caller's finished sessions, newest first; ?difficulty= and ?topic= filter."""

    @authenticated
    async def get(self) -> None:
        difficulty = self.get_query_argument("difficulty", "")
        topic = self.get_query_argument("topic", "")
        with self.db() as s:
            attempts = history.attempts(
                s, self.identity.name, self.rooms.room_json, difficulty=difficulty, topic=topic
            )
        self.write_json({"attempts": attempts})


class HistoryItemHandler(RoomHandlerBase):
    """One finished session with its final notebook and every run."""

    @authenticated
    async def get(self, room_id: str) -> None:
        with self.db() as s:
            data = history.attempt(s, room_id, self.identity.name, self.rooms.room_json)
            data["chat"] = talk_transcript.saved(s, room_id)
        self.write_json(data)


class RoomPageHandler(RoomHandlerBase):
    """``/rooms/{id}`` for browsers: progress while starting, then into the shared lab."""

    def set_default_headers(self) -> None:
        self.set_header("Cache-Control", "no-store")

    @web.authenticated
    async def get(self, room_id: str) -> None:
        self.identity = await self.resolve_identity()
        with self.db() as s:
            room = self.member_room(s, room_id)
            data = self.rooms.room_json(s, room)
        if room.state == RoomState.active.value:
            self.redirect(data["url"])
            return
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        message = {
            RoomState.starting.value: data["message"] or "Preparing your shared room…",
            RoomState.ending.value: "This session is ending; your history is being saved.",
            RoomState.ended.value: "This session has ended. It is in your history.",
            RoomState.failed.value: data["message"] or "This room could not be started.",
        }.get(room.state, room.state)
        self.render(
            "room.html",
            title=data["question"]["title"],
            message=message,
            # Reload while starting: once active, this page redirects into the lab.
            refresh=room.state == RoomState.starting.value,
            hub_home=f"{self.rooms.hub_base_url}hub/home",
        )

    def get_template_path(self) -> str:
        return str(TEMPLATES_DIR)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        exc = kwargs.get("exc_info", (None, None, None))[1]
        message = getattr(exc, "log_message", None) or self._reason
        self.render("room_error.html", message=str(message))


ROOM_ID = r"([0-9a-f]{32})"
room_handlers: list[tuple[str, type]] = [
    (r"api/rooms/current", CurrentRoomHandler),
    (rf"api/rooms/{ROOM_ID}", RoomHandler),
    (rf"api/rooms/{ROOM_ID}/heartbeat", HeartbeatHandler),
    (rf"api/rooms/{ROOM_ID}/student-notebook", StudentNotebookHandler),
    (rf"api/rooms/{ROOM_ID}/end", EndHandler),
    (r"api/history", HistoryHandler),
    (rf"api/history/{ROOM_ID}", HistoryItemHandler),
    (rf"rooms/{ROOM_ID}", RoomPageHandler),
]
