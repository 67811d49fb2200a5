"""Shared test configuration: PeerPrep's own pytest plugin provides the fixtures; the ones
here need the repository's scripts and test data, which the installed plugin cannot reach."""

from __future__ import annotations

import importlib.util
import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


def question_notebooks() -> Any:
    """The module tests/questions/question_notebooks.py (its question, SOLUTION, ...)."""
    path = ROOT / "tests" / "questions" / "question_notebooks.py"
    spec = importlib.util.spec_from_file_location("question_notebooks", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def question_notebook() -> dict[str, Any]:
    """The small question of tests/questions (one easy array question, pair_sum)."""
    notebook: dict[str, Any] = question_notebooks().build_notebook()
    return notebook


@pytest.fixture(scope="session")
def one_question_config(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """Factory: ``one_question_config(warm_pool_size=0)`` writes a service config
    (PEERPREP_SERVICE_CONFIG) whose bank is ``question_notebook()`` alone, so a hub's service is
    ready in seconds; rooms never end for idleness. Returns the config file."""

    def factory(warm_pool_size: int = 0) -> Path:
        bank = tmp_path_factory.mktemp("bank")
        (bank / "pair-sum-demo.ipynb").write_text(json.dumps(question_notebook()))
        config = tmp_path_factory.mktemp("svc") / "peerprep_config.py"
        config.write_text(
            f"c.QuestionBank.bank_dirs = [{str(bank)!r}]\n"
            f"c.RoomManager.warm_pool_size = {warm_pool_size}\n"
            "c.RoomManager.idle_timeout = 0\n"
        )
        return config

    return factory


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
