"""Acting as the partner: from a real room, with whatever the room holds.

The attacker is one of the two students of a room; the victim is the other, an instructor (so
the prize includes every hidden test). The attacker's code runs in the room's kernel, which
either student may write, and uses everything a kernel can reach: its environment, every
process's ``/proc/<pid>/environ`` and readable memory. Every hub token found there is tried on
the service, with and without ``X-PeerPrep-User: <victim>``. Then the pair user's own token is
tried directly on each endpoint a student uses. None of it may act as the victim.
"""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
import requests

from jupyter_peerprep.testing.kernel import run_code
from jupyter_peerprep.testing.rooms import match_pair, new_student

pytestmark = pytest.mark.slow

# Runs in the room's kernel: collect every string shaped like a hub token (a uuid4 hex) from
# the kernel's environment and from every process it can see, then try each on the service.
HARVEST = r"""
import json, os, re, urllib.request, urllib.error
from concurrent.futures import ThreadPoolExecutor

SERVICE, VICTIM = {service!r}, {victim!r}
TOKEN = re.compile(rb"(?<![0-9a-f])[0-9a-f]{{12}}4[0-9a-f]{{3}}[89ab][0-9a-f]{{15}}(?![0-9a-f])")
found, readable = {{}}, []

def scan(data, where):
    for m in TOKEN.finditer(data):
        found.setdefault(m.group().decode(), where)

def cmdline(pid):
    return open(f"/proc/{{pid}}/cmdline", "rb").read().replace(b"\0", b" ").decode()[:200]

scan("\n".join(f"{{k}}={{v}}" for k, v in os.environ.items()).encode(), "kernel environment")
for pid in [p for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()]:
    try:
        scan(open(f"/proc/{{pid}}/environ", "rb").read(), f"/proc/{{pid}}/environ")
        readable.append(f"/proc/{{pid}}/environ " + cmdline(pid))
    except OSError:
        pass
    try:
        with open(f"/proc/{{pid}}/maps") as maps, open(f"/proc/{{pid}}/mem", "rb") as mem:
            for line in maps:
                span, perms = line.split()[:2]
                lo, hi = (int(x, 16) for x in span.split("-"))
                if not perms.startswith("rw") or hi - lo > (512 << 20):
                    continue
                try:
                    mem.seek(lo)
                    scan(mem.read(hi - lo), f"/proc/{{pid}}/mem")
                    readable.append(f"/proc/{{pid}}/mem " + cmdline(pid))
                except (OSError, ValueError, OverflowError):
                    pass
    except OSError:
        pass

def as_victim(token):
    wins = []
    for headers in ({{}}, {{"X-PeerPrep-User": VICTIM}}):
        request = urllib.request.Request(
            SERVICE + "api/me", headers={{"Authorization": "token " + token, **headers}}
        )
        try:
            with urllib.request.urlopen(request, timeout=20) as response:
                if json.load(response).get("name") == VICTIM:
                    wins.append({{"token": token, "headers": headers, "from": found[token]}})
        except (urllib.error.URLError, OSError, ValueError):
            pass
    return wins

with ThreadPoolExecutor(8) as pool:
    wins = [w for ws in pool.map(as_victim, list(found)[:5000]) for w in ws]
server = str(os.getppid())  # the Jupyter server that started this kernel
print(json.dumps({{
    "candidates": len(found),
    "server_readable": sorted({{r for r in readable if r.split("/")[2] == server}}),
    "wins": wins,
}}))
"""


@pytest.fixture(scope="module")
def room(security_hub, instructor):
    attacker = new_student(security_hub.url, "mallory")
    return attacker, instructor, match_pair(attacker, instructor)


def service_url(hub) -> str:
    return f"{hub.url}/services/peerprep/"


def test_partner_code_in_the_room_cannot_act_as_the_partner(security_hub, room):
    attacker, victim, info = room
    pair = info["pair_user"]
    server = f"{security_hub.url}/user/{pair}"
    # The victim works in the room first, through its relay, so the pair server has seen
    # (and may still hold) the victim's credentials.
    me = victim.server("GET", "peerprep/api/me", owner=pair)
    assert me.status_code == 200 and me.json()["name"] == victim.name, me.text
    code = HARVEST.format(service=service_url(security_hub), victim=victim.name)
    result = asyncio.run(run_code(server, attacker.token(), code, timeout=240))
    assert result.ok, result.error
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["wins"] == [], (
        f"code in the room acted as {victim.name} with credentials found in the room: "
        f"{report['wins']}"
    )
    # The server, which holds the credentials, is closed to the kernel: not its environment,
    # not its memory (where visitors' tokens pass through).
    assert report["server_readable"] == [], report["server_readable"]


