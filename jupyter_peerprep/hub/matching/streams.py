"""Event streams of this process: waking them when their tickets change, and the one read
per tick that keeps all of them fresh."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from ... import db
from ...db.models import Ticket, TicketState


class TicketNotifier:
    """Wakes event streams of this process when one of their tickets changes, and hands them
    the fresh views ``Matchmaker.refresh_streams`` reads for all of them at once every tick."""

    def __init__(self) -> None:
        self._events: dict[str, set[asyncio.Event]] = {}
        # ticket id -> (publication number, ticket json) of the latest refresh.
        self._views: dict[str, tuple[int, dict[str, Any]]] = {}
        self._published = 0
        # Woken on every change of any ticket: the room manager starts preparing a room at once
        # instead of at its next tick.
        self.watchers: list[asyncio.Event] = []

    def subscribe(self, ticket_id: str) -> asyncio.Event:
        event = asyncio.Event()
        self._events.setdefault(ticket_id, set()).add(event)
        return event

    def unsubscribe(self, ticket_id: str, event: asyncio.Event) -> None:
        events = self._events.get(ticket_id)
        if events is not None:
            events.discard(event)
            if not events:
                del self._events[ticket_id]
                self._views.pop(ticket_id, None)

    def watched(self) -> list[str]:
        """The tickets an event stream of this process follows."""
        return list(self._events)

    def publish(self, views: dict[str, dict[str, Any]]) -> None:
        """Fresh views of followed tickets; wakes their streams to send them."""
        self._published += 1
        for ticket_id, view in views.items():
            if ticket_id in self._events:
                self._views[ticket_id] = (self._published, view)
                for event in self._events[ticket_id]:
                    event.set()

    def view(self, ticket_id: str, newer_than: int) -> tuple[int, dict[str, Any]] | None:
        """The latest published view of a ticket, if published after ``newer_than``."""
        found = self._views.get(ticket_id)
        return found if found is not None and found[0] > newer_than else None

    def notify(self, ticket_ids: Iterable[str]) -> None:
        """The tickets changed: wake their streams, which read them from the database."""
        ids = list(ticket_ids)
        for ticket_id in ids:
            self._views.pop(ticket_id, None)
            for event in self._events.get(ticket_id, ()):
                event.set()
        if ids:
            for watcher in self.watchers:
                watcher.set()


def read_followed(
    session_factory: sessionmaker[Session],
    ids: list[str],
    now: datetime,
    lease: timedelta,
    view: Callable[[Session, Ticket, datetime], dict[str, Any]],
) -> dict[str, dict[str, Any]]:
    """The views of tickets ``ids``, renewing the leases of the waiting ones, in one
    transaction (two statements however many streams are open)."""
    with db.transaction(session_factory) as s:
        s.execute(
            update(Ticket)
            .where(
                Ticket.id.in_(ids),
                Ticket.state == TicketState.waiting.value,
                Ticket.lease_expires < now + lease / 2,
            )
            .values(lease_expires=now + lease)
            .execution_options(synchronize_session=False)
        )
        tickets = s.scalars(select(Ticket).where(Ticket.id.in_(ids))).all()
        return {t.id: view(s, t, now) for t in tickets}
