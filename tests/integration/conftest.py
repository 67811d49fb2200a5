"""Fixtures of the real-hub integration tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_peerprep.testing.rooms import new_admin

# The hub's "prometheus" service token (hub_config/jupyterhub_config.d/70-metrics.py).
HUB_METRICS_TOKEN = "integration-hub-metrics-token"


@pytest.fixture(scope="session")
def hub_metrics_token() -> str:
    """The token ``room_hub`` gives its "prometheus" service (reads /hub/metrics)."""
    return HUB_METRICS_TOKEN


@pytest.fixture(scope="session")
def demo_solution(question_module: Any) -> str:
    """A correct solution of the question in ``room_hub``'s bank."""
    solution: str = question_module.SOLUTION
    return solution


@pytest.fixture(scope="module")
def room_hub(make_hub: Any, one_question_config: Callable[..., Path]) -> Iterator[Any]:
    """A real hub with the one-question bank and a warm pool of one, its admin signed up;
    stopped after the module (not at the end of the session: its warm room is a running
    JupyterLab that would take memory and CPU from every later test)."""
    config = one_question_config(warm_pool_size=1)
    hub = make_hub(
        extra_env={
            "PEERPREP_SERVICE_CONFIG": str(config),
            "PEERPREP_HUB_METRICS_TOKEN": HUB_METRICS_TOKEN,
        }
    )
    new_admin(hub.url)
    yield hub
    hub.stop()
