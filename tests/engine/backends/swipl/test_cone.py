"""Now is evaluated from the query's dependency cone only: what is never asked costs nothing."""

from __future__ import annotations

import naive

from engine.analysis import program_from_source
from engine.backends.swipl.backend import SwiplEngine

SOURCE = """
.event edge(a: symbol, b: symbol, t: time)
.decl path(a: symbol, b: symbol)
.decl reach(a: symbol)
.decl unreached(a: symbol)
.decl node(a: symbol)
.decl pairs(a: symbol, b: symbol)
.decl degree(a: symbol, n: number)
path(x, y) :- edge(x, y, _).
path(x, z) :- path(x, y), edge(y, z, _).
reach(y) :- path("n0", y).
node(x) :- edge(x, _, _).
node(y) :- edge(_, y, _).
unreached(x) :- node(x), !reach(x).
pairs(x, y) :- node(x), node(y).
degree(x, n) :- node(x), n = count : { edge(x, _, _) }.
"""
EDGES = [("n0", "n1", 1), ("n1", "n2", 2), ("n3", "n4", 3), ("n4", "n3", 4), ("n2", "n0", 5)]
LATER = [("n2", "n3", 6), ("n5", "n6", 7)]


def _stored(engine, relation: str) -> int:
    """How many tuples of `relation` the engine holds materialised."""
    args = ", ".join(["_"] * engine.program.relations[relation].arity)
    goal = f"predicate_property({engine.module}:'m:{relation}'({args}), number_of_clauses(N))"
    rows = engine._prolog.run(lambda call: call(
        f"tl_query({engine.module}, none, none, 1.0Inf, _, [N], ({goal}))", ""))
    return rows[0][0] if rows else 0


def _answers(engine, query: str) -> set:
    return set(engine.query(query).rows)


def test_a_query_materialises_only_its_cone():
    program = program_from_source(SOURCE, "cone.dl")
    engine = SwiplEngine(program)
    try:
        engine.assert_facts("edge", EDGES)
        assert _answers(engine, "reach(x)") == {("n0",), ("n1",), ("n2",)}
        assert _stored(engine, "path") > 0  # in reach's cone
        assert _stored(engine, "pairs") == 0  # the expensive relation nobody asked for
        assert _stored(engine, "unreached") == 0
        engine.assert_facts("edge", LATER)  # maintained: reach's cone; pairs still absent
        assert _answers(engine, "reach(x)") == {(f"n{i}",) for i in range(5)}
        assert _stored(engine, "pairs") == 0
        facts = {"edge": EDGES + LATER}
        expected = naive.evaluate(program, facts)
        for name, query in (("unreached", "unreached(x)"), ("degree", "degree(x, n)"),
                            ("pairs", "pairs(x, y)"), ("path", "path(x, y)")):
            assert _answers(engine, query) == set(expected[name]), name
        assert _stored(engine, "pairs") == 49  # n0 … n6, squared
    finally:
        engine.close()


def test_cone_answers_match_whole_program_evaluation_after_every_batch():
    program = program_from_source(SOURCE, "cone.dl")
    batches = [EDGES[:2], EDGES[2:], LATER[:1], LATER[1:]]
    for incremental in (True, False):
        cone = SwiplEngine(program, now_incremental=incremental)
        whole = SwiplEngine(program, now_incremental=incremental)
        try:
            seen: list = []
            for i, batch in enumerate(batches):
                cone.assert_facts("edge", batch)
                whole.assert_facts("edge", batch)
                seen += batch
                whole._prolog.request(f"tl_call_json({whole.module}:'bu:ensure')")
                expected = naive.evaluate(program, {"edge": seen})
                # a different relation first each batch: cones demanded in varying orders
                names = ["unreached", "degree", "pairs", "path", "reach"]
                for name in names[i:] + names[:i]:
                    arity = program.relations[name].arity
                    query = f"{name}({', '.join(f'v{j}' for j in range(arity))})"
                    assert _answers(cone, query) == set(expected[name]), (incremental, name)
                    assert _answers(whole, query) == set(expected[name]), (incremental, name)
        finally:
            cone.close()
            whole.close()
