"""Kernels and terminals hold no hub credentials, on a student's own server and in a room.

Whatever a kernel or terminal can read from its environment, any student who can type into it
can use: a hub token there would let the room's other student act as its owner. Every
variable is checked by name (the hub's and PeerPrep's secrets) and by value (anything shaped
like a hub token is tried on the hub API).
"""

from __future__ import annotations

import asyncio
import json
import re

import pytest
import requests

from jupyter_peerprep.credentials import HUB_SECRET_VARIABLES, SECRETS_FD_VARIABLE
from jupyter_peerprep.testing.kernel import run_code
from jupyter_peerprep.testing.rooms import match_pair, new_student
from jupyter_peerprep.testing.terminal import run_in_terminal

pytestmark = pytest.mark.slow

# The hub's secrets, and PeerPrep's own (the service's, which no server should ever hold).
SECRET_NAMES = {
    *HUB_SECRET_VARIABLES,
    SECRETS_FD_VARIABLE,
    "PEERPREP_COOKIE_SECRET",
    "PEERPREP_METRICS_TOKEN",
}
TOKEN_SHAPED = re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")


@pytest.fixture(scope="module")
def servers(security_hub):
    """A student's own server and a room's server, with a student allowed into each."""
    a = new_student(security_hub.url, "kira")
    b = new_student(security_hub.url, "lior")
    room = match_pair(a, b)
    return {
        "student server": (a.server_url, a),
        "pair server": (f"{security_hub.url}/user/{room['pair_user']}", a),
    }


def credentials_in(hub_url: str, environ: dict[str, str]) -> list[str]:
    """The variables of ``environ`` that are secrets by name or that the hub accepts as tokens."""
    found = sorted(SECRET_NAMES & set(environ))
    for name, value in environ.items():
        for candidate in TOKEN_SHAPED.findall(value):
            answer = requests.get(
                f"{hub_url}/hub/api/user",
                headers={"Authorization": f"token {candidate}"},
                timeout=30,
            )
            if answer.status_code == 200:
                found.append(f"{name} (a hub token of {answer.json().get('name')})")
    return found


@pytest.mark.parametrize("where", ["student server", "pair server"])
def test_kernel_environment_holds_no_credentials(security_hub, servers, where):
    server, user = servers[where]
    result = asyncio.run(
        run_code(server, user.token(), "import json, os; print(json.dumps(dict(os.environ)))")
    )
    assert result.ok, result.error
    environ = json.loads(result.stdout.strip().splitlines()[-1])
    assert "JUPYTERHUB_USER" in environ  # the scan saw the real environment of a hub server
    assert credentials_in(security_hub.url, environ) == []


@pytest.mark.parametrize("where", ["student server", "pair server"])
def test_terminal_environment_holds_no_credentials(security_hub, servers, where):
    server, user = servers[where]
    output = asyncio.run(run_in_terminal(server, user.token(), "env"))
    environ = dict(
        line.split("=", 1) for line in output.replace("\r", "").splitlines() if "=" in line
    )
    assert "JUPYTERHUB_USER" in environ, output[-2000:]
    assert credentials_in(security_hub.url, environ) == []
