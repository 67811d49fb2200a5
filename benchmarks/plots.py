"""The plots of ``docs/benchmarks.md`` (matplotlib), made from each script's results JSON.

One function per benchmark script that has something a picture says better than a table
(``PLOTS``): latency distributions per backend (sandbox, matching), room readiness warm
against cold and memory per room (rooms), how often each reference solution's complexity was
classified right under load (complexity). Each writes PNG files into the images folder and returns
``(file name, alt text)`` pairs for the report to embed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

Results = dict[str, Any]
Images = list[tuple[str, str]]
DPI = 90


def save(fig: Figure, images: Path, name: str) -> str:
    images.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    # No timestamp in the file, so an unchanged figure is an unchanged file.
    fig.savefig(images / name, dpi=DPI, metadata={"Software": None})
    plt.close(fig)
    return name


def distribution(ax: Any, series: dict[str, list[float]], unit: str) -> None:
    """Box plots with every sample drawn over them, one row per series, log scale."""
    labels = list(series)
    data = [series[k] for k in labels]
    ax.boxplot(data, vert=False, showfliers=False, widths=0.5)
    for i, values in enumerate(data, start=1):
        jitter = [i + 0.18 * math.sin(j * 2.399) for j in range(len(values))]
        ax.scatter(values, jitter, s=8, alpha=0.5)
    ax.set_yticks(range(1, len(labels) + 1), [f"{k} (n={len(series[k])})" for k in labels])
    ax.set_xscale("log")
    ax.set_xlabel(unit)
    ax.grid(axis="x", which="both", alpha=0.3)


def sandbox(r: Results, images: Path) -> Images:
    samples = r.get("samples_ms") or {}
    runs = {k: samples[k] for k in ("bare", "bwrap", "docker", "docker_run_cli") if samples.get(k)}
    submits = {
        k.replace("submit_easy_", "Submit, "): samples[k]
        for k in ("submit_easy_bwrap", "submit_easy_docker")
        if samples.get(k)
    }
    if not runs:
        return []
    fig, axes = plt.subplots(2, 1, figsize=(8, 5), height_ratios=[len(runs), max(1, len(submits))])
    distribution(axes[0], runs, "ms per sandbox run of `python3 -c pass`")
    axes[0].set_title("Grader sandbox: latency per backend")
    if submits:
        distribution(axes[1], submits, "ms per easy-question Submit")
    else:
        axes[1].set_visible(False)
    name = save(fig, images, "sandbox-latency.png")
    return [(name, "Latency distribution of a sandbox run and of a Submit, per backend")]


def matching(r: Results, images: Path) -> Images:
    fig, ax = plt.subplots(figsize=(8, 4))
    drawn = False
    for backend, per in (r.get("backends") or {}).items():
        for key, run in per.items():
            values = sorted(run.get("latencies_ms") or []) if key.startswith("rate_") else []
            if not values:
                continue
            share = [(i + 1) / len(values) for i in range(len(values))]
            ax.step(values, share, where="post", label=f"{backend}, {run['target_rate']:.0f}/s")
            drawn = True
    if not drawn:
        plt.close(fig)
        return []
    ax.axhline(0.99, color="grey", linestyle=":", linewidth=1)
    ax.axvline(10, color="red", linestyle="--", linewidth=1, label="goal: p99 10 ms")
    ax.set_xscale("log")
    ax.set_xlabel("ms from the second compatible enqueue to the matched event")
    ax.set_ylabel("share of matches")
    ax.set_title("Matching latency per database backend and enqueue rate (cumulative)")
    ax.legend(fontsize="small")
    ax.grid(which="both", alpha=0.3)
    return [(save(fig, images, "matching-latency.png"), "Cumulative matching latency")]


def rooms(r: Results, images: Path) -> Images:
    out: Images = []
    raw = r.get("raw") or {}
    if raw.get("warm") or raw.get("cold"):
        fig, ax = plt.subplots(figsize=(8, 2.8))
        series = {f"{k} pool" if k == "warm" else f"{k} spawn": v for k, v in raw.items() if v}
        distribution(ax, series, "s from the match to both students editing the notebook")
        ax.axvline(1.0, color="red", linestyle="--", linewidth=1, label="goal: warm p95 1 s")
        ax.legend(fontsize="small", loc="lower right")
        ax.set_title("Room readiness, warm pool against cold spawn")
        out.append((save(fig, images, "rooms-readiness.png"), "Room readiness, warm vs cold"))
    per_room = r.get("memory_per_room_by_process_mib") or []
    if per_room:
        kinds = sorted({k for m in per_room for k in m})
        fig, ax = plt.subplots(figsize=(8, 3.2))
        bottom = [0.0] * len(per_room)
        xs = range(1, len(per_room) + 1)
        for kind in kinds:
            values = [m.get(kind, 0.0) for m in per_room]
            ax.bar(xs, values, bottom=bottom, label=kind)
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        ax.set_xticks(list(xs))
        ax.set_xlabel("room (pair server with one kernel started)")
        ax.set_ylabel("MiB unique memory (USS)")
        ax.set_title("Memory per idle room, by process")
        ax.legend(fontsize="small")
        out.append((save(fig, images, "rooms-memory.png"), "Memory per room by process"))
    return out


def load(r: Results, images: Path) -> Images:
    steps = [s for s in r.get("steps") or [] if "keys" in s]
    if not steps:
        return []
    fig, ax = plt.subplots(figsize=(8, 3.2))
    rooms = [s["rooms"] for s in steps]
    ax.plot(rooms, [s["p50_ms"] for s in steps], "o-", label="p50")
    ax.plot(rooms, [s["p99_ms"] for s in steps], "o-", label="p99")
    stock = r.get("stock") or {}
    if "p99_ms" in stock:
        ax.axhline(stock["p99_ms"], color="grey", linestyle=":", label="stock p99, one room")
    ax.axhline(25, color="red", linestyle="--", linewidth=1, label="goal: p99 25 ms")
    ax.set_xlabel("rooms open, two students typing in each")
    ax.set_ylabel("ms from keystroke to partner")
    ax.set_title("Edit propagation as rooms are added")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    return [(save(fig, images, "load-propagation.png"), "Edit propagation by rooms open")]


def complexity(r: Results, images: Path) -> Images:
    solutions = r.get("solutions") or {}
    if not solutions:
        return []
    fig, ax = plt.subplots(figsize=(8, 4))
    names = list(solutions)
    xs = range(len(names))
    width = 0.27
    series = [
        ("time class, counted steps checked by CPU time", "right"),
        ("time class, CPU time only (baseline)", "cpu_only_right"),
        ("space class", "space_right"),
    ]
    for i, (label, key) in enumerate(series):
        ax.bar(
            [x + (i - 1) * width for x in xs],
            [solutions[n][key] / max(1, solutions[n]["runs"]) for n in names],
            width,
            label=label,
            color=f"C{i}",
        )
    ax.set_xticks(list(xs), names)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("share of Submits classified right")
    ax.set_title("Grader complexity under load: each reference solution Submitted repeatedly")
    ax.legend(fontsize="x-small", loc="lower left")
    ax.grid(axis="y", alpha=0.3)
    return [(save(fig, images, "complexity-curves.png"), "Complexity classified right")]


PLOTS: dict[str, Callable[[Results, Path], Images]] = {
    "sandbox": sandbox,
    "matching": matching,
    "rooms": rooms,
    "complexity": complexity,
    "load": load,
}


def draw(name: str, results: Results, images: Path) -> Images:
    """The plots of one script's results (none for a script without a plot function)."""
    plot = PLOTS.get(name)
    return plot(results, images) if plot else []
