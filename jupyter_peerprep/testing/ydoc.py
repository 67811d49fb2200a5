"""A minimal Yjs client of jupyter-collaboration, for tests: open a notebook, edit, observe.

Speaks the y-websocket sync protocol (pycrdt's sync messages) over a real websocket to a
Jupyter server's ``/api/collaboration/room/json:notebook:<file id>``, through the hub's proxy.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import quote

import pycrdt
import requests
import websockets
from jupyter_ydoc import YNotebook
from pycrdt import (
    Doc,
    YMessageType,
    YSyncMessageType,
    create_sync_message,
    create_update_message,
    handle_sync_message,
)


def open_session(server_url: str, path: str, token: str) -> dict[str, Any]:
    """Ask jupyter-collaboration for the document session of ``path`` (gives the file id)."""
    response = requests.put(
        f"{server_url}/api/collaboration/session/{quote(path)}",
        json={"format": "json", "type": "notebook"},
        headers={"Authorization": f"token {token}"},
        timeout=30,
    )
    response.raise_for_status()
    return dict(response.json())


class YClient:
    """One collaborator: a pycrdt Doc kept in sync with the server over a websocket."""

    def __init__(self, ws_url: str, token: str) -> None:
        self.ws_url = ws_url
        self.token = token
        self.doc: Doc = Doc()
        self.notebook = YNotebook(self.doc)
        self.synced = asyncio.Event()
        self._ws: Any = None
        self._task: asyncio.Task[None] | None = None
        self._sub: Any = None

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(cls, server_url: str, path: str, token: str) -> AsyncIterator[YClient]:
        session = await asyncio.to_thread(open_session, server_url, path, token)
        ws_base = server_url.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
        ws_url = (
            f"{ws_base}/api/collaboration/room/json:notebook:{session['fileId']}"
            f"?sessionId={session['sessionId']}"
        )
        client = cls(ws_url, token)
        await client._open()
        try:
            yield client
        finally:
            await client.close()

    async def _open(self) -> None:
        self._ws = await websockets.connect(
            self.ws_url,
            additional_headers={"Authorization": f"token {self.token}"},
            max_size=None,
        )
        self._sub = self.doc.observe(self._on_update)
        await self._ws.send(create_sync_message(self.doc))
        self._task = asyncio.create_task(self._receive())
        await asyncio.wait_for(self.synced.wait(), 30)

    def _on_update(self, event: pycrdt.TransactionEvent) -> None:
        if self._ws is not None and getattr(self, "_applying", False) is False:
            message = create_update_message(event.update)
            asyncio.get_running_loop().create_task(self._ws.send(message))

    async def _receive(self) -> None:
        async for message in self._ws:
            if not isinstance(message, bytes) or not message:
                continue
            if message[0] == YMessageType.SYNC:
                self._applying = True
                try:
                    reply = handle_sync_message(message[1:], self.doc)
                finally:
                    self._applying = False
                if reply is not None:
                    await self._ws.send(reply)
                if message[1] == YSyncMessageType.SYNC_STEP2:
                    self.synced.set()

    async def close(self) -> None:
        if self._sub is not None:
            self.doc.unobserve(self._sub)
        if self._ws is not None:
            await self._ws.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    # -- editing ---------------------------------------------------------------------------

    def cell_sources(self) -> list[str]:
        return [str(cell["source"]) for cell in self.notebook.ycells]

    def cell_index(self, containing: str) -> int:
        """The index of the first cell whose source contains ``containing``."""
        for index, source in enumerate(self.cell_sources()):
            if containing in source:
                return index
        raise AssertionError(
            f"no cell contains {containing!r}; cells: {json.dumps(self.cell_sources())[:500]}"
        )

    def append_to_cell(self, index: int, text: str) -> None:
        source = self.notebook.ycells[index]["source"]
        source.insert(len(source), text)

    async def wait_for(self, predicate: Any, timeout: float = 10.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not predicate(self):
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(
                    f"timed out waiting; cells now: {json.dumps(self.cell_sources())[:500]}"
                )
            await asyncio.sleep(0.02)


async def edit_cell_concurrently(
    server_url: str,
    path: str,
    editors: Mapping[str, str],
    cell_containing: str,
    timeout: float = 10.0,
) -> list[str]:
    """Have several collaborators edit one cell of a shared notebook at once; return the merge.

    ``editors`` maps a label (e.g. a student's name) to that collaborator's API token. Each
    opens ``path`` on ``server_url`` (a single-user server or pair room, through the hub's
    proxy) and appends ``"\n# from <label>"`` to the first cell whose source contains
    ``cell_containing``; every edit is made before anyone waits, so they are concurrent. Then
    each client waits until it sees every collaborator's line.

    Returns the cell sources all clients agree on. Raises AssertionError if an edit does not
    reach every client within ``timeout`` seconds or the clients end up with different notebooks.
    """
    async with contextlib.AsyncExitStack() as stack:
        clients = {
            label: await stack.enter_async_context(YClient.connect(server_url, path, token))
            for label, token in editors.items()
        }
        index = next(iter(clients.values())).cell_index(cell_containing)
        for label, client in clients.items():
            client.append_to_cell(index, f"\n# from {label}")
        marks = [f"# from {label}" for label in clients]
        for client in clients.values():
            await client.wait_for(
                lambda c: all(mark in c.cell_sources()[index] for mark in marks), timeout
            )
        views = {label: client.cell_sources() for label, client in clients.items()}
        merged = next(iter(views.values()))
        if any(view != merged for view in views.values()):
            raise AssertionError(f"collaborators did not converge: {json.dumps(views)[:1000]}")
        return merged
