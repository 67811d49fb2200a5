"""Grading a room's code: Run (public tests) and Submit (hidden tests), and the stored runs.

*Run* uses the question's public tests and keeps everything about each case; *Submit* uses the
hidden tests and keeps per case only a name, pass/fail and a generic reason, plus a measured
complexity when the question has a complexity block. A run is stored (``Run``) with exactly
what the students may see. An idempotency key makes a retried request find the run already
made instead of grading twice. Who may run, and one run at a time per room, are
``rooms/access.py``'s.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from .. import db
from ..db.models import Room, Run
from ..grader import ComplexityReport, Grader, GradeReport
from ..questions.store import NotFound, load_spec

KINDS = ("run", "submit")


class RunConflict(ValueError):
    """The request conflicts with what is stored; the message says what to do."""


def run_to_json(run: Run) -> dict[str, Any]:
    """A stored run as both partners see it."""
    report = run.report or {}
    return {
        "id": run.id,
        "kind": run.kind,
        "username": run.username,
        "created": run.created.isoformat(),
        "passed": run.passed,
        "total": run.total,
        "verdict": run.verdict,
        "message": report.get("message", ""),
        "cases": report.get("cases", []),
        "complexity": report.get("complexity"),
    }


def room_runs(factory: sessionmaker[Session], room_id: str, limit: int) -> list[dict[str, Any]]:
    """The room's runs, newest first."""
    with factory() as session:
        runs = session.scalars(
            select(Run)
            .where(Run.room_id == room_id)
            .order_by(Run.created.desc(), Run.id)
            .limit(limit)
        ).all()
        return [run_to_json(r) for r in runs]


def room_spec(factory: sessionmaker[Session], room: Room) -> dict[str, Any]:
    """The spec of the room's question version; ``RunConflict`` if it is gone."""
    with factory() as session:
        try:
            return load_spec(session, room.question_id, room.question_version)
        except NotFound as e:
            raise RunConflict(f"{e} The room's question is gone.") from None


def earlier_run(
    factory: sessionmaker[Session], room_id: str, username: str, key: str, kind: str, source: str
) -> dict[str, Any] | None:
    """The run ``username`` already made in this room with ``key``, if any."""
    with factory() as session:
        run = session.scalar(
            select(Run).where(
                Run.room_id == room_id, Run.username == username, Run.idempotency_key == key
            )
        )
        if run is None:
            return None
        if run.kind != kind or run.source != source:
            raise RunConflict(
                f"idempotency_key {key!r} was used for a different run in this room; use "
                f"a new key for a new run, the same one only to retry the same request."
            )
        return run_to_json(run)


async def grade(
    grader: Grader, kind: str, source: str, spec: dict[str, Any], language: str = "python"
) -> tuple[GradeReport, ComplexityReport | None]:
    """Grade ``source``, written in ``language``, against the spec's public (run) or hidden
    (submit) tests."""
    cases = spec.get("public_tests" if kind == "run" else "hidden_tests") or []
    grading = grader.run_cases(
        source=source,
        entry_point=spec["entry_point"],
        cases=cases,
        checker=spec.get("checker") or "exact",
        checker_source=spec.get("checker_source"),
        limits=spec.get("limits"),
        language=language,
    )
    block = spec.get("complexity")
    if kind != "submit" or not block or not spec.get("generator"):
        return await grading, None
    measuring = grader.measure_complexity(
        source=source,
        entry_point=spec["entry_point"],
        generator=spec["generator"],
        sizes=list(block.get("sizes") or []),
        expected=block.get("expected"),
        repeats=int(block.get("repeats") or 3),
        limits=spec.get("limits"),
        language=language,
    )
    report, complexity = await asyncio.gather(grading, measuring)
    return report, complexity


def store_run(
    factory: sessionmaker[Session],
    room_id: str,
    username: str,
    key: str,
    kind: str,
    source: str,
    report: GradeReport,
    complexity: ComplexityReport | None,
) -> tuple[dict[str, Any], bool]:
    """Store the run with what the students may see; (its json, whether this call stored it)."""
    stored = report.to_json(reveal=kind == "run")
    stored["complexity"] = complexity.to_json() if complexity else None
    try:
        with db.transaction(factory) as session:
            run = Run(
                room_id=room_id,
                username=username,
                idempotency_key=key,
                kind=kind,
                source=source,
                passed=report.passed,
                total=report.total,
                verdict=report.verdict,
                report=stored,
            )
            session.add(run)
            session.flush()
            return run_to_json(run), True
    except IntegrityError:
        # Stored meanwhile by a copy of this request whose room mark had lapsed.
        earlier = earlier_run(factory, room_id, username, key, kind, source)
        if earlier is None:
            raise
        return earlier, False
