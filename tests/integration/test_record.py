"""The session record through a real hub and pair server: every character credited to the
student whose connection typed it (concurrent typing in one cell included), pastes flagged for
the partner, and the record readable by the pair and their instructor only."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import time

import pytest

from jupyter_peerprep.testing.faults import ServiceCaller, hub_student
from jupyter_peerprep.testing.hubclient import HubUser
from jupyter_peerprep.testing.rooms import match_pair, wait_for_questions
from jupyter_peerprep.testing.ydoc import YClient

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def record_hub(make_hub, one_question_config):
    """A real hub with the one-question bank; its admin (an instructor) signed up, no server
    of their own (every spawn counts on a busy machine)."""
    config = one_question_config(warm_pool_size=1)
    hub = make_hub(extra_env={"PEERPREP_SERVICE_CONFIG": str(config)})
    admin = HubUser(hub.url, "admin")
    admin.signup()
    admin.login()
    admin.token()
    wait_for_questions(ServiceCaller(admin))  # type: ignore[arg-type]
    return hub, ServiceCaller(admin)


# More than SessionRecord.paste_chars (200) inserted in one change.
PASTE = (
    "def pair_sum(nums, target):\n"
    "    # pasted from a notes file, in one go\n"
    "    seen = {}\n"
    "    for i, n in enumerate(nums):\n"
    "        if target - n in seen:\n"
    "            return [seen[target - n], i]\n"
    "        seen[n] = i\n"
    "    raise ValueError('no pair adds up to the target in this list of numbers')\n"
)


def per_char_authors(record: dict, cell: int) -> list[str]:
    return [author for author, count in record["authors"][cell]["runs"] for _ in range(count)]


def wait_record(user, room_id: str, ready, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    record: dict = {}
    while time.monotonic() < deadline:
        response = user.peerprep("GET", f"history/{room_id}/record")
        assert response.status_code == 200, response.text
        record = response.json()
        if ready(record):
            return record
        time.sleep(0.3)
    raise AssertionError(f"the record never got there: {record.get('final_sources')}")


async def type_together(server: str, tokens: dict[str, str]) -> None:
    async with contextlib.AsyncExitStack() as stack:
        clients = {
            name: await stack.enter_async_context(YClient.connect(server, "question.ipynb", token))
            for name, token in tokens.items()
        }
        first = next(iter(clients.values()))
        index = first.cell_index("def pair_sum")
        # Both type into the same cell before either sees the other (concurrent), a key a time.
        for n in range(6):
            for name, client in clients.items():
                client.append_to_cell(index, name[:3].upper() if n == 0 else f"{n}")
            await asyncio.sleep(0.05)
        tags = [name[:3].upper() for name in clients]
        for client in clients.values():
            await client.wait_for(lambda c: all(t in c.cell_sources()[index] for t in tags))
        last = next(iter(clients))
        source = clients[last].notebook.ycells[index]["source"]
        source.insert(0, PASTE)  # one change of many characters: a paste
        await asyncio.sleep(0.5)


def pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def test_each_character_is_credited_to_the_student_who_typed_it(
    record_hub, demo_solution, tmp_path
):
    record_hub, instructor = record_hub
    ann, ben = hub_student(record_hub.url, "ann"), hub_student(record_hub.url, "ben")
    room = match_pair(ann, ben)  # type: ignore[arg-type]
    server = f"{record_hub.url}/user/{room['pair_user']}"
    asyncio.run(type_together(server, {ann.name: ann.user.token(), ben.name: ben.user.token()}))

    record = wait_record(
        ann, room["id"], lambda r: any(p["user"] == ann.name for p in r.get("pastes", []))
    )
    cell = next(i for i, s in enumerate(record["final_sources"]) if "def pair_sum" in s)
    source = record["final_sources"][cell]
    authors = per_char_authors(record, cell)
    assert len(authors) == len(source)
    tags = {ann.name[:3].upper(): ann.name, ben.name[:3].upper(): ben.name}
    for tag, name in tags.items():
        at = source.index(tag)
        assert authors[at : at + 3] == [name] * 3, (tag, source)
    # Every character either student typed is theirs; the rest is the question's.
    typed = {ann.name: 0, ben.name: 0}
    for author in authors:
        if author:
            typed[author] += 1
    assert typed[ben.name] == 3 + 5
    assert typed[ann.name] == 3 + 5 + len(PASTE)
    assert record["metrics"]["students"][ann.name]["chars_kept"] == typed[ann.name]

    # The paste: who, when, what, for the partner while the room runs.
    pastes = ben.peerprep("GET", f"rooms/{room['id']}/pastes").json()["pastes"]
    assert [(p["user"], p["text"]) for p in pastes] == [(ann.name, PASTE)]

    # A third student is refused (as if the attempt did not exist); an instructor reads it.
    carl = hub_student(record_hub.url, "carl")
    refused = carl.peerprep("GET", f"history/{room['id']}/record")
    assert refused.status_code == 404, refused.text
    assert "No attempt" in refused.json()["message"]
    admin = instructor
    assert admin.peerprep("GET", f"history/{room['id']}/record").status_code == 200

    # A Submit, then the attempt's PDF report from history, with the sections a reader expects.
    submitted = ben.peerprep(
        "POST", f"rooms/{room['id']}/runs", json={"kind": "submit", "source": demo_solution}
    )
    assert submitted.status_code in (200, 201), submitted.text
    ben.peerprep("POST", f"rooms/{room['id']}/end")
    report = ann.peerprep("GET", f"history/{room['id']}/report.pdf")
    assert report.status_code == 200, report.text[:300]
    assert report.headers["Content-Type"] == "application/pdf"
    text = pdf_text(report.content, tmp_path)
    for section in (
        "Pair Sum",
        "Final code",
        "Test results",
        "Complexity",
        "Timeline",
        "Collaboration metrics",
        "Pastes",
        "Chat transcript",
    ):
        assert section in text, section
    assert "pasted from a notes file" in text
    assert ann.name in text and ben.name in text
    assert carl.peerprep("GET", f"history/{room['id']}/report.pdf").status_code == 404


def test_only_the_pair_server_may_send_its_rooms_record(record_hub):
    record_hub, _ = record_hub
    eve = hub_student(record_hub.url, "eve")
    body = {"batch": "forged-1", "entries": [[1, eve.name, "json:notebook:x", "AAA="]]}
    # A student's own token is refused: only a pair user's token may send.
    response = eve("POST", "record", json=body)
    assert response.status_code == 403, response.text
    assert "pair server" in response.json()["message"]
