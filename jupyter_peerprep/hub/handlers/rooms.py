"""Rooms and history: ``/api/rooms/...``, ``/api/history/...`` and the ``/rooms/{id}`` page.

Only the two members of a room see it (404 for anyone else, so a third user cannot even learn
that a room exists). ``/rooms/{id}`` is the stable address a match hands out: it waits (with
progress) while the pair server starts, then redirects into the shared JupyterLab; its HTML is
the Tornado templates ``hub/templates/room.html`` and ``room_error.html`` (autoescaped).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from tornado import web

from ..models import Room, RoomMember, RoomState, Run
from ..rooms import RoomManager
from ..talk import transcript as talk_transcript
from .base import APIHandler, authenticated
from .runs import run_to_json

# The pages' Tornado templates (shipped in the wheel with the package).
TEMPLATES_DIR = Path(__file__).parent.parent / "templates"

LIVE_STATES = (RoomState.starting.value, RoomState.active.value, RoomState.ending.value)


class RoomHandlerBase(APIHandler):
    @property
    def rooms(self) -> RoomManager:
        rooms: RoomManager | None = getattr(self.service, "rooms", None)
        if rooms is None:
            raise web.HTTPError(503, "Rooms are not running on this service.")
        return rooms

    def member_room(self, session: Any, room_id: str) -> Room:
        room = session.get(Room, room_id)
        if room is None or self.identity.name not in {m.username for m in room.members}:
            raise web.HTTPError(404, f"No room {room_id!r} of yours.")
        return room


class CurrentRoomHandler(RoomHandlerBase):
    """The caller's live room, if any."""

    @authenticated
    async def get(self) -> None:
        with self.db() as s:
            room = s.scalar(
                select(Room)
                .join(RoomMember)
                .where(RoomMember.username == self.identity.name, Room.state.in_(LIVE_STATES))
                .order_by(Room.created.desc())
            )
            self.write_json({"room": self.rooms.room_json(s, room) if room else None})


class RoomHandler(RoomHandlerBase):
    @authenticated
    async def get(self, room_id: str) -> None:
        with self.db() as s:
            self.write_json(self.rooms.room_json(s, self.member_room(s, room_id)))


class HeartbeatHandler(RoomHandlerBase):
    """The room panel says "I am here" every few seconds (presence, disconnect grace)."""

    @authenticated
    async def post(self, room_id: str) -> None:
        self.service.rate_limits.take("heartbeats", self.identity.name)
        if not self.rooms.heartbeat(room_id, self.identity.name):
            raise web.HTTPError(404, f"No room {room_id!r} of yours.")
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


def attempt_json(rooms: RoomManager, s: Any, room: Room, me: str) -> dict[str, Any]:
    data = rooms.room_json(s, room)
    partner = next((m for m in data["members"] if m["name"] != me), None)
    submit = s.scalar(
        select(Run)
        .where(Run.room_id == room.id, Run.kind == "submit")
        .order_by(Run.created.desc())
        .limit(1)
    )
    return {
        "room_id": room.id,
        "question": {k: data["question"][k] for k in ("id", "title", "difficulty", "topics")},
        "partner": {"name": partner["name"], "display_name": partner["display_name"]}
        if partner
        else None,
        "started": data["started"],
        "ended": data["ended"],
        "duration_s": data["elapsed_s"],
        "end_reason": room.end_reason,
        # What happened, in a sentence, when the room did not end normally (server lost).
        "end_message": room.message if room.state == RoomState.ended.value else "",
        "state": room.state,
        "result": {
            "passed": submit.passed,
            "total": submit.total,
            "verdict": submit.verdict,
            "complexity": (submit.report or {}).get("complexity"),
        }
        if submit
        else None,
    }


class HistoryHandler(RoomHandlerBase):
    """The caller's finished sessions, newest first; ?difficulty= and ?topic= filter."""

    @authenticated
    async def get(self) -> None:
        difficulty = self.get_query_argument("difficulty", "")
        topic = self.get_query_argument("topic", "")
        with self.db() as s:
            rooms = s.scalars(
                select(Room)
                .join(RoomMember)
                .where(
                    RoomMember.username == self.identity.name,
                    Room.state == RoomState.ended.value,
                )
                .order_by(Room.ended.desc())
            ).all()
            attempts = [attempt_json(self.rooms, s, r, self.identity.name) for r in rooms]
        if difficulty:
            attempts = [a for a in attempts if a["question"]["difficulty"] == difficulty]
        if topic:
            attempts = [a for a in attempts if topic in a["question"]["topics"]]
        self.write_json({"attempts": attempts})


class HistoryItemHandler(RoomHandlerBase):
    """One finished session with its final notebook and every run."""

    @authenticated
    async def get(self, room_id: str) -> None:
        with self.db() as s:
            room = self.member_room(s, room_id)
            data = attempt_json(self.rooms, s, room, self.identity.name)
            data["final_notebook"] = room.final_notebook
            runs = s.scalars(
                select(Run).where(Run.room_id == room_id).order_by(Run.created.desc())
            ).all()
            data["runs"] = [run_to_json(r) for r in runs]
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
            room = s.get(Room, room_id)
            if room is None or self.identity.name not in {m.username for m in room.members}:
                raise web.HTTPError(404, f"No room {room_id!r} of yours.")
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
    (rf"api/rooms/{ROOM_ID}/end", EndHandler),
    (r"api/history", HistoryHandler),
    (rf"api/history/{ROOM_ID}", HistoryItemHandler),
    (rf"rooms/{ROOM_ID}", RoomPageHandler),
]
