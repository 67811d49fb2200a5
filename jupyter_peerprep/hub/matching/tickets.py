"""A ticket as the matcher holds it: the core's view of a stored ticket, and a new ticket a
batch is about to insert."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ...db.models import Proficiency, TicketState, new_id
from .. import profiles
from .core import EXACT, Waiting
from .messages import LOOKING
from .requests import MatchRequest
from .sql import StoredProfile


def ts(value: datetime) -> float:
    """Seconds since the epoch, the core's clock."""
    return value.timestamp()


def as_waiting(t: Any, proficiency: str | None, rating: float | None) -> Waiting:
    """The core's view of a ticket (a ``Ticket``, a row of one, or a ``NewTicket``) and its
    student's profile (None: no profile yet, a beginner at the start)."""
    return Waiting(
        id=t.id,
        username=t.username,
        difficulty=t.difficulty,
        topics=tuple(t.topics),
        language=t.language,
        created=ts(t.created),
        proficiency=proficiency or Proficiency.beginner.value,
        rating=profiles.INITIAL_RATING if rating is None else rating,
    )


@dataclass
class NewTicket:
    """A ticket a batch is about to insert, with the attributes a ticket view reads."""

    id: str
    username: str
    idempotency_key: str
    difficulty: str
    topics: list[str]
    language: str | None  # None until the batch has read the student's profile
    created: datetime
    updated: datetime
    lease_expires: datetime
    state: str = TicketState.waiting.value
    relax_level: int = EXACT
    room_id: str | None = None
    message: str = LOOKING
    # The student's profile as stored when the batch read it (None: none yet).
    profile: StoredProfile | None = None

    @classmethod
    def open(
        cls, username: str, request: MatchRequest, arrived: datetime, lease: timedelta
    ) -> NewTicket:
        return cls(
            id=new_id(),
            username=username,
            idempotency_key=request.idempotency_key,
            difficulty=request.difficulty,
            topics=request.topics,
            language=request.language,
            created=arrived,
            updated=arrived,
            lease_expires=arrived + lease,
        )

    def waiting(self, proficiency: str, rating: float) -> Waiting:
        assert self.language is not None
        return as_waiting(self, proficiency, rating)

    def matched(self, room_id: str, message: str, now: datetime) -> None:
        self.state = TicketState.matched.value
        self.room_id = room_id
        self.message = message
        self.updated = now

    def row(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.username,
            "idempotency_key": self.idempotency_key,
            "difficulty": self.difficulty,
            "topics": self.topics,
            "language": self.language,
            "state": self.state,
            "relax_level": self.relax_level,
            "created": self.created,
            "updated": self.updated,
            "lease_expires": self.lease_expires,
            "room_id": self.room_id,
            "message": self.message,
        }
