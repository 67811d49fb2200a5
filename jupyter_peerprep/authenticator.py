"""The embedded default's authenticator: NativeAuthenticator, made to work on JupyterHub 6.

NativeAuthenticator 1.3 (the newest release) times log-ins with ``handler.statsd``, which
JupyterHub 6 removed along with its statsd support, so every log-in failed with a 500. This
subclass serves the same log-in page through a handler that has a do-nothing ``statsd``.
Everything else (sign-up, password rules, lock-out, admin approval) is NativeAuthenticator's.
"""

from __future__ import annotations

from typing import Any

from nativeauthenticator import NativeAuthenticator
from nativeauthenticator.handlers import LoginHandler as NativeLoginHandler


class _NoStatsd:
    """Accepts statsd calls and does nothing (JupyterHub 6 exposes metrics via Prometheus)."""

    def timer(self, *args: Any, **kwargs: Any) -> _NoStatsd:
        return self

    def start(self) -> _NoStatsd:
        return self

    def stop(self, *args: Any, **kwargs: Any) -> None:
        return None

    def incr(self, *args: Any, **kwargs: Any) -> None:
        return None


class LoginHandler(NativeLoginHandler):
    statsd = _NoStatsd()


class PeerPrepAuthenticator(NativeAuthenticator):
    """NativeAuthenticator (sign-up and log-in with a password) for PeerPrep's default hub."""

    def get_handlers(self, app: Any) -> list[tuple[str, Any]]:
        return [
            (pattern, LoginHandler if handler is NativeLoginHandler else handler)
            for pattern, handler in super().get_handlers(app)
        ]
