"""What every benchmark script shares: percentiles and summaries of timings, the plain-text
table it prints, the machine it ran on (CPUs, load, how much CPU the hypervisor gave other
guests), and the JSON it writes under ``benchmarks/results/``.

The scripts import it as ``report`` (Python puts a script's own folder on ``sys.path``).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values`` by nearest rank; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def summary(values: list[float]) -> dict[str, float]:
    """Count, median and 95th percentile (milliseconds) of timings in seconds."""
    return {
        "n": len(values),
        "p50_ms": round(1000 * statistics.median(values), 1),
        "p95_ms": round(1000 * pct(values, 0.95), 1),
    }


def table(rows: list[list[str]]) -> str:
    """``rows`` (the first is the header) as aligned columns with a rule under the header."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    """The machine a run is on, and its load average when the run starts."""
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "loadavg_at_start": os.getloadavg(),
    }


def cpu_times() -> list[int]:
    """The machine's CPU time counters (/proc/stat: user nice system idle iowait irq softirq
    steal); empty where there is no /proc."""
    try:
        with open("/proc/stat") as f:
            return [int(x) for x in f.readline().split()[1:9]]
    except OSError:
        return []


def steal_percent(before: list[int], after: list[int]) -> float:
    """Share of the machine's CPU time the hypervisor gave to other guests in between: on a
    virtual machine, a high figure means the run measured the neighbours as much as PeerPrep."""
    if not before or not after:
        return float("nan")
    delta = [b - a for a, b in zip(before, after, strict=True)]
    return 100.0 * delta[7] / sum(delta) if sum(delta) else 0.0


def write_results(name: str, results: dict[str, Any]) -> Path:
    """Write ``results`` to ``benchmarks/results/<name>.json``; the path, relative to the
    repository, for the script to print."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{name}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    return out.relative_to(ROOT)
