"""Session record benchmark: what recording costs a room, and what a long record costs history.

    .venv/bin/python benchmarks/record.py [--keys 300] [--minutes 45]

1. **Recording overhead.** A real Jupyter server with jupyter-collaboration and the PeerPrep
   server extension, run twice in this run: recording off, then on (batches POSTed every 2 s
   to a fake service: a local HTTP sink standing in for the PeerPrep service, which needs a
   hub). Two pycrdt clients open the notebook over websockets; one types ``keys`` keys one at
   a time, and the time until the other sees each key is the edit propagation latency.
   Reported: p50/p99 per mode and the on/off ratio of the p99 (goal: at most 1.1).
2. **Replay load.** A synthetic ``minutes``-long session of two students (bursts of typing,
   pauses, concurrent edits) is encoded as stored; the service's record summary (decode,
   replay, attribution, metrics, replay steps) is timed, which is what history waits for
   (goal: under 1 s for 45 minutes).
3. **Bytes stored per minute** of that session.

Prints a table and writes ``benchmarks/results/record.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import pycrdt  # noqa: E402
from jupyter_ydoc import YNotebook  # noqa: E402
from report import machine, pct, table, write_results  # noqa: E402

from jupyter_peerprep.record import codec  # noqa: E402
from jupyter_peerprep.record.codec import Entry  # noqa: E402
from jupyter_peerprep.record.summary import RunFact, summarize  # noqa: E402
from jupyter_peerprep.testing.ydoc import YClient  # noqa: E402

PROFILES = {"quick": ["--keys", "200"], "full": ["--keys", "600"]}
TOKEN = "record-benchmark"
NOTEBOOK = {
    "cells": [
        {
            "cell_type": "code",
            "source": "def solve(xs):\n    pass\n",
            "metadata": {},
            "outputs": [],
            "execution_count": None,
            "id": "c1",
        }
    ],
    "metadata": {},
    "nbformat": 4,
    "nbformat_minor": 5,
}


class FakeService(BaseHTTPRequestHandler):
    """A fake PeerPrep service: takes record batches, counts their bytes."""

    received = 0

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        FakeService.received += len(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: Any) -> None:
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(root: Path, record: bool, sink: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    (root / "question.ipynb").write_text(json.dumps(NOTEBOOK))
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter_server",
            f"--port={port}",
            "--ip=127.0.0.1",
            f"--ServerApp.token={TOKEN}",
            f"--ServerApp.root_dir={root}",
            "--ServerApp.open_browser=False",
            "--ServerApp.allow_root=True",
            f"--PeerPrepExtension.record={record}",
            f"--PeerPrepExtension.service_url=http://127.0.0.1:{sink}/services/peerprep/",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(root / "server.log").open("wb"),
        env={**os.environ, "JUPYTER_CONFIG_DIR": str(root / ".config")},
        cwd=root,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process, url
        except OSError:
            time.sleep(0.3)
    process.kill()
    log = (root / "server.log").read_text()[-2000:]
    raise SystemExit(f"the Jupyter server did not start:\n{log}")


async def propagation(url: str, keys: int) -> list[float]:
    latencies = []
    async with (
        YClient.connect(url, "question.ipynb", TOKEN) as a,
        YClient.connect(url, "question.ipynb", TOKEN) as b,
    ):
        for n in range(keys):
            want = len(b.cell_sources()[0]) + 1
            start = time.perf_counter()
            a.append_to_cell(0, chr(ord("a") + n % 26))
            await b.wait_for(lambda c, w=want: len(c.cell_sources()[0]) >= w, timeout=30)
            latencies.append(time.perf_counter() - start)
            await asyncio.sleep(0.02)
    return latencies


def synthetic_session(minutes: int) -> tuple[list[Entry], list[RunFact], int, int]:
    """Two students typing in bursts for ``minutes``: ~1.5 keys/s while typing, pauses."""
    server = pycrdt.Doc()
    YNotebook(server).set(NOTEBOOK)
    start = 1_700_000_000_000
    entries = [Entry(start, "", "json:notebook:bench", server.get_update())]
    docs = {}
    for name in ("ann", "ben"):
        doc: pycrdt.Doc[Any] = pycrdt.Doc()
        doc.apply_update(server.get_update())
        docs[name] = doc
    t, n, runs = start, 0, []
    end = start + minutes * 60_000
    while t < end:
        t += 700 if n % 40 else 20_000  # a pause every 40 keys
        user = "ann" if (n // 80) % 2 == 0 else "ben"
        doc = docs[user]
        before = doc.get_state()
        source = YNotebook(doc).ycells[0]["source"]
        if n % 15 == 14:
            del source[len(source) - 1]  # a correction
        else:
            source.insert(len(source), "x\n" if n % 30 == 29 else "x")
        update = doc.get_update(before)
        for other in docs.values():
            if other is not doc:
                other.apply_update(update)
        entries.append(Entry(t, user, "json:notebook:bench", update))
        if n % 300 == 299:
            runs.append(RunFact(t + 1, user, "run", 1, 3, str(source)))
        n += 1
    return entries, runs, start, end


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=300)
    parser.add_argument("--minutes", type=int, default=45)
    args = parser.parse_args()
    results: dict[str, Any] = {"machine": machine(), "args": vars(args), "cases": {}}

    sink = ThreadingHTTPServer(("127.0.0.1", 0), FakeService)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    p99 = {}
    for mode in (False, True):
        with tempfile.TemporaryDirectory() as tmp:
            process, url = start_server(Path(tmp), mode, sink.server_address[1])
            try:
                latencies = asyncio.run(propagation(url, args.keys))
            finally:
                process.terminate()
                process.wait(30)
        name = f"edit propagation, recording {'on' if mode else 'off'}"
        p99[mode] = pct(latencies, 0.99) * 1000
        results["cases"][name] = {
            "n": len(latencies),
            "p50_ms": round(pct(latencies, 0.5) * 1000, 2),
            "p99_ms": round(p99[mode], 2),
        }
    sink.shutdown()
    ratio = p99[True] / p99[False] if p99[False] else float("nan")
    results["p99_ratio_on_off"] = round(ratio, 3)
    results["fake_service_bytes_received"] = FakeService.received

    entries, runs, start, end = synthetic_session(args.minutes)
    stored = codec.encode(entries)
    times = []
    for _ in range(3):
        began = time.perf_counter()
        summary = summarize(
            codec.decode(stored), runs, start_ms=start, end_ms=end, members=["ann", "ben"]
        )
        times.append(time.perf_counter() - began)
    results["replay"] = {
        "minutes": args.minutes,
        "updates": len(entries),
        "load_ms_p50": round(pct(times, 0.5) * 1000, 1),
        "summary_json_bytes": len(json.dumps(summary)),
        "stored_bytes": len(stored),
        "stored_bytes_per_minute": round(len(stored) / args.minutes),
    }

    rows = [["case", "n", "p50 ms", "p99 ms"]]
    rows += [
        [k, str(v["n"]), str(v["p50_ms"]), str(v["p99_ms"])] for k, v in results["cases"].items()
    ]
    print(table(rows))
    print(f"p99 ratio recording on/off: {results['p99_ratio_on_off']} (goal <= 1.1)")
    r = results["replay"]
    print(
        table(
            [
                ["synthetic session", "updates", "history load ms", "stored B", "B/min"],
                [
                    f"{r['minutes']} min",
                    str(r["updates"]),
                    str(r["load_ms_p50"]),
                    str(r["stored_bytes"]),
                    str(r["stored_bytes_per_minute"]),
                ],
            ]
        )
    )
    print(f"wrote {write_results('record', results)}")


if __name__ == "__main__":
    main()
