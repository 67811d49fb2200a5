"""Taking the room server's place: the other student's code kills the server and listens on
its port, to receive the visiting student's next request (and the token it carries).

It must not get there: killing the server ends the room's sandbox, the attacker's processes
included, so nothing is left to listen.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
import requests

from jupyter_peerprep.testing.kernel import run_code
from jupyter_peerprep.testing.rooms import match_pair, new_student

pytestmark = pytest.mark.slow

# Runs in the room's kernel: a detached process kills the server, then listens on its port and
# writes whatever arrives into the room's home (visible on the host).
TAKEOVER = r"""
import os, subprocess, sys
os.environ["ROOM_SERVER_PID"] = str(os.getppid())
subprocess.Popen([sys.executable, "-c", '''
import os, signal, socket, time
from urllib.parse import urlparse
port = urlparse(os.environ["JUPYTERHUB_SERVICE_URL"]).port
server = int(os.environ["ROOM_SERVER_PID"])  # the kernel's parent
time.sleep(1)
os.kill(server, signal.SIGKILL)
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    try:
        listener = socket.create_server(("127.0.0.1", port))
        break
    except OSError:
        time.sleep(0.05)
open("listening", "w").write(str(port))
while True:
    conn, _ = listener.accept()
    with open("stolen", "ab") as out:
        out.write(conn.recv(65536))
    conn.close()
'''], start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
   stderr=subprocess.DEVNULL)
print("armed")
"""


def test_killing_the_room_server_does_not_leave_a_listener_on_its_port(security_hub):
    attacker = new_student(security_hub.url, "oscar")
    victim = new_student(security_hub.url, "petra")
    room = match_pair(attacker, victim)
    pair = room["pair_user"]
    server = f"{security_hub.url}/user/{pair}"
    home = Path(security_hub.state_dir) / "homes" / pair
    result = asyncio.run(run_code(server, attacker.token(), TAKEOVER))
    assert result.ok and "armed" in result.stdout, result
    # The victim keeps working in the room: each request carries her token to whatever
    # answers on the server's port.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        answer = requests.get(
            f"{server}/api/contents/question.ipynb",
            headers={"Authorization": f"token {victim.token()}"},
            timeout=10,
        )
        time.sleep(0.5)
    assert answer.status_code != 200, "the attack did not stop the server: nothing was tried"
    stolen = (home / "stolen").read_bytes() if (home / "stolen").exists() else b""
    assert victim.token().encode() not in stolen, "the kernel received the partner's token"
    assert not (home / "listening").exists(), "a process of the room outlived its server"
