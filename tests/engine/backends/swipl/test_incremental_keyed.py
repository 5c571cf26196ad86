"""Key-by-key re-evaluation of negations and aggregates equals evaluation from scratch."""

from __future__ import annotations

import naive
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.analysis import program_from_source
from engine.backends.pydatalog.backend import PyDatalogEngine
from engine.backends.swipl.backend import SwiplEngine
from engine.backends.swipl.bottomup import bottom_up_plan
from engine.backends.swipl.compiler import compile_program
from engine.backends.swipl.keyed import key_positions

# Every way a relation is maintained in an incremental step: seeds (finished, modded), key
# by key over a negation and a max (latest, open), over a count of a relation that loses
# tuples (per_client) and a positive read of one (busy), a constant in a body (vip), a
# repeated head variable (self_pair), a windowed count whose keys a join finds (recent),
# recursion over a shrinking relation (linked, in full), and kept aggregates (kept.py): counts
# over a relation that loses tuples (per_client's open) and over a recursive one rebuilt in
# full without its differences (reach's linked), sums of integers, one filtered by a key
# bound outside it (held, above), a mean of floats (mean_share), and an assignment a variant
# turns round to look up from its delta (prev_q's m = n - 1); the joins (link, self_pair,
# busy, either) lose what their lost inputs derived and no longer derive, and gain by their
# seeds.
SOURCE = """
.event sub(o: symbol, c: symbol, q: number, t: time)
.event done(o: symbol, t: time)
.event mod(o: symbol, n: number, q: number, t: time)
.decl finished(o: symbol)
finished(o) :- done(o, _).
.decl modded(o: symbol)
modded(o) :- mod(o, _, _, _).
.decl latest(o: symbol, q: number)
latest(o, q) :- mod(o, n, q, _), n = max m : { mod(o, m, _, _) }.
latest(o, q) :- sub(o, _, q, _), !modded(o).
.decl open(o: symbol, c: symbol, q: number)
open(o, c, q) :- sub(o, c, _, _), !finished(o), latest(o, q).
.decl per_client(c: symbol, n: number)
per_client(c, n) :- open(_, c, _), n = count : { open(_, c, _) }.
.decl busy(c: symbol)
busy(c) :- per_client(c, n), n > 1.
.decl vip(o: symbol, q: number)
vip(o, q) :- open(o, "c1", q), !finished(o).
.decl self_pair(a: symbol, b: symbol)
self_pair(o, o) :- open(o, _, q), q > 1.
.decl recent(c: symbol, n: number, t: time)
recent(c, n, t) :- sub(_, c, _, t), n = count : { sub(_, c, _, u), u > t - 2, u <= t }.
.decl link(a: symbol, b: symbol)
link(a, b) :- open(a, c, _), open(b, c, _), a != b.
.decl linked(a: symbol, b: symbol)
linked(a, b) :- link(a, b).
linked(a, b) :- linked(a, x), link(x, b).
.decl reach(a: symbol, n: number)
reach(a, n) :- linked(a, _), n = count : { linked(a, _) }.
.decl prev_q(o: symbol, n: number, q: number)
prev_q(o, n, q) :- mod(o, n, _, _), m = n - 1, mod(o, m, q, _).
.decl either(o: symbol)
either(o) :- open(o, _, _).
either(o) :- modded(o).
.decl held(c: symbol, q: number)
held(c, q) :- per_client(c, _), q = sum x : { open(_, c, x) }.
.decl above(c: symbol, q: number)
above(c, q) :- per_client(c, n), q = sum x : { open(_, c, x), x > n }.
.decl share(o: symbol, r: float)
share(o, r) :- open(o, _, q), r = q * 1.0 / 3.
.decl mean_share(r: float)
mean_share(r) :- r = mean x : { share(_, x) }.
"""
PROGRAM = program_from_source(SOURCE, "keyed.dl")
DERIVED = [n for n, r in PROGRAM.relations.items() if not r.is_event]

orders = st.sampled_from(["o1", "o2", "o3", "o4"])
# ((relation, args), lag): an event `lag` ticks late, out of time order (a window's count
# changes for later ticks then).
fact = st.one_of(
    st.tuples(st.just("sub"), st.tuples(orders, st.sampled_from(["c1", "c2"]),
                                        st.integers(1, 3))),
    st.tuples(st.just("done"), st.tuples(orders)),
    st.tuples(st.just("mod"), st.tuples(orders, st.integers(1, 3), st.integers(1, 3))))
event = st.tuples(fact, st.integers(0, 2))
ticks = st.lists(st.lists(event, min_size=1, max_size=4), min_size=2, max_size=6)


def _answers(engine) -> dict[str, set]:
    return {name: set(engine.query(
        f"{name}({', '.join(f'c{i}' for i in range(PROGRAM.relations[name].arity))})",
        timeout=None).rows) for name in DERIVED}


