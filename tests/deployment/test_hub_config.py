"""Every jupyterhub_config.d snippet loads, alone and layered, for each deployment tier.

Each case runs in a subprocess (as JupyterHub would: ``JupyterHub.load_config_file``), with the
environment of that tier, and reports the values the hub and the spawner would really use.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from hubconfig_probe import resolved, run_cases

REPO = Path(__file__).resolve().parents[2]
HUB_CONFIG = REPO / "hub_config"
SNIPPETS = sorted((HUB_CONFIG / "jupyterhub_config.d").glob("*.py"))


def config_without(tmp_path: Path, *names: str) -> Path:
    """A copy of hub_config/ without the named snippets."""
    copy = tmp_path / "hub_config_copy"
    shutil.copytree(HUB_CONFIG, copy, ignore=shutil.ignore_patterns("__pycache__"))
    for name in names:
        (copy / "jupyterhub_config.d" / name).unlink()
    return copy / "jupyterhub_config.py"


POSTGRES_HUB = "postgresql+psycopg://jupyterhub:pw@db:5432/jupyterhub"
POSTGRES_SERVICE = "postgresql+psycopg://peerprep:pw@db:5432/peerprep"


PRODUCTION_ENV = {
    "PEERPREP_PRODUCTION": "1",
    "PEERPREP_HUB_DB_URL": POSTGRES_HUB,
    "PEERPREP_DB_URL": POSTGRES_SERVICE,
    "PEERPREP_EXTERNAL_URL": "https://peerprep.example.edu",
}

TIERS = {
    "embedded": {},
    "docker": {"PEERPREP_TIER": "docker"},
    "production": PRODUCTION_ENV,
    "docker+production": {"PEERPREP_TIER": "docker", **PRODUCTION_ENV},
}


def test_each_snippet_and_the_whole_config_load_for_every_tier(tmp_path):
    assert len(SNIPPETS) >= 6, "expected base, auth, peerprep, spawner, docker, production"
    cases = [
        {"config": path, "env": env, "tier": tier, "load_only": path in SNIPPETS}
        for tier, env in sorted(TIERS.items())
        for path in [*SNIPPETS, HUB_CONFIG / "jupyterhub_config.py"]
    ]
    results = run_cases(cases, tmp_path)
    failures = {
        f"{Path(c['config']).name} ({c['tier']})": r["error"]
        for c, r in zip(cases, results, strict=True)
        if "error" in r
    }
    assert failures == {}
    whole = [r for c, r in zip(cases, results, strict=True) if c["config"].name.startswith("jup")]
    assert len(whole) == len(TIERS)
    assert all("peerprep" in r["services"] for r in whole)


def test_embedded_default_is_unchanged_by_tier_snippets(tmp_path):
    with_them = resolved(HUB_CONFIG / "jupyterhub_config.py", {}, tmp_path)
    without = resolved(config_without(tmp_path, "50-docker.py", "60-production.py"), {}, tmp_path)
    # The state dir differs only by the copy's path; everything else must be identical.
    assert with_them["spawner_class"] == without["spawner_class"]
    assert with_them["spawner"] == without["spawner"]
    assert with_them["hub_ip"] == without["hub_ip"] == "127.0.0.1"
    assert with_them["db_url"].startswith("sqlite:")
    mine = {k: v for k, v in with_them["config"].items() if k != "JupyterHub"}
    theirs = {k: v for k, v in without["config"].items() if k != "JupyterHub"}
    assert mine.keys() == theirs.keys()


def test_docker_tier_runs_servers_in_limited_containers(tmp_path):
    env = {
        "PEERPREP_TIER": "docker",
        "PEERPREP_MEM_LIMIT": "512M",
        "PEERPREP_PAIR_MEM_LIMIT": "768M",
        "PEERPREP_DOCKER_NETWORK": "rooms-net",
        "PEERPREP_HUB_CONNECT_HOST": "hub",
    }
    out = resolved(HUB_CONFIG / "jupyterhub_config.py", env, tmp_path)
    assert out["spawner_class"] == "jupyter_peerprep.docker_spawner.PeerPrepDockerSpawner"
    assert out["hub_ip"] == "0.0.0.0" and out["hub_connect_ip"] == "hub"
    spawner = out["spawner"]
    # The image runs as jovyan: the embedded default's --allow-root must not leak in.
    assert "--allow-root" not in spawner["args"]
    assert spawner["ip"] == "0.0.0.0"
    assert spawner["mem_limit"] == 512 * 1024**2
    assert spawner["network_name"] == "rooms-net" and spawner["use_internal_ip"] is True
    assert spawner["remove"] is True
    assert spawner["extra_host_config"]["cap_drop"] == ["ALL"]
    assert spawner["volumes"] == {"peerprep-home-{username}": "/home/jovyan"}
    # Servers reach the service directly, by the hub's name (not 127.0.0.1, not the proxy,
    # which routes the service by its own host name once servers are on subdomains).
    assert spawner["environment"]["PEERPREP_SERVICE_URL"] == "http://hub:10101/services/peerprep/"

    # Students' servers: collaboration off. Pair rooms: on, with a short auth cache.
    assert "--YDocExtension.disable_rtc=True" in spawner["args"]
    pair = resolved(HUB_CONFIG / "jupyterhub_config.py", env, tmp_path, user="pair-0123456789ab")
    assert pair["spawner"]["pair_mem_limit"] == 768 * 1024**2
    assert "--YDocExtension.disable_rtc=False" in pair["spawner"]["args"]
    assert "--HubOAuth.cache_max_age=1" in pair["spawner"]["args"]


def test_docker_snippet_alone_adds_docker_spawning_to_an_existing_hub(tmp_path):
    snippet = HUB_CONFIG / "jupyterhub_config.d" / "50-docker.py"
    out = resolved(snippet, {"PEERPREP_TIER": "docker"}, tmp_path)
    assert out["spawner_class"] == "jupyter_peerprep.docker_spawner.PeerPrepDockerSpawner"
    assert out["spawner"]["image"] == "localhost/peerprep-singleuser:latest"
    # Absent the tier variable, the snippet sets nothing at all.
    bare = resolved(snippet, {}, tmp_path)
    assert bare["config"] == {}


def test_production_uses_postgres_and_external_proxy(tmp_path):
    env = {
        **PRODUCTION_ENV,
        "PEERPREP_TIER": "docker",
        "PEERPREP_PROXY_API_URL": "http://proxy:8001",
        "CONFIGPROXY_AUTH_TOKEN": "x" * 64,
        "PEERPREP_EXTERNAL_URL": "https://peerprep.example.edu",
        "PEERPREP_SUBDOMAIN_HOST": "https://peerprep.example.edu",
    }
    out = resolved(HUB_CONFIG / "jupyterhub_config.py", env, tmp_path)
    assert out["db_url"] == POSTGRES_HUB
    assert out["cleanup_servers"] is False
    assert out["proxy"] == {"should_start": False, "api_url": "http://proxy:8001"}
    assert out["subdomain_host"] == "https://peerprep.example.edu"
    cookie = out["config"]["JupyterHub"]["tornado_settings"]["cookie_options"]
    assert cookie["secure"] is True


REFUSALS = {
    "no-hub-db": ({"PEERPREP_PRODUCTION": "1"}, "needs PEERPREP_HUB_DB_URL"),
    "no-service-db": (
        {"PEERPREP_PRODUCTION": "1", "PEERPREP_HUB_DB_URL": POSTGRES_HUB},
        "needs PEERPREP_DB_URL",
    ),
    "sqlite-hub-db": (
        {**PRODUCTION_ENV, "PEERPREP_HUB_DB_URL": "sqlite:///hub.sqlite"},
        "PEERPREP_HUB_DB_URL must be a postgresql:// URL",
    ),
    "proxy-without-token": (
        {**PRODUCTION_ENV, "PEERPREP_PROXY_API_URL": "http://proxy:8001"},
        "needs CONFIGPROXY_AUTH_TOKEN",
    ),
    "no-url-for-subdomains": (
        {k: v for k, v in PRODUCTION_ENV.items() if k != "PEERPREP_EXTERNAL_URL"},
        "needs PEERPREP_EXTERNAL_URL",
    ),
}


def test_production_refuses_to_start_without_what_it_needs(tmp_path):
    config = HUB_CONFIG / "jupyterhub_config.py"
    results = run_cases([{"config": config, "env": env} for env, _ in REFUSALS.values()], tmp_path)
    for (case, (_, message)), result in zip(REFUSALS.items(), results, strict=True):
        assert message in result.get("error", ""), f"{case}: {result.get('error')}"


def test_production_serves_servers_on_subdomains_unless_turned_off(tmp_path):
    config = HUB_CONFIG / "jupyterhub_config.py"
    cases = [
        PRODUCTION_ENV,
        {**PRODUCTION_ENV, "PEERPREP_SUBDOMAIN_HOST": "https://rooms.example.edu"},
        {**PRODUCTION_ENV, "PEERPREP_SUBDOMAINS": "off"},
        {},  # the embedded default: paths, for one machine
        {"PEERPREP_SUBDOMAIN_HOST": "http://localhost:8000"},
    ]
    results = run_cases([{"config": config, "env": env} for env in cases], tmp_path)
    assert [r.get("subdomain_host") for r in results] == [
        "https://peerprep.example.edu",
        "https://rooms.example.edu",
        "",
        "",
        "http://localhost:8000",
    ]
