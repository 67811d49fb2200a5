"""Pair servers at the hub: create and start one, talk to it, stop and delete it, keep the
warm pool.

A pair server is the single-user server of a hub user ``pair-<hex>``; it hosts one room and is
never reused (a running server caches the hub's answer about a token, so a revoked share would
linger on a reused one). The warm pool keeps ``RoomManager.warm_pool_size`` of them started and
unassigned, so a match becomes an editable notebook without waiting for a spawn. A pool server
is claimed with a row lock (``FOR UPDATE SKIP LOCKED``), so two service replicas never take the
same one, and one that another replica is still starting is left to it.

``PairServerPool`` is the part of ``RoomManager`` that does this; its traits are the room
manager's.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import timedelta
from logging import Logger
from typing import Any
from urllib.parse import quote, urlparse

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from ... import db
from ...db.models import PairServer, PairServerState, Room, utcnow
from ..auth import PAIR_USER_PREFIX
from ..hubapi import HubAPI, HubAPIError


class RoomError(RuntimeError):
    """A room could not be prepared or ended; the message says what failed. ``status`` is
    the pair server's HTTP status (599: no answer at all)."""

    def __init__(self, message: str, status: int = 599) -> None:
        super().__init__(message)
        self.status = status


class PairServerError(RuntimeError):
    """A pair server did not start; the message says why."""


