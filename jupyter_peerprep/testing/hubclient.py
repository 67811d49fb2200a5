"""A student at a real hub, over plain HTTP: sign up, log in, spawn, call APIs.

Uses the hub's own HTML forms and cookies (with their XSRF tokens), the way a browser does, so
tests exercise the same authentication path as people. ``HubUser.token()`` creates a hub API
token for the places a browser would use cookies that ``requests`` cannot (websockets).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlparse

import requests
from jupyterhub.utils import subdomain_hook_idna


class HubClientError(AssertionError):
    """The hub did not do what a user asked; the message says what it answered."""


@dataclass
class HubUser:
    hub_url: str
    name: str
    password: str = "correct-horse-battery-9"  # noqa: S105 (a test account)
    session: requests.Session = field(default_factory=requests.Session)
    _token: str | None = None
    # The hub serves each server on its own subdomain of hub_url's host (subdomain_host).
    subdomains: bool = False

    # -- hub pages -----------------------------------------------------------------------

    def _xsrf(self, path: str = "/hub/") -> str:
        for cookie in self.session.cookies:
            if cookie.name == "_xsrf" and (cookie.path or "/") == path:
                return str(cookie.value)
        for cookie in self.session.cookies:
            if cookie.name == "_xsrf":
                return str(cookie.value)
        raise HubClientError(f"no _xsrf cookie for {path}")

    def signup(self) -> requests.Response:
        self.session.get(f"{self.hub_url}/hub/signup").raise_for_status()
        response = self.session.post(
            f"{self.hub_url}/hub/signup",
            data={
                "username": self.name,
                "signup_password": self.password,
                "signup_password_confirmation": self.password,
                "_xsrf": self._xsrf(),
            },
        )
        if response.status_code != 200 or "alert-success" not in response.text:
            raise HubClientError(f"sign-up of {self.name} failed: {response.status_code}")
        return response

    def login(self) -> requests.Response:
        self.session.get(f"{self.hub_url}/hub/login").raise_for_status()
        response = self.session.post(
            f"{self.hub_url}/hub/login?next=",
            data={"username": self.name, "password": self.password, "_xsrf": self._xsrf()},
            allow_redirects=False,
        )
        if response.status_code != 302:
            raise HubClientError(f"log-in of {self.name} failed: {response.status_code}")
        if self.subdomains:
            self._share_parent_domain_cookies()
        return response

    def _share_parent_domain_cookies(self) -> None:
        """With servers on subdomains the hub sets its session cookie for ``.<host>``; a
        browser sends it to ``<host>`` too, Python's cookie jar does not (for a host without
        a dot, such as localhost). Copy it to the hub's own host, as a browser would send it."""
        host = urlparse(self.hub_url).hostname or ""
        # http.cookiejar files a dotless host's own cookies under "<host>.local".
        own = host if "." in host else f"{host}.local"
        cookies: list[Any] = list(iter(self.session.cookies))
        for cookie in cookies:
            if cookie.domain == f".{host}":
                self.session.cookies.set(cookie.name, cookie.value, domain=own, path=cookie.path)

    # -- hub API with the login cookie -----------------------------------------------------

    def hub_api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if self._token:
            headers["Authorization"] = f"token {self._token}"
        else:
            headers["X-XSRFToken"] = self._xsrf("/hub/")
        return self.session.request(
            method, f"{self.hub_url}/hub/api/{path.lstrip('/')}", headers=headers, **kwargs
        )

    def token(self) -> str:
        """A hub API token of this user (created once)."""
        if self._token is None:
            response = self.hub_api(
                "POST", f"users/{quote(self.name)}/tokens", json={"note": "test client"}
            )
            if response.status_code != 201:
                raise HubClientError(f"token for {self.name}: {response.status_code}")
            self._token = response.json()["token"]
        return self._token

    def start_server(self, timeout: float = 180.0) -> None:
        response = self.hub_api("POST", f"users/{quote(self.name)}/server")
        if response.status_code not in (201, 202, 400):  # 400: already running
            raise HubClientError(f"spawn for {self.name}: {response.status_code} {response.text}")
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 180.0, server: str = "") -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            model = self.hub_api("GET", f"users/{quote(self.name)}").json()
            srv = model.get("servers", {}).get(server)
            if srv and srv.get("ready"):
                return
            time.sleep(0.3)
        raise HubClientError(f"server of {self.name} not ready after {timeout}s")

    # -- the user's own server ---------------------------------------------------------------

    def server_base(self, owner: str) -> str:
        """The URL of ``owner``'s server: a path of the hub, or its own subdomain."""
        origin = self.hub_url
        if self.subdomains:
            hub = urlparse(self.hub_url)
            host = subdomain_hook_idna(owner, hub.hostname, "user")
            origin = f"{hub.scheme}://{host}" + (f":{hub.port}" if hub.port else "")
        return f"{origin}/user/{quote(owner)}"

    @property
    def server_url(self) -> str:
        return self.server_base(self.name)

    def server(self, method: str, path: str, *, owner: str | None = None, **kwargs: Any) -> Any:
        """Request ``path`` on a single-user server (own by default) with this user's token."""
        base = self.server_base(owner) if owner else self.server_url
        headers = kwargs.pop("headers", {})
        headers["Authorization"] = f"token {self.token()}"
        kwargs.setdefault("allow_redirects", False)
        return self.session.request(method, f"{base}/{path.lstrip('/')}", headers=headers, **kwargs)

    def peerprep(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Call the PeerPrep API through the relay of this user's server (as JupyterLab does)."""
        response: requests.Response = self.server(
            method, f"peerprep/api/{path.lstrip('/')}", **kwargs
        )
        return response
