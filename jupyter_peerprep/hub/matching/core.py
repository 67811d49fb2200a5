"""The pure matching core: who may be paired with whom, and how tickets relax with time.

No I/O: these functions decide pairs from waiting tickets and a clock, so that they can be
tested exhaustively (``tests/matching``) and run a million times in ``benchmarks/matching.py``
(through ``jupyter_peerprep.testing.matching_model``). The rules are explained in
``docs/explanation/matching.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ...db.models import Proficiency, TicketState
from ...questions.vocabulary import DIFFICULTIES

EXACT, TOPIC_DROPPED, NEIGHBOUR_DIFFICULTY, TIMED_OUT = 0, 1, 2, 3
PROFICIENCIES: tuple[str, ...] = tuple(p.value for p in Proficiency)
TERMINAL_STATES = frozenset(
    {TicketState.matched.value, TicketState.cancelled.value, TicketState.timed_out.value}
)


@dataclass(frozen=True)
class Policy:
    """When tickets relax and time out (seconds), and how long a recent partner is avoided."""

    topic_relax_after: float = 30.0
    difficulty_relax_after: float = 75.0
    timeout_after: float = 180.0
    rematch_cooldown: float = 3600.0

    def __post_init__(self) -> None:
        if not 0 <= self.topic_relax_after <= self.difficulty_relax_after <= self.timeout_after:
            raise ValueError(
                "Matching times must satisfy 0 <= topic_relax_after <= difficulty_relax_after "
                f"<= timeout_after, got {self.topic_relax_after}, "
                f"{self.difficulty_relax_after}, {self.timeout_after}"
            )


@dataclass(frozen=True)
class Waiting:
    """A waiting ticket as the core sees it (``created`` in seconds since the epoch)."""

    id: str
    username: str
    difficulty: str
    topics: tuple[str, ...]
    language: str
    created: float
    proficiency: str = Proficiency.beginner.value
    rating: float = 1000.0


@dataclass(frozen=True)
class Agreement:
    """What two tickets agree on: the difficulty, the acceptable topics, how relaxed it is."""

    difficulty: str
    topics: tuple[str, ...]
    relax: int  # the lowest relaxation level both tickets needed to reach for this pair


@dataclass
class Plan:
    """What one tick decides: pairs to create, tickets to time out, relaxation changes."""

    pairs: list[tuple[Waiting, Waiting, Agreement]] = field(default_factory=list)
    timed_out: list[Waiting] = field(default_factory=list)
    levels: dict[str, int] = field(default_factory=dict)


def relax_level(waited: float, policy: Policy) -> int:
    """The relaxation level of a ticket that has waited ``waited`` seconds (3 = timed out)."""
    if waited >= policy.timeout_after:
        return TIMED_OUT
    if waited >= policy.difficulty_relax_after:
        return NEIGHBOUR_DIFFICULTY
    if waited >= policy.topic_relax_after:
        return TOPIC_DROPPED
    return EXACT


def allowed_difficulties(difficulty: str, level: int) -> tuple[str, ...]:
    if level < NEIGHBOUR_DIFFICULTY or difficulty not in DIFFICULTIES:
        return (difficulty,)
    i = DIFFICULTIES.index(difficulty)
    return DIFFICULTIES[max(0, i - 1) : i + 2]


def criteria(difficulty: str, topics: Sequence[str], level: int) -> dict[str, Any]:
    """The criteria a ticket accepts at ``level`` (``topics`` None = any topic)."""
    return {
        "difficulties": list(allowed_difficulties(difficulty, level)),
        "topics": None if level >= TOPIC_DROPPED else list(topics),
    }


def agreement(a: Waiting, b: Waiting, level_a: int, level_b: int) -> Agreement | None:
    """What ``a`` (at ``level_a``) and ``b`` (at ``level_b``) both accept, or None."""
    if a.username == b.username or a.language != b.language:
        return None
    if level_a >= TIMED_OUT or level_b >= TIMED_OUT:
        return None
    da = allowed_difficulties(a.difficulty, level_a)
    db_ = allowed_difficulties(b.difficulty, level_b)
    shared = [d for d in DIFFICULTIES if d in da and d in db_]
    if not shared:
        return None
    # Prefer a difficulty both asked for, then one either asked for, then the easier.
    difficulty = min(
        shared,
        key=lambda d: (-(d == a.difficulty) - (d == b.difficulty), DIFFICULTIES.index(d)),
    )
    common = tuple(sorted(set(a.topics) & set(b.topics)))
    if common:
        topics, topic_relax = common, EXACT
    elif level_a >= TOPIC_DROPPED and level_b >= TOPIC_DROPPED:
        topics, topic_relax = tuple(sorted(set(a.topics) | set(b.topics))), TOPIC_DROPPED
    elif level_a >= TOPIC_DROPPED:
        topics, topic_relax = tuple(b.topics), TOPIC_DROPPED
    elif level_b >= TOPIC_DROPPED:
        topics, topic_relax = tuple(a.topics), TOPIC_DROPPED
    else:
        return None
    relax = topic_relax
    if difficulty != a.difficulty or difficulty != b.difficulty:
        relax = NEIGHBOUR_DIFFICULTY
    return Agreement(difficulty=difficulty, topics=topics, relax=relax)


def _proficiency_gap(a: Waiting, b: Waiting) -> int:
    try:
        return abs(PROFICIENCIES.index(a.proficiency) - PROFICIENCIES.index(b.proficiency))
    except ValueError:
        return 1


def choose_partner(
    ticket: Waiting,
    candidates: Iterable[Waiting],
    now: float,
    policy: Policy,
    recently_met: Callable[[str, str], bool] = lambda a, b: False,
) -> tuple[Waiting, Agreement] | None:
    """The best partner for ``ticket`` among ``candidates``, with what they agree on.

    Preference, in order: not met within the rematch cooldown; the least relaxed agreement;
    close self-rated proficiency; close rating (100-point bands); first come, first served.
    """
    level = relax_level(now - ticket.created, policy)
    if level >= TIMED_OUT:
        return None
    best: tuple[tuple[Any, ...], Waiting, Agreement] | None = None
    for other in candidates:
        if other.id == ticket.id:
            continue
        found = agreement(ticket, other, level, relax_level(now - other.created, policy))
        if found is None:
            continue
        key = (
            recently_met(ticket.username, other.username),
            found.relax,
            _proficiency_gap(ticket, other),
            int(abs(ticket.rating - other.rating) // 100),
            other.created,
            other.id,
        )
        if best is None or key < best[0]:
            best = (key, other, found)
    return None if best is None else (best[1], best[2])


def plan(
    tickets: Iterable[Waiting],
    now: float,
    policy: Policy,
    recently_met: Callable[[str, str], bool] = lambda a, b: False,
    drivers: set[str] | None = None,
) -> Plan:
    """Decide one tick: time out, relax, then pair greedily in first-come order.

    With ``drivers``, only those tickets look for partners (among everyone): the ones whose
    level just changed or that are new; pairs of the others were already ruled out at their
    current levels, so looking again would only cost time (O(n^2) on a long queue).
    """
    result = Plan()
    open_: list[Waiting] = []
    for t in sorted(tickets, key=lambda t: (t.created, t.id)):
        level = relax_level(now - t.created, policy)
        result.levels[t.id] = level
        if level >= TIMED_OUT:
            result.timed_out.append(t)
        else:
            open_.append(t)
    taken: set[str] = set()
    for t in open_:
        if t.id in taken or (drivers is not None and t.id not in drivers):
            continue
        rest = (o for o in open_ if o.id not in taken and o.id != t.id)
        chosen = choose_partner(t, rest, now, policy, recently_met)
        if chosen is None:
            continue
        other, agreed = chosen
        taken.update((t.id, other.id))
        result.pairs.append((t, other, agreed))
    return result
