"""As-of literals `p(…) @ t`: every backend agrees with the naive oracle, now and as of a
time, after every batch of facts (some late), and reports mistakes with their position."""

from __future__ import annotations

import naive
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.analysis import program_from_source
from engine.errors import RuleAnalysisError, RuleSyntaxError

# `@` over every kind of relation: a timed view (bought, sold), prefix aggregates (held),
# a max the time index answers (last_buy), a negation (flat), a recursive relation (reach:
# tables per time), an aggregate over a derived relation (fan_out), an event relation at a
# computed and at a constant time, a negated `@`, and `@` of a relation that uses `@`.
SOURCE = """
.event buy(c: symbol, q: number, t: time)
.event sell(c: symbol, q: number, t: time)
.event mark(c: symbol, t: time)
.decl bought(c: symbol)
bought(c) :- buy(c, _, _).
.decl sold(c: symbol)
sold(c) :- sell(c, _, _).
.decl held(c: symbol, q: number)
held(c, q) :- bought(c), b = sum x : { buy(c, x, _) }, s = sum y : { sell(c, y, _) },
              q = b - s.
.decl last_buy(c: symbol, q: number)
last_buy(c, q) :- buy(c, q, t), t = max u : { buy(c, _, u) }.
.decl flat(c: symbol)
flat(c) :- bought(c), !sold(c).
.decl reach(a: symbol, b: symbol)
reach(a, b) :- buy(a, _, t), sell(b, _, t).
reach(a, c) :- reach(a, b), reach(b, c).
.decl fan_out(a: symbol, n: number)
fan_out(a, n) :- reach(a, _), n = count : { reach(a, _) }.

.decl held_at(c: symbol, t: time, q: number)
held_at(c, t, q) :- mark(c, t), held(c, q) @ t.
.decl last_at(c: symbol, t: time, q: number)
last_at(c, t, q) :- mark(c, t), last_buy(c, q) @ t.
.decl flat_at(c: symbol, t: time)
flat_at(c, t) :- mark(c, t), flat(c) @ t.
.decl new_at(c: symbol, t: time)
new_at(c, t) :- mark(c, t), !bought(c) @ t.
.decl reach_at(a: symbol, b: symbol, t: time)
reach_at(a, b, t) :- mark(a, t), reach(a, b) @ t.
.decl fan_out_at(a: symbol, n: number, t: time)
fan_out_at(a, n, t) :- mark(a, t), fan_out(a, n) @ t.
.decl sold_before(c: symbol, t: time)
sold_before(c, t) :- mark(c, t), u = t - 2, sell(c, _, _) @ u.
.decl early(c: symbol, q: number)
early(c, q) :- buy(c, q, _) @ 2.
.decl long_at(c: symbol, t: time)
long_at(c, t) :- mark(c, t), held_at(c, _, q) @ t, q > 0.
"""
PROGRAM = program_from_source(SOURCE, "as_of.dl")
DERIVED = [n for n, r in PROGRAM.relations.items() if not r.is_event]
QUERIES = ["mark(c, t), held(c, q) @ t", "held(c, q) @ 3", "bought(c), !sold(c) @ 4",
           "t = 5, reach(a, b) @ t"]

clients = st.sampled_from(["c1", "c2", "c3"])
times = st.integers(0, 6)
fact = st.one_of(
    st.tuples(st.just("buy"), st.tuples(clients, st.integers(1, 3), times)),
    st.tuples(st.just("sell"), st.tuples(clients, st.integers(1, 3), times)),
    st.tuples(st.just("mark"), st.tuples(clients, times)))
batches = st.lists(st.lists(fact, min_size=1, max_size=5), min_size=1, max_size=4)


def _text(name: str) -> str:
    return f"{name}({', '.join(f'c{i}' for i in range(PROGRAM.relations[name].arity))})"


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(stream=batches, as_of=st.none() | times)
def test_answers_after_every_batch_equal_the_naive_oracle(engine_factory, stream, as_of):
    engine = engine_factory(PROGRAM)
    facts: dict[str, list[tuple]] = {"buy": [], "sell": [], "mark": []}
    for number, batch in enumerate(stream, 1):
        rows: dict[str, list[tuple]] = {}
        for relation, args in batch:
            rows.setdefault(relation, []).append(args)
        engine.assert_many({r: (found, None) for r, found in rows.items()})
        for relation, found in rows.items():
            facts[relation] += [row for row in found if row not in facts[relation]]
        for when in (None, as_of):  # now (bottom-up, incremental) and as of a time
            expected = naive.evaluate(PROGRAM, facts, when)
            for name in DERIVED:
                got = list(engine.query(_text(name), as_of=when, timeout=30).rows)
                assert got == naive.query(PROGRAM, expected, _text(name)), \
                    f"{engine_factory.backend}: {name} as of {when} after batch {number}"
            for text in QUERIES:
                got = list(engine.query(text, as_of=when, timeout=30).rows)
                assert got == naive.query(PROGRAM, expected, text, facts, when), \
                    f"{engine_factory.backend}: {text} as of {when} after batch {number}"


