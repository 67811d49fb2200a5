"""docker/compose.yaml: the one-host layout, and the hub configuration it really produces.

No compose tool runs on the test machines (the container test starts the same hub
configuration with DockerSpawner on the host instead, test_docker_tier.py); here the file's
structure is checked, and the hub's environment from it is fed to hub_config/ to see that the
snippets resolve to the networks, images and databases the file defines.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from hubconfig_probe import resolved
from traitlets.config import PyFileConfigLoader

from jupyter_peerprep.grader import Grader
from jupyter_peerprep.hub.app import PeerPrepService

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker" / "compose.yaml"
SECRETS = {"POSTGRES_PASSWORD": "pg-secret", "JPY_COOKIE_SECRET": "ab" * 32}


@pytest.fixture(scope="module")
def compose() -> dict:
    loaded: dict = yaml.safe_load(COMPOSE.read_text())
    return loaded


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error} substitution."""

    def replace(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2) or "", match.group(3) or ""
        if name in env and (env[name] or op != ":-"):
            return env[name]
        if op == ":?":
            raise KeyError(f"{name}: {arg}")
        return arg if op == ":-" else ""

    return re.sub(r"\$\{([A-Z_][A-Z0-9_]*)(:-|:\?)?([^}]*)\}", replace, value)


def test_rooms_network_is_internal_and_databases_are_not_on_it(compose):
    networks = compose["networks"]
    rooms = networks["rooms"]
    assert rooms["internal"] is True
    assert networks["backend"]["internal"] is True
    services = compose["services"]
    assert "rooms" in services["hub"]["networks"]
    assert services["db"]["networks"] == ["backend"]
    # The proxy lives in the hub's network namespace (it reaches the service on loopback).
    assert services["proxy"]["network_mode"] == "service:hub"
    # Build-only images never run with `up`.
    assert services["singleuser"]["profiles"] == ["build"]
    assert services["grader"]["profiles"] == ["build"]


def test_state_lives_in_named_volumes(compose):
    volumes = set(compose["volumes"])
    assert {"db-data", "hub-state"} <= volumes
    assert "db-data:/var/lib/postgresql/data" in compose["services"]["db"]["volumes"]
    assert "hub-state:/srv/peerprep/state" in compose["services"]["hub"]["volumes"]


def test_compose_refuses_to_start_without_secrets(compose):
    env = compose["services"]["hub"]["environment"]
    for secret in ("JPY_COOKIE_SECRET", "CONFIGPROXY_AUTH_TOKEN", "PEERPREP_EXTERNAL_URL"):
        with pytest.raises(KeyError, match=secret):
            interpolate(env[secret], {})
    with pytest.raises(KeyError, match="POSTGRES_PASSWORD"):
        interpolate(compose["services"]["db"]["environment"]["POSTGRES_PASSWORD"], {})


def test_hub_environment_resolves_to_this_layout(compose, tmp_path):
    variables = {
        **SECRETS,
        "CONFIGPROXY_AUTH_TOKEN": "cd" * 32,
        "PEERPREP_EXTERNAL_URL": "https://peerprep.example.edu",
    }
    hub_env = {
        name: interpolate(str(value), variables)
        for name, value in compose["services"]["hub"]["environment"].items()
    }
    # The service config file is mounted in the container; point at the repository's copy.
    hub_env["PEERPREP_SERVICE_CONFIG"] = str(REPO / "docker" / "compose" / "peerprep_config.py")
    out = resolved(REPO / "hub_config" / "jupyterhub_config.py", hub_env, tmp_path)

    assert out["spawner_class"] == "jupyter_peerprep.docker_spawner.PeerPrepDockerSpawner"
    spawner = out["spawner"]
    assert spawner["network_name"] == compose["networks"]["rooms"]["name"]
    assert spawner["image"] == interpolate(compose["services"]["singleuser"]["image"], {})
    # Servers reach the service directly (the proxy routes it by its own host name).
    assert spawner["environment"]["PEERPREP_SERVICE_URL"] == "http://hub:10101/services/peerprep/"
    # Every server on its own subdomain, and a proxy that routes by host name.
    assert out["subdomain_host"] == "https://peerprep.example.edu"
    assert "--host-routing" in compose["services"]["proxy"]["command"]
    assert out["hub_connect_ip"] == "hub"
    assert out["db_url"] == "postgresql+psycopg://peerprep:pg-secret@db:5432/jupyterhub"
    # The hub does not start a proxy: the proxy container does, on the shared loopback.
    assert out["proxy"] == {"should_start": False, "api_url": "http://127.0.0.1:8001"}
    assert "--api-port=8001" in compose["services"]["proxy"]["command"]


def test_service_config_selects_docker_grading(tmp_path):
    config = PyFileConfigLoader(
        "peerprep_config.py", path=str(REPO / "docker" / "compose")
    ).load_config()
    service = PeerPrepService(config=config)
    service.check_unknown_config()
    assert service.log_style == "json"
    assert Grader(config=config).backend == "docker"
    assert config.DockerSandbox.docker_host == "unix:///var/run/docker.sock"
