"""`p(…) @ t` on SWI-Prolog reads the time index untabled: no table per time, now or as of."""

from __future__ import annotations

from engine.analysis import program_from_source
from engine.backends.swipl.backend import SwiplEngine
from engine.backends.swipl.thread import PrologThread

PrologThread.shared()  # fails loudly if SWI-Prolog is missing

SOURCE = """
.event trade(id: symbol, c: symbol, q: number, t: time)
.decl traded(c: symbol)
traded(c) :- trade(_, c, _, _).
.decl position(c: symbol, q: number)
position(c, q) :- traded(c), q = sum x : { trade(_, c, x, _) }.
.decl after(id: symbol, c: symbol, q: number, t: time)
after(id, c, q, t) :- trade(id, c, _, t), position(c, q) @ t.
.decl link(a: symbol, b: symbol)
link(a, b) :- trade(_, a, _, t), trade(_, b, _, t), a != b.
.decl linked(a: symbol, b: symbol)
linked(a, b) :- link(a, b).
linked(a, c) :- linked(a, b), link(b, c).
.decl linked_at(id: symbol, b: symbol)
linked_at(id, b) :- trade(id, a, _, t), linked(a, b) @ t.
"""
TRADES = [(f"t{i}", f"c{i % 5}", 1 + i % 3, i) for i in range(300)]


def _tables_at_most(engine: SwiplEngine, limit: int) -> bool:
    answer = PrologThread.shared().request(
        f"tl_call_json((aggregate_all(count, current_table({engine.module}:_, _), N), "
        f"N =< {limit}))")
    return answer == {"ok": True}


def test_a_relation_read_at_each_trade_is_compiled_untabled():
    engine = SwiplEngine(program_from_source(SOURCE))
    try:
        text = engine.compiled.text
        assert "'at:position'(G1, V_c, V_q)" in text  # after/4 reads position untabled
        assert "'t:linked'(G1, V_a, V_b)" in text  # a recursive relation keeps its tables
        assert "'at:linked'" not in text
    finally:
        engine.close()


def test_position_at_each_trade_builds_no_table_per_time():
    engine = SwiplEngine(program_from_source(SOURCE))
    try:
        engine.assert_facts("trade", TRADES)
        now = engine.query("after(id, c, q, t)").rows
        assert len(now) == len(TRADES)
        assert dict((row[0], row[2]) for row in now)["t7"] == sum(
            q for _, c, q, t in TRADES if c == "c2" and t <= 7)
        past = engine.query("after(id, c, q, t)", as_of=150).rows
        assert past == tuple(row for row in now if row[3] <= 150)
        assert engine.query('trade(id, "c1", _, t), position("c1", q) @ t',
                            as_of=100).rows[-1] == ("t96", 96, sum(
                                q for _, c, q, t in TRADES if c == "c1" and t <= 96))
        # a few tables (after/4 as of 150 and its helpers), not one per trade
        assert _tables_at_most(engine, 8)
        engine.query("linked_at(id, b)")  # a recursive relation: tables per time, as said
        assert not _tables_at_most(engine, 100)
    finally:
        engine.close()
