"""Engine.assert_many, on every backend: several relations' facts in one all-or-nothing step."""

from __future__ import annotations

import pytest

from engine.errors import QueryError

ORDERS = """
.event order_placed(order: symbol, client: symbol, sym: symbol, qty: number, t: time)
.event order_filled(order: symbol, qty: number, t: time)
.decl vip(client: symbol)
filled(o, n) :- order_placed(o, _, _, _, _), n = sum q : { order_filled(o, q, _) }.
open_order(o, c, s) :- order_placed(o, c, s, q, _), filled(o, f), f < q.
vip_open(o) :- open_order(o, c, _), vip(c).
"""
PLACED = [("o1", "c1", "AAPL", 10, 1), ("o2", "c2", "MSFT", 5, 2), ("o3", "c1", "MSFT", 7, 3)]
FILLED = [("o1", 6, 5), ("o1", 4, 2), ("o2", 5, 4)]  # out of time order on purpose
QUERIES = ("open_order(o, c, s)", "filled(o, n)", "vip_open(o)")


def _answers(engine) -> dict:
    return {(query, as_of): engine.query(query, as_of=as_of).rows
            for query in QUERIES for as_of in (None, 0, 1, 2, 3, 4, 5)}


def test_assert_many_answers_like_the_equivalent_assert_facts_calls(engine_factory):
    one_by_one, many = engine_factory(ORDERS), engine_factory(ORDERS)
    steps = [  # (relation, rows, seqs) per step, applied twice: the second adds nothing
        [("order_placed", PLACED[:2], [1, 2]), ("order_filled", FILLED[1:2], [3])],
        [("order_placed", PLACED[2:], [4]), ("order_filled", FILLED, [5, 3, 6]),
         ("vip", [("c1",)], None)],
    ]
    for step in steps + steps:
        expected = sum(one_by_one.assert_facts(r, rows, seqs=seqs) for r, rows, seqs in step)
        assert many.assert_many({r: (rows, seqs) for r, rows, seqs in step}) == expected
        assert _answers(many) == _answers(one_by_one)
    assert many.query("vip_open(o)").rows == (("o3",),)  # not vacuous


def test_a_bad_row_in_a_later_relation_rejects_the_whole_batch(engine_factory):
    orders = engine_factory(ORDERS)
    for bad in ({"order_filled": ([("o1", "four", 2)], None)},
                {"order_filled": ([("o1", 4)], None)},
                {"order_filled": (FILLED, [1, 2])},
                {"no_such_relation": ([("x",)], None)}):
        with pytest.raises(QueryError):
            orders.assert_many({"order_placed": (PLACED, None), **bad})
    assert orders.query("order_placed(o, _, _, _, _)").rows == ()
    assert orders.query("filled(o, n)").rows == ()


def test_an_empty_batch_is_a_no_op(engine_factory):
    orders = engine_factory(ORDERS, {"order_placed": PLACED})
    before = _answers(orders)
    assert orders.assert_many({}) == 0
    assert orders.assert_many({"order_filled": ([], None), "vip": ((), [])}) == 0
    assert _answers(orders) == before
