"""Fixtures of the security suite: one real hub (embedded default) with tight room limits.

Shared by the whole suite (spawning is the slow part). Its servers get small limits so an
attack in one room hits them quickly: the limits a cheap university VM would set.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from jupyter_peerprep.testing.rooms import hub_with_questions

ROOT = Path(__file__).resolve().parents[2]
# Per room (pair server + its kernels); a student's own server gets the same.
ROOM_MEM_LIMIT = "768M"
ROOM_PIDS_LIMIT = 160


@pytest.fixture(scope="session")
def security_hub(make_hub: Any, small_question_bank: Path, tmp_path_factory: Any) -> Any:
    config = tmp_path_factory.mktemp("security-svc") / "peerprep_config.py"
    config.write_text(
        f"c.QuestionBank.bank_dirs = [{str(small_question_bank)!r}]\n"
        "c.RoomManager.warm_pool_size = 0\n"
        "c.RoomManager.idle_timeout = 0\n"
    )
    hub = make_hub(
        extra_env={
            "PEERPREP_SERVICE_CONFIG": str(config),
            "PEERPREP_MEM_LIMIT": ROOM_MEM_LIMIT,
            "PEERPREP_PIDS_LIMIT": str(ROOM_PIDS_LIMIT),
        }
    )
    hub_with_questions(hub.url)
    return hub
