"""Shared test configuration: PeerPrep's own pytest plugin provides the fixtures; the ones
here need the repository's scripts, which the installed plugin cannot reach: the container
engine and images (``docker_host``, ``container_engine``, ``app_images``) and the container
tier's hub (``docker_hub``: a JupyterHub from hub_config/ with ``PEERPREP_TIER=docker``
(50-docker.py), running on this machine from .venv with the Node proxy, spawning servers as
containers of the single-user image on an internal network of their own). Sign users up with
``jupyter_peerprep.testing.hubclient.HubUser``."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# parallel_groups (tests/parallel_groups.py): which tests share a pytest-xdist worker.
pytest_plugins = ["jupyter_peerprep.pytest_plugin", "parallel_groups"]

# Several workers share two cores (make pytest): a first server start can take well over the
# production 60 s, so the hubs the tests start (hub_config/.../30-spawner.py) and the test
# clients (testing/hubclient.py) wait longer before calling a start failed.
os.environ.setdefault("PEERPREP_SPAWN_TIMEOUT", "150")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def docker_host() -> str:
    """DOCKER_HOST of the container engine brought up by the project's own script
    (``docker/engine-up.sh``: podman behind the Docker API, started when not running)."""
    up = subprocess.run(
        ["bash", str(ROOT / "docker" / "engine-up.sh")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert up.returncode == 0, f"docker/engine-up.sh failed:\n{up.stderr}"
    return up.stdout.strip().splitlines()[-1].split("=", 1)[1]


@pytest.fixture(scope="session")
def container_engine(docker_host: str) -> str:
    """DOCKER_HOST of a running engine with the grader image built (set up if needed)."""
    build = subprocess.run(
        ["bash", str(ROOT / "docker" / "build-images.sh"), "grader"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert build.returncode == 0, f"docker/build-images.sh grader failed:\n{build.stderr}"
    return docker_host


# Tags of the images the container tests build and run; a clone on a shared engine may name its
# own (build-images.sh reads the same variables), so parallel work does not swap images.
SINGLEUSER_IMAGE = os.environ.get(
    "PEERPREP_SINGLEUSER_IMAGE", "localhost/peerprep-singleuser:latest"
)
HUB_IMAGE = os.environ.get("PEERPREP_HUB_IMAGE", "localhost/peerprep-hub:latest")
# Small enough to show the limit is ours, large enough for JupyterLab (about 135 MB idle).
TEST_MEM_LIMIT_MB = 384
TEST_PAIR_MEM_LIMIT_MB = 448
# Where a fork bomb in a pair room stops (students' servers keep 50-docker.py's 512).
TEST_PAIR_PIDS_LIMIT = 384


@pytest.fixture(scope="session")
def small_question_bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A question bank of one small question (pair_sum), so a service is ready in seconds."""
    bank = tmp_path_factory.mktemp("bank")
    (bank / "pair-sum-demo.ipynb").write_text(json.dumps(question_notebook()))
    return bank


@pytest.fixture(scope="session")
def one_question_config(
    tmp_path_factory: pytest.TempPathFactory, small_question_bank: Path
) -> Callable[..., Path]:
    """Factory: ``one_question_config(warm_pool_size=0)`` writes a service config
    (PEERPREP_SERVICE_CONFIG) whose bank is ``small_question_bank``, so a hub's service is
    ready in seconds; rooms never end for idleness. Returns the config file."""

    def factory(warm_pool_size: int = 0) -> Path:
        config = tmp_path_factory.mktemp("svc") / "peerprep_config.py"
        config.write_text(
            f"c.QuestionBank.bank_dirs = [{str(small_question_bank)!r}]\n"
            f"c.RoomManager.warm_pool_size = {warm_pool_size}\n"
            "c.RoomManager.idle_timeout = 0\n"
        )
        return config

    return factory


