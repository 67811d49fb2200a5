"""Load benchmark: N rooms open at once, two students typing in each, against stock.

    .venv/bin/python benchmarks/load.py [--steps 2,5,10] [--rate 5] [--seconds 20]
                                        [--cpu-shares N --name load-shares-N]

One embedded hub (``LocalHub``, warm pool of 2). The rooms open in steps: at each step the
benchmark matches new pairs of students until ``N`` rooms are active, then every room's two
real Yjs clients (pycrdt, through the hub's proxy, as in ``rooms.py``) each type ``--rate``
keys per second into their own cell for ``--seconds``. Each keystroke is timed from the
typist's insert to the partner's document holding it (both clients in this process, one
clock). Per step it reports propagation p50/p99 over all keystrokes, lost keystrokes (not
arrived 5 s after typing stops), CPU and unique memory (USS) per room (the pair server's
process tree), the CPU of the hub, the proxy and the PeerPrep service, the load average, and
the first goal the step misses (the bottleneck).

Baseline, same run: a stock Jupyter server with jupyter-collaboration (no PeerPrep settings,
no proxy, token auth) serving the same notebook to two clients typing at the same rate.

``--cpu-shares`` runs the hub with ``PeerPrepSpawner.cpu_shares`` set (the pair servers' cgroup
CPU weight), to see whether that weight limits the rooms on a busy machine.

Goal (issue 21): 100 rooms x 2 students at 5 keys/s each, p99 <= 25 ms, 0 lost.
The load generator shares the machine's cores with what it measures.

Prints a table and writes ``benchmarks/results/load.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psutil
import requests

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from report import machine, pct, table, write_results  # noqa: E402
from rooms import demo_question, start_hub  # noqa: E402

from jupyter_peerprep.launch import LocalHub, default_hub_config  # noqa: E402
from jupyter_peerprep.pytest_plugin import find_free_port  # noqa: E402
from jupyter_peerprep.testing.faults import ServiceCaller  # noqa: E402
from jupyter_peerprep.testing.hubclient import HubUser  # noqa: E402
from jupyter_peerprep.testing.rooms import match_pair, wait_for_questions  # noqa: E402
from jupyter_peerprep.testing.ydoc import YClient  # noqa: E402

PROFILES = {
    "quick": ["--steps", "2,5,10", "--seconds", "15"],
    "full": ["--steps", "2,5,10,20,40,70,100", "--seconds", "30"],
}

P99_GOAL_MS = 25.0
CPU_LIMIT = 0.9  # share of all cores busy that counts as "CPU bound"
MEMORY_FLOOR = 0.1  # share of memory left that counts as "memory bound"


# -- typing and timing ---------------------------------------------------------------------


class Watch:
    """Times the keystrokes of one typist as seen in the partner's copy of the cell."""

    def __init__(self, watcher: YClient, cell: int) -> None:
        self.watcher = watcher
        self.cell = cell
        self.base = self.length()
        self.sent: list[float] = []
        self.latencies: list[float] = []
        self._loop = asyncio.get_running_loop()
        self._pending = False
        self._sub = watcher.doc.observe(self._changed)

    def length(self) -> int:
        return len(str(self.watcher.notebook.ycells[self.cell]["source"]))

    def _changed(self, _event: Any) -> None:
        # Read the cell after the transaction has closed, on the next turn of the loop.
        if not self._pending:
            self._pending = True
            self._loop.call_soon(self._count)

    def _count(self) -> None:
        self._pending = False
        now = time.perf_counter()
        arrived = min(self.length() - self.base, len(self.sent))
        while len(self.latencies) < arrived:
            self.latencies.append(now - self.sent[len(self.latencies)])

    def close(self) -> None:
        self.watcher.doc.unobserve(self._sub)


async def type_keys(typist: YClient, cell: int, watch: Watch, rate: float, seconds: float) -> None:
    interval = 1.0 / rate
    start = time.perf_counter()
    await asyncio.sleep(interval * (uuid.uuid4().int % 1000) / 1000)  # spread the typists
    while time.perf_counter() - start < seconds:
        watch.sent.append(time.perf_counter())
        typist.append_to_cell(cell, "x")
        await asyncio.sleep(interval)


