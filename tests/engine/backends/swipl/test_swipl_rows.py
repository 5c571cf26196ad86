"""Answer rows in bulk (engine/backends/swipl/rows.py): exact types, the contract's order."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.analysis import program_from_source
from engine.backends.swipl.backend import SwiplEngine
from engine.backends.swipl.rows import answer_rows
from engine.engine import sorted_rows

PROGRAM = program_from_source(
    ".decl p(s: symbol, n: number, m: money, f: float)\n"
    "q(s, n, m, f) :- p(s, n, m, f).\n"
    "r(n) :- p(_, n, _, _).\n"
    "e() :- p(_, _, _, _).\n")

symbols = st.text(st.characters(blacklist_categories=["Cs"]), max_size=12)
integers = st.integers(-(2 ** 80), 2 ** 80)
floats = st.floats(allow_nan=False, allow_infinity=False)
rows = st.lists(st.tuples(symbols, integers, integers, floats), max_size=30)


def engine_with(facts):
    engine = SwiplEngine(PROGRAM)
    engine.assert_facts("p", facts)
    return engine


@settings(max_examples=60, deadline=None)
@given(facts=rows)
def test_rows_come_back_exactly_as_stored_in_the_one_order(facts):
    engine = engine_with(facts)
    try:
        answer = engine.query("q(s, n, m, f)").rows
    finally:
        engine.close()
    expected = sorted_rows((s, n, m, float(f)) for s, n, m, f in facts)
    assert list(answer) == expected
    for got, want in zip(answer, expected):
        assert [type(v) for v in got] == [str, int, int, float]
        assert math.copysign(1, got[3]) == math.copysign(1, want[3])  # -0.0 stays -0.0


def test_of_zero_and_negative_zero_one_row_comes_back_in_either_order():
    # 0.0 == -0.0: the rows are one answer; which one must not depend on arrival order
    for facts in ([("", 0, 0, 0.0), ("", 0, 0, -0.0)], [("", 0, 0, -0.0), ("", 0, 0, 0.0)]):
        engine = engine_with(facts)
        try:
            (row,) = engine.query("q(s, n, m, f)").rows
        finally:
            engine.close()
        assert [row] == sorted_rows(facts) and math.copysign(1, row[3]) == -1


def test_quotes_escapes_unicode_and_big_numbers():
    facts = [("it's \"q\" \\ \n\t\x01", 2 ** 70, -(2 ** 70), 0.1 + 0.2),
             ("é😀中", -1, 123_456_789, 1e-320), ("", 0, 0, 1.7976931348623157e308)]
    engine = engine_with(facts)
    try:
        assert set(engine.query("q(s, n, m, f)").rows) == set(facts)
        assert engine.query("r(n)").rows == ((-1,), (0,), (2 ** 70,))
        assert engine.query("e()").rows == ((),)
        assert engine.query("q(s, n, m, f)", limit=1).rows == (("", 0, 0, 1.7976931348623157e308),)
        assert engine.query('q("none", n, m, f)').rows == ()
    finally:
        engine.close()


def test_answer_rows_matches_sorted_rows_and_falls_back_for_mixed_columns():
    plain = [["b", 2], ["a", 10], ["a", 2]]
    assert answer_rows(plain) == sorted_rows(plain) == [("a", 2), ("a", 10), ("b", 2)]
    mixed = [["x"], [3], [1.5]]  # numbers before symbols, as in Prolog's standard order
    assert answer_rows(mixed) == sorted_rows(mixed) == [(1.5,), (3,), ("x",)]
    assert answer_rows([[1], [1.0], [2]]) == [(1,), (2,)]  # equal in Python: one row
