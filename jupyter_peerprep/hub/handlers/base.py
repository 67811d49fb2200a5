"""Base class of every PeerPrep API handler: identity, JSON bodies and JSON errors.

Every error leaves as ``{"status": <code>, "message": <what went wrong and what to do>}``;
unexpected exceptions are logged with their traceback and answered with a generic 500, never
the traceback itself.
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
from sqlalchemy.orm import Session, sessionmaker
from tornado import web

from ..auth import Identity, IdentityError, check_token_owner

if TYPE_CHECKING:
    from ..app import PeerPrepService

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


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


class APIHandler(ServiceHubAuth, web.RequestHandler):
    """JSON API handler of the PeerPrep service."""

    identity: Identity

    async def prepare(self) -> None:
        # Resolve the hub user without blocking the event loop (HubAuthenticated's
        # get_current_user is synchronous); get_current_user then returns this cached answer.
        model = await self.hub_auth.get_user(self, sync=False)
        try:
            self._hub_auth_user_cache = self.check_hub_user(model) if model else None
        except UserNotAllowed:
            self._hub_auth_user_cache = None

    @property
    def service(self) -> PeerPrepService:
        service: PeerPrepService = self.settings["peerprep_service"]
        return service

    @property
    def db(self) -> sessionmaker[Session]:
        return self.service.session_factory

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.set_header("Cache-Control", "no-store")

    def get_json_body(self) -> Any:
        """The request body as JSON, or a 400 that says what is wrong with it."""
        if not self.request.body:
            raise web.HTTPError(400, "Request body is empty; send a JSON object.")
        try:
            return json.loads(self.request.body)
        except (ValueError, UnicodeDecodeError) as e:
            raise web.HTTPError(400, f"Request body is not valid JSON: {e}") from None

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
        message = ""
        if isinstance(exc, web.HTTPError) and exc.log_message:
            message = exc.log_message % exc.args if exc.args else exc.log_message
        if not message:
            message = self._reason
            if status_code >= 500:
                message = "The PeerPrep service hit an internal error; it has been logged."
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps({"status": status_code, "message": message}))
