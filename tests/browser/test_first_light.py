"""A newcomer in a real browser: sign up, log in, JupyterLab opens with the PeerPrep panel."""

from __future__ import annotations

import uuid

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_signup_login_and_see_peerprep_panel(browser, make_hub, artifacts_dir):
    hub = make_hub()
    name = f"newcomer{uuid.uuid4().hex[:4]}"
    password = "a-long-enough-passphrase"
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        page.goto(f"{hub.url}/hub/signup")
        assert "PeerPrep" in page.title()
        page.fill("#username_input", name)
        page.fill("#password_input", password)
        page.fill("#password_confirmation_input", password)
        page.screenshot(path=str(artifacts_dir / "01-signup.png"))
        page.click("input[type=submit], button[type=submit]")
        page.wait_for_selector(".alert-success")

        page.goto(f"{hub.url}/hub/login")
        page.fill("#username_input", name)
        page.fill("#password_input", password)
        page.screenshot(path=str(artifacts_dir / "02-login.png"))
        page.click("#login_submit")

        # The hub spawns the server and JupyterLab opens; the PeerPrep panel shows who we are.
        page.wait_for_url(f"**/user/{name}/lab**", timeout=90_000)
        username = page.locator(".jp-PeerPrep-username")
        username.wait_for(timeout=60_000)
        assert username.inner_text() == name
        assert "ok" in page.locator(".jp-PeerPrep-health").inner_text()
        page.screenshot(path=str(artifacts_dir / "03-lab-with-peerprep-panel.png"))
    finally:
        context.close()
