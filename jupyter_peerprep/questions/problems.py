"""What is wrong with a question notebook: each finding names the file, the cell and the field.

A ``Problem`` renders as one line an instructor can act on, for example::

    two-sum.ipynb: cell 4 [hidden-tests], field hidden-tests[2].expected: missing; ...

The loader and the validator collect every problem they find (not just the first) and raise
``QuestionError`` with all of them; the CLI prints them, the API returns them as JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One finding about a question notebook."""

    file: str
    message: str
    cell: int | None = None  # 1-based position of the cell in the notebook, None = notebook
    tag: str | None = None  # the cell's PeerPrep tag ("solution", ...), when known
    field: str | None = None  # metadata or case path, e.g. "peerprep.difficulty"
    severity: str = "error"  # "error" blocks publishing; "warning" does not

    @property
    def where(self) -> str:
        if self.cell is not None:
            place = f"cell {self.cell}" + (f" [{self.tag}]" if self.tag else "")
        elif self.tag:
            place = f"cell [{self.tag}]"
        elif self.field and self.field.startswith("peerprep"):
            place = "notebook metadata"
        else:
            place = "notebook"
        return place

    def __str__(self) -> str:
        parts = [f"{self.file}: {self.where}"]
        if self.field:
            parts.append(f"field {self.field}")
        prefix = ", ".join(parts)
        label = "" if self.severity == "error" else f"{self.severity}: "
        return f"{prefix}: {label}{self.message}"

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "cell": self.cell,
            "tag": self.tag,
            "field": self.field,
            "severity": self.severity,
            "message": self.message,
            "text": str(self),
        }


class QuestionError(Exception):
    """A question notebook cannot be loaded or does not validate; ``problems`` says why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = [p for p in problems if p.severity == "error"] or list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass
class ProblemList:
    """Collects problems for one file while a loader or validator walks it."""

    file: str
    problems: list[Problem] = field(default_factory=list)

    def add(
        self,
        message: str,
        *,
        cell: int | None = None,
        tag: str | None = None,
        field: str | None = None,
        severity: str = "error",
    ) -> None:
        self.problems.append(Problem(self.file, message, cell, tag, field, severity))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def raise_if_errors(self) -> None:
        if self.errors:
            raise QuestionError(self.problems)
