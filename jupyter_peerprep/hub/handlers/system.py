"""Health and identity: ``GET /api/health`` (for probes, no login) and ``GET /api/me``."""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError

from ... import db
from ..._version import __version__
from .base import APIHandler, authenticated


class HealthHandler(APIHandler):
    """Up, with a reachable database? Used by readiness probes; needs no login."""

    async def get(self) -> None:
        backend = self.service.engine.url.get_backend_name()
        try:
            db.ping(self.service.engine)
        except (SQLAlchemyError, db.DatabaseError) as e:
            self.service.log.error("Health check: database unreachable: %s", e)
            self.write_json(
                {"status": "error", "version": __version__, "database": backend}, status=503
            )
            return
        self.write_json({"status": "ok", "version": __version__, "database": backend})


class MeHandler(APIHandler):
    """Who the hub says the caller is, and their PeerPrep roles."""

    @authenticated
    async def get(self) -> None:
        self.write_json(self.identity.to_json())
