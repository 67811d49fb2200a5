"""Where a pair becomes a room: the room rows a match creates, and the room as a ticket shows it.

This module is the one seam between matching and rooms. Matching decides pairs; everything it
knows about rooms is here: ``RoomMaker.make`` writes the ``Room`` and both ``RoomMember``
rows and claims the tickets in the caller's transaction, and ``made_room_json`` /
``room_json`` are the room a ticket view carries (the first for a room this process just made,
without reading it back; the second read from the database). When the rooms package offers one
room builder and one room JSON view, these three are what to point at them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.orm import Session

from ...db.models import (
    Profile,
    QuestionVersion,
    Room,
    RoomMember,
    RoomState,
    Ticket,
    new_id,
)
from .. import metrics
from ..room_language import in_language
from ..rooms import views
from . import sql
from .core import Agreement, Waiting
from .messages import NO_QUESTIONS, describe
from .question_choice import PickedQuestion, PublishedQuestions, choose_question
from .tickets import ts


class Lost(Exception):
    """A ticket was no longer waiting when a room tried to claim it."""


@dataclass
class MadeRoom:
    """A room created for a pair, with the question picked and each ticket's message."""

    room_id: str
    pair_user: str
    question: PickedQuestion
    topic: str
    note: str
    a: Waiting
    b: Waiting
    messages: dict[str, str]


class RoomMaker:
    """Creates the rooms of matched pairs (state ``starting``; ``hub/rooms`` takes it from
    there) with a question each."""

    def __init__(self, questions: PublishedQuestions, log: logging.Logger | Any) -> None:
        self.questions = questions
        self.log = log

    def make(
        self,
        s: Session,
        pairs: Sequence[tuple[Waiting, Waiting, Agreement]],
        now: datetime,
        stored: set[str],
        writes: sql.PendingWrites | None = None,
    ) -> list[MadeRoom]:
        """Create the rooms of ``pairs`` inside the caller's transaction: the room, both
        members, and the claim of the tickets already in the database (``stored``; the caller
        inserts its new tickets as matched itself). A claim that finds its ticket no longer
        waiting raises ``Lost`` and the whole transaction rolls back: it cannot happen while
        the caller holds the rows' locks, and the database refuses what the locks would miss.

        With ``writes``, the rows are only queued there, so that the caller can add its own
        and send them all at once: it then flushes ``writes`` and calls ``claim``.
        """
        if not pairs:
            return []
        questions = self.questions.read(s)
        if not questions:
            waiting_for_questions = [w.id for pair in pairs for w in pair[:2] if w.id in stored]
            if waiting_for_questions:
                s.execute(
                    update(Ticket)
                    .where(Ticket.id.in_(waiting_for_questions))
                    .values(message=NO_QUESTIONS)
                    .execution_options(synchronize_session=False)
                )
            return []
        conn = s.connection()
        attempted = sql.attempted(conn, {w.username for pair in pairs for w in pair[:2]})
        made = [self._plan_room(s, a, b, agreed, questions, attempted) for a, b, agreed in pairs]
        queue = sql.PendingWrites() if writes is None else writes
        queue.insert(sql.ROOMS, [room_row(m, now) for m in made])
        queue.insert(
            sql.MEMBERS,
            [
                {"room_id": m.room_id, "username": w.username, "active": True}
                for m in made
                for w in (m.a, m.b)
            ],
        )
        if writes is None:
            queue.flush(conn)
            self.claim(conn, made, now, stored)
        return made

    def claim(
        self, conn: Connection, made: Sequence[MadeRoom], now: datetime, stored: set[str]
    ) -> None:
        """Mark the ``stored`` tickets of ``made`` rooms matched (after the rooms are written);
        raise ``Lost`` if one is no longer waiting."""
        claims = {w.id: m.room_id for m in made for w in (m.a, m.b) if w.id in stored}
        messages = {tid: m.messages[tid] for m in made for tid in m.messages if tid in claims}
        claimed = sql.claim(conn, claims, messages, now)
        if claimed != len(claims):
            raise Lost(f"{len(claims) - claimed} ticket(s) no longer waiting")
        for m in made:
            for w in (m.a, m.b):
                metrics.observe_match(ts(now) - w.created, difficulty=w.difficulty)
            self.log.info(
                "Room %s created: %s + %s on %s v%s (tickets %s, %s)",
                m.room_id,
                m.a.username,
                m.b.username,
                m.question.question_id,
                m.question.version,
                m.a.id,
                m.b.id,
            )

    @staticmethod
    def _plan_room(
        s: Session,
        a: Waiting,
        b: Waiting,
        agreed: Agreement,
        questions: Sequence[Any],
        attempted: dict[str, list[str]],
    ) -> MadeRoom:
        counts: dict[str, int] = {}
        for username in (a.username, b.username):
            for qid in attempted.get(username, ()):
                counts[qid] = counts.get(qid, 0) + 1
        qv, note = choose_question(in_language(s, questions, a.language), agreed, counts)
        room_id = new_id()
        topic = next(
            (x for x in qv.topics if x in agreed.topics), qv.topics[0] if qv.topics else ""
        )
        messages = {
            me.id: (
                f"Matched with {other.username} on {qv.title} "
                f"({describe(qv.difficulty, qv.topics)}). {note}"
            ).strip()
            for me, other in ((a, b), (b, a))
        }
        return MadeRoom(room_id, f"pair-{room_id[:12]}", qv, topic, note, a, b, messages)


def room_row(m: MadeRoom, now: datetime) -> dict[str, Any]:
    """The ``rooms`` row of a room just made."""
    return {
        "id": m.room_id,
        "pair_user": m.pair_user,
        "question_id": m.question.question_id,
        "question_version": m.question.version,
        "difficulty": m.question.difficulty,
        "topic": m.topic,
        "state": RoomState.starting.value,
        "message": m.note,
        "created": now,
    }


def made_room_json(
    m: MadeRoom, partner: str, partner_display: str, url_template: str
) -> dict[str, Any]:
    """The match's ``room`` for a room this process just made, without reading it back (the
    one room summary of ``rooms/views.py``)."""
    return views.summary_json(
        room_id=m.room_id,
        pair_user=m.pair_user,
        state=RoomState.starting.value,
        url=url_template.format(pair_user=m.pair_user, room_id=m.room_id),
        question_id=m.question.question_id,
        title=m.question.title,
        difficulty=m.question.difficulty,
        topic=m.topic,
        note=m.note,
        partner=partner,
        partner_display=partner_display,
    )


def room_json(s: Session, t: Ticket, url_template: str) -> dict[str, Any] | None:
    """The room of matched ticket ``t`` as its owner sees it (None: the room is gone)."""
    room = s.get(Room, t.room_id)
    if room is None:
        return None
    partner = s.execute(
        select(RoomMember.username, Profile.display_name)
        .outerjoin(Profile, Profile.username == RoomMember.username)
        .where(RoomMember.room_id == room.id, RoomMember.username != t.username)
    ).first()
    title = s.scalar(
        select(QuestionVersion.title).where(
            QuestionVersion.question_id == room.question_id,
            QuestionVersion.version == room.question_version,
        )
    )
    return views.summary_json(
        room_id=room.id,
        pair_user=room.pair_user,
        state=room.state,
        url=url_template.format(pair_user=room.pair_user, room_id=room.id),
        question_id=room.question_id,
        title=title or "",
        difficulty=room.difficulty,
        topic=room.topic,
        note=room.message or "",
        partner=partner[0] if partner else "",
        partner_display=(partner[1] or "") if partner else "",
    )
