"""Facts asserted after queries give the answers of a fresh engine loaded with all the facts."""

from __future__ import annotations

import random

TRADING = """
.event order_placed(order: symbol, client: symbol, sym: symbol, side: symbol, qty: number,
                    t: time)
.event order_filled(order: symbol, qty: number, t: time)
.event order_cancelled(order: symbol, t: time)
.event order_replaced(old: symbol, new: symbol, t: time)

filled(o) :- order_filled(o, _, _).
filled_qty(o, n) :- order_placed(o, _, _, _, _, _), n = sum q : { order_filled(o, q, _) }.
open_order(o, c, s) :- order_placed(o, c, s, _, q, _), filled_qty(o, f), f < q,
                       !order_cancelled(o, _).
replaced_by(a, b) :- order_replaced(a, b, _).
replaced_by(a, c) :- replaced_by(a, b), order_replaced(b, c, _).
holding(c, s) :- order_placed(o, c, s, _, _, _), filled(o).
bought(c, s, n) :- holding(c, s),
                   n = sum q : { order_placed(o, c, s, "buy", _, _), order_filled(o, q, _) }.
open_count(c, n) :- order_placed(_, c, _, _, _, _), n = count : { open_order(_, c, _) }.
biggest(c, m) :- order_placed(_, c, _, _, _, _), m = max q : { order_placed(_, c, _, _, q, _) }.
"""
QUERIES = ["filled_qty(o, n)", "open_order(o, c, s)", "replaced_by(a, b)", "holding(c, s)",
           "bought(c, s, n)", "open_count(c, n)", "biggest(c, m)"]


def trading_events(seed: int, n_orders: int = 60) -> dict[str, list[tuple]]:
    rng = random.Random(seed)
    events: dict[str, list[tuple]] = {"order_placed": [], "order_filled": [],
                                      "order_cancelled": [], "order_replaced": []}
    for i in range(n_orders):
        t = rng.randrange(1, 100)
        order = f"o{i}"
        qty = rng.randrange(1, 20)
        events["order_placed"].append((order, f"c{rng.randrange(4)}", rng.choice("XYZ"),
                                       rng.choice(["buy", "sell"]), qty, t))
        for _ in range(rng.randrange(3)):
            events["order_filled"].append((order, rng.randrange(1, qty + 1),
                                           t + rng.randrange(1, 20)))
        if rng.random() < 0.2:
            events["order_cancelled"].append((order, t + rng.randrange(1, 30)))
        if i and rng.random() < 0.3:
            events["order_replaced"].append((f"o{i - 1}", order, t))
    return events


def answers(engine, as_of=None) -> dict[str, tuple]:
    return {q: engine.query(q, as_of=as_of).rows for q in QUERIES}


def test_facts_after_queries_match_a_fresh_engine(engine_factory):
    events = trading_events(seed=3)
    growing = engine_factory(TRADING)
    rng = random.Random(7)
    batches = [(relation, row) for relation, rows in events.items() for row in rows]
    rng.shuffle(batches)  # relations interleaved, times out of order
    for start in range(0, len(batches), 25):
        for relation, row in batches[start:start + 25]:
            growing.assert_facts(relation, [row])
        answers(growing)  # fill tables, which the next facts must update
        answers(growing, as_of=50)
    fresh = engine_factory(TRADING, events)
    assert answers(growing) == answers(fresh)
    for as_of in (0, 10, 50, 75, 130):
        assert answers(growing, as_of) == answers(fresh, as_of), f"as of {as_of}"


def test_one_new_fact_changes_exactly_what_it_should(engine_factory):
    orders = engine_factory(TRADING, {"order_placed": [("o1", "c1", "X", "buy", 10, 1)]})
    assert orders.query("open_order(o, c, s)").rows == (("o1", "c1", "X"),)
    assert orders.query("biggest(c, m)").rows == (("c1", 10),)
    orders.assert_facts("order_filled", [("o1", 10, 5)])
    orders.assert_facts("order_placed", [("o2", "c1", "X", "buy", 30, 6)])
    assert orders.query("open_order(o, c, s)").rows == (("o2", "c1", "X"),)
    assert orders.query("biggest(c, m)").rows == (("c1", 30),)  # one max, the new one
    assert orders.query("open_order(o, c, s)", as_of=4).rows == (("o1", "c1", "X"),)


def test_late_events_with_earlier_times_update_past_answers(engine_factory):
    orders = engine_factory(TRADING, {"order_placed": [("o1", "c1", "X", "buy", 10, 5)],
                                      "order_filled": [("o1", 3, 20)]})
    assert orders.query('filled_qty("o1", n)', as_of=15).rows == ((0,),)
    orders.assert_facts("order_filled", [("o1", 2, 10)])  # arrives late, happened earlier
    assert orders.query('filled_qty("o1", n)', as_of=15).rows == ((2,),)
    assert orders.query('filled_qty("o1", n)').rows == ((5,),)
