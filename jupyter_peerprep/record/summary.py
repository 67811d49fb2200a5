"""Collaboration metrics and run diffs of one attempt, from its record and its runs.

Definitions (docs/explanation/session-record.md):

- *active typing time* of a student: the sum of the gaps between two consecutive edits of
  theirs that are at most ``active_gap_s`` apart (a pause longer than that is not typing);
- *characters kept*: characters of the final code cells each student typed (the question's
  own starter text counts for nobody);
- *time to first Run* / *to first passing Submit*: seconds from the room's start;
- *longest idle*: the longest stretch, between the start and the end, without an edit or a run.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .codec import Entry
from .replay import QUESTION, NotebookReplay, notebook_entries, replay


@dataclass(frozen=True)
class RunFact:
    """A Run or Submit as the record needs it."""

    at_ms: int
    user: str
    kind: str  # "run" | "submit"
    passed: int
    total: int
    source: str


def active_typing_seconds(times_ms: Sequence[int], active_gap_s: float) -> float:
    ordered = sorted(times_ms)
    gap_ms = active_gap_s * 1000
    active = sum(b - a for a, b in itertools.pairwise(ordered) if b - a <= gap_ms)
    return round(active / 1000, 1)


def longest_idle_seconds(moments_ms: Sequence[int], start_ms: int, end_ms: int) -> float:
    points = sorted({start_ms, end_ms, *(m for m in moments_ms if start_ms <= m <= end_ms)})
    longest = max((b - a for a, b in itertools.pairwise(points)), default=0)
    return round(longest / 1000, 1)


def run_diffs(runs: Sequence[RunFact]) -> list[dict[str, Any]]:
    """Each Run/Submit's source against the previous one's (unified diff lines)."""
    diffs = []
    ordered = sorted(runs, key=lambda r: r.at_ms)
    for before, after in itertools.pairwise(ordered):
        lines = list(
            difflib.unified_diff(
                before.source.splitlines(),
                after.source.splitlines(),
                f"{before.kind} at {before.at_ms}",
                f"{after.kind} at {after.at_ms}",
                lineterm="",
            )
        )
        diffs.append(
            {
                "from_ms": before.at_ms,
                "to_ms": after.at_ms,
                "kind": after.kind,
                "user": after.user,
                "before": before.source,
                "after": after.source,
                "diff": lines,
            }
        )
    return diffs


def metrics(
    notebook: NotebookReplay,
    edits: Sequence[Entry],
    runs: Sequence[RunFact],
    *,
    start_ms: int,
    end_ms: int,
    members: Sequence[str],
    active_gap_s: float = 20.0,
) -> dict[str, Any]:
    """The collaboration metrics of an attempt (see the module docstring)."""
    kept = notebook.kept_by_author("code")
    typed_total = sum(n for author, n in kept.items() if author != QUESTION) or 0
    students = list(members) + sorted(
        {e.user for e in edits if e.user not in members and e.user != QUESTION}
    )
    per_student = {}
    for name in students:
        times = [e.at_ms for e in edits if e.user == name]
        per_student[name] = {
            "edits": len(times),
            "active_typing_s": active_typing_seconds(times, active_gap_s),
            "chars_kept": kept.get(name, 0),
            "share": round(kept.get(name, 0) / typed_total, 3) if typed_total else 0.0,
            "runs": sum(1 for r in runs if r.user == name and r.kind == "run"),
            "submits": sum(1 for r in runs if r.user == name and r.kind == "submit"),
            "pastes": sum(1 for p in notebook.pastes if p.user == name),
        }
    first_run = min((r.at_ms for r in runs if r.kind == "run"), default=None)
    first_pass = min(
        (r.at_ms for r in runs if r.kind == "submit" and r.total and r.passed == r.total),
        default=None,
    )
    moments = [e.at_ms for e in edits if e.user != QUESTION] + [r.at_ms for r in runs]
    return {
        "students": per_student,
        "question_chars_kept": kept.get(QUESTION, 0),
        "runs": sum(1 for r in runs if r.kind == "run"),
        "submits": sum(1 for r in runs if r.kind == "submit"),
        "first_run_s": None if first_run is None else round((first_run - start_ms) / 1000, 1),
        "first_pass_s": None if first_pass is None else round((first_pass - start_ms) / 1000, 1),
        "longest_idle_s": longest_idle_seconds(moments, start_ms, end_ms),
        "duration_s": round(max(0, end_ms - start_ms) / 1000, 1),
    }


def summarize(
    entries: Sequence[Entry],
    runs: Sequence[RunFact],
    *,
    start_ms: int,
    end_ms: int,
    members: Sequence[str],
    paste_chars: int = 200,
    active_gap_s: float = 20.0,
) -> dict[str, Any]:
    """Everything history shows about an attempt's record, as JSON."""
    edits = notebook_entries(entries)
    notebook = replay(edits, paste_chars=paste_chars)
    return {
        "metrics": metrics(
            notebook,
            edits,
            runs,
            start_ms=start_ms,
            end_ms=end_ms,
            members=members,
            active_gap_s=active_gap_s,
        ),
        "pastes": [p.to_json() for p in notebook.pastes],
        "diffs": run_diffs(runs),
        "final_sources": notebook.sources(),
        "authors": [
            {"cell_type": c.cell_type, "runs": _author_runs(c.authors)} for c in notebook.cells
        ],
        "replay": {
            "users": notebook.users,
            "steps": notebook.steps,
            "start_ms": start_ms,
            "end_ms": end_ms,
            "marks": [
                {"at_ms": r.at_ms, "kind": r.kind, "user": r.user, "passed": r.passed} for r in runs
            ]
            + [{"at_ms": p.at_ms, "kind": "paste", "user": p.user} for p in notebook.pastes],
        },
    }


def _author_runs(authors: list[str]) -> list[list[Any]]:
    """Who wrote a cell's characters, as [author, count] runs (compact for the browser)."""
    runs: list[list[Any]] = []
    for author in authors:
        if runs and runs[-1][0] == author:
            runs[-1][1] += 1
        else:
            runs.append([author, 1])
    return runs
