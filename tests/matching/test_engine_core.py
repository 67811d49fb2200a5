"""The pure matching core: criteria, agreements, preferences, and a state machine over the
in-memory engine model (enqueue, cancel, wait) checking its invariants."""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from jupyter_peerprep.hub.matching import (
    EXACT,
    NEIGHBOUR_DIFFICULTY,
    TIMED_OUT,
    TOPIC_DROPPED,
    Policy,
    Waiting,
    agreement,
    allowed_difficulties,
    choose_partner,
    plan,
    relax_level,
)
from jupyter_peerprep.questions.vocabulary import DIFFICULTIES
from jupyter_peerprep.testing.matching_model import InMemoryEngine

POLICY = Policy(topic_relax_after=10, difficulty_relax_after=20, timeout_after=30)


def w(id_, user=None, difficulty="easy", topics=("arrays",), created=0.0, **kw):
    return Waiting(
        id=id_,
        username=user or f"u-{id_}",
        difficulty=difficulty,
        topics=tuple(topics),
        language=kw.pop("language", "python"),
        created=created,
        **kw,
    )


def test_relax_levels_follow_the_clock():
    assert [relax_level(t, POLICY) for t in (0, 9.99, 10, 19.99, 20, 29.99, 30)] == [
        EXACT,
        EXACT,
        TOPIC_DROPPED,
        TOPIC_DROPPED,
        NEIGHBOUR_DIFFICULTY,
        NEIGHBOUR_DIFFICULTY,
        TIMED_OUT,
    ]


def test_policy_refuses_out_of_order_times():
    with pytest.raises(ValueError, match="topic_relax_after <= difficulty_relax_after"):
        Policy(topic_relax_after=50, difficulty_relax_after=20, timeout_after=30)


def test_neighbouring_difficulties():
    assert allowed_difficulties("easy", NEIGHBOUR_DIFFICULTY) == ("easy", "medium")
    assert allowed_difficulties("medium", NEIGHBOUR_DIFFICULTY) == ("easy", "medium", "hard")
    assert allowed_difficulties("hard", TOPIC_DROPPED) == ("hard",)


def test_exact_agreement_needs_a_shared_topic_and_language():
    a = w("a", topics=("arrays", "graphs"))
    assert agreement(a, w("b", topics=("graphs",)), 0, 0).topics == ("graphs",)
    assert agreement(a, w("b", topics=("heaps",)), 0, 0) is None
    assert agreement(a, w("b", language="java"), 2, 2) is None
    assert agreement(a, w("b", user="u-a"), 0, 0) is None, "never with oneself"


def test_topic_dropped_by_one_side_uses_the_other_sides_topics():
    a, b = w("a", topics=("arrays",)), w("b", topics=("heaps",))
    found = agreement(a, b, TOPIC_DROPPED, EXACT)
    assert found is not None and found.topics == ("heaps",) and found.relax == TOPIC_DROPPED


def test_neighbouring_difficulty_only_within_both_criteria():
    a, b = w("a", difficulty="easy"), w("b", difficulty="medium")
    assert agreement(a, b, TOPIC_DROPPED, TOPIC_DROPPED) is None
    # The relaxed side accepts the other's difficulty; the exact side gets what it asked for.
    found = agreement(a, b, NEIGHBOUR_DIFFICULTY, EXACT)
    assert found is not None and found.difficulty == "medium"
    found = agreement(a, b, EXACT, NEIGHBOUR_DIFFICULTY)
    assert found is not None and found.difficulty == "easy"
    # easy and hard, both widened: medium is a neighbour of each.
    found = agreement(w("a", difficulty="easy"), w("b", difficulty="hard"), 2, 2)
    assert found is not None and found.difficulty == "medium"
    assert agreement(w("a", difficulty="easy"), w("b", difficulty="hard"), 2, 1) is None


def test_prefers_not_recently_met_then_proficiency_then_first_come():
    me = w("me", created=5, proficiency="advanced")
    old = w("old", created=1, proficiency="beginner")
    close = w("close", created=3, proficiency="advanced")
    met = w("met", created=0, proficiency="advanced")
    recently = {frozenset(("u-me", "u-met"))}
    chosen = choose_partner(
        me, [old, close, met], 5, POLICY, lambda a, b: frozenset((a, b)) in recently
    )
    assert chosen is not None and chosen[0].id == "close"
    # Same proficiency everywhere: first come, first served.
    chosen = choose_partner(w("me", created=5), [w("x", created=2), w("y", created=1)], 5, POLICY)
    assert chosen is not None and chosen[0].id == "y"
    # A recent partner is still better than nobody.
    chosen = choose_partner(me, [met], 5, POLICY, lambda a, b: True)
    assert chosen is not None and chosen[0].id == "met"


def test_prefers_an_exact_agreement_over_a_relaxed_one():
    me = w("me", created=15, topics=("graphs",))
    relaxed = w("relaxed", created=0, topics=("heaps",))  # waited 15 s: any topic
    exact = w("exact", created=14, topics=("graphs",))
    chosen = choose_partner(me, [relaxed, exact], 15, POLICY)
    assert chosen is not None and chosen[0].id == "exact"


