"""As-of tables under appends: new facts drop only the tables of their time and later."""

from __future__ import annotations

from pathlib import Path

from engine.analysis import load_program, program_from_source
from engine.backends.swipl.backend import SwiplEngine
from tests.engine.backends.swipl.test_incremental_now import tick_facts

TRADING = Path(__file__).resolve().parents[4] / "rules" / "trading.dl"

SOURCE = """
.event price(s: symbol, p: number, t: time)
.decl listed(s: symbol)
.decl last_price(s: symbol, p: number)
last_price(s, p) :- price(s, p, t), t = max u : { price(s, _, u) }.
.decl quoted(s: symbol, p: number)
quoted(s, p) :- listed(s), last_price(s, p).
"""


def _tables(engine: SwiplEngine, as_of: int) -> int:
    """How many tables of `last_price` as of `as_of` the engine holds."""
    goal = (f"tl_call_json(( '$tbl_local_variant_table'(V), "
            f"aggregate_all(count, trie_gen(V, {engine.module}:'t:last_price'({as_of}, _, _), _),"
            f" N), N > 0 ))")
    return engine._prolog.request(goal)["ok"]


def test_new_facts_keep_the_tables_of_earlier_times_and_drop_later_ones():
    engine = SwiplEngine(program_from_source(SOURCE))
    try:
        engine.assert_facts("listed", [("A",)])
        engine.assert_facts("price", [("A", 1, 10), ("A", 2, 20)])
        assert engine.query("quoted(s, p)", as_of=15).rows == (("A", 1),)
        assert engine.query("quoted(s, p)", as_of=25).rows == (("A", 2),)
        engine.assert_facts("price", [("A", 3, 22)])  # later than 15, earlier than 25
        assert _tables(engine, 15) and not _tables(engine, 25)
        assert engine.query("quoted(s, p)", as_of=15).rows == (("A", 1),)
        assert engine.query("quoted(s, p)", as_of=25).rows == (("A", 3),)
        engine.assert_facts("price", [("A", 0, 12)])  # out of time order: before 15
        assert not _tables(engine, 15)
        assert engine.query("quoted(s, p)", as_of=15).rows == (("A", 0),)
        assert engine.query("quoted(s, p)", as_of=11).rows == (("A", 1),)
        engine.assert_facts("listed", [("B",)])  # no time: holds at every time
        engine.assert_facts("price", [("B", 7, 5)])
        assert not _tables(engine, 11)
        assert engine.query("quoted(s, p)", as_of=11).rows == (("A", 1), ("B", 7))
    finally:
        engine.close()


def _answers(engine: SwiplEngine, times: list[int]) -> dict:
    program = engine.program
    return {(name, t): engine.query(
        f"{name}({', '.join(f'c{i}' for i in range(rel.arity))})", as_of=t, timeout=None).rows
        for t in times for name, rel in program.relations.items() if not rel.is_event}


def test_kept_tables_answer_as_tables_dropped_whole_over_the_shipped_rules():
    """Over a simulation, tick by tick: as of times before, at and after each tick's, the
    engine that keeps earlier times' tables answers every relation as the one that drops
    them all."""
    program = load_program([TRADING])
    by_time = SwiplEngine(program)
    whole = SwiplEngine(program, invalidate_by_time=False)
    try:
        asked = 0
        for step, batch in enumerate(tick_facts(by_time, 60)):
            if not batch:
                continue
            for engine in (by_time, whole):
                engine.assert_many(batch)
            if step % 6 == 5:
                times = [max(1, step - 4), step - 1, step, step + 3]
                assert _answers(by_time, times) == _answers(whole, times), f"tick {step}"
                asked += 1
        assert asked >= 8
        final = _answers(by_time, [30, 59])
        assert final[("pending_order", 30)] and final[("current_position", 59)]
    finally:
        by_time.close()
        whole.close()
