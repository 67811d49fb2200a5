"""The class view for instructors: how a class is doing, per question and per student.

Pure reads of the service database, given the class (a set of student names the handler got
from the hub's course groups, or None for every student). An *attempt* is a room: two students
on one question. A room is *passed* when one of its submits passed every hidden test; its
*time to pass* runs from the room's start to that first passing submit. The measured
complexity of an attempt is the estimate of its last measured submit.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db.models import Profile, Room, RoomMember, RoomObserver, RoomState, Run
from ..questions.store import newest_titles
from . import profiles
from .auth import is_pair_user

NOT_MEASURED = "not measured"
# Hub groups of LMS courses (jupyter_peerprep/lms.py names them course-<context id>).
COURSE_GROUP_PREFIX = "course-"


@dataclass
class Attempt:
    """One room, as the class view sees it."""

    room_id: str
    question_id: str
    members: list[str]
    started: datetime | None
    passed_at: datetime | None = None
    complexity: str | None = None
    submits: int = 0

    @property
    def passed(self) -> bool:
        return self.passed_at is not None

    @property
    def seconds_to_pass(self) -> float | None:
        if self.passed_at is None or self.started is None:
            return None
        return max(0.0, (self.passed_at - self.started).total_seconds())


@dataclass
class QuestionRow:
    question_id: str
    title: str
    difficulty: str
    attempts: int = 0
    passed: int = 0
    times: list[float] = field(default_factory=list)
    complexity: Counter[str] = field(default_factory=Counter)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.question_id,
            "title": self.title,
            "difficulty": self.difficulty,
            "attempts": self.attempts,
            "passed": self.passed,
            "pass_rate": round(self.passed / self.attempts, 3) if self.attempts else None,
            "median_seconds_to_pass": round(statistics.median(self.times), 1)
            if self.times
            else None,
            "complexity": dict(sorted(self.complexity.items())),
        }


def attempts(s: Session, students: Collection[str] | None) -> list[Attempt]:
    """Every started room with at least one member in ``students`` (None: any student)."""
    started_rooms = select(Room.id).where(
        Room.state.in_([RoomState.active.value, RoomState.ending.value, RoomState.ended.value])
    )
    if students is not None:
        # Only the class's rooms are read (room_members is indexed by username).
        started_rooms = started_rooms.where(
            Room.id.in_(select(RoomMember.room_id).where(RoomMember.username.in_(sorted(students))))
        )
    ids = started_rooms.scalar_subquery()
    rooms = s.execute(
        select(Room.id, Room.question_id, Room.started, Room.created).where(Room.id.in_(ids))
    ).all()
    members: dict[str, list[str]] = {}
    for room_id, name in s.execute(
        select(RoomMember.room_id, RoomMember.username).where(RoomMember.room_id.in_(ids))
    ).all():
        members.setdefault(room_id, []).append(name)
    found: dict[str, Attempt] = {}
    for room_id, question_id, started, created in rooms:
        names = sorted(n for n in members.get(room_id, []) if not is_pair_user(n))
        if students is not None and not set(names) & set(students):
            continue
        found[room_id] = Attempt(room_id, question_id, names, started or created)
    if not found:
        return []
    # Only the estimate leaves the database, not each run's whole report.
    estimate_of = Run.report[("complexity", "estimate")].as_string()
    runs = s.execute(
        select(Run.room_id, Run.created, Run.verdict, estimate_of)
        .where(Run.kind == "submit", Run.room_id.in_(ids))
        .order_by(Run.created)
    ).all()
    for room_id, created, verdict, estimate in runs:
        attempt = found.get(room_id)
        if attempt is None:
            continue
        attempt.submits += 1
        if verdict == "passed" and attempt.passed_at is None:
            attempt.passed_at = created
        if estimate:
            attempt.complexity = estimate
    return list(found.values())


def question_rows(s: Session, found: list[Attempt]) -> list[dict[str, Any]]:
    """Per question: attempts, pass rate, median time to pass, complexity distribution."""
    titles = newest_titles(s)
    rows: dict[str, QuestionRow] = {}
    for attempt in found:
        title, difficulty = titles.get(attempt.question_id, (attempt.question_id, ""))
        row = rows.setdefault(
            attempt.question_id, QuestionRow(attempt.question_id, title, difficulty)
        )
        row.attempts += 1
        if attempt.passed:
            row.passed += 1
            seconds = attempt.seconds_to_pass
            if seconds is not None:
                row.times.append(seconds)
        if attempt.submits:
            row.complexity[attempt.complexity or NOT_MEASURED] += 1
    return [row.to_json() for row in sorted(rows.values(), key=lambda r: r.title.lower())]


def student_rows(
    s: Session, found: list[Attempt], students: Collection[str] | None
) -> list[dict[str, Any]]:
    """Per student: attempts, passed attempts, submits, rating, name and email."""
    names = set(students) if students is not None else {n for a in found for n in a.members}
    names = {n for n in names if not is_pair_user(n)}
    ratings = profiles.compute_ratings(s, names)
    people = {p.username: p for p in s.scalars(select(Profile).where(Profile.username.in_(names)))}
    by_student: dict[str, list[Attempt]] = {}
    for attempt in found:
        for member in attempt.members:
            by_student.setdefault(member, []).append(attempt)
    rows = []
    for name in sorted(names):
        mine = by_student.get(name, [])
        person = people.get(name)
        rows.append(
            {
                "name": name,
                "display_name": (person.display_name if person else "") or name,
                "email": person.email if person else "",
                "attempts": len(mine),
                "passed": sum(1 for a in mine if a.passed),
                "submits": sum(a.submits for a in mine),
                "rating": round(ratings[name], 1),
                "questions": sorted({a.question_id for a in mine}),
            }
        )
    return rows


def live_rooms(s: Session, students: Collection[str] | None) -> list[dict[str, Any]]:
    """Rooms running now with a member of the class, and who has opened each."""
    rooms = s.scalars(
        select(Room).where(Room.state == RoomState.active.value).order_by(Room.started)
    ).all()
    titles = {qid: title for qid, (title, _) in newest_titles(s).items()}
    out = []
    for room in rooms:
        names = sorted(m.username for m in room.members if m.active)
        if students is not None and not set(names) & set(students):
            continue
        observers = s.scalars(
            select(RoomObserver.username).where(RoomObserver.room_id == room.id)
        ).all()
        out.append(
            {
                "id": room.id,
                "question_id": room.question_id,
                "title": titles.get(room.question_id, room.question_id),
                "difficulty": room.difficulty,
                "members": names,
                "started": room.started.isoformat() if room.started else None,
                "observers": sorted(observers),
            }
        )
    return out


CSV_COLUMNS = ("name", "display_name", "email", "attempts", "passed", "submits", "rating")


def gradebook_csv(rows: list[dict[str, Any]]) -> str:
    """The per-student rows as CSV for a gradebook import (one line per student)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([_cell(row[c]) for c in CSV_COLUMNS])
    return out.getvalue()


def _cell(value: Any) -> Any:
    # A spreadsheet runs a cell that starts with = + - @ as a formula: defuse names and emails.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
