"""Matching API: open, read, cancel a ticket, and follow it live.

``POST /api/match`` opens a ticket (201; 200 with the same ticket for a repeated idempotency
key; 409 with the open ticket or naming the active room), ``GET``/``DELETE /api/match/{id}``
read and cancel it, ``GET /api/match/{id}/events`` streams every state change as server-sent
events (``event: <state>`` + ``data: <ticket json>``) and keeps the ticket's lease alive while
it is open. Only the ticket's owner sees it; anyone else gets 404. Opening streams is rate
limited per student (``RateLimiter.event_streams_per_minute``; 429 with ``Retry-After``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from tornado.iostream import StreamClosedError

from ..matching import TERMINAL_STATES, MatchError, Matchmaker
from .base import APIHandler, authenticated


class MatchAPIHandler(APIHandler):
    @property
    def matchmaker(self) -> Matchmaker:
        matchmaker: Matchmaker = self.running("matchmaker")
        return matchmaker

    def write_match_error(self, e: MatchError) -> None:
        body: dict[str, Any] = {"status": e.status, "message": e.message}
        if e.ticket is not None:
            body["ticket"] = e.ticket
        self.write_json(body, status=e.status)


class MatchHandler(MatchAPIHandler):
    """``POST /api/match``: ask for a partner."""

    @authenticated
    async def post(self) -> None:
        body = self.get_json_object()
        name = self.identity.name
        try:
            request = self.matchmaker.validate_request(body)
            ticket, created = await self.matchmaker.enqueue(name, request)
        except MatchError as e:
            self.write_match_error(e)
            return
        self.write_json(ticket, status=201 if created else 200)


class TicketHandler(MatchAPIHandler):
    """``GET``/``DELETE /api/match/{ticket_id}``: read (renews the lease) or cancel."""

    @authenticated
    async def get(self, ticket_id: str) -> None:
        try:
            self.write_json(self.matchmaker.get(self.identity.name, ticket_id, renew=True))
        except MatchError as e:
            self.write_match_error(e)

    @authenticated
    async def delete(self, ticket_id: str) -> None:
        try:
            self.write_json(self.matchmaker.cancel(self.identity.name, ticket_id))
        except MatchError as e:
            self.write_match_error(e)


class TicketEventsHandler(MatchAPIHandler):
    """``GET /api/match/{ticket_id}/events``: server-sent events until the ticket is final.

    Sends the ticket at once, then on every change this process hears of (its notifier) and
    every ``tick_interval`` with the view ``Matchmaker.refresh_streams`` read for all open
    streams at once (a fresh ``elapsed_s``, and how a match made by another service process
    reaches this stream). Reads renew the ticket's lease while the stream is open.
    """

    _closed = False
    _wake: asyncio.Event | None = None

    def on_connection_close(self) -> None:
        self._closed = True
        if self._wake is not None:
            self._wake.set()

    @authenticated
    async def get(self, ticket_id: str) -> None:
        matchmaker = self.matchmaker
        name = self.identity.name
        self.service.rate_limits.take("event_streams", name)
        try:
            ticket = matchmaker.get(name, ticket_id, renew=True)
        except MatchError as e:
            self.write_match_error(e)
            return
        self.set_header("Content-Type", "text/event-stream; charset=UTF-8")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Accel-Buffering", "no")
        notifier = matchmaker.notifier
        wake = self._wake = notifier.subscribe(ticket_id)
        seen = 0
        try:
            while not self._closed:
                self.write(f"event: {ticket['state']}\ndata: {json.dumps(ticket)}\n\n")
                await self.flush()
                if ticket["state"] in TERMINAL_STATES:
                    break
                # Woken by a change (read it) or by the matchmaker's refresh of every stream
                # (use its view); if neither comes for two ticks, read for ourselves.
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(wake.wait(), timeout=2 * matchmaker.tick_interval)
                wake.clear()
                if self._closed:
                    break
                fresh = notifier.view(ticket_id, newer_than=seen)
                if fresh is not None:
                    seen, ticket = fresh
                else:
                    ticket = matchmaker.get(name, ticket_id, renew=True)
        except StreamClosedError:
            self._closed = True
        finally:
            matchmaker.notifier.unsubscribe(ticket_id, wake)
        if not self._closed:
            self.finish()
