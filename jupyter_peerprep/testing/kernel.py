"""Run code in a kernel of a real Jupyter server over its websocket, for tests.

``run_code(server_url, token, code)`` starts a kernel through the REST API, executes ``code``
on the kernel's ``/channels`` websocket (JSON messages, Jupyter protocol 5) and returns what a
notebook user would see: the text printed, and the error name and value if it raised (or
that the kernel died, or gave no answer within ``timeout``).
``start_code`` starts ``code`` the same way and returns as soon as the kernel is busy with it
(for code that never finishes, such as an attack), leaving the kernel running.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from typing import Any

import requests
import websockets


@dataclass
class Execution:
    stdout: str
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None


def _message(msg_type: str, content: dict[str, Any], session: str) -> str:
    return json.dumps(
        {
            "header": {
                "msg_id": uuid.uuid4().hex,
                "msg_type": msg_type,
                "username": "test",
                "session": session,
                "version": "5.3",
                "date": "",
            },
            "parent_header": {},
            "metadata": {},
            "content": content,
            "channel": "shell",
            "buffers": [],
        }
    )


async def _new_kernel(server_url: str, headers: dict[str, str]) -> tuple[str, str]:
    response = await asyncio.to_thread(
        requests.post, f"{server_url}/api/kernels", json={}, headers=headers, timeout=30
    )
    response.raise_for_status()
    kernel_id = response.json()["id"]
    ws_url = server_url.replace("http://", "ws://", 1) + f"/api/kernels/{kernel_id}/channels"
    return kernel_id, ws_url


def _execute_request(code: str, session: str) -> str:
    return _message(
        "execute_request",
        {"code": code, "silent": False, "store_history": False, "allow_stdin": False},
        session,
    )


async def start_code(server_url: str, token: str, code: str, timeout: float = 60.0) -> str:
    """Start ``code`` in a new kernel; return the kernel's id once it is busy running it."""
    headers = {"Authorization": f"token {token}"}
    kernel_id, ws_url = await _new_kernel(server_url, headers)
    async with websockets.connect(ws_url, additional_headers=headers, open_timeout=timeout) as ws:
        await ws.send(_execute_request(code, uuid.uuid4().hex))
        while True:
            msg = json.loads(await asyncio.wait_for(ws.recv(), timeout))
            if msg["header"]["msg_type"] == "status" and (
                msg["content"]["execution_state"] == "busy"
            ):
                return kernel_id


async def run_code(server_url: str, token: str, code: str, timeout: float = 60.0) -> Execution:
    headers = {"Authorization": f"token {token}"}
    kernel_id, ws_url = await _new_kernel(server_url, headers)
    session = uuid.uuid4().hex
    out: list[str] = []
    error: str | None = None
    try:
        async with websockets.connect(
            ws_url, additional_headers=headers, open_timeout=timeout, max_size=None
        ) as ws:
            request = _execute_request(code, session)
            msg_id = json.loads(request)["header"]["msg_id"]
            await ws.send(request)
            deadline = asyncio.get_running_loop().time() + timeout
            while True:
                left = deadline - asyncio.get_running_loop().time()
                try:
                    raw = await asyncio.wait_for(ws.recv(), max(left, 0.001))
                except asyncio.TimeoutError:
                    error = f"TimeoutError: no reply within {timeout:.0f}s"
                    break
                msg = json.loads(raw)
                kind = msg["header"]["msg_type"]
                state = msg["content"].get("execution_state") if kind == "status" else None
                if state in ("restarting", "dead"):
                    # The server says the kernel died (killed at a memory limit, say).
                    error = f"KernelDied: the kernel is {state}"
                    break
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                if kind == "stream":
                    out.append(msg["content"]["text"])
                elif kind == "error":
                    error = f"{msg['content']['ename']}: {msg['content']['evalue']}"
                elif kind == "status" and msg["content"]["execution_state"] == "idle":
                    break
    finally:
        await asyncio.to_thread(
            requests.delete, f"{server_url}/api/kernels/{kernel_id}", headers=headers, timeout=30
        )
    return Execution("".join(out), error)
