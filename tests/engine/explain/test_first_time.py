"""The first time an invariant broke is exact for invariants that heal (aggregates,
negation), where a bisection lands on a later breach; compared with a per-tick scan on
random histories; both backends."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.explain.timeline import first_time, first_true
from engine.explain.unfold import is_monotone, unfold
from engine.lang import pretty

# A level whose latest value counts; an account is flagged while its latest flag event is
# a raise (a lower, later one clears it). Both heal.
RULES = """
.event level(account: symbol, value: number, t: time)
.event flag(account: symbol, raised: number, t: time)
.decl latest(account: symbol, value: number)
latest(a, v) :- level(a, v, t), t = max u : { level(a, _, u) }.
.decl flagged(account: symbol)
flagged(a) :- flag(a, 1, t), t = max u : { flag(a, _, u) }.
.decl cleared(account: symbol)
cleared(a) :- level(a, _, _), !flagged(a).
.never over_limit: latest(a, v), v > 100.
.never over_limit_unflagged: latest(a, v), v > 100, cleared(a).
.never ever_big: level(a, v, _), v > 100.
"""

# Breached at t=3, restored at 5, breached again at 9 and still now.
HEALING = [("a", 50, 1), ("b", 10, 2), ("a", 150, 3), ("b", 10, 4), ("a", 80, 5),
           ("b", 10, 6), ("b", 10, 7), ("b", 10, 8), ("a", 120, 9), ("b", 10, 10)]


def invariant(engine, name: str):
    return next(i for i in engine.program.invariants if i.name == name)


def search(engine, name: str, after=None, upto=None):
    body = invariant(engine, name).body
    text = pretty.body(body)
    before = set(engine.query(text, as_of=after).rows) if after is not None else set()

    def holds(time: int) -> bool:
        return any(row not in before for row in engine.query(text, as_of=time).rows)

    columns = engine.query(text).columns
    return first_time(engine, body, holds, columns=columns, before=before, after=after,
                      upto=upto), holds


def scan(holds, times) -> int | None:
    return next((t for t in times if holds(t)), None)


def test_a_healed_breach_is_the_first_violation_not_the_current_one(engine_factory):
    engine = engine_factory(RULES, {"level": HEALING})
    found, holds = search(engine, "over_limit")
    assert first_true(range(1, 11), holds) == 9  # what a bisection over the ticks finds
    assert found.time == scan(holds, range(0, 11)) == 3
    assert found.how == "witnesses"
    assert not is_monotone(engine.program, invariant(engine, "over_limit").body)
    report = {r.name: r for r in engine.check().results}["over_limit"]
    assert report.first_time == 3 and report.first_answer == ("a", 150)
    assert report.answers == (("a", 120),)  # the violation now is the later one


def test_a_monotone_invariant_is_answered_from_its_derivations(engine_factory):
    engine = engine_factory(RULES, {"level": HEALING})
    body = invariant(engine, "ever_big").body
    assert is_monotone(engine.program, body) and unfold(engine.program, body).exact
    found, holds = search(engine, "ever_big")
    assert (found.time, found.how, found.questions) == (3, "derivations", 0)
    assert search(engine, "ever_big", after=3)[0].time == 9  # (a, 120) is new after t=3


def test_the_loosened_bound_is_scanned_past_when_it_is_not_yet_a_breach(engine_factory):
    # a exceeds the limit at t=3 while flagged; it is cleared only at t=6, and healed at 7.
    engine = engine_factory(RULES, {
        "level": [("a", 50, 1), ("a", 150, 3), ("a", 80, 7), ("a", 130, 12)],
        "flag": [("a", 1, 2), ("a", 0, 6), ("a", 1, 8), ("a", 0, 11)]})
    found, holds = search(engine, "over_limit_unflagged")
    assert found.time == scan(holds, range(0, 13)) == 6 and found.how == "witnesses"
    assert search(engine, "over_limit_unflagged", after=6)[0].time == 12


histories = st.lists(st.tuples(st.sampled_from(["a", "b"]), st.integers(0, 200),
                               st.integers(1, 30)), min_size=1, max_size=12)
flags = st.lists(st.tuples(st.sampled_from(["a", "b"]), st.integers(0, 1),
                           st.integers(1, 30)), max_size=8)


@pytest.mark.parametrize("name", ["over_limit", "over_limit_unflagged", "ever_big"])
@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(levels=histories, flagged=flags, since=st.sampled_from([None, 5, 15]))
def test_first_times_agree_with_a_per_tick_scan(engine_factory, name, levels, flagged, since):
    engine = engine_factory(RULES, {"level": levels, "flag": flagged})
    found, holds = search(engine, name, after=since)
    start = 0 if since is None else since + 1
    if holds(30):  # check only searches a broken invariant
        assert found.time == scan(holds, range(start, 31))


def test_diff_gives_the_first_time_an_answer_came_or_went(engine_factory):
    # (a, 150) is an answer over [3, 5) and [7, 9): gone at 5 first, back at 7, gone at 9.
    levels = [("a", 50, 1), ("a", 150, 3), ("b", 10, 4), ("a", 80, 5), ("b", 10, 6),
              ("a", 150, 7), ("b", 10, 8), ("a", 90, 9), ("b", 10, 10)]
    engine = engine_factory(RULES, {"level": levels})
    added = engine.diff("latest(a, v), v > 100", from_time=1, to_time=8)
    assert [(c.bindings, c.time) for c in added.added] == [({"a": "a", "v": 150}, 3)]
    removed = engine.diff("latest(a, v), v > 100", from_time=3, to_time=10)
    assert [(c.bindings, c.time) for c in removed.removed] == [({"a": "a", "v": 150}, 5)]
