"""Talk in a real browser: two students in a room, the chat docked beside the notebook, a
WebRTC call between two Chromium contexts (fake microphone and camera), End ending both.

Each context records the RTCPeerConnections the page makes (an init script, like a browser
extension would, outside the page's CSP), so the test reads what a student would hear: the
connection state and the inbound audio bytes of ``getStats()``. The room page keeps its strict
script policy throughout (room_page.py). Screenshots go to test-artifacts/ (the tutorial's
pictures come from there).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_peerprep.testing.chromium import chromium_path, keep_waiting_for_slow_documents
from jupyter_peerprep.testing.hubclient import HubClientError, HubUser
from jupyter_peerprep.testing.rooms import match_pair, wait_for_questions
from jupyter_peerprep.testing.webrtc import (
    ALL_CLOSED,
    INBOUND_AUDIO_BYTES,
    TRACK_PEER_CONNECTIONS,
    media_chromium_args,
)

# Hub, three servers, two browsers: minutes on a shared machine.
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(900)]

# Seconds a server may take to start: generous, the test machines are shared.
SPAWN_S = 300.0

AXE = Path(__file__).resolve().parents[2] / "labextension" / "node_modules" / "axe-core"


@pytest.fixture(scope="module")
def media_browser() -> Iterator[Any]:
    """Chromium with a fake microphone and camera that it grants without asking."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(
            executable_path=chromium_path(), headless=True, args=media_chromium_args()
        )
        yield instance
        instance.close()


@pytest.fixture(scope="module")
def talk_hub(make_hub: Any, one_question_config: Any) -> Any:
    hub = make_hub(extra_env={"PEERPREP_SERVICE_CONFIG": str(one_question_config(1))})
    admin = HubUser(hub.url, "admin")
    admin.signup()
    admin.login()
    start(admin)
    wait_for_questions(admin)
    return hub


def start(user: HubUser, attempts: int = 3) -> None:
    """Start ``user``'s server, asking again when the hub gave up on a slow start (its
    ``http_timeout``): on a loaded shared machine a first start can take minutes."""
    for attempt in range(attempts):
        try:
            user.start_server(timeout=SPAWN_S / attempts)
            return
        except HubClientError:
            if attempt == attempts - 1:
                raise


def student(hub: Any, prefix: str) -> HubUser:
    user = HubUser(hub.url, f"{prefix}{uuid.uuid4().hex[:6]}")
    user.signup()
    user.login()
    start(user)
    return user


def open_room(browser: Any, hub: Any, user: Any, room: dict[str, Any]) -> tuple[Any, Any]:
    context = browser.new_context(viewport={"width": 1500, "height": 900})
    context.add_init_script(TRACK_PEER_CONNECTIONS)
    context.add_init_script(path=str(AXE / "axe.min.js"))
    page = context.new_page()
    page.set_default_timeout(60_000)
    keep_waiting_for_slow_documents(page)
    page.goto(f"{hub.url}/hub/login")
    page.fill("#username_input", user.name)
    page.fill("#password_input", user.password)
    page.click("#login_submit")
    page.wait_for_url(f"**/user/{user.name}/**", timeout=120_000)
    page.goto(f"{hub.url}{room['url']}")
    page.get_by_test_id("peerprep-talk").wait_for(timeout=120_000)
    return context, page


def chat_tab(page: Any) -> Any:
    return page.locator(".lm-TabBar-tab", has_text="question.chat").first