async def type_in_rooms(
    rooms: list[tuple[str, str, str]], rate: float, seconds: float
) -> dict[str, Any]:
    """Two clients per room ``(server url, token a, token b)`` type into cells 0 and 1."""
    async with contextlib.AsyncExitStack() as stack:
        pairs = []
        for url, token_a, token_b in rooms:
            ya = await stack.enter_async_context(YClient.connect(url, "question.ipynb", token_a))
            yb = await stack.enter_async_context(YClient.connect(url, "question.ipynb", token_b))
            pairs.append((ya, yb))
        watches = []
        tasks = []
        for ya, yb in pairs:
            a_seen_by_b, b_seen_by_a = Watch(yb, 0), Watch(ya, 1)
            watches += [a_seen_by_b, b_seen_by_a]
            tasks += [
                type_keys(ya, 0, a_seen_by_b, rate, seconds),
                type_keys(yb, 1, b_seen_by_a, rate, seconds),
            ]
        await asyncio.gather(*tasks)
        for _ in range(100):  # up to 5 s for the last keystrokes; what has not come is lost
            if all(len(w.latencies) >= len(w.sent) for w in watches):
                break
            await asyncio.sleep(0.05)
        for w in watches:
            w.close()
        latencies = [x for w in watches for x in w.latencies]
        sent = sum(len(w.sent) for w in watches)
        per_room = [
            1000 * pct(watches[i].latencies + watches[i + 1].latencies, 0.99)
            for i in range(0, len(watches), 2)
        ]
    return {
        "keys": sent,
        "lost": sent - len(latencies),
        "p50_ms": 1000 * statistics.median(latencies) if latencies else float("nan"),
        "p99_ms": 1000 * pct(latencies, 0.99),
        "worst_room_p99_ms": max(per_room) if per_room else float("nan"),
    }


# -- processes -----------------------------------------------------------------------------


def classify(hub: LocalHub) -> dict[str, list[psutil.Process]]:
    """The hub's processes by role: hub, proxy, service, and each pair server's tree."""
    roles: dict[str, list[psutil.Process]] = {"hub": [], "proxy": [], "service": []}
    assert hub.process is not None
    root = psutil.Process(hub.process.pid)
    roles["hub"].append(root)
    for proc in root.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            cmd = " ".join(proc.cmdline())
            if "configurable-http-proxy" in cmd:
                roles["proxy"].append(proc)
            elif "jupyter_peerprep.hub" in cmd or "peerprep-service" in cmd:
                roles["service"].append(proc)
            elif (
                proc.name() == "bwrap"
                and "/homes/pair-" in cmd
                and proc.parent().name() != "bwrap"  # bwrap forks itself: count a tree once
            ):
                roles[f"room:{proc.pid}"] = [proc, *proc.children(recursive=True)]
    return roles


def cpu_seconds(procs: list[psutil.Process]) -> float:
    total = 0.0
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            t = proc.cpu_times()
            total += t.user + t.system
    return total


def uss_mib(procs: list[psutil.Process]) -> float:
    total = 0.0
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            total += proc.memory_full_info().uss / 2**20
    return total


def measure_step(hub: LocalHub, rooms: list[tuple[str, str, str]], args: Any) -> dict[str, Any]:
    roles = classify(hub)
    before = {role: cpu_seconds(procs) for role, procs in roles.items()}
    machine_before = psutil.cpu_times()
    started = time.perf_counter()
    typed = asyncio.run(type_in_rooms(rooms, args.rate, args.seconds))
    wall = time.perf_counter() - started
    machine_after = psutil.cpu_times()
    share = {role: (cpu_seconds(procs) - before[role]) / wall for role, procs in roles.items()}
    room_roles = [r for r in roles if r.startswith("room:")]
    busy = sum(machine_after) - machine_after.idle - (sum(machine_before) - machine_before.idle)
    idle = machine_after.idle - machine_before.idle
    memory = psutil.virtual_memory()
    room_uss = [uss_mib(roles[r]) for r in room_roles]
    step = {
        "rooms": len(rooms),
        **typed,
        "room_cpu_percent": 100 * statistics.mean(share[r] for r in room_roles)
        if room_roles
        else float("nan"),
        "room_uss_mib": statistics.median(room_uss) if room_uss else float("nan"),
        "hub_cpu_percent": 100 * share["hub"],
        "proxy_cpu_percent": 100 * share["proxy"],
        "service_cpu_percent": 100 * share["service"],
        "machine_busy": busy / (busy + idle) if busy + idle else float("nan"),
        "memory_available_share": memory.available / memory.total,
        "loadavg": os.getloadavg()[0],
    }
    step["bottleneck"] = bottleneck(step)
    return step


