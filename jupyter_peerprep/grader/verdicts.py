"""Turning what came out of a sandbox into case results, outside the sandbox.

The harness prints one JSON line per case (``harness.py``). Nothing in those lines is trusted
beyond its shape: every line is validated, each case index may be reported once, a case with no
line gets a reason from how the sandbox ended (wall clock, output cap, memory), and pass/fail
is decided here by comparing with expected values the sandbox never saw.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from ..sandbox.base import SandboxResult
from .reports import (
    ERROR,
    MEMORY_LIMIT,
    OUTPUT_LIMIT,
    TIME_LIMIT,
    WRONG_ANSWER,
    CaseResult,
    GradeReport,
)

STATUS_REASONS = {
    "timeout": TIME_LIMIT,
    "memory": MEMORY_LIMIT,
    "output": OUTPUT_LIMIT,
    "error": ERROR,
    "load_error": ERROR,
}
STATUSES = {"ok", *STATUS_REASONS}


@dataclass
class ChannelRecords:
    """The validated lines of one harness run."""

    by_index: dict[int, dict[str, Any]] = field(default_factory=dict)
    duplicates: set[int] = field(default_factory=set)
    extra: list[dict[str, Any]] = field(default_factory=list)  # generator/checker errors
    counts: dict[int, dict[str, Any]] = field(default_factory=dict)  # "count" lines of points
    done: bool = False
    corrupt: str = ""  # why the channel stopped being believed, if it did


def _valid_record(record: Any, kind: str, count: int) -> str:
    """'' if ``record`` is a well-formed line of type ``kind``, else what is wrong."""
    if not isinstance(record, dict):
        return "a line is not a JSON object"
    index = record.get("index")
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < count:
        return f"a {kind} line has an invalid index {index!r}"
    if kind in ("case", "point"):
        if record.get("status") not in STATUSES:
            return f"a {kind} line has an unknown status {record.get('status')!r}"
        for key in ("stdout", "stderr", "error", "got_repr", "not_json"):
            if key in record and record[key] is not None and not isinstance(record[key], str):
                return f"a {kind} line has a non-text {key}"
        for key in ("wall_ms", "cpu_ms", "peak_kb", "call_s"):
            value = record.get(key)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, (int, float))
            ):
                return f"a {kind} line has a non-numeric {key}"
    return ""


def parse_channel(stdout: bytes, kind: str, count: int) -> ChannelRecords:
    """Validate the harness's stdout: ``kind`` lines ("case", "point", "check") by index."""
    records = ChannelRecords()
    for raw in stdout.split(b"\n"):
        if not raw.strip():
            continue
        if records.done:
            records.corrupt = "output after the end of the run"
            break
        try:
            record = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            records.corrupt = "a line that is not JSON"
            break
        if not isinstance(record, dict):
            records.corrupt = "a line that is not a JSON object"
            break
        rtype = record.get("type")
        if rtype == "done":
            records.done = True
            continue
        if rtype in ("generator_error", "checker_error", "harness_error"):
            records.extra.append(record)
            continue
        if rtype == "count" and kind == "point":
            # Steps and memory of a size (counting.py); checked by growth.py, first one kept.
            index = record.get("index")
            if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < count:
                records.corrupt = f"a count line has an invalid index {index!r}"
                break
            records.counts.setdefault(index, record)
            continue
        if rtype != kind:
            records.corrupt = f"an unexpected line of type {rtype!r}"
            break
        problem = _valid_record(record, kind, count)
        if problem:
            records.corrupt = problem
            break
        index = record["index"]
        if index in records.by_index:
            records.duplicates.add(index)
            continue
        records.by_index[index] = record
    return records


def missing_reason(result: SandboxResult) -> tuple[str, str]:
    """(reason, explanation) for a case the harness never reported."""
    if result.timed_out:
        return TIME_LIMIT, "the run hit its wall-clock limit before this case finished"
    if result.output_exceeded:
        return OUTPUT_LIMIT, "the run wrote more output than allowed"
    if result.oom_killed:
        return MEMORY_LIMIT, "the run used more memory than allowed"
    return ERROR, "the run ended before this case was reported"


def reason_for_status(status: str) -> str:
    return STATUS_REASONS.get(status, ERROR) if status != "ok" else WRONG_ANSWER


def case_name(case: dict[str, Any], index: int) -> str:
    name = case.get("name")
    return str(name) if name else f"case {index + 1}"


def grade_cases(
    cases: list[dict[str, Any]], result: SandboxResult, compare: Any, log: logging.Logger | Any
) -> GradeReport:
    """The report of one run of ``cases``: each case's result from its harness line, compared
    with its expected value here (``compare``; None when a custom checker decides later)."""
    records = parse_channel(result.stdout, "case", len(cases))
    if records.corrupt:
        log.warning("Grader: harness channel rejected (%s)", records.corrupt)
    report = GradeReport()
    load_error = next(
        (r.get("error") or "" for r in records.by_index.values() if r["status"] == "load_error"),
        None,
    )
    for index, case in enumerate(cases):
        res = CaseResult(
            name=case_name(case, index),
            passed=False,
            args=case.get("args"),
            expected=case.get("expected"),
        )
        record = records.by_index.get(index)
        if index in records.duplicates:
            record = None
            res.reason, res.error = ERROR, "this case was reported twice"
        elif record is None and load_error is not None:
            res.reason, res.error = ERROR, load_error
        elif record is None:
            res.reason, res.error = missing_reason(result)
        else:
            fill_from_record(res, record, case, compare)
        report.cases.append(res)
    if load_error is not None:
        report.message = load_error
    return report


def fill_from_record(
    res: CaseResult, record: dict[str, Any], case: dict[str, Any], compare: Any
) -> None:
    res.stdout = record.get("stdout") or ""
    res.stderr = record.get("stderr") or ""
    res.wall_ms = record.get("wall_ms")
    res.cpu_ms = record.get("cpu_ms")
    res.peak_kb = record.get("peak_kb")
    status = record["status"]
    if status != "ok":
        res.reason = reason_for_status(status)
        res.error = record.get("error")
        return
    if "not_json" in record:
        res.got = record.get("got_repr")
        res.reason = WRONG_ANSWER
        res.error = f"The function returned a value that is not JSON: {record['not_json']}"
        return
    res.got = record.get("got")
    if compare is None:
        return  # decided by the custom checker
    try:
        res.passed = bool(compare(case.get("expected"), res.got))
    except (TypeError, ValueError, RecursionError):
        res.passed = False
    if not res.passed:
        res.reason = WRONG_ANSWER


def overall_verdict(report: GradeReport) -> str:
    if report.message and not any(c.passed for c in report.cases):
        return "error"
    if report.cases and all(c.passed for c in report.cases):
        return "passed"
    return "failed"
