"""``RoomManager``: the room loop that prepares, watches and ends pair rooms.

How a room lives and why each step is ordered as it is: ``docs/explanation/rooms.md``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from traitlets import Bool, Float, Integer, Unicode, default
from traitlets.config import LoggingConfigurable

from ... import db
from ...db.models import (
    PairServer,
    PairServerState,
    Room,
    RoomState,
    utcnow,
)
from .. import metrics
from ..hubapi import HubAPI, HubAPIError
from ..record_store import record_snapshots_live
from ..room_language import room_language
from ..talk import roomhooks as talk_hooks
from . import state as roomstate
from . import views
from .pairservers import PairServerPool, RoomError


class RoomManager(PairServerPool, LoggingConfigurable):
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

    snapshot_interval = Float(
        10.0,
        help="""Seconds between two checks of a live room: PeerPrep copies its notebook (what
        the history holds should the room's server die) and asks the hub whether the server
        still runs. 0 turns the checks (and idle culling) off.""",
    ).tag(config=True)

    server_lost_after = Float(
        20.0,
        help="""Seconds a room's server may stop answering (while the hub still lists it)
        before the room is ended with the end reason "server lost" and the last copy of its
        notebook. A server the hub reports stopped ends the room at the next check.""",
    ).tag(config=True)

    tick_interval = Float(0.5, help="Seconds between two passes of the room loop.").tag(config=True)

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
        port: int | None = None,
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
        # Per live room: when it was last checked, since when its server has not answered.
        self._checked: dict[str, float] = {}
        self._unanswered: dict[str, float] = {}
        # Who holds a room's lease: this host and port, so a restarted service resumes its
        # own rooms at once while another replica waits for the lease to lapse.
        self.owner = f"{socket.gethostname()}:{os.getpid() if port is None else port}"
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

    def room_url(self, room: Room) -> str:
        return (
            f"{self.hub_base_url.rstrip('/')}/user/{room.pair_user}/lab/tree/{self.notebook_name}"
        )

    # -- preparing a room --------------------------------------------------------------------

    def _lease(self, room_id: str, state: str, seconds: float) -> roomstate.RoomFacts | None:
        return roomstate.take_lease(self.session_factory, room_id, state, self.owner, seconds)

    async def prepare_room(self, room_id: str) -> None:
        started = time.monotonic()
        facts = self._lease(room_id, RoomState.starting.value, self.spawn_timeout + 60)
        if facts is None:
            return  # not starting any more, or another replica prepares it
        try:
            await self._prepare(facts, started)
        finally:
            roomstate.release_lease(self.session_factory, room_id, self.owner)
        self.wake.set()

    async def _prepare(self, facts: roomstate.RoomFacts, started: float) -> None:
        room_id, members = facts.id, facts.members
        with self.session_factory() as s:
            existing = s.scalar(select(PairServer).where(PairServer.room_id == room_id))
            pair_user = existing.name if existing else None
        warm = False
        try:
            if pair_user is None:
                pair_user = self.claim_warm_server(room_id)
                warm = pair_user is not None
                if pair_user is None:
                    pair_user = facts.pair_user
                    with db.transaction(self.session_factory) as s:
                        s.merge(
                            PairServer(
                                name=pair_user,
                                state=PairServerState.assigned.value,
                                room_id=room_id,
                            )
                        )
                        room = s.get(Room, room_id)
                        assert room is not None
                        room.message = "Starting your room (no warm server was free)…"
                    self.log.info("Rooms: room %s cold-spawns %s", room_id, pair_user)
            if not warm:
                await self.spawn_pair_server(pair_user)
            # The notebook and both shares at once: this is the match's critical path.
            await asyncio.gather(
                self._write_notebook_once(room_id, pair_user),
                talk_hooks.on_prepare(self, room_id, pair_user),
                *(
                    self.api.request("POST", f"shares/{quote(pair_user)}/", {"user": member})
                    for member in members
                ),
            )
        except Exception as e:
            self.log.error("Rooms: room %s could not start: %s", room_id, e)
            message = f"Your room could not be started ({e}). Please find a partner again."
            if roomstate.fail_room(self.session_factory, room_id, message):
                metrics.count_room_failure("start_failed")
                if pair_user:
                    await self._quietly_delete(pair_user)
                    self._retire(pair_user)
            return
        if not roomstate.mark_active(self.session_factory, room_id):
            # Ended while it started: the loop's next pass ends it (revoke, save, stop).
            self.log.info("Rooms: room %s was ended while starting", room_id)
            return
        self.log.info(
            "Rooms: room %s active on %s (%s, %.2fs) for %s",
            room_id,
            pair_user,
            "warm" if warm else "cold",
            time.monotonic() - started,
            ", ".join(members),
        )

    async def _write_notebook_once(self, room_id: str, pair_user: str) -> None:
        """Write the student notebook unless the room already has it: a second preparation
        (a restart half-way) must never overwrite what the students wrote since."""
        path = f"api/contents/{quote(self.notebook_name)}"
        try:
            await self.server_request(pair_user, "GET", f"{path}?content=0")
            self.log.info("Rooms: room %s already has its notebook; not rewritten", room_id)
            return
        except RoomError as e:
            if e.status != 404:
                raise
        await self.server_request(
            pair_user,
            "PUT",
            path,
            {"type": "notebook", "format": "json", "content": self.student_notebook(room_id)},
        )

    def student_notebook(self, room_id: str) -> dict[str, Any]:
        try:
            spec, version = roomstate.question_spec(self.session_factory, room_id)
        except LookupError as e:
            raise RoomError(str(e)) from None
        language = room_language(self.session_factory, room_id)
        notebook: dict[str, Any] = self.notebook_factory(spec, version=version, language=language)
        return notebook

    # -- ending a room -----------------------------------------------------------------------

    def request_end(self, room_id: str, *, by: str, reason: str) -> bool:
        """Mark an active (or starting) room as ending; the loop finishes it. True if it was."""
        changed = roomstate.request_end(self.session_factory, room_id, by=by, reason=reason)
        if changed:
            self.log.info("Rooms: room %s ending (%s by %s)", room_id, reason, by or "service")
            self.wake.set()
        return changed

    async def finish_room(self, room_id: str) -> None:
        facts = self._lease(room_id, RoomState.ending.value, 120)
        if facts is None:
            return
        try:
            await self._finish(facts)
        finally:
            roomstate.release_lease(self.session_factory, room_id, self.owner)

    async def _finish(self, facts: roomstate.RoomFacts) -> None:
        """Revoke first (the students lose the room at once), then save the final notebook
        with the service's own access, then stop the server. No transaction is open across
        any of these calls; a step that fails is retried by the next pass."""
        room_id, pair_user = facts.id, facts.pair_user
        try:
            await self.api.request("DELETE", f"shares/{quote(pair_user)}/")
        except HubAPIError as e:
            if e.status not in (400, 404):
                self.log.warning("Rooms: room %s: shares not revoked, will retry: %s", room_id, e)
                return
        final: dict[str, Any] | None = None
        try:
            model = await self.server_request(
                pair_user, "GET", f"api/contents/{quote(self.notebook_name)}?content=1"
            )
            final = (model or {}).get("content")
        except RoomError as e:
            self.log.warning("Rooms: room %s: final notebook not read: %s", room_id, e)
        await talk_hooks.on_copy(self, room_id, pair_user)
        lost: str | None = None
        if final is not None:
            roomstate.store_snapshot(self.session_factory, room_id, final, utcnow())
        else:
            final, lost = self._best_notebook(facts)
        try:
            await self.delete_pair_user(pair_user)
        except Exception as e:
            self.log.error(
                "Rooms: room %s: stopping %s failed, will retry: %s", room_id, pair_user, e
            )
            metrics.count_room_failure("stop_failed")
            return
        self._retire(pair_user)
        if not roomstate.mark_ended(
            self.session_factory, room_id, notebook=final, lost_message=lost
        ):
            return
        talk_hooks.on_ended(self, room_id)
        if lost is not None:
            if facts.end_reason != roomstate.SERVER_LOST:
                metrics.count_room_failure("server_lost")
            self.log.warning(
                "Rooms: room %s ended, its server %s was lost: %s", room_id, pair_user, lost
            )
        else:
            self.log.info("Rooms: room %s ended; %s stopped and deleted", room_id, pair_user)

    def _best_notebook(
        self, facts: roomstate.RoomFacts
    ) -> tuple[dict[str, Any] | None, str | None]:
        """The notebook a room whose server is gone is ended with, and what history says."""
        if facts.snapshot is not None and facts.snapshot_at is not None:
            if facts.ended and facts.snapshot_at >= facts.ended:
                return facts.snapshot, None  # read after End by an earlier pass
            at = facts.snapshot_at.strftime("%H:%M:%S UTC")
            return facts.snapshot, (
                f"The room's server stopped unexpectedly; your history holds the notebook as "
                f"it was at {at}, the last copy PeerPrep took."
            )
        return self._fallback_notebook(facts.id), (
            "The room's server stopped unexpectedly before PeerPrep could copy the notebook; "
            "your history holds the question as it started. Your runs are kept."
        )

    def _fallback_notebook(self, room_id: str) -> dict[str, Any] | None:
        try:
            return self.student_notebook(room_id)
        except RoomError:
            return None

    # -- presence, idleness, liveness ------------------------------------------------------

    def heartbeat(self, room_id: str, username: str) -> bool:
        """Record that ``username`` has the room open now; False if they are not a member."""
        return roomstate.heartbeat(self.session_factory, room_id, username)

    async def reap(self, now: datetime) -> None:
        grace = timedelta(seconds=self.disconnect_grace)
        with self.session_factory() as s:
            rooms = s.scalars(select(Room).where(Room.state == RoomState.active.value)).all()
            decisions: dict[str, str] = {}
            for room in rooms:
                joined = [m for m in room.members if m.joined is not None]
                gone = [m for m in joined if m.last_seen is not None and now - m.last_seen > grace]
                if gone:
                    decisions[room.id] = "disconnected"
                elif (
                    not joined
                    and room.started
                    and (now - room.started > timedelta(seconds=self.join_timeout))
                ):
                    decisions[room.id] = "nobody joined"
            pair_users = {room.id: room.pair_user for room in rooms}
        for room_id, reason in decisions.items():
            self.request_end(room_id, by="", reason=reason)
        clock = time.monotonic()
        for room_id in set(self._checked) - set(pair_users):
            self._checked.pop(room_id, None)
            self._unanswered.pop(room_id, None)
        if self.hub_api is None or self.snapshot_interval <= 0:
            return
        for room_id, pair_user in pair_users.items():
            if room_id in decisions or clock - self._checked.get(room_id, 0.0) < (
                self.snapshot_interval
            ):
                continue
            self._checked[room_id] = clock
            self._spawn_task(f"watch:{room_id}", self.watch_room(room_id, pair_user, now))

    async def watch_room(self, room_id: str, pair_user: str, now: datetime) -> None:
        """One check of a live room: copy its notebook (the snapshot history falls back on),
        end it if its server is gone (``server lost``) or idle for ``idle_timeout``."""
        state, model = await self._server_state(pair_user)
        if state == "unknown":
            return  # the hub cannot be asked: never end rooms because the hub is down
        if state == "running":
            try:
                answer = await self.server_request(
                    pair_user, "GET", f"api/contents/{quote(self.notebook_name)}?content=1"
                )
            except RoomError as e:
                self.log.warning("Rooms: room %s: server not answering: %s", room_id, e)
                state = "unreachable"
            else:
                self._unanswered.pop(room_id, None)
                notebook = (answer or {}).get("content")
                # Hook (issue 14): the pair server's own snapshots are fresher than the file.
                if notebook is not None and not record_snapshots_live(
                    self.session_factory, room_id, 3 * self.snapshot_interval
                ):
                    roomstate.store_snapshot(self.session_factory, room_id, notebook, utcnow())
                await talk_hooks.on_copy(self, room_id, pair_user)
        if state == "unreachable":
            since = self._unanswered.setdefault(room_id, time.monotonic())
            if time.monotonic() - since >= self.server_lost_after:
                state = "gone"
        if state == "gone":
            self.log.warning("Rooms: room %s: server %s is gone; ending it", room_id, pair_user)
            if self.request_end(room_id, by="", reason=roomstate.SERVER_LOST):
                metrics.count_room_failure("server_lost")
            return
        activity = (((model or {}).get("servers") or {}).get("") or {}).get("last_activity")
        if self.idle_timeout > 0 and activity:
            last = datetime.fromisoformat(activity.replace("Z", "+00:00"))
            if (now - last).total_seconds() > self.idle_timeout:
                self.request_end(room_id, by="", reason="idle")

    # -- what the API shows ------------------------------------------------------------------
    def room_json(self, s: Session, room: Room) -> dict[str, Any]:
        """What the room API answers (see ``views.room_json``)."""
        return views.room_json(
            s,
            room,
            url=self.room_url(room),
            notebook_path=self.notebook_name,
            online_seconds=self.heartbeat_online_seconds,
        )
