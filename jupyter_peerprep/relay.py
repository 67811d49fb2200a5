"""Handlers of the server extension: relay ``/peerprep/api/*`` to the PeerPrep service.

The relay forwards the *visiting user's own* hub token, ``Authorization: token <it>``: the
token this server's HubOAuth authenticated the request with (the browser's OAuth cookie for
this server, or the token the caller sent). The service believes only the hub about whose token
it is, so on a pair server each student acts as themselves, and nothing in the room (the
server's own token included) can act for a student (``hub/auth.py``,
docs/explanation/security.md).

On a pair server it forwards the room's own actions only, for the room of that server
(``room_relay.py``): script in a room's page, which shares the partner's session there, cannot
read the partner's history, edit their profile or open a question's hidden tests.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from jupyter_server.base.handlers import APIHandler
from tornado import web
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from .room_relay import NOT_A_ROOM_ACTION, NotARoomAction, not_this_room, room_action

if TYPE_CHECKING:
    from .extension import PeerPrepExtension

# Request headers worth forwarding; everything else (cookies above all) stays here.
FORWARDED_HEADERS = ("Content-Type", "Accept", "Last-Event-ID")
# Response headers handed back to the browser: how long to wait after a 429 (or a 503).
RETURNED_HEADERS = ("Retry-After",)


class PeerPrepHandler(APIHandler):
    @property
    def peerprep(self) -> PeerPrepExtension:
        extension: PeerPrepExtension = self.settings["peerprep"]
        return extension

    def hub_username(self) -> str:
        user = self.current_user
        # jupyter_server's identity API (User.username) or a hub user model (dict with "name").
        name = getattr(user, "username", None) or getattr(user, "name", None)
        if name is None and isinstance(user, dict):
            name = user.get("name")
        return str(name or "")


class StatusHandler(PeerPrepHandler):
    """Whether the relay is configured, for the panel's first paint."""

    @web.authenticated
    async def get(self) -> None:
        self.finish({"configured": bool(self.peerprep.service_url), "user": self.hub_username()})


