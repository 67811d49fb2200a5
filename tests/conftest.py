"""Shared test configuration: PeerPrep's own pytest plugin provides the fixtures; the one
fixture here needs the repository's scripts, which the installed plugin cannot reach."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

pytest_plugins = ["jupyter_peerprep.pytest_plugin"]

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
    """DOCKER_HOST of a running engine with the grader image built (set up if needed):
    ``docker/build-images.sh grader`` is idempotent and takes well under a second once done."""
    build = subprocess.run(
        ["bash", str(ROOT / "docker" / "build-images.sh"), "grader"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert build.returncode == 0, f"docker/build-images.sh grader failed:\n{build.stderr}"
    return docker_host
