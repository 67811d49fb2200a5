"""What a student may ask of the matcher (a POST /api/match body), and how it says no."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ...db.models import new_id
from ...questions.vocabulary import DIFFICULTIES, TOPICS


class MatchError(Exception):
    """A request the engine refuses: HTTP ``status``, a message, maybe the ticket concerned."""

    def __init__(self, status: int, message: str, ticket: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.ticket = ticket


@dataclass
class MatchRequest:
    """A validated POST /api/match body."""

    difficulty: str
    topics: list[str]
    language: str | None
    idempotency_key: str


ALLOWED_FIELDS = ("difficulty", "idempotency_key", "language", "topics")


def parse_request(body: dict[str, Any], languages: Sequence[str]) -> MatchRequest:
    """Check a POST /api/match body; raise MatchError(400) saying what to fix."""
    if "username" in body or "user" in body:
        raise MatchError(400, "Do not send a user name: your identity comes from your hub log-in.")
    unknown = sorted(set(body) - set(ALLOWED_FIELDS))
    if unknown:
        raise MatchError(
            400,
            f"Unknown field(s) {', '.join(unknown)}; send only {', '.join(ALLOWED_FIELDS)}.",
        )
    difficulty = body.get("difficulty")
    if difficulty not in DIFFICULTIES:
        raise MatchError(
            400,
            f"Unknown difficulty {difficulty!r}; choose one of {', '.join(DIFFICULTIES)}.",
        )
    topics = body.get("topics")
    if not isinstance(topics, list) or not topics:
        raise MatchError(400, 'topics must be a non-empty list of topics, e.g. ["arrays"].')
    bad = [t for t in topics if not isinstance(t, str) or t not in TOPICS]
    if bad:
        raise MatchError(
            400,
            f"Unknown topic(s) {', '.join(map(repr, bad))}; choose from {', '.join(TOPICS)}.",
        )
    language = body.get("language")  # None: the student's profile language
    if language is not None and language not in languages:
        raise MatchError(
            400,
            f"Unsupported language {language!r}; choose one of {', '.join(languages)}.",
        )
    key = body.get("idempotency_key", new_id())
    if not isinstance(key, str) or not 0 < len(key) <= 100:
        raise MatchError(
            400,
            "idempotency_key must be a string of 1 to 100 characters, reused only when "
            "retrying the same request.",
        )
    return MatchRequest(
        difficulty=difficulty,
        topics=sorted(set(topics), key=TOPICS.index),
        language=language,
        idempotency_key=key,
    )
