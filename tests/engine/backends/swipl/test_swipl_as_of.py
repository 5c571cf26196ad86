"""`p(…) @ t` on SWI-Prolog reads the time index untabled: no table per time, now or as of."""

from __future__ import annotations

from engine.analysis import program_from_source
from engine.backends.swipl.backend import SwiplEngine
from engine.backends.swipl.bottomup import bottom_up_plan
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


def test_new_events_under_at_derive_again_only_the_tuples_from_their_time_on():
    program = program_from_source(SOURCE)
    incremental, full = SwiplEngine(program), SwiplEngine(program, now_incremental=False)
    try:
        plan = bottom_up_plan(program, incremental.compiled.kinds).text()
        # after/4's head holds the `@` time; linked_at/2's does not: derived in full
        assert "'bu:range_step:after'" in plan and "'bu:range_step:linked_at'" not in plan
        batches = [TRADES[:100], TRADES[150:200], TRADES[100:150],  # late: before 150
                   [("x1", "c1", 50, 120), ("x2", "c9", 1, 299)],
                   [("x3", "c0", 7, 5)]]  # at the tick of t5, also c0's: t5's changes
        for number, batch in enumerate(batches):
            for engine in (incremental, full):
                engine.assert_facts("trade", batch)
            state = f"tl_call_json(nb_current('bu:{incremental.module}', delta))"
            # after the first evaluation, the next answer is an incremental step
            assert incremental._prolog.request(state)["ok"] == (number > 0)
            for query in ("after(id, c, q, t)", "linked_at(id, b)"):
                assert incremental.query(query).rows == full.query(query).rows, number
        answers = dict(((row[0], row[1]), row[2])
                       for row in incremental.query("after(id, c, q, t)").rows)
        assert answers[("t5", "c0")] == answers[("x3", "c0")] == 1 + 3 + 7  # t0, t5, x3
    finally:
        incremental.close()
        full.close()


def test_tables_that_at_makes_for_now_are_invalidated_by_new_facts():
    engine = SwiplEngine(program_from_source(SOURCE))
    try:
        engine.assert_facts("trade", [("a", "c1", 1, 1), ("b", "c2", 1, 1), ("c", "c3", 1, 5)])
        assert engine.query('linked_at("c", b)').rows == ()
        pairs = {row[1:] for row in engine.query("t = 5, linked(a, b) @ t").rows}
        assert pairs == {("c1", "c2"), ("c2", "c1"), ("c1", "c1"), ("c2", "c2")}
        engine.assert_facts("trade", [("d", "c2", 1, 4), ("e", "c3", 1, 4)])  # no as-of asked
        assert engine.query('linked_at("c", b)').rows == (("c1",), ("c2",), ("c3",))
        assert ("c1", "c3") in {row[1:] for row in engine.query("t = 5, linked(a, b) @ t").rows}
    finally:
        engine.close()
