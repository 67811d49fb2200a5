"""Pair rooms on a real hub with the real spawner: match, share, collaborate, sandbox, end.

One hub serves the whole module (``room_hub`` in conftest.py: spawning is the slow part); the
question bank is a single small question so the service is ready in seconds.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import time
from pathlib import Path

import psutil
import pytest

from jupyter_peerprep.testing.hubclient import HubUser
from jupyter_peerprep.testing.kernel import run_code
from jupyter_peerprep.testing.rooms import match_pair as pair_into_room
from jupyter_peerprep.testing.rooms import new_student
from jupyter_peerprep.testing.ydoc import YClient, edit_cell_concurrently

pytestmark = pytest.mark.slow

HERE = Path(__file__).parent
REPO = HERE.parents[1]


def new_user(hub, prefix: str) -> HubUser:
    return new_student(hub.url, prefix)


def match_pair(hub) -> tuple[HubUser, HubUser, dict]:
    a, b = new_user(hub, "ann"), new_user(hub, "ben")
    return a, b, pair_into_room(a, b)


def service_db(hub) -> Path:
    return Path(hub.state_dir) / "peerprep.sqlite"


def hidden_cases(hub) -> list[dict]:
    with sqlite3.connect(service_db(hub)) as conn:
        (spec,) = conn.execute("SELECT spec FROM question_versions LIMIT 1").fetchone()
    return json.loads(spec)["hidden_tests"]


def test_room_is_shared_with_exactly_the_pair(room_hub):
    a, b, room = match_pair(room_hub)
    pair = room["pair_user"]
    assert pair.startswith("pair-")
    assert {m["name"] for m in room["members"]} == {a.name, b.name}
    # Both students open the room's notebook; it holds no hidden case.
    for user in (a, b):
        response = user.server("GET", "api/contents/question.ipynb", owner=pair)
        assert response.status_code == 200, response.text
    text = json.dumps(response.json()["content"])
    for case in hidden_cases(room_hub):
        assert json.dumps(case["args"]) not in text
    assert "seen_positions" not in text  # the reference solution's own variable name
    # A third user cannot open the room: server, files API, collaboration websocket, room API.
    carol = new_user(room_hub, "carol")
    assert carol.server("GET", "lab", owner=pair).status_code == 403
    assert carol.server("GET", "api/contents/question.ipynb", owner=pair).status_code == 403
    assert carol.peerprep("GET", f"rooms/{room['id']}").status_code == 404
    with pytest.raises(Exception, match="403"):
        asyncio.run(_open_ydoc(f"{room_hub.url}/user/{pair}", carol.token()))


async def _open_ydoc(server_url: str, token: str) -> None:
    async with YClient.connect(server_url, "question.ipynb", token):
        pass


def test_collaboration_converges_and_saves(room_hub):
    a, b, room = match_pair(room_hub)
    server = f"{room_hub.url}/user/{room['pair_user']}"

    # Concurrent edits of the starter cell by both students; both see the same merge.
    merged = asyncio.run(
        edit_cell_concurrently(
            server, "question.ipynb", {"ann": a.token(), "ben": b.token()}, "def pair_sum"
        )
    )
    # Autosave: the file on disk matches what both see.
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        saved = a.server("GET", "api/contents/question.ipynb", owner=room["pair_user"]).json()
        sources = [c["source"] for c in saved["content"]["cells"]]
        if sources == merged:
            break
        time.sleep(0.3)
    assert sources == merged


def test_room_kernel_is_sandboxed(room_hub):
    a, _b, room = match_pair(room_hub)
    server = f"{room_hub.url}/user/{room['pair_user']}"
    state = Path(room_hub.state_dir)
    other_home = state / "homes" / a.name
    assert other_home.exists()
    probes = {
        "other home": f"import os; print(os.listdir({str(other_home)!r}))",
        "service database": f"print(open({str(service_db(room_hub))!r}, 'rb').read(10))",
        "question bank": f"import os; print(os.listdir({str(REPO / 'question_bank')!r}))",
        "write into the Python environment": (
            "import sys, os; open(os.path.join(sys.prefix, 'planted'), 'w').write('x')"
        ),
    }
    for name, code in probes.items():
        result = asyncio.run(run_code(server, a.token(), code))
        assert not result.ok, f"{name}: the room's kernel could do it: {result.stdout}"
    # Outside its home the sandbox has only a private /tmp: a write there never reaches the host.
    asyncio.run(run_code(server, a.token(), f"open({str(state / 'planted')!r}, 'w').write('x')"))
    assert not (state / "planted").exists()
    # And it can still do its job: compute and write in its own directory.
    result = asyncio.run(
        run_code(server, a.token(), "open('scratch.txt','w').write('ok'); print(6*7)")
    )
    assert result.ok and result.stdout.strip() == "42"


def test_end_saves_history_and_closes_the_room(room_hub):
    a, b, room = match_pair(room_hub)
    pair = room["pair_user"]
    carol = new_user(room_hub, "carol")
    ended = a.peerprep("POST", f"rooms/{room['id']}/end")
    assert ended.status_code == 200, ended.text
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        seen_by_b = b.peerprep("GET", f"rooms/{room['id']}").json()
        if seen_by_b["state"] == "ended":
            break
        time.sleep(0.3)
    assert seen_by_b["state"] == "ended" and seen_by_b["ended_by"] == a.name
    for user, partner in ((a, b), (b, a)):
        attempts = user.peerprep("GET", "history").json()["attempts"]
        mine = [x for x in attempts if x["room_id"] == room["id"]]
        assert len(mine) == 1 and mine[0]["partner"]["name"] == partner.name
        item = user.peerprep("GET", f"history/{room['id']}").json()
        assert any("def pair_sum" in "".join(c["source"]) for c in item["final_notebook"]["cells"])
    for user in (a, b, carol):
        response = user.server(
            "GET", "api/contents/question.ipynb", owner=pair, allow_redirects=True
        )
        assert response.status_code in (403, 404, 424, 503), (user.name, response.status_code)
    # The pair user is gone from the hub.
    assert a.hub_api("GET", f"users/{pair}").status_code in (403, 404)


def test_room_survives_a_service_restart(room_hub):
    a, b, room = match_pair(room_hub)
    pair = room["pair_user"]
    service = next(
        p
        for p in psutil.process_iter(["cmdline", "environ"])
        if "jupyter_peerprep.hub.app" in " ".join(p.info["cmdline"] or [])
        and (p.info["environ"] or {}).get("PEERPREP_STATE_DIR") == str(room_hub.state_dir)
    )
    os.kill(service.pid, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        response = a.peerprep("GET", f"rooms/{room['id']}")
        if response.status_code == 200:
            break
        time.sleep(0.5)
    assert response.status_code == 200 and response.json()["state"] == "active"
    assert b.server("GET", "api/contents/question.ipynb", owner=pair).status_code == 200
    assert b.peerprep("POST", f"rooms/{room['id']}/end").status_code == 200
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if a.peerprep("GET", f"rooms/{room['id']}").json()["state"] == "ended":
            break
        time.sleep(0.3)
    assert a.peerprep("GET", f"rooms/{room['id']}").json()["state"] == "ended"
