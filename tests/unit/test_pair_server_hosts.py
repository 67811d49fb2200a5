"""The room manager forgets a pair server's Host once its pair user is deleted.

``RoomManager`` remembers, per pair user, the Host its server is served under (servers on
subdomains). Rooms come and go all day; a map that only grows is a leak an operator would see
as the service's memory climbing with every room ever held. The hub here is a fake (an object
answering the three hub API calls involved): only the manager's own bookkeeping is under test.
"""

from __future__ import annotations

from typing import Any

from jupyter_peerprep import db
from jupyter_peerprep.hub.hubapi import HubAPIError
from jupyter_peerprep.hub.rooms import RoomManager


class FakeHub:
    """Answers like JupyterHub for pair users whose servers live on their own subdomain."""

    api_token = "fake"

    def __init__(self) -> None:
        self.users: set[str] = set()

    async def request(
        self, method: str, path: str, body: Any = None, *, timeout: float = 30
    ) -> Any:
        parts = path.strip("/").split("/")
        name = parts[1] if len(parts) > 1 else ""
        if parts[0] == "users" and method == "GET":
            if name not in self.users:
                raise HubAPIError(404, f"no user {name}")
            return {"name": name, "servers": {"": {"url": f"http://{name}.rooms.test/"}}}
        if parts[0] == "users" and method == "DELETE" and len(parts) == 2:
            self.users.discard(name)
        return None


async def test_deleting_a_pair_user_forgets_its_server_host(sqlite_url):
    engine = db.make_engine(sqlite_url)
    db.upgrade(engine)
    hub = FakeHub()
    rooms = RoomManager(
        session_factory=db.session_factory(engine),
        hub_api=hub,  # type: ignore[arg-type]
        notebook_factory=lambda spec, version: {},
    )
    hub.users |= {"pair-one", "pair-two"}
    assert await rooms.server_host("pair-one") == "pair-one.rooms.test"
    assert await rooms.server_host("pair-two") == "pair-two.rooms.test"
    await rooms.delete_pair_user("pair-one")
    assert "pair-one" not in rooms._server_hosts
    assert rooms._server_hosts == {"pair-two": "pair-two.rooms.test"}
    engine.dispose()
