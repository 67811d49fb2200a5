"""A small client of the JupyterHub REST API, authenticated with the service's own token.

The service talks to the Hub only through this client (see docs/reference/hub-scopes.md for the
scopes its role needs). Rooms (``rooms.py``) add user, server and share calls on top.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import quote

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest


class HubAPIError(RuntimeError):
    """The Hub answered an API call with an error; ``status`` is its HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class HubAPI:
    """Calls ``<hub_api_url>/...`` with ``Authorization: token <api_token>``."""

    def __init__(self, api_url: str, api_token: str, *, user_cache_seconds: float = 30.0) -> None:
        self.api_url = api_url.rstrip("/")
        self.api_token = api_token
        self.user_cache_seconds = user_cache_seconds
        self._user_cache: dict[str, tuple[float, dict[str, Any] | None]] = {}

    async def request(
        self, method: str, path: str, body: Any = None, *, timeout: float = 30.0
    ) -> Any:
        url = f"{self.api_url}/{path.lstrip('/')}"
        request = HTTPRequest(
            url,
            method=method,
            headers={"Authorization": f"token {self.api_token}", "Accept": "application/json"},
            body=None if body is None else json.dumps(body),
            allow_nonstandard_methods=True,
            request_timeout=timeout,
        )
        try:
            response = await AsyncHTTPClient().fetch(request)
        except HTTPClientError as e:
            detail = ""
            if e.response is not None and e.response.body:
                try:
                    detail = json.loads(e.response.body).get("message", "")
                except (ValueError, AttributeError):
                    detail = e.response.body[:200].decode("utf8", "replace")
            raise HubAPIError(e.code, f"Hub API {method} {path}: {e.code} {detail}") from None
        except OSError as e:
            raise HubAPIError(503, f"Hub API {method} {path}: cannot reach the hub: {e}") from None
        if not response.body:
            return None
        return json.loads(response.body)

    async def get_user(self, name: str) -> dict[str, Any] | None:
        """The hub's model of user ``name`` (groups included), or None if there is none."""
        now = time.monotonic()
        cached = self._user_cache.get(name)
        if cached and now - cached[0] < self.user_cache_seconds:
            return cached[1]
        try:
            model = await self.request("GET", f"users/{quote(name, safe='')}")
        except HubAPIError as e:
            if e.status != 404:
                raise
            model = None
        self._user_cache[name] = (now, model)
        return model

    async def get_group_members(self, group: str) -> list[str]:
        """The user names in hub group ``group`` ([] if there is no such group); needs the
        scope ``read:groups``."""
        try:
            model = await self.request("GET", f"groups/{quote(group, safe='')}")
        except HubAPIError as e:
            if e.status != 404:
                raise
            return []
        return sorted((model or {}).get("users") or [])
