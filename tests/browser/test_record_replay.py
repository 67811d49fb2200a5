"""A student replays a recorded session in the history of a real JupyterLab: at three
markers (two Runs and a Submit) the replay shows the notebook's cells exactly as they were;
the PDF report downloads with its sections (checked with pdftotext); axe-core WCAG 2 A/AA
finds nothing wrong with the record view."""

from __future__ import annotations

import asyncio
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from jupyter_peerprep.testing.faults import hub_student
from jupyter_peerprep.testing.rooms import match_pair, new_student
from jupyter_peerprep.testing.ydoc import YClient

# A hub, a student server and a pair server: slow on a busy machine.
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(900)]

AXE = Path(__file__).resolve().parents[2] / "labextension" / "node_modules" / "axe-core"


async def edit_and_run(server: str, room_id: str, alice, bob, edits: list[str]) -> list[list[str]]:
    """For each edit: alice types it, bob sees it, bob runs (last: submits) the cell; returns
    the notebook's cell sources at each run."""
    seen: list[list[str]] = []
    async with (
        YClient.connect(server, "question.ipynb", alice.token()) as a,
        YClient.connect(server, "question.ipynb", bob.user.token()) as b,
    ):
        index = a.cell_index("def pair_sum")
        for n, text in enumerate(edits):
            a.append_to_cell(index, text)
            await b.wait_for(lambda c, t=text: c.cell_sources()[index].endswith(t))
            seen.append(b.cell_sources())
            kind = "submit" if n == len(edits) - 1 else "run"
            answer = await asyncio.to_thread(
                bob,
                "POST",
                f"rooms/{room_id}/runs",
                json={"kind": kind, "source": b.cell_sources()[index]},
                timeout=120,
            )
            assert answer.status_code in (200, 201), answer.text
            await asyncio.sleep(1.0)
    return seen


def test_replay_shows_the_notebook_as_it_was_at_each_marker(
    browser, make_hub, one_question_config, artifacts_dir, tmp_path
):
    config = one_question_config(warm_pool_size=1)
    hub = make_hub(extra_env={"PEERPREP_SERVICE_CONFIG": str(config)})
    alice = new_student(hub.url, "alice", spawn_timeout=300)
    bob = hub_student(hub.url, "bob")
    room = match_pair(alice, bob)  # type: ignore[arg-type]
    server = f"{hub.url}/user/{room['pair_user']}"
    edits = ["\n    # one", "\n    # two", "\n    return [0, 1]"]
    # Playwright's sync API runs an event loop in this thread: edit from a thread of its own.
    with ThreadPoolExecutor(1) as pool:
        moments = pool.submit(
            asyncio.run, edit_and_run(server, room["id"], alice, bob, edits)
        ).result()
    ended = bob("POST", f"rooms/{room['id']}/end")
    assert ended.status_code == 200, ended.text

    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(f"{hub.url}/hub/login")
        page.fill("#username_input", alice.name)
        page.fill("#password_input", alice.password)
        page.click("#login_submit")
        page.wait_for_url(f"**/user/{alice.name}/lab**", timeout=120_000)
        page.get_by_test_id("peerprep-tab-history").click()
        page.locator(f"[data-room-id='{room['id']}']").click(timeout=90_000)
        page.get_by_test_id("peerprep-replay").wait_for()

        marks = page.get_by_test_id("peerprep-replay-mark")
        assert marks.count() == 3, marks.all_inner_texts()
        for n, expected in enumerate(moments):
            marks.nth(n).click()
            cells = page.get_by_test_id("peerprep-replay-cell").all_inner_texts()
            assert [c.rstrip("\n") for c in cells] == [s.rstrip("\n") for s in expected], n
        page.get_by_test_id("peerprep-record").screenshot(
            path=str(artifacts_dir / "01-record-replay.png")
        )
        page.add_script_tag(path=str(AXE / "axe.min.js"))
        result = page.evaluate(
            """async () => await axe.run(
                document.querySelector('[data-testid=peerprep-record]'),
                {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})"""
        )
        violations = [(v["id"], v["help"], len(v["nodes"])) for v in result["violations"]]
        assert violations == [], violations

        with page.expect_download(timeout=120_000) as download:
            page.get_by_test_id("peerprep-report").click()
        pdf = tmp_path / "report.pdf"
        download.value.save_as(pdf)
        text = subprocess.run(
            ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
        ).stdout
        for section in ("Final code", "Test results", "Timeline", "Collaboration metrics"):
            assert section in text, section
        assert "return [0, 1]" in text and alice.name in text
    except Exception:
        page.screenshot(path=str(artifacts_dir / "failure.png"))
        raise
    finally:
        context.close()
