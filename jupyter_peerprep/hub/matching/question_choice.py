"""Which question a new pair gets: the published questions (cached) and the choice among them."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from ...db.models import Question, QuestionVersion
from ...questions.vocabulary import DIFFICULTIES
from .core import Agreement
from .messages import describe


@dataclass(frozen=True)
class PickedQuestion:
    """The current version of the question chosen for a pair."""

    question_id: str
    version: int
    title: str
    difficulty: str
    topics: list[str]


def choose_question(
    questions: Sequence[Any], agreed: Agreement, attempted: dict[str, int]
) -> tuple[PickedQuestion, str]:
    """The best of ``questions`` (rows with question_id, version, title, difficulty, topics)
    for a pair, and a note when it is not what they agreed on.

    Best: the agreed difficulty and one of the agreed topics, attempted by neither student
    (``attempted``: question id -> rooms of the two students that had it). Without one, the
    closest: agreed difficulty any topic, then a neighbouring difficulty. Ties: at random.
    """
    want = DIFFICULTIES.index(agreed.difficulty)

    def rank(row: Any) -> tuple[int, int, int, float]:
        d = DIFFICULTIES.index(row.difficulty) if row.difficulty in DIFFICULTIES else 9
        topical = any(x in agreed.topics for x in row.topics)
        return (
            abs(d - want),
            0 if topical else 1,
            attempted.get(row.question_id, 0),
            random.random(),  # noqa: S311 (variety, not secrecy)
        )

    best = min(questions, key=rank)
    best_rank = rank(best)
    note = ""
    if best_rank[0] or best_rank[1]:
        note = (
            f"No question matches {describe(agreed.difficulty, agreed.topics)}; "
            f"picked the closest: {best.title} ({describe(best.difficulty, best.topics)})."
        )
    picked = PickedQuestion(
        question_id=best.question_id,
        version=best.version,
        title=best.title,
        difficulty=best.difficulty,
        topics=list(best.topics),
    )
    return picked, note


CURRENT_QUESTIONS = (
    select(
        QuestionVersion.question_id,
        QuestionVersion.version,
        QuestionVersion.title,
        QuestionVersion.difficulty,
        QuestionVersion.topics,
    )
    .join(
        Question,
        and_(
            Question.id == QuestionVersion.question_id,
            Question.current_version == QuestionVersion.version,
        ),
    )
    .where(Question.retired.is_(False))
)


class PublishedQuestions:
    """Current versions of the questions not retired (title, difficulty, topics only), read
    at most once per ``max_age()`` seconds: every match needs them, and a newly published
    question is picked up within a tick."""

    def __init__(self, clock: Callable[[], datetime], max_age: Callable[[], float]) -> None:
        self.clock = clock
        self.max_age = max_age
        self._cache: tuple[datetime, Sequence[Any]] | None = None

    def read(self, s: Session) -> Sequence[Any]:
        now = self.clock()
        cached = self._cache
        if cached is not None and (now - cached[0]).total_seconds() < self.max_age():
            return cached[1]
        rows = s.execute(CURRENT_QUESTIONS).all()
        self._cache = (now, rows) if rows else None
        return rows
