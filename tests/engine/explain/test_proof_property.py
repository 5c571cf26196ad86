"""Every proof rests on facts of the input, and those facts alone derive its root again."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.analysis import program_from_source
from engine.backends.factory import backend_class
from engine.explain import Prover
from engine.explain.terms import fact_text

RULES = """
.event edge(a: number, b: number, t: time)
.event blocked(n: number, t: time)
.decl reach(a: number, b: number)
reach(x, y) :- edge(x, y, _), !blocked(y, _).
reach(x, z) :- reach(x, y), edge(y, z, _), !blocked(z, _).
.decl fanout(a: number, n: number)
fanout(x, n) :- reach(x, _), n = count : { reach(x, _) }.
.decl far(a: number, b: number)
far(x, y) :- reach(x, y), y - x > 1, !reach(y, x).
"""
# Negation reads only input relations, and aggregates list every fact they count (the cap
# is lifted below): then a proof's leaves are enough to derive its root again.
DERIVED = ("reach(x, y)", "fanout(x, n)", "far(x, y)")

nodes = st.integers(0, 5)
times = st.integers(0, 9)
edges = st.lists(st.tuples(nodes, nodes, times), max_size=14, unique=True)
blocked = st.lists(st.tuples(nodes, times), max_size=2, unique=True)


def load(backend: str, facts: dict[str, list[tuple]]):
    engine = backend_class(backend)(program_from_source(RULES))
    seq = 1
    for relation, rows in facts.items():
        engine.assert_facts(relation, rows, seqs=range(seq, seq + len(rows)))
        seq += len(rows)
    return engine


def leaves_and_absences(node, leaves, absent):
    if node.kind in ("event", "input", "fact"):
        leaves.append(node)
    if node.kind == "absence":
        absent.append(node)
    assert node.kind != "cut"
    for child in node.children:
        leaves_and_absences(child, leaves, absent)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edges=edges, blocked=blocked, as_of=st.none() | times, data=st.data())
def check_backend(backend, edges, blocked, as_of, data):
    facts = {"edge": edges, "blocked": blocked}
    seqs = {("edge", row): i + 1 for i, row in enumerate(edges)}
    seqs.update({("blocked", row): len(edges) + i + 1 for i, row in enumerate(blocked)})
    engine = load(backend, facts)
    try:
        for query in DERIVED:
            relation = query.split("(")[0]
            answers = engine.query(query, as_of=as_of).rows
            if not answers:
                continue
            values = data.draw(st.sampled_from(answers))
            proof = Prover(engine, as_of, aggregate_cap=1000).prove_fact(relation, values)
            assert proof is not None and proof.text == fact_text(relation, values)
            [proof] = Prover(engine, as_of).finish([proof])
            leaves, absent = [], []
            leaves_and_absences(proof, leaves, absent)
            for leaf in leaves:  # facts of the input, with their own seqs and times
                assert leaf.kind == "event"
                assert seqs[(leaf.relation, leaf.values)] == leaf.seq
                assert as_of is None or leaf.time <= as_of
            for node in absent:
                assert not engine.query(node.text, as_of=as_of).rows
            again = load(backend, {r: sorted({leaf.values for leaf in leaves
                                              if leaf.relation == r}) for r in facts})
            try:
                assert values in again.query(query, as_of=as_of).rows
            finally:
                again.close()
    finally:
        engine.close()


def test_proofs_rest_on_input_facts_that_derive_the_root(backend):
    check_backend(backend)
