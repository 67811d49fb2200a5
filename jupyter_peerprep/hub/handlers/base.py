"""Base class of every PeerPrep API handler: identity, JSON bodies and JSON errors.

Every error leaves as ``{"status": <code>, "message": <what went wrong and what to do>}``;
unexpected exceptions are logged with their traceback and answered with a generic 500, never
the traceback itself.

Request bodies are streamed (``stream_request_body``) so that their size is checked before
they are read: a declared ``Content-Length`` over the handler's limit is answered 413 from the
request head alone, and a chunked body is cut off at the limit by the connection. JSON deeper
than ``PeerPrepService.max_json_depth`` is a 400, never a RecursionError.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar, cast

from jupyterhub.services.auth import (
    HubOAuthCallbackHandler,
    HubOAuthenticated,
    UserNotAllowed,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from tornado import web

from ...db import database_trouble
from ..auth import Identity, IdentityError, check_token_owner
from ..ratelimit import TooManyRequests

if TYPE_CHECKING:
    from ..app import PeerPrepService

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])

# What a request hears when the part of the service it needs is not running (yet).
NOT_RUNNING = {
    "matchmaker": "Matching is not running on this service yet; retry soon.",
    "rooms": "Rooms are not running on this service.",
    "question_bank": "The question bank is not running on this service.",
    "grader": "The grader is not running on this service.",
}


def authenticated(method: F) -> F:
    """Require a hub identity; answer 403 JSON (never a login redirect) without one."""

    @wraps(method)
    async def wrapper(self: APIHandler, *args: Any, **kwargs: Any) -> Any:
        if self.current_user is None:
            raise web.HTTPError(
                403,
                "Not authenticated: log in to the hub and call the PeerPrep API with a hub "
                "token or from JupyterLab.",
            )
        self.identity = await self.resolve_identity()
        return await method(self, *args, **kwargs)

    return cast(F, wrapper)


class ServiceHubAuth(HubOAuthenticated):
    """Use this service's own ``HubOAuth`` (from the app settings), not a process singleton."""

    @property
    def hub_auth(self) -> Any:
        return self.settings["hub_auth"]

    @hub_auth.setter
    def hub_auth(self, auth: Any) -> None:
        raise AttributeError("hub_auth comes from the application settings")


class OAuthCallbackHandler(ServiceHubAuth, HubOAuthCallbackHandler):
    """Completes the Hub OAuth log-in for browsers visiting service pages."""


