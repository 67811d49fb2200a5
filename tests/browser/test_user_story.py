"""The whole student journey in a real browser (two and three people, no mocks in between).

A and B sign up, choose medium / arrays, are matched and land in one room; A types a wrong
solution and runs the public tests (both see the failure); B fixes it and submits (hidden tests
pass, a complexity estimate shows); A ends the session, B sees the notice, and both histories
list the attempt with the right partner and result. C, alone, sees the search widen and time
out with an offer to retry. Screenshots of each step go to test-artifacts/ (docs/tutorial uses
them).
"""

from __future__ import annotations

import importlib.util
import json
import re
import uuid
from pathlib import Path

import pytest

from jupyter_peerprep.testing.chromium import keep_waiting_for_slow_documents

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HERE = Path(__file__).parent
PASSWORD = "a-long-enough-passphrase"

WRONG = """def pair_sum(nums, target):
    return [0, 1]
"""
RIGHT = """def pair_sum(nums, target):
    where = {}
    for i, x in enumerate(nums):
        if target - x in where:
            return [where[target - x], i]
        where[x] = i
    return []
"""


def _bank(tmp: Path) -> Path:
    path = HERE.parent / "questions" / "question_notebooks.py"
    spec = importlib.util.spec_from_file_location("question_notebooks", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    nb = module.build_notebook({"difficulty": "medium", "topics": ["arrays", "hash-maps"]})
    bank = tmp / "bank"
    bank.mkdir()
    (bank / "pair-sum-demo.ipynb").write_text(json.dumps(nb))
    return bank


def _hub(make_hub, tmp_path_factory, **matchmaker):
    tmp = tmp_path_factory.mktemp("story")
    bank = _bank(tmp)
    lines = [f"c.QuestionBank.bank_dirs = [{str(bank)!r}]", "c.RoomManager.warm_pool_size = 1"]
    lines += [f"c.Matchmaker.{k} = {v!r}" for k, v in matchmaker.items()]
    config = tmp / "peerprep_config.py"
    config.write_text("\n".join(lines) + "\n")
    return make_hub(extra_env={"PEERPREP_SERVICE_CONFIG": str(config)})


def sign_up_and_log_in(browser, hub, prefix: str):
    name = f"{prefix}{uuid.uuid4().hex[:4]}"
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    keep_waiting_for_slow_documents(page)
    page.set_default_timeout(60_000)
    page.goto(f"{hub.url}/hub/signup")
    page.fill("#username_input", name)
    page.fill("#password_input", PASSWORD)
    page.fill("#password_confirmation_input", PASSWORD)
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_selector(".alert-success")
    page.goto(f"{hub.url}/hub/login")
    page.fill("#username_input", name)
    page.fill("#password_input", PASSWORD)
    page.click("#login_submit")
    page.wait_for_url(f"**/user/{name}/lab**", timeout=120_000)
    page.get_by_test_id("peerprep-find-partner").wait_for()
    return name, context, page


def choose(page, difficulty: str, topic: str) -> None:
    page.get_by_test_id(f"peerprep-difficulty-{difficulty}").check()
    page.get_by_test_id(f"peerprep-topic-{topic}").check()


def starter_editor(page):
    cell = page.locator(".jp-Notebook .jp-CodeCell").filter(has_text="def pair_sum").first
    return cell.locator(".cm-content")


def replace_code(page, code: str) -> None:
    editor = starter_editor(page)
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(code)


@pytest.fixture(scope="module")
def story_hub(make_hub, tmp_path_factory):
    return _hub(make_hub, tmp_path_factory)


def test_pair_practises_a_question_end_to_end(browser, story_hub, artifacts_dir):
    hub = story_hub
    a_name, a_ctx, a = sign_up_and_log_in(browser, hub, "ann")
    b_name, b_ctx, b = sign_up_and_log_in(browser, hub, "ben")
    try:
        a.screenshot(path=str(artifacts_dir / "01-lobby.png"))
        choose(a, "medium", "arrays")
        choose(b, "medium", "arrays")
        a.get_by_test_id("peerprep-find-partner").click()
        a.get_by_test_id("peerprep-status").wait_for()
        a.screenshot(path=str(artifacts_dir / "02-waiting.png"))
        b.get_by_test_id("peerprep-find-partner").click()

        # Matched: both land in the same room, with the same question.
        for page in (a, b):
            page.wait_for_url(re.compile(r".*/user/pair-[0-9a-f]+/lab.*"), timeout=120_000)
        assert a.url.split("/lab")[0] == b.url.split("/lab")[0]
        for page in (a, b):
            page.get_by_test_id("peerprep-question-title").wait_for()
            assert "Pair Sum" in page.get_by_test_id("peerprep-question-title").inner_text()
            starter_editor(page).wait_for(timeout=60_000)
        a.screenshot(path=str(artifacts_dir / "03-room.png"))

        # A types a wrong solution; B sees A's text and A's cursor in the same cell.
        replace_code(a, WRONG)
        b.wait_for_function(
            "() => [...document.querySelectorAll('.jp-CodeCell .cm-content')]"
            ".some(e => e.innerText.includes('return [0, 1]'))"
        )
        # A's cursor, drawn by jupyter-collaboration in B's editor.
        b.locator(".jp-remote-cursor, .cm-ySelectionCaret").first.wait_for(state="attached")
        b.screenshot(path=str(artifacts_dir / "04-partner-typing.png"))

        # A runs the public tests: the failure shows for both.
        a.get_by_test_id("peerprep-run").click()
        summary = a.get_by_test_id("peerprep-run-summary").first
        summary.wait_for(timeout=60_000)
        assert "passed" in summary.inner_text().lower()
        a.get_by_test_id("peerprep-case").first.wait_for()
        b.get_by_test_id("peerprep-run-item").first.wait_for(timeout=30_000)
        assert a_name in b.get_by_test_id("peerprep-run-item").first.inner_text()
        a.screenshot(path=str(artifacts_dir / "05-run-failed.png"))

        # B fixes it and submits: hidden tests pass, with a complexity estimate.
        replace_code(b, RIGHT)
        a.wait_for_function(
            "() => [...document.querySelectorAll('.jp-CodeCell .cm-content')]"
            ".some(e => e.innerText.includes('where[x] = i'))"
        )
        b.get_by_test_id("peerprep-submit").click()
        complexity = b.get_by_test_id("peerprep-complexity").first
        complexity.wait_for(timeout=120_000)
        assert "O(" in complexity.inner_text()
        b.screenshot(path=str(artifacts_dir / "06-submit-passed.png"))

        # A ends the session; B sees the notice.
        a.get_by_test_id("peerprep-end").click()
        a.locator(".jp-Dialog .jp-mod-accept").click()
        b.get_by_test_id("peerprep-ended-notice").wait_for(timeout=60_000)
        b.screenshot(path=str(artifacts_dir / "07-ended.png"))

        # Both histories list the attempt, with the partner and the result.
        for page, me, partner in ((a, a_name, b_name), (b, b_name, a_name)):
            page.goto(f"{hub.url}/user/{me}/lab")
            page.get_by_test_id("peerprep-tab-history").click()
            item = page.get_by_test_id("peerprep-history-item").first
            item.wait_for(timeout=60_000)
            text = item.inner_text()
            assert partner in text and "Pair Sum" in text
        a.screenshot(path=str(artifacts_dir / "08-history.png"))
    except Exception:
        a.screenshot(path=str(artifacts_dir / "failure-a.png"))
        b.screenshot(path=str(artifacts_dir / "failure-b.png"))
        raise
    finally:
        a_ctx.close()
        b_ctx.close()


def test_alone_the_search_widens_then_times_out(browser, make_hub, tmp_path_factory, artifacts_dir):
    hub = _hub(
        make_hub,
        tmp_path_factory,
        topic_relax_after=3.0,
        difficulty_relax_after=6.0,
        timeout_after=10.0,
    )
    _, ctx, c = sign_up_and_log_in(browser, hub, "cleo")
    try:
        choose(c, "hard", "graphs")
        c.get_by_test_id("peerprep-find-partner").click()
        c.get_by_test_id("peerprep-relaxed").wait_for(timeout=30_000)
        c.screenshot(path=str(artifacts_dir / "01-widened.png"))
        c.get_by_test_id("peerprep-timed-out").wait_for(timeout=30_000)
        assert c.get_by_test_id("peerprep-retry").is_visible()
        assert c.get_by_test_id("peerprep-widen").is_visible()
        c.screenshot(path=str(artifacts_dir / "02-timed-out.png"))
    finally:
        ctx.close()
