"""The time index (timed views, prefix aggregates) and explicit invalidation change no answer."""

from __future__ import annotations

import naive
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.analysis import analyse_query, program_from_source
from engine.backends.swipl.as_of_tables import KEPT_AS_OF
from engine.backends.swipl.backend import SwiplEngine
from engine.backends.swipl.thread import PrologThread
from engine.backends.swipl.time_index import prefix_shape, timed_views
from engine.lang import ast

PrologThread.shared()  # fails loudly if SWI-Prolog is missing

PROGRAM = """
.event fill(order: symbol, client: symbol, sym: symbol, side: symbol, qty: number, t: time)
.event price(sym: symbol, px: number, t: time)
.decl vip(client: symbol)

held(c, s) :- fill(_, c, s, _, _, _).
signed(o, c, s, q, t) :- fill(o, c, s, "buy", q, t).
signed(o, c, s, q, t) :- fill(o, c, s, "sell", x, t), q = -x.
big_fill(o, c) :- fill(o, c, _, _, q, _), q >= 50.
big_client(c) :- big_fill(_, c).
net(c, s, n) :- held(c, s), n = sum q : { signed(_, c, s, q, _) }.
bought(c, s, n) :- held(c, s), n = sum q : { fill(_, c, s, "buy", q, _) }.
fills(c, n) :- held(c, _), n = count : { fill(_, c, _, _, _, _) }.
smallest(c, m) :- held(c, _), m = min q : { fill(_, c, _, _, q, _) }.
largest(s, m) :- held(_, s), m = max q : { signed(_, _, s, q, _) }.
avg_px(s, m) :- price(s, _, _), m = mean p : { price(s, p, _) }.
last_px(s, p) :- price(s, p, t), t = max u : { price(s, _, u) }.
quiet(c) :- vip(c), !big_client(c).
everything(n) :- n = count : { fill(_, _, _, _, _, _) }.
"""
QUERIES = ["held(c, s)", "signed(o, c, s, q, t)", "big_client(c)", "net(c, s, n)",
           "bought(c, s, n)", "fills(c, n)", "smallest(c, m)", "largest(s, m)", "avg_px(s, m)",
           "last_px(s, p)", "quiet(c)", "everything(n)", 'net("c1", "X", n)']


def test_timed_views_and_prefix_aggregates_are_found():
    program = program_from_source(PROGRAM)
    assert set(timed_views(program)) == {"held", "signed", "big_fill", "big_client"}
    timed = {"fill", "price", *timed_views(program)}
    shapes = {}
    for rule in program.rules:
        bound: set[str] = set()
        for literal in rule.body:
            if isinstance(literal, ast.Atom):
                bound |= {a.name for a in literal.args if isinstance(a, ast.Var)}
            elif isinstance(literal, ast.Comparison):
                for side in (literal.left, literal.right):
                    for agg in ast.aggregates_in(side):
                        shapes[rule.head.relation] = prefix_shape(agg, bound, timed)
                bound |= {v.name for v in ast.literal_vars(literal)}
    assert shapes["net"].keys == ("c", "s") and shapes["net"].atom.relation == "signed"
    assert shapes["fills"].keys == ("c",)
    assert shapes["everything"].keys == ()
    assert shapes["last_px"] is not None and shapes["last_px"].keys == ("s",)


def test_an_aggregate_keyed_by_a_computed_value_is_not_indexed():
    program = program_from_source(
        ".event e(k: number, v: number, t: time)\n"
        "r(k, n) :- e(k, _, _), n = sum v : { e(j, v, _), j = k + 1 }.\n")
    query = analyse_query(program, "e(k, _, _), n = sum v : { e(j, v, _), j = k + 1 }")
    aggregate = next(a for lit in query.body if isinstance(lit, ast.Comparison)
                     for side in (lit.left, lit.right) for a in ast.aggregates_in(side))
    assert prefix_shape(aggregate, {"k"}, {"e"}) is None


fill_rows = st.lists(st.tuples(
    st.sampled_from(["o1", "o2", "o3", "o4", "o5", "o6"]), st.sampled_from(["c1", "c2", "c3"]),
    st.sampled_from(["X", "Y"]), st.sampled_from(["buy", "sell"]),
    st.integers(1, 80), st.integers(0, 30)), max_size=25)
price_rows = st.lists(st.tuples(st.sampled_from(["X", "Y"]), st.integers(90, 110),
                                st.integers(0, 30)), max_size=10)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fills=fill_rows, prices=price_rows, split=st.integers(0, 25),
       times=st.lists(st.integers(-1, 32), min_size=3, max_size=3))
