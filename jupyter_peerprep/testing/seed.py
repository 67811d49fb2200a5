"""Rooms written straight into a service database, for service-level tests without a hub.

``add_room(service, spec)`` stores a question version (once) and a room of its members on it,
the rows the matching engine would have written, so the room and run APIs can be driven
without matching two students first.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from .. import db
from ..db.models import Question, QuestionVersion, Room, RoomMember


def add_room(
    service: Any,
    spec: dict[str, Any],
    *,
    state: str = "active",
    members: Iterable[str] = ("alice", "bob"),
) -> str:
    """A version of ``spec``'s question and a room of ``members`` on it; returns the room id."""
    with db.transaction(service.session_factory) as s:
        if s.get(Question, spec["id"]) is None:
            s.add(Question(id=spec["id"], current_version=1))
            s.flush()
            s.add(
                QuestionVersion(
                    question_id=spec["id"],
                    version=1,
                    title=spec["title"],
                    difficulty=spec["difficulty"],
                    topics=spec["topics"],
                    spec=spec,
                    notebook={},
                    checksum="c" * 64,
                )
            )
        room = Room(
            pair_user=f"pair-{uuid.uuid4().hex[:12]}",
            question_id=spec["id"],
            question_version=1,
            difficulty=spec["difficulty"],
            state=state,
        )
        s.add(room)
        s.flush()
        for name in members:
            s.add(RoomMember(room_id=room.id, username=name, active=state == "active"))
        return room.id
