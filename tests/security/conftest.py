"""Fixtures of the security suite: one real hub (embedded default) with tight room limits, and
its admin (an instructor) signed up with a running server.

Shared by the whole suite (spawning is the slow part); each attack module gets its own room
from it (``match_pair``). Its servers get small limits so an attack in one room hits them
quickly: the limits a cheap university VM would set.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from jupyter_peerprep.testing.hubclient import HubUser
from jupyter_peerprep.testing.rooms import new_admin

ROOT = Path(__file__).resolve().parents[2]
# Per room (pair server + its kernels); a student's own server gets the same.
ROOM_MEM_LIMIT = "768M"
ROOM_PIDS_LIMIT = 160


@pytest.fixture(scope="session")
def _security_hub_and_admin(
    make_hub: Any, one_question_config: Callable[..., Path]
) -> tuple[Any, HubUser]:
    hub = make_hub(
        extra_env={
            "PEERPREP_SERVICE_CONFIG": str(one_question_config()),
            "PEERPREP_MEM_LIMIT": ROOM_MEM_LIMIT,
            "PEERPREP_PIDS_LIMIT": str(ROOM_PIDS_LIMIT),
        }
    )
    return hub, new_admin(hub.url)


@pytest.fixture(scope="session")
def security_hub(_security_hub_and_admin: tuple[Any, HubUser]) -> Any:
    """The suite's hub, its question bank loaded."""
    return _security_hub_and_admin[0]


@pytest.fixture(scope="session")
def instructor(_security_hub_and_admin: tuple[Any, HubUser]) -> HubUser:
    """The hub's admin: an instructor, who may read a question's hidden tests."""
    return _security_hub_and_admin[1]
