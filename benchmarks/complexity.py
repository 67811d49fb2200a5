"""Complexity benchmark: how often the grader names each reference solution's class under load.

    .venv/bin/python benchmarks/complexity.py [--runs 20] [--busy 2] [--only "O(n),O(n^2)"]

Measured in one run, on this machine, through ``Grader.measure_complexity`` (the code behind a
Submit's complexity report, bwrap sandbox), with ``--busy`` processes spinning on the CPU the
whole time (both cores of the test machine busy with other work): each reference solution of
``tests/grader/reference_solutions.py`` (O(1), O(log n), O(n), O(n log n), O(n^2), O(2^n))
is measured ``--runs`` times. Reported per solution: how many runs named its time class, how
many named its space class, the median confidence, what the class was measured by (counted
steps or CPU time), and, as the same-run baseline, how often the CPU time alone (the
quantity measured before steps were counted, fitted the same way) would have named it.
Prints a table and writes ``benchmarks/results/complexity.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "grader"))

from reference_solutions import REFERENCES  # noqa: E402
from report import machine, table, write_results  # noqa: E402

from jupyter_peerprep.grader import Grader  # noqa: E402
from jupyter_peerprep.grader import complexity as fit  # noqa: E402

# Arguments run_all.py passes for each profile (the convention that makes this a benchmark).
PROFILES = {
    "quick": ["--runs", "5", "--busy", "2"],
    "full": ["--runs", "20", "--busy", "2"],
}

SPIN = "while True:\n    pass\n"


def start_busy(count: int) -> list[subprocess.Popen[bytes]]:
    """``count`` processes that keep a core each busy until stopped."""
    return [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(count)]


def stop_busy(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()


def cpu_only(points: list[dict[str, Any]]) -> str | None:
    """The class CPU time alone gives (what was measured before steps were counted)."""
    return fit.estimate([(p["n"], p["seconds"]) for p in points])[0]


async def measure(grader: Grader, runs: int, only: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for known, ref in REFERENCES.items():
        if only and known not in only:
            continue
        entries = []
        for _ in range(runs):
            started = time.perf_counter()
            report = await grader.measure_complexity(
                source=ref["source"],
                entry_point="solve",
                generator=ref["generator"],
                sizes=ref["sizes"],
                expected=known,
            )
            data = report.to_json()
            entries.append(
                {
                    "estimate": data["estimate"],
                    "confidence": data["confidence"],
                    "basis": data["basis"],
                    "space": data["space"],
                    "cpu_only": cpu_only(report.points),
                    "message": data["message"],
                    "seconds": round(time.perf_counter() - started, 2),
                }
            )
        times = Counter(e["estimate"] for e in entries)
        out[known] = {
            "space_expected": ref["space"],
            "sizes": ref["sizes"],
            "right": sum(e["estimate"] == known for e in entries),
            "space_right": sum(e["space"]["estimate"] == ref["space"] for e in entries),
            "cpu_only_right": sum(e["cpu_only"] == known for e in entries),
            "runs": runs,
            "classes": dict(times),
            "median_confidence": statistics.median(e["confidence"] for e in entries),
            "median_seconds": statistics.median(e["seconds"] for e in entries),
            "entries": entries,
        }
        print(f"  {known:<10} {out[known]['right']}/{runs} {dict(times)}", flush=True)
    return out


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--busy", type=int, default=2, help="CPU-spinning processes meanwhile")
    parser.add_argument("--only", default="", help="comma-separated classes to measure")
    args = parser.parse_args()
    only = [c for c in args.only.split(",") if c]
    results: dict[str, Any] = {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "runs": args.runs,
        "busy_processes": args.busy,
    }
    busy = start_busy(args.busy)
    try:
        results["solutions"] = await measure(Grader(), args.runs, only)
    finally:
        stop_busy(busy)
    rows = [
        [
            "known class",
            "time right",
            "space (known)",
            "space right",
            "median conf",
            "basis",
            "CPU time only",
            "s per Submit",
        ],
    ]
    for known, data in results["solutions"].items():
        bases = Counter(e["basis"] for e in data["entries"])
        rows.append(
            [
                known,
                f"{data['right']}/{data['runs']}",
                data["space_expected"],
                f"{data['space_right']}/{data['runs']}",
                f"{data['median_confidence']:.2f}",
                ",".join(f"{b}:{c}" for b, c in bases.items()),
                f"{data['cpu_only_right']}/{data['runs']}",
                f"{data['median_seconds']:.2f}",
            ]
        )
    print(table(rows))
    print(f"wrote {write_results('complexity', results)}")


if __name__ == "__main__":
    asyncio.run(main())