class PairServerPool:
    """Hub users and servers of rooms, and the warm pool (mixed into ``RoomManager``)."""

    log: Logger
    session_factory: sessionmaker[Session]
    spawn_timeout: float
    warm_pool_size: int
    wake: asyncio.Event
    _busy: dict[str, asyncio.Task[Any]]
    _warming: set[str]
    server_url: str
    hub_base_url: str
    # Per pair user: the Host its server is served under (see ``server_host``); dropped when
    # the pair user is deleted, so the map holds live rooms only.
    _server_hosts: dict[str, str]

    @property
    def api(self) -> HubAPI:
        raise NotImplementedError

    # -- talking to a pair server ------------------------------------------------------------

    def server_base(self, pair_user: str) -> str:
        return f"{self.server_url}{self.hub_base_url.rstrip('/')}/user/{quote(pair_user)}"

    async def server_host(self, pair_user: str) -> str:
        """The host name of a server served on its own subdomain ("" when servers are on
        paths). The proxy routes such a server by its Host header, so a request through the
        proxy's internal address must name it; the hub's model of the server says which."""
        if pair_user not in self._server_hosts:
            try:
                model = await self.api.request("GET", f"users/{quote(pair_user, safe='')}")
            except HubAPIError as e:
                raise RoomError(f"{pair_user}'s server: the hub answered {e}") from None
            server = ((model or {}).get("servers") or {}).get("") or {}
            url = str(server.get("url") or "")
            if not url:
                return ""  # not started yet: ask again next time
            self._server_hosts[pair_user] = urlparse(url).netloc
        return self._server_hosts[pair_user]

    async def server_request(
        self, pair_user: str, method: str, path: str, body: Any = None, *, timeout: float = 30
    ) -> Any:
        headers = {"Authorization": f"token {self.api.api_token}"}
        host = await self.server_host(pair_user)
        if host:
            headers["Host"] = host
        request = HTTPRequest(
            f"{self.server_base(pair_user)}/{path.lstrip('/')}",
            method=method,
            headers=headers,
            body=None if body is None else json.dumps(body),
            connect_timeout=min(timeout, 10),
            request_timeout=timeout,
            follow_redirects=False,
        )
        try:
            response = await AsyncHTTPClient().fetch(request)
        except HTTPClientError as e:
            raise RoomError(
                f"{method} {path} on {pair_user}'s server: HTTP {e.code}", e.code
            ) from None
        except OSError as e:
            raise RoomError(f"{method} {path} on {pair_user}'s server: {e}") from None
        if response.code >= 300:  # a redirect: the proxy no longer routes to the server
            raise RoomError(
                f"{method} {path} on {pair_user}'s server: HTTP {response.code}", response.code
            )
        return json.loads(response.body) if response.body else None

    async def spawn_pair_server(self, name: str) -> None:
        """Create hub user ``name`` and start its server; return when it is ready."""
        try:
            await self.api.request("POST", f"users/{quote(name)}")
        except HubAPIError as e:
            if e.status != 409:  # already exists: a restart half-way
                raise
        try:
            await self.api.request("POST", f"users/{quote(name)}/server")
        except HubAPIError as e:
            if e.status != 400:  # already running or pending
                raise
        begun = time.monotonic()
        seen = False
        while time.monotonic() - begun < self.spawn_timeout:
            model = await self.api.request("GET", f"users/{quote(name)}")
            server = (model or {}).get("servers", {}).get("")
            if server and server.get("ready"):
                return
            if server is not None:
                seen = True
            elif seen or time.monotonic() - begun > 10:
                # Gone after pending (or never there): the spawn failed.
                raise PairServerError(f"The server of {name} stopped while starting.")
            await asyncio.sleep(0.2)
        raise PairServerError(
            f"The server of {name} was not ready within {self.spawn_timeout:.0f}s."
        )

    async def delete_pair_user(self, name: str) -> None:
        for method, path in (
            ("DELETE", f"shares/{quote(name)}/"),
            ("DELETE", f"users/{quote(name)}/server"),
            ("DELETE", f"users/{quote(name)}"),
        ):
            try:
                await self.api.request(method, path, timeout=60)
            except HubAPIError as e:
                if e.status not in (404, 400):
                    raise
            if path.endswith("/server"):
                await self._wait_stopped(name)
        self._server_hosts.pop(name, None)

    async def _wait_stopped(self, name: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                model = await self.api.request("GET", f"users/{quote(name)}")
            except HubAPIError as e:
                if e.status == 404:
                    return
                raise
            if not (model or {}).get("servers"):
                return
            await asyncio.sleep(0.2)

    # -- the warm pool -----------------------------------------------------------------------

    def refill_pool(self) -> None:
        with self.session_factory() as s:
            live = s.scalars(
                select(PairServer).where(
                    PairServer.state.in_(
                        [PairServerState.warming.value, PairServerState.ready.value]
                    )
                )
            ).all()
        # Warming servers left by a process that died are resumed, then new ones started.
        # Only stale ones: a younger one is being started by another replica right now.
        stale = utcnow() - timedelta(seconds=self.spawn_timeout + 30)
        for server in live:
            if (
                server.state == PairServerState.warming.value
                and server.name not in self._warming
                and server.created < stale
            ):
                self._warm(server.name)
        missing = self.warm_pool_size - len(live)
        for _ in range(max(0, missing)):
            name = f"{PAIR_USER_PREFIX}{uuid.uuid4().hex[:12]}"
            with db.transaction(self.session_factory) as s:
                s.add(PairServer(name=name, state=PairServerState.warming.value))
            self._warm(name)

    def _warm(self, name: str) -> None:
        self._warming.add(name)

        async def warm() -> None:
            try:
                await self.spawn_pair_server(name)
            except Exception as e:
                self.log.error("Rooms: warm server %s failed: %s", name, e)
                with db.transaction(self.session_factory) as s:
                    retired = s.execute(
                        update(PairServer)
                        .where(
                            PairServer.name == name,
                            PairServer.state == PairServerState.warming.value,
                        )
                        .values(state=PairServerState.retired.value, message=str(e))
                    ).rowcount  # type: ignore[attr-defined]
                if retired:  # never delete a server that a room has claimed meanwhile
                    await self._quietly_delete(name)
            else:
                with db.transaction(self.session_factory) as s:
                    s.execute(
                        update(PairServer)
                        .where(
                            PairServer.name == name,
                            PairServer.state == PairServerState.warming.value,
                        )
                        .values(state=PairServerState.ready.value, ready_at=utcnow())
                    )
                self.log.info("Rooms: warm server %s ready", name)
                self.wake.set()
            finally:
                self._warming.discard(name)

        task = asyncio.create_task(warm())
        self._busy[f"warm:{name}"] = task
        task.add_done_callback(lambda _t: self._busy.pop(f"warm:{name}", None))

    async def _quietly_delete(self, name: str) -> None:
        try:
            await self.delete_pair_user(name)
        except Exception as e:
            self.log.warning("Rooms: could not delete %s: %s", name, e)

    def claim_warm_server(self, room_id: str) -> str | None:
        """Take a ready pool server for ``room_id`` (atomically), or None if the pool is empty."""
        with db.transaction(self.session_factory) as s:
            server = s.scalar(
                select(PairServer)
                .where(PairServer.state == PairServerState.ready.value)
                .order_by(PairServer.ready_at)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if server is None:
                return None
            server.state = PairServerState.assigned.value
            server.room_id = room_id
            room = s.get(Room, room_id)
            assert room is not None
            room.pair_user = server.name
            return server.name

    def _retire(self, name: str) -> None:
        with db.transaction(self.session_factory) as s:
            s.execute(
                update(PairServer)
                .where(PairServer.name == name)
                .values(state=PairServerState.retired.value)
            )

    async def _server_state(self, pair_user: str) -> tuple[str, dict[str, Any] | None]:
        """What the hub says of ``pair_user``'s server: "running", "gone" (stopped or never
        there) or "unknown" (the hub did not answer), with the hub's user model."""
        try:
            model = await self.api.request("GET", f"users/{quote(pair_user)}", timeout=10)
        except HubAPIError as e:
            return ("gone" if e.status == 404 else "unknown"), None
        server = ((model or {}).get("servers") or {}).get("")
        if not server or server.get("stopped"):
            return "gone", model
        return "running", model
