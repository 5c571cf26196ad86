"""Bottom-up evaluation of "now" on SWI-Prolog: same answers as the tabled path and the oracle."""

from __future__ import annotations

import sys
from pathlib import Path

import naive
import pytest

from engine.analysis import program_from_source
from engine.backends.swipl.backend import SwiplEngine
from engine.errors import QueryError, QueryTimeout

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))
from bench.pointsto import DERIVED, PROGRAM, generate  # noqa: E402

LATER = 10**12  # an as-of time after every fact: answered by the tabled path


def _all(program, name: str) -> str:
    return f"{name}({', '.join(f'c{i}' for i in range(program.relations[name].arity))})"


@pytest.fixture(scope="module")
def pointsto():
    """The hmmer-shaped points-to program with 600 generated facts, evaluated once."""
    program = program_from_source(PROGRAM, "pointsto.dl")
    facts = generate(600, seed=5)
    engine = SwiplEngine(program)
    for relation, rows in facts.items():
        engine.assert_facts(relation, rows)
    yield program, facts, engine
    engine.close()


def test_recursive_program_matches_the_naive_oracle(pointsto):
    program, facts, engine = pointsto
    expected = naive.evaluate(program, facts)
    for name in DERIVED:
        assert set(engine.query(_all(program, name), timeout=None).rows) == expected[name], name
    for name in ("is_ptr", "heap_ptr", "is_reachable", "flows", "call_edge", "null_deref"):
        assert expected[name], f"{name} is empty: the test would show nothing"


def test_recursive_program_matches_the_tabled_path(pointsto):
    program, _, engine = pointsto
    for name in ("is_ptr", "is_reachable", "call_edge", "local_object", "dead_function"):
        now = engine.query(_all(program, name), timeout=None).rows
        assert engine.query(_all(program, name), as_of=LATER, timeout=None).rows == now, name


def test_new_facts_are_evaluated_before_the_next_answer(pointsto):
    program, _, engine = pointsto
    before = set(engine.query("is_ptr(v, o)").rows)
    engine.assert_facts("alloc", [("f0.fresh", "f0.fresh_object")])
    engine.assert_facts("assign", [("f0.fresh2", "f0.fresh")])
    after = set(engine.query("is_ptr(v, o)").rows)
    assert after - before == {("f0.fresh", "f0.fresh_object"), ("f0.fresh2", "f0.fresh_object")}


def test_the_plan_follows_the_statistics():
    source = """
    .decl big(a: number, b: number)
    .decl small(b: number)
    both(a, b) :- big(a, b), small(b).
    """
    engine = SwiplEngine(program_from_source(source))
    try:
        (rule,) = engine.program.rules_for("both")
        assert [lit.relation for lit in engine.plan.plans[id(rule)][0][1]] == ["big", "small"]
        engine.assert_facts("big", [(i, i % 50) for i in range(2000)])
        engine.assert_facts("small", [(3,)])
        assert engine.query("both(a, b)").rows == tuple((i, 3) for i in range(3, 2000, 50))
        (rule,) = engine.program.rules_for("both")
        assert [lit.relation for lit in engine.plan.plans[id(rule)][0][1]] == ["small", "big"]
    finally:
        engine.close()


def test_an_atom_that_binds_nothing_is_read_once_but_counted_whole():
    # trade_volume's shape: the first atom only says that s has a trade; derived key by key
    # it read every trade of s, each computing the same sum
    source = """
    .event trade(id: number, s: symbol, q: number, t: time)
    .decl volume(s: symbol, v: number)
    volume(s, v) :- trade(_, s, _, _), v = sum q : { trade(_, s, q, _) }.
    .decl traded(s: symbol, id: number)
    traded(s, id) :- trade(id, s, _, _).
    .decl trades(s: symbol, n: number)
    trades(s, n) :- volume(s, _), n = count : { traded(s, _), volume(s, _) }.
    """
    engine = SwiplEngine(program_from_source(source))
    try:
        engine.assert_facts("trade", [(i, "abc"[i % 3], i, i) for i in range(30)])
        assert engine.query("volume(s, v)").rows == (("a", 135), ("b", 145), ("c", 155))
        engine.assert_facts("trade", [(30, "a", 5, 30)])
        assert engine.query("volume(s, v)").rows == (("a", 140), ("b", 145), ("c", 155))
        assert engine.query("trades(s, n)").rows == (("a", 11), ("b", 10), ("c", 10))
        clauses = engine.plan.text().split("\n'")
        assert "once(( 'e:trade'(_, K0, _" in next(
            c for c in clauses if c.startswith("bu:key:volume'(K0"))
        assert "once(( 'm:volume'(K0, _) ))" in next(
            c for c in clauses if c.startswith("bu:key:trades'(K0"))
    finally:
        engine.close()


def test_statistics_of_events_kept_from_their_first_sample_equal_a_fresh_sample():
    source = """
    .event hit(k: number, v: number, t: time)
    seen(k) :- hit(k, _, _).
    """
    engine = SwiplEngine(program_from_source(source))
    stats = f"tl_stats({engine.module})"
    fresh = f"tl_call_json(retractall(tempolog_rt:tl_sample_kept({engine.module}:_, _)))"
    try:
        for start in (0, 2_500, 5_000):  # the first 2,000 of them are sampled, then kept
            engine.assert_facts("hit", [(i % 97, i % 13, i) for i in range(start, start + 2_500)])
            kept = engine._prolog.request(stats)
            engine._prolog.request(fresh)
            assert kept == engine._prolog.request(stats)
            assert kept["e:hit"]["rows"] == start + 2_500
            assert kept["e:hit"]["distinct"][:2] == [97, 13]
    finally:
        engine.close()


def test_an_interrupted_evaluation_is_redone():
    source = """
    .decl edge(a: number, b: number)
    path(a, b) :- edge(a, b).
    path(a, c) :- path(a, b), edge(b, c).
    """
    engine = SwiplEngine(program_from_source(source))
    try:
        engine.assert_facts("edge", [(i, i + 1) for i in range(800)])
        with pytest.raises(QueryTimeout):
            engine.query("n = count : { path(_, _) }", timeout=0.05)
        assert engine.query("n = count : { path(_, _) }", timeout=None).rows == \
            ((800 * 801 // 2,),)
    finally:
        engine.close()


def test_running_out_of_table_space_names_it():
    source = """
    .decl edge(a: number, b: number)
    path(a, b) :- edge(a, b).
    path(a, c) :- path(a, b), edge(b, c).
    """
    engine = SwiplEngine(program_from_source(source))
    prolog = engine._prolog
    try:
        engine.assert_facts("edge", [(i, i + 1) for i in range(400)])
        prolog.request("tl_call_json(set_prolog_flag(table_space, 2000000))")
        with pytest.raises(QueryError) as raised:
            engine.query("path(a, b)", as_of=LATER, timeout=None)
        assert raised.value.code == "resource-exhausted"
        assert "table space" in str(raised.value)
    finally:
        prolog.request("tl_call_json(set_prolog_flag(table_space, 1073741824))")
        engine.close()