def test_a_rule_using_at_never_sees_past_the_query_time(engine_factory):
    engine = engine_factory(PROGRAM, {"buy": [("c1", 2, 1), ("c1", 5, 4)],
                                      "mark": [("c1", 6)]})
    assert engine.query("held_at(c, t, q)").rows == (("c1", 6, 7),)
    assert engine.query("held(c, q) @ 6", as_of=3).rows == (("c1", 2),)
    assert engine.query("held(c, q) @ 2").rows == (("c1", 2),)
    assert engine.query("held_at(c, t, q)", as_of=5).rows == ()  # the mark is at 6


def test_a_late_fact_changes_the_past_that_at_reads(engine_factory):
    engine = engine_factory(PROGRAM, {"buy": [("c1", 2, 1)], "mark": [("c1", 3)]})
    assert engine.query("held_at(c, t, q)").rows == (("c1", 3, 2),)
    engine.assert_facts("sell", [("c1", 1, 2)])  # arrives late, before the mark's tick
    assert engine.query("held_at(c, t, q)").rows == (("c1", 3, 1),)
    engine.assert_facts("sell", [("c1", 1, 9)])  # after the mark: it does not see it
    assert engine.query("held_at(c, t, q)").rows == (("c1", 3, 1),)
    assert engine.query("held(c, q)").rows == (("c1", 0),)


def _error(text: str, query: str | None = None) -> str:
    with pytest.raises((RuleAnalysisError, RuleSyntaxError)) as caught:
        program = program_from_source(SOURCE + text, "as_of.dl")
        if query is not None:
            from engine.analysis import analyse_query
            analyse_query(program, query)
    return caught.value.format()


def test_an_unbound_time_is_a_positioned_error_naming_it():
    message = _error("bad(c) :- held(c, _) @ when.\n")
    line = SOURCE.count("\n") + 1
    assert f"as_of.dl:{line}:24: error[unsafe-variable]: the time when of an as-of" in message
    assert "bad(c) :- held(c, _) @ when.\n" in message and "^" in message
    assert "bind when with a positive atom" in message


def test_an_unbound_time_in_a_query_is_a_positioned_error():
    message = _error("", "held(c, q) @ t")
    assert "<query>:1:14: error[unsafe-variable]: the time t of an as-of literal" in message
    assert "held(c, q) @ t\n" in message


def test_a_symbol_time_is_a_type_error():
    message = _error("bad(c) :- mark(c, _), held(c, _) @ c.\n")
    assert "error[type-mismatch]: the time c of an as-of literal is a symbol" in message


def test_recursion_through_at_is_an_error_with_the_cycle():
    message = _error("loop(c) :- mark(c, t), loop(c) @ t.\n")
    assert "error[as-of-cycle]: as-of inside a recursive cycle: loop -> loop" in message


def test_a_time_that_is_an_expression_is_a_syntax_error_with_a_fix():
    message = _error("bad(c) :- mark(c, t), held(c, _) @ t - 1.\n")
    assert "error[syntax]: '@' takes a time: a variable or an integer" in message
    assert "u = t - 1, p(x) @ u" in message


def test_a_proof_reads_the_at_fact_as_of_its_time(engine_factory):
    engine = engine_factory(PROGRAM, {"buy": [("c1", 2, 1), ("c1", 5, 4)],
                                      "sell": [("c1", 1, 2)], "mark": [("c1", 3)]})
    (proof,) = engine.explain('held_at("c1", 3, 1)').proofs
    _, held = proof.children
    assert (held.text, held.as_of, held.kind) == ('held("c1", 1)', 3, "derived")
    assert 'held("c1", 1)  (as_of.dl:10)  as of t=3' in proof.render()
    assert [leaf.values for leaf in held.leaves()] == [("c1", 2, 1)] * 2 + [("c1", 1, 2)]
    (attempt,) = engine.why_not('held_at("c1", 3, 7)').attempts
    assert attempt.message == 'no held("c1", 7) as of t=3'
    (attempt,) = engine.why_not('new_at("c1", 3)').attempts
    assert attempt.message == 'bought("c1") holds as of t=3, so !bought("c1") @ 3 fails'
