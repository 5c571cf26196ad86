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


EVENTS = """
.decl alloc(v: symbol, o: symbol)
.event copied(to: symbol, from: symbol, t: time)
.event loaded(to: symbol, base: symbol, t: time)
.event stored(base: symbol, from: symbol, t: time)
is_ptr(v, o) :- alloc(v, o).
is_ptr(to, o) :- copied(to, from, _), is_ptr(from, o).
is_ptr(to, o) :- loaded(to, base, _), is_ptr(base, b), heap_ptr(b, o).
heap_ptr(b, o) :- stored(base, from, _), is_ptr(base, b), is_ptr(from, o).
"""


def _events(rng: random.Random, first: int, n: int) -> dict[str, list[tuple]]:
    names = [f"v{i}" for i in range(10)]
    found: dict[str, list[tuple]] = {"copied": [], "loaded": [], "stored": []}
    for t in range(first, first + n):
        found[rng.choice(list(found))].append((rng.choice(names), rng.choice(names), t))
    return found


def test_split_relations_are_kept_by_incremental_steps_and_snapshots():
    program = program_from_source(EVENTS)
    rng = random.Random(7)
    alloc = [(f"v{i}", f"o{i % 4}") for i in range(0, 10, 2)]
    batches = [_events(rng, 10 * k, 10) for k in range(4)]
    engines = [SwiplEngine(program) for _ in range(2)]
    dumped, restored = engines
    try:
        facts: dict[str, list[tuple]] = {"alloc": alloc}
        dumped.assert_facts("alloc", alloc)
        for k, batch in enumerate(batches):
            if k == 2:  # the split relations are materialised by now: dump and go on
                restored.restore_state(dumped.dump_state())
            for engine in engines if k >= 2 else [dumped]:
                for relation, rows in batch.items():
                    engine.assert_facts(relation, rows)
            for relation, rows in batch.items():
                facts[relation] = facts.get(relation, []) + rows
            expected = naive.evaluate(program, facts)
            for engine in engines if k >= 2 else [dumped]:
                for name in ("is_ptr", "heap_ptr"):
                    assert set(engine.query(f"{name}(a, b)").rows) == expected[name], (k, name)
        assert expected["heap_ptr"], "heap_ptr is empty: the test would show nothing"
    finally:
        for engine in engines:
            engine.close()
