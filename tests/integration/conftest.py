"""Fixtures of the real-hub integration tests."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from jupyter_peerprep.testing.hubclient import HubUser
from jupyter_peerprep.testing.rooms import wait_for_questions

HERE = Path(__file__).parent
# The hub's "prometheus" service token (hub_config/jupyterhub_config.d/70-metrics.py).
HUB_METRICS_TOKEN = "integration-hub-metrics-token"


def _question_notebooks() -> Any:
    """tests/questions/question_notebooks.py: the demo question, its solution."""
    path = HERE.parent / "questions" / "question_notebooks.py"
    spec = importlib.util.spec_from_file_location("question_notebooks", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def hub_metrics_token() -> str:
    """The token ``room_hub`` gives its "prometheus" service (reads /hub/metrics)."""
    return HUB_METRICS_TOKEN


@pytest.fixture(scope="session")
def demo_solution() -> str:
    """A correct solution of the question in ``room_hub``'s bank."""
    solution: str = _question_notebooks().SOLUTION
    return solution


@pytest.fixture(scope="module")
def room_hub(make_hub, tmp_path_factory):
    bank = tmp_path_factory.mktemp("bank")
    (bank / "pair-sum-demo.ipynb").write_text(json.dumps(_question_notebooks().build_notebook()))
    config = tmp_path_factory.mktemp("svc") / "peerprep_config.py"
    config.write_text(
        f"c.QuestionBank.bank_dirs = [{str(bank)!r}]\n"
        "c.RoomManager.warm_pool_size = 1\n"
        "c.RoomManager.idle_timeout = 0\n"
    )
    hub = make_hub(
        extra_env={
            "PEERPREP_SERVICE_CONFIG": str(config),
            "PEERPREP_HUB_METRICS_TOKEN": HUB_METRICS_TOKEN,
        }
    )
    admin = HubUser(hub.url, "admin")
    admin.signup()
    admin.login()
    admin.start_server()
    wait_for_questions(admin)
    return hub
