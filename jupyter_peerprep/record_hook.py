"""The pair server's recorder: every Yjs update a student sends, with who and when, shipped
to the PeerPrep service in batches while the room runs.

The hook is one wrapper around jupyter-collaboration's ``YDocWebSocketHandler.on_message``
(``install``). There the connection's user is the one the server's HubOAuth authenticated,
never a name the client claims. The wrapper only appends ``(time, user, document, update)``
to a list; the ``Recorder``'s own task sends the list every ``record_interval`` seconds with
the pair server's own hub token (the service checks with the hub that the token's owner is the
pair user of an active room, and files the batch under that room only), together with the
notebook as it is now, which history keeps should this server die. A batch that fails stays
queued and goes with the next one; the service ignores a batch it already has.

Everything version-specific about jupyter-collaboration is in ``install`` and
``_document_state``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from typing import Any

import pycrdt
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from traitlets import Bool, Float, Integer, default
from traitlets.config import Configurable

from .record.codec import Entry, batch_json

SYNC = 0
SYNC_STEP2 = 1
SYNC_UPDATE = 2
NOTEBOOK_DOC_PREFIX = "json:notebook:"


class Recorder:
    """Collects a pair server's Yjs updates and sends them to the service in batches."""

    def __init__(
        self,
        *,
        url: str,
        token: Any,
        interval: float,
        max_pending_bytes: int,
        log: logging.Logger | logging.LoggerAdapter[Any],
    ) -> None:
        self.url = url
        self._token = token  # a callable: the server's HubAuth reads it once at start
        self.interval = interval
        self.max_pending_bytes = max_pending_bytes
        self.log = log
        self.pending: list[Entry] = []
        self.pending_bytes = 0
        self.rooms: dict[str, Any] = {}  # document name -> its YRoom (for snapshots)
        self._boot = secrets.token_hex(4)
        self._sent = 0
        self._notebook_changed = False
        self._task: asyncio.Task[None] | None = None
        self.wake = asyncio.Event()

    # -- the hot path: called for every update a client sends --------------------------------

    def capture(self, user: str, doc: str, room: Any, update: bytes) -> None:
        if self._task is None:
            self.start()  # the first update: the server's event loop runs now
        if doc not in self.rooms:
            self.rooms[doc] = room
            base = _document_state(room)
            if base:
                self._append(Entry(_now_ms(), "", doc, base))
        self._append(Entry(_now_ms(), user, doc, update))
        if doc.startswith(NOTEBOOK_DOC_PREFIX):
            self._notebook_changed = True

    def _append(self, entry: Entry) -> None:
        if self.pending_bytes + len(entry.update) > self.max_pending_bytes:
            self.log.error(
                "PeerPrep record: %s bytes unsent (the service does not take them); "
                "dropping an update of %s",
                self.pending_bytes,
                entry.user,
            )
            return
        self.pending.append(entry)
        self.pending_bytes += len(entry.update)

    # -- sending -------------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.wake.wait(), self.interval)
            self.wake.clear()
            try:
                await self.flush()
            except asyncio.CancelledError:
                raise
            except Exception:
                self.log.exception("PeerPrep record: sending a batch failed; will retry")

    async def flush(self) -> bool:
        """Send what is pending (and the notebook, if it changed); True if the service took it
        (or there was nothing to send)."""
        if not self.pending and not self._notebook_changed:
            return True
        entries, changed = list(self.pending), self._notebook_changed
        snapshot = self._notebook_snapshot() if changed else None
        batch_id = f"{self._boot}-{self._sent}"
        body = json.dumps(batch_json(batch_id, entries, snapshot))
        request = HTTPRequest(
            self.url,
            method="POST",
            headers={"Authorization": f"token {self._token()}", "Content-Type": "application/json"},
            body=body,
            request_timeout=max(10.0, self.interval * 5),
        )
        response = await AsyncHTTPClient().fetch(request, raise_error=False)
        if response.code != 200:
            self.log.warning(
                "PeerPrep record: the service answered %s to batch %s (%s updates): %s",
                response.code,
                batch_id,
                len(entries),
                (response.body or b"")[:300],
            )
            return False
        # What arrived meanwhile stays pending for the next batch.
        del self.pending[: len(entries)]
        self.pending_bytes = sum(len(e.update) for e in self.pending)
        self._sent += 1
        if changed and snapshot is not None:
            self._notebook_changed = False
        return True

    def _notebook_snapshot(self) -> dict[str, Any] | None:
        for doc, room in self.rooms.items():
            if doc.startswith(NOTEBOOK_DOC_PREFIX):
                state = _document_state(room)
                if state:
                    return notebook_from_update(state)
        return None


