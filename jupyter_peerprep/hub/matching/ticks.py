"""The periodic pass over the queue (leases, timeouts, relaxation, matching) and the repair
of what a crash left."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from ... import db
from ...db.models import Room, Ticket, TicketState
from . import sql
from .core import EXACT, TIMED_OUT, plan, relax_level
from .messages import busiest, relax_message, timeout_message
from .tickets import as_waiting, ts

if TYPE_CHECKING:
    from .engine import Matchmaker


def finish(t: Ticket, state: str, message: str, now: datetime) -> None:
    """End waiting ticket ``t`` (cancelled, timed out) with ``message``."""
    t.state = state
    t.message = message
    t.updated = now


class Ticker:
    """Runs ticks and repairs for ``mm``; remembers when the last full pass ran."""

    def __init__(self, mm: Matchmaker) -> None:
        self.mm = mm
        self._last_tick: datetime | None = None
        self._last_full_pass: datetime | None = None

    def tick(self) -> tuple[dict[str, int], list[str]]:
        """One pass: expire leases, time out, relax, and pair everyone who fits. Returns the
        counts of each and the tickets whose streams to wake."""
        mm = self.mm
        now = mm.clock()
        now_s = ts(now)
        counts = {"expired": 0, "timed_out": 0, "relaxed": 0, "matched": 0, "in_room": 0}
        notify: list[str] = []
        with db.transaction(mm.session_factory) as s:
            mm.serialise(s)
            tickets = s.scalars(
                select(Ticket)
                .where(Ticket.state == TicketState.waiting.value)
                .order_by(Ticket.created)
                .with_for_update(skip_locked=True)
            ).all()
            if not tickets:
                return counts, notify
            known = sql.students(s.connection(), {t.username for t in tickets})
            in_room = known.rooms
            live: list[Ticket] = []
            for t in tickets:
                if t.lease_expires < now:
                    finish(
                        t,
                        TicketState.cancelled.value,
                        "You left the queue: no open PeerPrep page kept your ticket alive for "
                        f"{mm.lease_seconds:g} s. Ask for a match again.",
                        now,
                    )
                    counts["expired"] += 1
                    notify.append(t.id)
                    mm.log.info("Ticket %s left the queue (lease expired)", t.id)
                elif t.username in in_room:
                    finish(
                        t,
                        TicketState.cancelled.value,
                        f"You are in room {in_room[t.username]}; end that session first.",
                        now,
                    )
                    counts["in_room"] += 1
                    notify.append(t.id)
                else:
                    live.append(t)
            drivers = self._drivers(live, now)
            waiting = [
                as_waiting(t, p.proficiency if p else None, p.rating if p else None)
                for t in live
                for p in (known.profiles.get(t.username),)
            ]
            recent = mm.recent_partners(s, [t.username for t in live], now) if drivers else set()
            decided = plan(
                waiting,
                now_s,
                mm.policy,
                lambda a, b: frozenset((a, b)) in recent,
                drivers=drivers,
            )
            by_id = {t.id: t for t in live}
            if decided.timed_out:
                gone = {w.id for w in decided.timed_out}
                most = busiest(t for t in live if t.id not in gone)
                for w in decided.timed_out:
                    t = by_id[w.id]
                    finish(
                        t,
                        TicketState.timed_out.value,
                        timeout_message(t, now_s - ts(t.created), most),
                        now,
                    )
                    counts["timed_out"] += 1
                    notify.append(t.id)
                    mm.log.info("Ticket %s timed out", t.id)
            made = mm._make_rooms(s, decided.pairs, now, set(by_id))
            paired = {w.id for m in made for w in (m.a, m.b)}
            counts["matched"] = len(made)
            notify.extend(paired)
            for t in live:
                level = decided.levels.get(t.id, EXACT)
                if t.id in paired or level >= TIMED_OUT or level == t.relax_level:
                    continue
                t.relax_level = level
                t.message = relax_message(t, level)
                t.updated = now
                counts["relaxed"] += 1
                notify.append(t.id)
                mm.log.info("Ticket %s relaxed to level %s", t.id, level)
        return counts, notify

    def _drivers(self, live: Sequence[Ticket], now: datetime) -> set[str]:
        """Tickets that should look for a partner in this tick (see ``core.plan``)."""
        mm = self.mm
        last_full = self._last_full_pass
        full = last_full is None or (now - last_full).total_seconds() >= mm.full_pass_interval
        last = self._last_tick
        self._last_tick = now
        if full:
            self._last_full_pass = now
            return {t.id for t in live}
        since = (last or now) - timedelta(seconds=mm.tick_interval)
        now_s = ts(now)
        return {
            t.id
            for t in live
            if t.created >= since or relax_level(now_s - ts(t.created), mm.policy) != t.relax_level
        }

    def repair(self) -> dict[str, int]:
        """Bring the database to a consistent state after a crash or an unclean stop.

        A match is one transaction, so it is never half-made; what can be left is: waiting
        tickets whose leases ran out while no service was up (renewed: the outage was not the
        student's doing), waiting tickets of students who are in an active room (cancelled,
        naming the room), matched tickets whose room is gone (cancelled with an apology), and
        stale relaxation levels (fixed by the tick that follows).
        """
        mm = self.mm
        now = mm.clock()
        counts = {"leases_renewed": 0, "in_room_cancelled": 0, "orphans_cancelled": 0}
        with db.transaction(mm.session_factory) as s:
            renewed = s.execute(
                update(Ticket)
                .where(Ticket.state == TicketState.waiting.value, Ticket.lease_expires < now)
                .values(lease_expires=now + timedelta(seconds=mm.lease_seconds))
            )
            counts["leases_renewed"] = int(renewed.rowcount or 0)  # type: ignore[attr-defined]
            waiting = s.scalars(select(Ticket).where(Ticket.state == TicketState.waiting.value))
            tickets = list(waiting)
            in_room = sql.students(s.connection(), {t.username for t in tickets}).rooms
            for ticket in tickets:
                if ticket.username in in_room:
                    finish(
                        ticket,
                        TicketState.cancelled.value,
                        f"You are already in room {in_room[ticket.username]}; end it before "
                        "looking for a partner.",
                        now,
                    )
                    counts["in_room_cancelled"] += 1
            orphans = s.scalars(
                select(Ticket)
                .outerjoin(Room, Room.id == Ticket.room_id)
                .where(Ticket.state == TicketState.matched.value, Room.id.is_(None))
            ).all()
            for ticket in orphans:
                finish(
                    ticket,
                    TicketState.cancelled.value,
                    "Your match was lost in a service restart; please look for a partner again.",
                    now,
                )
            counts["orphans_cancelled"] = len(orphans)
        if any(counts.values()):
            mm.log.info("Matching repair on start-up: %s", counts)
        return counts
