"""One real hub for the security suite: the embedded default with a one-question bank, its
admin (an instructor) signed up with a running server.

Each attack module gets its own room from it (``match_pair``); the hub is shared by the session
because spawning is the slow part.
"""

from __future__ import annotations

import pytest

from jupyter_peerprep.testing.hubclient import HubUser
from jupyter_peerprep.testing.rooms import new_admin


@pytest.fixture(scope="session")
def security_hub(make_hub, one_question_config):
    config = one_question_config()
    return make_hub(extra_env={"PEERPREP_SERVICE_CONFIG": str(config)})


@pytest.fixture(scope="session")
def instructor(security_hub) -> HubUser:
    """The hub's admin: an instructor, who may read a question's hidden tests."""
    return new_admin(security_hub.url)
