"""Matching: who is paired with whom, on which question, and when tickets relax.

One module an idea (docs/explanation/matching.md explains the design):

- ``core``: the pure rules (``Policy``, ``Waiting``, ``agreement``, ``choose_partner``,
  ``plan``); ``messages``: what a student reads; ``requests``: a valid match request;
- ``question_choice``: which question a pair gets; ``rooms``: where a pair becomes a room
  (the seam with ``hub/rooms``);
- ``sql``: the statements and the reads every path shares; ``tickets``: a ticket as the
  matcher holds it; ``views``: a ticket's JSON; ``streams``: event streams of this process;
- ``writer``: match requests written in batches; ``ticks``: the periodic pass and repair;
- ``engine``: ``Matchmaker``, the configurable the service runs.
"""

from __future__ import annotations

from .core import (
    EXACT,
    NEIGHBOUR_DIFFICULTY,
    TERMINAL_STATES,
    TIMED_OUT,
    TOPIC_DROPPED,
    Agreement,
    Plan,
    Policy,
    Waiting,
    agreement,
    allowed_difficulties,
    choose_partner,
    criteria,
    plan,
    relax_level,
)
from .engine import Matchmaker
from .question_choice import PickedQuestion, choose_question
from .requests import MatchError, MatchRequest
from .streams import TicketNotifier

__all__ = [
    "EXACT",
    "NEIGHBOUR_DIFFICULTY",
    "TERMINAL_STATES",
    "TIMED_OUT",
    "TOPIC_DROPPED",
    "Agreement",
    "MatchError",
    "MatchRequest",
    "Matchmaker",
    "PickedQuestion",
    "Plan",
    "Policy",
    "TicketNotifier",
    "Waiting",
    "agreement",
    "allowed_difficulties",
    "choose_partner",
    "choose_question",
    "criteria",
    "plan",
    "relax_level",
]
