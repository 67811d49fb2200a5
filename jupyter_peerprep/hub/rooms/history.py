"""A student's history: their finished rooms, newest first, and one of them in full."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...db.models import Room, RoomMember, RoomState, Run
from ..runs import run_to_json
from .access import member_room
from .views import attempt_json

RoomJson = Callable[[Session, Room], dict[str, Any]]


def attempts(
    s: Session, username: str, room_json: RoomJson, *, difficulty: str = "", topic: str = ""
) -> list[dict[str, Any]]:
    """``username``'s ended rooms, newest first, filtered by difficulty and topic if given."""
    rooms = s.scalars(
        select(Room)
        .join(RoomMember)
        .where(RoomMember.username == username, Room.state == RoomState.ended.value)
        .order_by(Room.ended.desc())
    ).all()
    found = [attempt_json(s, r, room_json(s, r), username) for r in rooms]
    if difficulty:
        found = [a for a in found if a["question"]["difficulty"] == difficulty]
    if topic:
        found = [a for a in found if topic in a["question"]["topics"]]
    return found


def attempt(s: Session, room_id: str, username: str, room_json: RoomJson) -> dict[str, Any]:
    """One of ``username``'s rooms with its final notebook and every run, newest first."""
    room = member_room(s, room_id, username)
    data = attempt_json(s, room, room_json(s, room), username)
    data["final_notebook"] = room.final_notebook
    runs = s.scalars(select(Run).where(Run.room_id == room_id).order_by(Run.created.desc())).all()
    data["runs"] = [run_to_json(r) for r in runs]
    return data
