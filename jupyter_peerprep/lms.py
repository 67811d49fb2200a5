"""Log-in through a university's LMS (LTI 1.3) or single sign-on (OpenID Connect).

Two authenticators, each a thin subclass of the upstream one (``jupyterhub-ltiauthenticator``,
``oauthenticator``'s ``GenericOAuthenticator``) that adds what PeerPrep needs from a log-in:

- the LMS's instructor and teaching-assistant roles (or the identity provider's groups) put the
  user in the ``instructors`` hub group, everyone else is a student; with LTI the course
  (the launch's context) becomes a ``course-<id>`` group, which the class view shows;
- the display name and email travel in ``auth_state["peerprep"]``, which the PeerPrep service
  reads from the hub (scope ``admin:auth_state``) into the student's profile. Nothing else is
  kept in ``auth_state``: the identity provider's tokens are dropped unless an operator keeps
  them, so the service never holds them;
- an LTI launch is accepted once: its nonce is remembered until the token would be too old
  anyway, so a captured launch (form and cookies) replayed later is refused.

Chosen by ``PEERPREP_AUTH`` in ``hub_config/jupyterhub_config.d/12-lti13.py`` and
``14-oidc.py``; docs/how-to/lms-login.md walks an operator through registration.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import time
from typing import Any

from ltiauthenticator.lti13.auth import LTI13Authenticator
from ltiauthenticator.lti13.error import InvalidAudienceError, LoginError, ValidationError
from ltiauthenticator.lti13.handlers import LTI13CallbackHandler
from oauthenticator.generic import GenericOAuthenticator
from tornado import web
from traitlets import Bool, Integer, List, Unicode

from .hub.classview import COURSE_GROUP_PREFIX

LTI_ROLES_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/roles"
LTI_CONTEXT_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/context"

# Context (course) roles of LTI 1.3 that teach: instructors and their teaching assistants.
DEFAULT_LTI_INSTRUCTOR_ROLES = [
    "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor",
    "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant",
    "http://purl.imsglobal.org/vocab/lis/v2/membership#ContentDeveloper",
]


def course_group(context_id: str) -> str:
    """The hub group of an LMS course: ``course-`` and the context id, made name-safe."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", context_id).strip("-")[:200]
    return f"{COURSE_GROUP_PREFIX}{safe}" if safe else ""


def profile_state(display_name: Any, email: Any) -> dict[str, str]:
    """What PeerPrep keeps of a log-in: ``auth_state["peerprep"]``."""
    return {
        "display_name": " ".join(str(display_name or "").split())[:100],
        "email": str(email or "").strip()[:255],
    }


def ensure_crypt_key(state_dir: str) -> None:
    """auth_state is encrypted with JUPYTERHUB_CRYPT_KEY: unless the operator gives one, keep
    one generated once in ``state_dir`` (file jupyterhub_crypt_key, mode 0600)."""
    if os.environ.get("JUPYTERHUB_CRYPT_KEY"):
        return
    path = os.path.join(state_dir, "jupyterhub_crypt_key")
    if not os.path.exists(path):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    with open(path) as f:
        os.environ["JUPYTERHUB_CRYPT_KEY"] = f.read().strip()


