"""Recursive rules split into joins of two: which rules split and how, and the same answers."""

from __future__ import annotations

import random

import naive

from engine.analysis import program_from_source
from engine.backends.swipl.backend import SwiplEngine
from engine.backends.swipl.compiler import compile_program
from engine.backends.swipl.joins import split_recursive_joins
from engine.lang.pretty import item

POINTS_TO = """
.decl alloc(v: symbol, o: symbol)
.decl load(to: symbol, base: symbol)
.decl assign(to: symbol, from: symbol)
.decl store(base: symbol, from: symbol)
.decl scalar(v: symbol)
is_ptr(v, o) :- alloc(v, o).
is_ptr(to, o) :- assign(to, from), is_ptr(from, o), !scalar(to).
is_ptr(to, o) :- load(to, base), is_ptr(base, b), heap_ptr(b, o).
heap_ptr(b, o) :- store(base, from), is_ptr(base, b), is_ptr(from, o), b != o.
"""


def _split(source: str) -> tuple[list[str], list[str]]:
    """(the split program's rules as text, the relations the split added)."""
    program = program_from_source(source)
    kinds = compile_program(program, "tl_split_test").kinds
    split, new_kinds = split_recursive_joins(program, kinds)
    return [item(rule) for rule in split.rules], [n for n in new_kinds if n not in kinds]


def test_a_recursive_rule_joins_its_input_first_and_drops_what_the_rest_does_not_read():
    rules, added = _split(POINTS_TO)
    assert added == ["is_ptr#1", "heap_ptr#1"]
    assert "is_ptr#1(to, b) :- load(to, base), is_ptr(base, b)." in rules
    assert "is_ptr(to, o) :- is_ptr#1(to, b), heap_ptr(b, o)." in rules
    # a test over the pair's variables only goes with the pair; `b != o` needs both pairs
    assert "heap_ptr#1(from, b) :- store(base, from), is_ptr(base, b)." in rules
    assert "heap_ptr(b, o) :- heap_ptr#1(from, b), is_ptr(from, o), b != o." in rules
    # two atoms and a negation: nothing to split
    assert "is_ptr(to, o) :- assign(to, from), is_ptr(from, o), !scalar(to)." in rules


def test_rules_outside_recursion_or_with_nothing_to_drop_stay_whole():
    rules, added = _split("""
    .decl e(a: number, b: number)
    .decl f(a: number, b: number)
    flat(a, c) :- e(a, b), f(b, c), e(c, a).
    path(a, b) :- e(a, b).
    path(a, d) :- path(a, b), e(b, c), f(c, d), c < d.
    tri(a, b, c) :- e(a, b), tri(b, c, a), f(c, a).
    tri(a, b, c) :- e(a, b), e(b, c).
    """)
    assert "flat(a, c) :- e(a, b), f(b, c), e(c, a)." in rules  # not recursive
    assert "tri(a, b, c) :- e(a, b), tri(b, c, a), f(c, a)." in rules  # all in the head
    # `c < d` needs c, which the rest of the rule reads: e and f are joined keeping c
    assert added == ["path#1"]
    assert "path#1(a, c) :- path(a, b), e(b, c)." in rules
    assert "path(a, d) :- path#1(a, c), f(c, d), c < d." in rules


def test_split_rules_give_the_oracles_answers_before_and_after_new_facts():
    source = POINTS_TO + """
    .decl call(site: symbol, fptr: symbol)
    .decl target(o: symbol, f: symbol)
    .decl in_fn(site: symbol, f: symbol)
    reached(f) :- in_fn(_, f), f = "f0".
    reached(f) :- call(s, p), in_fn(s, g), reached(g), is_ptr(p, o), target(o, f).
    aliased(a, b) :- is_ptr(a, o), is_ptr(b, o), a != b, !scalar(a).
    """
    program = program_from_source(source)
    rng = random.Random(3)
    names = [f"v{i}" for i in range(12)]
    objects = [f"o{i}" for i in range(6)]

    def pairs(left, right, n):
        return {(rng.choice(left), rng.choice(right)) for _ in range(n)}

    facts = {"alloc": pairs(names, objects, 8), "load": pairs(names, names, 8),
             "assign": pairs(names, names, 10), "store": pairs(names, names, 8),
             "scalar": {(rng.choice(names),)}, "call": pairs(["s0", "s1", "s2"], names, 4),
             "target": pairs(objects, ["f0", "f1", "f2"], 4),
             "in_fn": {("s0", "f0"), ("s1", "f1"), ("s2", "f2")}}
    more = {"alloc": pairs(names, objects, 3), "store": pairs(names, names, 3)}
    engine = SwiplEngine(program)
    try:
        for relation, rows in facts.items():
            engine.assert_facts(relation, sorted(rows))
        expected = naive.evaluate(program, facts)
        assert expected["heap_ptr"] and expected["reached"] and expected["aliased"]
        for name in ("is_ptr", "heap_ptr", "reached", "aliased"):
            assert set(engine.query(f"{name}(a, b)" if name != "reached" else
                                    "reached(a)").rows) == expected[name], name
        for relation, rows in more.items():
            engine.assert_facts(relation, sorted(rows))
            facts[relation] |= rows
        expected = naive.evaluate(program, facts)
        for name in ("is_ptr", "heap_ptr", "reached", "aliased"):
            assert set(engine.query(f"{name}(a, b)" if name != "reached" else
                                    "reached(a)").rows) == expected[name], name
    finally:
        engine.close()
