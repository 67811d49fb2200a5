"""The Markdown tables of ``docs/benchmarks.md``, made from each script's results JSON.

One function per benchmark script (``SECTIONS``), named after the script, returning the
Markdown of its table and key figures; a script without one (a new benchmark) gets
``generic``: every number of its JSON in a table, so it is in the report from its first run.
Every table is preceded by ``context``: the machine it ran on, its load and the CPU steal
during the script (what ``run_all.py`` recorded around it).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

Results = dict[str, Any]


def md_table(rows: list[list[str]]) -> str:
    """``rows`` (the first is the header) as a Markdown table."""
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    return "\n".join(lines)


def num(value: Any, digits: int = 1) -> str:
    """A number for a table cell; an empty cell for a missing or not-a-number value."""
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return "" if value is None else str(value)
    if isinstance(value, float) and math.isnan(value):
        return ""
    return f"{value:,.{digits}f}"


def context(results: Results) -> str:
    """One line on where and how the results were measured (machine, load, steal)."""
    run = results.get("run") or {}
    machine = results.get("machine") or {}
    cpus = run.get("cpus") or machine.get("cpus")
    load0 = (
        run.get("load_at_start")
        or machine.get("loadavg_at_start")
        or machine.get("load_avg_at_start")
    )
    load1 = run.get("load_at_end") or machine.get("load_avg_at_end")
    parts = [f"{cpus} CPUs" if cpus else "CPUs unknown"]
    if load0:
        load = f"load average {load0[0]:.2f} at the start"
        if load1:
            load += f", {load1[0]:.2f} at the end"
        parts.append(load)
    steal = run.get("steal_percent")
    if isinstance(steal, (int, float)) and not math.isnan(steal):
        parts.append(f"CPU steal {steal:.1f} % during the script")
    if run.get("profile"):
        parts.append(f"{run['profile']} profile (`{' '.join(run.get('args', []))}`)")
    if run.get("seconds") is not None:
        parts.append(f"{run['seconds']:.0f} s")
    if run.get("when"):
        parts.append(run["when"].replace("T", " "))
    return "Machine: " + ", ".join(parts) + "."


def sandbox(r: Results) -> str:
    rows = [["what", "n", "p50 ms", "p95 ms", "overhead over bare, ms"]]
    names = {
        "bare": "bare `python3 -I -S -c pass` (baseline)",
        "bwrap": "bwrap sandbox (`BwrapSandbox.run_python`)",
        "docker": "docker sandbox (`DockerSandbox.run_python`, Docker API on podman)",
        "docker_run_cli": "plain `docker run --rm` of the same image (CLI)",
        "submit_easy_bwrap": "easy-question Submit, bwrap (8 hidden cases + complexity at 4 "
        "sizes, both at once)",
        "submit_easy_docker": "easy-question Submit, docker",
    }
    for key, name in names.items():
        if key in r:
            row = r[key]
            rows.append(
                [name, str(row["n"]), num(row["p50_ms"]), num(row["p95_ms"]),
                 num(row.get("overhead_ms"))]
            )  # fmt: skip
    out = [md_table(rows), ""]
    ratio = r.get("bwrap_overhead_over_container_cost")
    if ratio is not None:
        out.append(
            f"- **bwrap overhead / per-run container cost: {ratio:.3f}** (goal at most 0.1)."
        )
    rps = r.get("throughput_runs_per_s") or {}
    if rps:
        each = ", ".join(f"{k} {v}" for k, v in rps.items())
        out.append(f"- **Runs per second with both cores busy** (2 x cores in flight): {each}.")
    submit = r.get("submit_easy_bwrap")
    if submit:
        met = "met" if submit["p50_ms"] < 1500 else "not met"
        out.append(
            f"- **Easy Submit p50 {submit['p50_ms']:.0f} ms** on bwrap (goal under 1.5 s: {met})."
        )
        c = submit.get("complexity") or {}
        if c:
            out.append(
                "- The complexity estimate of the benchmark's linear two-sum: "
                f"`{c.get('estimate')}` (confidence {c.get('confidence')})."
            )
    return "\n".join(out)


def matching(r: Results) -> str:
    rows = [
        ["backend", "target/s", "achieved/s", "matches/s", "p50 ms", "p99 ms", "CPU ms / match",
         "requests / txn", "txn ms", "p50 / bare commit", "steal %", "double matches"]
    ]  # fmt: skip
    labels = {
        "sqlite": "SQLite",
        "postgresql": "PostgreSQL",
        "postgresql-durable": "PostgreSQL, durable commits",
    }
    for backend, per in (r.get("backends") or {}).items():
        first = True
        for key, run in per.items():
            if not key.startswith("rate_"):
                continue
            name = labels.get(backend, backend)
            if first:
                name += f" (bare commit {per['bare_commit_ms']:.2f} ms)"
                first = False
            rows.append(
                [name, num(run["target_rate"], 0), num(run["achieved_enqueues_per_s"], 0),
                 num(run["matches_per_s"], 0), num(run["p50_ms"]), num(run["p99_ms"]),
                 num(run["cpu_ms_per_match"]), num(run["requests_per_transaction"]),
                 num(run["transaction_mean_ms"]), num(run["p50_vs_bare_commit"]) + "x",
                 num(run["cpu_steal_percent"], 0), str(run["double_matches"])]
            )  # fmt: skip
    out = [md_table(rows), ""]
    mem = r.get("in_memory")
    if mem:
        out.append(
            f"In-memory engine model (`InMemoryEngine`), {mem['ops']:,} random operations: "
            f"{mem['seconds']:.1f} s ({mem['ops_per_s']:,.0f} ops/s), {mem['tickets']:,} "
            f"tickets, {mem['matched_pairs']:,} pairs, {mem['cancelled']:,} cancelled, "
            f"**{mem['double_matches']} double matches**; the matching decision on an enqueue "
            f"that finds a partner takes p50 {mem['decide_p50_ms']:.3f} ms, "
            f"p99 {mem['decide_p99_ms']:.3f} ms."
        )
    return "\n".join(out)


def questions(r: Results) -> str:
    rows = [["what", "p50 ms", "p95 ms", "ratio"]]
    rows.append(
        ["one sandbox run, 1 trivial case (baseline)", num(r["sandbox_run"]["p50_ms"], 0),
         num(r["sandbox_run"]["p95_ms"], 0), ""]
    )  # fmt: skip
    rows.append(
        ["full validation of the demo question", num(r["validate_demo"]["p50_ms"], 0),
         num(r["validate_demo"]["p95_ms"], 0), f"{r['validate_over_sandbox_run']} sandbox runs"]
    )  # fmt: skip
    bl = r.get("bank_load")
    if bl:
        rows.append(
            [f"bank load on first start, {bl['questions']} questions",
             num(1000 * bl["first_start_s"], 0) + " total", "",
             f"{bl['per_question_s']} s per question"]
        )  # fmt: skip
        rows.append(
            ["bank load on restart, nothing changed (no code runs)",
             num(1000 * bl["restart_s"], 0) + " total", "",
             f"{bl['restart_over_first']} of the first start"]
        )  # fmt: skip
    names = {
        "health (baseline)": "`GET api/health` (baseline)",
        "list 60": "`GET api/questions` (60 questions, counts)",
        "student view": "`GET api/questions/{id}` (student view)",
        "student notebook": "`GET api/questions/{id}/student-notebook`",
    }
    for key, value in (r.get("api") or {}).items():
        ratio = f"{value['over_health']} x health" if "over_health" in value else ""
        rows.append([names.get(key, key), num(value["p50_ms"]), num(value["p95_ms"]), ratio])
    return md_table(rows)


def rooms(r: Results) -> str:
    rows = [["mode", "matches", "p50 s", "p95 s", "max s"]]
    for row in r["rows"]:
        rows.append(
            [row["mode"], str(row["matches"]), num(row["p50_s"], 3), num(row["p95_s"], 3),
             num(row["max_s"], 3)]
        )  # fmt: skip
    out = [md_table(rows), ""]
    warm = r["rows"][0]
    met = "met" if warm["p95_s"] <= 1.0 else "not met"
    out.append(f"- warm p95 = **{warm['p95_s']:.2f} s** (goal at most 1 s: {met}).")
    ratio = r["warm_p95_over_cold_p50"]
    met = "met" if ratio <= 0.25 else "not met"
    out.append(f"- warm p95 / cold p50 = **{ratio:.3f}** (goal at most 0.25: {met}).")
    memory = r.get("memory_per_idle_room_mib")
    if isinstance(memory, (int, float)) and not math.isnan(memory):
        rooms_measured = len(r.get("memory_per_room_by_process_mib") or []) or 1
        out.append(
            f"- Memory per idle room (pair server process tree with one kernel, unique memory, "
            f"USS; median of {rooms_measured}): **{memory:.0f} MiB**, about "
            f"{1024 / memory:.1f} rooms per GiB."
        )
    return "\n".join(out)


def complexity(r: Results) -> str:
    rows = [
        [
            "solution (known class)",
            "fitted class (runs)",
            "time right",
            "median confidence",
            "measured by",
            "CPU time only (baseline)",
            "space (known)",
            "space right",
            "s per Submit",
        ]
    ]
    for known, data in r["solutions"].items():
        runs = data["runs"]
        bases: dict[str, int] = {}
        for entry in data["entries"]:
            bases[entry["basis"]] = bases.get(entry["basis"], 0) + 1
        rows.append(
            [
                known,
                ", ".join(f"`{c}` {k}" for c, k in data["classes"].items()),
                f"{data['right']}/{runs}" + ("" if data["right"] >= runs - 1 else " **low**"),
                num(data["median_confidence"], 2),
                ", ".join(f"{b} {k}" for b, k in bases.items()),
                f"{data['cpu_only_right']}/{runs}",
                data["space_expected"],
                f"{data['space_right']}/{runs}",
                num(data["median_seconds"], 2),
            ]
        )
    right = sum(d["right"] for d in r["solutions"].values())
    total = sum(d["runs"] for d in r["solutions"].values())
    baseline = sum(d["cpu_only_right"] for d in r["solutions"].values())
    return md_table(rows) + (
        f"\n\n- {r.get('busy_processes', 0)} CPU-spinning processes ran throughout. The time "
        f"class was right in **{right} of {total}** Submits; CPU time alone (what was measured "
        f"before steps were counted, fitted the same way) in {baseline} of {total}."
    )


def load(r: Results) -> str:
    rows = [["rooms", "keys", "p50 ms", "p99 ms", "worst room p99 ms", "lost", "CPU % per room",
             "USS MiB per room", "hub CPU %", "proxy CPU %", "service CPU %", "load average",
             "first goal missed"]]  # fmt: skip
    for s in r["steps"]:
        if "keys" not in s:
            rows.append([str(s["rooms"])] + [""] * 11 + [s.get("bottleneck", "")])
            continue
        rows.append(
            [str(s["rooms"]), str(s["keys"]), num(s["p50_ms"]), num(s["p99_ms"]),
             num(s["worst_room_p99_ms"]), str(s["lost"]), num(s["room_cpu_percent"]),
             num(s["room_uss_mib"], 0), num(s["hub_cpu_percent"]), num(s["proxy_cpu_percent"]),
             num(s["service_cpu_percent"]), num(s["loadavg"]), s["bottleneck"] or "none"]
        )  # fmt: skip
    stock = r["stock"]
    rows.append(
        ["stock, 1", str(stock["keys"]), num(stock["p50_ms"]), num(stock["p99_ms"]),
         num(stock["worst_room_p99_ms"]), str(stock["lost"]), num(stock["server_cpu_percent"]),
         num(stock["server_uss_mib"], 0), "", "", "", num(stock["loadavg"]), "(baseline)"]
    )  # fmt: skip
    first = r.get("first_bottleneck")
    where = (
        f"**{first['bottleneck']}** at {first['rooms']} rooms" if first else "none at these steps"
    )
    return md_table(rows) + (
        f"\n\n- Two students per room, each typing {num(r['rate_keys_per_s'])} keys/s for "
        f"{num(r['seconds'], 0)} s per step; the last row is a stock jupyter-collaboration "
        "server with one notebook and two typists, same run. Goal: 100 rooms, p99 at most "
        f"25 ms, nothing lost. First goal missed: {where}."
    )


def room_memory(r: Results) -> str:
    rows = [["what the pair server loads", "USS MiB", "added MiB"]]
    for layer in r["layers"]:
        rows.append([layer["layer"], num(layer["uss_mib"]), num(layer.get("added_mib"))])
    return md_table(rows) + (
        f"\n\n- Server before (every extension the environment enables): "
        f"**{r['server_before_mib']:.0f} MiB**; a room now, with "
        f"{', '.join(r['switched_off_in_rooms'])} switched off: "
        f"**{r['server_after_mib']:.0f} MiB** (the kernel comes on top while one runs)."
    )


def flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Every number (and short string) in a JSON value, with its key path."""
    if isinstance(value, dict):
        out: list[tuple[str, Any]] = []
        for key, item in value.items():
            if key in {"machine", "run"}:
                continue
            out += flatten(item, f"{prefix}.{key}" if prefix else str(key))
        return out
    if isinstance(value, list):
        if len(value) > 8:  # samples: summarised in the plots, not listed
            return []
        return [x for i, item in enumerate(value) for x in flatten(item, f"{prefix}[{i}]")]
    if isinstance(value, (int, float, str)) and not (isinstance(value, str) and len(value) > 80):
        return [(prefix, value)]
    return []


def generic(r: Results) -> str:
    """A script the report knows nothing about yet: all of its figures, by key."""
    rows = [["figure", "value"]]
    rows += [[f"`{key}`", num(v, 3) if isinstance(v, float) else str(v)] for key, v in flatten(r)]
    return md_table(rows)


SECTIONS: dict[str, Callable[[Results], str]] = {
    "sandbox": sandbox,
    "matching": matching,
    "questions": questions,
    "rooms": rooms,
    "complexity": complexity,
    "load": load,
    "room_memory": room_memory,
}


def render(name: str, results: Results) -> str:
    """The context line and the table(s) of one script's results."""
    return context(results) + "\n\n" + SECTIONS.get(name, generic)(results)
