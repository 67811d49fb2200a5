"""Resolve hub configuration files the way JupyterHub loads them, in a subprocess.

A helper of the deployment tests (imported by them; tests/deployment is on sys.path through
conftest.py), not a test module.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

# For each case (config file, environment, user name): load the file the way JupyterHub does,
# in a fresh loader with the case's environment, and report what the hub and a spawner resolve.
PROBE = r"""
import json, os, sys, traceback
from types import SimpleNamespace
from jupyterhub.app import JupyterHub
from jupyterhub.proxy import ConfigurableHTTPProxy


def resolve(path, user_name):
    loader = JupyterHub()
    loader.load_config_file(path)
    config = loader.config
    hub = JupyterHub(config=config)
    out = {
        "spawner_class": hub.spawner_class.__module__ + "." + hub.spawner_class.__name__,
        "hub_ip": hub.hub_ip,
        "hub_connect_ip": hub.hub_connect_ip,
        "db_url": hub.db_url,
        "cleanup_servers": hub.cleanup_servers,
        "subdomain_host": hub.subdomain_host,
        "services": [s["name"] for s in hub.services],
        "config": json.loads(json.dumps(config, default=repr)),
    }
    user = SimpleNamespace(name=user_name, id=1, url="/user/x/", server=None, settings={})
    spawner = hub.spawner_class(config=config, user=user)
    if getattr(spawner, "pre_spawn_hook", None):
        spawner.pre_spawn_hook(spawner)
    out["spawner"] = {
        "args": list(spawner.args),
        "ip": spawner.ip,
        "mem_limit": spawner.mem_limit,
        "environment": {k: v for k, v in spawner.environment.items() if isinstance(v, str)},
    }
    if hasattr(spawner, "get_args"):
        out["spawner"]["args"] = spawner.get_args()
    for name in ("image", "network_name", "use_internal_ip", "remove", "volumes",
                 "extra_host_config", "pair_mem_limit"):
        if hasattr(spawner, name):
            out["spawner"][name] = getattr(spawner, name)
    proxy = ConfigurableHTTPProxy(config=config, app=hub)
    out["proxy"] = {"should_start": proxy.should_start, "api_url": proxy.api_url}
    return out


original = dict(os.environ)
results = []
for case in json.loads(sys.argv[1]):
    os.environ.clear()
    os.environ.update(original)
    os.environ.update(case["env"])
    try:
        if case.get("load_only"):
            JupyterHub().load_config_file(case["config"])
            results.append({"loaded": True})
            continue
        results.append(resolve(case["config"], case.get("user", "alice")))
    except BaseException as e:
        results.append({"error": f"{type(e).__name__}: {e}", "trace": traceback.format_exc()})
print("PROBE-RESULT " + json.dumps(results, default=repr))
"""


def run_cases(cases: list[dict], tmp_path: Path) -> list[dict]:
    """Resolve every case in one subprocess (importing JupyterHub takes seconds)."""
    (tmp_path / "state").mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PEERPREP_", "JPY_"))}
    env.pop("CONFIGPROXY_AUTH_TOKEN", None)
    env["PEERPREP_STATE_DIR"] = str(tmp_path / "state")
    payload = [{**case, "config": str(case["config"])} for case in cases]
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(payload)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(x for x in result.stdout.splitlines() if x.startswith("PROBE-RESULT "))
    return json.loads(line.removeprefix("PROBE-RESULT "))


def resolved(config_file: Path, env: dict[str, str], tmp_path: Path, user: str = "alice") -> dict:
    (out,) = run_cases([{"config": config_file, "env": env, "user": user}], tmp_path)
    assert "error" not in out, out.get("trace")
    return out
