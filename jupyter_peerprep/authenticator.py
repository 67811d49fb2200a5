"""The embedded default's authenticator: NativeAuthenticator, made to work on JupyterHub 6.

NativeAuthenticator 1.3 (the newest release) times log-ins with ``handler.statsd``, which
JupyterHub 6 removed along with its statsd support, so every log-in failed with a 500. This
subclass serves the same log-in page through a handler that has a do-nothing ``statsd``.
It also refuses sign-ups under a name starting with ``pair-``: those are PeerPrep's rooms (the
hub user whose server two students share), and whoever registered one would own that room.
Everything else (sign-up, password rules, lock-out, admin approval) is NativeAuthenticator's.
"""

from __future__ import annotations

from typing import Any

from nativeauthenticator import NativeAuthenticator
from nativeauthenticator.handlers import LoginHandler as NativeLoginHandler
from nativeauthenticator.handlers import SignUpHandler as NativeSignUpHandler

from .hub.auth import PAIR_USER_PREFIX, is_pair_user

RESERVED_NAME_MESSAGE = (
    f'User names starting with "{PAIR_USER_PREFIX}" are reserved for PeerPrep\'s pair rooms; '
    "choose another user name."
)


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


class SignUpHandler(NativeSignUpHandler):
    """NativeAuthenticator's sign-up page, saying why a reserved name was refused."""

    def get_result_message(self, user: Any, *args: Any, **kwargs: Any) -> tuple[str, str]:
        name = self.authenticator.normalize_username(self.get_body_argument("username", ""))
        if user is None and is_pair_user(name):
            return "alert-danger", RESERVED_NAME_MESSAGE
        alert, message = super().get_result_message(user, *args, **kwargs)
        return str(alert), str(message)


HANDLERS = {NativeLoginHandler: LoginHandler, NativeSignUpHandler: SignUpHandler}


class PeerPrepAuthenticator(NativeAuthenticator):
    """NativeAuthenticator (sign-up and log-in with a password) for PeerPrep's default hub."""

    def get_handlers(self, app: Any) -> list[tuple[str, Any]]:
        return [
            (pattern, HANDLERS.get(handler, handler))
            for pattern, handler in super().get_handlers(app)
        ]

    def create_user(self, username: str, password: str, **kwargs: Any) -> Any:
        # Only sign-up creates NativeAuthenticator accounts; the hub itself still creates pair
        # users (the service does, through the hub API), which validate_username must allow.
        if is_pair_user(self.normalize_username(username)):
            self.log.warning("Sign-up as %r refused: the name is reserved for rooms", username)
            return None
        return super().create_user(username, password, **kwargs)
