"""Read models: rebuilt from events, kept up incrementally, exact, agreeing with the rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import engine_from_files
from sim.audit.compliance import compliance
from sim.facts import replay as replay_facts
from sim.projections import ReadModels
from sim.replayer import advance, models_at

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def rebuilt(audit_db):
    from sim.store import open_store

    with open_store(audit_db) as store:
        models, _ = models_at(store, store.head()[0], use_snapshots=False)
        return models


def _ints_only(value) -> bool:
    if isinstance(value, dict):
        return all(_ints_only(v) for v in value.values())
    if isinstance(value, list | tuple):
        return all(_ints_only(v) for v in value)
    return not isinstance(value, float)


def test_positions_agree_with_the_current_position_rule(audit_store, rebuilt):
    with engine_from_files([ROOT / "rules" / "positions.dl"], "swipl") as engine:
        replay_facts(audit_store, engine)
        ruled = set(engine.query("current_position(c, s, q, a, r)", timeout=None).rows)
    projected = {(h.client, h.symbol, h.qty, h.avg_price, h.realized)
                 for h in rebuilt.positions.open_positions()}
    assert projected and projected == ruled


def test_wash_trade_findings_agree_with_the_self_trade_rule(audit_store):
    # The compliance report's wash trades are trades whose buyer is their seller: the rule
    # set calls those self_trade (its wash_trade pairs orders submitted close together).
    with engine_from_files([ROOT / "rules" / "audit.dl"], "swipl") as engine:
        replay_facts(audit_store, engine)
        ruled = {row[0] for row in
                 engine.query("self_trade(tr, c, s, q, p, t)", timeout=None).rows}
    found = {f.trade for f in compliance(audit_store).of("wash_trade")}
    assert found and found == ruled


def test_updating_incrementally_gives_the_state_of_a_rebuild(audit_store, rebuilt):
    models = ReadModels()
    head = audit_store.head()[0]
    for stop in (1, 7, head // 3, head // 2, head - 1, head):
        advance(audit_store, models, stop)
        assert models.last_seq == stop
    assert models.state() == rebuilt.state()
    assert models.digest() == rebuilt.digest()


def test_each_projection_tracks_the_last_event_it_applied(audit_store, rebuilt):
    last = {name: max(e.seq for e in audit_store.read(types=sorted(types)))
            for name, types in (("positions", rebuilt.positions.event_types()),
                                ("trades", rebuilt.trades.event_types()),
                                ("balances", rebuilt.balances.event_types()))}
    assert {p.name: p.last_seq for p in rebuilt.projections} == last
    assert rebuilt.last_seq == audit_store.head()[0]


def test_a_state_restores_to_the_same_models(rebuilt):
    again = ReadModels.from_state(rebuilt.state())
    assert again.digest() == rebuilt.digest() and again.first_difference(rebuilt) is None


def test_money_is_integer_cents_and_the_books_balance(audit_store, rebuilt):
    assert _ints_only(rebuilt.state())
    trades = rebuilt.trades.records()
    assert len(trades) == sum(1 for _ in audit_store.read(types=["TradeExecuted"]))
    for account in rebuilt.balances.accounts.values():
        assert account.opened
        # Cash moves by what was sold minus what was bought, to the cent.
        assert account.cash == account.opening + account.sold - account.bought
        settled = [t for t in trades if t.settled_seq]
        paid = sum(t.amount for t in settled if t.buyer == account.client)
        received = sum(t.amount for t in settled if t.seller == account.client)
        assert (account.settled_paid, account.settled_received) == (paid, received)
    for holding in rebuilt.positions.open_positions():
        mark = rebuilt.positions.mark(holding.symbol)
        assert holding.market_value(mark) - holding.cost == holding.unrealized(mark)


def test_the_opening_cash_is_the_configured_balance(rebuilt):
    from audit_support import AUDIT_CONFIG

    balances = {c.id: c.balance for c in AUDIT_CONFIG.clients}
    assert {c: a.opening for c, a in rebuilt.balances.accounts.items()} == balances


def test_events_apply_in_seq_order_only():
    models = ReadModels()
    models.apply(5, "MarketOpened", 0, {"day": 0})
    with pytest.raises(ValueError, match="seq 5 is not after 5"):
        models.apply(5, "MarketOpened", 0, {"day": 0})
