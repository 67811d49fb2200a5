"""SQLAlchemy 2 models of the PeerPrep service database.

One table per idea:

- ``Profile``: a student's settings; the identity (``username``) comes from the Hub.
- ``Question`` / ``QuestionVersion``: the question bank. A version is immutable; replacing a
  question adds a version and attempts keep the one they used. Hidden tests live in
  ``QuestionVersion.spec`` and never leave the service.
- ``Ticket``: a request to be matched; at most one open ticket per user (partial unique index).
- ``Room`` / ``RoomMember``: a match and the pair server that hosts it; at most one active room
  per user (partial unique index). Ended rooms are the students' history. ``Room.grading_since``
  marks a room whose run is being graded (one at a time, whichever replica grades it).
- ``Run``: one Run or Submit in a room, with the student-visible report.
- ``PairServer``: a hub user whose server hosts (or will host) one room; the warm pool.
- ``RoomObserver``: an instructor who opened a live room from the class view.

Schema changes go through a new file in ``migrations/versions/``; never ``create_all``.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def new_id() -> str:
    return uuid.uuid4().hex


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class Difficulty(str, enum.Enum):
    easy = "easy"
    medium = "medium"
    hard = "hard"


class Proficiency(str, enum.Enum):
    beginner = "beginner"
    intermediate = "intermediate"
    advanced = "advanced"


class TicketState(str, enum.Enum):
    waiting = "waiting"
    matched = "matched"
    cancelled = "cancelled"
    timed_out = "timed_out"


class RoomState(str, enum.Enum):
    starting = "starting"  # matched, pair server being prepared
    active = "active"  # both students can enter
    ending = "ending"  # end requested, saving history and stopping the server
    ended = "ended"  # in history; pair server stopped, shares revoked
    failed = "failed"  # could not be started; message says why


class Profile(Base):
    __tablename__ = "profiles"

    username: Mapped[str] = mapped_column(String(255), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    # From an LMS or single sign-on log-in (jupyter_peerprep/lms.py); "" with native log-in.
    email: Mapped[str] = mapped_column(String(255), default="", server_default="")
    proficiency: Mapped[str] = mapped_column(String(20), default=Proficiency.beginner.value)
    language: Mapped[str] = mapped_column(String(40), default="python")
    topics: Mapped[list[Any]] = mapped_column(default=list)
    rating: Mapped[float] = mapped_column(Float, default=1000.0)
    created: Mapped[datetime] = mapped_column(default=utcnow)
    updated: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Question(Base):
    __tablename__ = "questions"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    created: Mapped[datetime] = mapped_column(default=utcnow)

    versions: Mapped[list[QuestionVersion]] = relationship(
        back_populates="question", order_by="QuestionVersion.version"
    )


class QuestionVersion(Base):
    __tablename__ = "question_versions"
    __table_args__ = (UniqueConstraint("question_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    question_id: Mapped[str] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    difficulty: Mapped[str] = mapped_column(String(10), index=True)
    topics: Mapped[list[Any]] = mapped_column()
    # The parsed question, hidden tests and reference solution included: service-only.
    spec: Mapped[dict[str, Any]] = mapped_column()
    # The instructor's notebook as uploaded, for export.
    notebook: Mapped[dict[str, Any]] = mapped_column()
    checksum: Mapped[str] = mapped_column(String(64))
    created: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(255), default="")

    question: Mapped[Question] = relationship(back_populates="versions")


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        # One open ticket per user, enforced by the database itself.
        Index(
            "uq_tickets_one_waiting_per_user",
            "username",
            unique=True,
            sqlite_where=text("state = 'waiting'"),
            postgresql_where=text("state = 'waiting'"),
        ),
        UniqueConstraint("username", "idempotency_key", name="uq_tickets_idempotency"),
        Index("ix_tickets_state_created", "state", "created"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(255))
    idempotency_key: Mapped[str] = mapped_column(String(100))
    difficulty: Mapped[str] = mapped_column(String(10))
    topics: Mapped[list[Any]] = mapped_column()
    language: Mapped[str] = mapped_column(String(40), default="python")
    state: Mapped[str] = mapped_column(String(20), default=TicketState.waiting.value)
    # 0 = exact; 1 = topic dropped; 2 = neighbouring difficulty allowed.
    relax_level: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[datetime] = mapped_column(default=utcnow)
    updated: Mapped[datetime] = mapped_column(default=utcnow)
    lease_expires: Mapped[datetime] = mapped_column()
    room_id: Mapped[str | None] = mapped_column(ForeignKey("rooms.id"), nullable=True)
    message: Mapped[str] = mapped_column(Text, default="")


class Room(Base):
    __tablename__ = "rooms"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    # The hub user whose server is the room ("pair-<id>"); unique, never reused.
    pair_user: Mapped[str] = mapped_column(String(255), unique=True)
    question_id: Mapped[str] = mapped_column(ForeignKey("questions.id"))
    question_version: Mapped[int] = mapped_column(Integer)
    difficulty: Mapped[str] = mapped_column(String(10))
    topic: Mapped[str] = mapped_column(String(40), default="")
    state: Mapped[str] = mapped_column(String(20), default=RoomState.starting.value, index=True)
    message: Mapped[str] = mapped_column(Text, default="")
    created: Mapped[datetime] = mapped_column(default=utcnow)
    started: Mapped[datetime | None] = mapped_column(nullable=True)
    ended: Mapped[datetime | None] = mapped_column(nullable=True)
    ended_by: Mapped[str] = mapped_column(String(255), default="")
    end_reason: Mapped[str] = mapped_column(String(40), default="")
    final_notebook: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # When the run being graded now started (None: none is). Claimed and cleared by the runs
    # handler with conditional UPDATEs, so one run at a time holds across service replicas; a
    # claim older than the grader's longest run (a crashed replica's) no longer counts.
    grading_since: Mapped[datetime | None] = mapped_column(nullable=True)
    # Which service replica prepares or ends this room now, and until when (see hub/rooms/state.py).
    lease_owner: Mapped[str] = mapped_column(String(64), default="", server_default="")
    lease_expires: Mapped[datetime | None] = mapped_column(nullable=True)
    # When final_notebook was last copied from the running room (None: never).
    snapshot_at: Mapped[datetime | None] = mapped_column(nullable=True)

    members: Mapped[list[RoomMember]] = relationship(back_populates="room")
    runs: Mapped[list[Run]] = relationship(back_populates="room", order_by="Run.created")


class RoomMember(Base):
    __tablename__ = "room_members"
    __table_args__ = (
        UniqueConstraint("room_id", "username"),
        # One active room per user, enforced by the database itself.
        Index(
            "uq_room_members_one_active_per_user",
            "username",
            unique=True,
            sqlite_where=text("active"),
            postgresql_where=text("active"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    username: Mapped[str] = mapped_column(String(255), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    joined: Mapped[datetime | None] = mapped_column(nullable=True)
    last_seen: Mapped[datetime | None] = mapped_column(nullable=True)

    room: Mapped[Room] = relationship(back_populates="members")


class Run(Base):
    __tablename__ = "runs"
    __table_args__ = (
        # A retried Run or Submit (same student, room and key) finds the run it already made.
        UniqueConstraint("room_id", "username", "idempotency_key", name="uq_runs_idempotency"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    username: Mapped[str] = mapped_column(String(255))
    # Null only for runs made before keys existed (migration 0004).
    idempotency_key: Mapped[str | None] = mapped_column(String(100), default=new_id)
    kind: Mapped[str] = mapped_column(String(10))  # "run" (public tests) | "submit" (hidden)
    created: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(Text)
    passed: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    verdict: Mapped[str] = mapped_column(String(30), default="")
    # What the students may see: never hidden inputs, expected values or hidden-test output.
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)

    room: Mapped[Room] = relationship(back_populates="runs")


class PairServerState(str, enum.Enum):
    warming = "warming"  # hub user created, server starting
    ready = "ready"  # started and unassigned: the warm pool
    assigned = "assigned"  # hosts a room
    retired = "retired"  # stopped and its hub user deleted; never reused


class PairServer(Base):
    """A pair user ("pair-<hex>") and its server. Never reused for a second room."""

    __tablename__ = "pair_servers"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    state: Mapped[str] = mapped_column(
        String(20), default=PairServerState.warming.value, index=True
    )
    room_id: Mapped[str | None] = mapped_column(ForeignKey("rooms.id"), nullable=True)
    created: Mapped[datetime] = mapped_column(default=utcnow)
    ready_at: Mapped[datetime | None] = mapped_column(nullable=True)
    message: Mapped[str] = mapped_column(Text, default="")


class RoomObserver(Base):
    """An instructor who opened a live room from the class view (shared with them, announced
    to the students in the room)."""

    __tablename__ = "room_observers"
    __table_args__ = (UniqueConstraint("room_id", "username"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    username: Mapped[str] = mapped_column(String(255))
    opened: Mapped[datetime] = mapped_column(default=utcnow)


class TalkSignal(Base):
    """One WebRTC signalling message (offer, answer, ICE candidate, hang-up) from one member
    of a room to the other, kept until the partner reads it or the room ends (hub/talk/)."""

    __tablename__ = "talk_signals"
    # Ids only grow, even after every row was read and deleted: a reader asks for messages
    # ``after`` the last id it saw, so a reused id (SQLite's default once the table empties)
    # would be a message never delivered.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    sender: Mapped[str] = mapped_column(String(255))
    recipient: Mapped[str] = mapped_column(String(255))
    payload: Mapped[dict[str, Any]] = mapped_column()
    created: Mapped[datetime] = mapped_column(default=utcnow)


class TalkTranscript(Base):
    """A room's chat (the jupyterlab-chat document beside the notebook): copied while the room
    runs and once more when it ends; the attempt's transcript in history (hub/talk/)."""

    __tablename__ = "talk_transcripts"

    room_id: Mapped[str] = mapped_column(
        ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True
    )
    messages: Mapped[list[Any]] = mapped_column()
    saved_at: Mapped[datetime] = mapped_column(default=utcnow)


# The session record's table lives in its own module (hook line: registers it on Base).
from . import record_models as record_models  # noqa: E402
