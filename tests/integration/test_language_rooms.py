"""A JavaScript room, end to end on a real hub: both students choose JavaScript, the room's
notebook has the JavaScript starter and the Deno kernel, Run and Submit grade JavaScript."""

from __future__ import annotations

import asyncio
import json
import shutil
import uuid
from pathlib import Path

import pytest
import websockets

from jupyter_peerprep.testing.rooms import match_pair, new_student, wait_for_questions

ROOT = Path(__file__).resolve().parents[2]
QUESTION = "lonely-number"  # easy, bit-manipulation, with JavaScript and TypeScript cells


@pytest.fixture(scope="module")
def language_hub(make_hub, tmp_path_factory):
    bank = tmp_path_factory.mktemp("bank")
    shutil.copy(ROOT / "question_bank" / f"{QUESTION}.ipynb", bank)
    config = tmp_path_factory.mktemp("svc") / "peerprep_config.py"
    config.write_text(
        f"c.QuestionBank.bank_dirs = [{str(bank)!r}]\n"
        "c.RoomManager.warm_pool_size = 0\n"
        "c.RoomManager.idle_timeout = 0\n"
    )
    return make_hub(extra_env={"PEERPREP_SERVICE_CONFIG": str(config)})


def test_a_javascript_room_has_the_javascript_starter_and_grades_javascript(language_hub):
    a = new_student(language_hub.url, "ada")
    b = new_student(language_hub.url, "bob")
    wait_for_questions(a)
    listing = a.peerprep("GET", "questions").json()
    assert listing["languages"] == ["python", "javascript", "typescript"]
    assert listing["counts"]["language"] == {"python": 1, "javascript": 1, "typescript": 1}

    room = match_pair(a, b, topics=("bit-manipulation",), language="javascript")
    pair = room["pair_user"]
    notebook = a.server("GET", "api/contents/question.ipynb", owner=pair).json()["content"]
    assert notebook["metadata"]["kernelspec"]["name"] == "peerprep-deno"
    starter = "".join(notebook["cells"][1]["source"])
    assert starter.startswith("function lonely_number(nums) {")
    # The room panel shows the same JavaScript starter, and the room's starting notebook
    # ("start again") is the JavaScript one, for either student.
    shown = b.peerprep("GET", f"rooms/{room['id']}").json()["question"]
    assert shown["language"] == "javascript" and shown["starter"] == starter
    again = b.peerprep("GET", f"rooms/{room['id']}/student-notebook").json()
    assert again["metadata"]["kernelspec"]["name"] == "peerprep-deno"
    assert "".join(again["cells"][1]["source"]) == starter
    # The question API takes the language, and names the allowed ones when it is wrong.
    typescript = a.peerprep("GET", f"questions/{QUESTION}/student-notebook?language=typescript")
    assert "".join(typescript.json()["cells"][1]["source"]).startswith(
        "function lonely_number(nums: number[]): number {"
    )
    view = a.peerprep("GET", f"questions/{QUESTION}?language=javascript").json()
    assert view["language"] == "javascript" and view["starter"] == starter
    bad = a.peerprep("GET", f"questions/{QUESTION}/student-notebook?language=ruby")
    assert bad.status_code == 400
    assert "python, javascript, typescript" in bad.json()["message"]
    assert "'ruby'" in bad.json()["message"]
    base = a.peerprep("GET", f"questions/{QUESTION}/student-notebook").json()
    assert "".join(base["cells"][1]["source"]).startswith("def lonely_number(nums):")

    solution = "function lonely_number(nums) { return nums.reduce((x, v) => x ^ v, 0); }"
    for kind in ("run", "submit"):
        run = a.peerprep(
            "POST", f"rooms/{room['id']}/runs", json={"kind": kind, "source": solution}
        ).json()
        assert run["verdict"] == "passed", json.dumps(run)[:2000]
    # Python source in a JavaScript room is graded as JavaScript (and fails to load).
    python = "def lonely_number(nums):\n    return 0\n"
    run = a.peerprep("POST", f"rooms/{room['id']}/runs", json={"kind": "run", "source": python})
    assert run.json()["verdict"] == "error"
    # The room's Deno kernel starts inside the room's sandbox and runs TypeScript.
    out = asyncio.run(
        run_in_deno_kernel(a, pair, "console.log([1, 2, 3].map((x: number) => x * 7))")
    )
    assert "[ 7, 14, 21 ]" in out
    assert a.peerprep("POST", f"rooms/{room['id']}/end").status_code == 200


async def run_in_deno_kernel(user, pair: str, code: str, timeout: float = 120.0) -> str:
    """Start a peerprep-deno kernel on the pair server, run ``code``; its output. Deno's
    kernel may send a cell's output after saying it is idle, so this waits for output."""
    started = user.server("POST", "api/kernels", owner=pair, json={"name": "peerprep-deno"})
    assert started.status_code == 201, started.text
    kernel_id = started.json()["id"]
    base = user.server_base(pair).replace("http://", "ws://", 1)
    headers = {"Authorization": f"token {user.token()}"}
    request = {
        "header": {
            "msg_id": uuid.uuid4().hex,
            "msg_type": "execute_request",
            "username": user.name,
            "session": uuid.uuid4().hex,
            "version": "5.3",
            "date": "",
        },
        "parent_header": {},
        "metadata": {},
        "content": {"code": code, "silent": False, "store_history": False},
        "channel": "shell",
        "buffers": [],
    }
    out: list[str] = []
    try:
        async with websockets.connect(
            f"{base}/api/kernels/{kernel_id}/channels", additional_headers=headers
        ) as ws:
            await ws.send(json.dumps(request))
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            while not out and loop.time() < deadline:
                try:
                    msg = json.loads(await asyncio.wait_for(ws.recv(), deadline - loop.time()))
                except asyncio.TimeoutError:
                    break
                if msg["header"]["msg_type"] == "stream":
                    out.append(msg["content"]["text"])
                elif msg["header"]["msg_type"] == "error":
                    out.append(msg["content"]["ename"] + ": " + msg["content"]["evalue"])
    finally:
        user.server("DELETE", f"api/kernels/{kernel_id}", owner=pair)
    return "".join(out)
