"""Complexity benchmark: the grader's measured growth curves against the classes it fits.

    .venv/bin/python benchmarks/complexity.py [--sizes 500,1000,2000,4000] [--repeats 3]

Measured in one run, on this machine, through ``Grader.measure_complexity`` (the code behind a
Submit's complexity report, bwrap sandbox): four solutions whose class is known, each timed
at the same sizes on inputs from one generator:

- ``O(1)``: returns the first element (the baseline: what a call costs with no work);
- ``O(n)``: two-sum with a dictionary;
- ``O(n log n)``: two-sum after sorting;
- ``O(n^2)``: two-sum with two nested loops.

For each: the measured (n, seconds) points, the class the grader fitted, its confidence, and
whether it is the known class. Prints a table and writes ``benchmarks/results/complexity.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from report import machine, table, write_results  # noqa: E402
from sandbox import GENERATOR, TWO_SUM  # noqa: E402

from jupyter_peerprep.grader import Grader  # noqa: E402

# Arguments run_all.py passes for each profile (the convention that makes this a benchmark).
PROFILES = {
    "quick": ["--sizes", "250,500,1000,2000", "--repeats", "3"],
    "full": ["--sizes", "500,1000,2000,4000,8000", "--repeats", "3"],
}

SOLUTIONS = {
    "O(1)": """
def two_sum(nums, target):
    return [nums[0], target]
""",
    "O(n)": TWO_SUM,  # the sandbox benchmark's easy Submit
    "O(n log n)": """
def two_sum(nums, target):
    order = sorted(range(len(nums)), key=nums.__getitem__)
    lo, hi = 0, len(order) - 1
    while lo < hi:
        total = nums[order[lo]] + nums[order[hi]]
        if total == target:
            return sorted([order[lo], order[hi]])
        if total < target:
            lo += 1
        else:
            hi -= 1
    return []
""",
    "O(n^2)": """
def two_sum(nums, target):
    for i in range(len(nums)):
        for j in range(i + 1, len(nums)):
            if nums[i] + nums[j] == target:
                return [i, j]
    return []
""",
}


async def measure(grader: Grader, sizes: list[int], repeats: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for known, source in SOLUTIONS.items():
        started = time.perf_counter()
        report = await grader.measure_complexity(
            source=source,
            entry_point="two_sum",
            generator=GENERATOR,
            sizes=sizes,
            expected=known,
            repeats=repeats,
        )
        data = report.to_json()
        out[known] = {
            "estimate": data["estimate"],
            "confidence": data["confidence"],
            "matches": data["matches"],
            "points": data["points"],
            "message": data["message"],
            "seconds": round(time.perf_counter() - started, 2),
        }
        print(f"  {known:<10} -> {data['estimate']} ({data['confidence']:.2f})", flush=True)
    return out


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="500,1000,2000,4000")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",")]
    results: dict[str, Any] = {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "sizes": sizes,
        "repeats": args.repeats,
        "solutions": await measure(Grader(), sizes, args.repeats),
    }
    base = results["solutions"]["O(1)"]["points"]
    base_s = min(p["seconds"] for p in base) if base else float("nan")
    rows = [["known class", "fitted", "confidence", "right", "largest n s", "x O(1) call"]]
    for known, data in results["solutions"].items():
        largest = max(data["points"], key=lambda p: p["n"])["seconds"] if data["points"] else 0
        rows.append(
            [
                known,
                str(data["estimate"]),
                f"{data['confidence']:.2f}",
                "yes" if data["matches"] else "no",
                f"{largest:.6f}",
                f"{largest / base_s:.0f}" if base_s else "",
            ]
        )
    print(table(rows))
    print(f"wrote {write_results('complexity', results)}")


if __name__ == "__main__":
    asyncio.run(main())
