"""Class view benchmark: what one refresh of the Class tab costs the service database.

    .venv/bin/python benchmarks/classview.py [--courses 20] [--students 50] [--rooms 10] [--runs 10]

Seeds a SQLite database (migrated to head) with ``courses`` x ``students`` students, each in
``rooms`` ended rooms with a partner of their course and two submits per room, then times the
body of ``GET /api/class`` (attempts, per question, per student, live rooms), in one run:

Each case is what the handler runs in a worker thread (``handlers/classview.py:class_body``):

- ``one course``: an LMS instructor's view (the course's students, filtered in SQL);
- ``one course, filtered after reading all``: the same figures computed by reading every room
  and filtering in Python (the baseline the SQL filter is measured against);
- ``all students``: an instructor with no course group (native log-in) sees everyone.

Prints a table and writes ``benchmarks/results/classview.json``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from report import machine, summary, table, write_results  # noqa: E402

from jupyter_peerprep import db  # noqa: E402
from jupyter_peerprep.db.models import (  # noqa: E402
    Question,
    QuestionVersion,
    Room,
    RoomMember,
    Run,
)
from jupyter_peerprep.hub import classview  # noqa: E402
from jupyter_peerprep.hub.handlers.classview import class_body  # noqa: E402

# Arguments per profile of benchmarks/run_all.py (make benchmarks / make benchmarks-full).
PROFILES = {"quick": ["--runs", "5"], "full": ["--runs", "10"]}

T0 = datetime(2026, 9, 1, tzinfo=timezone.utc)


def seed(factory: Any, courses: int, students: int, rooms: int) -> dict[int, list[str]]:
    roster = {c: [f"c{c}s{i}" for i in range(students)] for c in range(courses)}
    with db.transaction(factory) as s:
        for q in range(5):
            s.add(Question(id=f"q{q}", current_version=1))
            s.flush()
            s.add(
                QuestionVersion(
                    question_id=f"q{q}",
                    version=1,
                    title=f"Question {q}",
                    difficulty="easy",
                    topics=[],
                    spec={},
                    notebook={},
                    checksum="c" * 64,
                )
            )
        n = 0
        for names in roster.values():
            for i, name in enumerate(names):
                partner = names[(i + 1) % len(names)]
                for r in range(rooms):
                    n += 1
                    start = T0 + timedelta(minutes=n)
                    room = Room(
                        pair_user=f"pair-{n:012x}",
                        question_id=f"q{r % 5}",
                        question_version=1,
                        difficulty="easy",
                        state="ended",
                        started=start,
                        ended=start + timedelta(hours=1),
                    )
                    s.add(room)
                    s.flush()
                    s.add(RoomMember(room_id=room.id, username=name, active=False))
                    s.add(RoomMember(room_id=room.id, username=partner, active=False))
                    for k, verdict in enumerate(("failed", "passed" if r % 3 else "failed")):
                        s.add(
                            Run(
                                room_id=room.id,
                                username=name,
                                kind="submit",
                                created=start + timedelta(seconds=60 * (k + 1)),
                                source="",
                                verdict=verdict,
                                report={"complexity": {"estimate": "O(n)"}},
                            )
                        )
    return roster


def read_all_then_filter(factory: Any, students: set[str]) -> dict[str, Any]:
    with factory() as s:
        found = [a for a in classview.attempts(s, None) if set(a.members) & students]
        return {
            "questions": classview.question_rows(s, found),
            "students": classview.student_rows(s, found, students),
            "live": classview.live_rooms(s, students),
        }


def timed(runs: int, call: Callable[[], Any]) -> tuple[list[float], Any]:
    times, body = [], None
    for _ in range(runs):
        start = time.perf_counter()
        body = call()
        times.append(time.perf_counter() - start)
    return times, body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--courses", type=int, default=20)
    parser.add_argument("--students", type=int, default=50)
    parser.add_argument("--rooms", type=int, default=10)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = db.make_engine(f"sqlite:///{tmp}/bench.sqlite")
        db.upgrade(engine)
        factory = db.session_factory(engine)
        roster = seed(factory, args.courses, args.students, args.rooms)
        course = set(roster[0])
        cases = [
            ("one course", lambda: class_body(factory, course)),
            (
                "one course, filtered after reading all",
                lambda: read_all_then_filter(factory, course),
            ),
            ("all students", lambda: class_body(factory, None)),
        ]
        results: dict[str, Any] = {"machine": machine(), "args": vars(args), "cases": {}}
        bodies = {}
        for name, call in cases:
            times, bodies[name] = timed(args.runs, call)
            results["cases"][name] = summary(times)
        # Both ways of computing one course's view agree.
        assert bodies["one course"] == bodies["one course, filtered after reading all"]
        engine.dispose()
    total_rooms = args.courses * args.students * args.rooms
    print(f"{total_rooms} rooms, {args.courses * args.students} students, {args.runs} runs each")
    rows = [["case", "p50 ms", "p95 ms"]]
    rows += [[k, str(v["p50_ms"]), str(v["p95_ms"])] for k, v in results["cases"].items()]
    print(table(rows))
    print(f"wrote {write_results('classview', results)}")


if __name__ == "__main__":
    main()