def test_plan_pairs_each_ticket_once_and_times_out_the_old():
    tickets = [w(str(i), created=float(i)) for i in range(5)] + [w("old", created=-40)]
    decided = plan(tickets, 4.0, POLICY)
    assert [t.id for t in decided.timed_out] == ["old"]
    paired = [t.id for pair in decided.pairs for t in pair[:2]]
    assert sorted(paired) == ["0", "1", "2", "3"]


# --- state machine over the in-memory engine model ------------------------------------------

USERS = [f"s{i}" for i in range(8)]
TOPIC_CHOICES = ["arrays", "graphs", "heaps", "strings"]


class EngineModel(RuleBasedStateMachine):
    """Random enqueue / cancel / wait; the engine must never pair a ticket twice, never lose
    one, relax only in order and on time, and only pair what the levels allow."""

    def __init__(self) -> None:
        super().__init__()
        self.engine = InMemoryEngine(POLICY)
        self.now = 1000.0
        self.tickets: dict[str, Waiting] = {}
        self.levels: dict[str, int] = {}
        self.counter = 0
        self.matched_at: dict[str, float] = {}

    @rule(
        user=st.sampled_from(USERS),
        difficulty=st.sampled_from(DIFFICULTIES),
        topics=st.lists(st.sampled_from(TOPIC_CHOICES), min_size=1, max_size=2, unique=True),
        proficiency=st.sampled_from(["beginner", "intermediate", "advanced"]),
    )
    def enqueue(self, user, difficulty, topics, proficiency):
        self.counter += 1
        t = w(f"t{self.counter}", user, difficulty, topics, self.now, proficiency=proficiency)
        if user in self.engine.by_user:
            with pytest.raises(ValueError):
                self.engine.enqueue(t, self.now)
            return
        self.tickets[t.id] = t
        pair = self.engine.enqueue(t, self.now)
        if pair is not None:
            self._check_pair(*pair)

    @precondition(lambda self: bool(self.engine.waiting))
    @rule(data=st.data())
    def cancel(self, data):
        tid = data.draw(st.sampled_from(sorted(self.engine.waiting)))
        assert self.engine.cancel(tid)
        assert not self.engine.cancel(tid), "cancelling twice changes nothing"

    @rule(seconds=st.floats(min_value=0.0, max_value=12.0))
    def wait(self, seconds):
        self.now += seconds
        decided = self.engine.tick(self.now)
        for tid, level in decided.levels.items():
            assert level >= self.levels.get(tid, EXACT), "relaxation goes only forwards"
            self.levels[tid] = level
        for t in decided.timed_out:
            assert self.now - t.created >= POLICY.timeout_after, "timed out early"
        for a, b, _ in decided.pairs:
            self._check_pair(a.id, b.id)

    def _check_pair(self, a_id: str, b_id: str) -> None:
        a, b = self.tickets[a_id], self.tickets[b_id]
        for t in (a, b):
            assert t.id not in self.matched_at, "matched twice"
            self.matched_at[t.id] = self.now
        la = relax_level(self.now - a.created, POLICY)
        lb = relax_level(self.now - b.created, POLICY)
        found = agreement(a, b, la, lb)
        assert found is not None, "paired outside what their levels allow"
        assert a.username != b.username

    @invariant()
    def no_ticket_lost_and_one_open_ticket_per_user(self):
        assert set(self.engine.state) == set(self.tickets)
        waiting_users = [t.username for t in self.engine.waiting.values()]
        assert len(waiting_users) == len(set(waiting_users))
        for tid, state in self.engine.state.items():
            assert (state == "waiting") == (tid in self.engine.waiting)
            assert (state == "matched") == (tid in self.matched_at)

    @invariant()
    def nobody_waits_past_the_timeout_after_a_tick(self):
        for t in self.engine.waiting.values():
            # Enqueue does not time out; every wait() ticks, so the oldest can be at most as
            # old as the time since the last tick allows.
            assert self.now - t.created < POLICY.timeout_after + 12.0


EngineModel.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestEngineModel = EngineModel.TestCase


def test_matchmaker_settings_out_of_order_fail_naming_them(tmp_path):
    from traitlets import TraitError

    from jupyter_peerprep import db
    from jupyter_peerprep.hub.matching import Matchmaker

    engine = db.make_engine(f"sqlite:///{tmp_path}/x.sqlite")
    factory = db.session_factory(engine)
    with pytest.raises(TraitError, match="topic_relax_after <= difficulty_relax_after"):
        Matchmaker(session_factory=factory, topic_relax_after=100, timeout_after=50)
    with pytest.raises(TraitError, match=r"Matchmaker\.lease_seconds must be > 0"):
        Matchmaker(session_factory=factory, lease_seconds=0)
    engine.dispose()
