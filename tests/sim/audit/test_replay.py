"""Replay: selections, pacing by simulated time, engines, and resuming from snapshots."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import engine_from_files
from sim.replayer import (
    Pacer,
    ReplayError,
    Selection,
    models_at,
    replay_engine,
    replay_models,
    select,
)
from sim.snapshots import latest_snapshot, snapshots, take_snapshots
from sim.store import StoreCorrupted, open_store

ROOT = Path(__file__).resolve().parents[3]


def test_a_selection_keeps_only_its_types_times_and_seqs(audit_store):
    selection = Selection(from_seq=100, to_seq=5000, from_time=10, to_time=90,
                          types=("OrderFilled", "TradeExecuted"))
    chosen = list(select(audit_store, selection))
    assert chosen and {e.type for e in chosen} == {"OrderFilled", "TradeExecuted"}
    assert all(100 <= e.seq <= 5000 and 10 <= e.time <= 90 for e in chosen)
    assert [e.seq for e in chosen] == sorted(e.seq for e in chosen)


def test_a_symbol_filter_keeps_the_events_of_that_symbols_orders(audit_store):
    orders = {e.payload["order"]: e.payload["symbol"]
              for e in audit_store.read(types=["OrderSubmitted"])}
    chosen = list(select(audit_store, Selection(from_seq=2000, symbols=("AAPL",))))
    fills = [e for e in chosen if e.type == "OrderFilled"]
    assert fills and all(orders[e.payload["order"]] == "AAPL" for e in fills)
    every_fill = [e for e in audit_store.read(from_seq=2000, types=["OrderFilled"])
                  if orders[e.payload["order"]] == "AAPL"]
    assert fills == every_fill  # including orders submitted before seq 2000
    assert all(e.payload.get("symbol", "AAPL") == "AAPL" for e in chosen)


def test_a_client_filter_keeps_that_clients_events(audit_store):
    chosen = list(select(audit_store, Selection(clients=("client-3",), to_seq=8000)))
    trades = [e for e in chosen if e.type == "TradeExecuted"]
    assert trades and all("client-3" in (e.payload["buyer"], e.payload["seller"])
                          for e in trades)
    assert {e.payload["client"] for e in chosen if "client" in e.payload} == {"client-3"}
    result = replay_models(audit_store, Selection(clients=("client-3",)))
    assert {h.client for h in result.models.positions.holdings.values()} == {"client-3"}


class FakeClock:
    def __init__(self):
        self.now, self.slept = 100.0, []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


@pytest.mark.parametrize("speed", [1, 10])
def test_a_replay_keeps_to_the_simulated_pace(audit_store, speed):
    fake = FakeClock()
    pacer = Pacer(speed, fake.clock, fake.sleep)
    selection = Selection(from_seq=1, to_seq=400)
    result = replay_models(audit_store, selection, speed=speed, pacer=pacer)
    events = list(audit_store.read(from_seq=1, to_seq=400))
    span = (events[-1].ts - events[0].ts) / 1e6
    assert result.events == 400
    assert sum(fake.slept) == pytest.approx(span / speed)
    assert result.waited == pytest.approx(span / speed)


def test_speed_zero_never_waits_and_a_negative_speed_is_refused(audit_store):
    fake = FakeClock()
    replay_models(audit_store, Selection(to_seq=400), pacer=Pacer(0, fake.clock, fake.sleep))
    assert fake.slept == []
    with pytest.raises(ReplayError, match="--speed"):
        Pacer(-1)
    with pytest.raises(ReplayError, match="empty"):
        Selection(from_seq=9, to_seq=3)


def test_a_real_paced_replay_takes_its_simulated_time(audit_store):
    first = audit_store.get_seq(1)
    last = next(e for e in audit_store.read(from_seq=1) if e.ts - first.ts >= 2_000_000)
    result = replay_models(audit_store, Selection(to_seq=last.seq), speed=20)
    assert result.waited == pytest.approx((last.ts - first.ts) / 1e6 / 20, abs=0.02)
    assert result.elapsed >= result.waited


def test_replaying_into_an_engine_answers_the_rules(audit_store):
    with engine_from_files([ROOT / "rules" / "audit.dl"], "swipl") as engine:
        result = replay_engine(audit_store, engine, Selection(types=("TradeExecuted",)))
        trades = sum(1 for _ in audit_store.read(types=["TradeExecuted"]))
        # each trade is a payload fact and an envelope fact (audit.dl reads the envelope)
        assert result.events == trades and result.facts == 2 * trades
        washes = engine.query("self_trade(tr, c, s, q, p, t)", timeout=None)
        assert 0 < len(washes) < trades


def test_replay_from_a_seq_resumes_from_the_latest_snapshot_before_it(store_copy):
    with open_store(store_copy) as store:
        head = store.head()[0]
        taken = take_snapshots(store, every=5_000)
        assert [s.seq for s in taken] == [*range(5_000, head, 5_000), head]
        full = replay_models(store, use_snapshots=False)
        resumed = replay_models(store, Selection(from_seq=12_345))
        assert resumed.snapshot.seq == 10_000 and resumed.first_seq == 10_001
        assert resumed.events == head - 10_000
        assert resumed.models.digest() == full.models.digest()
        ignored = replay_models(store, Selection(from_seq=12_345), use_snapshots=False)
        assert ignored.snapshot is None and ignored.first_seq == 1
        assert take_snapshots(store, every=5_000) == []  # nothing new to snapshot


def test_a_snapshot_is_the_state_of_a_replay_to_its_seq(store_copy):
    with open_store(store_copy) as store:
        take_snapshots(store, every=7_000)
        for snapshot in snapshots(store):
            models, used = models_at(store, snapshot.seq, use_snapshots=False)
            assert used is None and models.digest() == snapshot.state_hash


def test_a_snapshot_whose_event_or_state_changed_is_refused(store_copy):
    with open_store(store_copy) as store:
        take_snapshots(store, every=5_000)
        store.conn.execute("UPDATE snapshots SET event_hash = ? WHERE seq = 10000", ("0" * 64,))
        with pytest.raises(StoreCorrupted, match="snapshot at seq 10000 stands for event hash"):
            latest_snapshot(store, 12_000)
        assert latest_snapshot(store, 9_999).seq == 5_000
        store.conn.execute("UPDATE snapshots SET state_hash = ? WHERE seq = 5000", ("f" * 64,))
        with pytest.raises(StoreCorrupted, match="does not match its own digest"):
            replay_models(store, Selection(from_seq=6_000))