def test_two_students_chat_and_call_then_end(media_browser, talk_hub, artifacts_dir):
    hub = talk_hub
    ann, ben = student(hub, "ann"), student(hub, "ben")
    room = match_pair(ann, ben, room_timeout=SPAWN_S)
    a_ctx, a = open_room(media_browser, hub, ann, room)
    b_ctx, b = open_room(media_browser, hub, ben, room)
    try:
        # The chat opens docked beside the notebook for both, with PeerPrep's system lines.
        for page in (a, b):
            chat_tab(page).wait_for()
            page.locator(".jp-chat-rendered-message", has_text="joined the room").first.wait_for()
        # Ann writes Markdown with a code block; Ben reads it rendered.
        box = a.locator(".jp-chat-input-container textarea").first
        box.click()
        box.fill("Let us use a **hash map**:\n```python\nseen = {}\n```")
        box.press("Enter")
        b.locator(".jp-chat-rendered-message strong", has_text="hash map").wait_for()
        b.locator(".jp-chat-rendered-message pre", has_text="seen = {}").wait_for()

        # The call: Ann calls, Ben joins; both connect and hear each other.
        a.get_by_test_id("peerprep-call").click()
        a.locator("[data-call-phase=waiting]").wait_for()
        # Ben's panel says Ann is in the call and offers to join.
        b.get_by_test_id("peerprep-call").filter(has_text="Join call").wait_for()
        b.get_by_test_id("peerprep-call-status").filter(has_text="is in the call").wait_for()
        b.get_by_test_id("peerprep-call").click()
        for page in (a, b):
            page.locator("[data-call-phase=connected]").wait_for(timeout=60_000)
            page.wait_for_function(
                "() => (window.__peerprepPCs || []).some(p => p.connectionState === 'connected')"
            )
        for page in (a, b):
            first = page.evaluate(INBOUND_AUDIO_BYTES)
            page.wait_for_function(
                f"async () => (await ({INBOUND_AUDIO_BYTES})()) > {max(first, 0)}",
                timeout=30_000,
            )
        # The fake microphone's beeps show on the partner's speaking indicator.
        b.locator("[data-testid=peerprep-partner-speaking][data-speaking=yes]").wait_for(
            timeout=30_000
        )
        a.screenshot(path=str(artifacts_dir / "room-chat-and-call.png"))

        # Mute: Ann's microphone track is disabled and her panel says so.
        a.get_by_test_id("peerprep-mute").click()
        a.get_by_test_id("peerprep-mute").filter(has_text="Unmute").wait_for()
        a.locator(".jp-PeerPrep-speakers li", has_text="You (muted)").wait_for()

        # Unread badge: Ben switches to the simple interface with the notebook in front (the
        # chat hidden), and Ann writes.
        b.locator(".lm-TabBar-tab", has_text="question.ipynb").first.click()
        b.keyboard.press("Control+Shift+D")
        b.wait_for_function(
            "() => ![...document.querySelectorAll('.jp-chat-messages-container')]"
            ".some(e => e.offsetParent !== null)"
        )
        box.fill("Can you hear me now?")
        box.press("Enter")
        b.get_by_test_id("peerprep-chat-unread").wait_for()
        assert b.get_by_test_id("peerprep-chat-unread").inner_text() == "1"
        b.screenshot(path=str(artifacts_dir / "room-unread-badge.png"))

        # The room panel and the docked chat pass axe-core WCAG 2 A/AA.
        for panel in ("room panel", "chat"):
            result = a.evaluate(
                """async (panel) => {
                    const node = panel === 'chat'
                      ? document.querySelector('.jp-chat-messages-container')
                          .closest('.jp-MainAreaWidget, .lm-Widget.jp-Document')
                      : document.querySelector('#peerprep-room-panel');
                    return await axe.run(node,
                      {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}});
                }""",
                panel,
            )
            assert len(result["passes"]) > 3
            violations = [(v["id"], v["help"], len(v["nodes"])) for v in result["violations"]]
            assert violations == [], (panel, violations)

        # A third user's signalling is refused by the room's server.
        carol = HubUser(hub.url, f"carol{uuid.uuid4().hex[:6]}")
        carol.signup()
        carol.login()
        refused = carol.server(
            "POST",
            f"peerprep/api/rooms/{room['id']}/signal",
            owner=room["pair_user"],
            json={"payload": {"type": "bye"}},
        )
        assert refused.status_code == 403

        # End closes both peer connections.
        a.get_by_test_id("peerprep-end").click()
        a.locator(".jp-Dialog .jp-mod-accept").click()
        for page in (a, b):
            page.wait_for_function(ALL_CLOSED, timeout=60_000)
        b.get_by_test_id("peerprep-ended-notice").wait_for(timeout=60_000)
    except Exception:
        a.screenshot(path=str(artifacts_dir / "failure-a.png"))
        b.screenshot(path=str(artifacts_dir / "failure-b.png"))
        raise
    finally:
        a_ctx.close()
        b_ctx.close()
