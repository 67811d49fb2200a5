"""One room cannot hurt the host: its kernel is the limited one, and a fork bomb or a memory hog
in it leaves the hub, the service and every other room working.

Local tier (bwrap + a cgroup per server) on the suite's hub with tight limits
(tests/security/conftest.py); the container tier on ``docker_hub`` (tests/conftest.py).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import psutil
import pytest
import requests

from jupyter_peerprep.testing.containers import container_of, container_pids
from jupyter_peerprep.testing.hubclient import HubUser
from jupyter_peerprep.testing.kernel import run_code, start_code
from jupyter_peerprep.testing.rooms import match_pair, new_student, wait_for_questions

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

FORK_BOMB = "import os\nwhile True:\n    os.fork()\n"
BOMB_SPREAD = 30
MEMORY_HOG = "hog = [0] * (20 * 1024**3 // 8)  # a 20 GB list\n"


def pair_room(hub_url: str, spawn_timeout: float = 90.0) -> tuple[HubUser, HubUser, dict]:
    a = new_student(hub_url, "lim", spawn_timeout=spawn_timeout)
    b = new_student(hub_url, "lim", spawn_timeout=spawn_timeout)
    wait_for_questions(a)
    return a, b, match_pair(a, b, room_timeout=max(120.0, 2 * spawn_timeout))


def room_processes(pair_user: str) -> list[psutil.Process]:
    """Host processes of a pair server (its sandbox, server, kernels and their children)."""
    roots = [
        p
        for p in psutil.process_iter(["cmdline"])
        if any(pair_user in part for part in (p.info["cmdline"] or []))
        and "jupyterhub-singleuser" in " ".join(p.info["cmdline"] or [])
    ]
    found: dict[int, psutil.Process] = {}
    for root in roots:
        found[root.pid] = root
        try:
            children = root.children(recursive=True)
        except psutil.Error:
            continue  # it ended meanwhile
        for child in children:
            found[child.pid] = child
    return list(found.values())


def assert_everything_else_works(hub_url: str, other: HubUser, other_room: dict) -> None:
    """The hub and the service answer, and the other room runs code in a new kernel."""
    health = requests.get(f"{hub_url}/hub/health", timeout=60)
    assert health.status_code == 200
    service = requests.get(f"{hub_url}/services/peerprep/api/health", timeout=60)
    assert service.status_code == 200, service.text
    server = f"{hub_url}/user/{other_room['pair_user']}"
    result = asyncio.run(run_code(server, other.token(), "print(6 * 7)", timeout=120))
    assert result.ok and result.stdout.strip() == "42", result


def test_a_room_offers_only_the_limited_kernel(security_hub):
    a, _b, room = pair_room(security_hub.url)
    pair = room["pair_user"]
    specs = a.server("GET", "api/kernelspecs", owner=pair).json()
    # The limited Python kernel and, for JavaScript/TypeScript rooms, the limited Deno one.
    assert set(specs["kernelspecs"]) == {"peerprep-python", "peerprep-deno"}
    assert specs["default"] == "peerprep-python"
    notebook = a.server("GET", "api/contents/question.ipynb", owner=pair).json()
    assert notebook["content"]["metadata"]["kernelspec"]["name"] == "peerprep-python"
    refused = a.server("POST", "api/kernels", owner=pair, json={"name": "python3"})
    assert refused.status_code >= 400, refused.text
    # What a cell sees: the kernel's own limits are on.
    server = f"{security_hub.url}/user/{pair}"
    probe = "import resource; print(resource.getrlimit(resource.RLIMIT_AS)[0])"
    result = asyncio.run(run_code(server, a.token(), probe))
    assert result.ok and 0 < int(result.stdout) <= 4 * 1024**3, result
    a.peerprep("POST", f"rooms/{room['id']}/end")


def test_a_memory_hog_and_a_fork_bomb_hurt_only_their_room(security_hub):
    attacker, _partner, room = pair_room(security_hub.url)
    other, _other_partner, other_room = pair_room(security_hub.url)
    server = f"{security_hub.url}/user/{room['pair_user']}"

    # A 20 GB list: the cell fails (or its kernel dies); nothing else notices.
    hog = asyncio.run(run_code(server, attacker.token(), MEMORY_HOG, timeout=120))
    assert not hog.ok
    assert_everything_else_works(security_hub.url, other, other_room)

    # A fork bomb: it fills its own room's process budget and no more.
    asyncio.run(start_code(server, attacker.token(), FORK_BOMB))
    # A room runs about four processes (sandbox, server, kernel); a bomb many more, until its
    # limits stop it (or kill some of it).
    spread, deadline = 0, time.monotonic() + 120
    while time.monotonic() < deadline and spread < BOMB_SPREAD:
        spread = max(spread, len(room_processes(room["pair_user"])))
        time.sleep(0.1)
    assert spread >= BOMB_SPREAD, f"the fork bomb did not start ({spread} processes)"
    assert_everything_else_works(security_hub.url, other, other_room)

    # Ending the room ends every process the bomb made.
    attacker.peerprep("POST", f"rooms/{room['id']}/end")

    # ... and then its cgroup (the hub leaves no empty cgroup behind per room).
    def cgroups() -> list[Path]:
        return list(Path("/sys/fs/cgroup").glob(f"*/peerprep/server-{room['pair_user']}-*"))

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (room_processes(room["pair_user"]) or cgroups()):
        time.sleep(0.5)
    assert room_processes(room["pair_user"]) == []
    assert cgroups() == []
    other.peerprep("POST", f"rooms/{other_room['id']}/end")


@pytest.mark.container
@pytest.mark.timeout(1800)
def test_in_containers_a_fork_bomb_and_a_memory_hog_hurt_only_their_room(docker_hub, docker_client):
    attacker, _partner, room = pair_room(docker_hub.url, spawn_timeout=180)
    other, _other_partner, other_room = pair_room(docker_hub.url, spawn_timeout=180)
    server = f"{docker_hub.url}/user/{room['pair_user']}"

    hog = asyncio.run(run_code(server, attacker.token(), MEMORY_HOG, timeout=180))
    assert not hog.ok
    assert_everything_else_works(docker_hub.url, other, other_room)

    container = container_of(docker_client, room["pair_user"])
    # The room's own limits, as the engine enforces them (tests/conftest.py's docker_hub).
    assert container.attrs["HostConfig"]["PidsLimit"] == 384
    assert container.attrs["HostConfig"]["Memory"] == 448 * 1024**2
    asyncio.run(start_code(server, attacker.token(), FORK_BOMB))
    deadline = time.monotonic() + 120
    spread = 0
    while time.monotonic() < deadline and spread < BOMB_SPREAD:
        spread = max(spread, container_pids(container))
        time.sleep(0.1)
    assert spread >= BOMB_SPREAD, f"the fork bomb did not start ({spread} pids)"
    assert_everything_else_works(docker_hub.url, other, other_room)
    for user, r in ((attacker, room), (other, other_room)):
        user.peerprep("POST", f"rooms/{r['id']}/end")
