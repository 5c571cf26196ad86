"""A query that makes a multi-argument index finishes it (runtime.pl, tl_warm_indexes)."""

from __future__ import annotations

import pytest

from engine.analysis import program_from_source
from engine.backends.swipl import warm_indexes
from engine.backends.swipl.backend import SwiplEngine
from engine.backends.swipl.thread import PrologThread
from engine.backends.swipl.warm_indexes import IndexWarmer

PROGRAM = """
.event fill(order: symbol, client: symbol, sym: symbol, qty: number, t: time)
big(o, c, s) :- fill(o, c, s, q, _), q >= 50.
bought(c, n) :- fill(_, c, _, _, _), n = sum q : { fill(_, c, _, q, _) }.
"""
CLIENTS, SYMBOLS = [f"c{i}" for i in range(4)], [f"S{i}" for i in range(5)]
ROWS = [(f"o{n}", CLIENTS[n % 4], SYMBOLS[n // 4 % 5], n % 100, n) for n in range(1, 3001)]


@pytest.fixture
def engine(monkeypatch):
    monkeypatch.setattr(warm_indexes, "SLOW", 0.0)  # every query looks, whatever it took
    monkeypatch.setattr(warm_indexes, "EVERY", 0.0)
    engine = SwiplEngine(program_from_source(PROGRAM))
    engine.assert_facts("fill", ROWS)
    yield engine
    engine.close()


def _prolog_holds(goal: str) -> bool:
    return PrologThread.shared().request(f"tl_call_json(({goal}))") == {"ok": True}


def test_the_query_that_makes_a_multi_argument_index_finishes_it(engine):
    head = f"{engine.module}:'e:fill'(_, _, _, _, _, _)"
    rows = engine.query('fill(o, "c1", "S2", q, t)', as_of=2000).rows
    assert rows == tuple(sorted((o, q, t) for o, c, s, q, t in ROWS
                                if c == "c1" and s == "S2" and t <= 2000))
    assert _prolog_holds(f"predicate_property({head}, indexed(I)), memberchk(multi([2,3])-_, I)")
    assert _prolog_holds(f"tempolog_rt:tl_warm_index({engine.module}:'e:fill'/6, [2,3], _)")
    # Finished once: the next query's look finds nothing new, and answers the same.
    assert PrologThread.shared().request(f"tl_warm_indexes({engine.module})") == {"warmed": 0}
    assert engine.query('fill(o, "c1", "S2", q, t)', as_of=2000).rows == rows


def test_the_entries_of_prefix_aggregates_get_their_index_before_a_query_reads_them(engine):
    entries = f"{engine.module}:'x:1'(_, _, _, _, _, _, _)"
    assert _prolog_holds(f"predicate_property({entries}, number_of_clauses(3000))")
    assert not _prolog_holds(f"predicate_property({entries}, indexed(_))")
    engine.query('big(o, "c1", s)', as_of=10)  # reads no prefix aggregate
    assert _prolog_holds(f"predicate_property({entries}, indexed(I)), memberchk(single(1)-_, I)")
    assert engine.query('bought("c1", n)', as_of=2000).rows == (
        (sum(q for _, c, _, q, t in ROWS if c == "c1" and t <= 2000),),)


def test_a_closed_engine_leaves_no_bookkeeping(engine):
    engine.query('fill(o, "c3", "S0", q, t)', as_of=100)
    module = engine.module
    engine.close()
    assert not _prolog_holds(f"tempolog_rt:tl_warm_index({module}:_, _, _)")
    assert not _prolog_holds(f"tempolog_rt:tl_fact_predicates({module}, _)")


def test_only_slow_queries_look_and_at_most_every_so_often(monkeypatch):
    clock = iter([10.0, 10.01, 10.2])
    monkeypatch.setattr(warm_indexes.time, "monotonic", lambda: next(clock))
    warmer = IndexWarmer()
    assert not warmer.due(warm_indexes.SLOW / 2)  # fast: never looks, reads no clock
    assert warmer.due(warm_indexes.SLOW)  # at 10.0
    assert not warmer.due(1.0)  # at 10.01: within EVERY of the last look
    assert warmer.due(1.0)  # at 10.2
