"""The database-backed Matchmaker under random enqueue / cancel / wait / end room / crash and
restart, on a real SQLite database and a controlled clock. Invariants are read back from the
database: nobody is in two rooms at once, no ticket is lost or matched twice, relaxation and
timeouts happen in order and on time, and a crash half way through a match leaves no trace."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from matching_support import add_bank
from sqlalchemy import func, select

from jupyter_peerprep import db
from jupyter_peerprep.db.models import Room, RoomMember, Ticket
from jupyter_peerprep.hub.matching import (
    MatchError,
    Matchmaker,
    allowed_difficulties,
    relax_level,
)

USERS = [f"s{i}" for i in range(6)]
TOPICS = ["arrays", "graphs", "heaps"]
TRAITS = {
    "topic_relax_after": 10.0,
    "difficulty_relax_after": 20.0,
    "timeout_after": 30.0,
    "lease_seconds": 16.0,
    "rematch_cooldown": 100.0,
}


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 9, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


class CrashingMatchmaker(Matchmaker):
    """A Matchmaker whose process dies in the middle of creating a room (after the room row
    and one member are written, before the tickets are claimed)."""

    def _make_rooms(self, s, pairs, now, stored):
        if not pairs:
            return []
        a = pairs[0][0]
        s.add(
            Room(
                id="c" * 32,
                pair_user="pair-crash",
                question_id="two-sum",
                question_version=1,
                difficulty="easy",
                created=now,
            )
        )
        s.flush()
        s.add(RoomMember(room_id="c" * 32, username=a.username, active=True))
        s.flush()
        raise SystemExit("simulated crash during a match")


@pytest.fixture(scope="module")
def template_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "peerprep.sqlite"
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    add_bank(db.session_factory(engine))
    engine.dispose()
    return path


def make_machine(template: Path, workdir: Path):
    class MatchmakerMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.n = getattr(type(self), "_n", 0) + 1
            type(self)._n = self.n
            path = workdir / f"m{self.n}.sqlite"
            shutil.copy(template, path)
            self.engine = db.make_engine(f"sqlite:///{path}")
            self.factory = db.session_factory(self.engine)
            self.clock = Clock()
            self.loop = asyncio.new_event_loop()
            self.mm = self._new()
            self.created: set[str] = set()
            self.cancelled: set[str] = set()
            self.levels: dict[str, int] = {}

        def _new(self, cls: type[Matchmaker] = Matchmaker) -> Matchmaker:
            return cls(session_factory=self.factory, clock=self.clock, **TRAITS)

        def run(self, coro):
            return self.loop.run_until_complete(coro)

        def teardown(self) -> None:
            self.loop.close()
            self.engine.dispose()

        @rule(
            user=st.sampled_from(USERS),
            difficulty=st.sampled_from(["easy", "medium", "hard"]),
            topics=st.lists(st.sampled_from(TOPICS), min_size=1, max_size=2, unique=True),
            key=st.sampled_from(["k1", "k2", "k3"]),
        )
        def enqueue(self, user, difficulty, topics, key):
            body = {"difficulty": difficulty, "topics": topics, "idempotency_key": key}
            request = self.mm.validate_request(body)
            try:
                ticket, created = self.run(self.mm.enqueue(user, request))
            except MatchError as e:
                assert e.status == 409
                with self.factory() as s:
                    busy = s.scalar(
                        select(func.count())
                        .select_from(Ticket)
                        .where(Ticket.username == user, Ticket.state == "waiting")
                    ) or s.scalar(
                        select(func.count())
                        .select_from(RoomMember)
                        .where(RoomMember.username == user, RoomMember.active.is_(True))
                    )
                assert busy, "409 only when a ticket is open or a room is active"
                return
            if created:
                assert ticket["id"] not in self.created
                self.created.add(ticket["id"])
            else:
                assert ticket["id"] in self.created, "idempotent retry returns the old ticket"

        @precondition(lambda self: bool(self.created))
        @rule(data=st.data())
        def cancel(self, data):
            tid = data.draw(st.sampled_from(sorted(self.created)))
            with self.factory() as s:
                owner = s.get(Ticket, tid).username
            try:
                ticket = self.mm.cancel(owner, tid)
            except MatchError as e:
                assert e.status == 409 and e.ticket["state"] == "matched"
                return
            if ticket["state"] == "cancelled":
                self.cancelled.add(tid)
            with pytest.raises(MatchError):
                self.mm.cancel("intruder", tid)

        @rule()
        def streams_renew_leases(self):
            with self.factory() as s:
                waiting = s.execute(
                    select(Ticket.username, Ticket.id).where(Ticket.state == "waiting")
                ).all()
            for user, tid in waiting:
                assert self.mm.get(user, tid, renew=True)["state"] in {"waiting", "relaxed"}

        @rule(seconds=st.sampled_from([0.5, 3.0, 9.0, 11.0]), streams_open=st.booleans())
        def wait(self, seconds, streams_open):
            if streams_open:
                self.streams_renew_leases()
            self.clock.now += timedelta(seconds=seconds)
            self.run(self.mm.tick())
            now = self.clock.now
            with self.factory() as s:
                for t in s.scalars(select(Ticket)):
                    waited = (now - t.created).total_seconds()
                    if t.state == "waiting":
                        assert waited < TRAITS["timeout_after"], "not timed out on time"
                        assert t.relax_level == relax_level(waited, self.mm.policy)
                        assert t.relax_level >= self.levels.get(t.id, 0), "relax in order"
                        self.levels[t.id] = t.relax_level
                    if t.state == "timed_out":
                        assert (t.updated - t.created).total_seconds() >= 30.0

        @rule()
        def a_long_wait_with_streams_open(self):
            for _ in range(4):
                self.wait(9.0, True)

        @rule(data=st.data())
        def end_a_room(self, data):
            with db.transaction(self.factory) as s:
                rooms = s.scalars(select(Room).where(Room.state == "starting")).all()
                if not rooms:
                    return
                room = data.draw(st.sampled_from(sorted(rooms, key=lambda r: r.id)))
                room.state = "ended"
                for m in room.members:
                    m.active = False

        @rule()
        def crash_and_restart(self):
            self.mm = self._new()
            self.mm.repair()

        @rule()
        def crash_during_a_match(self):
            crashing = self._new(CrashingMatchmaker)
            with contextlib.suppress(SystemExit):
                self.run(crashing.tick())
            self.mm = self._new()
            self.mm.repair()

        @invariant()
        def database_is_consistent(self):
            with self.factory() as s:
                tickets = s.scalars(select(Ticket)).all()
                assert {t.id for t in tickets} == self.created, "no ticket lost"
                by_id = {t.id: t for t in tickets}
                for tid in self.cancelled:
                    assert by_id[tid].state == "cancelled"
                rooms = s.scalars(select(Room)).all()
                for room in rooms:
                    members = sorted(m.username for m in room.members)
                    owners = sorted(t.username for t in tickets if t.room_id == room.id)
                    assert len(members) == 2 and members == owners, "a room is two tickets"
                    assert all(t.state == "matched" for t in tickets if t.room_id == room.id)
                for t in tickets:
                    assert (t.state == "matched") == (t.room_id is not None)
                active = [m.username for r in rooms for m in r.members if m.active]
                assert len(active) == len(set(active)), "nobody in two rooms at once"
                waiting = [t.username for t in tickets if t.state == "waiting"]
                assert len(waiting) == len(set(waiting)), "one open ticket per user"
                assert not set(waiting) & set(active), "nobody waits while in a room"
                for room in rooms:
                    pair = [t for t in tickets if t.room_id == room.id]
                    self._check_pair_allowed(pair)

        def _check_pair_allowed(self, pair: list[Ticket]) -> None:
            a, b = pair
            assert a.updated == b.updated
            levels = [
                relax_level((t.updated - t.created).total_seconds(), self.mm.policy) for t in pair
            ]
            assert max(levels) < 3
            da = allowed_difficulties(a.difficulty, levels[0])
            db_ = allowed_difficulties(b.difficulty, levels[1])
            assert set(da) & set(db_), "difficulties outside what their levels allow"
            if not set(a.topics) & set(b.topics):
                assert max(levels) >= 1, "different topics before the topic was dropped"

    return MatchmakerMachine


def test_matchmaker_state_machine(template_db, tmp_path):
    from hypothesis.stateful import run_state_machine_as_test

    machine = make_machine(template_db, tmp_path)
    run_state_machine_as_test(
        machine, settings=settings(max_examples=15, stateful_step_count=35, deadline=None)
    )
