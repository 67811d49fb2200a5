"""Deciding a solution's time and space class from one complexity run, outside the sandbox.

Per size the harness reports two kinds of figure (``harness.py``, ``counting.py``):

- measured from outside the student's process, so they cannot be forged: the CPU time of its
  calls (``timing.py``) and the kernel's peak resident size of the counting child, next to a
  trusted child that copied the same input and called nothing;
- reported by the student's process, so only believed when the outside figures agree: the
  Python steps of one traced call and the peak of memory it allocated (``tracemalloc``).

Steps are exact, so when they are believed the time class is steady under any load. They are
believed when CPU time per step stays level across the sizes (a slope of its logarithm against
``log n`` within ``STEP_SLOPE``): a program that stops the tracer or forges its record, or
that does its real work inside built-in functions the tracer cannot see, gets its time class
from CPU time instead, and the report says so. Likewise the allocated peak is believed unless
the resident size grew by more than it could explain (``RSS_SLACK_KB`` over twice the peak).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import Any

from . import complexity

STEP_NOISE = 0.02  # steps are exact for one input; random inputs of each size differ a little
SPACE_NOISE = 0.08  # dicts and lists grow in steps (a dict doubles), so peaks jump
SPACE_FLOOR_BYTES = 1024  # a frame and a few objects: below this, jitter is not growth
RSS_NOISE = 0.1
RSS_FLOOR_KB = 1024
STEP_SLOPE = 0.6  # tolerated slope of log(CPU per step) against log n: under 1 (a factor n)
# Rounds of a size spread this much only when the machine is overloaded; taking more as the
# noise would let the flattest class fit anything.
MAX_CPU_NOISE = 0.25
CPU_FLOOR_S = 1e-4  # below this at every size, cache misses outweigh the steps in CPU time
RSS_SLACK_KB = 8192  # allocator arenas and page granularity the kernel counts on top


@dataclass
class Growth:
    """A class with its confidence and what it was measured by."""

    estimate: str | None = None
    confidence: float = 0.0
    basis: str = ""  # "steps" | "cpu time" | "allocated peak" | "resident size"
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "estimate": self.estimate,
            "confidence": round(self.confidence, 3),
            "basis": self.basis,
            "note": self.note,
        }


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def point_from_record(
    n: int, record: dict[str, Any], count: dict[str, Any] | None
) -> dict[str, Any] | None:
    """The figures of one size from a validated point record and its count line (if any);
    None when it has no timing."""
    rounds = record.get("rounds")
    if not isinstance(rounds, list) or not rounds:
        return None
    values = [_number(x) for x in rounds]
    if any(v is None for v in values):
        return None
    times = [v for v in values if v is not None]
    point: dict[str, Any] = {
        "n": n,
        "seconds": min(times),
        "median_seconds": statistics.median(times),
        "spread": (max(times) - min(times)) / max(min(times), complexity.TIME_FLOOR),
    }
    if isinstance(count, dict) and count.get("status") == "ok":
        steps = _number(count.get("steps"))
        peak = _number(count.get("peak_bytes"))
        if steps is not None and peak is not None and steps >= 0 and peak >= 0:
            point["steps"] = int(steps)
            point["peak_bytes"] = int(peak)
        rss = _number(count.get("rss_kb"))
        base = _number(count.get("rss_base_kb"))
        if rss is not None and base is not None:
            point["rss_growth_kb"] = max(0, int(rss - base))
    return point


def _slope(xs: list[float], ys: list[float]) -> float:
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else 0.0


def time_growth(points: list[dict[str, Any]]) -> Growth:
    cpu_points = [(p["n"], p["seconds"]) for p in points]
    spreads = [p["spread"] for p in points if "spread" in p]
    noise = min(MAX_CPU_NOISE, max(complexity.NOISE_FLOOR, statistics.median(spreads or [0.0])))
    cpu_class, cpu_conf, _ = complexity.classify(
        cpu_points, noise, floor=complexity.TIME_FLOOR, robust=True
    )
    cpu = Growth(cpu_class, cpu_conf, "cpu time")
    counted = [p for p in points if "steps" in p]
    if len(counted) < 3 or len(counted) < len(points):
        if cpu_class is not None:
            cpu.note = "Steps could not be counted at every size; the class is from CPU time."
        return cpu
    steps_class, steps_conf, _ = complexity.classify(
        [(p["n"], p["steps"]) for p in counted], STEP_NOISE, floor=1.0
    )
    if max(p["seconds"] for p in counted) >= CPU_FLOOR_S:
        slope = _slope(
            [math.log(p["n"]) for p in counted],
            [
                math.log(max(p["seconds"], complexity.TIME_FLOOR) / max(p["steps"], 1))
                for p in counted
            ],
        )
        if abs(slope) > STEP_SLOPE:
            cpu.note = (
                "CPU time grew unlike the counted steps (work inside built-in functions, or a "
                "program that hides its steps); the class is from CPU time."
            )
            return cpu
    return Growth(steps_class, steps_conf, "steps")


def space_growth(points: list[dict[str, Any]]) -> Growth:
    counted = [p for p in points if "peak_bytes" in p]
    if len(counted) < 3 or len(counted) < len(points):
        return Growth(note="Memory could not be measured at every size.")
    believed = all(
        "rss_growth_kb" not in p or p["rss_growth_kb"] <= 2 * p["peak_bytes"] / 1024 + RSS_SLACK_KB
        for p in counted
    )
    if believed:
        best, conf, _ = complexity.classify(
            [(p["n"], p["peak_bytes"]) for p in counted], SPACE_NOISE, floor=SPACE_FLOOR_BYTES
        )
        return Growth(best, conf, "allocated peak")
    rss = [(p["n"], p.get("rss_growth_kb", 0)) for p in counted]
    best, conf, _ = complexity.classify(rss, RSS_NOISE, floor=RSS_FLOOR_KB)
    return Growth(
        best,
        conf,
        "resident size",
        "The process grew by more memory than it reported allocating; the class is from "
        "the kernel's resident size.",
    )


@dataclass
class Judgement:
    time: Growth = field(default_factory=Growth)
    space: Growth = field(default_factory=Growth)


def judge(points: list[dict[str, Any]]) -> Judgement:
    """Time and space class of the measured points (at least three sizes for either)."""
    return Judgement(time_growth(points), space_growth(points))
