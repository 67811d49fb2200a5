"""Where a pair server's memory goes: unique memory (USS) layer by layer.

    .venv/bin/python benchmarks/room_memory.py [--repeats 2]

Starts a Jupyter server the way a room runs it (same Python environment, same collaboration
settings, the room's kernel spec and server options from ``room_env.py``), outside the hub and
the sandbox, once per configuration, and measures its USS after it served a JupyterLab page
and two Yjs clients opened the question notebook:

- ``python``: the bare interpreter (``python -c`` sleeping), the floor;
- ``server``: jupyter_server with no extension at all;
- each server extension enabled in this environment added one at a time, in the order a room
  loads them, ending with today's room (every extension the environment enables);
- ``room``: the room as ``pair_server_args`` configures it now (extensions a room does not use
  switched off);
- ``kernel``: the USS of the room's kernel once started, separately.

USS is what the process alone holds: what a new room costs the machine. Prints a table and
writes ``benchmarks/results/room_memory.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
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

from report import machine, table, write_results  # noqa: E402
from rooms import demo_question  # noqa: E402

from jupyter_peerprep.pytest_plugin import find_free_port  # noqa: E402
from jupyter_peerprep.room_env import pair_server_args  # noqa: E402
from jupyter_peerprep.spawner import room_kernel_args  # noqa: E402
from jupyter_peerprep.testing.ydoc import YClient  # noqa: E402

PROFILES = {"quick": ["--repeats", "1"], "full": ["--repeats", "3"]}

# The order a room's extensions are added in the breakdown: what a room needs first.
NEEDED_FIRST = [
    "jupyterlab",
    "jupyter_server_fileid",
    "jupyter_server_ydoc",
    "jupyter_collaboration",
    "jupyter_peerprep",
    "jupyter_server_terminals",
    "jupyterlab_chat",
]


def enabled_extensions() -> list[str]:
    """Server extensions this environment enables (as a room finds them), needed ones first."""
    from jupyter_core.paths import jupyter_config_path
    from jupyter_server.extension.config import ExtensionConfigManager

    found = ExtensionConfigManager(read_config_path=jupyter_config_path())
    names = [n for n, on in found.get_jpserver_extensions().items() if on]
    return sorted(names, key=lambda n: (NEEDED_FIRST.index(n) if n in NEEDED_FIRST else 99, n))


def uss_mib(pid: int) -> float:
    return float(psutil.Process(pid).memory_full_info().uss / 2**20)


def server_uss(
    work: Path, on: list[str], every: list[str], extra: list[str], kernel: bool
) -> dict[str, float]:
    """USS (MiB) of a server with extensions ``on`` (the rest of ``every`` off), after use."""
    port, token = find_free_port(), uuid.uuid4().hex
    home = work / f"home-{uuid.uuid4().hex[:6]}"
    home.mkdir()
    switches = [f"--ServerApp.jpserver_extensions={n}={n in on}" for n in every]
    command = [
        sys.executable,
        "-m",
        "jupyter_server",
        f"--port={port}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={work}",
        "--allow-root",
        "--no-browser",
        f"--SQLiteYStore.db_path={home / '.jupyter_ystore.db'}",
        "--YDocExtension.document_save_delay=0.5",
        *room_kernel_args(),
        # The room's runtime directory exists inside the sandbox only: the notebook secret goes
        # to the home here.
        *[a for a in pair_server_args(str(home)) if "secret_file" not in a],
        f"--NotebookNotary.secret_file={home / 'notebook_secret'}",
        *switches,
        *extra,
    ]
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(home / "runtime")}
    server = subprocess.Popen(
        command, cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"token {token}"}
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and server.poll() is None:
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{url}/api/status", headers=auth, timeout=2).ok:
                    break
            time.sleep(0.2)
        else:
            raise RuntimeError(f"server did not start: {' '.join(command)}")
        requests.get(f"{url}/lab", headers=auth, timeout=30)
        if "jupyter_server_ydoc" in on or "jupyter_collaboration" in on:
            asyncio.run(open_notebook(url, token))
        out = {"server": uss_mib(server.pid)}
        if kernel:
            started = requests.post(f"{url}/api/kernels", json={}, headers=auth, timeout=60)
            started.raise_for_status()
            time.sleep(3)
            children = psutil.Process(server.pid).children(recursive=True)
            out["kernel"] = sum(uss_mib(c.pid) for c in children)
        return out
    finally:
        server.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(20)
        if server.poll() is None:
            server.kill()


async def open_notebook(url: str, token: str) -> None:
    async with (
        YClient.connect(url, "question.ipynb", token),
        YClient.connect(url, "question.ipynb", token),
    ):
        await asyncio.sleep(1)


def python_floor() -> float:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        time.sleep(1)
        return uss_mib(proc.pid)
    finally:
        proc.kill()
        proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    every = enabled_extensions()
    # What pair_server_args switches off now (the lean room), read from its arguments.
    room_off = {
        a.split("=")[1]
        for a in pair_server_args("/tmp")
        if a.startswith("--ServerApp.jpserver_extensions=") and a.endswith("=False")
    }
    layers: list[tuple[str, list[str]]] = [("server (no extension)", [])]
    for i, name in enumerate(every):
        layers.append((f"+ {name}", every[: i + 1]))
    layers.append(("room now (lean)", [n for n in every if n not in room_off]))
    rows: list[dict[str, Any]] = [{"layer": "python interpreter", "uss_mib": python_floor()}]
    with tempfile.TemporaryDirectory(prefix="peerprep-room-memory-") as tmp:
        work = Path(tmp)
        demo_question(work)
        (work / "pair-sum-demo.ipynb").rename(work / "question.ipynb")
        for label, on in layers:
            last = label == "room now (lean)"
            samples = [server_uss(work, on, every, [], kernel=last) for _ in range(args.repeats)]
            rows.append(
                {
                    "layer": label,
                    "extensions": on,
                    "uss_mib": statistics.median(s["server"] for s in samples),
                }
            )
            if last:
                rows.append(
                    {
                        "layer": "kernel (peerprep-python, started)",
                        "uss_mib": statistics.median(s["kernel"] for s in samples),
                    }
                )
            print(f"  {label}: {rows[-1]['uss_mib']:.1f} MiB", flush=True)
    previous = None
    printable = [["layer", "USS MiB", "added MiB"]]
    for row in rows:
        added = "" if previous is None or "kernel" in row["layer"] else row["uss_mib"] - previous
        if isinstance(added, float):
            row["added_mib"] = added
        printable.append(
            [row["layer"], f"{row['uss_mib']:.1f}", f"{added:+.1f}" if added != "" else ""]
        )
        if "kernel" not in row["layer"] and row["layer"] != "room now (lean)":
            previous = row["uss_mib"]
    print(table(printable))
    before = next(r for r in rows if r["layer"] == f"+ {every[-1]}")["uss_mib"]
    after = next(r for r in rows if r["layer"] == "room now (lean)")["uss_mib"]
    print(f"server before (every extension): {before:.1f} MiB; lean room: {after:.1f} MiB")
    out = {
        "machine": machine(),
        "extensions_enabled": every,
        "switched_off_in_rooms": sorted(room_off),
        "layers": rows,
        "server_before_mib": before,
        "server_after_mib": after,
    }
    print(f"wrote {write_results('room_memory', out)}")


if __name__ == "__main__":
    main()
