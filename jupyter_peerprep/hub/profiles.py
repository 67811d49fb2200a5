"""Student profiles: settings a student chooses, and a rating earned from submitted attempts.

The identity is the hub user name, never a name sent in a request body. The rating is an Elo
score against the questions attempted: every room a student submitted in counts once, won if
any of their submits there passed, against a question rated by its difficulty. It is recomputed
from the ``Run`` history whenever the profile is read, so it needs no bookkeeping elsewhere and
a regraded or deleted run is reflected on the next read.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from .. import db
from ..db.models import Proficiency, Profile, Room, Run, utcnow
from ..questions.vocabulary import TOPICS

PROFICIENCIES: tuple[str, ...] = tuple(p.value for p in Proficiency)
EDITABLE = ("display_name", "proficiency", "language", "topics")
READ_ONLY = ("rating", "name", "email", "created", "updated")
INITIAL_RATING = 1000.0
QUESTION_RATING = {"easy": 900.0, "medium": 1100.0, "hard": 1300.0}
ELO_K = 32.0
MAX_DISPLAY_NAME = 100

# Every submit of the students ``names``, oldest first, with its room's difficulty (built once:
# the matcher rates a batch of students per transaction).
_RUNS, _ROOMS = cast(Table, Run.__table__), cast(Table, Room.__table__)
_SUBMITS = (
    select(_RUNS.c.username, _ROOMS.c.id, _ROOMS.c.difficulty, _RUNS.c.verdict)
    .select_from(_ROOMS.join(_RUNS, _RUNS.c.room_id == _ROOMS.c.id))
    .where(_RUNS.c.username.in_(bindparam("names", expanding=True)), _RUNS.c.kind == "submit")
    .order_by(_RUNS.c.created)
)


class ProfileError(ValueError):
    """A profile update that cannot be accepted; the message says how to fix it."""


def profile_json(p: Profile) -> dict[str, Any]:
    return {
        "name": p.username,
        "display_name": p.display_name or p.username,
        "email": p.email or "",
        "proficiency": p.proficiency,
        "language": p.language,
        "topics": list(p.topics or []),
        "rating": round(p.rating, 1),
        "created": p.created.isoformat(),
        "updated": p.updated.isoformat(),
    }


def new_profile_values(username: str, now: datetime) -> dict[str, Any]:
    """The columns of a student's first profile (also used by bulk inserts)."""
    return {
        "username": username,
        "display_name": "",
        "email": "",
        "proficiency": Proficiency.beginner.value,
        "language": "python",
        "topics": [],
        "rating": INITIAL_RATING,
        "created": now,
        "updated": now,
    }


def get_or_create(s: Session, username: str) -> Profile:
    profile = s.get(Profile, username)
    if profile is None:
        profile = Profile(**new_profile_values(username, utcnow()))
        s.add(profile)
        s.flush()
    return profile


def carry_login(profile: Profile, display_name: str, email: str) -> None:
    """Take what an LMS or single sign-on log-in says: the email always, the display name
    while the student has not chosen one."""
    if display_name and not profile.display_name:
        profile.display_name = display_name[:MAX_DISPLAY_NAME]
    if email and email != profile.email:
        profile.email = email


def ensure_profile(
    factory: sessionmaker[Session], username: str, *, display_name: str = "", email: str = ""
) -> dict[str, Any]:
    """Create the profile if missing, refresh the rating, carry the log-in's name and email;
    its JSON. Safe under races (two first requests of one student, even in two service
    processes)."""
    for attempt in range(2):
        try:
            with db.transaction(factory) as s:
                profile = get_or_create(s, username)
                refresh_rating(s, profile)
                carry_login(profile, display_name, email)
                return profile_json(profile)
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


def compute_ratings(s: Session, usernames: Collection[str]) -> dict[str, float]:
    """The Elo rating of each of ``usernames`` from their submits, oldest room first (one
    query for all of them: the matcher rates a whole batch of students at once)."""
    ratings = dict.fromkeys(usernames, INITIAL_RATING)
    if not ratings:
        return ratings
    rows = s.connection().execute(_SUBMITS, {"names": sorted(ratings)}).all()
    outcomes: dict[str, dict[str, tuple[str, bool]]] = {}
    for username, room_id, difficulty, verdict in rows:
        outcome = outcomes.setdefault(username, {})
        _, before = outcome.get(room_id, (difficulty, False))
        outcome[room_id] = (difficulty, before or verdict == "passed")
    for username, outcome in outcomes.items():
        rating = INITIAL_RATING
        for difficulty, won in outcome.values():
            opponent = QUESTION_RATING.get(difficulty, 1100.0)
            expected = 1.0 / (1.0 + 10 ** ((opponent - rating) / 400.0))
            rating += ELO_K * ((1.0 if won else 0.0) - expected)
        ratings[username] = rating
    return ratings


def compute_rating(s: Session, username: str) -> float:
    """The Elo rating of ``username`` from their submits."""
    return compute_ratings(s, [username])[username]


def refresh_rating(s: Session, profile: Profile) -> None:
    rating = compute_rating(s, profile.username)
    if abs(rating - profile.rating) > 1e-9:
        profile.rating = rating


def apply_update(profile: Profile, body: Any, languages: tuple[str, ...] | list[str]) -> None:
    """Validate ``body`` (a PUT /api/profile) and apply it; ProfileError says what is wrong."""
    if not isinstance(body, dict):
        raise ProfileError(f"Send a JSON object with any of {', '.join(EDITABLE)}.")
    if "username" in body or ("name" in body and body["name"] != profile.username):
        raise ProfileError(
            "Your user name comes from your hub log-in and cannot be changed here; "
            "remove it from the request."
        )
    if "rating" in body and body["rating"] != round(profile.rating, 1):
        raise ProfileError("rating is earned from submitted attempts and cannot be set.")
    unknown = sorted(set(body) - set(EDITABLE) - set(READ_ONLY))
    if unknown:
        raise ProfileError(
            f"Unknown field(s) {', '.join(unknown)}; a profile has {', '.join(EDITABLE)}."
        )
    if "display_name" in body:
        name = body["display_name"]
        if not isinstance(name, str):
            raise ProfileError("display_name must be a string.")
        name = " ".join(name.split())
        if len(name) > MAX_DISPLAY_NAME:
            raise ProfileError(f"display_name is at most {MAX_DISPLAY_NAME} characters.")
        if any(ord(c) < 32 for c in name):
            raise ProfileError("display_name may not contain control characters.")
        profile.display_name = name
    if "proficiency" in body:
        if body["proficiency"] not in PROFICIENCIES:
            raise ProfileError(
                f"Unknown proficiency {body['proficiency']!r}; choose one of "
                f"{', '.join(PROFICIENCIES)}."
            )
        profile.proficiency = body["proficiency"]
    if "language" in body:
        if body["language"] not in languages:
            raise ProfileError(
                f"Unsupported language {body['language']!r}; choose one of {', '.join(languages)}."
            )
        profile.language = body["language"]
    if "topics" in body:
        topics = body["topics"]
        if not isinstance(topics, list):
            raise ProfileError("topics must be a list (it may be empty).")
        bad = [t for t in topics if not isinstance(t, str) or t not in TOPICS]
        if bad:
            raise ProfileError(
                f"Unknown topic(s) {', '.join(map(repr, bad))}; choose from {', '.join(TOPICS)}."
            )
        profile.topics = sorted(set(topics), key=TOPICS.index)
    profile.updated = utcnow()
