"""Grader sandbox benchmark: per-run overhead, throughput, and a typical Submit.

    .venv/bin/python benchmarks/sandbox.py [--runs 20] [--no-docker]

Measured in one run, on this machine, so the ratios compare like with like:

- ``bare``: ``python3 -I -S -c pass`` as a plain subprocess (the baseline);
- ``bwrap``: the same program through ``BwrapSandbox.run_python`` (namespaces, cgroup, rlimits);
- ``docker``: the same through ``DockerSandbox.run_python`` (one container per run, Docker API);
- ``docker run --rm``: the same image with the docker CLI, the cost people usually quote;
- overhead = backend p50 - bare p50; goal: bwrap overhead <= 0.1 x docker per-run cost;
- runs per second with both cores busy (2 x cores runs in flight) for bwrap and docker;
- a typical easy-question Submit: 8 hidden cases + complexity at 4 sizes, as the Run/Submit
  handler does it (both at once); goal: p50 under 1.5 s;
- per language, the bwrap run of a trivial program over a bare run of the same runtime
  (Python: ``python3 -c pass``; Deno: ``deno run`` of an empty module, started in the sandbox
  the way the harness starts it, through Python's exec); goal: Deno's ratio <= 1.1 x Python's.

Prints a table and writes ``benchmarks/results/sandbox.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from report import summary, write_results  # noqa: E402

from jupyter_peerprep.grader import Grader  # noqa: E402
from jupyter_peerprep.sandbox.base import SandboxLimits  # noqa: E402
from jupyter_peerprep.sandbox.bwrap import BwrapSandbox  # noqa: E402
from jupyter_peerprep.sandbox.docker import DockerSandbox  # noqa: E402

DOCKER_HOST = os.environ.get("DOCKER_HOST", "unix:///run/peerprep-podman.sock")
IMAGE = "localhost/peerprep-grader:latest"

# Arguments run_all.py passes for each profile (the convention that makes this a benchmark).
PROFILES = {"quick": ["--runs", "20"], "full": ["--runs", "40"]}

TWO_SUM = """
def two_sum(nums, target):
    seen = {}
    for i, x in enumerate(nums):
        if target - x in seen:
            return [seen[target - x], i]
        seen[x] = i
    return []
"""
GENERATOR = """
def generate(n, rng):
    return [[rng.randint(0, 10**9) for _ in range(n)], -1]
