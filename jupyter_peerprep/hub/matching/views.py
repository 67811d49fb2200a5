"""A ticket as its owner sees it (the JSON of /api/match and its event stream)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ...db.models import Ticket, TicketState
from .core import EXACT, NEIGHBOUR_DIFFICULTY, Policy, criteria, relax_level
from .rooms import room_json
from .tickets import NewTicket, ts


def ticket_view(
    t: Ticket | NewTicket, now: datetime, room: dict[str, Any] | None, policy: Policy
) -> dict[str, Any]:
    """The JSON of ticket ``t`` at ``now``, carrying ``room`` (its room's JSON, if matched).

    A waiting ticket shows the level it has reached by now, even before the tick that stores
    it, so the criteria a student reads never lag behind the clock.
    """
    waiting = t.state == TicketState.waiting.value
    end = now if waiting else t.updated
    elapsed = max(0.0, ts(end) - ts(t.created))
    level = t.relax_level
    if waiting:
        level = max(level, min(relax_level(elapsed, policy), NEIGHBOUR_DIFFICULTY))
    state = t.state
    if waiting and level > EXACT:
        state = "relaxed"
    return {
        "id": t.id,
        "state": state,
        "difficulty": t.difficulty,
        "topics": list(t.topics),
        "language": t.language,
        "relax_level": level,
        "criteria": criteria(t.difficulty, t.topics, level),
        "created": t.created.isoformat(),
        "elapsed_s": round(elapsed, 3),
        "message": t.message,
        "room": room,
    }


def ticket_json(
    s: Session, t: Ticket, now: datetime, policy: Policy, room_url_template: str
) -> dict[str, Any]:
    """The JSON of stored ticket ``t``, its room read from the database."""
    room = room_json(s, t, room_url_template) if t.room_id else None
    return ticket_view(t, now, room, policy)
