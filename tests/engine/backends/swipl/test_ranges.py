"""Ranges read value by value (ranges.py) give the answers of reading every fact and testing it."""

from __future__ import annotations

import naive
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.analysis import program_from_source
from engine.backends.swipl import ranges
from engine.backends.swipl.backend import SwiplEngine
from engine.backends.swipl.compiler import compile_program
from engine.lang import ast
from engine.lang.parser import parse_query

# A window whose keys a join finds (burst: seen(c, t) for t in [u, u + 2] of a new sub at u),
# a range on both sides through arithmetic (near), an event's time bounded only from below
# (since: up to the latest time stored), a range of a derived relation on both sides (after)
# and from below (late: up to the latest time of any event, or of a fact given to `seen`),
# and one in an aggregate's helper (spread: loaded once, so planned without statistics).
SOURCE = """
.event sub(o: symbol, c: symbol, q: number, t: time)
.decl seen(c: symbol, t: time)
seen(c, t) :- sub(_, c, _, t).
.decl burst(c: symbol, n: number, t: time)
burst(c, n, t) :- seen(c, t), n = count : { sub(_, c, _, u), u > t - 3, u <= t }, n > 1.
.decl near(a: symbol, b: symbol)
near(a, b) :- sub(a, c, _, t), sub(b, c, _, u), u >= t - 1, u <= t + 1, a != b.
.decl since(o: symbol, t: time)
since(o, t) :- seen(c, _), sub(o, c, _, t), t >= 3.
.decl after(c: symbol, t: time)
after(c, t) :- sub(_, c, q, u), seen(c, t), t > u, t < u + q.
.decl late(c: symbol, t: time)
late(c, t) :- sub(_, c, _, u), seen(c, t), t >= u + 1.
.decl spread(c: symbol, n: number)
spread(c, n) :- seen(c, s), n = sum t : { after(c, t), t >= s, t <= s + 2 }.
"""
PROGRAM = program_from_source(SOURCE, "ranges.dl")
DERIVED = [n for n, r in PROGRAM.relations.items() if not r.is_event]


def _show(term) -> str | None:
    if term is None:
        return None
    if isinstance(term, ast.BinOp):
        return f"{_show(term.left)} {term.op} {_show(term.right)}"
    return term.name if isinstance(term, ast.Var) else str(term.value)


def _bounds(body: str, var: str, bound: set[str]):
    return tuple(map(_show, ranges.bounds(var, parse_query(body), bound)))


def test_bounds_are_found_through_plus_and_minus_and_either_side():
    assert _bounds("u > t - w, u <= t", "t", {"u", "w"}) == ("u", "u + w")
    assert _bounds("t + 2 >= a, 5 > t", "t", {"a"}) == ("a - 2", "5")
    assert _bounds("2 + t < b", "t", {"b"}) == (None, "b - 2")


def test_bounds_need_values_known_before_the_atom():
    assert _bounds("t > x, t < y", "t", {"x"}) == ("x", None)  # y is not bound yet
    assert _bounds("t = x, t != y, t * 2 < x", "t", {"x", "y"}) == (None, None)
    assert _bounds("t > t - 1", "t", set()) == (None, None)
    assert _bounds("t < count : { seen(_, u) }", "t", set()) == (None, None)


@pytest.fixture
def eager(monkeypatch):
    """Ranges read value by value whatever the statistics say, so that small facts use them."""
    monkeypatch.setattr(ranges, "COST_PER_VALUE", 1e-3)
    monkeypatch.setattr(ranges, "MIN_LIMIT", 0)


def _answers(engine) -> dict[str, set]:
    engine._planned_rows = None  # plan again from this tick's statistics
    return {name: set(engine.query(
        f"{name}({', '.join(f'c{i}' for i in range(PROGRAM.relations[name].arity))})",
        timeout=None).rows) for name in DERIVED}


def test_the_plan_reads_ranges_value_by_value(eager):
    engine = SwiplEngine(PROGRAM)
    try:
        engine.assert_many({"sub": ([("o1", "c1", 1, 1), ("o2", "c1", 2, 2)], None)})
        _answers(engine)
        text = engine.plan.text()
        assert text.count("between(") >= 4
        # since's event time, bounded from below only: up to the latest time of sub stored
        assert "'mx:sub'(" in text
    finally:
        engine.close()


def test_without_statistics_nothing_is_read_by_range():
    engine = SwiplEngine(PROGRAM)
    try:
        assert "between(" not in engine.plan.text()
    finally:
        engine.close()


orders = st.sampled_from(["o1", "o2", "o3"])
fact = st.tuples(orders, st.sampled_from(["c1", "c2"]), st.integers(1, 3))
ticks = st.lists(st.lists(st.tuples(fact, st.integers(0, 2)), min_size=1, max_size=4),
                 min_size=2, max_size=7)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(ticks, st.booleans())
def test_every_step_equals_the_oracle_with_ranges_read_value_by_value(eager, stream, given):
    incremental, full = SwiplEngine(PROGRAM), SwiplEngine(PROGRAM, now_incremental=False)
    facts: dict[str, list[tuple]] = {"sub": [], "seen": [("c1", 20)] if given else []}
    try:
        if given:  # a time later than every event's, given to a view
            for engine in (incremental, full):
                engine.assert_many({"seen": (facts["seen"], None)})
        for t, tick in enumerate(stream, 1):
            rows = [(*args, max(1, t - lag)) for args, lag in tick]  # some late
            for engine in (incremental, full):
                engine.assert_many({"sub": (rows, None)})
            facts["sub"].extend(rows)
            expected = naive.evaluate(PROGRAM, facts)
            got = _answers(incremental)
            assert got == _answers(full) == {n: expected[n] for n in DERIVED}, f"tick {t}"
            # a query's own ranges, from below only: up to the latest time stored or given
            for text, name, column in (("sub(o, c, q, t), t >= 2", "sub", 3),
                                       ("late(c, t), t >= 3", "late", 1)):
                want = {row for row in expected[name] if row[column] >= (2 if column == 3 else 3)}
                assert set(incremental.query(text, timeout=None).rows) == want, text
        assert "between(" in incremental.plan.text()
    finally:
        for engine in (incremental, full):
            engine.close()


def test_columns_of_event_times_are_those_filled_from_an_event_time():
    program = program_from_source(SOURCE + """
.decl later(c: symbol, t: time)
later(c, t) :- sub(_, c, _, u), t = u + 5.
.decl fixed(c: symbol, t: time)
fixed(c, t) :- seen(c, t).
fixed("c9", 7).
""", "columns.dl")
    kinds = compile_program(program, "columns_test").kinds
    columns = ranges.time_columns(program, kinds)
    assert columns["sub"] == {3} and columns["seen"] == {1} and columns["late"] == {1}
    assert columns["fixed"] == {1}  # its own fact is a given one: 'tl:latest' counts it
    assert "later" not in columns and "spread" not in columns
