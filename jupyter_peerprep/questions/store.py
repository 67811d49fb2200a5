"""The question bank in the service database: publish (versioned, idempotent), retire, read.

A question is a ``Question`` row and one or more immutable ``QuestionVersion`` rows. Publishing
a notebook whose checksum equals the current version's changes nothing; a different checksum
adds version N+1 and makes it current, in one transaction. Validation (which runs code) happens
before the transaction: a notebook that fails validation never reaches the database, so the
existing version is untouched. Rooms record the version they use, so attempts keep theirs.
"""

from __future__ import annotations

import logging
import weakref
from collections import Counter, OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ..db import transaction
from ..db.models import Question, QuestionVersion
from .student import student_view
from .vocabulary import DIFFICULTIES, LANGUAGES, TOPICS

log = logging.getLogger(__name__)


class NotFound(LookupError):
    """No question with that id (or version)."""


class Conflict(RuntimeError):
    """The request conflicts with what is stored (e.g. creating an id that exists)."""


@dataclass(frozen=True)
class PublishResult:
    question_id: str
    version: int
    # "created" (new question), "updated" (new version), "unchanged" (same checksum)
    action: str
    retired: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.question_id,
            "version": self.version,
            "action": self.action,
            "retired": self.retired,
        }


def current_checksum(
    factory: sessionmaker[Session], question_id: str
) -> tuple[str, int, bool] | None:
    """(checksum, version, retired) of the current version of ``question_id``, or None."""
    with factory() as session:
        row = session.execute(
            select(QuestionVersion.checksum, Question.current_version, Question.retired)
            .join(Question, Question.id == QuestionVersion.question_id)
            .where(
                Question.id == question_id,
                QuestionVersion.version == Question.current_version,
            )
        ).first()
    return (row[0], row[1], row[2]) if row else None


def store_version(
    factory: sessionmaker[Session],
    spec: dict[str, Any],
    notebook: dict[str, Any],
    checksum: str,
    *,
    username: str = "",
    mode: str = "upsert",
    unretire: bool = True,
) -> PublishResult:
    """Store a validated, resolved spec as the question's newest version.

    ``mode``: "create" (Conflict if the id exists with other content), "replace" (NotFound if
    the id does not exist) or "upsert". Same checksum as the current version: nothing is
    written (``unretire`` still brings back a retired question). Safe against a concurrent
    publish of the same question: the loser's unique-constraint error is answered by
    re-reading what the winner stored.
    """
    qid = spec["id"]
    for attempt in range(3):
        try:
            return _store_once(factory, spec, notebook, checksum, username, mode, unretire)
        except IntegrityError:
            if attempt == 2:
                raise
            log.info("Question %s was published concurrently; re-reading", qid)
    raise AssertionError("unreachable")


def _store_once(
    factory: sessionmaker[Session],
    spec: dict[str, Any],
    notebook: dict[str, Any],
    checksum: str,
    username: str,
    mode: str,
    unretire: bool,
) -> PublishResult:
    qid = spec["id"]
    with transaction(factory) as session:
        question = session.scalar(select(Question).where(Question.id == qid).with_for_update())
        if question is None:
            if mode == "replace":
                raise NotFound(f"No question {qid!r} to replace; upload it first (POST).")
            question = Question(id=qid, current_version=1, retired=False)
            session.add(question)
            session.flush()
            version = 1
            action = "created"
        else:
            current = session.scalar(
                select(QuestionVersion).where(
                    QuestionVersion.question_id == qid,
                    QuestionVersion.version == question.current_version,
                )
            )
            if current is not None and current.checksum == checksum:
                if unretire and question.retired:
                    question.retired = False
                    log.info("Question %s v%s un-retired", qid, current.version)
                return PublishResult(qid, current.version, "unchanged", question.retired)
            if mode == "create":
                raise Conflict(
                    f"Question {qid!r} already exists (version {question.current_version}) "
                    f"with different content; replace it with PUT questions/{qid}."
                )
            latest = session.scalar(
                select(func.max(QuestionVersion.version)).where(QuestionVersion.question_id == qid)
            )
            version = int(latest or 0) + 1
            action = "updated"
        session.add(
            QuestionVersion(
                question_id=qid,
                version=version,
                title=spec["title"],
                difficulty=spec["difficulty"],
                topics=list(spec["topics"]),
                spec=spec,
                notebook=notebook,
                checksum=checksum,
                created_by=username,
            )
        )
        question.current_version = version
        if unretire:
            question.retired = False
        retired = question.retired
    log.info("Question %s %s: version %s by %s", qid, action, version, username or "-")
    return PublishResult(qid, version, action, retired)


