"""A model of the matching engine without a database, for property tests and benchmarks.

``InMemoryEngine`` runs the same pure core as ``Matchmaker`` (``hub/matching/core.py``) with
dicts instead of tables: ``tests/matching/test_engine_core.py`` checks its invariants with a
state machine and ``benchmarks/matching.py`` runs it a million times. It is a test model, not
part of the service.
"""

from __future__ import annotations

from ..db.models import TicketState
from ..hub.matching.core import EXACT, Plan, Policy, Waiting, choose_partner, plan, relax_level


class InMemoryEngine:
    """The engine model without a database: the core plus dicts, for property tests and the
    one-million-operation benchmark. Matches on enqueue and on ``tick``, like ``Matchmaker``."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.waiting: dict[str, Waiting] = {}
        self.by_user: dict[str, str] = {}
        self.state: dict[str, str] = {}
        self.partner: dict[str, str] = {}
        self.history: list[tuple[str, str, float]] = []
        self.levels: dict[str, int] = {}

    def enqueue(self, t: Waiting, now: float) -> tuple[str, str] | None:
        if t.username in self.by_user or t.id in self.state:
            raise ValueError(f"{t.username} already holds an open ticket")
        self.waiting[t.id] = t
        self.by_user[t.username] = t.id
        self.state[t.id] = TicketState.waiting.value
        chosen = choose_partner(t, list(self.waiting.values()), now, self.policy)
        if chosen is None:
            return None
        self._pair(t, chosen[0], now)
        return t.id, chosen[0].id

    def cancel(self, ticket_id: str) -> bool:
        t = self.waiting.pop(ticket_id, None)
        if t is None:
            return False
        del self.by_user[t.username]
        self.state[ticket_id] = TicketState.cancelled.value
        return True

    def tick(self, now: float) -> Plan:
        # Like Matchmaker: only tickets whose level changed look for partners; every other
        # pair was already ruled out at the current levels (on enqueue or an earlier tick).
        drivers = set()
        for t in self.waiting.values():
            level = relax_level(now - t.created, self.policy)
            if level != self.levels.get(t.id, EXACT):
                drivers.add(t.id)
                self.levels[t.id] = level
        decided = plan(list(self.waiting.values()), now, self.policy, drivers=drivers)
        for t in decided.timed_out:
            self.waiting.pop(t.id)
            del self.by_user[t.username]
            self.state[t.id] = TicketState.timed_out.value
        for a, b, _ in decided.pairs:
            self._pair(a, b, now)
        return decided

    def _pair(self, a: Waiting, b: Waiting, now: float) -> None:
        for t in (a, b):
            if self.state.get(t.id) != TicketState.waiting.value:
                raise AssertionError(f"double match of ticket {t.id}")
            self.waiting.pop(t.id)
            del self.by_user[t.username]
            self.state[t.id] = TicketState.matched.value
        self.partner[a.id], self.partner[b.id] = b.id, a.id
        self.history.append((a.id, b.id, now))
