"""An instructor in a real browser: validate and publish question notebooks from the file
browser of JupyterLab, then a student sees the question, without its secrets."""

from __future__ import annotations

import json

import pytest
from question_notebooks import build_notebook

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def open_menu_item(page, file_name: str, label: str) -> None:
    # The PeerPrep panel opens first in the left area; switch to the file browser.
    tab = page.locator('.lm-TabBar-tab[data-id="filebrowser"]')
    tab.wait_for(timeout=60_000)
    if "lm-mod-current" not in (tab.get_attribute("class") or ""):
        tab.click()
    item = page.locator(f'.jp-DirListing-item[title^="Name: {file_name}"]')
    item.wait_for(timeout=60_000)
    item.click(button="right")
    page.locator(".lm-Menu-item", has_text=label).first.click()


def dialog_text(page) -> tuple[str, str]:
    dialog = page.locator(".jp-Dialog-content")
    dialog.wait_for(timeout=60_000)
    header = dialog.locator(".jp-Dialog-header").inner_text()
    body = dialog.locator(".jp-Dialog-body").inner_text()
    return header, body


@pytest.fixture
def own_browser():
    """Chromium for this test only: the session-wide ``browser`` fixture keeps Playwright's
    event loop running, which would break every async test after it in the session."""
    from playwright.sync_api import sync_playwright

    from jupyter_peerprep.testing.chromium import CHROMIUM_ARGS, chromium_path

    with sync_playwright() as p:
        instance = p.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()


def test_instructor_validates_and_publishes_from_file_browser(
    own_browser, make_hub, artifacts_dir, tmp_path
):
    from jupyter_peerprep.testing.hubclient import HubUser

    browser = own_browser

    # Only what the instructor publishes: the shipped bank stays out of this hub.
    config = tmp_path / "peerprep_config.py"
    config.write_text("c.QuestionBank.load_on_start = False\n")
    hub = make_hub(extra_env={"PEERPREP_SERVICE_CONFIG": str(config)})
    admin = HubUser(hub.url, "admin")  # the documented first account: admin and instructor
    admin.signup()
    admin.login()
    admin.start_server()
    for name, nb in (
        ("pair-sum-demo.ipynb", build_notebook()),
        ("broken.ipynb", build_notebook({"id": "broken", "difficulty": "tricky"})),
    ):
        response = admin.server(
            "PUT", f"api/contents/{name}", json={"type": "notebook", "content": nb}
        )
        assert response.status_code in (200, 201), response.text

    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        page.goto(f"{hub.url}/hub/login")
        page.fill("#username_input", "admin")
        page.fill("#password_input", admin.password)
        page.click("#login_submit")
        page.wait_for_url("**/user/admin/lab**", timeout=90_000)

        open_menu_item(page, "broken.ipynb", "Validate PeerPrep question")
        header, body = dialog_text(page)
        page.screenshot(path=str(artifacts_dir / "01-validate-broken.png"))
        assert header.startswith("Not valid: 1 problem")
        assert "broken.ipynb: notebook metadata, field peerprep.difficulty" in body
        assert "got 'tricky'" in body
        page.locator(".jp-Dialog-button", has_text="Ok").click()

        open_menu_item(page, "pair-sum-demo.ipynb", "Publish to PeerPrep")
        header, _ = dialog_text(page)
        page.screenshot(path=str(artifacts_dir / "02-published.png"))
        assert header == "pair-sum-demo version 1: published"
        page.locator(".jp-Dialog-button", has_text="Ok").click()
    finally:
        context.close()

    student = HubUser(hub.url, "stud" + "ent1")
    student.signup()
    student.login()
    student.start_server()
    listing = student.peerprep("GET", "questions").json()
    assert [q["id"] for q in listing["questions"]] == ["pair-sum-demo"]
    view = student.peerprep("GET", "questions/pair-sum-demo")
    assert view.status_code == 200
    text = json.dumps(view.json())
    assert "seen_positions" not in text and "7391" not in text
    refused = student.peerprep("GET", "questions/pair-sum-demo?view=full")
    assert refused.status_code == 403
