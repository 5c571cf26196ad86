"""Positions at average cost in integer cents: exact, and equal to a recomputation from trades."""

from __future__ import annotations

from collections import defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.config import SimConfig
from sim.exchange.positions import CLOSED, DECREASED, INCREASED, OPENED, apply_fill, average_price
from sim.exchange.simulator import simulate
from sim.money import div_round, format_cents, to_cents

POSITION_EVENTS = {OPENED, INCREASED, DECREASED, CLOSED}


def test_open_increase_decrease_close():
    assert apply_fill(0, 0, 10, 100) == [(OPENED, 10, 1_000, 0)]
    assert apply_fill(10, 1_000, 5, 130) == [(INCREASED, 15, 1_650, 0)]
    # selling 4 of 15 takes 4/15 of the cost: 440 cents, so 4 * 120 - 440 is realized
    assert apply_fill(15, 1_650, -4, 120) == [(DECREASED, 11, 1_210, 40)]
    assert apply_fill(11, 1_210, -11, 90) == [(CLOSED, 0, 0, -220)]


def test_a_fill_through_zero_closes_then_opens_the_other_side():
    assert apply_fill(10, 1_000, -25, 110) == [(CLOSED, 0, 0, 100), (OPENED, -15, -1_650, 0)]
    # a short gains when the price falls
    assert apply_fill(-15, -1_650, 5, 100) == [(DECREASED, -10, -1_100, 50)]


def test_the_cost_taken_by_a_reduction_rounds_half_to_even():
    assert apply_fill(3, 100, -1, 50)[0].cost == 67  # 100/3 = 33.33 -> 33 taken
    assert apply_fill(2, 101, -1, 50)[0].cost == 51  # 50.5 -> 50 taken (even)
    assert apply_fill(2, 103, -1, 50)[0].cost == 51  # 51.5 -> 52 taken (even)
    assert div_round(-7, 2) == -4 and div_round(7, -2) == -4 and div_round(5, 2) == 2


def test_money_parses_and_prints_exactly():
    assert to_cents("100000") == 10_000_000 and to_cents("0.10") == 10
    assert format_cents(-5) == "-0.05" and format_cents(123_456) == "1234.56"
    with pytest.raises(ValueError):
        to_cents("0.001")
    assert average_price(3, 100) == 33 and average_price(-2, -301) == 150 and \
        average_price(0, 0) == 0


fills = st.lists(st.tuples(st.integers(-500, 500), st.integers(1, 100_000)), max_size=60)


@settings(max_examples=300)
@given(fills)
def test_no_cent_is_lost_cost_plus_realized_equals_the_cash_paid(trades):
    """Over any sequence of fills: realized P&L - cost basis == cash in - cash out."""
    qty = cost = realized = cash = 0
    for delta, price in trades:
        for step in apply_fill(qty, cost, delta, price):
            qty, cost = step.qty, step.cost
            realized += step.realized
        cash -= delta * price
        assert realized - cost == cash
        assert (qty == 0) == (cost == 0)
        assert qty == 0 or (cost > 0) == (qty > 0)  # the basis has the position's sign
    assert qty == sum(delta for delta, _ in trades)


def _recompute(events, config):
    """Positions, realized P&L and cash from the trades alone, independently of the sim."""
    qty, cost, realized = defaultdict(int), defaultdict(int), defaultdict(int)
    cash = {client.id: client.balance for client in config.clients}
    for event in events:
        if event.type != "TradeExecuted":
            continue
        trade = event.payload
        for client, delta in ((trade["buyer"], trade["qty"]), (trade["seller"], -trade["qty"])):
            key = (client, trade["symbol"])
            cash[client] -= delta * trade["price"]
            q, c = qty[key], cost[key]
            if q == 0 or (q > 0) == (delta > 0):
                qty[key], cost[key] = q + delta, c + delta * trade["price"]
                continue
            closed = min(abs(delta), abs(q))
            taken = c if closed == abs(q) else div_round(c * closed, abs(q))
            realized[key] += closed * trade["price"] * (1 if q > 0 else -1) - taken
            rest = abs(delta) - closed
            sign = 1 if delta > 0 else -1
            qty[key] = q + sign * closed + sign * rest
            cost[key] = c - taken + sign * rest * trade["price"]
    return qty, cost, realized, cash


def test_the_sims_positions_equal_a_recomputation_from_its_trades():
    config = SimConfig(ticks=1_000, seed=8)
    events = simulate(config)
    qty, cost, realized, cash = _recompute(events, config)
    latest, last_cash = {}, {}
    for event in events:
        if event.type in POSITION_EVENTS:
            p = event.payload
            latest[(p["client"], p["symbol"])] = p
            last_cash[p["client"]] = p["cash"]
            assert p["avg_price"] == average_price(p["qty"], p["cost"])
    assert latest, "the run traded"
    for key, p in latest.items():
        assert (p["qty"], p["cost"], p["realized"]) == (qty[key], cost[key], realized[key]), key
    assert last_cash == {client: cash[client] for client in last_cash}
    traded_keys = {k for k, v in qty.items() if v} | {k for k, v in realized.items() if v}
    assert traded_keys <= set(latest)


def test_position_events_number_their_changes_and_follow_their_trades():
    events = simulate(SimConfig(ticks=400, seed=9))
    trades = {e.event_id: e for e in events if e.type == "TradeExecuted"}
    counts: dict[tuple, int] = defaultdict(int)
    for event in events:
        if event.type in POSITION_EVENTS:
            p = event.payload
            counts[(p["client"], p["symbol"])] += 1
            assert p["n"] == counts[(p["client"], p["symbol"])] == event.version
            trade = trades[event.causation_id]
            assert trade.payload["trade"] == p["trade"]
            assert p["client"] in (trade.payload["buyer"], trade.payload["seller"])
            assert (p["qty"] == 0) == (event.type == CLOSED)
