"""REST API handlers of the PeerPrep service, one module per resource.

``default_handlers`` is the routing table, relative to the service prefix
(``/services/peerprep/``); each feature module adds its own entries here.
"""

from __future__ import annotations

from typing import Any

from ..metrics import MetricsHandler
from .classview import class_handlers
from .match import MatchHandler, TicketEventsHandler, TicketHandler
from .profile import ProfileHandler, ProfilesHandler
from .questions import question_handlers
from .rooms import room_handlers
from .runs import run_handlers
from .system import HealthHandler, MeHandler
from .vocabulary import vocabulary_handlers

default_handlers: list[tuple[str, type, dict[str, Any]] | tuple[str, type]] = [
    (r"api/health", HealthHandler),
    (r"api/me", MeHandler),
    (r"api/match", MatchHandler),
    (r"api/match/([^/]+)", TicketHandler),
    (r"api/match/([^/]+)/events", TicketEventsHandler),
    (r"api/profile", ProfileHandler),
    (r"api/profiles", ProfilesHandler),
    (r"metrics", MetricsHandler),
    *question_handlers,
    *run_handlers,
    *room_handlers,
    *class_handlers,
    *vocabulary_handlers,
]


def _record_handlers() -> list[tuple[str, type]]:
    from ..record_api import record_handlers  # hook: the session record (issue 14)

    return record_handlers


default_handlers += _record_handlers()