def question_notebooks() -> Any:
    """The module tests/questions/question_notebooks.py (its question, SOLUTION, ...)."""
    path = ROOT / "tests" / "questions" / "question_notebooks.py"
    spec = importlib.util.spec_from_file_location("question_notebooks", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def question_module() -> Any:
    """tests/questions/question_notebooks.py as a module (its question, SOLUTION, ...)."""
    return question_notebooks()


def question_notebook() -> dict[str, Any]:
    """The small question of tests/questions (one easy array question, pair_sum)."""
    notebook: dict[str, Any] = question_notebooks().build_notebook()
    return notebook


@pytest.fixture(scope="session")
def docker_mem_limit_mb() -> int:
    """The memory limit (MiB) the docker_hub gives each student's server."""
    return TEST_MEM_LIMIT_MB


@pytest.fixture(scope="session")
def docker_pair_mem_limit_mb() -> int:
    """The memory limit (MiB) the docker_hub gives each pair room."""
    return TEST_PAIR_MEM_LIMIT_MB


@pytest.fixture(scope="session")
def docker_client(docker_host: str) -> Iterator[Any]:
    import docker

    client = docker.DockerClient(base_url=docker_host, timeout=120)
    yield client
    client.close()


@pytest.fixture(scope="session")
def app_images(docker_host: str) -> dict[str, str]:
    """The hub and single-user images, built by docker/build-images.sh (reused if unchanged)."""
    build = subprocess.run(
        ["bash", str(ROOT / "docker" / "build-images.sh"), "hub", "singleuser"],
        capture_output=True,
        text=True,
        timeout=1800,
        env={**os.environ, "DOCKER_HOST": docker_host},
    )
    assert build.returncode == 0, f"docker/build-images.sh failed:\n{build.stderr[-4000:]}"
    return {"hub": HUB_IMAGE, "singleuser": SINGLEUSER_IMAGE}


@dataclass
class RoomsNetwork:
    name: str
    gateway: str
    subnet: str


@pytest.fixture(scope="session")
def rooms_network(docker_client: Any, app_images: dict[str, str]) -> Iterator[RoomsNetwork]:
    """An internal network (no route out) for the test's servers; removed afterwards.

    podman (netavark) gives the host its address on a network only while a container is
    attached, and the hub must listen on that address before any server starts: a small
    anchor container keeps the network up for the session. (In docker/compose.yaml the hub is
    itself a container on the network, so it needs no anchor.)
    """
    name = f"peerprep-test-{uuid.uuid4().hex[:8]}"
    network = docker_client.networks.create(name, driver="bridge", internal=True)
    docker_client.containers.run(
        app_images["singleuser"],
        ["sleep", "infinity"],
        name=f"{name}-anchor",
        network=name,
        detach=True,
        remove=True,
        mem_limit="16m",
    )
    network.reload()
    ipam = network.attrs.get("IPAM", {}).get("Config") or [{}]
    gateway, subnet = ipam[0].get("Gateway", ""), ipam[0].get("Subnet", "")
    assert gateway, f"network {name} has no gateway: {network.attrs}"
    try:
        yield RoomsNetwork(name, gateway, subnet)
    finally:
        for container in docker_client.containers.list(all=True, filters={"network": name}):
            container.remove(force=True)
        network.remove()


@pytest.fixture(scope="session")
def docker_hub(
    tmp_path_factory: pytest.TempPathFactory,
    docker_host: str,
    app_images: dict[str, str],
    rooms_network: RoomsNetwork,
    one_question_config: Callable[..., Path],
) -> Iterator[Any]:
    """A real hub with DockerSpawner (50-docker.py), reachable at the network's gateway.

    The hub runs on this machine; its API and the proxy listen on the host's address on the
    internal network, which is the one address the containers can reach.
    """
    # Imported here: this conftest loads before the plugin, whose asserts pytest rewrites.
    from jupyter_peerprep.launch import LocalHub
    from jupyter_peerprep.pytest_plugin import find_free_port

    state = tmp_path_factory.mktemp("docker-hub")
    port = find_free_port()
    # One small question, so the service is ready in seconds (as tests/integration does).
    service_config = one_question_config()
    hub = LocalHub(
        state,
        ip=rooms_network.gateway,
        port=port,
        hub_port=find_free_port(),
        proxy_api_port=find_free_port(),
        service_port=find_free_port(),
        extra_env={
            "PEERPREP_TIER": "docker",
            "DOCKER_HOST": docker_host,
            "PEERPREP_SINGLEUSER_IMAGE": app_images["singleuser"],
            "PEERPREP_DOCKER_NETWORK": rooms_network.name,
            "PEERPREP_HUB_CONNECT_HOST": rooms_network.gateway,
            "PEERPREP_HUB_BIND_IP": rooms_network.gateway,
            "PEERPREP_PUBLIC_URL": f"http://{rooms_network.gateway}:{port}",
            "PEERPREP_MEM_LIMIT": f"{TEST_MEM_LIMIT_MB}M",
            "PEERPREP_PAIR_MEM_LIMIT": f"{TEST_PAIR_MEM_LIMIT_MB}M",
            "PEERPREP_PAIR_PIDS_LIMIT": str(TEST_PAIR_PIDS_LIMIT),
            "PEERPREP_SERVICE_CONFIG": str(service_config),
            # Homes stay in the container: nothing to clean up after the test.
            "PEERPREP_HOME_VOLUMES": "0",
        },
    )
    hub.start(timeout=180)
    try:
        yield hub
    finally:
        hub.stop(timeout=60)
