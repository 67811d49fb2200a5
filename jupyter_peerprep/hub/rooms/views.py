"""The JSON views of a room, built here only.

- ``room_json``: the whole room, what the room API answers and both room panels poll;
- ``summary_json``: a room as one member's match shows it (partner, note; matching's
  ``hub/matching/rooms.py`` builds it for a room just made and for a matched ticket);
- ``attempt_json``: a finished room as one member's history shows it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...db.models import Profile, Room, RoomObserver, RoomState, Run, utcnow
from ...questions.languages import BASE_LANGUAGE
from ...questions.store import cached_student_view
from ..room_language import language_in


def room_json(
    s: Session, room: Room, *, url: str, notebook_path: str, online_seconds: float
) -> dict[str, Any]:
    """What the room API answers; both room panels poll it every second.

    The question comes from the per-version student-view cache: a poll reads neither the
    spec (hidden tests and all) nor the ``questions`` row. Its starter is in the room's
    language (the notebook's), as the room panel shows it.
    """
    now = utcnow()
    # A room's question row always exists (foreign key), so its id is the fallback title.
    language = language_in(s, room.id)
    other = language if language != BASE_LANGUAGE else None  # the lobby's cached view
    view = cached_student_view(s, room.question_id, room.question_version, other) or {}
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
            # The language of the room's notebook and its starter (Python when the question
            # has no starter in the room's language, as the notebook then has).
            "language": view.get("language") or language,
            "starter": view.get("starter") or "",
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


def summary_json(
    *,
    room_id: str,
    pair_user: str,
    state: str,
    url: str,
    question_id: str,
    title: str,
    difficulty: str,
    topic: str | None,
    note: str,
    partner: str,
    partner_display: str,
) -> dict[str, Any]:
    """A room as one member's match shows it (the match API's ``room``)."""
    return {
        "id": room_id,
        "pair_user": pair_user,
        "state": state,
        "url": url,
        "question": {"id": question_id, "title": title or question_id},
        "difficulty": difficulty,
        "topic": topic,
        "note": note,
        "partner": {"name": partner, "display_name": partner_display or partner},
    }


def attempt_json(s: Session, room: Room, data: dict[str, Any], me: str) -> dict[str, Any]:
    """A finished room as member ``me``'s history shows it; ``data`` is its ``room_json``."""
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
