"""Grading untrusted solutions in a per-run sandbox: verdicts and measured complexity."""

from __future__ import annotations

from .grader import Grader, GraderInputError
from .reports import CaseResult, ComplexityReport, GradeReport

__all__ = ["CaseResult", "ComplexityReport", "GradeReport", "Grader", "GraderInputError"]
