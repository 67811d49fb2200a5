"""The pieces of the room's trust boundary that need no hub: the relay's allow-list, the room
page's script policy and page config, the pair server's Jupyter directories in each tier."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from tornado.httputil import HTTPServerRequest

from jupyter_peerprep.docker_spawner import PeerPrepDockerSpawner
from jupyter_peerprep.room_env import prepare_pair_spawner
from jupyter_peerprep.room_page import RoomPagePolicy
from jupyter_peerprep.room_relay import NotARoomAction, room_action

REPO = Path(__file__).resolve().parents[2]
ROOM = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("method", "path", "room"),
    [
        ("GET", "me", None),
        ("GET", "health", None),
        ("GET", "rooms/current", None),
        ("GET", f"rooms/{ROOM}", ROOM),
        ("POST", f"rooms/{ROOM}/heartbeat", ROOM),
        ("POST", f"rooms/{ROOM}/end", ROOM),
        ("GET", f"rooms/{ROOM}/runs", ROOM),
        ("POST", f"rooms/{ROOM}/runs", ROOM),
    ],
)
def test_the_room_panels_calls_are_room_actions(method, path, room):
    assert room_action(method, path) == room


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "history"),
        ("GET", f"history/{ROOM}"),
        ("GET", "profile"),
        ("PUT", "profile"),
        ("GET", "profiles"),
        ("GET", "questions"),
        ("GET", "questions/best-single-trade"),
        ("POST", "questions"),
        ("POST", "match"),
        ("GET", "match/abc/events"),
        ("DELETE", f"rooms/{ROOM}"),
        ("GET", f"rooms/{ROOM}/end"),
        ("GET", f"rooms/{ROOM}/../../history"),
        ("GET", "me/../history"),
    ],
)
def test_everything_else_is_not(method, path):
    with pytest.raises(NotARoomAction):
        room_action(method, path)


def policy() -> RoomPagePolicy:
    return RoomPagePolicy(
        "/user/pair-1/", ["static/lab/", "lab/extensions/"], ["@jupyterlab/javascript-extension"]
    )


def test_room_page_scripts_come_only_from_the_bundle_and_installed_extensions():
    request = HTTPServerRequest(method="GET", uri="/user/pair-1/lab", host="pair-1.example.edu")
    csp = policy().content_security_policy(request)
    script_src = re.search(r"script-src ([^;]*)", csp)
    assert script_src is not None
    assert script_src.group(1).split() == [
        "http://pair-1.example.edu/user/pair-1/static/lab/",
        "http://pair-1.example.edu/user/pair-1/lab/extensions/",
        "'unsafe-eval'",
    ]
    assert "object-src 'none'" in csp


@pytest.mark.parametrize("disabled", [["other-ext"], {"other-ext": True, "on-again": False}])
def test_room_page_config_holds_no_token_and_disables_the_script_renderer(disabled):
    config = policy().page_config({"token": "secret", "disabledExtensions": disabled})
    assert config["token"] == ""
    assert config["disabledExtensions"] == ["@jupyterlab/javascript-extension", "other-ext"]


def test_room_policy_wraps_jupyterhubs_page_config_hook_once():
    room = policy()

    def hub_hook(handler, config):
        return {**config, "token": "visitor-token", "hubUser": "alice"}

    wrapped = room.wrap_hook(room.wrap_hook(hub_hook))
    config = wrapped(None, {})
    assert config["token"] == "" and config["hubUser"] == "alice"


def spawner(name: str) -> SimpleNamespace:
    return SimpleNamespace(user=SimpleNamespace(name=name), environment={"A": "1"}, args=["--x"])


def test_pair_servers_in_kubernetes_get_read_only_jupyter_directories():
    pair, student = spawner("pair-0123456789ab"), spawner("alice")
    for s in (pair, student):
        prepare_pair_spawner(s, "/opt/peerprep", "/home/jovyan")
    assert pair.environment["JUPYTER_CONFIG_DIR"] == "/opt/peerprep/etc/jupyter"
    assert pair.environment["JUPYTER_DATA_DIR"] == "/opt/peerprep/share/jupyter"
    assert pair.environment["A"] == "1"
    assert "--BaseFileIdManager.db_path=/home/jovyan/.jupyter_fileid.db" in pair.args
    assert student.environment == {"A": "1"} and student.args == ["--x"]


def test_docker_tier_names_the_images_root_owned_environment():
    dockerfile = (REPO / "docker" / "singleuser" / "Dockerfile").read_text()
    prefix = PeerPrepDockerSpawner.pair_python_prefix.default_value
    # Created by root before `USER 1000`: the server's user cannot write there.
    assert f"python3 -m venv {prefix}" in dockerfile
    assert dockerfile.index(f"venv {prefix}") < dockerfile.index("USER 1000")
