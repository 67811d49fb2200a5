"""Reading a complexity measurement: the sandbox's timings become a ``ComplexityReport``.

The sandbox (``timing.py``, ``counting.py``) times the entry point on generated inputs of growing
sizes, then counts its steps and peak memory, and reports one ``point`` and one ``count`` record
per size; this module checks each record, stops at the first size that failed (saying why) and
judges the growth of time and space from what was measured (``growth.py``).
"""

from __future__ import annotations

from typing import Any

from ..sandbox.base import SandboxResult
from .growth import judge, point_from_record
from .reports import WRONG_ANSWER, ComplexityReport
from .verdicts import missing_reason, parse_channel, reason_for_status


def measuring_job(
    *,
    source: str,
    entry_point: str,
    generator: str,
    sizes: list[int],
    repeats: int,
    min_time: float,
    language: str = "python",
) -> dict[str, Any]:
    """The sandbox job that times ``entry_point``; ``ValueError`` saying what is unusable."""
    if not generator:
        raise ValueError("measuring complexity needs the question's generator cell")
    if (
        not isinstance(sizes, list)
        or len(sizes) < 3
        or not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in sizes)
    ):
        raise ValueError("complexity.sizes must list at least 3 positive integers")
    if not isinstance(repeats, int) or not 1 <= repeats <= 20:
        raise ValueError("complexity.repeats must be an integer from 1 to 20")
    return {
        "mode": "complexity",
        "language": language,
        "source": source,
        "entry_point": entry_point,
        "generator": generator,
        "sizes": sizes,
        "repeats": repeats,
        "seed": 12345,
        "min_time": min_time,
        "min_loops": 3,
        "max_loops": 1000,
    }


def measured_report(
    result: SandboxResult, sizes: list[int], expected: str | None, *, min_confidence: float
) -> tuple[ComplexityReport, list[str]]:
    """The report of one measuring run, and what the question's generator said went wrong
    (for the operator's log; the student sees only the report's message)."""
    records = parse_channel(result.stdout, "point", len(sizes))
    if records.extra:
        failed = ComplexityReport(
            None, 0.0, expected, message="The question's input generator failed."
        )
        return failed, [str(records.extra[0].get("error", ""))[-500:]]
    points: list[dict[str, Any]] = []
    message = ""
    for index, n in enumerate(sizes):
        record = records.by_index.get(index)
        point = None
        if record is not None and record["status"] == "ok":
            point = point_from_record(n, record, records.counts.get(index))
        if point is None:
            reason = reason_for_status(record["status"]) if record else None
            if reason is None or reason == WRONG_ANSWER:
                reason = missing_reason(result)[0]
            message = f"Stopped at n={n}: {reason}."
            break
        points.append(point)
    judged = judge(points)
    best, confidence = judged.time.estimate, judged.time.confidence
    if best is None and not message:
        message = "Too few sizes could be measured to estimate a growth class."
    elif best is not None and confidence < min_confidence:
        message = "The measurements fit several classes; treat the estimate with care."
    report = ComplexityReport(
        estimate=best,
        confidence=confidence,
        expected=expected,
        points=points,
        message=" ".join(m for m in (message, judged.time.note) if m),
        basis=judged.time.basis,
        space=judged.space,
    )
    return report, []
