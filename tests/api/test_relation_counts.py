"""A listing counts every relation within one time budget, event relations first."""

from __future__ import annotations

from api.query import relation_counts
from engine.analysis import program_from_source
from engine.backends.swipl.backend import SwiplEngine

RULES = """
.event tick(n: number, t: time)
.decl even(n: number)
even(n) :- tick(n, _), n % 2 = 0.
.decl pair(a: number, b: number)
pair(a, b) :- tick(a, _), tick(b, _), a < b.
"""


def _engine() -> SwiplEngine:
    engine = SwiplEngine(program_from_source(RULES))
    engine.assert_facts("tick", [(n, n) for n in range(1, 11)])
    return engine


def test_every_relation_is_counted_when_the_budget_allows():
    engine = _engine()
    try:
        assert relation_counts(engine) == {"tick": 10, "even": 5, "pair": 45}
    finally:
        engine.close()


def test_a_spent_budget_leaves_counts_out_instead_of_waiting():
    engine = _engine()
    try:
        assert relation_counts(engine, budget=0) == {"tick": None, "even": None, "pair": None}
    finally:
        engine.close()
