"""The JSON view of a room: what the room API answers and both room panels poll."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db.models import Profile, Room, RoomObserver, utcnow
from ..questions.store import cached_student_view


def room_json(
    s: Session, room: Room, url: str, notebook_path: str, online_seconds: float
) -> dict[str, Any]:
    """What the room API answers; both room panels poll it every second.

    The question comes from the per-version student-view cache: a poll reads neither the
    spec (hidden tests and all) nor the ``questions`` row.
    """
    now = utcnow()
    # A room's question row always exists (foreign key), so its id is the fallback title.
    view = cached_student_view(s, room.question_id, room.question_version) or {}
    names = [m.username for m in room.members]
    profiles = {
        p.username: p for p in s.scalars(select(Profile).where(Profile.username.in_(names)))
    }
    online = timedelta(seconds=online_seconds)
    start = room.started or room.created
    end = room.ended or now
    return {
        "id": room.id,
        "state": room.state,
        "pair_user": room.pair_user,
        "url": url,
        "notebook_path": notebook_path,
        "question": {
            "id": room.question_id,
            "title": view.get("title") or room.question_id,
            "difficulty": room.difficulty,
            "topics": list(view.get("topics") or []),
            "prompt": view.get("prompt") or "",
            "version": room.question_version,
        },
        "members": [
            {
                "name": m.username,
                "display_name": (
                    profiles[m.username].display_name
                    if m.username in profiles and profiles[m.username].display_name
                    else m.username
                ),
                "online": bool(m.last_seen and now - m.last_seen < online),
                "last_seen": m.last_seen.isoformat() if m.last_seen else None,
            }
            for m in room.members
        ],
        "created": room.created.isoformat(),
        "started": room.started.isoformat() if room.started else None,
        "ended": room.ended.isoformat() if room.ended else None,
        "ended_by": room.ended_by,
        "end_reason": room.end_reason,
        "elapsed_s": round((end - start).total_seconds(), 1),
        "message": room.message,
        # Instructors who opened this room from the class view: the room panel says so.
        "observers": list(
            s.scalars(
                select(RoomObserver.username)
                .where(RoomObserver.room_id == room.id)
                .order_by(RoomObserver.opened)
            )
        ),
    }
