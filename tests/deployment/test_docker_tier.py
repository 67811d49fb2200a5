"""The one-host tier for real: a hub with DockerSpawner on podman behind the Docker API.

A student signs up through the hub's forms and starts a server; it must run as a container of
the single-user image, under the configured memory limit, as an unprivileged user, reach the
hub and the PeerPrep service, reach nothing outside its network, and be removed when stopped.

Pair rooms in containers (two students, one shared notebook) build on the ``docker_hub``
fixture in conftest.py once rooms exist.
"""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_peerprep.testing.hubclient import HubUser
from jupyter_peerprep.testing.rooms import match_pair, wait_for_questions
from jupyter_peerprep.testing.rooms import new_student as signed_up_student

# The first run builds the images (minutes); later runs reuse them.
pytestmark = [pytest.mark.container, pytest.mark.slow, pytest.mark.timeout(1800)]

ROOT = Path(__file__).resolve().parents[2]

# Run inside the container: try each (host, port) and report how it went and how fast.
CONNECT_PROBE = r"""
import json, socket, sys, time
out = {}
for target in json.loads(sys.argv[1]):
    host, port = target
    start = time.monotonic()
    try:
        socket.create_connection((host, port), timeout=5).close()
        result = "connected"
    except OSError as e:
        result = f"{type(e).__name__}: {e}"
    out[f"{host}:{port}"] = {"result": result, "seconds": round(time.monotonic() - start, 3)}
print(json.dumps(out))
"""


@pytest.fixture
def host_listener() -> Iterator[int]:
    """A TCP port listening on all of this machine's addresses (what a room must not reach)."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("0.0.0.0", 0))
    server.listen(8)
    server.settimeout(0.2)
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                conn.close()
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join(2)
        server.close()


def container_gone(docker_client: Any, username: str) -> bool:
    """True once the server's container no longer exists (podman may answer 500 "no such
    container" while it is being removed, then 404)."""
    import docker.errors

    try:
        container_of(docker_client, username)
    except docker.errors.NotFound:
        return True
    except docker.errors.APIError as e:
        if "no such container" in str(e):
            return True
        raise
    return False


def container_of(docker_client: Any, username: str) -> Any:
    """The container of a user's server, named as 50-docker.py's name_template says (with
    DockerSpawner's escaping: "pair-ab" becomes "pair-2dab")."""
    from dockerspawner import DockerSpawner

    return docker_client.containers.get(f"peerprep-{DockerSpawner._escape(username)}")


def exec_json(container: Any, *cmd: str) -> Any:
    code, output = container.exec_run(list(cmd), demux=False)
    text = output.decode(errors="replace") if isinstance(output, bytes) else str(output)
    assert code == 0, f"{cmd[:2]} failed in the container ({code}): {text[-2000:]}"
    return json.loads(text.strip().splitlines()[-1])


def test_hub_image_loads_the_docker_and_production_config(docker_client, app_images):
    """The hub image carries the package and a hub configuration that loads for its tier."""
    check = (
        "import jupyter_peerprep, dockerspawner, nativeauthenticator;"
        "from jupyterhub.app import JupyterHub;"
        "app = JupyterHub();"
        "app.load_config_file("
        "'/opt/peerprep/share/jupyter_peerprep/hub_config/jupyterhub_config.py');"
        "print(app.config.JupyterHub.spawner_class, app.config.JupyterHub.db_url)"
    )
    container = docker_client.containers.run(
        app_images["hub"],
        ["python3", "-c", check],
        environment={
            "PEERPREP_PRODUCTION": "1",
            "PEERPREP_HUB_DB_URL": "postgresql+psycopg://hub:pw@db/jupyterhub",
            "PEERPREP_DB_URL": "postgresql+psycopg://peerprep:pw@db/peerprep",
            "PEERPREP_EXTERNAL_URL": "https://peerprep.example.edu",
        },
        network_mode="none",
        detach=True,
    )
    try:
        status = container.wait(timeout=120)
        output = container.logs(stdout=True, stderr=False).decode()
        assert status["StatusCode"] == 0, container.logs().decode()[-3000:]
    finally:
        # v=True: also the anonymous volume of the image's VOLUME /srv/peerprep/state.
        container.remove(v=True, force=True)
    assert output.split() == [
        "jupyter_peerprep.docker_spawner.PeerPrepDockerSpawner",
        "postgresql+psycopg://hub:pw@db/jupyterhub",
    ]


