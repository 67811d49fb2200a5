"""Real hubs for the security suite.

- ``security_hub``: the embedded default with a one-question bank and tight room limits
  (the limits a cheap university VM would set, so an attack in one room hits them quickly),
  its admin (``instructor``) signed up with a running server. Each attack module gets its
  own room from it (``match_pair``); shared by the session because spawning is slow.
- ``subdomain_hub``: the same with every server on its own subdomain of localhost
  (production's layout), for the browser attacks on a room's page; shared likewise.
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
