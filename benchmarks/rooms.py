"""Rooms benchmark: from a match to two students editing the same notebook, warm vs cold.

    .venv/bin/python benchmarks/rooms.py [--matches 20]

Two real hubs in one run, on this machine, so the ratio compares like with like:

- ``warm``: ``RoomManager.warm_pool_size = 2``; before each match the benchmark waits until
  the pool is full again (the pool's job is to be full when a match comes);
- ``cold``: ``warm_pool_size = 0``: every room spawns its pair server after the match.

For each match: two students (logged in, own servers running) enqueue compatible tickets; the
clock starts when the second enqueue is answered and stops when both students' Yjs clients
hold the synced question notebook of the room. Goal: warm p95 <= 1 s and <= 0.25 x cold p50.

Revocation (issue 12): for the first ``--revocations`` rooms of the warm hub, the former
partner keeps asking the pair server (an HTTP request and a websocket opening, each in a loop,
with a token whose answer the server has cached) while the other student presses End; the
time from the End request to the first refused HTTP request and the first refused websocket
is the revocation time. Goal: max <= 1 s.

Memory per idle room: unique memory (USS) of a pair server's whole process tree (bubblewrap,
JupyterLab server, and a started kernel), measured on every active room of the warm hub, by
process.

Prints a table and writes ``benchmarks/results/rooms.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import psutil
import requests
import websockets

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from report import machine, pct, write_results  # noqa: E402

from jupyter_peerprep.launch import LocalHub  # noqa: E402
from jupyter_peerprep.pytest_plugin import find_free_port  # noqa: E402
from jupyter_peerprep.testing.hubclient import HubUser  # noqa: E402
from jupyter_peerprep.testing.ydoc import YClient  # noqa: E402

# Arguments run_all.py passes for each profile (the convention that makes this a benchmark).
PROFILES = {"quick": ["--matches", "10"], "full": ["--matches", "20"]}


def demo_question(bank: Path) -> None:
    import importlib.util

    path = ROOT / "tests" / "questions" / "question_notebooks.py"
    spec = importlib.util.spec_from_file_location("question_notebooks", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    (bank / "pair-sum-demo.ipynb").write_text(json.dumps(module.build_notebook()))


def start_hub(workdir: Path, pool: int) -> LocalHub:
    bank = workdir / "bank"
    bank.mkdir(parents=True)
    demo_question(bank)
    config = workdir / "peerprep_config.py"
    config.write_text(
        f"c.QuestionBank.bank_dirs = [{str(bank)!r}]\n"
        f"c.RoomManager.warm_pool_size = {pool}\n"
        "c.RoomManager.idle_timeout = 0\n"
        "c.Matchmaker.rematch_cooldown = 0\n"
    )
    hub = LocalHub(
        workdir / "state",
        port=find_free_port(),
        hub_port=find_free_port(),
        proxy_api_port=find_free_port(),
        service_port=find_free_port(),
        extra_env={"PEERPREP_SERVICE_CONFIG": str(config)},
    )
    hub.start()
    return hub


def wait(predicate: Any, timeout: float, what: str, interval: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(what)


def pool_ready(hub: LocalHub) -> int:
    with sqlite3.connect(Path(hub.state_dir) / "peerprep.sqlite") as conn:
        return int(
            conn.execute("SELECT count(*) FROM pair_servers WHERE state = 'ready'").fetchone()[0]
        )


def students(hub: LocalHub) -> tuple[HubUser, HubUser]:
    users = []
    for prefix in ("ann", "ben"):
        user = HubUser(hub.url, f"{prefix}{uuid.uuid4().hex[:6]}")
        user.signup()
        user.login()
        user.start_server()
        user.token()
        users.append(user)
    admin = HubUser(hub.url, "admin")
    admin.signup()
    admin.login()
    admin.start_server()
    wait(lambda: admin.peerprep("GET", "questions").json().get("questions"), 120, "bank")
    return users[0], users[1]


async def both_synced(server_url: str, a: HubUser, b: HubUser) -> None:
    async with (
        YClient.connect(server_url, "question.ipynb", a.token()) as ya,
        YClient.connect(server_url, "question.ipynb", b.token()) as yb,
    ):
        assert ya.cell_sources() == yb.cell_sources() and ya.cell_sources()


def one_match(hub: LocalHub, a: HubUser, b: HubUser) -> tuple[float, dict[str, Any]]:
    body = {"difficulty": "easy", "topics": ["arrays"], "language": "python"}
    first = a.peerprep("POST", "match", json={**body, "idempotency_key": uuid.uuid4().hex})
    assert first.status_code == 201, first.text
    second = b.peerprep("POST", "match", json={**body, "idempotency_key": uuid.uuid4().hex})
    assert second.status_code == 201, second.text
    started = time.perf_counter()
    ticket_id = second.json()["id"]
    ticket = wait(
        lambda: (t := b.peerprep("GET", f"match/{ticket_id}").json())["state"] == "matched" and t,
        30,
        "match",
    )
    room_id = ticket["room"]["id"]
    room = wait(
        lambda: (r := b.peerprep("GET", f"rooms/{room_id}").json())["state"] == "active" and r,
        180,
        "room active",
    )
    asyncio.run(both_synced(f"{hub.url}/user/{room['pair_user']}", a, b))
    return time.perf_counter() - started, room


def end(a: HubUser, room: dict[str, Any]) -> None:
    a.peerprep("POST", f"rooms/{room['id']}/end")
    wait(
        lambda: a.peerprep("GET", f"rooms/{room['id']}").json()["state"] == "ended",
        120,
        "room ended",
        interval=0.2,
    )


def revocation(hub: LocalHub, a: HubUser, b: HubUser, room: dict[str, Any]) -> dict[str, float]:
    """End the room as ``a`` while ``b`` keeps knocking; seconds from End to b's first refusal
    over HTTP and over a websocket. Leaves the room ended."""
    server = f"{hub.url}/user/{room['pair_user']}"
    headers = {"Authorization": f"token {b.token()}"}
    url = f"{server}/api/contents/question.ipynb?content=0"
    ws_url = server.replace("http://", "ws://", 1) + "/api/events/subscribe"
    assert requests.get(url, headers=headers, timeout=10).status_code == 200
    refused: dict[str, float] = {}
    knocking = threading.Event()

    def http() -> None:
        session = requests.Session()
        while "http" not in refused:
            try:
                code = session.get(url, headers=headers, allow_redirects=False, timeout=10)
            except requests.RequestException:
                refused["http"] = time.perf_counter()  # the server is gone: refused too
                break
            knocking.set()
            if code.status_code != 200:
                refused["http"] = time.perf_counter()

    async def ws_loop() -> None:
        while "ws" not in refused:
            try:
                async with websockets.connect(ws_url, additional_headers=headers):
                    pass
            except (websockets.InvalidStatus, websockets.InvalidHandshake, OSError):
                refused["ws"] = time.perf_counter()
            await asyncio.sleep(0.005)

    threads = [
        threading.Thread(target=http, daemon=True),
        threading.Thread(target=lambda: asyncio.run(ws_loop()), daemon=True),
    ]
    for t in threads:
        t.start()
    knocking.wait(10)
    time.sleep(0.3)
    began = time.perf_counter()
    answer = a.peerprep("POST", f"rooms/{room['id']}/end")
    assert answer.status_code == 200, answer.text
    for t in threads:
        t.join(60)
    end(a, room)
    return {kind: at - began for kind, at in refused.items()}


def process_kind(proc: psutil.Process) -> str:
    """What a process of a pair server's tree is, for the memory breakdown."""
    with contextlib.suppress(psutil.Error):
        cmdline = " ".join(proc.cmdline())
        if "ipykernel" in cmdline:
            return "kernel"
        if proc.name() == "bwrap":
            return "bubblewrap"
        if "jupyter" in cmdline:
            return "Jupyter server"
        return proc.name()
    return "gone"