"""
HIDDEN = [
    {"name": f"hidden {i}", "args": [[i, 10 + i, 20 + i, 7], 20 + 2 * i], "expected": [0, 2]}
    for i in range(8)
]
COMPLEXITY = {"sizes": [1000, 2000, 4000, 8000], "expected": "O(n)", "repeats": 3}


def time_bare(runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(["/usr/bin/python3", "-I", "-S", "-c", "pass"], check=True)
        times.append(time.perf_counter() - started)
    return times


async def time_sandbox(sandbox: Any, runs: int) -> list[float]:
    times = []
    limits = SandboxLimits(wall_s=30)
    for _ in range(runs):
        started = time.perf_counter()
        result = await sandbox.run_python(["-I", "-S", "-c", "pass"], limits=limits)
        times.append(time.perf_counter() - started)
        if result.exit_code != 0:
            raise SystemExit(f"{sandbox.name} run failed: {result.stderr[-500:]!r}")
    return times


def time_docker_cli(runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [
                *("docker", "-H", DOCKER_HOST, "run", "--rm", "--network", "none", IMAGE),
                *("python3", "-I", "-S", "-c", "pass"),
            ],
            check=True,
            capture_output=True,
        )
        times.append(time.perf_counter() - started)
    return times


DENO_ARGS = ["run", "--quiet", "--no-prompt", "--no-remote", "--no-npm", "--no-config"]
# In the sandbox: write the empty module to the private work dir, then become Deno.
DENO_IN_SANDBOX = (
    "import os\n"
    "open('empty.js', 'w').close()\n"
    "os.execve({deno!r}, [{deno!r}, *{args!r}, 'empty.js'],"
    " dict(os.environ, DENO_DIR='/tmp/deno', DENO_NO_UPDATE_CHECK='1'))\n"
)


def time_bare_deno(deno: str, runs: int, workdir: Path) -> list[float]:
    (workdir / "empty.js").write_text("")
    env = dict(os.environ, DENO_DIR=str(workdir / "deno-dir"), DENO_NO_UPDATE_CHECK="1")
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([deno, *DENO_ARGS, "empty.js"], check=True, cwd=workdir, env=env)
        times.append(time.perf_counter() - started)
    return times


async def time_sandbox_deno(sandbox: BwrapSandbox, runs: int) -> list[float]:
    limits = SandboxLimits(wall_s=30, address_space=False, deno=True)
    program = DENO_IN_SANDBOX.format(deno=sandbox.deno_inside, args=DENO_ARGS)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = await sandbox.run_python(["-I", "-S", "-c", program], limits=limits)
        times.append(time.perf_counter() - started)
        if result.exit_code != 0:
            raise SystemExit(f"deno in bwrap failed: {result.stderr[-500:]!r}")
    return times


async def language_overheads(bwrap: BwrapSandbox, runs: int, python: dict[str, Any]) -> Any:
    """Per language: sandboxed p50 over bare p50 of the same runtime, and Deno over Python."""
    import tempfile

    out: dict[str, Any] = {
        "python": {"ratio": round(python["bwrap"]["p50_ms"] / python["bare"]["p50_ms"], 2)}
    }
    if not bwrap.deno:
        return out
    with tempfile.TemporaryDirectory() as workdir:
        time_bare_deno(bwrap.deno, 2, Path(workdir))  # warm-up (Deno's cache)
        bare = summary(time_bare_deno(bwrap.deno, runs, Path(workdir)))
    await time_sandbox_deno(bwrap, 2)
    boxed = summary(await time_sandbox_deno(bwrap, runs))
    ratio = boxed["p50_ms"] / bare["p50_ms"]
    out["deno"] = {"bare": bare, "bwrap": boxed, "ratio": round(ratio, 2)}
    out["deno_ratio_over_python_ratio"] = round(ratio / out["python"]["ratio"], 2)
    return out


async def throughput(sandbox: Any, total: int) -> float:
    in_flight = 2 * (os.cpu_count() or 1)
    semaphore = asyncio.Semaphore(in_flight)
    limits = SandboxLimits(wall_s=60)

    async def one() -> None:
        async with semaphore:
            await sandbox.run_python(["-I", "-S", "-c", "pass"], limits=limits)

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(total)))
    return total / (time.perf_counter() - started)


async def time_submit(grader: Grader, runs: int) -> tuple[list[float], dict[str, Any]]:
    times = []
    last: dict[str, Any] = {}
    for _ in range(runs):
        started = time.perf_counter()
        report, complexity = await asyncio.gather(
            grader.run_cases(source=TWO_SUM, entry_point="two_sum", cases=HIDDEN),
            grader.measure_complexity(
                source=TWO_SUM,
                entry_point="two_sum",
                generator=GENERATOR,
                sizes=COMPLEXITY["sizes"],
                expected=COMPLEXITY["expected"],
                repeats=COMPLEXITY["repeats"],
            ),
        )
        times.append(time.perf_counter() - started)
        if report.verdict != "passed":
            raise SystemExit(f"submit did not pass: {report.to_json(reveal=True)}")
        last = complexity.to_json()
    return times, last


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--no-docker", action="store_true")
    options = parser.parse_args()
    runs = options.runs
    results: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "load_avg_at_start": os.getloadavg(),
            "python": platform.python_version(),
        },
        "runs": runs,
    }

    bare = time_bare(runs)
    bwrap = BwrapSandbox()
    await time_sandbox(bwrap, 2)  # warm-up
    bwrap_times = await time_sandbox(bwrap, runs)
    results["bare"] = summary(bare)
    results["bwrap"] = summary(bwrap_times)
    # Every timing (ms), for the latency distributions of the report's plots.
    samples: dict[str, list[float]] = {"bare": bare, "bwrap": bwrap_times}
    results["samples_ms"] = samples
    docker_times: list[float] = []
    if not options.no_docker:
        docker = DockerSandbox(docker_host=DOCKER_HOST, image=IMAGE)
        await time_sandbox(docker, 2)
        docker_runs = max(5, runs // 2)
        docker_times = await time_sandbox(docker, docker_runs)
        results["docker"] = summary(docker_times)
        samples["docker"] = docker_times
        samples["docker_run_cli"] = time_docker_cli(docker_runs)
        results["docker_run_cli"] = summary(samples["docker_run_cli"])

    base = statistics.median(bare)
    results["bwrap"]["overhead_ms"] = round(1000 * (statistics.median(bwrap_times) - base), 1)
    if docker_times:
        results["docker"]["overhead_ms"] = round(1000 * (statistics.median(docker_times) - base), 1)
        container_cost = min(
            statistics.median(docker_times),
            results["docker_run_cli"]["p50_ms"] / 1000,
        )
        results["bwrap_overhead_over_container_cost"] = round(
            results["bwrap"]["overhead_ms"] / 1000 / container_cost, 3
        )

    results["languages"] = await language_overheads(bwrap, runs, results)
    results["throughput_runs_per_s"] = {"bwrap": round(await throughput(bwrap, 4 * runs), 1)}
    if not options.no_docker:
        results["throughput_runs_per_s"]["docker"] = round(
            await throughput(DockerSandbox(docker_host=DOCKER_HOST, image=IMAGE), runs), 2
        )

    grader = Grader()
    await time_submit(grader, 1)
    submit_times, complexity = await time_submit(grader, max(5, runs // 2))
    results["submit_easy_bwrap"] = summary(submit_times)
    samples["submit_easy_bwrap"] = submit_times
    results["submit_easy_bwrap"]["complexity"] = {
        k: complexity[k] for k in ("estimate", "confidence", "matches")
    }
    if not options.no_docker:
        dgrader = Grader(backend="docker")
        dgrader.get_sandbox().docker_host = DOCKER_HOST  # type: ignore[attr-defined]
        await time_submit(dgrader, 1)
        dtimes, _ = await time_submit(dgrader, max(3, runs // 4))
        results["submit_easy_docker"] = summary(dtimes)
        samples["submit_easy_docker"] = dtimes
    results["machine"]["load_avg_at_end"] = os.getloadavg()
    results["samples_ms"] = {k: [round(1000 * t, 2) for t in v] for k, v in samples.items()}

    rows = [("bare python3 -c pass", results["bare"])]
    rows.append(("bwrap sandbox", results["bwrap"]))
    if docker_times:
        rows += [("docker sandbox (API)", results["docker"])]
        rows += [("docker run --rm (CLI)", results["docker_run_cli"])]
    rows.append(("Submit, easy, bwrap", results["submit_easy_bwrap"]))
    if "submit_easy_docker" in results:
        rows.append(("Submit, easy, docker", results["submit_easy_docker"]))
    print(f"{'what':28s} {'n':>4s} {'p50 ms':>9s} {'p95 ms':>9s} {'overhead ms':>12s}")
    for name, row in rows:
        overhead = str(row.get("overhead_ms", ""))
        p50, p95 = row["p50_ms"], row["p95_ms"]
        print(f"{name:28s} {row['n']:>4d} {p50:>9.1f} {p95:>9.1f} {overhead:>12s}")
    print("runs per second, both cores busy:", results["throughput_runs_per_s"])
    if "bwrap_overhead_over_container_cost" in results:
        print(
            "bwrap overhead / per-run container cost:",
            results["bwrap_overhead_over_container_cost"],
            "(goal <= 0.1)",
        )
    print("complexity of the easy Submit:", results["submit_easy_bwrap"]["complexity"])
    languages = results["languages"]
    if "deno" in languages:
        deno = languages["deno"]
        print(
            f"bwrap over bare, same runtime: python {languages['python']['ratio']}x, "
            f"deno {deno['ratio']}x (bare deno p50 {deno['bare']['p50_ms']:.1f} ms, "
            f"in bwrap {deno['bwrap']['p50_ms']:.1f} ms); deno/python "
            f"{languages['deno_ratio_over_python_ratio']} (goal <= 1.1)"
        )
    print(f"wrote {write_results('sandbox', results)}")


if __name__ == "__main__":
    asyncio.run(main())
