"""Rooms: turn each match into a shared, sandboxed Jupyter server, and end it cleanly.

A room is the single-user server of a hub user ``pair-<hex>`` (JupyterHub's "collaboration
accounts" pattern). The ``RoomManager`` runs in the service and, on every tick:

1. prepares rooms in state ``starting`` (created by the matchmaker with the match): takes a
   started server from the warm pool, or creates the pair user and spawns its server (cold);
   writes the student notebook (prompt, starter, public tests; never a hidden case); shares the
   server with exactly the two students (Hub Shares API); marks the room ``active``;
2. ends rooms whose students left (no heartbeat for ``disconnect_grace``) or went idle (no
   server activity for ``idle_timeout``), and finishes rooms in state ``ending``: saves the final
   notebook into the history, revokes the shares, stops the server and deletes the pair user.
   A pair server is never reused: a running server caches the hub's answer about a token
   (``HubOAuth.cache_max_age``), so a revoked share would linger on a reused one;
3. keeps ``warm_pool_size`` started, unassigned pair servers.

Everything is recorded in the database first, so a service restart loses nothing: rooms and
pair servers found half-way are picked up again by the next tick.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
import uuid
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlparse

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from traitlets import Bool, Float, Integer, Unicode, default
from traitlets.config import LoggingConfigurable

from ..questions.store import cached_student_view
from . import db
from .auth import PAIR_USER_PREFIX
from .hubapi import HubAPI, HubAPIError
from .models import (
    PairServer,
    PairServerState,
    Profile,
    QuestionVersion,
    Room,
    RoomMember,
    RoomObserver,
    RoomState,
    utcnow,
)


class RoomError(RuntimeError):
    """A room could not be prepared or ended; the message says what failed."""


class RoomManager(LoggingConfigurable):
    """Prepares, watches and ends pair rooms, and keeps a warm pool of pair servers."""

    enabled = Bool(
        True,
        help="""Prepare, watch and end rooms. Off only for a service without a hub to talk to
        (service-level tests); matches then stay "starting".""",
    ).tag(config=True)

    warm_pool_size = Integer(
        1,
        help="""Started, unassigned pair servers kept ready so a match becomes an editable
        shared notebook without waiting for a spawn (each holds about 150 MB idle).
        0 disables the pool: every room is a cold spawn.""",
    ).tag(config=True)

    disconnect_grace = Float(
        120.0,
        help="""Seconds a student who joined may be gone (no heartbeat from the room panel)
        before the room ends by itself.""",
    ).tag(config=True)

    join_timeout = Float(
        300.0,
        help="Seconds after a room is ready within which someone must join, else it ends.",
    ).tag(config=True)

    idle_timeout = Float(
        1800.0,
        help="Seconds without any activity on the pair server (per the hub) before the room "
        "is culled.",
    ).tag(config=True)

    spawn_timeout = Float(
        120.0,
        help="Seconds a pair server may take to start before the room is marked failed.",
    ).tag(config=True)

    heartbeat_online_seconds = Float(
        25.0,
        help="A member whose last heartbeat is younger than this shows as online.",
    ).tag(config=True)

    tick_interval = Float(0.5, help="Seconds between two passes of the room loop.").tag(config=True)

    end_notice_seconds = Float(
        3.0,
        help="""Seconds a room's server stays up after a student ends the session, so the
        partner's room panel sees who ended it before the server goes away.""",
    ).tag(config=True)

    notebook_name = Unicode(
        "question.ipynb", help="File name of the question notebook in a room."
    ).tag(config=True)

    server_url = Unicode(
        help="""Base URL through which the service reaches single-user servers (the proxy).
        Defaults to $PEERPREP_PUBLIC_URL, set by the hub configuration.""",
    ).tag(config=True)

    @default("server_url")
    def _default_server_url(self) -> str:
        return os.environ.get("PEERPREP_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")

    hub_base_url = Unicode(
        help="The hub's base URL (prefix of /user/...). Defaults to $JUPYTERHUB_BASE_URL.",
    ).tag(config=True)

    @default("hub_base_url")
    def _default_hub_base_url(self) -> str:
        return os.environ.get("JUPYTERHUB_BASE_URL", "/")

    def __init__(
        self,
        *,
        session_factory: sessionmaker[Session],
        hub_api: HubAPI | None,
        notebook_factory: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.session_factory = session_factory
        self.hub_api = hub_api
        self.notebook_factory = notebook_factory
        self._task: asyncio.Task[None] | None = None
        self._busy: dict[str, asyncio.Task[Any]] = {}
        self._warming: set[str] = set()
        self._server_hosts: dict[str, str] = {}
        self.wake = asyncio.Event()

    # -- life cycle --------------------------------------------------------------------------

    async def start(self) -> None:
        if not self.enabled:
            return
        if self.hub_api is None:
            self.log.warning("Rooms: no hub API token, rooms will not be prepared.")
            return
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for task in list(self._busy.values()):
            task.cancel()

    async def _loop(self) -> None:
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                self.log.exception("Rooms: tick failed; trying again")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.wake.wait(), self.tick_interval)
            self.wake.clear()

    async def tick(self) -> None:
        now = utcnow()
        with self.session_factory() as s:
            starting = s.scalars(
                select(Room.id).where(Room.state == RoomState.starting.value)
            ).all()
            ending = s.scalars(select(Room.id).where(Room.state == RoomState.ending.value)).all()
        for room_id in starting:
            self._spawn_task(room_id, self.prepare_room(room_id))
        for room_id in ending:
            self._spawn_task(room_id, self.finish_room(room_id))
        await self.reap(now)
        self.refill_pool()

    def _spawn_task(self, room_id: str, coro: Any) -> None:
        if room_id in self._busy:
            coro.close()
            return
        task = asyncio.create_task(coro)
        self._busy[room_id] = task
        task.add_done_callback(lambda _t: self._busy.pop(room_id, None))

    # -- talking to servers ------------------------------------------------------------------

    @property
    def api(self) -> HubAPI:
        if self.hub_api is None:
            raise RoomError("The service has no hub API token.")
        return self.hub_api

    def server_base(self, pair_user: str) -> str:
        return f"{self.server_url}{self.hub_base_url.rstrip('/')}/user/{quote(pair_user)}"

    def room_url(self, room: Room) -> str:
        return (
            f"{self.hub_base_url.rstrip('/')}/user/{room.pair_user}/lab/tree/{self.notebook_name}"
        )

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

    async def server_request(self, pair_user: str, method: str, path: str, body: Any = None) -> Any:
        headers = {"Authorization": f"token {self.api.api_token}"}
        host = await self.server_host(pair_user)
        if host:
            headers["Host"] = host
        request = HTTPRequest(
            f"{self.server_base(pair_user)}/{path.lstrip('/')}",
            method=method,
            headers=headers,
            body=None if body is None else json.dumps(body),
            request_timeout=30,
            follow_redirects=False,
        )
        try:
            response = await AsyncHTTPClient().fetch(request)
        except HTTPClientError as e:
            raise RoomError(f"{method} {path} on {pair_user}'s server: HTTP {e.code}") from None
        except OSError as e:
            raise RoomError(f"{method} {path} on {pair_user}'s server: {e}") from None
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
                raise RoomError(f"The server of {name} stopped while starting.")
            await asyncio.sleep(0.2)
        raise RoomError(f"The server of {name} was not ready within {self.spawn_timeout:.0f}s.")

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
        # Warming servers left by a previous process are resumed, then new ones started.
        for server in live:
            if server.state == PairServerState.warming.value and server.name not in self._warming:
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
                    s.execute(
                        update(PairServer)
                        .where(PairServer.name == name)
                        .values(state=PairServerState.retired.value, message=str(e))
                    )
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

    # -- preparing a room --------------------------------------------------------------------

    async def prepare_room(self, room_id: str) -> None:
        started = time.monotonic()
        with self.session_factory() as s:
            room = s.get(Room, room_id)
            if room is None or room.state != RoomState.starting.value:
                return
            members = [m.username for m in room.members]
            existing = s.scalar(select(PairServer).where(PairServer.room_id == room_id))
            pair_user = existing.name if existing else None
        try:
            if pair_user is None:
                pair_user = self.claim_warm_server(room_id)
                warm = pair_user is not None
                if pair_user is None:
                    with db.transaction(self.session_factory) as s:
                        room = s.get(Room, room_id)
                        assert room is not None
                        pair_user = room.pair_user
                        s.merge(
                            PairServer(
                                name=pair_user,
                                state=PairServerState.assigned.value,
                                room_id=room_id,
                            )
                        )
                        room.message = "Starting your room (no warm server was free)…"
                    self.log.info("Rooms: room %s cold-spawns %s", room_id, pair_user)
            else:
                warm = False
            if not warm:
                await self.spawn_pair_server(pair_user)
            notebook = self.student_notebook(room_id)
            # The notebook and both shares at once: this is the match's critical path.
            await asyncio.gather(
                self.server_request(
                    pair_user,
                    "PUT",
                    f"api/contents/{quote(self.notebook_name)}",
                    {"type": "notebook", "format": "json", "content": notebook},
                ),
                *(
                    self.api.request("POST", f"shares/{quote(pair_user)}/", {"user": member})
                    for member in members
                ),
            )
        except Exception as e:
            self.log.error("Rooms: room %s could not start: %s", room_id, e)
            with db.transaction(self.session_factory) as s:
                room = s.get(Room, room_id)
                assert room is not None
                room.state = RoomState.failed.value
                room.message = f"Your room could not be started ({e}). Please find a partner again."
                room.ended = utcnow()
                room.end_reason = "failed"
                for m in room.members:
                    m.active = False
            if pair_user:
                await self._quietly_delete(pair_user)
                self._retire(pair_user)
            return
        with db.transaction(self.session_factory) as s:
            room = s.get(Room, room_id)
            assert room is not None
            room.state = RoomState.active.value
            room.started = utcnow()
            room.message = ""
        self.log.info(
            "Rooms: room %s active on %s (%s, %.2fs) for %s",
            room_id,
            pair_user,
            "warm" if warm else "cold",
            time.monotonic() - started,
            ", ".join(members),
        )
        self.wake.set()

    def student_notebook(self, room_id: str) -> dict[str, Any]:
        with self.session_factory() as s:
            room = s.get(Room, room_id)
            assert room is not None
            spec = s.scalar(
                select(QuestionVersion.spec).where(
                    QuestionVersion.question_id == room.question_id,
                    QuestionVersion.version == room.question_version,
                )
            )
        if spec is None:
            raise RoomError(f"question {room.question_id} v{room.question_version} is missing")
        notebook: dict[str, Any] = self.notebook_factory(spec, version=room.question_version)
        return notebook

    def _retire(self, name: str) -> None:
        with db.transaction(self.session_factory) as s:
            s.execute(
                update(PairServer)
                .where(PairServer.name == name)
                .values(state=PairServerState.retired.value)
            )

    # -- ending a room -----------------------------------------------------------------------

    def request_end(self, room_id: str, *, by: str, reason: str) -> bool:
        """Mark an active (or starting) room as ending; the loop finishes it. True if it was."""
        with db.transaction(self.session_factory) as s:
            result = s.execute(
                update(Room)
                .where(
                    Room.id == room_id,
                    Room.state.in_([RoomState.active.value, RoomState.starting.value]),
                )
                .values(
                    state=RoomState.ending.value, ended_by=by, end_reason=reason, ended=utcnow()
                )
            )
            changed = bool(result.rowcount)  # type: ignore[attr-defined]
        if changed:
            self.log.info("Rooms: room %s ending (%s by %s)", room_id, reason, by or "service")
            self.wake.set()
        return changed

    async def finish_room(self, room_id: str) -> None:
        with self.session_factory() as s:
            room = s.get(Room, room_id)
            if room is None or room.state != RoomState.ending.value:
                return
            pair_user = room.pair_user
            requested = room.ended or utcnow()
            notice = bool(room.ended_by)
        if notice:
            wait = self.end_notice_seconds - (utcnow() - requested).total_seconds()
            if wait > 0:
                await asyncio.sleep(wait)
        final: dict[str, Any] | None = None
        try:
            model = await self.server_request(
                pair_user, "GET", f"api/contents/{quote(self.notebook_name)}?content=1"
            )
            final = (model or {}).get("content")
        except RoomError as e:
            self.log.warning("Rooms: room %s: final notebook not read: %s", room_id, e)
        with db.transaction(self.session_factory) as s:
            room = s.get(Room, room_id)
            assert room is not None
            if final is not None:
                room.final_notebook = final
            elif room.final_notebook is None:
                room.final_notebook = self._fallback_notebook(room_id)
        try:
            await self.delete_pair_user(pair_user)
        except Exception as e:
            self.log.error(
                "Rooms: room %s: stopping %s failed, will retry: %s", room_id, pair_user, e
            )
            return
        self._retire(pair_user)
        with db.transaction(self.session_factory) as s:
            room = s.get(Room, room_id)
            assert room is not None
            room.state = RoomState.ended.value
            room.ended = room.ended or utcnow()
            for m in room.members:
                m.active = False
        self.log.info("Rooms: room %s ended; %s stopped and deleted", room_id, pair_user)

    def _fallback_notebook(self, room_id: str) -> dict[str, Any] | None:
        try:
            return self.student_notebook(room_id)
        except RoomError:
            return None

    # -- presence, idleness ------------------------------------------------------------------

    def heartbeat(self, room_id: str, username: str) -> bool:
        """Record that ``username`` has the room open now; False if they are not a member."""
        now = utcnow()
        with db.transaction(self.session_factory) as s:
            member = s.scalar(
                select(RoomMember).where(
                    RoomMember.room_id == room_id, RoomMember.username == username
                )
            )
            if member is None:
                return False
            member.last_seen = now
            if member.joined is None:
                member.joined = now
            return True

    async def reap(self, now: datetime) -> None:
        grace = timedelta(seconds=self.disconnect_grace)
        with self.session_factory() as s:
            rooms = s.scalars(select(Room).where(Room.state == RoomState.active.value)).all()
            decisions: list[tuple[str, str]] = []
            for room in rooms:
                joined = [m for m in room.members if m.joined is not None]
                gone = [m for m in joined if m.last_seen is not None and now - m.last_seen > grace]
                if gone:
                    decisions.append((room.id, "disconnected"))
                elif (
                    not joined
                    and room.started
                    and (now - room.started > timedelta(seconds=self.join_timeout))
                ):
                    decisions.append((room.id, "nobody joined"))
            pair_users = {room.id: room.pair_user for room in rooms}
        for room_id, reason in decisions:
            self.request_end(room_id, by="", reason=reason)
        if self.idle_timeout > 0 and self.hub_api is not None:
            for room_id, pair_user in pair_users.items():
                if any(room_id == d[0] for d in decisions):
                    continue
                await self._cull_if_idle(room_id, pair_user, now)

    async def _cull_if_idle(self, room_id: str, pair_user: str, now: datetime) -> None:
        try:
            model = await self.api.request("GET", f"users/{quote(pair_user)}")
        except HubAPIError:
            return
        activity = ((model or {}).get("servers", {}).get("") or {}).get("last_activity")
        if not activity:
            return
        last = datetime.fromisoformat(activity.replace("Z", "+00:00"))
        if (now - last).total_seconds() > self.idle_timeout:
            self.request_end(room_id, by="", reason="idle")

    # -- what the API shows ------------------------------------------------------------------

    def room_json(self, s: Session, room: Room) -> dict[str, Any]:
        """What the room API answers; both room panels poll it every second.

        The question comes from the per-version student-view cache: a poll reads neither the
        spec (hidden tests and all) nor the ``questions`` row.
        """
        now = utcnow()
        # A room's question row always exists (foreign key), so its id is the fallback title.
        view = cached_student_view(s, room.question_id, room.question_version) or {}
        names = [m.username for m in room.members]
        profiles = {
            p.username: p for p in s.scalars(select(Profile).where(Profile.username.in_(names)))
        }
        online = timedelta(seconds=self.heartbeat_online_seconds)
        start = room.started or room.created
        end = room.ended or now
        return {
            "id": room.id,
            "state": room.state,
            "pair_user": room.pair_user,
            "url": self.room_url(room),
            "notebook_path": self.notebook_name,
            "question": {
                "id": room.question_id,
                "title": view.get("title") or room.question_id,
                "difficulty": room.difficulty,
                "topics": list(view.get("topics") or []),
                "prompt": view.get("prompt") or "",
                "version": room.question_version,
            },
            "members": [
                {
                    "name": m.username,
                    "display_name": (
                        profiles[m.username].display_name
                        if m.username in profiles and profiles[m.username].display_name
                        else m.username
                    ),
                    "online": bool(m.last_seen and now - m.last_seen < online),
                    "last_seen": m.last_seen.isoformat() if m.last_seen else None,
                }
                for m in room.members
            ],
            "created": room.created.isoformat(),
            "started": room.started.isoformat() if room.started else None,
            "ended": room.ended.isoformat() if room.ended else None,
            "ended_by": room.ended_by,
            "end_reason": room.end_reason,
            "elapsed_s": round((end - start).total_seconds(), 1),
            "message": room.message,
            # Instructors who opened this room from the class view: the room panel says so.
            "observers": list(
                s.scalars(
                    select(RoomObserver.username)
                    .where(RoomObserver.room_id == room.id)
                    .order_by(RoomObserver.opened)
                )
            ),
        }