def retire(factory: sessionmaker[Session], question_id: str, *, username: str = "") -> bool:
    """Hide a question from the list and from matching; its versions stay for history.

    Returns False if it was already retired.
    """
    with transaction(factory) as session:
        question = session.get(Question, question_id, with_for_update=True)
        if question is None:
            raise NotFound(f"No question {question_id!r}.")
        if question.retired:
            return False
        question.retired = True
    log.info("Question %s retired by %s", question_id, username or "-")
    return True


def unretire(factory: sessionmaker[Session], question_id: str, *, username: str = "") -> None:
    """Bring a retired question back (publishing its same content again does this)."""
    with transaction(factory) as session:
        question = session.get(Question, question_id, with_for_update=True)
        if question is None:
            raise NotFound(f"No question {question_id!r}.")
        question.retired = False
    log.info("Question %s un-retired by %s", question_id, username or "-")


@dataclass(frozen=True)
class StoredQuestion:
    id: str
    version: int
    retired: bool
    spec: dict[str, Any]
    notebook: dict[str, Any]
    checksum: str
    created: Any
    created_by: str
    versions: list[int]


def get(
    factory: sessionmaker[Session], question_id: str, version: int | None = None
) -> StoredQuestion:
    """A question's current (or given) version, spec and notebook included: service-only."""
    with factory() as session:
        question = session.get(Question, question_id)
        if question is None:
            raise NotFound(f"No question {question_id!r}.")
        wanted = version or question.current_version
        row = session.scalar(
            select(QuestionVersion).where(
                QuestionVersion.question_id == question_id, QuestionVersion.version == wanted
            )
        )
        if row is None:
            raise NotFound(f"Question {question_id!r} has no version {wanted}.")
        versions = list(
            session.scalars(
                select(QuestionVersion.version)
                .where(QuestionVersion.question_id == question_id)
                .order_by(QuestionVersion.version)
            )
        )
        return StoredQuestion(
            id=question.id,
            version=row.version,
            retired=question.retired,
            spec=row.spec,
            notebook=row.notebook,
            checksum=row.checksum,
            created=row.created,
            created_by=row.created_by,
            versions=versions,
        )


def load_spec(session: Session, question_id: str, version: int) -> dict[str, Any]:
    """The spec of one version, for grading a room's attempt (hidden tests included)."""
    spec = session.scalar(
        select(QuestionVersion.spec).where(
            QuestionVersion.question_id == question_id, QuestionVersion.version == version
        )
    )
    if spec is None:
        raise NotFound(f"Question {question_id!r} has no version {version}.")
    return dict(spec)


def newest_titles(session: Session) -> dict[str, tuple[str, str]]:
    """Per question id: the (title, difficulty) of its newest version, retired ones too."""
    titles: dict[str, tuple[str, str]] = {}
    for qid, title, difficulty in session.execute(
        select(
            QuestionVersion.question_id, QuestionVersion.title, QuestionVersion.difficulty
        ).order_by(QuestionVersion.version)
    ).all():
        titles[qid] = (title, difficulty)  # the newest version's title wins
    return titles


@dataclass(frozen=True)
class Listing:
    items: list[dict[str, Any]]
    total: int
    counts: dict[str, Any]


