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


def test_an_incremental_steps_delta_is_a_ticks_facts_not_a_share_of_history():
    # price_before's first rule: the delta is the new order_submitted; the other atom, one
    # order_modified per order with n = 1, is a tenth of 20,000 submissions already
    source = """
    .event modified(order: symbol, n: number, t: time)
    .event submitted(order: symbol, price: number, t: time)
    before(o, p) :- modified(o, 1, _), submitted(o, p, _).
    """
    (rule,) = program_from_source(source).rules_for("before")
    modified, submitted = rule.body
    stats = Statistics(rows={"modified": 5_000, "submitted": 20_000},
                       distinct={"modified": (2_500, 3, 5_000), "submitted": (20_000,) * 3})
    assert plan_literals(rule.body, stats=stats, delta=submitted)[0] is modified  # a round's
    assert plan_literals(rule.body, stats=stats, delta=submitted, step=True)[0] is submitted
