"""Faults benchmark: what the rest of PeerPrep feels while one thing breaks, and how long the
broken thing takes to recover.

    .venv/bin/python benchmarks/faults.py [--repeat 3] [--baseline-seconds 15]

One real embedded hub (SQLite on a 64 MB tmpfs, cold rooms, room checks every second). A
bystander asks ``api/health`` and ``api/match`` (open and cancel a ticket) in a loop: first
with no fault (the baseline), then during each fault:

- ``pair server killed``: ``kill -9`` of an active room's server; recovery = the room ended
  (``server lost``, with its last notebook copy in both histories);
- ``pair server killed during End``: End, then ``kill -9``; recovery = the room ended;
- ``grader hangs``: every sandbox hangs (deaf to SIGTERM) for one Run; recovery = that Run
  answered (killed at the grader's wall clock);
- ``disk full``: the service database's file system filled; recovery = the first match request
  that succeeds after space is freed (counted from the freeing);
- ``service killed``: ``kill -9`` of the PeerPrep service; recovery = the first match request
  answered again (the hub restarts the service). Health and match cannot answer meanwhile:
  the figures show what a student sees (the proxy's 503), not a goal.

Goal (issue 20): p99 during a fault <= 2x without, and no 5xx (except while the service
itself is down or its disk is full, where a JSON 503 is the honest answer). Prints a table and
writes ``benchmarks/results/faults.json``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "faults"))

from fault_support import write_service_config  # noqa: E402
from report import machine, pct, table, write_results  # noqa: E402

from jupyter_peerprep.launch import LocalHub  # noqa: E402
from jupyter_peerprep.pytest_plugin import find_free_port  # noqa: E402
from jupyter_peerprep.testing.faults import (  # noqa: E402
    Prober,
    fill_disk,
    hub_student,
    kill_hub_user_server,
    kill_service,
    wait_for,
    wait_state,
)
from jupyter_peerprep.testing.rooms import match_pair  # noqa: E402

# Arguments per profile of benchmarks/run_all.py (make benchmarks / make benchmarks-full).
PROFILES = {
    "quick": ["--repeat", "1", "--baseline-seconds", "10"],
    "full": ["--repeat", "2", "--baseline-seconds", "15"],
}

WRAPPER = """#!/bin/sh
if [ -e {marker} ]; then trap '' TERM INT HUP; sleep 3600; fi
exec /usr/bin/bwrap "$@"
"""
RIGHT = (
    "def pair_sum(nums, target):\n    seen = {}\n    for i, v in enumerate(nums):\n"
    "        if target - v in seen:\n            return [seen[target - v], i]\n"
    "        seen[v] = i\n    return []\n"
)


class Bench:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.disk = work / "disk"
        self.disk.mkdir()
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(self.disk)], check=True
        )
        # The grader runs bwrap as an unprivileged user: the wrapper must be reachable by it.
        work.chmod(0o755)
        self.marker = work / "grader-hangs"
        wrapper = work / "bwrap-wrapper"
        wrapper.write_text(WRAPPER.format(marker=self.marker))
        wrapper.chmod(0o755)
        config = write_service_config(work, f"c.BwrapSandbox.bwrap_path = {str(wrapper)!r}\n")
        self.hub = LocalHub(
            work / "state",
            port=find_free_port(),
            hub_port=find_free_port(),
            proxy_api_port=find_free_port(),
            service_port=find_free_port(),
            extra_env={
                "PEERPREP_SERVICE_CONFIG": str(config),
                "PEERPREP_DB_URL": f"sqlite:///{self.disk / 'peerprep.sqlite'}",
            },
        )
        self.hub.start(timeout=120)
        self.a = hub_student(self.hub.url, "ann")
        self.b = hub_student(self.hub.url, "ben")
        self.bystander = hub_student(self.hub.url, "by")
        wait_for(lambda: self.a("GET", "questions").json().get("questions"), timeout=120)

    def close(self) -> None:
        self.hub.stop()
        subprocess.run(["umount", "-l", str(self.disk)], check=False)

    def probe(self, fault: Callable[[], float]) -> dict[str, Any]:
        """Run ``fault`` (returns its recovery seconds) under the bystander's probes."""
        with Prober(self.hub.url, self.bystander) as prober:
            time.sleep(1.0)
            recovery = fault()
            time.sleep(0.5)
        return summarise(prober, recovery)

    # -- the faults ----------------------------------------------------------------------

    def baseline(self, seconds: float) -> float:
        time.sleep(seconds)
        return 0.0

    def pair_server_killed(self) -> float:
        room = match_pair(self.a, self.b)  # type: ignore[arg-type]
        began = time.perf_counter()
        kill_hub_user_server(room["pair_user"])
        wait_state(self.a, room["id"], {"ended"}, timeout=180)
        return time.perf_counter() - began

    def pair_server_killed_during_end(self) -> float:
        room = match_pair(self.a, self.b)  # type: ignore[arg-type]
        began = time.perf_counter()
        self.a("POST", f"rooms/{room['id']}/end")
        kill_hub_user_server(room["pair_user"])
        wait_state(self.a, room["id"], {"ended"}, timeout=180)
        return time.perf_counter() - began

    def grader_hangs(self) -> float:
        room = match_pair(self.a, self.b)  # type: ignore[arg-type]
        self.marker.touch()
        began = time.perf_counter()
        try:
            self.a("POST", f"rooms/{room['id']}/runs", json={"kind": "run", "source": RIGHT})
        finally:
            self.marker.unlink()
        seconds = time.perf_counter() - began
        self.a("POST", f"rooms/{room['id']}/end")
        wait_state(self.a, room["id"], {"ended"}, timeout=180)
        return seconds

    def disk_full(self) -> float:
        filler = fill_disk(self.disk)
        time.sleep(3.0)  # the fault is on
        filler.unlink()
        began = time.perf_counter()
        self.until_match_answers()
        return time.perf_counter() - began

    def service_killed(self) -> float:
        began = time.perf_counter()
        kill_service(self.hub.state_dir)
        self.until_match_answers()
        return time.perf_counter() - began

    def until_match_answers(self) -> None:
        def answered() -> bool:
            body = {"difficulty": "hard", "topics": ["math"], "idempotency_key": uuid.uuid4().hex}
            r = self.a("POST", "match", json=body)
            if r.status_code in (200, 201):
                self.a("DELETE", f"match/{r.json()['id']}")
                return True
            return False

        wait_for(answered, timeout=180, interval=0.1, what="a match request answered")


