"""Matching benchmark: throughput, latency to the matched event, CPU per match; and the
one-million-operation run of the in-memory engine model.

    .venv/bin/python benchmarks/matching.py [--rate 1000] [--seconds 1.5] [--ops 1000000]
                                            [--no-postgres]

Measured in one run, on this machine, so the ratios compare like with like:

- ``bare commit``: one INSERT + COMMIT of a one-row transaction on the same database (the
  baseline unit of database work);
- simulated students enqueue through ``Matchmaker.enqueue`` (the code behind POST /api/match,
  without HTTP) on a fixed schedule at ``--rate`` per second (and at a tenth of it, to see the
  latency without queueing), each a new student with a realistic spread of categories
  (difficulty 5:4:1 easy:medium:hard, 1-3 of 6 popular topics);
- latency: from the start of the second compatible enqueue to the moment the matched event
  is emitted (the notifier that wakes the first student's event stream), p50 / p99;
- matches per second (achieved), enqueues per second (achieved), CPU (process time) per
  match, match requests per database transaction and its mean duration (the service's
  ``peerprep_match_batch_*`` metrics), and the p50 latency as a multiple of a bare commit;
- the share of CPU time the hypervisor gave other guests during each run (``steal %``), so
  a run on a busy host is recognisable as such;
- on PostgreSQL with the service's default (matching commits do not wait for the disk,
  ``Matchmaker.synchronous_commit = False``) and, at the target rate, with durable commits
  (``postgresql-durable``);
- the database and heap are set up as ``PeerPrepService`` sets them up (SQLite checkpoints in
  a background thread, start-up heap frozen), so the figures are the service's;
- the in-memory engine model (``InMemoryEngine``, the same pure core) under ``--ops`` random
  operations (enqueue 55 %, cancel 10 %, wait + tick 35 %), checked for double matches.

Goal (issue 5): p99 <= 10 ms at 1,000 enqueues/s; zero double matches in 1,000,000 operations.
Prints a table and writes ``benchmarks/results/matching.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "matching"))

from matching_support import add_bank  # noqa: E402
from prometheus_client import REGISTRY  # noqa: E402
from report import cpu_times, machine, pct, steal_percent, table, write_results  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from jupyter_peerprep import db  # noqa: E402
from jupyter_peerprep.hub.app import PeerPrepService, settle_heap  # noqa: E402
from jupyter_peerprep.hub.matching import (  # noqa: E402
    Matchmaker,
    MatchRequest,
    Policy,
    Waiting,
)
from jupyter_peerprep.testing.matching_model import InMemoryEngine  # noqa: E402

POSTGRES_ADMIN_URL = os.environ.get(
    "PEERPREP_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
DIFFICULTY_WEIGHTS = {"easy": 5, "medium": 4, "hard": 1}
# Arguments run_all.py passes for each profile (the convention that makes this a benchmark).
PROFILES = {
    "quick": ["--seconds", "5", "--ops", "300000"],
    "full": ["--seconds", "10", "--ops", "1000000"],
}
TOPIC_CHOICES = ["arrays", "strings", "hash-maps", "graphs", "trees", "dynamic-programming"]


def student(rng: random.Random) -> tuple[str, list[str]]:
    difficulty = rng.choices(list(DIFFICULTY_WEIGHTS), weights=list(DIFFICULTY_WEIGHTS.values()))
    return difficulty[0], rng.sample(TOPIC_CHOICES, k=rng.choice([1, 1, 2, 3]))


def bare_commit_ms(url: str, n: int = 200) -> float:
    engine = db.make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE bench_bare (id INTEGER PRIMARY KEY, v TEXT)"))
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO bench_bare (id, v) VALUES (:i, 'x')"), {"i": i})
        times.append(time.perf_counter() - t0)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE bench_bare"))
    engine.dispose()
    return statistics.median(times) * 1000


async def run_rate(
    url: str, rate: float, seconds: float, seed: int, **traits: Any
) -> dict[str, Any]:
    """Enqueue at ``rate``/s for ``seconds`` against a fresh schema at ``url``, with the
    database and heap set up as the PeerPrep service sets them up (and ``traits`` of the
    Matchmaker)."""
    engine = db.make_engine(
        url, sqlite_checkpoint_interval=PeerPrepService.sqlite_checkpoint_interval.default_value
    )
    db.upgrade(engine)
    factory = db.session_factory(engine)
    add_bank(factory)
    mm = Matchmaker(
        session_factory=factory,
        topic_relax_after=30.0,
        difficulty_relax_after=75.0,
        timeout_after=180.0,
        tick_interval=1.0,
        **traits,
    )
    await mm.start()
    settle_heap()
    emitted: dict[str, float] = {}
    group: dict[str, list[str]] = {}
    notify = mm.notifier.notify

    def recording_notify(ids: Any) -> None:
        ids = list(ids)
        now = time.perf_counter()
        for i in ids:
            emitted.setdefault(i, now)
            group[i] = ids
        notify(ids)

    mm.notifier.notify = recording_notify  # type: ignore[method-assign]
    rng = random.Random(seed)
    n = int(rate * seconds)
    started: dict[str, float] = {}
    latencies: list[float] = []
    # (ticket id, state on enqueue) only: keeping every answer would grow the heap, and the
    # garbage collector's full passes over it, with something the service itself never keeps.
    results: list[tuple[str, str]] = []
    lag: list[float] = []

    async def one(i: int) -> None:
        difficulty, topics = student(rng)
        t0 = time.perf_counter()
        ticket, _ = await mm.enqueue(
            f"s{seed}-{i}", MatchRequest(difficulty, topics, "python", f"k{i}")
        )
        started[ticket["id"]] = t0
        results.append((ticket["id"], ticket["state"]))

    batches0 = batch_totals()
    machine0 = cpu_times()
    cpu0 = time.process_time()
    wall0 = time.perf_counter()
    tasks = []
    for i in range(n):
        due = wall0 + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        lag.append(max(0.0, -delay))
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    batches = [after - before for after, before in zip(batch_totals(), batches0, strict=True)]
    steal = steal_percent(machine0, cpu_times())
    await mm.stop()
    for ticket_id, state in results:
        if state != "matched":
            continue
        # This was the second compatible enqueue; its partner's matched event is what we time.
        partner = [x for x in group.get(ticket_id, []) if x != ticket_id]
        if partner and partner[0] in emitted:
            latencies.append((emitted[partner[0]] - started[ticket_id]) * 1000)
    with factory() as s:
        rows = s.execute(text("SELECT username, count(*) FROM room_members GROUP BY username"))
        double = sum(1 for _, c in rows if c > 1)
        rooms = s.execute(text("SELECT count(*) FROM rooms")).scalar() or 0
    engine.dispose()
    return {
        "target_rate": rate,
        "enqueues": n,
        "achieved_enqueues_per_s": n / wall,
        "matches": rooms,
        "matches_per_s": rooms / wall,
        "p50_ms": pct(latencies, 0.50),
        "p99_ms": pct(latencies, 0.99),
        "cpu_ms_per_match": cpu * 1000 / rooms if rooms else float("nan"),
        "cpu_ms_per_enqueue": cpu * 1000 / n,
        "schedule_lag_p99_ms": pct(lag, 0.99) * 1000,
        "cpu_steal_percent": steal,
        "transactions": batches[0],
        "requests_per_transaction": batches[1] / batches[0] if batches[0] else float("nan"),
        "transaction_mean_ms": batches[2] * 1000 / batches[0] if batches[0] else float("nan"),
        "double_matches": double,
        # Every latency (ms), for the report's distribution plot.
        "latencies_ms": [round(x, 3) for x in latencies],
    }


def batch_totals() -> tuple[float, float, float]:
    """(transactions, requests, seconds) the matcher has written so far (its metrics)."""
    return (
        REGISTRY.get_sample_value("peerprep_match_batch_requests_count") or 0.0,
        REGISTRY.get_sample_value("peerprep_match_batch_requests_sum") or 0.0,
        REGISTRY.get_sample_value("peerprep_match_batch_seconds_sum") or 0.0,
    )


def postgres_url() -> tuple[str, Any]:
    name = f"peerprep_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :n AND pid <> pg_backend_pid()"
                ),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()

    return url, drop


def in_memory(ops: int, seed: int = 1) -> dict[str, Any]:
    """Random operations on the engine model; a double match raises inside the engine."""
    policy = Policy(topic_relax_after=10, difficulty_relax_after=20, timeout_after=30)
    engine = InMemoryEngine(policy)
    rng = random.Random(seed)
    now = 0.0
    users = [f"u{i}" for i in range(400)]
    next_id = 0
    counts = {"enqueue": 0, "cancel": 0, "tick": 0, "refused": 0}
    decide: list[float] = []
    t0 = time.perf_counter()
    for _ in range(ops):
        r = rng.random()
        if r < 0.55:
            user = rng.choice(users)
            if user in engine.by_user:
                counts["refused"] += 1
                continue
            next_id += 1
            difficulty, topics = student(rng)
            c0 = time.perf_counter()
            pair = engine.enqueue(
                Waiting(
                    id=f"t{next_id}",
                    username=user,
                    difficulty=difficulty,
                    topics=tuple(topics),
                    language="python",
                    created=now,
                    proficiency=rng.choice(["beginner", "intermediate", "advanced"]),
                ),
                now,
            )
            if pair is not None:
                decide.append(time.perf_counter() - c0)
            counts["enqueue"] += 1
        elif r < 0.65:
            if engine.waiting:
                engine.cancel(rng.choice(list(engine.waiting)))
            counts["cancel"] += 1
        else:
            now += rng.uniform(0.0, 0.5)
            engine.tick(now)
            counts["tick"] += 1
    seconds = time.perf_counter() - t0
    # Independent check of the engine's own guard: every matched ticket in exactly one pair.
    seen: dict[str, int] = {}
    for a, b, _ in engine.history:
        for t in (a, b):
            seen[t] = seen.get(t, 0) + 1
    double = sum(1 for c in seen.values() if c > 1)
    assert all(engine.partner[engine.partner[t]] == t for t in engine.partner)
    states = list(engine.state.values())
    return {
        "ops": ops,
        "seconds": seconds,
        "ops_per_s": ops / seconds,
        "tickets": len(engine.state),
        "matched_pairs": len(engine.history),
        "timed_out": states.count("timed_out"),
        "cancelled": states.count("cancelled"),
        "double_matches": double,
        "waiting_at_end": len(engine.waiting),
        "decide_p50_ms": pct(decide, 0.5) * 1000,
        "decide_p99_ms": pct(decide, 0.99) * 1000,
        **{f"op_{k}": v for k, v in counts.items()},
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--seconds", type=float, default=1.5)
    parser.add_argument("--ops", type=int, default=1_000_000)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()

    results: dict[str, Any] = {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "backends": {},
    }
    backends = ["sqlite"] + ([] if args.no_postgres else ["postgresql", "postgresql-durable"])
    for backend in backends:
        per: dict[str, Any] = {}
        # The service's default commits without waiting for the disk on PostgreSQL
        # (Matchmaker.synchronous_commit); "postgresql-durable" measures the other setting in
        # the same run, at the target rate.
        durable = backend == "postgresql-durable"
        traits = {"synchronous_commit": True} if durable else {}
        for rate in (args.rate,) if durable else (args.rate / 10, args.rate):
            if backend == "sqlite":
                tmp = tempfile.mkdtemp()
                url, drop = f"sqlite:///{tmp}/bench.sqlite", (lambda: None)
            else:
                url, drop = postgres_url()
            try:
                if "bare_commit_ms" not in per:
                    per["bare_commit_ms"] = bare_commit_ms(url)
                run = await run_rate(url, rate, args.seconds, seed=int(rate), **traits)
                run["p50_vs_bare_commit"] = run["p50_ms"] / per["bare_commit_ms"]
                per[f"rate_{int(rate)}"] = run
            finally:
                drop()
        results["backends"][backend] = per
    results["in_memory"] = in_memory(args.ops)

    rows = [
        [
            "backend",
            "target/s",
            "achieved/s",
            "matches/s",
            "p50 ms",
            "p99 ms",
            "CPU ms/match",
            "requests/txn",
            "txn ms",
            "p50/bare commit",
            "steal %",
            "double",
        ]
    ]
    for backend, per in results["backends"].items():
        for key, run in per.items():
            if not key.startswith("rate_"):
                continue
            rows.append(
                [
                    backend,
                    f"{run['target_rate']:.0f}",
                    f"{run['achieved_enqueues_per_s']:.0f}",
                    f"{run['matches_per_s']:.0f}",
                    f"{run['p50_ms']:.1f}",
                    f"{run['p99_ms']:.1f}",
                    f"{run['cpu_ms_per_match']:.1f}",
                    f"{run['requests_per_transaction']:.1f}",
                    f"{run['transaction_mean_ms']:.1f}",
                    f"{run['p50_vs_bare_commit']:.1f}x",
                    f"{run['cpu_steal_percent']:.0f}",
                    str(run["double_matches"]),
                ]
            )
    print(table(rows))
    mem = results["in_memory"]
    print(
        f"\nin-memory engine model: {mem['ops']:,} ops in {mem['seconds']:.1f} s "
        f"({mem['ops_per_s']:,.0f} ops/s), {mem['matched_pairs']:,} pairs, "
        f"{mem['timed_out']:,} timed out, {mem['cancelled']:,} cancelled, "
        f"double matches: {mem['double_matches']}; engine decision on a matching enqueue "
        f"p50 {mem['decide_p50_ms']:.3f} ms, p99 {mem['decide_p99_ms']:.3f} ms"
    )
    print(f"load average at start: {results['machine']['loadavg_at_start']}")
    print(f"wrote {write_results('matching', results)}")


if __name__ == "__main__":
    asyncio.run(main())
