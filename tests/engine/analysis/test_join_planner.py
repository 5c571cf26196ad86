"""The join planner's order: what arrived drives a semi-naive variant; nothing is lost."""

from __future__ import annotations

from engine.analysis import program_from_source
from engine.analysis.planner import Statistics, plan_literals
from engine.lang import ast

PROGRAM = program_from_source("""
.event accepted(order: symbol, t: time)
.event envelope(seq: number, type: symbol, stream: symbol, t: time)
.decl stream_of(order: symbol, stream: symbol)
stream_of(o, s) :- accepted(o, _), s = cat("order-", o).
queued(o, n) :- accepted(o, _), stream_of(o, s), envelope(n, "OrderAccepted", s, _).
""")


def test_a_delta_is_joined_first_even_beside_an_atom_with_a_constant():
    (rule,) = PROGRAM.rules_for("queued")
    delta = next(lit for lit in rule.body
                 if isinstance(lit, ast.Atom) and lit.relation == "accepted")
    stats = Statistics(rows={"accepted": 5_000, "envelope": 100_000, "stream_of": 5_000},
                       distinct={"envelope": (100_000, 26, 5_000, 1_000)})
    planned = plan_literals(rule.body, stats=stats, delta=delta)
    assert planned[0] is delta  # not a scan of every "OrderAccepted" envelope first
    assert sorted(map(id, planned)) == sorted(map(id, rule.body))