def json_depth(value: Any) -> int:
    """How deeply lists and objects nest in a parsed JSON value (iterative: no recursion)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in item if isinstance(child, dict | list))
    return deepest


@web.stream_request_body
class APIHandler(ServiceHubAuth, web.RequestHandler):
    """JSON API handler of the PeerPrep service."""

    identity: Identity
    # Which PeerPrepService trait bounds this handler's request bodies.
    body_limit_trait = "max_body_bytes"
    _body: bytearray

    def body_limit(self) -> int:
        limit: int = getattr(self.service, self.body_limit_trait)
        return limit

    def refuse_large_body(self) -> None:
        """413 from the request head when the declared body is over the limit; otherwise cap
        what the connection will read (a chunked body past it closes the connection)."""
        self._body = bytearray()
        limit = self.body_limit()
        declared = self.request.headers.get("Content-Length")
        if declared is not None and declared.strip().isdigit() and int(declared) > limit:
            raise web.HTTPError(
                413,
                f"The request body is {int(declared) // 1024} KB; this API takes at most "
                f"{limit // 1024} KB. Send a smaller body.",
            )
        if self.request.connection is not None:
            self.request.connection.set_max_body_size(limit)  # type: ignore[attr-defined]

    def data_received(self, chunk: bytes) -> None:
        self._body += chunk

    @property
    def request_body(self) -> bytes:
        """The whole request body (streamed in, at most the handler's limit)."""
        return bytes(getattr(self, "_body", b""))

    async def prepare(self) -> None:
        self.refuse_large_body()
        # Resolve the hub user without blocking the event loop (HubAuthenticated's
        # get_current_user is synchronous); get_current_user then returns this cached answer.
        model = await self.hub_auth.get_user(self, sync=False)
        try:
            self._hub_auth_user_cache = self.check_hub_user(model) if model else None
        except UserNotAllowed:
            self._hub_auth_user_cache = None

    service: PeerPrepService

    def initialize(self, service: PeerPrepService) -> None:
        """The service comes as a route argument (``PeerPrepService.init_tornado``), as
        ``jupyter_server_ydoc`` hands its handlers their collaborators."""
        self.service = service

    def running(self, part: str) -> Any:
        """The service's ``part`` (``matchmaker``, ``rooms``, ``question_bank``, ``grader``),
        or a 503 that says it is not running yet (it starts after the routes exist)."""
        found = getattr(self.service, part, None)
        if found is None:
            raise web.HTTPError(503, NOT_RUNNING.get(part, f"{part} is not running."))
        return found

    @property
    def db(self) -> sessionmaker[Session]:
        return self.service.session_factory

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.set_header("Cache-Control", "no-store")

    def get_json_body(self) -> Any:
        """The request body as JSON, or a 400 that says what is wrong with it."""
        body = self.request_body
        if not body:
            raise web.HTTPError(400, "Request body is empty; send a JSON object.")
        return self.parse_json(body)

    def parse_json(self, text: bytes | str) -> Any:
        """``text`` as JSON no deeper than the service allows, or a 400 saying why not."""
        limit = self.service.max_json_depth
        try:
            value = json.loads(text)
        except RecursionError:
            value = None
            depth = None
        except (ValueError, UnicodeDecodeError) as e:
            raise web.HTTPError(400, f"Request body is not valid JSON: {e}") from None
        else:
            depth = json_depth(value)
        if depth is None or depth > limit:
            raise self.too_deep()
        return value

    def too_deep(self) -> web.HTTPError:
        limit = self.service.max_json_depth
        return web.HTTPError(
            400, f"Request body is JSON nested more than {limit} levels deep; send a flatter one."
        )

    def get_json_object(self) -> dict[str, Any]:
        body = self.get_json_body()
        if not isinstance(body, dict):
            raise web.HTTPError(
                400, f"Request body must be a JSON object, not {type(body).__name__}."
            )
        return body

    async def resolve_identity(self) -> Identity:
        model = self.current_user
        assert model is not None
        if model.get("kind") == "service":
            raise web.HTTPError(403, "Services cannot use the student API.")
        # The token's owner is the identity; nothing in the request can name anyone else.
        try:
            name = check_token_owner(model["name"])
        except IdentityError as e:
            raise web.HTTPError(403, str(e)) from None
        user = await self.service.hub_api.get_user(name) if self.service.hub_api else None
        if user is None:
            user = model
        groups = sorted(user.get("groups") or [])
        login = (user.get("auth_state") or {}).get("peerprep") or {}
        return Identity(
            name=name,
            groups=groups,
            admin=bool(user.get("admin")),
            instructor=self.service.instructor_group in groups or bool(user.get("admin")),
            display_name=str(login.get("display_name") or ""),
            email=str(login.get("email") or ""),
        )

    def require_instructor(self) -> None:
        if not self.identity.instructor:
            raise web.HTTPError(
                403,
                f"Only instructors may do this; ask an admin to add you to the "
                f"{self.service.instructor_group!r} group.",
            )

    def require_admin(self) -> None:
        if not self.identity.admin:
            raise web.HTTPError(403, "Only hub admins may do this.")

    def write_json(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.finish(json.dumps(data, default=str))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, DBAPIError):
            # Busy (a lock not granted within PeerPrepService.db_lock_timeout), unreachable or
            # full: a moment's trouble of the database, not a bug. Say so and when to retry.
            status_code = 503
            self.set_status(503)
            self.set_header("Retry-After", "2")
            self.set_header("Content-Type", "application/json; charset=UTF-8")
            self.finish(json.dumps({"status": 503, "message": database_trouble(exc)}))
            return
        message = ""
        if isinstance(exc, web.HTTPError) and exc.log_message:
            message = exc.log_message % exc.args if exc.args else exc.log_message
        if not message:
            message = self._reason
            if status_code >= 500:
                message = "The PeerPrep service hit an internal error; it has been logged."
        if isinstance(exc, TooManyRequests):
            self.set_header("Retry-After", str(exc.retry_after))
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps({"status": status_code, "message": message}))