def notebook_from_update(state: bytes) -> dict[str, Any]:
    """The nbformat dict of a notebook document's full state (read from a copy)."""
    from jupyter_ydoc import YNotebook

    doc: pycrdt.Doc[Any] = pycrdt.Doc()
    doc.apply_update(state)
    notebook: dict[str, Any] = YNotebook(doc).get()
    return notebook


def _now_ms() -> int:
    return int(time.time() * 1000)


def _document_state(room: Any) -> bytes:
    """A YRoom's whole document as one update (pycrdt-websocket's ``YRoom.ydoc``)."""
    ydoc = getattr(room, "ydoc", None)
    return bytes(ydoc.get_update()) if ydoc is not None else b""


class RecordingExtension(Configurable):
    """The server extension's recording traits and start/stop (mixed into PeerPrepExtension)."""

    record = Bool(
        help="""Record every Yjs update students make in this server (who, when, what) and send
        it with the notebook to the PeerPrep service every ``record_interval`` seconds, for
        history's replay, metrics and paste flags, and so that a crashed server loses at most
        that many seconds of work. On by default on pair servers.""",
    ).tag(config=True)

    @default("record")
    def _default_record(self) -> bool:
        from .hub.auth import is_pair_user

        return is_pair_user(getattr(self, "server_user", ""))

    record_interval = Float(
        2.0,
        help="""Seconds between two record batches sent to the service. Larger sends fewer,
        bigger requests; history (and a crashed room's notebook) is then further behind.""",
    ).tag(config=True)

    record_max_pending_bytes = Integer(
        64 * 1024 * 1024,
        help="""Bytes of updates kept for the service while it does not take them (it is down,
        or refuses); beyond this, new updates are logged and dropped from the record (never
        from the notebook).""",
    ).tag(config=True)

    recorder: Recorder | None = None

    def init_recorder(self, settings: dict[str, Any], service_url: str, server: Any) -> None:
        if not (self.record and service_url and install()):
            return
        # The pair server's own hub token; outside a hub (a benchmark) there is none to send.
        hub_auth = getattr(server.identity_provider, "hub_auth", None)
        self.recorder = Recorder(
            url=service_url.rstrip("/") + "/api/record",
            token=lambda: hub_auth.api_token if hub_auth is not None else "",
            interval=self.record_interval,
            max_pending_bytes=self.record_max_pending_bytes,
            log=getattr(self, "log", logging.getLogger(__name__)),
        )
        settings["peerprep_recorder"] = self.recorder

    async def stop_recorder(self) -> None:
        if self.recorder is not None:
            with contextlib.suppress(Exception):
                await self.recorder.flush()
            await self.recorder.stop()


_ORIGINAL: dict[str, Any] = {}


def install(settings_key: str = "peerprep_recorder") -> bool:
    """Wrap jupyter-collaboration's websocket handler so every Yjs update a client sends is
    handed to the ``Recorder`` in the server's settings. False if jupyter-collaboration is not
    installed. Safe to call twice."""
    try:
        from jupyter_server_ydoc.handlers import YDocWebSocketHandler
    except ImportError:
        return False
    if "on_message" in _ORIGINAL:
        return True
    original = YDocWebSocketHandler.on_message
    _ORIGINAL["on_message"] = original

    async def on_message(self: Any, message: Any) -> Any:
        recorder = self.settings.get(settings_key)
        if (
            recorder is not None
            and isinstance(message, bytes)
            and len(message) > 2
            and message[0] == SYNC
            and message[1] in (SYNC_STEP2, SYNC_UPDATE)
        ):
            try:
                update = pycrdt.read_message(message[2:])
                if update:
                    user = getattr(self.current_user, "username", "") or ""
                    # The document's room name ("json:notebook:<file id>") and its YRoom:
                    # private in jupyter-collaboration 4, hence read defensively.
                    doc = getattr(self, "_room_id", None) or getattr(self, "path", "")
                    recorder.capture(str(user), str(doc), getattr(self, "room", None), update)
            except Exception:  # recording must never break editing
                recorder.log.exception("PeerPrep record: an update was not recorded")
        return await original(self, message)

    YDocWebSocketHandler.on_message = on_message
    return True
