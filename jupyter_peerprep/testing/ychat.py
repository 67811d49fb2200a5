"""A minimal jupyterlab-chat client over jupyter-collaboration, for tests and benchmarks: open
a room's ``.chat`` document, write a message as a student would, read everyone's messages.

Same y-websocket sync protocol as ``ydoc.YClient``, on the chat's room
``/api/collaboration/room/text:chat:<file id>``; messages are written the way jupyterlab-chat's
frontend writes them (a Y.Map appended to the document's ``messages`` array).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import requests
from pycrdt import Array, Map

from .ydoc import YClient


def open_chat_session(server_url: str, path: str, token: str) -> dict[str, Any]:
    response = requests.put(
        f"{server_url}/api/collaboration/session/{quote(path)}",
        json={"format": "text", "type": "chat"},
        headers={"Authorization": f"token {token}"},
        timeout=30,
    )
    response.raise_for_status()
    return dict(response.json())


class ChatClient(YClient):
    """One chat participant: a pycrdt Doc of the chat document kept in sync."""

    @classmethod
    @contextlib.asynccontextmanager
    async def connect_chat(
        cls, server_url: str, path: str, token: str
    ) -> AsyncIterator[ChatClient]:
        session = await asyncio.to_thread(open_chat_session, server_url, path, token)
        ws_base = server_url.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
        ws_url = (
            f"{ws_base}/api/collaboration/room/text:chat:{session['fileId']}"
            f"?sessionId={session['sessionId']}"
        )
        client = cls(ws_url, token)
        await client._open()
        try:
            yield client
        finally:
            await client.close()

    @property
    def ymessages(self) -> Array[Any]:
        return self.doc.get("messages", type=Array)

    @property
    def yusers(self) -> Map[Any]:
        return self.doc.get("users", type=Map)

    def say(self, username: str, body: str) -> str:
        """Post ``body`` as ``username`` (as that student's browser would); its id."""
        message_id = str(uuid.uuid4())
        with self.doc.transaction():
            if username not in self.yusers:
                self.yusers[username] = {
                    "username": username,
                    "name": username,
                    "display_name": username,
                }
            self.ymessages.append(
                Map(
                    {
                        "type": "msg",
                        "body": body,
                        "id": message_id,
                        "time": time.time(),
                        "sender": username,
                        "raw_time": False,
                    }
                )
            )
        return message_id

    def bodies(self) -> list[str]:
        return [str(m.get("body", "")) for m in self.ymessages.to_py() or []]

    async def wait_for_body(self, containing: str, timeout: float = 10.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not any(containing in b for b in self.bodies()):
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no chat message with {containing!r}; chat: {self.bodies()}")
            await asyncio.sleep(0.02)
