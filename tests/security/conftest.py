"""One real hub for the security suite: the embedded default with a one-question bank, its
admin (an instructor) signed up with a running server.

Each attack module gets its own room from it (``match_pair``); the hub is shared by the session
because spawning is the slow part.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from jupyter_peerprep.testing.hubclient import HubUser
from jupyter_peerprep.testing.rooms import wait_for_questions

TESTS = Path(__file__).resolve().parents[1]


def _question_notebook() -> dict:
    path = TESTS / "questions" / "question_notebooks.py"
    spec = importlib.util.spec_from_file_location("question_notebooks", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build_notebook()


@pytest.fixture(scope="session")
def security_hub(make_hub, tmp_path_factory):
    bank = tmp_path_factory.mktemp("security-bank")
    (bank / "pair-sum-demo.ipynb").write_text(json.dumps(_question_notebook()))
    config = tmp_path_factory.mktemp("security-svc") / "peerprep_config.py"
    config.write_text(
        f"c.QuestionBank.bank_dirs = [{str(bank)!r}]\n"
        "c.RoomManager.warm_pool_size = 0\n"
        "c.RoomManager.idle_timeout = 0\n"
    )
    return make_hub(extra_env={"PEERPREP_SERVICE_CONFIG": str(config)})


@pytest.fixture(scope="session")
def instructor(security_hub) -> HubUser:
    """The hub's admin: an instructor, who may read a question's hidden tests."""
    admin = HubUser(security_hub.url, "admin")
    admin.signup()
    admin.login()
    admin.start_server()
    wait_for_questions(admin)
    return admin
