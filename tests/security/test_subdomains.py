"""Script a student puts into a room cannot act as the partner at the hub or the service.

A real hub serving each server on its own subdomain of localhost (``subdomain_host``; Chromium
resolves ``*.localhost`` to the loopback), two students matched into a room. The attacker puts
a page into the room; the victim, logged in to the hub in Chromium, opens the room. Script
running there with the room's origin (a trusted HTML output, a page the room serves) must not
read the hub's cookies nor call the hub API or the PeerPrep service as the victim, and through
the room's own relay it reaches only the room's own actions. How script is kept out of the room
page in the first place: tests/security/test_room_page.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from jupyter_peerprep.testing.hubclient import HubUser
from jupyter_peerprep.testing.rooms import match_pair, new_student, wait_for_questions

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]

# What the attacker's script does in the victim's browser; every answer it can read comes back.
ATTACK = """async ({hub, service, victim, relay}) => {
  const out = {origin: location.origin};
  try { out.cookie = document.cookie; } catch (e) { out.cookie = "(no access: " + e + ")"; }
  async function tryFetch(url, init) {
    try {
      const r = await fetch(url, {credentials: "include", redirect: "manual", ...init});
      return {status: r.status, body: await r.text()};
    } catch (e) {
      return {blocked: String(e)};
    }
  }
  // The hub's page carries the victim's XSRF token, which the hub API wants with a cookie.
  const home = await tryFetch(hub + "/hub/home");
  const found = /xsrf_token: "([^"]+)"/.exec(home.body || "");
  const xsrf = found ? found[1] : "";
  out.hubHome = home;
  out.hubUser = await tryFetch(hub + "/hub/api/user", {headers: {"X-XSRFToken": xsrf}});
  out.hubUserHere = await tryFetch("/hub/api/user", {headers: {"X-XSRFToken": xsrf}});
  out.hubToken = await tryFetch(hub + "/hub/api/users/" + victim + "/tokens", {method: "POST",
    headers: {"Content-Type": "application/json", "X-XSRFToken": xsrf}, body: "{}"});
  out.serviceMe = await tryFetch(service + "/services/peerprep/api/me");
  out.serviceMeHere = await tryFetch("/services/peerprep/api/me");
  // Not a cross-origin call: the room's own relay, with the victim's session on the room.
  out.relayMe = await tryFetch(relay);
  const roomXsrf = /(?:^|; )_xsrf=([^;]+)/.exec(out.cookie || "");
  const roomHeaders = {"X-XSRFToken": roomXsrf ? decodeURIComponent(roomXsrf[1]) : ""};
  out.relayMeWithXsrf = await tryFetch(relay, {headers: roomHeaders});
  out.relayHistoryWithXsrf = await tryFetch(relay.replace(/me$/, "history"),
    {headers: roomHeaders});
  for (const v of Object.values(out)) { if (v && v.body) v.body = v.body.slice(0, 300); }
  return out;
}"""


@pytest.fixture(scope="module")
def room(subdomain_hub: Any) -> tuple[HubUser, HubUser, dict[str, Any]]:
    attacker = new_student(subdomain_hub.url, "mallory", subdomains=True)
    victim = new_student(subdomain_hub.url, "victim", subdomains=True)
    wait_for_questions(attacker)
    return attacker, victim, match_pair(attacker, victim)


@pytest.fixture(scope="module")
def attack(
    room: Any, subdomain_hub: Any, browser: Any, log_in: Any, tmp_path_factory: Any
) -> dict[str, Any]:
    """The attacker's script, run in the victim's browser: in the room's JupyterLab page
    (as a trusted HTML output or anything else that runs there would) and in a page the
    attacker wrote into the room. Returns what it could read, per place."""
    attacker, victim, info = room
    pair = info["pair_user"]
    hub = subdomain_hub.url
    page_html = "<!doctype html><title>notes</title><p>nothing to see</p>"
    put = attacker.server(
        "PUT",
        "api/contents/notes.html",
        owner=pair,
        json={"type": "file", "format": "text", "content": page_html},
    )
    assert put.status_code in (200, 201), put.text
    artifacts = REPO / "test-artifacts" / "test_subdomains"
    artifacts.mkdir(parents=True, exist_ok=True)
    context = browser.new_context()
    page = context.new_page()
    try:
        log_in(page, hub, victim)
        # The victim holds a hub session: there is something to steal.
        hub_cookies = {c["name"] for c in context.cookies(f"{hub}/hub/")}
        assert "jupyterhub-hub-login" in hub_cookies, hub_cookies
        room_base = victim.server_base(pair)
        assert room_base.startswith(f"http://{pair}.localhost:")
        args = {
            "hub": hub,
            "service": hub.replace("//localhost", "//peerprep--service.localhost"),
            "victim": victim.name,
            "relay": f"/user/{pair}/peerprep/api/me",
        }
        results: dict[str, Any] = {"room_origin": room_base.split("/user/")[0]}
        for where, url in (("lab", f"{room_base}/lab"), ("file", f"{room_base}/files/notes.html")):
            page.goto(url)
            page.wait_for_load_state("domcontentloaded")
            page.screenshot(path=str(artifacts / f"room-{where}.png"))
            results[where] = page.evaluate(ATTACK, args)
        (artifacts / "attack.json").write_text(json.dumps(results, indent=2))
    finally:
        context.close()
    results["victim"] = victim.name
    return results


@pytest.mark.parametrize("where", ["lab", "file"])
def test_room_script_cannot_act_as_the_partner_at_the_hub_or_service(attack, where):
    out = attack[where]
    # The room's own origin (the lab page) or an opaque one (the sandboxed file), never the
    # hub's.
    assert out["origin"] in (attack["room_origin"], "null"), out
    for cookie in ("jupyterhub-hub-login", "jupyterhub-session-id"):
        assert cookie not in out["cookie"], out
    for call in ("hubHome", "hubUser", "hubUserHere", "hubToken", "serviceMe", "serviceMeHere"):
        answer = out[call]
        # Refused by the browser (another origin, no CORS), or answered without the victim's
        # session: never readable as the victim.
        assert "blocked" in answer or answer["status"] not in (200, 201), (call, answer)
        assert attack["victim"] not in answer.get("body", ""), (call, answer)


def test_room_script_cannot_use_the_rooms_relay_beyond_the_room(attack):
    # The room's relay does the room's own actions only (jupyter_peerprep/room_relay.py):
    # the victim's history is refused even with the victim's session and _xsrf.
    answer = attack["lab"]["relayHistoryWithXsrf"]
    assert answer.get("status") == 403, answer
    assert "your own JupyterLab" in answer["body"], answer


@pytest.mark.xfail(
    strict=True,
    reason="cannot be closed on one origin (docs/explanation/security.md, 'What remains'): "
    "script that already runs in the room's page shares the victim's session on the pair "
    "server, so it can do the room's own actions as the victim (who am I, the room, Run, "
    "Submit, End), which the room panel needs from the relay. The room page policy keeps "
    "students' script out of that page (tests/security/test_room_page.py).",
)
def test_room_script_cannot_do_the_rooms_own_actions_as_the_partner(attack):
    answer = attack["lab"]["relayMeWithXsrf"]
    assert "blocked" in answer or answer["status"] != 200, answer
