"""What a student reads on a ticket: while waiting, after relaxing, on a timeout. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from .core import NEIGHBOUR_DIFFICULTY, TOPIC_DROPPED, allowed_difficulties

LOOKING = "Looking for a partner with the same difficulty, topic and language."

NO_QUESTIONS = (
    "Waiting: no questions have been published yet, so no room can be made. "
    "Ask your instructor to publish one."
)


def describe(difficulty: str, topics: Sequence[str] | None) -> str:
    return f"{difficulty} · {', '.join(topics)}" if topics else f"{difficulty} · any topic"


def relax_message(t: Any, level: int) -> str:
    """The message of ticket ``t`` (difficulty, topics) once it relaxed to ``level``."""
    if level == TOPIC_DROPPED:
        return (
            f"No one else picked {', '.join(t.topics)} at {t.difficulty} yet, so any topic at "
            f"{t.difficulty} is fine now."
        )
    if level == NEIGHBOUR_DIFFICULTY:
        other = [d for d in allowed_difficulties(t.difficulty, level) if d != t.difficulty]
        return f"Still looking: now also matching {' or '.join(other)} questions, any topic."
    return LOOKING


def timeout_message(t: Any, waited: float, busiest: str | None) -> str:
    """The message of ticket ``t`` that timed out after ``waited`` seconds, suggesting the
    ``busiest`` choice of the students still waiting."""
    minutes = max(1, round(waited / 60))
    text = (
        f"No partner found in {minutes} min for {describe(t.difficulty, t.topics)}. "
        "Try again with more topics or another difficulty"
    )
    if busiest:
        text += f" (most students waiting now chose {busiest})"
    return text + ", or come back when your class practises together."


def busiest(waiting: Iterable[Any]) -> str | None:
    """The most chosen "difficulty · topic" among ``waiting`` tickets, if any."""
    counts: dict[str, int] = {}
    for t in waiting:
        for topic in t.topics:
            key = f"{t.difficulty} · {topic}"
            counts[key] = counts.get(key, 0) + 1
    return max(counts, key=lambda k: counts[k]) if counts else None
