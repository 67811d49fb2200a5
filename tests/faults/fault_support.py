"""Helpers of the fault suite: the service configuration its hubs share (one small question,
cold rooms, quick room checks) and waiting for the question bank."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

from jupyter_peerprep.testing.faults import ServiceCaller, wait_for

HERE = Path(__file__).parent


def question_notebook() -> dict[str, Any]:
    path = HERE.parent / "questions" / "question_notebooks.py"
    spec = importlib.util.spec_from_file_location("question_notebooks", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    notebook: dict[str, Any] = module.build_notebook()
    return notebook


def write_service_config(directory: Path, extra: str = "") -> Path:
    bank = directory / "bank"
    bank.mkdir(exist_ok=True)
    (bank / "pair-sum-demo.ipynb").write_text(json.dumps(question_notebook()))
    config = directory / "peerprep_config.py"
    config.write_text(
        f"c.QuestionBank.bank_dirs = [{str(bank)!r}]\n"
        # Cold rooms: a room stays "starting" for seconds, so faults can hit it then.
        "c.RoomManager.warm_pool_size = 0\n"
        "c.RoomManager.idle_timeout = 0\n"
        "c.RoomManager.snapshot_interval = 1.0\n"
        "c.RoomManager.server_lost_after = 3.0\n"
        # Tickets of different topics stay apart for the suite's length.
        "c.Matchmaker.topic_relax_after = 600\n"
        "c.Matchmaker.difficulty_relax_after = 900\n"
        "c.Matchmaker.timeout_after = 1200\n" + extra
    )
    return config


def wait_for_questions_of(caller: ServiceCaller) -> None:
    wait_for(
        lambda: caller("GET", "questions").json().get("questions"),
        timeout=120,
        what="the question bank loaded",
    )
