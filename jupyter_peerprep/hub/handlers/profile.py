"""Profiles API: ``GET``/``PUT /api/profile`` (the caller's own) and ``GET /api/profiles``
(hub admins). The user is always the hub identity; a name in the body is refused."""

from __future__ import annotations

from sqlalchemy import select
from tornado import web

from ... import db
from ...db.models import Profile
from .. import profiles
from .base import APIHandler, authenticated


class ProfileHandler(APIHandler):
    def _languages(self) -> list[str]:
        matchmaker = getattr(self.service, "matchmaker", None)
        return list(matchmaker.languages) if matchmaker is not None else ["python"]

    @authenticated
    async def get(self) -> None:
        me = self.identity
        self.write_json(
            profiles.ensure_profile(self.db, me.name, display_name=me.display_name, email=me.email)
        )

    @authenticated
    async def put(self) -> None:
        body = self.get_json_object()
        profiles.ensure_profile(self.db, self.identity.name)
        with db.transaction(self.db) as s:
            profile = profiles.get_or_create(s, self.identity.name)
            profiles.refresh_rating(s, profile)
            try:
                profiles.apply_update(profile, body, self._languages())
            except profiles.ProfileError as e:
                # Leaving the block by exception rolls back: nothing half-applied is stored.
                raise web.HTTPError(400, str(e)) from None
            result = profiles.profile_json(profile)
        self.service.log.info("Profile of %s updated: %s", self.identity.name, sorted(body))
        self.write_json(result)


class ProfilesHandler(APIHandler):
    """Every profile, for hub admins."""

    @authenticated
    async def get(self) -> None:
        self.require_admin()
        with self.db() as s:
            rows = s.scalars(select(Profile).order_by(Profile.username)).all()
            body = {"profiles": [profiles.profile_json(p) for p in rows]}
        self.write_json(body)
