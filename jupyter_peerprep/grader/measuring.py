"""Reading a complexity measurement: the sandbox's timings become a ``ComplexityReport``.

The sandbox (``timing.py``) times the entry point on generated inputs of growing sizes and
reports one ``point`` record per size; this module checks each record, stops at the first size
that failed (saying why) and fits a growth class to what was measured (``complexity.py``).
"""

from __future__ import annotations

import math
import statistics
from typing import Any

from ..sandbox.base import SandboxResult
from . import complexity
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
        rounds = record.get("rounds") if record else None
        if (
            record is None
            or record["status"] != "ok"
            or not isinstance(rounds, list)
            or not rounds
            or not all(
                isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
                for x in rounds
            )
        ):
            reason = reason_for_status(record["status"]) if record else None
            if reason is None or reason == WRONG_ANSWER:
                reason = missing_reason(result)[0]
            message = f"Stopped at n={n}: {reason}."
            break
        points.append(
            {
                "n": n,
                "seconds": min(rounds),
                "median_seconds": statistics.median(rounds),
            }
        )
    best, confidence, errors = complexity.estimate([(p["n"], p["seconds"]) for p in points])
    if best is None and not message:
        message = "Too few sizes could be measured to estimate a growth class."
    elif best is not None and confidence < min_confidence:
        message = "The measurements fit several classes; treat the estimate with care."
    report = ComplexityReport(
        estimate=best,
        confidence=confidence,
        expected=expected,
        points=points,
        message=message,
        fits=errors,
    )
    return report, []
