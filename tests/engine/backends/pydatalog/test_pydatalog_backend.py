"""What only the pyDatalog backend has: worker threads, cancellation, snapshots, exact floats."""

from __future__ import annotations

import threading

import naive
import pytest
from cases_io import relation_query
from pyDatalog import pyEngine

import engine.backends.pydatalog.backend as backend
from engine.analysis import program_from_source
from engine.backends.pydatalog.backend import PyDatalogEngine
from engine.errors import QueryError, QueryTimeout, SnapshotUnsupported

WORKER = "tempolog-pydatalog"


def _join_workers() -> list[threading.Thread]:
    """Wait for the workers of abandoned queries; the ones still alive after a long grace."""
    workers = [t for t in threading.enumerate() if t.name == WORKER]
    for worker in workers:
        worker.join(timeout=20)
    return [w for w in workers if w.is_alive()]


def test_a_runaway_rule_times_out_stops_its_worker_and_blocks_nothing_else():
    engine = PyDatalogEngine(program_from_source("""
        start(0).
        n(x) :- start(x).
        n(y) :- n(x), y = x + 1.
    """))
    with pytest.raises(QueryTimeout):
        engine.query("n(x)", timeout=0.2)
    assert _join_workers() == []
    assert engine.query("start(x)").rows == ((0,),)


def test_a_long_pure_join_is_cancelled_inside_pydatalog():
    # no builtin in sight: only pyDatalog's logger hook can stop this five-way join,
    # which would take minutes to finish
    engine = PyDatalogEngine(program_from_source("""
        .decl e(a: number, b: number)
        chain(a, b, c, d, f) :- e(a, b), e(b, c), e(c, d), e(d, f).
    """))
    engine.assert_facts("e", [(i, j) for i in range(60) for j in range(60) if (i + j) % 4 == 0])
    with pytest.raises(QueryTimeout):
        engine.query("chain(a, b, c, d, f)", timeout=0.2)
    assert _join_workers() == []


def test_snapshots_are_kept_until_new_facts_arrive(monkeypatch):
    built = []
    materialise = backend.materialise
    monkeypatch.setattr(backend, "materialise",
                        lambda *args: built.append(1) or materialise(*args))
    engine = PyDatalogEngine(program_from_source("""
        .event tick(n: number, t: time)
        seen(n) :- tick(n, _).
    """))
    engine.assert_facts("tick", [(1, 10), (2, 20)])
    assert engine.query("seen(n)").rows == ((1,), (2,))
    assert engine.query("seen(n), n > 1").rows == ((2,),)
    assert engine.query("seen(n)", as_of=25).rows == ((1,), (2,))  # after every event: now
    assert len(built) == 1
    assert engine.query("seen(n)", as_of=15).rows == ((1,),)
    assert len(built) == 2
    assert engine.assert_facts("tick", [(1, 10)]) == 0  # nothing new, nothing to redo
    assert engine.query("seen(n)").rows == ((1,), (2,))
    assert len(built) == 2
    engine.assert_facts("tick", [(3, 30)])
    assert engine.query("seen(n)").rows == ((1,), (2,), (3,))
    assert len(built) == 3


def test_floats_are_exact_not_rounded_to_eight_digits():
    engine = PyDatalogEngine(program_from_source("""
        .decl x(v: float)
        y(w) :- x(v), w = v + 0.1.
    """))
    engine.assert_facts("x", [(0.2,), (1.2345678901234567,)])
    assert engine.query("y(w)").rows == ((0.2 + 0.1,), (1.2345678901234567 + 0.1,))


def test_resolvers_are_registered_only_while_needed():
    before = set(pyEngine.Python_resolvers)
    engine = PyDatalogEngine(program_from_source("""
        .decl q(x: number)
        r(y) :- q(x), y = x * 2, n = count : { q(_) }, n > 0.
    """))
    program_resolvers = set(pyEngine.Python_resolvers) - before
    assert program_resolvers  # the arithmetic and the aggregate
    engine.assert_facts("q", [(1,), (2,)])
    assert engine.query("r(y), z = y + 1, m = count : { q(_) }").rows == ((2, 3, 2), (4, 5, 2))
    assert set(pyEngine.Python_resolvers) - before == program_resolvers  # query's are gone
    engine.close()
    assert set(pyEngine.Python_resolvers) == before


def test_closing_the_engine_ends_a_running_query_with_an_error():
    engine = PyDatalogEngine(program_from_source("""
        start(0).
        n(x) :- start(x).
        n(y) :- n(x), y = x + 1.
    """))
    failed = []

    def ask() -> None:
        try:
            engine.query("n(x)", timeout=None)
        except QueryError as error:
            failed.append(error)

    earlier = {t for t in threading.enumerate() if t.name == WORKER}
    asker = threading.Thread(target=ask)
    asker.start()
    while not {t for t in threading.enumerate() if t.name == WORKER} - earlier:
        threading.Event().wait(0.01)  # until this query runs
    engine.close()
    asker.join(timeout=20)
    assert not asker.is_alive()
    assert [str(e) for e in failed] == ["the engine was closed while the query ran"]
    assert _join_workers() == []


def test_queries_growing_one_snapshot_from_many_threads_agree_with_the_oracle():
    program = program_from_source("""
        .decl e(a: number, b: number)
        reach(x, y) :- e(x, y).
        reach(x, y) :- reach(x, z), e(z, y).
        node(x) :- e(x, _).
        node(x) :- e(_, x).
        unreached(x, y) :- node(x), node(y), !reach(x, y).
        fan(x, n) :- node(x), n = count : { reach(x, _) }.
        top(m) :- m = max n : { fan(_, n) }.
        lonely(x) :- fan(x, 0).
    """)
    edges = [(i, (i * 7 + 3) % 40) for i in range(40) if i % 5]
    oracle = naive.evaluate(program, {"e": edges})
    engine = PyDatalogEngine(program)
    engine.assert_facts("e", edges)
    names = ["top", "unreached", "lonely", "fan", "reach", "node"]
    wrong = []

    def ask(offset: int) -> None:
        for name in names[offset:] + names[:offset]:  # each thread in another order
            text = relation_query(program.relations[name])
            if list(engine.query(text, timeout=60).rows) != naive.query(program, oracle, text):
                wrong.append(name)

    threads = [threading.Thread(target=ask, args=(i % len(names),)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []


def test_engine_snapshots_are_not_supported_and_say_so():
    engine = PyDatalogEngine(program_from_source(".event e(x: number, t: time)\np(x) :- e(x, _)."))
    try:
        for call in (engine.dump_state, engine.program_hash, lambda: engine.restore_state(b"")):
            with pytest.raises(SnapshotUnsupported, match="pydatalog backend cannot"):
                call()
    finally:
        engine.close()
