"""System messages in a room's chat, written by the room's server: a partner joined or left,
a Run or Submit and its verdict, time reminders, the session ending.

The room's server sees these pass anyway: its relay carries the room panel's polls,
heartbeats, runs and End to the service (``relay.py``). After relaying one, the relay hands
the service's answer here; what changed since the last answer becomes one line in the chat
document (jupyterlab-chat's ``YChat``, through jupyter-collaboration's shared document, so
both students see it at once and it is saved with the transcript). The messages' sender is
PeerPrep's own chat user, never a student: nothing here speaks for either of them.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from jupyter_server.base.handlers import APIHandler
from tornado import web

from .room_relay import NotARoomAction, room_action

SYSTEM_SENDER = "peerprep"  # hub/talk/transcript.py names the same user


def _names(room: dict[str, Any]) -> dict[str, str]:
    return {
        str(m.get("name")): str(m.get("display_name") or m.get("name"))
        for m in room.get("members") or []
        if isinstance(m, dict)
    }


class RoomChatEvents:
    """Turns the service's answers about one room into the chat's system messages."""

    def __init__(self, reminder_minutes: list[int]) -> None:
        self.reminder_minutes = sorted(set(reminder_minutes))
        self.online: dict[str, bool] = {}
        self.reminded: set[int] = set()
        self.ending_said = False
        self.runs_said: set[str] = set()

    def messages(self, method: str, path: str, status: int, body: bytes) -> list[str]:
        """The lines to add to the chat after the relay answered ``method path``."""
        if status >= 300:
            return []
        try:
            action_room = room_action(method, path)
        except NotARoomAction:
            return []
        if action_room is None:
            return []
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            return []
        if not isinstance(data, dict):
            return []
        if path.endswith("/runs") and method == "POST":
            return self._run(data)
        if path.endswith("/runs") or path.endswith("/signal") or path.endswith("/talk"):
            return []
        return self._room(data)

    def _run(self, run: dict[str, Any]) -> list[str]:
        run_id = str(run.get("id") or "")
        if not run_id or run_id in self.runs_said:
            return []
        self.runs_said.add(run_id)
        who = str(run.get("username") or "someone")
        what = "submitted" if run.get("kind") == "submit" else "ran the public tests"
        passed, total = run.get("passed"), run.get("total")
        verdict = str(run.get("verdict") or "")
        score = f"{passed}/{total} passed" if total is not None else ""
        detail = ", ".join(x for x in (verdict, score) if x)
        return [f"{who} {what}: {detail or 'no result'}."]

    def _room(self, room: dict[str, Any]) -> list[str]:
        out: list[str] = []
        names = _names(room)
        for member in room.get("members") or []:
            if not isinstance(member, dict):
                continue
            name = str(member.get("name"))
            online = bool(member.get("online"))
            before = self.online.get(name)
            if online and not before:
                out.append(f"{names.get(name, name)} joined the room.")
            elif before and not online:
                out.append(f"{names.get(name, name)} left the room.")
            self.online[name] = online
        elapsed = room.get("elapsed_s")
        if room.get("state") == "active" and isinstance(elapsed, int | float):
            due = [m for m in self.reminder_minutes if elapsed >= 60 * m]
            if due and max(due) not in self.reminded:
                self.reminded.update(due)
                out.append(f"{max(due)} minutes into the session.")
        if room.get("state") in ("ending", "ended") and not self.ending_said:
            self.ending_said = True
            by = str(room.get("ended_by") or "")
            reason = f"ended by {names.get(by, by)}" if by else str(room.get("end_reason") or "")
            out.append(
                f"The session is ending ({reason}). The notebook and this chat are saved to "
                "both histories."
            )
        return out


class RoomChat:
    """Writes system messages into the room's chat document (jupyter-collaboration)."""

    def __init__(self, serverapp: Any, chat_file: str, reminder_minutes: list[int]) -> None:
        self.serverapp = serverapp
        self.chat_file = chat_file
        self.events = RoomChatEvents(reminder_minutes)
        self._lock = asyncio.Lock()

    def observe(self, method: str, path: str, status: int, body: bytes) -> None:
        lines = self.events.messages(method, path, status, body)
        if lines:
            asyncio.get_running_loop().create_task(self.say(lines))

    async def say(self, lines: list[str]) -> None:
        try:
            from jupyterlab_chat.models import NewMessage
        except ImportError:  # jupyterlab-chat is not installed: no chat to write to
            return
        async with self._lock:
            try:
                chat = await self._document()
                if chat is None:
                    return
                for line in lines:
                    chat.add_message(NewMessage(body=line, sender=SYSTEM_SENDER), [])
            except Exception as e:  # a chat that cannot be written must not break the relay
                self.serverapp.log.warning("PeerPrep: chat message not written: %s", e)

    async def _document(self, *, copy: bool = False, create: bool = True) -> Any:
        apps = self.serverapp.extension_manager.extension_apps.get("jupyter_server_ydoc")
        if not apps:
            return None
        ydoc = next(iter(apps))
        return await ydoc.get_document(
            path=self.chat_file, content_type="chat", file_format="text", copy=copy, create=create
        )

    async def content(self) -> str:
        """The chat as it is now: the live shared document when the room has it open (what
        the students see, saved to disk or not yet), else the file."""
        try:
            live = await self._document(copy=True, create=False)
        except Exception:
            live = None
        if live is not None:
            return str(live.get())
        model = await self.serverapp.contents_manager.get(self.chat_file, content=True)
        return str(model.get("content") or "")


class ChatContentHandler(APIHandler):
    """``GET /peerprep/chat``: the room chat now, for the service's transcript copies (the file
    on disk lags the shared document by jupyter-collaboration's save delay). Whoever may open
    the room may read its chat anyway; nobody can write through here."""

    @web.authenticated
    async def get(self) -> None:
        chat: RoomChat | None = self.settings["peerprep"].room_chat
        if chat is None:
            raise web.HTTPError(404, "This server is not a room: it has no room chat.")
        try:
            content = await chat.content()
        except web.HTTPError:
            raise
        except Exception as e:
            raise web.HTTPError(404, f"The room chat cannot be read: {e}") from None
        self.finish({"path": chat.chat_file, "content": content})
