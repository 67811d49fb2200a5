"""The room API and the /rooms/{id} page, on a service without a hub (rooms not prepared)."""

from __future__ import annotations

import html
import json
from typing import Any

from sqlalchemy import event

from jupyter_peerprep import db
from jupyter_peerprep.db.models import Room, RoomMember
from jupyter_peerprep.testing import seed

SPEC: dict[str, Any] = {
    "id": "two-sum",
    "title": "Two Sum",
    "difficulty": "easy",
    "topics": ["arrays", "hash-maps"],
    "entry_point": "two_sum",
    "language": "python",
    "limits": {"time_s": 2.0},
    "checker": "exact",
    "prompt": "Find two indices whose values add up to target.",
    "starter": "def two_sum(nums, target):\n    pass\n",
    "solution": "def two_sum(nums, target):\n    return []\n",
    "public_tests": [{"name": "example", "args": [[2, 7, 11, 15], 9], "expected": [0, 1]}],
    "hidden_tests": [{"name": "hidden", "args": [[5, 918273, 6], 918279], "expected": [1, 2]}],
}


def add_room(service: Any, *, spec: dict[str, Any] = SPEC, state: str = "active") -> str:
    """A question version and a room of alice and bob on it, written as the service does."""
    return seed.add_room(service, spec, state=state)


class SpecReads:
    """Counts the SQL statements that read ``question_versions.spec`` on an engine."""

    def __init__(self, engine: Any) -> None:
        self.count = 0
        self.engine = engine
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and (
            "question_versions.spec" in statement
        ):
            self.count += 1

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)


async def test_room_polls_read_the_question_spec_once(make_service):
    service, client = await make_service()
    room_id = add_room(service)
    reads = SpecReads(service.engine)
    try:
        polls = [await client.json(f"api/rooms/{room_id}", user="alice") for _ in range(5)]
        polls.append(await client.json(f"api/rooms/{room_id}/heartbeat", user="bob", method="POST"))
        polls.append(await client.json("api/rooms/current", user="alice"))
    finally:
        reads.close()
    for body in polls:
        room = body.get("room", body)
        assert room["id"] == room_id
        assert room["question"] == {
            "id": "two-sum",
            "title": "Two Sum",
            "difficulty": "easy",
            "topics": ["arrays", "hash-maps"],
            "prompt": "Find two indices whose values add up to target.",
            "version": 1,
            # A room without tickets is a Python room: the panel shows the Python starter.
            "language": "python",
            "starter": "def two_sum(nums, target):\n    pass\n",
        }
        assert "918273" not in json.dumps(body)
    # Versions are immutable: the first poll reads the spec, the others use the cache.
    assert reads.count == 1


async def test_a_heartbeat_marks_its_member_present_and_nobody_else_can_send_one(make_service):
    service, client = await make_service()
    room_id = add_room(service)
    intruder = await client.fetch(f"api/rooms/{room_id}/heartbeat", user="mallory", method="POST")
    assert intruder.code == 404 and room_id in json.loads(intruder.body)["message"]
    with service.session_factory() as s:
        assert s.query(RoomMember).filter_by(username="mallory").count() == 0
    body = await client.json(f"api/rooms/{room_id}/heartbeat", user="bob", method="POST")
    assert body["id"] == room_id
    with service.session_factory() as s:
        seen = {m.username: m.last_seen for m in s.get(Room, room_id).members}
    assert seen["bob"] is not None and seen["alice"] is None


async def room_page(client: Any, room_id: str, user: str = "alice") -> tuple[int, str]:
    response = await client.fetch(f"rooms/{room_id}", user=user)
    return response.code, response.body.decode()


async def test_room_page_shows_progress_escaped(make_service):
    service, client = await make_service()
    spec = dict(SPEC, id="tagged", title='Pairs <script>alert("x")</script> & sums')
    room_id = add_room(service, spec=spec, state="starting")
    with db.transaction(service.session_factory) as s:
        s.get(Room, room_id).message = "Starting your room (<no> warm server was free)…"
    code, page = await room_page(client, room_id)
    assert code == 200
    assert "<h1>Pairs &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; sums</h1>" in page
    assert "<script>" not in page
    assert (
        '<p role="status" data-testid="peerprep-room-status">'
        "Starting your room (&lt;no&gt; warm server was free)…</p>"
    ) in page
    assert '<meta http-equiv="refresh" content="1">' in page  # reloads until active
    assert '<a href="/hub/home">Back to the hub</a>' in page


async def test_room_page_of_an_ended_room_stops_refreshing(make_service):
    service, client = await make_service()
    room_id = add_room(service, state="ended")
    code, page = await room_page(client, room_id, user="bob")
    assert code == 200
    assert "<h1>Two Sum</h1>" in page
    assert "This session has ended. It is in your history." in page
    assert "http-equiv" not in page


async def test_room_page_of_someone_elses_room_is_404(make_service):
    service, client = await make_service()
    room_id = add_room(service)
    code, page = await room_page(client, room_id, user="mallory")
    assert code == 404
    assert page.startswith("<!doctype html>")
    assert f"<p>No room '{room_id}' of yours.</p>" in html.unescape(page)
