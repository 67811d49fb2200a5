"""A student cannot get script into the partner's room page, nor use the room page as the partner.

Two students share one pair server, so one origin: script running in the room's JupyterLab page
rides the other student's session there. A real hub with servers on subdomains, an attacker
(a student) and a victim (an instructor, who may read hidden tests) matched into a room. Before
the victim opens the room, the attacker plants, from the room's own kernel and notebook:

- a notebook cell, marked trusted, whose outputs carry script: ``application/javascript``, an
  HTML ``<script>``, an event handler, and a ``<script src>`` of a file served by the room;
  a Markdown cell with an event handler (the partner receives all of it through Yjs);
- a JupyterLab extension in the room's Jupyter data directory, and lab user settings in its
  Jupyter config directory (what ``$JUPYTER_DATA_DIR``/``$JUPYTER_CONFIG_DIR`` or their
  defaults under the home name).

Then the victim opens the room in Chromium. Every planted script pushes its name onto
``window.__peerprepPwned``: none may run. Script that runs anyway (simulated with Playwright's
``evaluate``) must find no hub token in the page and a relay that does the room's own actions
only.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from jupyter_peerprep.testing.hubclient import HubUser
from jupyter_peerprep.testing.kernel import run_code
from jupyter_peerprep.testing.rooms import match_pair, new_admin, new_student
from jupyter_peerprep.testing.ydoc import YClient

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
QUESTION = "best-single-trade"


def mark(name: str) -> str:
    """Script that records that it ran, in the top window of the page it runs in."""
    return f"(window.top.__peerprepPwned = window.top.__peerprepPwned || []).push({name!r});"


def planted_cells(pair: str) -> list[dict[str, Any]]:
    served = f"/user/{pair}/files/served.js"
    html = (
        '<span class="pp-marker">rendered</span>'
        f"<script>{mark('html-script')}</script>"
        f'<img src="data:," onerror="{mark("html-onerror")}">'
        f'<script src="{served}"></script>'
    )
    return [
        {
            "cell_type": "code",
            "source": "print('look at my outputs')",
            "metadata": {"trusted": True},
            "execution_count": 1,
            "outputs": [
                {
                    "output_type": "display_data",
                    "metadata": {},
                    "data": {
                        "application/javascript": mark("javascript-output"),
                        "text/plain": "<IPython.core.display.Javascript object>",
                    },
                },
                {
                    "output_type": "display_data",
                    "metadata": {},
                    "data": {"text/html": html, "text/plain": "<HTML>"},
                },
            ],
        },
        {
            "cell_type": "markdown",
            "source": f'Notes <img src="data:," onerror="{mark("markdown-onerror")}">',
            "metadata": {"trusted": True},
        },
    ]


# Run in the room's kernel by the attacker: plant files where Jupyter looks for extensions and
# settings (both the defaults under the home and whatever the environment names), a script
# the room serves under /files/, and a Python package in the home (the server's working
# directory). Prints where each write landed.
PLANT = """
import json, os, pathlib
from jupyter_core.paths import jupyter_config_dir, jupyter_data_dir
home = pathlib.Path.home()
data_dirs = {str(home / ".local/share/jupyter"), jupyter_data_dir()}
config_dirs = {str(home / ".jupyter"), jupyter_config_dir()}
done = {"data": [], "config": [], "refused": []}
package = {"name": "peerprep-planted", "version": "0.1.0",
           "jupyterlab": {"extension": True,
                          "_build": {"load": "static/remoteEntry.js", "extension": "./extension"}}}
for d in data_dirs:
    ext = pathlib.Path(d, "labextensions", "peerprep-planted")
    try:
        (ext / "static").mkdir(parents=True, exist_ok=True)
        (ext / "package.json").write_text(json.dumps(package))
        (ext / "static" / "remoteEntry.js").write_text(%(extension_js)r)
        done["data"].append(d)
    except OSError as e:
        done["refused"].append(f"{d}: {e}")
