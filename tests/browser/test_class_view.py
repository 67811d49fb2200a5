"""An instructor follows a class in a real browser: two students' attempts in the Class tab,
the live room opened (the students' room panel says so), the CSV export, and an axe-core
WCAG 2 A/AA check of the class view."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_peerprep.testing.rooms import match_pair, new_admin, new_student

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AXE = Path(__file__).resolve().parents[2] / "labextension" / "node_modules" / "axe-core"


def test_instructor_follows_two_students(
    browser, make_hub, one_question_config, question_module, artifacts_dir
):
    hub = make_hub(extra_env={"PEERPREP_SERVICE_CONFIG": str(one_question_config())})
    admin = new_admin(hub.url)
    alice = new_student(hub.url, "alice")
    bob = new_student(hub.url, "bob")
    room = match_pair(alice, bob)
    submit = alice.peerprep(
        "POST",
        f"rooms/{room['id']}/runs",
        json={"kind": "submit", "source": question_module.SOLUTION},
        timeout=120,
    )
    assert submit.status_code in (200, 201), submit.text
    assert submit.json()["verdict"] == "passed"

    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(f"{hub.url}/hub/login")
        page.fill("#username_input", admin.name)
        page.fill("#password_input", admin.password)
        page.click("#login_submit")
        page.wait_for_url(f"**/user/{admin.name}/lab**", timeout=120_000)
        page.get_by_test_id("peerprep-tab-class").click()
        view = page.get_by_test_id("peerprep-classview")
        view.wait_for()

        questions = page.get_by_test_id("peerprep-class-questions")
        row = questions.locator("tbody tr").first
        assert row.locator("td").nth(0).inner_text() == "1"  # one attempt (one room)
        assert row.locator("td").nth(1).inner_text() == "100 %"
        students = page.get_by_test_id("peerprep-class-students")
        names = students.locator("tbody th").all_inner_texts()
        assert sorted(names) == sorted([alice.name, bob.name])
        for tr in students.locator("tbody tr").all():
            assert tr.locator("td").nth(0).inner_text() == "1"  # attempts
            assert tr.locator("td").nth(1).inner_text() == "1"  # passed
        page.screenshot(path=str(artifacts_dir / "01-class-view.png"))

        # axe-core, injected from the lab extension's devDependencies: WCAG 2 A and AA.
        page.add_script_tag(path=str(AXE / "axe.min.js"))
        result = page.evaluate(
            """async () => await axe.run(
                document.querySelector('[data-testid=peerprep-classview]'),
                {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})"""
        )
        assert len(result["passes"]) > 5  # the rules did run on the view
        violations = [(v["id"], v["help"], len(v["nodes"])) for v in result["violations"]]
        assert violations == [], violations

        # Open the live room: the instructor gets a link in, the students are told.
        live = page.get_by_test_id("peerprep-class-live-room")
        assert alice.name in live.inner_text() and bob.name in live.inner_text()
        page.get_by_test_id("peerprep-class-open-room").click()
        enter = page.get_by_test_id("peerprep-class-enter-room")
        enter.wait_for()
        href = enter.get_attribute("href") or ""
        assert f"/user/{room['pair_user']}/" in href
        seen = alice.peerprep("GET", f"rooms/{room['id']}").json()
        assert seen["observers"] == [admin.name]
        # The share is real: the instructor's browser reaches the pair server's JupyterLab.
        answer = page.request.get(f"{hub.url}{href}")
        assert answer.ok, answer.status
        page.screenshot(path=str(artifacts_dir / "02-room-opened.png"))

        # Alice, in the room, reads who opened it in her room panel.
        student = context.browser.new_context(viewport={"width": 1400, "height": 900})
        try:
            tab = student.new_page()
            tab.set_default_timeout(60_000)
            tab.goto(f"{hub.url}/hub/login")
            tab.fill("#username_input", alice.name)
            tab.fill("#password_input", alice.password)
            tab.click("#login_submit")
            tab.wait_for_url(f"**/user/{alice.name}/**", timeout=120_000)
            tab.goto(f"{hub.url}{room['url']}")
            notice = tab.get_by_test_id("peerprep-room-observers")
            notice.wait_for(timeout=90_000)
            assert admin.name in notice.inner_text()
            tab.screenshot(path=str(artifacts_dir / "03-student-sees-instructor.png"))
        finally:
            student.close()

        with page.expect_download() as download:
            page.get_by_test_id("peerprep-class-export").click()
        csv_text = Path(download.value.path()).read_text()
        assert csv_text.splitlines()[0].startswith("name,display_name,email,attempts")
        assert alice.name in csv_text and bob.name in csv_text
    finally:
        context.close()
