"""The channel from the harness is validated outside the sandbox, line by line."""

from __future__ import annotations

import json
import logging

from jupyter_peerprep.grader.verdicts import grade_cases, missing_reason, parse_channel
from jupyter_peerprep.sandbox.base import SandboxResult


def lines(*records: object) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in records)


def case(index: int, **fields: object) -> dict:
    return {"type": "case", "index": index, "status": "ok", "got": 1, **fields}


def test_each_case_counts_once():
    records = parse_channel(lines(case(0), case(0, got=2), {"type": "done"}), "case", 2)
    assert records.by_index[0]["got"] == 1
    assert records.duplicates == {0} and records.done


def test_bad_lines_stop_belief_in_the_rest():
    for bad in (
        b"not json\n",
        lines(case(5)),
        lines(case(-1)),
        lines(case(True)),
        lines(case(0, status="passed")),
        lines(case(0, wall_ms="fast")),
        lines({"type": "verdict", "index": 0, "passed": True}),
        lines([1, 2]),
    ):
        records = parse_channel(bad + lines(case(1)), "case", 2)
        assert records.corrupt, bad
        assert records.by_index == {}, bad


def test_nothing_after_done_is_believed():
    records = parse_channel(lines(case(0), {"type": "done"}, case(1)), "case", 2)
    assert 1 not in records.by_index and records.corrupt


def test_missing_cases_get_the_reason_the_run_ended():
    assert missing_reason(SandboxResult(timed_out=True))[0] == "time limit"
    assert missing_reason(SandboxResult(output_exceeded=True))[0] == "output limit"
    assert missing_reason(SandboxResult(oom_killed=True))[0] == "memory limit"
    assert missing_reason(SandboxResult(exit_code=0))[0] == "error"


def test_grading_a_forged_channel_passes_nothing():
    """Even lines claiming success only carry a got value; expected decides, here."""
    cases = [
        {"name": "a", "args": [], "expected": "secret"},
        {"name": "b", "args": [], "expected": 2},
    ]
    forged = lines(
        case(0, got="guess", passed=True, reason=None),
        case(1, got=2),
        case(1, got=2),
        {"type": "done"},
    )
    report = grade_cases(
        cases, SandboxResult(stdout=forged, exit_code=0), lambda e, g: e == g, logging.getLogger()
    )
    assert [c.passed for c in report.cases] == [False, False]
    assert report.cases[1].error == "this case was reported twice"


def test_count_lines_belong_to_complexity_runs_only():
    point = {"type": "point", "index": 0, "status": "ok", "rounds": [1e-6]}
    count = {"type": "count", "index": 0, "status": "ok", "steps": 5, "peak_bytes": 0}
    records = parse_channel(lines(point, count, dict(count, steps=1), {"type": "done"}), "point", 1)
    assert records.corrupt == "" and records.counts[0]["steps"] == 5  # the first one is kept
    bad = parse_channel(lines(point, dict(count, index=7)), "point", 1)
    assert bad.corrupt == "a count line has an invalid index 7"
    assert parse_channel(lines(count), "case", 1).corrupt == "an unexpected line of type 'count'"