def list_questions(
    factory: sessionmaker[Session],
    *,
    difficulty: str | None = None,
    topic: str | None = None,
    q: str | None = None,
    offset: int = 0,
    limit: int = 50,
    include_retired: bool = False,
) -> Listing:
    """Current versions, filtered and paged, with counts over all listed questions.

    Only summary columns and the spec's "languages" key are read, so listing stays cheap.
    """
    stmt = (
        select(
            Question.id,
            Question.current_version,
            Question.retired,
            QuestionVersion.title,
            QuestionVersion.difficulty,
            QuestionVersion.topics,
            # Which languages beside Python have starters (questions/languages.py).
            QuestionVersion.spec["languages"].label("languages"),
        )
        .join(QuestionVersion, QuestionVersion.question_id == Question.id)
        .where(QuestionVersion.version == Question.current_version)
        .order_by(Question.id)
    )
    if not include_retired:
        stmt = stmt.where(Question.retired.is_(False))
    with factory() as session:
        rows = session.execute(stmt).all()

    by_difficulty: Counter[str] = Counter()
    by_topic: Counter[str] = Counter()
    by_language: Counter[str] = Counter()
    matrix: dict[str, Counter[str]] = {d: Counter() for d in DIFFICULTIES}
    for row in rows:
        by_difficulty[row.difficulty] += 1
        by_language.update({"python", *(row.languages or {})})
        for t in row.topics:
            by_topic[t] += 1
            matrix.setdefault(row.difficulty, Counter())[t] += 1
    counts = {
        "difficulty": {d: by_difficulty.get(d, 0) for d in DIFFICULTIES},
        "topic": {t: by_topic.get(t, 0) for t in TOPICS},
        "language": {lang: by_language.get(lang, 0) for lang in LANGUAGES},
        "difficulty_topic": {d: {t: n for t, n in sorted(c.items())} for d, c in matrix.items()},
        "total": len(rows),
    }

    needle = (q or "").strip().lower()
    selected = []
    for row in rows:
        if difficulty and row.difficulty != difficulty:
            continue
        if topic and topic not in row.topics:
            continue
        if needle and not (
            needle in row.title.lower() or needle in row.id or any(needle in t for t in row.topics)
        ):
            continue
        selected.append(
            {
                "id": row.id,
                "title": row.title,
                "difficulty": row.difficulty,
                "topics": list(row.topics),
                "version": row.current_version,
                "retired": bool(row.retired),
            }
        )
    return Listing(selected[offset : offset + limit], len(selected), counts)


# Student views of stored versions, one cache per database engine, keyed by (question, version,
# language): a stored version never changes, so a cached view never goes stale, and neither the
# lobby nor a room poll (every second, from both room panels) reads and parses a spec holding
# large hidden inputs. Per engine because two databases (tests, tools) may both hold a "v1" of
# the same question with different content; an engine that is dropped takes its cache with it.
_VIEW_CACHES: weakref.WeakKeyDictionary[Any, OrderedDict[tuple[str, int, str], dict[str, Any]]] = (
    weakref.WeakKeyDictionary()
)
VIEW_CACHE_SIZE = 512


def cached_student_view(
    session: Session, question_id: str, version: int, language: str | None = None
) -> dict[str, Any] | None:
    """The student view of one stored version (None if there is no such version), its starter
    in ``language`` when the question has one in it (``student.student_view``).

    The spec is read only the first time a version is asked for in this process. The returned
    view is shared: copy it before changing it.
    """
    cache = _VIEW_CACHES.setdefault(session.get_bind(), OrderedDict())
    key = (question_id, version, language or "")
    view = cache.get(key)
    if view is not None:
        cache.move_to_end(key)
        return view
    spec = session.scalar(
        select(QuestionVersion.spec).where(
            QuestionVersion.question_id == question_id, QuestionVersion.version == version
        )
    )
    if spec is None:
        return None
    view = student_view(dict(spec), version=version, language=language)
    cache[key] = view
    while len(cache) > VIEW_CACHE_SIZE:
        cache.popitem(last=False)
    return view


def get_student_view(
    factory: sessionmaker[Session],
    question_id: str,
    version: int | None = None,
    language: str | None = None,
) -> tuple[dict[str, Any], bool]:
    """(student view of the current or given version, retired?). NotFound if missing;
    ValueError naming the question's languages if it has no starter in ``language``.

    The returned view is shared: copy it before changing it.
    """
    with factory() as session:
        question = session.get(Question, question_id)
        if question is None:
            raise NotFound(f"No question {question_id!r}.")
        wanted = version or question.current_version
        view = cached_student_view(session, question_id, wanted)
        if view is None:
            raise NotFound(f"Question {question_id!r} has no version {wanted}.")
        if language and language != view["language"]:
            if language not in view["languages"]:
                raise ValueError(
                    f"language must be one of {', '.join(view['languages'])} (the languages "
                    f"question {question_id!r} can be solved in), got {language!r}."
                )
            view = cached_student_view(session, question_id, wanted, language) or view
        return view, question.retired
