"""Match requests that arrive together are written as one batch (``Matchmaker.enqueue``):
what each student gets back must be exactly what they would get one at a time, on SQLite and
on a real PostgreSQL.

Requests started in the same event-loop turn land in the same batch, so these tests start
them with ``asyncio.gather``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from matching_support import add_bank
from sqlalchemy import func, select

from jupyter_peerprep import db
from jupyter_peerprep.db.models import Room, RoomMember, Ticket
from jupyter_peerprep.hub.matching import MatchError, Matchmaker, MatchRequest


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def factory(request: pytest.FixtureRequest, tmp_path) -> Iterator[Any]:
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
    else:
        url = f"sqlite:///{tmp_path / 'batch.sqlite'}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    factory = db.session_factory(engine)
    add_bank(factory)
    yield factory
    engine.dispose()


def ask(difficulty: str = "easy", topics: tuple[str, ...] = ("arrays",), key: str = "k1"):
    return MatchRequest(difficulty, list(topics), None, key)


async def together(mm: Matchmaker, *requests: tuple[str, MatchRequest]) -> list[Any]:
    """Enqueue all ``requests`` in one loop turn; each result or the MatchError it raised."""
    return await asyncio.gather(
        *(mm.enqueue(user, request) for user, request in requests), return_exceptions=True
    )


async def test_two_compatible_students_in_one_batch_are_matched_with_each_other(factory):
    mm = Matchmaker(session_factory=factory)
    (alice, created_a), (bob, created_b) = await together(
        mm, ("alice", ask()), ("bob", ask(topics=("arrays", "graphs")))
    )
    assert created_a and created_b
    assert alice["state"] == bob["state"] == "matched"
    assert alice["room"]["id"] == bob["room"]["id"]
    assert alice["room"]["partner"]["name"] == "bob"
    assert bob["room"]["partner"]["name"] == "alice"
    assert "Two Sum" in alice["message"] and "Matched with bob" in alice["message"]
    # What the stream will read back from the database is what the batch answered.
    stored = mm.get("alice", alice["id"])
    for field in ("id", "state", "message", "room", "difficulty", "topics", "language"):
        assert stored[field] == alice[field], field
    with factory() as s:
        room = s.get(Room, alice["room"]["id"])
        assert sorted(m.username for m in room.members) == ["alice", "bob"]


async def test_a_batch_pairs_first_come_first_served_and_leaves_the_odd_one_waiting(factory):
    mm = Matchmaker(session_factory=factory)
    results = await together(mm, *((f"s{i}", ask(key=f"k{i}")) for i in range(5)))
    states = [r[0]["state"] for r in results]
    assert states.count("matched") == 4 and states.count("waiting") == 1
    rooms = {r[0]["room"]["id"] for r in results if r[0]["room"]}
    assert len(rooms) == 2
    with factory() as s:
        members = s.execute(select(RoomMember.username)).scalars().all()
        assert len(members) == len(set(members)) == 4


async def test_the_same_student_twice_in_one_batch(factory):
    mm = Matchmaker(session_factory=factory)
    first, retry, other_key = await together(
        mm,
        ("carol", ask(difficulty="hard", topics=("heaps",))),
        ("carol", ask(difficulty="hard", topics=("heaps",))),
        ("carol", ask(difficulty="hard", topics=("heaps",), key="k2")),
    )
    ticket, created = first
    assert created and ticket["state"] == "waiting"
    # A retry with the same idempotency key answers the same ticket, not a second one.
    assert retry == (ticket, False)
    # Another key while the first ticket is open: 409 carrying the open ticket.
    assert isinstance(other_key, MatchError) and other_key.status == 409
    assert other_key.ticket is not None and other_key.ticket["id"] == ticket["id"]
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 1


async def test_a_student_in_a_room_is_refused_without_holding_up_the_batch(factory):
    mm = Matchmaker(session_factory=factory)
    (dan, _), _ = await together(mm, ("dan", ask()), ("erin", ask()))
    assert dan["state"] == "matched"
    again, frank, grace = await together(
        mm, ("dan", ask(key="k2")), ("frank", ask()), ("grace", ask())
    )
    assert isinstance(again, MatchError) and again.status == 409
    assert dan["room"]["id"] in again.message and "end that session" in again.message
    assert frank[0]["state"] == grace[0]["state"] == "matched"


@pytest.mark.postgres
async def test_a_batch_a_constraint_refuses_is_answered_request_by_request(postgres_url):
    """Another service process opened a ticket for one student of the batch between our
    check and our insert: the database's one-open-ticket index refuses the batch, and the
    batch is written again one request at a time, so that student gets the 409 and the others
    their tickets. (PostgreSQL only: on SQLite the batch holds the only write lock, so no
    other process can get in between.)"""
    engine = db.make_engine(postgres_url)
    db.upgrade(engine)
    factory = db.session_factory(engine)
    add_bank(factory)
    mm = Matchmaker(session_factory=factory)
    admit = mm.writer._admit

    def admit_then_race(s, batch, now):
        fresh, verdicts = admit(s, batch, now)
        if len(batch) > 1:  # only the first, whole-batch attempt loses the race
            with db.transaction(factory) as other:
                other.add(
                    Ticket(
                        username="heidi",
                        idempotency_key="elsewhere",
                        difficulty="hard",
                        topics=["heaps"],
                        lease_expires=now,
                    )
                )
        return fresh, verdicts

    mm.writer._admit = admit_then_race  # type: ignore[method-assign]
    heidi, ivan, judy = await together(
        mm, ("heidi", ask()), ("ivan", ask(topics=("graphs",))), ("judy", ask(topics=("graphs",)))
    )
    assert isinstance(heidi, MatchError) and heidi.status == 409
    assert heidi.ticket is not None and heidi.ticket["difficulty"] == "hard"
    # One by one, Ivan was answered before Judy came: waiting; Judy's write paired them.
    assert ivan[0]["state"] == "waiting" and judy[0]["state"] == "matched"
    assert judy[0]["room"]["partner"]["name"] == "ivan"
    assert mm.get("ivan", ivan[0]["id"])["room"]["id"] == judy[0]["room"]["id"]
    engine.dispose()
