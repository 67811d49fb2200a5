"""Type a command into a terminal of a real Jupyter server, for tests.

``run_in_terminal(server_url, token, command)`` opens a terminal through the REST API, types
``command`` on its websocket (terminado's ``["stdin", ...]`` messages) and returns what the
terminal printed up to an end marker, the way a student at that terminal would see it.
"""

from __future__ import annotations

import asyncio
import json
import uuid

import requests
import websockets


async def run_in_terminal(server_url: str, token: str, command: str, timeout: float = 60.0) -> str:
    headers = {"Authorization": f"token {token}"}
    response = await asyncio.to_thread(
        requests.post, f"{server_url}/api/terminals", headers=headers, timeout=30
    )
    response.raise_for_status()
    name = response.json()["name"]
    marker = f"done-{uuid.uuid4().hex[:8]}"
    ws_url = server_url.replace("http://", "ws://", 1) + f"/terminals/websocket/{name}"
    out: list[str] = []
    try:
        async with websockets.connect(
            ws_url, additional_headers=headers, open_timeout=timeout, max_size=None
        ) as ws:
            # The marker is split so the echoed command line does not count as its output.
            await ws.send(json.dumps(["stdin", f"{command}; echo {marker[:5]}''{marker[5:]}\r"]))
            async with asyncio.timeout(timeout):
                while marker not in "".join(out):
                    message = json.loads(await ws.recv())
                    if message[0] == "stdout":
                        out.append(message[1])
    finally:
        await asyncio.to_thread(
            requests.delete, f"{server_url}/api/terminals/{name}", headers=headers, timeout=30
        )
    text = "".join(out)
    return text[: text.index(marker)]