def bottleneck(step: dict[str, Any]) -> str:
    """The first goal the step misses, or "" if it meets all of them."""
    if step["lost"]:
        return f"{step['lost']} keystrokes lost"
    if step["p99_ms"] > P99_GOAL_MS:
        return f"p99 over {P99_GOAL_MS:.0f} ms"
    if step["machine_busy"] >= CPU_LIMIT:
        return f"CPU ({100 * step['machine_busy']:.0f} % of all cores busy)"
    if step["memory_available_share"] < MEMORY_FLOOR:
        return "memory"
    return ""


# -- rooms on the hub ----------------------------------------------------------------------


def student(hub: LocalHub, prefix: str) -> ServiceCaller:
    user = HubUser(hub.url, f"{prefix}{uuid.uuid4().hex[:6]}")
    user.signup()
    user.login()
    user.token()
    return ServiceCaller(user)


def open_room(hub: LocalHub) -> tuple[str, str, str]:
    a, b = student(hub, "ann"), student(hub, "ben")
    room = match_pair(a, b, room_timeout=600)
    return f"{hub.url}/user/{room['pair_user']}", a.user.token(), b.user.token()


def start_hub_with(workdir: Path, cpu_shares: int | None) -> LocalHub:
    """The rooms benchmark's hub (warm pool of 2); with ``cpu_shares``, the pair servers'
    cgroup CPU weight set to it (``PeerPrepSpawner.cpu_shares``)."""
    if cpu_shares is None:
        return start_hub(workdir, pool=2)
    bank = workdir / "bank"
    bank.mkdir(parents=True)
    demo_question(bank)
    service_config = workdir / "peerprep_config.py"
    service_config.write_text(
        f"c.QuestionBank.bank_dirs = [{str(bank)!r}]\n"
        "c.RoomManager.warm_pool_size = 2\n"
        "c.RoomManager.idle_timeout = 0\n"
        "c.Matchmaker.rematch_cooldown = 0\n"
    )
    hub_config = workdir / "jupyterhub_config.py"
    hub_config.write_text(
        f"load_subconfig({str(default_hub_config())!r})\n"
        f"c.PeerPrepSpawner.cpu_shares = {cpu_shares}\n"
    )
    hub = LocalHub(
        workdir / "state",
        port=find_free_port(),
        hub_port=find_free_port(),
        proxy_api_port=find_free_port(),
        service_port=find_free_port(),
        config_file=hub_config,
        extra_env={"PEERPREP_SERVICE_CONFIG": str(service_config)},
    )
    hub.start()
    return hub


# -- the stock baseline --------------------------------------------------------------------


def stock_baseline(args: Any) -> dict[str, Any]:
    """A stock Jupyter server with jupyter-collaboration, one notebook, two typists."""
    with tempfile.TemporaryDirectory(prefix="peerprep-load-stock-") as tmp:
        work = Path(tmp)
        demo_question(work)
        (work / "pair-sum-demo.ipynb").rename(work / "question.ipynb")
        port, token = find_free_port(), uuid.uuid4().hex
        env = {**os.environ, "JUPYTER_CONFIG_DIR": str(work / "config")}
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyter_server",
                f"--port={port}",
                f"--IdentityProvider.token={token}",
                f"--ServerApp.root_dir={work}",
                "--ServerApp.jpserver_extensions=jupyter_peerprep=False",
                "--allow-root",
                "--no-browser",
            ],
            cwd=work,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                with contextlib.suppress(requests.RequestException):
                    if requests.get(f"{url}/api/status?token={token}", timeout=2).ok:
                        break
                time.sleep(0.2)
            proc = psutil.Process(server.pid)
            cpu0 = cpu_seconds([proc])
            started = time.perf_counter()
            typed = asyncio.run(type_in_rooms([(url, token, token)], args.rate, args.seconds))
            typed["server_cpu_percent"] = (
                100 * (cpu_seconds([proc]) - cpu0) / (time.perf_counter() - started)
            )
            typed["server_uss_mib"] = uss_mib([proc])
            typed["loadavg"] = os.getloadavg()[0]
            return typed
        finally:
            server.terminate()
            server.wait(20)


