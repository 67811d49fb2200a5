"""The fixed words of the service, under ``/services/peerprep/api/vocabulary``.

``GET api/vocabulary`` (anyone logged in) answers the choices the lobby and the profile offer
(difficulties, topics, languages, proficiencies) and the states a ticket, a room and a run go
through, with the terminal ones named, so the lab extension reads them once instead of keeping
its own copies in step with ``questions/vocabulary.py`` and ``db/models.py``. The languages
are the matchmaker's (``Matchmaker.languages``: the kernels this host's rooms have).
"""

from __future__ import annotations

from typing import Any

from ...db.models import Proficiency, RoomState, TicketState
from ...questions.vocabulary import DIFFICULTIES, TOPICS
from .base import APIHandler, authenticated

# A ticket in one of these states never changes again.
TICKET_TERMINAL = (TicketState.matched, TicketState.timed_out, TicketState.cancelled)
# The session of a room in one of these states is over for the students ("ending": its server
# stops soon after).
ROOM_OVER = (RoomState.ending, RoomState.ended)
ROOM_TERMINAL = (RoomState.ended, RoomState.failed)
RUN_KINDS = ("run", "submit")


def vocabulary(languages: list[str]) -> dict[str, Any]:
    """The JSON answer of ``GET api/vocabulary``; ``languages``: those the matchmaker offers
    (the kernels this host's rooms have)."""
    return {
        "difficulties": list(DIFFICULTIES),
        "topics": list(TOPICS),
        "languages": list(languages),
        "proficiencies": [p.value for p in Proficiency],
        "ticket_states": {
            # "relaxed" is how the ticket view shows a waiting ticket whose search widened.
            "all": [*(s.value for s in TicketState), "relaxed"],
            "terminal": [s.value for s in TICKET_TERMINAL],
        },
        "room_states": {
            "all": [s.value for s in RoomState],
            "over": [s.value for s in ROOM_OVER],
            "terminal": [s.value for s in ROOM_TERMINAL],
        },
        "run_kinds": list(RUN_KINDS),
    }


class VocabularyHandler(APIHandler):
    """The service's fixed words; the same for everyone, so browsers may cache it a while."""

    @authenticated
    async def get(self) -> None:
        self.set_header("Cache-Control", "private, max-age=300")
        self.write_json(vocabulary(self.running("matchmaker").languages))


vocabulary_handlers: list[tuple[str, type]] = [(r"api/vocabulary", VocabularyHandler)]