def test_student_server_runs_in_a_limited_isolated_container(
    docker_hub, docker_client, rooms_network, host_listener, docker_mem_limit_mb
):
    name = f"dock{uuid.uuid4().hex[:6]}"
    student = HubUser(docker_hub.url, name)
    student.signup()
    student.login()
    spawn_started = time.monotonic()
    student.start_server(timeout=180)
    spawn_seconds = time.monotonic() - spawn_started

    container = container_of(docker_client, name)
    container.reload()
    assert container.status == "running"
    assert container.image.tags and container.image.tags[0].endswith("peerprep-singleuser:latest")

    # The configured memory limit, as the engine reports it and as the kernel enforces it.
    limit = docker_mem_limit_mb * 1024 * 1024
    assert container.attrs["HostConfig"]["Memory"] == limit
    inside = exec_json(
        container,
        "python3",
        "-c",
        "import json, os;"
        "paths = ['/sys/fs/cgroup/memory/memory.limit_in_bytes', '/sys/fs/cgroup/memory.max'];"
        "value = next(open(p).read().strip() for p in paths if os.path.exists(p));"
        "print(json.dumps({'limit': value, 'uid': os.getuid()}))",
    )
    assert int(inside["limit"]) == limit
    assert inside["uid"] == 1000  # jovyan, not root

    # The server works for its student, and its relay reaches the PeerPrep service.
    lab = student.server("GET", "lab")
    assert lab.status_code == 200 and "jupyter-peerprep" in lab.text
    me = student.peerprep("GET", "me")
    assert me.status_code == 200, me.text
    assert me.json()["name"] == name

    # Measured, not asserted (timing goals live in benchmarks/): reported in the test log.
    usage = container.stats(stream=False).get("memory_stats", {}).get("usage", 0)
    print(f"docker tier: spawn to ready {spawn_seconds:.1f}s; idle server {usage / 2**20:.0f} MiB")

    # From inside: the hub API answers; nothing else does.
    hub_port = int(docker_hub.env["PEERPREP_HUB_PORT"])
    api = exec_json(
        container,
        "python3",
        "-c",
        "import json, os, urllib.request;"
        "r = urllib.request.urlopen(os.environ['JUPYTERHUB_API_URL'] + '/', timeout=10);"
        "print(json.dumps({'status': r.status, 'url': os.environ['JUPYTERHUB_API_URL'],"
        " 'body': json.loads(r.read())}))",
    )
    assert api["status"] == 200 and "version" in api["body"]
    assert f"{rooms_network.gateway}:{hub_port}" in api["url"]

    targets = [
        [rooms_network.gateway, hub_port],  # the hub: reachable
        ["10.88.0.1", host_listener],  # this machine on the engine's default network
        ["192.0.2.1", 80],  # TEST-NET-1: "the internet"
        ["192.0.2.1", 443],
    ]
    probe = exec_json(container, "python3", "-c", CONNECT_PROBE, json.dumps(targets))
    assert probe[f"{rooms_network.gateway}:{hub_port}"]["result"] == "connected"
    for host, port in targets[1:]:
        outcome = probe[f"{host}:{port}"]
        assert outcome["result"] != "connected", f"a room reached {host}:{port}"
        # No route at all: refused at once, not a timeout that merely looks like isolation.
        assert "unreachable" in outcome["result"].lower(), outcome
        assert outcome["seconds"] < 2.0, outcome

    # Stopping the server removes its container.
    response = student.hub_api("DELETE", f"users/{name}/server")
    assert response.status_code in (202, 204), response.text
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if container_gone(docker_client, name):
            break
        time.sleep(0.5)
    else:
        pytest.fail(f"container peerprep-{name} still exists 90 s after the server stopped")
    model = student.hub_api("GET", f"users/{name}").json()
    assert model["servers"] == {}


def test_build_script_reuses_unchanged_images(docker_host, app_images):
    """A build with unchanged inputs rebuilds nothing (a working tree shared with other
    engineers may change between builds, so up to three tries)."""

    def build() -> tuple[subprocess.CompletedProcess[str], float]:
        start = time.monotonic()
        result = subprocess.run(
            ["bash", str(ROOT / "docker" / "build-images.sh"), "hub", "singleuser"],
            capture_output=True,
            text=True,
            timeout=1200,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        return result, time.monotonic() - start

    # Other engineers may change the package meanwhile; reuse must show within a few tries.
    for _ in range(3):
        again, elapsed = build()
        if "building localhost/peerprep-" not in again.stderr:
            break
    assert "building localhost/peerprep-" not in again.stderr, again.stderr[-2000:]
    print(f"warm build-images.sh hub singleuser: {elapsed:.1f}s")


def new_student(hub, prefix: str) -> HubUser:
    return signed_up_student(hub.url, prefix, spawn_timeout=180)


def test_pair_room_is_a_shared_limited_container_removed_at_the_end(
    docker_hub, docker_client, docker_pair_mem_limit_mb
):
    """Two students matched: their room is a container with the pair limit, both edit one
    notebook through the proxy, and ending the session removes the container."""
    import asyncio

    from jupyter_peerprep.testing.ydoc import edit_cell_concurrently

    ann, ben = new_student(docker_hub, "ann"), new_student(docker_hub, "ben")
    wait_for_questions(ann)
    room = match_pair(ann, ben, room_timeout=240)
    room_id = room["id"]
    pair = room["pair_user"]

    container = container_of(docker_client, pair)
    container.reload()
    assert container.status == "running"
    assert container.attrs["HostConfig"]["Memory"] == docker_pair_mem_limit_mb * 1024 * 1024

    server = f"{docker_hub.url}/user/{pair}"

    asyncio.run(
        edit_cell_concurrently(
            server, "question.ipynb", {"ann": ann.token(), "ben": ben.token()}, "def pair_sum"
        )
    )

    ended = ann.peerprep("POST", f"rooms/{room_id}/end")
    assert ended.status_code == 200, ended.text
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if container_gone(docker_client, pair):
            break
        time.sleep(0.5)
    else:
        pytest.fail(f"the container of {pair} still exists 120 s after the end")
    seen_by_ben = ben.peerprep("GET", f"rooms/{room_id}").json()
    assert seen_by_ben["state"] in ("ending", "ended")