# -- main ----------------------------------------------------------------------------------


def print_table(steps: list[dict[str, Any]], stock: dict[str, Any]) -> None:
    rows = [
        [
            "rooms",
            "keys",
            "p50 ms",
            "p99 ms",
            "lost",
            "room CPU %",
            "room USS MiB",
            "hub %",
            "proxy %",
            "service %",
            "load",
            "bottleneck",
        ]
    ]
    for s in steps:
        rows.append(
            [
                str(s["rooms"]),
                str(s["keys"]),
                f"{s['p50_ms']:.1f}",
                f"{s['p99_ms']:.1f}",
                str(s["lost"]),
                f"{s['room_cpu_percent']:.1f}",
                f"{s['room_uss_mib']:.0f}",
                f"{s['hub_cpu_percent']:.1f}",
                f"{s['proxy_cpu_percent']:.1f}",
                f"{s['service_cpu_percent']:.1f}",
                f"{s['loadavg']:.1f}",
                s["bottleneck"] or "-",
            ]
        )
    rows.append(
        [
            "stock 1",
            str(stock["keys"]),
            f"{stock['p50_ms']:.1f}",
            f"{stock['p99_ms']:.1f}",
            str(stock["lost"]),
            f"{stock['server_cpu_percent']:.1f}",
            f"{stock['server_uss_mib']:.0f}",
            "",
            "",
            "",
            f"{stock['loadavg']:.1f}",
            "(baseline)",
        ]
    )
    print(table(rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", default="2,5,10", help="rooms open at each step")
    parser.add_argument("--rate", type=float, default=5.0, help="keys per second per student")
    parser.add_argument("--seconds", type=float, default=15.0, help="typing time per step")
    parser.add_argument(
        "--cpu-shares", type=int, default=None, help="pair servers' cgroup CPU weight to try"
    )
    parser.add_argument("--name", default="load", help="results file name (benchmarks/results)")
    args = parser.parse_args()
    steps = sorted({int(n) for n in args.steps.split(",") if n})
    stock = stock_baseline(args)
    print(f"stock jupyter-collaboration, one room: {stock}", flush=True)
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="peerprep-load-") as tmp:
        hub = start_hub_with(Path(tmp), args.cpu_shares)
        try:
            admin = student(hub, "admin")
            wait_for_questions(admin)  # type: ignore[arg-type]
            rooms: list[tuple[str, str, str]] = []
            for n in steps:
                try:
                    while len(rooms) < n:
                        rooms.append(open_room(hub))
                        print(f"  room {len(rooms)} active", flush=True)
                except Exception as exc:  # a room that will not open ends the run
                    said = re.search(r"'message': '([^']*)'", str(exc))
                    why = said.group(1) if said else str(exc)[:200]
                    results.append(
                        {"rooms": n, "bottleneck": f"room {len(rooms) + 1} did not start: {why}"}
                    )
                    print(f"step {n}: {results[-1]['bottleneck']}", flush=True)
                    break
                results.append(measure_step(hub, rooms, args))
                print(f"step {n}: {results[-1]}", flush=True)
        finally:
            hub.stop()
    measured = [s for s in results if "keys" in s]
    print()
    print_table(measured, stock)
    first = next((s for s in results if s.get("bottleneck")), None)
    print(
        f"first bottleneck: {first['bottleneck']} at {first['rooms']} rooms"
        if first
        else "no bottleneck hit at these steps"
    )
    out = {
        "machine": machine(),
        "rate_keys_per_s": args.rate,
        "seconds": args.seconds,
        "cpu_shares": args.cpu_shares,
        "steps": results,
        "stock": stock,
        "first_bottleneck": first,
    }
    print(f"wrote {write_results(args.name, out)}")


if __name__ == "__main__":
    main()