def summarise(prober: Prober, recovery: float) -> dict[str, Any]:
    def p99(values: list[float]) -> float:
        return pct(values, 0.99) if values else float("nan")

    return {
        "recovery_s": recovery,
        "health_p99_s": p99(prober.health.seconds),
        "match_p99_s": p99(prober.match.seconds),
        "health_requests": len(prober.health.statuses),
        "match_requests": len(prober.match.statuses),
        "health_5xx": len(prober.health.failures),
        "match_5xx": len(prober.match.failures),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=2, help="runs of each fault")
    parser.add_argument("--baseline-seconds", type=float, default=15.0)
    args = parser.parse_args()
    results: dict[str, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="peerprep-faults-") as tmp:
        bench = Bench(Path(tmp))
        try:
            faults: dict[str, Callable[[], float]] = {
                "no fault (baseline)": lambda: bench.baseline(args.baseline_seconds),
                "pair server killed": bench.pair_server_killed,
                "pair server killed during End": bench.pair_server_killed_during_end,
                "grader hangs": bench.grader_hangs,
                "disk full": bench.disk_full,
                "service killed": bench.service_killed,
            }
            for name, fault in faults.items():
                for i in range(args.repeat if "baseline" not in name else 1):
                    results.setdefault(name, []).append(bench.probe(fault))
                    print(f"  {name} #{i + 1}: {results[name][-1]}", flush=True)
        finally:
            bench.close()
    base = results["no fault (baseline)"][0]
    rows = [["fault", "recovery s", "health p99 s", "x base", "match p99 s", "x base", "5xx"]]
    summary = []
    for name, runs in results.items():
        health = max(r["health_p99_s"] for r in runs)
        match = max(r["match_p99_s"] for r in runs)
        row = {
            "fault": name,
            "runs": len(runs),
            "recovery_s_max": max(r["recovery_s"] for r in runs),
            "health_p99_s": health,
            "match_p99_s": match,
            "health_p99_vs_baseline": health / base["health_p99_s"],
            "match_p99_vs_baseline": match / base["match_p99_s"],
            "responses_5xx": sum(r["health_5xx"] + r["match_5xx"] for r in runs),
        }
        summary.append(row)
        rows.append(
            [
                name,
                f"{row['recovery_s_max']:.2f}",
                f"{health:.3f}",
                f"{row['health_p99_vs_baseline']:.1f}",
                f"{match:.3f}",
                f"{row['match_p99_vs_baseline']:.1f}",
                str(row["responses_5xx"]),
            ]
        )
    print()
    print(table(rows))
    print("\nGoal: p99 during a fault <= 2x the baseline, no 5xx (the service's own outage aside).")
    out = {"machine": machine(), "rows": summary, "raw": results}
    print(f"wrote {write_results('faults', out)}")


if __name__ == "__main__":
    threading.excepthook = lambda args: None  # a prober thread's error is in the figures
    main()