def room_memory(room: dict[str, Any], a: HubUser, hub: LocalHub) -> dict[str, float]:
    """USS (MiB) of the pair server's process tree with one kernel started, by process kind."""
    headers = {"Authorization": f"token {a.token()}"}
    server = f"{hub.url}/user/{room['pair_user']}"
    kernel = a.session.post(f"{server}/api/kernels", json={}, headers=headers).json()
    time.sleep(3)
    roots = [
        p
        for p in psutil.process_iter(["cmdline"])
        if "bwrap" in " ".join(p.info["cmdline"] or [])
        and f"homes/{room['pair_user']}" in " ".join(p.info["cmdline"] or [])
    ]
    by_kind: dict[str, float] = {}
    for root in roots:
        for proc in [root, *root.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                kind = process_kind(proc)
                by_kind[kind] = by_kind.get(kind, 0.0) + proc.memory_full_info().uss / 2**20
    a.session.delete(f"{server}/api/kernels/{kernel['id']}", headers=headers)
    return by_kind


def measure(pool: int, matches: int, revocations: int = 0) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"peerprep-rooms-{pool}-") as tmp:
        hub = start_hub(Path(tmp), pool)
        try:
            a, b = students(hub)
            times: list[float] = []
            revoked: list[dict[str, float]] = []
            memory: list[dict[str, float]] = []
            for i in range(max(matches, revocations)):
                if pool:
                    wait(lambda: pool_ready(hub) >= pool, 180, "pool refill", interval=0.1)
                seconds, room = one_match(hub, a, b)
                times.append(seconds)
                if pool:
                    memory.append(room_memory(room, a, hub))
                if i < revocations:
                    revoked.append(revocation(hub, a, b, room))
                    print(f"  revocation {i + 1}: {revoked[-1]}", flush=True)
                else:
                    end(a, room)
                print(f"  {'warm' if pool else 'cold'} match {i + 1}: {seconds:.3f}s", flush=True)
            return {"pool": pool, "times": times, "memory_mib": memory, "revocations": revoked}
        finally:
            hub.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--matches", type=int, default=20)
    parser.add_argument("--revocations", type=int, default=10)
    parser.add_argument("--only-revocation", action="store_true", help="skip the cold hub")
    args = parser.parse_args()
    warm = measure(2, 0 if args.only_revocation else args.matches, args.revocations)
    revocation_rows = []
    for kind in ("http", "ws"):
        seconds = [r[kind] for r in warm["revocations"] if kind in r]
        if seconds:
            revocation_rows.append(
                {
                    "refused": kind,
                    "rooms": len(seconds),
                    "p50_s": statistics.median(seconds),
                    "p95_s": pct(seconds, 0.95),
                    "max_s": max(seconds),
                }
            )
    print(f"\n{'revocation':<12} {'rooms':>7} {'p50 s':>8} {'p95 s':>8} {'max s':>8}")
    for r in revocation_rows:
        print(
            f"{r['refused']:<12} {r['rooms']:>7} {r['p50_s']:>8.3f} {r['p95_s']:>8.3f} "
            f"{r['max_s']:>8.3f}"
        )
    print("(from the End request to the former partner's first refused request; goal <= 1 s)")
    if args.only_revocation:
        out = {"machine": machine(), "revocation": revocation_rows, "raw": warm["revocations"]}
        print(f"wrote {write_results('revocation', out)}")
        return
    cold = measure(0, args.matches)
    rows = []
    for name, data in (("warm pool", warm), ("cold spawn", cold)):
        rows.append(
            {
                "mode": name,
                "matches": len(data["times"]),
                "p50_s": statistics.median(data["times"]),
                "p95_s": pct(data["times"], 0.95),
                "max_s": max(data["times"]),
            }
        )
    ratio = rows[0]["p95_s"] / rows[1]["p50_s"]
    print(f"\n{'mode':<12} {'matches':>7} {'p50 s':>8} {'p95 s':>8} {'max s':>8}")
    for r in rows:
        print(
            f"{r['mode']:<12} {r['matches']:>7} {r['p50_s']:>8.3f} {r['p95_s']:>8.3f} "
            f"{r['max_s']:>8.3f}"
        )
    print(f"\nwarm p95 / cold p50 = {ratio:.3f}  (goal <= 0.25; warm p95 goal <= 1 s)")
    per_room = [sum(m.values()) for m in warm["memory_mib"]]
    memory = statistics.median(per_room) if per_room else float("nan")
    print(f"memory per idle room (USS, median of {len(per_room)} rooms): {memory:.0f} MiB")
    out = {
        "machine": machine(),
        "rows": rows,
        "warm_p95_over_cold_p50": ratio,
        "memory_per_idle_room_mib": memory,
        "memory_per_room_by_process_mib": warm["memory_mib"],
        "revocation": revocation_rows,
        "raw": {
            "warm": warm["times"],
            "cold": cold["times"],
            "revocation": warm["revocations"],
        },
    }
    print(f"wrote {write_results('rooms', out)}")


if __name__ == "__main__":
    main()
