"""The class view API (/api/class, its CSV export, opening a live room) on a service whose hub
is FakeHubIdentity: figures for seeded attempts, the course group's students only, 403 for
students."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from jupyter_peerprep import db
from jupyter_peerprep.db.models import Question, QuestionVersion, Room, RoomMember, Run
from jupyter_peerprep.questions.loader import load_path

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


BANK = Path(__file__).resolve().parents[2] / "question_bank"


def question(s: Any, qid: str, title: str) -> None:
    """A question under id ``qid``, its spec one of the shipped bank's (students' rooms show
    its prompt)."""
    spec = load_path(BANK / "anagram-check.ipynb")
    s.add(Question(id=qid, current_version=1))
    s.flush()
    s.add(
        QuestionVersion(
            question_id=qid,
            version=1,
            title=title,
            difficulty="easy",
            topics=["arrays"],
            spec=spec,
            notebook={},
            checksum="c" * 64,
        )
    )


def room(
    s: Any,
    qid: str,
    members: tuple[str, ...],
    submits: list[tuple[int, str, str | None]],
    *,
    state: str = "ended",
    start: datetime = T0,
) -> str:
    """A room started at ``start`` with submits (seconds after start, verdict, complexity)."""
    r = Room(
        pair_user=f"pair-{uuid.uuid4().hex[:12]}",
        question_id=qid,
        question_version=1,
        difficulty="easy",
        state=state,
        started=start,
        ended=None if state == "active" else start + timedelta(hours=1),
    )
    s.add(r)
    s.flush()
    for name in members:
        s.add(RoomMember(room_id=r.id, username=name, active=state == "active"))
    for seconds, verdict, estimate in submits:
        s.add(
            Run(
                room_id=r.id,
                username=members[0],
                kind="submit",
                created=start + timedelta(seconds=seconds),
                source="",
                passed=3 if verdict == "passed" else 1,
                total=3,
                verdict=verdict,
                report={"complexity": {"estimate": estimate} if estimate else None},
            )
        )
    return r.id


@pytest.fixture
async def classroom(make_service, fake_hub):
    service, client = await make_service()
    fake_hub.groups.update(
        {
            "prof": ["instructors", "course-cs101"],
            "alice": ["course-cs101"],
            "bob": ["course-cs101"],
            "zed": ["course-other"],
            "carol": ["course-other"],
            "native": ["instructors"],
        }
    )
    with db.transaction(service.session_factory) as s:
        question(s, "two-sum", "Two Sum")
        question(s, "parens", "Valid Parentheses")
        room(s, "two-sum", ("alice", "bob"), [(60, "failed", "O(n)"), (120, "passed", "O(n)")])
        room(
            s,
            "two-sum",
            ("alice", "bob"),
            [(300, "passed", "O(n^2)")],
            start=T0 + timedelta(days=1),
        )
        room(s, "two-sum", ("zed", "carol"), [(10, "passed", "O(1)")])
        room(s, "parens", ("alice", "bob"), [(90, "failed", None)], start=T0 + timedelta(days=2))
        live = room(
            s, "two-sum", ("alice", "bob"), [], state="active", start=T0 + timedelta(days=3)
        )
    return service, client, live


async def test_students_get_403_on_every_class_endpoint(classroom):
    _, client, live = classroom
    for method, path in [
        ("GET", "api/class"),
        ("GET", "api/class/export.csv"),
        ("POST", f"api/class/rooms/{live}/open"),
    ]:
        response = await client.fetch(path, user="alice", method=method)
        assert response.code == 403, (path, response.code)
        assert "instructors" in response.body.decode()


async def test_figures_of_the_course_for_seeded_attempts(classroom):
    _, client, live = classroom
    response = await client.fetch("api/class", user="prof")
    assert response.code == 200, response.body
    body = json.loads(response.body)
    assert body["courses"] == ["course-cs101"]
    questions = {q["id"]: q for q in body["questions"]}
    # zed and carol's room is another course's: not counted.
    assert questions["two-sum"]["attempts"] == 3
    assert questions["two-sum"]["passed"] == 2
    assert questions["two-sum"]["pass_rate"] == pytest.approx(0.667)
    assert questions["two-sum"]["median_seconds_to_pass"] == 210.0
    assert questions["two-sum"]["complexity"] == {"O(n)": 1, "O(n^2)": 1}
    assert questions["parens"]["attempts"] == 1
    assert questions["parens"]["pass_rate"] == 0.0
    assert questions["parens"]["median_seconds_to_pass"] is None
    assert questions["parens"]["complexity"] == {"not measured": 1}
    students = {row["name"]: row for row in body["students"]}
    assert sorted(students) == ["alice", "bob"]
    assert students["alice"]["attempts"] == 4
    assert students["alice"]["passed"] == 2
    assert students["alice"]["submits"] == 4
    assert students["alice"]["rating"] > 1000  # two passed rooms raised the Elo rating
    assert [r["id"] for r in body["live"]] == [live]
    assert body["live"][0]["members"] == ["alice", "bob"]


async def test_instructor_without_course_sees_every_student(classroom):
    _, client, _ = classroom
    body = json.loads((await client.fetch("api/class", user="native")).body)
    assert body["courses"] == []
    assert sorted(s["name"] for s in body["students"]) == ["alice", "bob", "carol", "zed"]
    two_sum = next(q for q in body["questions"] if q["id"] == "two-sum")
    assert two_sum["attempts"] == 4 and two_sum["median_seconds_to_pass"] == 120.0


async def test_gradebook_csv(classroom):
    _, client, _ = classroom
    response = await client.fetch("api/class/export.csv", user="prof")
    assert response.code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.body.decode())))
    assert [r["name"] for r in rows] == ["alice", "bob"]
    assert rows[0]["attempts"] == "4" and rows[0]["passed"] == "2"
    assert set(rows[0]) == {
        "name",
        "display_name",
        "email",
        "attempts",
        "passed",
        "submits",
        "rating",
    }


class RecordingHub:
    """Stands in for the hub's Shares API in this service-level test; records the calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Any]] = []

    async def request(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        self.calls.append((method, path, body))
        return {}


async def test_open_live_room_shares_it_and_tells_the_students(classroom):
    service, client, live = classroom
    hub = RecordingHub()
    service.rooms.hub_api = hub
    response = await client.fetch(f"api/class/rooms/{live}/open", user="prof", method="POST")
    assert response.code == 200, response.body
    body = json.loads(response.body)
    pair_user = body["url"].split("/user/")[1].split("/")[0]
    assert hub.calls == [("POST", f"shares/{pair_user}/", {"user": "prof"})]
    # The students in the room see who opened it.
    room = json.loads((await client.fetch(f"api/rooms/{live}", user="alice")).body)
    assert room["observers"] == ["prof"]
    listed = json.loads((await client.fetch("api/class", user="prof")).body)
    assert listed["live"][0]["observers"] == ["prof"]


async def test_room_of_another_course_cannot_be_opened(classroom, make_service):
    service, client, _ = classroom
    with db.transaction(service.session_factory) as s:
        other = room(s, "two-sum", ("zed", "carol"), [], state="active")
    service.rooms.hub_api = RecordingHub()
    response = await client.fetch(f"api/class/rooms/{other}/open", user="prof", method="POST")
    assert response.code == 404
    assert service.rooms.hub_api.calls == []