class NonceRegistry:
    """Nonces of launches already accepted, forgotten once their token could not be used."""

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}

    def first_use(self, nonce: str, lifetime: float, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        for old in [n for n, t in self._seen.items() if now - t > lifetime]:
            del self._seen[old]
        if nonce in self._seen:
            return False
        self._seen[nonce] = now
        return True


class PeerPrepLTI13CallbackHandler(LTI13CallbackHandler):
    """The launch's id_token is verified off the hub's event loop.

    Upstream verifies it synchronously, fetching the platform's key set (JWKS) with urllib on
    every launch: while an LMS is slow to answer, the whole hub (every user's page, the
    proxy's API) would wait. The cookies are read here first, on the loop, so the worker
    thread touches no response state.
    """

    async def post(self) -> None:
        self._get_state_cookie()
        self._get_nonce_state_cookie()
        try:
            id_token = await asyncio.to_thread(self.decode_and_validate_launch_request)
        except InvalidAudienceError as e:
            raise web.HTTPError(401, str(e)) from None
        except ValidationError as e:
            raise web.HTTPError(400, str(e)) from None
        try:
            user = await self.login_user(id_token)
        except LoginError as e:
            raise web.HTTPError(400, str(e)) from None
        if user is None:
            raise web.HTTPError(403, "User missing or null")
        await self.redirect_to_next_url(user)


class PeerPrepLTI13Authenticator(LTI13Authenticator):
    """LTI 1.3 log-in with PeerPrep's groups, profile and replay protection."""

    callback_handler = PeerPrepLTI13CallbackHandler

    instructor_roles = List(
        Unicode(),
        default_value=DEFAULT_LTI_INSTRUCTOR_ROLES,
        help="LTI role URIs (claim https://purl.imsglobal.org/spec/lti/claim/roles) that make a "
        "user a member of the instructors group. The default is the course's Instructor, its "
        "Teaching Assistants and Content Developers; add institution roles only if every "
        "teacher of the institution should publish questions and see every class.",
    ).tag(config=True)

    instructor_group = Unicode(
        "instructors",
        help="Hub group of instructors; must equal PeerPrepService.instructor_group.",
    ).tag(config=True)

    launch_lifetime = Integer(
        3600,
        help="Seconds a launch's nonce is remembered, so a captured launch replayed within this "
        "time is refused. Keep it at least as long as the platform's id_token lifetime (LMSs "
        "issue tokens valid for minutes; the upstream check refuses tokens older than an hour).",
    ).tag(config=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.nonces = NonceRegistry()

    def known_courses(self, handler: Any, name: str) -> list[str]:
        """The course groups ``name`` is in already (from launches in other courses)."""
        user = handler.find_user(self.normalize_username(name)) if handler else None
        if user is None:
            return []
        return [g.name for g in user.groups if g.name.startswith(COURSE_GROUP_PREFIX)]

    async def authenticate(self, handler: Any, data: dict[str, Any] | None = None) -> Any:
        claims = data or {}
        nonce = str(claims.get("nonce") or "")
        if not nonce or not self.nonces.first_use(nonce, self.launch_lifetime):
            self.log.warning("LTI launch refused: nonce %r was already used", nonce[:16])
            raise LoginError(
                "This LMS launch was already used. Open PeerPrep again from your course in the LMS."
            )
        name = self.get_username(claims)
        roles = claims.get(LTI_ROLES_CLAIM) or []
        groups = []
        if any(role in self.instructor_roles for role in roles):
            groups.append(self.instructor_group)
        context = claims.get(LTI_CONTEXT_CLAIM) or {}
        # Courses add up (a student in two courses is in both teachers' class views); the
        # instructor role comes from this launch alone.
        courses = set(self.known_courses(handler, name))
        course = course_group(str(context.get("id") or ""))
        if course:
            courses.add(course)
        groups.extend(sorted(courses))
        self.log.info("LTI launch of %s with groups %s", name, groups)
        return {
            "name": name,
            "groups": groups,
            "auth_state": {"peerprep": profile_state(claims.get("name"), claims.get("email"))},
        }


class PeerPrepOIDCAuthenticator(GenericOAuthenticator):
    """OpenID Connect / OAuth 2 log-in with PeerPrep's groups and profile."""

    instructor_claim_values = List(
        Unicode(),
        default_value=["instructors", "teaching-assistants"],
        help="Values of the identity provider's groups claim (auth_state_groups_key, default "
        "oauth_user.groups) that make a user a member of the instructors group.",
    ).tag(config=True)

    instructor_group = Unicode(
        "instructors",
        help="Hub group of instructors; must equal PeerPrepService.instructor_group.",
    ).tag(config=True)

    display_name_claim = Unicode(
        "name", help="Claim of the user info holding the person's display name."
    ).tag(config=True)

    email_claim = Unicode("email", help="Claim of the user info holding the email.").tag(
        config=True
    )

    keep_tokens = Bool(
        False,
        help="True keeps the identity provider's tokens in auth_state (for notebooks "
        "that call its APIs). PeerPrep itself needs none, and its service can read auth_state: "
        "by default only the display name and email are kept.",
    ).tag(config=True)

    async def get_user_groups(self, auth_state: dict[str, Any]) -> set[str]:
        claimed = await super().get_user_groups(auth_state)
        if claimed & set(self.instructor_claim_values):
            return {self.instructor_group}
        return set()

    async def update_auth_model(self, auth_model: dict[str, Any]) -> dict[str, Any]:
        state = auth_model.get("auth_state") or {}
        info = state.get(self.user_auth_state_key) or {}
        peerprep = profile_state(info.get(self.display_name_claim), info.get(self.email_claim))
        if self.keep_tokens:
            state["peerprep"] = peerprep
        else:
            # The groups claim is read from auth_state after this hook: keep the user info
            # (claims about the person), drop the tokens.
            state = {self.user_auth_state_key: info, "peerprep": peerprep}
        auth_model["auth_state"] = state
        return auth_model

    async def refresh_user(self, user: Any, handler: Any = None, **kwargs: Any) -> Any:
        if not self.keep_tokens:
            # No tokens to refresh with: the log-in stays valid as the hub's cookie does.
            return True
        return await super().refresh_user(user, handler, **kwargs)