for d in config_dirs:
    settings = pathlib.Path(d, "lab", "user-settings", "@jupyterlab", "apputils-extension")
    try:
        settings.mkdir(parents=True, exist_ok=True)
        theme = json.dumps({"theme": "JupyterLab Dark"})
        (settings / "themes.jupyterlab-settings").write_text(theme)
        done["config"].append(d)
    except OSError as e:
        done["refused"].append(f"{d}: {e}")
(home / "served.js").write_text(%(served_js)r)
# A package named like one the server imports only on demand (nbconvert, for /nbconvert/).
(home / "nbconvert").mkdir(exist_ok=True)
(home / "nbconvert" / "__init__.py").write_text(%(module)r)
print(json.dumps(done))
"""

# The planted package records which process imported it.
IMPORTED = """
import pathlib
cmdline = pathlib.Path("/proc/self/cmdline").read_bytes().replace(b"\\0", b" ").decode()
pathlib.Path.home().joinpath("imported-by.txt").write_text(cmdline)
raise ImportError("planted")
"""

# What script in the victim's room page could read or do through the room's relay.
RELAY_CALLS = """async ({relay, question, profile}) => {
  const xsrf = decodeURIComponent((/(?:^|; )_xsrf=([^;]+)/.exec(document.cookie) || ["", ""])[1]);
  async function call(method, path, body) {
    const r = await fetch(relay + path, {method, credentials: "same-origin",
      headers: {"X-XSRFToken": xsrf, "Content-Type": "application/json"},
      body: body === undefined ? undefined : JSON.stringify(body)});
    return {status: r.status, body: (await r.text()).slice(0, 20000)};
  }
  return {
    me: await call("GET", "me"),
    current: await call("GET", "rooms/current"),
    history: await call("GET", "history"),
    profileEdit: await call("PUT", "profile", profile),
    fullQuestion: await call("GET", "questions/" + question + "?view=full"),
    studentNotebook: await call("GET", "questions/" + question + "/student-notebook"),
    match: await call("POST", "match", {difficulty: "easy", topics: ["arrays"],
                                        language: "python", idempotency_key: "x"}),
    otherRoom: await call("GET", "rooms/" + "0".repeat(32)),
    otherRoomRuns: await call("GET", "rooms/" + "0".repeat(32) + "/runs"),
  };
}"""


@pytest.fixture(scope="module")
def room(subdomain_hub: Any) -> tuple[HubUser, HubUser, dict[str, Any]]:
    victim = new_admin(subdomain_hub.url, subdomains=True)
    attacker = new_student(subdomain_hub.url, "eve", subdomains=True)
    return attacker, victim, match_pair(attacker, victim)


@pytest.fixture(scope="module")
def planted(room: Any) -> dict[str, Any]:
    attacker, _, info = room
    pair = info["pair_user"]
    server = attacker.server_base(pair)
    code = PLANT % {
        "extension_js": mark("lab-extension"),
        "served_js": mark("served-file"),
        "module": IMPORTED,
    }
    result = asyncio.run(run_code(server, attacker.token(), code, timeout=120))
    assert result.ok, result
    where = json.loads(result.stdout.strip().splitlines()[-1])

    async def write_cells() -> None:
        async with YClient.connect(server, info["notebook_path"], attacker.token()) as client:
            for cell in planted_cells(pair):
                client.notebook.append_cell(cell)
            await client.wait_for(lambda c: "look at my outputs" in "".join(c.cell_sources()))
            # Let the server take the update before the websocket closes.
            await asyncio.sleep(1)

    asyncio.run(write_cells())
    return where


@pytest.fixture(scope="module")
def victim_page(
    room: Any, planted: dict[str, Any], subdomain_hub: Any, browser: Any, log_in: Any
) -> Iterator[Any]:
    _, victim, info = room
    context = browser.new_context()
    page = context.new_page()
    violations: list[str] = []  # console errors and warnings, CSP reports among them
    page.on(
        "console",
        lambda m: violations.append(m.text) if m.type in ("error", "warning") else None,
    )
    artifacts = REPO / "test-artifacts" / "test_room_page"
    artifacts.mkdir(parents=True, exist_ok=True)
    try:
        log_in(page, subdomain_hub.url, victim)
        page.goto(f"{victim.server_base(info['pair_user'])}/lab/tree/{info['notebook_path']}")
        # The room works: the notebook opens with the planted outputs, the room panel shows.
        page.wait_for_selector(".pp-marker", timeout=60_000)
        page.wait_for_selector("#peerprep-room-panel", state="attached", timeout=60_000)
        # Every script of the page has loaded ("networkidle" never comes: the room's call bar
        # keeps a long poll open for the partner's signals), and the outputs have rendered.
        page.wait_for_load_state("load")
        page.wait_for_timeout(2_000)
        yield page
    finally:
        page.screenshot(path=str(artifacts / "victim-room.png"))
        (artifacts / "console.json").write_text(json.dumps(violations, indent=2))
        context.close()


def test_partners_outputs_and_markdown_run_no_script_in_my_room_page(victim_page):
    ran = victim_page.evaluate("window.__peerprepPwned || []")
    assert ran == [], f"the attacker's script ran in the victim's room page: {ran}"


def test_extension_and_settings_planted_in_the_room_are_not_loaded(victim_page, planted):
    ran = victim_page.evaluate("window.__peerprepPwned || []")
    assert "lab-extension" not in ran, planted
    theme = victim_page.evaluate("document.body.dataset.jpThemeName")
    assert theme != "JupyterLab Dark", ("the attacker's lab settings were applied", planted)


def test_room_page_holds_no_hub_token_of_the_visitor(victim_page, subdomain_hub, room):
    _, victim, _ = room
    token = victim_page.evaluate(
        "JSON.parse(document.getElementById('jupyter-config-data').textContent).token || ''"
    )
    if token:
        # What that token would give the attacker, once sent out of the page.
        service = subdomain_hub.url.replace("//localhost", "//peerprep--service.localhost")
        history = requests.get(
            f"{service}/services/peerprep/api/history",
            headers={"Authorization": f"token {token}"},
            timeout=30,
        )
        pytest.fail(
            f"the room page hands script {victim.name}'s hub token; with it the service "
            f"answers history with HTTP {history.status_code}"
        )


def test_room_server_imports_no_python_module_the_room_wrote(room, planted):
    attacker, _, info = room
    pair = info["pair_user"]
    # Any visitor's request that makes the server import nbconvert.
    attacker.server("GET", f"nbconvert/html/{info['notebook_path']}", owner=pair, timeout=60)
    imported = attacker.server("GET", "api/contents/imported-by.txt", owner=pair)
    if imported.status_code == 200:
        by = imported.json()["content"]
        assert "singleuser" not in by, f"the room's server imported the room's package: {by}"


@pytest.fixture(scope="module")
def relay_answers(victim_page: Any, room: Any) -> dict[str, Any]:
    _, victim, info = room
    answers: dict[str, Any] = victim_page.evaluate(
        RELAY_CALLS,
        {
            "relay": f"/user/{info['pair_user']}/peerprep/api/",
            "question": QUESTION,
            "profile": {"display_name": "pwned by eve"},
        },
    )
    # The victim's own profile, read through the victim's own server: not edited.
    answers["ownProfile"] = victim.peerprep("GET", "profile").json()
    return answers


@pytest.mark.parametrize(
    "call",
    ["history", "profileEdit", "fullQuestion", "studentNotebook", "match", "otherRoomRuns"],
)
def test_room_relay_refuses_what_is_not_the_rooms_own_action(relay_answers, call):
    answer = relay_answers[call]
    assert answer["status"] == 403, answer
    message = json.loads(answer["body"])["message"]
    assert "your own JupyterLab" in message, message
    assert relay_answers["ownProfile"].get("display_name") != "pwned by eve"


def test_room_relay_still_does_the_rooms_own_actions(relay_answers, room):
    _, _, info = room
    current = relay_answers["current"]
    assert current["status"] == 200, current
    assert json.loads(current["body"])["room"]["id"] == info["id"]
    assert relay_answers["otherRoom"]["status"] in (403, 404), relay_answers["otherRoom"]
