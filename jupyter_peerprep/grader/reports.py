"""What a grading run produces: per-case results, the run's report, the complexity report.

``GradeReport.to_json(reveal=False)`` is what a Submit (hidden tests) may show: per case a name,
passed and a generic reason, nothing else. ``reveal=True`` (Run, public tests) adds the input,
expected and actual value, captured output, traceback, time and memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .growth import Growth

# Generic reasons a case did not pass; the only thing a hidden case says about itself.
WRONG_ANSWER = "wrong answer"
ERROR = "error"
TIME_LIMIT = "time limit"
MEMORY_LIMIT = "memory limit"
OUTPUT_LIMIT = "output limit"
REASONS = (WRONG_ANSWER, ERROR, TIME_LIMIT, MEMORY_LIMIT, OUTPUT_LIMIT)

TEXT_CAP = 8192  # characters of stdout / stderr / traceback shown per case
HIDDEN_ERROR_MESSAGE = (
    "The solution could not be loaded or graded; use Run on the public tests to see why."
)


def _cap(text: str) -> str:
    if len(text) <= TEXT_CAP:
        return text
    return text[:TEXT_CAP] + f"\n... ({len(text) - TEXT_CAP} more characters not shown)"


@dataclass
class CaseResult:
    """The outcome of one test case."""

    name: str
    passed: bool
    reason: str | None = None  # one of REASONS when not passed
    args: Any = None
    expected: Any = None
    got: Any = None
    stdout: str = ""
    stderr: str = ""
    error: str | None = None  # traceback or explanation
    wall_ms: float | None = None
    cpu_ms: float | None = None
    peak_kb: int | None = None

    def to_json(self, reveal: bool) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "passed": self.passed, "reason": self.reason}
        if reveal:
            data.update(
                args=self.args,
                expected=self.expected,
                got=self.got,
                stdout=_cap(self.stdout),
                stderr=_cap(self.stderr),
                error=_cap(self.error) if self.error else None,
                wall_ms=self.wall_ms,
                cpu_ms=self.cpu_ms,
                peak_kb=self.peak_kb,
            )
        return data


@dataclass
class GradeReport:
    """The outcome of running a solution against a list of cases."""

    cases: list[CaseResult] = field(default_factory=list)
    verdict: str = "failed"  # "passed" | "failed" | "error"
    message: str = ""  # why, when verdict is "error" (compile error, sandbox failure)
    backend: str = ""
    wall_s: float = 0.0

    @property
    def passed(self) -> int:
        return sum(1 for c in self.cases if c.passed)

    @property
    def total(self) -> int:
        return len(self.cases)

    def to_json(self, reveal: bool) -> dict[str, Any]:
        # On Submit the message is generic: a load-time error message is text the student's
        # code controls, and that code can see the hidden inputs in memory.
        message = self.message if reveal else (HIDDEN_ERROR_MESSAGE if self.message else "")
        return {
            "passed": self.passed,
            "total": self.total,
            "verdict": self.verdict,
            "message": message,
            "cases": [c.to_json(reveal) for c in self.cases],
        }


@dataclass
class ComplexityReport:
    """The measured growth of a solution's running time (``estimate``) and memory (``space``)."""

    estimate: str | None  # "O(n log n)", or None when it could not be measured
    confidence: float
    expected: str | None
    # {"n", "seconds", "steps", "peak_bytes", ...} per size (growth.point_from_record)
    points: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""
    basis: str = ""  # what the time class was measured by: "steps" or "cpu time"
    space: Growth = field(default_factory=Growth)  # the class of the peak memory

    @property
    def matches(self) -> bool:
        if self.estimate is None or self.expected is None:
            return False
        return normalise_class(self.estimate) == normalise_class(self.expected)

    def to_json(self) -> dict[str, Any]:
        return {
            "estimate": self.estimate,
            "confidence": round(self.confidence, 3),
            "expected": self.expected,
            "matches": self.matches,
            "basis": self.basis,
            "space": self.space.to_json(),
            "points": self.points,
            "message": self.message,
        }


def normalise_class(name: str) -> str:
    """'O(N log N)', 'O(nlogn)' and 'o(n*log(n))' all become 'o(nlogn)'."""
    return (
        name.lower()
        .replace(" ", "")
        .replace("*", "")
        .replace("log(n)", "logn")
        .replace("²", "^2")
        .replace("³", "^3")
    )
