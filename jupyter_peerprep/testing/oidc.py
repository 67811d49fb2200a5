"""A fake OpenID Connect provider for tests, on 127.0.0.1: a token and a user-info endpoint.

``FakeIdentityProvider`` stands in for a university's single sign-on in tests only. The test
plays the browser: it asks the hub to log in, reads the ``state`` from the redirect to the
provider, calls ``issue_code`` for the person who "logs in", and brings the code back to the
hub's callback. The hub then calls this provider's token and user-info endpoints itself, as it
would a real one's.
"""

from __future__ import annotations

import base64
import secrets
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlparse

import requests

from .localhttp import JSONRequestHandler, LocalHTTPServer


class FakeIdentityProvider(LocalHTTPServer):
    """A test's OIDC provider; ``claims`` per code, one use per code and per token."""

    __test__ = False

    def __init__(self, client_id: str = "peerprep", client_secret: str = "s3cret") -> None:  # noqa: S107 (a fake)
        self.client_id = client_id
        self.client_secret = client_secret
        self._codes: dict[str, dict[str, Any]] = {}
        self._tokens: dict[str, dict[str, Any]] = {}

    def issue_code(self, **claims: Any) -> str:
        code = secrets.token_urlsafe(16)
        self._codes[code] = claims
        return code

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        idp = self

        class Handler(JSONRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                basic = self.headers.get("Authorization", "")
                client = (form.get("client_id") or [""])[0]
                secret = (form.get("client_secret") or [""])[0]
                if basic.startswith("Basic "):
                    client, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
                if (client, secret) != (idp.client_id, idp.client_secret):
                    return self.answer(401, {"error": "invalid_client"})
                claims = idp._codes.pop((form.get("code") or [""])[0], None)
                if claims is None:
                    return self.answer(400, {"error": "invalid_grant"})
                token = secrets.token_urlsafe(16)
                idp._tokens[token] = claims
                return self.answer(
                    200, {"access_token": token, "token_type": "Bearer", "scope": "openid"}
                )

            def do_GET(self) -> None:
                token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                claims = idp._tokens.get(token)
                if claims is None:
                    return self.answer(401, {"error": "invalid_token"})
                return self.answer(200, claims)

        return Handler

    def hub_env(self) -> dict[str, str]:
        """The hub's environment for this provider (the callback URL is guessed from the
        request, as for a hub without PEERPREP_OIDC_CALLBACK_URL)."""
        return {
            "PEERPREP_AUTH": "oidc",
            "PEERPREP_OIDC_AUTHORIZE_URL": f"{self.url}/authorize",
            "PEERPREP_OIDC_TOKEN_URL": f"{self.url}/token",
            "PEERPREP_OIDC_USERDATA_URL": f"{self.url}/userinfo",
            "PEERPREP_OIDC_CLIENT_ID": self.client_id,
            "PEERPREP_OIDC_CLIENT_SECRET": self.client_secret,
        }

    def log_in(self, session: requests.Session, hub_url: str, **claims: Any) -> requests.Response:
        """The browser's part of a log-in: to the provider and back with a code."""
        start = session.get(f"{hub_url}/hub/oauth_login", allow_redirects=False)
        if start.status_code != 302:
            raise AssertionError(f"oauth_login: {start.status_code} {start.text[:300]}")
        query = parse_qs(urlparse(start.headers["Location"]).query)
        code = self.issue_code(**claims)
        return session.get(
            f"{hub_url}/hub/oauth_callback",
            params={"code": code, "state": query["state"][0]},
            allow_redirects=False,
        )