class RelayHandler(PeerPrepHandler):
    """Forward one API call to the service and hand its answer back unchanged."""

    def _target(self, path: str, with_query: bool = True) -> str:
        base = self.peerprep.service_url
        if not base:
            raise web.HTTPError(
                503,
                "PeerPrep is not configured on this server: set $PEERPREP_SERVICE_URL "
                "(the hub configuration does this for spawned servers).",
            )
        if not base.endswith("/"):
            base += "/"
        url = urljoin(base, "api/" + path)
        if with_query and self.request.query:
            url += "?" + self.request.query
        return url

    def _visitor_token(self) -> str:
        """The hub token that authenticated this request, which belongs to the visitor."""
        hub_auth = getattr(self.identity_provider, "hub_auth", None)
        token = hub_auth.get_token(self) if hub_auth is not None else None
        if not token:
            raise web.HTTPError(
                403,
                "PeerPrep needs your hub login to act for you, and this request carried none "
                "this server can forward: open JupyterLab from the hub, or send your own hub "
                "token (Authorization: token ...).",
            )
        return str(token)

    def _relay_headers(self) -> dict[str, str]:
        headers = {"Authorization": f"token {self._visitor_token()}"}
        for name in FORWARDED_HEADERS:
            if name in self.request.headers:
                headers[name] = self.request.headers[name]
        return headers

    async def _check_room_action(self, path: str) -> None:
        """On a pair server: refuse anything but the room's own actions on its own room."""
        try:
            room_id = room_action(self.request.method or "GET", path)
        except NotARoomAction:
            raise web.HTTPError(403, NOT_A_ROOM_ACTION) from None
        if room_id is not None and room_id != await self._room_of_this_server():
            raise web.HTTPError(403, not_this_room(room_id))

    async def _room_of_this_server(self) -> str | None:
        """The id of the room this pair server serves: the visitor's current room, when the
        service says this server is its room's (remembered: a pair server is never reused)."""
        if self.peerprep.room_id:
            return self.peerprep.room_id
        request = HTTPRequest(
            self._target("rooms/current", with_query=False),
            headers={"Authorization": f"token {self._visitor_token()}"},
            request_timeout=self.peerprep.request_timeout,
        )
        try:
            response = await AsyncHTTPClient().fetch(request, raise_error=False)
            answer = json.loads(response.body or b"{}") if response.code == 200 else {}
            room = answer.get("room") or {}
        except (OSError, HTTPClientError, ValueError) as e:
            raise web.HTTPError(
                502, f"Cannot reach the PeerPrep service at {self.peerprep.service_url}: {e}"
            ) from None
        if room.get("pair_user") and room.get("pair_user") == self.peerprep.server_user:
            self.peerprep.room_id = str(room["id"])
        return self.peerprep.room_id

    async def _relay(self, path: str) -> None:
        if self.peerprep.room_actions_only:
            await self._check_room_action(path)
        url = self._target(path)
        streaming = "text/event-stream" in self.request.headers.get("Accept", "")
        body = self.request.body if self.request.method in ("POST", "PUT", "PATCH") else None
        kwargs: dict[str, Any] = {}
        if streaming:
            kwargs["streaming_callback"] = self._on_chunk
            kwargs["header_callback"] = self._on_header_line
            self._stream_headers_sent = False
            self._upstream_status = 200
            self._upstream_headers: dict[str, str] = {}
        request = HTTPRequest(
            url,
            method=self.request.method or "GET",
            headers=self._relay_headers(),
            body=body,
            allow_nonstandard_methods=True,
            request_timeout=(
                self.peerprep.stream_timeout if streaming else self.peerprep.request_timeout
            ),
            follow_redirects=False,
            **kwargs,
        )
        client = AsyncHTTPClient()
        try:
            response = await client.fetch(request, raise_error=False)
        except (OSError, HTTPClientError) as e:
            if streaming and self._stream_headers_sent:
                self.finish()
                return
            raise web.HTTPError(
                502, f"Cannot reach the PeerPrep service at {self.peerprep.service_url}: {e}"
            ) from None
        if streaming:
            if not self._stream_headers_sent:
                self.set_status(response.code if response.code != 599 else 502)
            self.finish()
            return
        if response.code == 599:
            raise web.HTTPError(
                502,
                f"Cannot reach the PeerPrep service at {self.peerprep.service_url}: "
                f"{response.error}",
            )
        self.set_status(response.code)
        content_type = response.headers.get("Content-Type", "application/json")
        self.set_header("Content-Type", content_type)
        for name in RETURNED_HEADERS:
            if name in response.headers:
                self.set_header(name, response.headers[name])
        self.finish(response.body or b"")
        if self.peerprep.room_chat is not None:  # the chat's system messages (room_talk.py)
            self.peerprep.room_chat.observe(
                self.request.method or "GET", path, response.code, response.body or b""
            )

    def _on_header_line(self, line: str) -> None:
        if line.startswith("HTTP/"):
            parts = line.split(" ", 2)
            if len(parts) >= 2 and parts[1].isdigit():
                self._upstream_status = int(parts[1])
            return
        name, sep, value = line.partition(":")
        if sep and name.strip().title() in (*RETURNED_HEADERS, "Content-Type"):
            self._upstream_headers[name.strip().title()] = value.strip()

    def _on_chunk(self, chunk: bytes) -> None:
        if not self._stream_headers_sent:
            self.set_status(self._upstream_status)
            # An error (a 429, say) comes back as the service's JSON, not as events.
            content_type = "text/event-stream"
            if self._upstream_status >= 400:
                content_type = self._upstream_headers.get("Content-Type", "application/json")
            self.set_header("Content-Type", content_type)
            self.set_header("Cache-Control", "no-cache")
            for name in RETURNED_HEADERS:
                if name in self._upstream_headers:
                    self.set_header(name, self._upstream_headers[name])
            self._stream_headers_sent = True
        self.write(chunk)
        self.flush()

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        message = getattr(exc, "log_message", None) or self._reason
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"status": status_code, "message": message}))

    @web.authenticated
    async def get(self, path: str) -> None:
        await self._relay(path)

    @web.authenticated
    async def post(self, path: str) -> None:
        await self._relay(path)

    @web.authenticated
    async def put(self, path: str) -> None:
        await self._relay(path)

    @web.authenticated
    async def delete(self, path: str) -> None:
        await self._relay(path)