def pair_token(hub, instructor, pair: str) -> str:
    """A token of the room's pair user, as an admin can mint one (the kernel used to hold it)."""
    response = instructor.hub_api("POST", f"users/{pair}/tokens", json={"note": "attack"})
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


def test_the_pair_users_token_acts_as_no_student(security_hub, room):
    attacker, victim, info = room
    token = pair_token(security_hub, victim, info["pair_user"])
    before = victim.peerprep("GET", "profile").json()
    room_id = info["id"]
    question = info["question"]["id"]
    attempts = {
        "me": ("GET", "api/me", None),
        "history": ("GET", "api/history", None),
        "profile edit": ("PUT", "api/profile", {"display_name": f"pwned {uuid.uuid4().hex[:4]}"}),
        "hidden tests": ("GET", f"api/questions/{question}?view=full", None),
        "submit": ("POST", f"api/rooms/{room_id}/runs", {"kind": "submit", "source": "x = 1"}),
        "end": ("POST", f"api/rooms/{room_id}/end", None),
    }
    for claimed in ({"X-PeerPrep-User": victim.name}, {"X-PeerPrep-User": attacker.name}, {}):
        for what, (method, path, body) in attempts.items():
            response = requests.request(
                method,
                service_url(security_hub) + path,
                headers={"Authorization": f"token {token}", **claimed},
                json=body,
                timeout=60,
            )
            assert response.status_code == 403, (what, claimed, response.status_code, response.text)
            assert "pair" in response.json()["message"], response.text
    # Nothing changed for the victim: same profile, the room still active, no run recorded.
    assert victim.peerprep("GET", "profile").json() == before
    now = victim.peerprep("GET", f"rooms/{room_id}").json()
    assert now["state"] == "active", now
    runs = victim.peerprep("GET", f"rooms/{room_id}/runs").json()["runs"]
    assert runs == []


def test_the_relay_on_the_pair_server_answers_as_the_visitor(security_hub, room):
    """Each student, through the room's relay, is themselves, and sees only their own data."""
    attacker, victim, info = room
    for user in (attacker, victim):
        me = user.server("GET", "peerprep/api/me", owner=info["pair_user"])
        assert me.status_code == 200, me.text
        assert me.json()["name"] == user.name
    # The header that used to choose the identity is ignored: the token's owner answers.
    spoofed = attacker.server(
        "GET", "peerprep/api/me", owner=info["pair_user"], headers={"X-PeerPrep-User": victim.name}
    )
    assert spoofed.status_code == 200 and spoofed.json()["name"] == attacker.name


def test_a_browser_session_in_the_room_acts_as_its_student(security_hub, room):
    """The way JupyterLab calls the relay: the room server's OAuth cookie, no token of ours."""
    attacker, _victim, info = room
    base = f"{security_hub.url}/user/{info['pair_user']}"
    lab = attacker.session.get(f"{base}/lab", timeout=60)  # the hub's OAuth dance, as a browser
    assert lab.status_code == 200, lab.url
    me = attacker.session.get(f"{base}/peerprep/api/me", timeout=60)
    assert me.status_code == 200 and me.json()["name"] == attacker.name, me.text
    xsrf = attacker._xsrf(f"/user/{info['pair_user']}/")
    # A room action that changes state: the heartbeat marks the caller present.
    beat = attacker.session.post(
        f"{base}/peerprep/api/rooms/{info['id']}/heartbeat",
        json={},
        headers={"X-XSRFToken": xsrf},
        timeout=60,
    )
    assert beat.status_code == 200, beat.text
    online = {m["name"]: m["online"] for m in beat.json()["members"]}
    assert online[attacker.name] is True, online
    # Anything but the room's own actions goes through one's own server (room_relay.py).
    edit = attacker.session.put(
        f"{base}/peerprep/api/profile",
        json={"display_name": "Mallory M."},
        headers={"X-XSRFToken": xsrf},
        timeout=60,
    )
    assert edit.status_code == 403 and "your own JupyterLab" in edit.json()["message"], edit.text