def test_indexed_and_plain_evaluation_agree(fills, prices, split, times):
    program = program_from_source(PROGRAM)
    engines = [SwiplEngine(program),
               SwiplEngine(program, time_index=False),
               SwiplEngine(program, incremental=True)]
    try:
        for engine in engines:
            engine.assert_facts("vip", [("c1",), ("c3",)])
            # half the facts, queries that fill tables, then the rest (times out of order)
            engine.assert_facts("fill", fills[:split])
            engine.assert_facts("price", prices)
            for query in QUERIES[:4]:
                engine.query(query, as_of=times[0])
                engine.query(query)
            engine.assert_facts("fill", fills[split:])
        inputs = {"vip": [("c1",), ("c3",)], "fill": fills, "price": prices}
        for as_of in [None, *times]:
            oracle = naive.evaluate(program, inputs, as_of)
            for query in QUERIES:
                answers = [engine.query(query, as_of=as_of).rows for engine in engines]
                assert answers[0] == answers[1] == answers[2], (query, as_of)
                assert list(answers[0]) == naive.query(program, oracle, query), (query, as_of)
    finally:
        for engine in engines:
            engine.close()


def test_a_view_tuple_seen_late_at_an_earlier_time_moves_back():
    engine = SwiplEngine(program_from_source(PROGRAM))
    engine.assert_facts("fill", [("o1", "c1", "X", "buy", 5, 20)])
    assert engine.query("held(c, s)", as_of=10).rows == ()
    engine.assert_facts("fill", [("o2", "c1", "X", "sell", 2, 8)])
    assert engine.query("held(c, s)", as_of=10).rows == (("c1", "X"),)
    assert engine.query('net("c1", "X", n)', as_of=10).rows == ((-2,),)
    assert engine.query('net("c1", "X", n)').rows == ((3,),)
    engine.close()


def test_as_of_tables_beyond_the_kept_number_are_freed():
    engine = SwiplEngine(program_from_source(PROGRAM))
    engine.assert_facts("fill", [("o1", "c1", "X", "buy", 5, t) for t in range(40)])
    for t in range(40):
        assert engine.query('net("c1", "X", n)', as_of=t).rows == ((5 * (t + 1),),)
    tables = PrologThread.shared().request(
        f"tl_call_json((aggregate_all(count, current_table({engine.module}:_, _), N), "
        f"N =< {2 * KEPT_AS_OF}))")
    assert tables == {"ok": True}
    engine.close()


WINDOWED = """
.event order(id: symbol, client: symbol, qty: number, t: time)
velocity(c, t, n) :- order(_, c, _, t), n = count : { order(_, c, _, u), u > t - 100, u <= t }.
shares(c, t, q) :- order(_, c, _, t), q = sum x : { order(_, c, x, u), u >= t - 9, u < t }.
"""


def test_a_time_window_is_read_from_the_prefix_index_not_scanned():
    from engine.backends.swipl.compiler import compile_program

    program = program_from_source(WINDOWED)
    bodies = {}
    for rule in program.rules:
        bound = {"c", "t"}
        agg = next(lit.right for lit in rule.body
                   if isinstance(lit, ast.Comparison) and isinstance(lit.right, ast.Aggregate))
        bodies[rule.head.relation] = prefix_shape(agg, bound, {"order"}, {"order": 3})
    velocity, shares = bodies["velocity"], bodies["shares"]
    assert velocity.keys == ("c",) and velocity.conditions == ()
    assert [type(bound).__name__ for bound in velocity.window] == ["BinOp", "Var"]
    assert shares.window[0] is not None and shares.window[1] is not None
    text = compile_program(program, "windowed").text
    # each window read from the prefix index, in the tabled rules and in their untabled
    # form ('at:p', for `p @ t`)
    assert text.count("tl_window(") == 2 * 2 and "aggregate_all(" not in text


LIMITED = WINDOWED + """
.event account(client: symbol, window: number, t: time)
busy(c, t, n) :- account(c, w, _), order(_, c, _, t),
    n = count : { order(_, c, _, u), u > t - w, u <= t }, n > 2.
"""


def test_now_reads_windows_from_the_prefix_index_and_keeps_them_up_to_date():
    # Bottom-up "now" reads the same prefix indexes as the as-of rules (a scan per group
    # made issue 9's velocity_breach take 12 minutes on the default run); after each
    # batch its answers are the as-of rules' and the naive oracle's.
    program = program_from_source(LIMITED)
    engine = SwiplEngine(program)
    try:
        plan = engine.plan.text()
        assert "tl_window(" in plan and "aggregate_all(" not in plan  # full and incremental
        accounts = [("c1", 5, 0), ("c2", 50, 0)]
        orders = [(f"o{i}", f"c{1 + i % 2}", i % 7, (i * 37) % 120) for i in range(90)]
        engine.assert_facts("account", accounts)
        given = []
        for start in range(0, len(orders), 30):  # batches with times out of order
            batch = orders[start:start + 30]
            engine.assert_facts("order", batch)
            given += batch
            oracle = naive.evaluate(program, {"account": accounts, "order": given}, None)
            for query in ("velocity(c, t, n)", "shares(c, t, q)", "busy(c, t, n)"):
                now = engine.query(query).rows
                assert now == engine.query(query, as_of=10**9).rows, query
                assert list(now) == naive.query(program, oracle, query), query
    finally:
        engine.close()
