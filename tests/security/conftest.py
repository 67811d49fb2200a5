"""Real hubs for the security suite.

- ``security_hub``: the embedded default with a one-question bank, its admin (an instructor)
  signed up with a running server. Each attack module gets its own room from it
  (``match_pair``); the hub is shared by the session because spawning is the slow part.
- ``subdomain_hub``: the same with every server on its own subdomain of localhost (production's
  layout), for the browser attacks on a room's page; shared by the session likewise.
"""

from __future__ import annotations

import shutil
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_peerprep.testing.hubclient import HubUser
from jupyter_peerprep.testing.rooms import new_admin

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def security_hub(make_hub, one_question_config):
    config = one_question_config()
    return make_hub(extra_env={"PEERPREP_SERVICE_CONFIG": str(config)})


@pytest.fixture(scope="session")
def instructor(security_hub) -> HubUser:
    """The hub's admin: an instructor, who may read a question's hidden tests."""
    return new_admin(security_hub.url)


@pytest.fixture(scope="session")
def localhost_subdomains() -> Iterator[None]:
    """This test process resolves ``*.localhost`` to the loopback, as browsers do."""
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host.endswith(".localhost"):
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket, "getaddrinfo", getaddrinfo)
        yield


@pytest.fixture(scope="session")
def subdomain_hub(make_hub: Any, tmp_path_factory: Any, localhost_subdomains: None) -> Any:
    bank = tmp_path_factory.mktemp("bank")
    shutil.copy(REPO / "question_bank" / "best-single-trade.ipynb", bank)
    config = tmp_path_factory.mktemp("svc") / "peerprep_config.py"
    config.write_text(
        f"c.QuestionBank.bank_dirs = [{str(bank)!r}]\n"
        "c.RoomManager.warm_pool_size = 0\n"
        "c.RoomManager.idle_timeout = 0\n"
    )
    return make_hub(extra_env={"PEERPREP_SERVICE_CONFIG": str(config)}, subdomains=True)


@pytest.fixture(scope="session")
def log_in() -> Callable[[Any, str, HubUser], None]:
    """``log_in(page, hub_url, user)``: log ``user`` in to the hub in a Playwright page."""

    def log_in(page: Any, hub_url: str, user: HubUser) -> None:
        page.goto(f"{hub_url}/hub/login")
        page.fill("#username_input", user.name)
        page.fill("#password_input", user.password)
        page.click("#login_submit")
        page.wait_for_url(f"**/user/{user.name}/**", timeout=90_000)

    return log_in
