"""As-of tables under appends: new facts drop only the tables of their time and later."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import QueryTimeout
from engine.analysis import load_program, program_from_source
from engine.backends.swipl.as_of_tables import KEPT_AS_OF
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
    engine = SwiplEngine(program_from_source(SOURCE), untabled_budget=None)  # tables only
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
    by_time = SwiplEngine(program, untabled_budget=None)  # answered from tables only
    whole = SwiplEngine(program, invalidate_by_time=False, untabled_budget=None)
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


def _queries(program, answers: dict) -> list[str]:
    """Each derived relation asked with nothing bound, with each one of its columns bound
    and with its first two bound, to values it holds (as the service's point queries are)."""
    texts = []
    for name, rel in program.relations.items():
        if rel.is_event:
            continue
        free = [f"c{i}" for i in range(rel.arity)]
        texts.append(f"{name}({', '.join(free)})")
        modes = [{i} for i in range(rel.arity)] + [{0, 1}] * (rel.arity > 2)
        for row in answers.get(name, ())[:2]:
            for columns in modes:
                if all(isinstance(row[i], (str, int)) for i in columns):
                    args = [(f'"{v}"' if isinstance(v, str) else str(v)) if i in columns
                            else free[i] for i, v in enumerate(row)]
                    texts.append(f"{name}({', '.join(args)})")
    return texts


def test_untabled_forms_answer_as_tables_over_the_shipped_rules_at_many_times():
    """Every derived relation of rules/trading.dl, with nothing bound and with its first
    columns bound, as of many times: the moded untabled forms (never falling back to
    tables) answer as the tables do."""
    program = load_program([TRADING])
    tabled = SwiplEngine(program, untabled_budget=None)
    untabled = SwiplEngine(program, untabled_budget=10**15)
    try:
        for batch in tick_facts(tabled, 80):
            for engine in (tabled, untabled):
                engine.assert_many(batch)
        now = {name: tabled.query(text, timeout=None).rows for name, text in (
            (n, f"{n}({', '.join(f'c{i}' for i in range(r.arity))})")
            for n, r in program.relations.items() if not r.is_event)}
        texts = _queries(program, now)
        assert len(texts) > 200
        texts.append('pending_order(o, "client-3", "AAPL", s, q, p)')
        for t in (3, 17, 40, 41, 66, 79, 2**62):
            for text in texts:
                expected = tabled.query(text, as_of=t, timeout=None).rows
                assert untabled.query(text, as_of=t, timeout=None).rows == expected, (text, t)
        moded = untabled.compiled.module
        assert untabled._prolog.request(  # they were the moded forms, and made no table
            f"tl_call_json((current_predicate({moded}:Name/7), "
            f"sub_atom(Name, 0, _, _, 'am:pending_order:')))")["ok"]
        assert not untabled._prolog.request(
            f"tl_call_json(current_table({moded}:'t:pending_order'(_, _, _, _, _, _, _), _))"
        )["ok"]
    finally:
        tabled.close()
        untabled.close()


def test_an_untabled_answer_past_its_budget_is_answered_from_tables():
    program = load_program([TRADING])
    engine = SwiplEngine(program, untabled_budget=1)
    try:
        for batch in tick_facts(engine, 40):
            engine.assert_many(batch)
        rows = engine.query("pending_order(o, c, s, d, q, p)", as_of=30).rows
        assert rows == engine.query("pending_order(o, c, s, d, q, p) @ 30").rows
        assert engine._prolog.request(
            f"tl_call_json(current_table({engine.module}:'t:pending_order'(30, _, _, _, _, _, _),"
            f" _))")["ok"]
    finally:
        engine.close()


def test_a_call_whose_table_is_complete_reads_it_not_the_untabled_form():
    engine = SwiplEngine(program_from_source(SOURCE), untabled_budget=1)
    complete = (f"tl_call_json(tempolog_rt:tl_complete_table("
                f"{engine.module}:'t:quoted'(15, 'A', _)))")
    try:
        engine.assert_facts("listed", [("A",)])
        engine.assert_facts("price", [("A", 1, 10), ("A", 2, 20)])
        assert not engine._prolog.request(complete)["ok"]
        assert engine.query('quoted("A", p)', as_of=15).rows == ((1,),)  # past the budget
        assert engine._prolog.request(complete)["ok"]  # the next such query reads it
        _, goal, _ = engine._query_cache('quoted("A", p)')
        assert goal.startswith("tl_budget(1, ") and "'t:quoted'(AsOf, 'A', V_p)" in goal
        engine.assert_facts("price", [("A", 5, 12)])
        assert not engine._prolog.request(complete)["ok"]
        assert engine.query('quoted("A", p)', as_of=15).rows == ((5,),)
    finally:
        engine.close()


def test_a_time_asked_again_gets_tables_until_facts_at_or_before_it_arrive():
    engine = SwiplEngine(program_from_source(SOURCE))
    try:
        engine.assert_facts("listed", [("A",)])
        engine.assert_facts("price", [("A", 1, 10), ("A", 2, 20)])
        for expected_tables in (False, False, True, True):  # untabled twice, then tables
            assert engine.query('quoted("A", p)', as_of=25).rows == ((2,),)
            assert _tables(engine, 25) == expected_tables
        engine.assert_facts("price", [("A", 3, 30)])  # after 25: its tables stand
        assert _tables(engine, 25)
        engine.assert_facts("price", [("A", 4, 24)])  # at or before 25: untabled again
        for expected_tables in (False, False, True):
            assert engine.query('quoted("A", p)', as_of=25).rows == ((4,),)
            assert _tables(engine, 25) == expected_tables
        assert engine.query('quoted("A", p)', as_of=12).rows == ((1,),)
        assert not _tables(engine, 12)  # a time asked once
    finally:
        engine.close()


def test_a_moded_form_keeps_the_written_order_where_the_head_would_key_an_aggregate():
    """Analysis binds an aggregate's outer variables before it, so the shipped rules never
    hit this; a body in the other order (the aggregate counts every sale, `c` local to it)
    must not become a count per c when a call binds c."""
    from engine.backends.swipl.moded import _same_aggregate_keys
    from engine.lang import ast

    sale = ast.Atom("sale", (ast.Var("c"), ast.Wildcard(), ast.Wildcard()))
    count = ast.Comparison("=", ast.Var("n"), ast.Aggregate("count", None, (sale,)))
    assert not _same_aggregate_keys((count, sale), {"c"})
    assert _same_aggregate_keys((sale, count), {"c"})
    assert _same_aggregate_keys((count, sale), {"n"})


def test_a_query_that_fails_still_frees_the_oldest_times_tables():
    engine = SwiplEngine(program_from_source(SOURCE), untabled_budget=None)  # tables only
    try:
        engine.assert_facts("listed", [("A",)])
        engine.assert_facts("price", [("A", t, t) for t in range(1, KEPT_AS_OF + 2)])
        for t in range(1, KEPT_AS_OF + 1):
            engine.query("quoted(s, p)", as_of=t)
        assert _tables(engine, 1)
        with pytest.raises(QueryTimeout):  # past its limit before it starts
            engine.query("quoted(s, p)", as_of=KEPT_AS_OF + 1, timeout=1e-9)
        assert not _tables(engine, 1) and _tables(engine, 2)  # the oldest time was evicted
    finally:
        engine.close()
