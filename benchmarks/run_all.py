"""Run every benchmark, then write the report (``make benchmarks`` / ``make benchmarks-full``).

    .venv/bin/python benchmarks/run_all.py [--profile quick|full] [--only NAME,...]
                                           [--report-only]

A benchmark is a script in ``benchmarks/`` with a module-level ``PROFILES`` dict: the
arguments for the ``quick`` profile (the whole set in about 10 minutes on 2 cores) and the
``full`` one. That is the whole convention: a new script with ``PROFILES`` is run and reported
(its ``benchmarks/results/<name>.json`` becomes a section of ``docs/benchmarks.md``); files
without it (``report.py``, this one) are helpers and are listed as skipped.

Around each script this records the machine context (CPUs, load average at the start and the
end, the share of CPU the hypervisor gave other guests meanwhile, wall time) into the
script's JSON under ``run``, prints it under the script's own table, and then writes the report
with ``publish.py``. A script that fails is reported as such; the others still run.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from report import RESULTS, cpu_times, steal_percent  # noqa: E402

PROFILE_NAMES = ("quick", "full")


def profiles_of(script: Path) -> dict[str, list[str]] | None:
    """The script's ``PROFILES`` (read without importing it), or None for a helper module."""
    tree = ast.parse(script.read_text(), filename=str(script))
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "PROFILES" for t in node.targets)
        ) or (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id == "PROFILES"
            and node.value is not None
        ):
            value = ast.literal_eval(node.value)  # type: ignore[arg-type]
            if not isinstance(value, dict) or not all(p in value for p in PROFILE_NAMES):
                raise SystemExit(f"{script}: PROFILES must give arguments for {PROFILE_NAMES}")
            return {k: [str(a) for a in v] for k, v in value.items()}
    return None


def discover(folder: Path = HERE) -> tuple[dict[str, dict[str, list[str]]], list[str]]:
    """(benchmarks by name with their profiles, helper files skipped), in name order."""
    found: dict[str, dict[str, list[str]]] = {}
    skipped: list[str] = []
    for script in sorted(folder.glob("*.py")):
        profiles = profiles_of(script)
        if profiles is None:
            skipped.append(script.name)
        else:
            found[script.stem] = profiles
    return found, skipped


def context_line(run: dict[str, Any]) -> str:
    return (
        f"[{run['cpus']} CPUs, load {run['load_at_start'][0]:.2f} -> "
        f"{run['load_at_end'][0]:.2f}, CPU steal {run['steal_percent']:.1f} %, "
        f"{run['seconds']:.0f} s]"
    )


def run_one(name: str, args: list[str], profile: str) -> dict[str, Any]:
    """Run one script; add the machine context to its JSON; return its summary."""
    out = RESULTS / f"{name}.json"
    out.unlink(missing_ok=True)  # a failed run must not leave the last run's figures behind
    print(f"\n=== benchmarks/{name}.py {' '.join(args)}", flush=True)
    run: dict[str, Any] = {
        "profile": profile,
        "args": args,
        "when": datetime.now(timezone.utc).isoformat(timespec="minutes"),
        "cpus": os.cpu_count(),
        "load_at_start": os.getloadavg(),
    }
    cpu0 = cpu_times()
    started = time.perf_counter()
    code = subprocess.call([sys.executable, str(HERE / f"{name}.py"), *args], cwd=ROOT)
    run["seconds"] = round(time.perf_counter() - started, 1)
    run["load_at_end"] = os.getloadavg()
    run["steal_percent"] = round(steal_percent(cpu0, cpu_times()), 2)
    status = "ok" if code == 0 and out.exists() else f"failed (exit code {code})"
    if code == 0 and not out.exists():
        status = f"wrote no benchmarks/results/{name}.json"
    if out.exists():
        data = json.loads(out.read_text())
        data["run"] = run
        out.write_text(json.dumps(data, indent=2) + "\n")
    print(f"machine context for {name}: {context_line(run)} {status}", flush=True)
    return {"args": args, "status": status, "seconds": run["seconds"]}


def ensure_postgres() -> None:
    """The matching benchmark measures PostgreSQL too: start the machine's cluster if stopped."""
    try:
        from jupyter_peerprep.pytest_plugin import ensure_postgres_running
    except ImportError:
        return
    ensure_postgres_running()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", choices=PROFILE_NAMES, default="quick")
    parser.add_argument("--only", default="", help="comma-separated script names")
    parser.add_argument(
        "--report-only", action="store_true", help="write the report from the last results"
    )
    args = parser.parse_args()
    import publish

    if not args.report_only:
        found, skipped = discover()
        only = [n for n in args.only.split(",") if n]
        unknown = set(only) - set(found)
        if unknown:
            raise SystemExit(f"no benchmark named {sorted(unknown)}; there are {sorted(found)}")
        print(f"benchmarks: {', '.join(found)}; helpers (no PROFILES): {', '.join(skipped)}")
        ensure_postgres()
        RESULTS.mkdir(parents=True, exist_ok=True)
        summary: dict[str, Any] = {
            "profile": args.profile,
            "started": datetime.now(timezone.utc).isoformat(timespec="minutes"),
            "scripts": {},
        }
        for name, profiles in found.items():
            if only and name not in only:
                continue
            summary["scripts"][name] = run_one(name, profiles[args.profile], args.profile)
        (RESULTS / publish.RUN_SUMMARY).write_text(json.dumps(summary, indent=2) + "\n")
    names = publish.publish()
    print(f"\nwrote {publish.DOC.relative_to(ROOT)} ({', '.join(names)}) and plots in "
          f"{publish.IMAGES.relative_to(ROOT)}")  # fmt: skip
    failed = [] if args.report_only else [
        n for n, s in summary["scripts"].items() if s["status"] != "ok"
    ]  # fmt: skip
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