def test_the_keys_found_are_those_every_changing_atom_holds():
    kinds = compile_program(PROGRAM, "keyed_test").kinds
    found = {name: key_positions(PROGRAM, kinds, name)
             for name, kind in kinds.items() if kind == "tabled"}
    assert found["latest"] == [0] and found["open"] == [0] and found["per_client"] == [0]
    assert found["self_pair"] == [0, 1] and found["recent"] == [0, 2]
    text = bottom_up_plan(PROGRAM, kinds).text()
    assert "'bu:keyed:open'" in text and "'bu:keyed:linked'" not in text
    # counts kept per group: per_client's over open, reach's over linked
    assert "'bcnt:per_client:open(_,K0,_)'" in text and "'bcnt:reach:linked(K0,_)'" in text
    assert "'bcnt:held:sum L0 of open(_,K0,L0)'" in text
    assert "'bcnt:above:sum L0 of open(_,K0,L0) if tl_gt(L0, K1)'" in text
    assert "'bcnt:mean_share:mean L0 of share(_,L0)'" in text
    # joins whose every column is a key: what they lost checked, what they gained seeded
    assert "'bu:lost:link'" in text and "'bu:lost:self_pair'" in text
    # a new mod(o, m, q) looks up mod(o, m + 1): its delta first, then n from m
    seed = next(c for c in text.split("\n'") if c.startswith("bu:seed:prev_q'")
                and "'de:mod'(V_o, V_m" in c)
    assert seed.index("'de:mod'") < seed.index("tl_eval((V_m + 1), V_n)") < seed.index(
        "'e:mod'(V_o, V_n")


def test_a_negated_fact_arriving_removes_one_key_incrementally():
    engine = SwiplEngine(PROGRAM)
    try:
        engine.assert_many({"sub": ([("o1", "c1", 2, 1), ("o2", "c1", 3, 1)], None)})
        assert engine.query("per_client(c, n)").rows == (("c1", 2),)
        engine.assert_many({"done": ([("o1", 2)], None)})
        state = f"tl_call_json(nb_current('bu:{engine.module}', delta))"
        assert engine._prolog.request(state)["ok"]  # the next answer is an incremental step
        assert engine.query("open(o, c, q)").rows == (("o2", "c1", 3),)
        assert engine.query("per_client(c, n)").rows == (("c1", 1),)
        assert engine.query("busy(c)").rows == ()
    finally:
        engine.close()


def test_a_kept_count_follows_a_recursive_relation_rebuilt_in_full():
    # o1, o2, o3 of one client link to each other, so reach(o1) counts 3; o2 done: linked
    # loses tuples, is evaluated again in full (no differences), and reach(o1) counts 2
    engine = SwiplEngine(PROGRAM)
    try:
        engine.assert_many({"sub": ([(o, "c1", 1, 1) for o in ("o1", "o2", "o3")], None)})
        assert engine.query("reach(a, n)").rows == (("o1", 3), ("o2", 3), ("o3", 3))
        engine.assert_many({"done": ([("o2", 2)], None)})
        state = f"tl_call_json(nb_current('bu:{engine.module}', delta))"
        assert engine._prolog.request(state)["ok"]  # the next answer is an incremental step
        assert engine.query("reach(a, n)").rows == (("o1", 2), ("o3", 2))
        assert engine.query("per_client(c, n)").rows == (("c1", 2),)
    finally:
        engine.close()


def test_a_join_keeps_a_tuple_another_rule_still_derives():
    engine = SwiplEngine(PROGRAM)
    try:
        engine.assert_many({"sub": ([("o1", "c1", 2, 1)], None),
                            "mod": ([("o1", 1, 3, 1)], None)})
        assert engine.query("either(o)").rows == (("o1",),)
        engine.assert_many({"done": ([("o1", 2)], None)})  # open loses o1; modded keeps it
        state = f"tl_call_json(nb_current('bu:{engine.module}', delta))"
        assert engine._prolog.request(state)["ok"]  # the next answer is an incremental step
        assert engine.query("open(o, c, q)").rows == ()
        assert engine.query("either(o)").rows == (("o1",),)
    finally:
        engine.close()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ticks)
def test_every_step_equals_evaluation_from_scratch_and_pydatalog(stream):
    incremental, full = SwiplEngine(PROGRAM), SwiplEngine(PROGRAM, now_incremental=False)
    pydatalog = PyDatalogEngine(PROGRAM)
    facts: dict[str, list[tuple]] = {}
    try:
        for t, tick in enumerate(stream, 1):
            batch: dict[str, list[tuple]] = {}
            for (relation, args), lag in tick:
                batch.setdefault(relation, []).append((*args, max(1, t - lag)))
            for engine in (incremental, full, pydatalog):
                engine.assert_many({r: (rows, None) for r, rows in batch.items()})
            for relation, rows in batch.items():
                facts.setdefault(relation, []).extend(rows)
            expected = naive.evaluate(PROGRAM, facts)
            got = _answers(incremental)
            assert got == _answers(full) == {n: expected[n] for n in DERIVED}, f"tick {t}"
            assert _answers(pydatalog) == got, f"tick {t}"
    finally:
        for engine in (incremental, full, pydatalog):
            engine.close()
