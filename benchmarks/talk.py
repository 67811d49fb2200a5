"""Talk benchmark: a room call's set-up time, and chat latency against notebook-edit latency.

    .venv/bin/python benchmarks/talk.py [--calls 10] [--messages 200]

One real hub, one room, on this machine (loopback):

- ``call``: two Chromium contexts (fake microphone) in the room. Ann presses Call; the clock
  starts when Ben presses Join and stops when both browsers' ``getStats()`` show inbound audio
  bytes. Both hang up; ``--calls`` times. Goal: p95 <= 1 s.
- ``chat`` vs ``notebook edit``, the same run: two pycrdt clients per document (the room's
  ``.chat`` and its notebook), alternately a chat message from one student and a one-line
  notebook edit from the same student; each timed until the other student's client holds it.
  Goal: chat p99 <= 1.2 x edit p99 (both are Yjs documents through the same pair server).

Prints a table and writes ``benchmarks/results/talk.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from report import machine, pct, summary, table, write_results  # noqa: E402
from rooms import start_hub, students  # noqa: E402

from jupyter_peerprep.testing.chromium import chromium_path, keep_waiting_for_slow_documents  # noqa: E402
from jupyter_peerprep.testing.rooms import match_pair  # noqa: E402
from jupyter_peerprep.testing.webrtc import (  # noqa: E402
    INBOUND_AUDIO_BYTES,
    TRACK_PEER_CONNECTIONS,
    media_chromium_args,
)
from jupyter_peerprep.testing.ychat import ChatClient  # noqa: E402
from jupyter_peerprep.testing.ydoc import YClient  # noqa: E402

# Arguments run_all.py passes for each profile (the convention that makes this a benchmark).
PROFILES = {
    "quick": ["--calls", "10", "--messages", "200"],
    "full": ["--calls", "30", "--messages", "1000"],
}


async def until(client: YClient, predicate: Any, timeout: float = 30.0) -> None:
    """Wait until ``predicate()`` holds, waking on each update of ``client``'s document."""
    changed = asyncio.Event()
    subscription = client.doc.observe(lambda _event: changed.set())

    async def loop() -> None:
        while not predicate():
            await changed.wait()
            changed.clear()

    try:
        await asyncio.wait_for(loop(), timeout)
    finally:
        client.doc.unobserve(subscription)


async def chat_vs_edit(server: str, a: Any, b: Any, n: int) -> dict[str, list[float]]:
    chat_s: list[float] = []
    edit_s: list[float] = []
    async with (
        ChatClient.connect_chat(server, "question.chat", a.token()) as ca,
        ChatClient.connect_chat(server, "question.chat", b.token()) as cb,
        YClient.connect(server, "question.ipynb", a.token()) as na,
        YClient.connect(server, "question.ipynb", b.token()) as nb,
    ):
        index = na.cell_index("def ")
        for i in range(n):
            mark = f"m{i}-{uuid.uuid4().hex[:6]}"
            started = time.perf_counter()
            ca.say(a.name, mark)
            await until(cb, lambda mark=mark: any(mark in body for body in cb.bodies()[-3:]))
            chat_s.append(time.perf_counter() - started)
            started = time.perf_counter()
            na.append_to_cell(index, f"\n# {mark}")
            await until(nb, lambda mark=mark: mark in nb.cell_sources()[index][-40:])
            edit_s.append(time.perf_counter() - started)
    return {"chat": chat_s, "edit": edit_s}


def call_setup(hub: Any, a: Any, b: Any, room: dict[str, Any], calls: int) -> list[float]:
    from playwright.sync_api import sync_playwright

    times: list[float] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium_path(), headless=True, args=media_chromium_args()
        )
        pages = []
        for user in (a, b):
            context = browser.new_context()
            context.add_init_script(TRACK_PEER_CONNECTIONS)
            page = context.new_page()
            page.set_default_timeout(120_000)
            keep_waiting_for_slow_documents(page)
            page.goto(f"{hub.url}/hub/login")
            page.fill("#username_input", user.name)
            page.fill("#password_input", user.password)
            page.click("#login_submit")
            page.wait_for_url(f"**/user/{user.name}/**")
            page.goto(f"{hub.url}{room['url']}")
            page.get_by_test_id("peerprep-call").wait_for()
            pages.append(page)
        pa, pb = pages
        for i in range(calls):
            pa.get_by_test_id("peerprep-call").click()
            pa.locator("[data-call-phase=waiting]").wait_for()
            pb.get_by_test_id("peerprep-call").filter(has_text="Join call").wait_for()
            started = time.perf_counter()
            pb.get_by_test_id("peerprep-call").click()
            flowing = [False, False]
            while not all(flowing):
                for k, page in enumerate(pages):
                    flowing[k] = flowing[k] or page.evaluate(INBOUND_AUDIO_BYTES) > 0
            times.append(time.perf_counter() - started)
            print(f"  call {i + 1}: {times[-1]:.3f}s", flush=True)
            for page in pages:
                if page.get_by_test_id("peerprep-hangup").count():
                    page.get_by_test_id("peerprep-hangup").click()
                page.locator("[data-call-phase=idle]").wait_for()
            # Neither sees the other in the call any more ("Call", not "Join call").
            for page in pages:
                page.get_by_test_id("peerprep-call").filter(
                    has_text=re.compile("^Call$")
                ).wait_for()
        browser.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--messages", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="peerprep-talk-") as tmp:
        hub = start_hub(Path(tmp), pool=1)
        try:
            a, b = students(hub)
            room = match_pair(a, b)
            server = f"{hub.url}/user/{room['pair_user']}"
            latency = asyncio.run(chat_vs_edit(server, a, b, args.messages))
            calls = call_setup(hub, a, b, room, args.calls)
        finally:
            hub.stop()
    chat_p99, edit_p99 = pct(latency["chat"], 0.99), pct(latency["edit"], 0.99)
    ratio = chat_p99 / edit_p99 if edit_p99 else float("nan")
    rows = [["measure", "n", "p50 ms", "p95 ms", "p99 ms"]]
    for name, values in (("call to audio", calls), *latency.items()):
        label = {"chat": "chat message", "edit": "notebook edit"}.get(name, name)
        rows.append(
            [
                label,
                str(len(values)),
                f"{1000 * pct(values, 0.5):.1f}",
                f"{1000 * pct(values, 0.95):.1f}",
                f"{1000 * pct(values, 0.99):.1f}",
            ]
        )
    print()
    print(table(rows))
    print(f"\ncall to audio p95 = {pct(calls, 0.95):.3f} s (goal <= 1 s)")
    print(f"chat p99 / notebook edit p99 = {ratio:.3f} (goal <= 1.2)")
    out = {
        "machine": machine(),
        "call_to_audio": summary(calls),
        "chat": {**summary(latency["chat"]), "p99_ms": round(1000 * chat_p99, 2)},
        "notebook_edit": {**summary(latency["edit"]), "p99_ms": round(1000 * edit_p99, 2)},
        "chat_p99_over_edit_p99": round(ratio, 3),
        "goals": {"call_to_audio_p95_s": 1.0, "chat_over_edit_p99": 1.2},
    }
    print(f"wrote {write_results('talk', out)}")


if __name__ == "__main__":
    main()
