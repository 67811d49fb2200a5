"""Per-user rate limits on the API's costly calls: runs, heartbeats, event streams.

A token bucket per (user, action): it holds up to ``<action>_per_minute`` tokens, refills at
that rate, and each call takes one. A call that finds the bucket empty is answered 429 with
``Retry-After`` (seconds until the next token) and a message naming the limit.

The buckets live in this service process. With several replicas behind one address each
replica counts on its own, so a student can reach at most ``replicas x <action>_per_minute``;
size the limits for that (docs/reference/rest-api.md says so too). What the limits protect is
the grader's sandboxes and the database from a flood, not an exact quota: the one-run-per-room
mark (``Room.grading_since``) holds across replicas already.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from tornado import web
from traitlets import Integer, TraitError, validate
from traitlets.config import LoggingConfigurable

ACTIONS = {
    "runs": "runs (Run and Submit)",
    "heartbeats": "room heartbeats",
    "event_streams": "match event streams opened",
}


class TooManyRequests(web.HTTPError):
    """A 429 whose answer carries ``Retry-After: <seconds>``."""

    def __init__(self, retry_after: int, message: str) -> None:
        super().__init__(429, "%s", message)
        self.retry_after = max(1, int(retry_after))


class RateLimiter(LoggingConfigurable):
    """Token buckets per user and action. Configure as ``RateLimiter.<trait>``."""

    runs_per_minute = Integer(
        12,
        help="""Run and Submit requests one student may make per minute (a burst of this many,
        then one every 60/N seconds). Counted per service process: with several replicas a
        student may reach replicas x this. 0 turns the limit off.""",
    ).tag(config=True)

    heartbeats_per_minute = Integer(
        30,
        help="""Room heartbeats one student may send per minute. The room panel sends one every
        10 s per open tab. Counted per service process. 0 turns the limit off.""",
    ).tag(config=True)

    event_streams_per_minute = Integer(
        30,
        help="""Match event streams (GET /api/match/{id}/events) one student may open per
        minute. The lobby opens one per ticket and reopens it after a dropped connection.
        Counted per service process. 0 turns the limit off.""",
    ).tag(config=True)

    @validate("runs_per_minute", "heartbeats_per_minute", "event_streams_per_minute")
    def _validate_rate(self, proposal: dict[str, Any]) -> int:
        value: int = proposal["value"]
        if value < 0:
            name = proposal["trait"].name
            raise TraitError(f"RateLimiter.{name} must be >= 0 (0 = no limit), got {value}")
        return value

    def __init__(self, clock: Callable[[], float] = time.monotonic, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.clock = clock
        # (action, user) -> (tokens left, when they were counted)
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}
        self._last_sweep = clock()

    def take(self, action: str, user: str) -> None:
        """Spend one token of ``user``'s ``action`` bucket, or raise TooManyRequests."""
        rate = int(getattr(self, f"{action}_per_minute"))
        if rate <= 0:
            return
        now = self.clock()
        self._sweep(now)
        tokens, since = self._buckets.get((action, user), (float(rate), now))
        tokens = min(float(rate), tokens + (now - since) * rate / 60.0)
        if tokens < 1.0:
            wait = math.ceil((1.0 - tokens) * 60.0 / rate)
            self._buckets[(action, user)] = (tokens, now)
            self.log.warning("Rate limit: %s made too many %s", user, action)
            raise TooManyRequests(
                wait,
                f"Too many {ACTIONS[action]}: at most {rate} a minute. Try again in {wait} s.",
            )
        self._buckets[(action, user)] = (tokens - 1.0, now)

    def _sweep(self, now: float) -> None:
        """Forget buckets that have refilled (once a minute), so memory stays bounded."""
        if now - self._last_sweep < 60.0:
            return
        self._last_sweep = now
        full = [key for key, (_, since) in self._buckets.items() if now - since >= 60.0]
        for key in full:
            del self._buckets[key]
