"""A pair server started with the room's options (``pair_server_args``) is light: it loads no
server extension a room does not use, and gives back the memory of a kernel nobody is
connected to, while a kernel a student's page is connected to stays.

One Jupyter server per module, started the way a room runs it but outside the hub (the hub
adds nothing to these options); the culling timeout is short so the module takes seconds.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import pytest
import requests
import websockets.sync.client

from jupyter_peerprep.pytest_plugin import find_free_port
from jupyter_peerprep.room_env import pair_server_args
from jupyter_peerprep.room_footprint import UNUSED_IN_ROOMS
from jupyter_peerprep.spawner import room_kernel_args

pytestmark = pytest.mark.slow

CULL_SECONDS = 2


@pytest.fixture(scope="module")
def room_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    home = tmp_path_factory.mktemp("room-home")
    port, token = find_free_port(), uuid.uuid4().hex
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter_server",
            f"--port={port}",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={home}",
            "--allow-root",
            "--no-browser",
            *room_kernel_args(),
            *pair_server_args(str(home), kernel_cull_seconds=CULL_SECONDS),
        ],
        cwd=home,
        env={**os.environ, "JUPYTER_RUNTIME_DIR": str(home / "runtime")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"token {token}"}
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{url}/api/status", headers=auth, timeout=2).ok:
                    break
            time.sleep(0.2)
        yield url, auth
    finally:
        server.terminate()
        server.wait(20)


def test_room_serves_lab_collaboration_and_terminals_but_not_unused_extensions(room_server):
    url, auth = room_server
    assert "jupyter_lsp" in UNUSED_IN_ROOMS
    assert requests.get(f"{url}/lab", headers=auth, timeout=30).status_code == 200
    session = requests.put(
        f"{url}/api/collaboration/session/question.ipynb",
        json={"format": "json", "type": "notebook"},
        headers=auth,
        timeout=30,
    )
    assert session.status_code in (200, 201), session.text
    assert requests.get(f"{url}/api/terminals", headers=auth, timeout=30).status_code == 200
    # jupyter_lsp's status endpoint: not there, so its imports and handlers are not either.
    assert requests.get(f"{url}/lsp/status", headers=auth, timeout=30).status_code == 404


def test_idle_kernel_nobody_is_connected_to_is_culled_and_a_connected_one_stays(room_server):
    url, auth = room_server
    kernels = f"{url}/api/kernels"
    watched = requests.post(kernels, json={}, headers=auth, timeout=60).json()["id"]
    ws_url = url.replace("http://", "ws://", 1) + f"/api/kernels/{watched}/channels"
    with websockets.sync.client.connect(ws_url, additional_headers=auth):
        left = requests.post(kernels, json={}, headers=auth, timeout=60).json()["id"]
        deadline = time.monotonic() + 120
        running = {left}
        while left in running and time.monotonic() < deadline:
            time.sleep(1)
            running = {k["id"] for k in requests.get(kernels, headers=auth, timeout=30).json()}
        assert left not in running, "the kernel nobody was connected to was never culled"
        assert watched in running, "the kernel a page was connected to was culled"
    requests.delete(f"{kernels}/{watched}", headers=auth, timeout=30)
