"""Determinism: two replays agree, a re-run simulation matches, and a perturbation is named."""

from __future__ import annotations

import dataclasses
import sqlite3

from audit_support import AUDIT_CONFIG

from sim.projections import ReadModels
from sim.snapshots import take_snapshots
from sim.store import open_store
from sim.validate import validate_replay, validate_resimulate


def _perturbed_at(seq: int):
    """A factory whose second read models misbook the position change at `seq`."""
    made = []

    class Perturbed(ReadModels):
        def apply(self, at, type, time, payload):
            touched = super().apply(at, type, time, payload)
            if at == seq:
                key = (payload["client"], payload["symbol"])
                self.positions.holdings[key].qty += 1
            return touched

    def make():
        made.append(None)
        return ReadModels() if len(made) == 1 else Perturbed()
    return make


def test_two_replays_of_the_log_agree(audit_store):
    result = validate_replay(audit_store)
    assert result.ok and result.difference is None
    assert result.events == audit_store.head()[0]
    assert result.digest == ReadModels.from_state(
        _rebuilt_state(audit_store)).digest()


def _rebuilt_state(store):
    from sim.replayer import models_at

    return models_at(store, store.head()[0], use_snapshots=False)[0].state()


def test_a_perturbed_replay_is_caught_at_its_seq(audit_store):
    target = list(audit_store.read(types=["PositionIncreased"], limit=40))[-1]
    result = validate_replay(audit_store, make_models=_perturbed_at(target.seq))
    assert not result.ok
    difference = result.difference
    assert (difference.seq, difference.type, difference.projection) == (
        target.seq, "PositionIncreased", "positions")
    assert difference.key == ("holding", (target.payload["client"], target.payload["symbol"]))
    assert difference.right[2] == difference.left[2] + 1 == target.payload["qty"] + 1
    text = difference.format()
    assert f"first difference at seq {target.seq} (PositionIncreased)" in text
    assert f"{target.payload['client']}" in text


def test_a_range_is_replayed_into_fresh_states(audit_store):
    result = validate_replay(audit_store, from_seq=5_000, to_seq=9_000)
    assert result.ok and (result.first_seq, result.last_seq, result.events) == (5_000, 9_000,
                                                                              4_001)


def test_replays_are_checked_against_stored_snapshots(store_copy):
    with open_store(store_copy) as store:
        take_snapshots(store, every=6_000)
        assert validate_replay(store).checked_snapshots[:2] == [6_000, 12_000]
        store.conn.execute("UPDATE snapshots SET state_hash = ? WHERE seq = 12000", ("a" * 64,))
        result = validate_replay(store)
        assert not result.ok and (result.difference.seq, result.difference.projection) == (
            12_000, "snapshot")


def test_the_simulator_reproduces_the_stored_log(audit_store):
    result = validate_resimulate(audit_store, AUDIT_CONFIG)
    assert result.ok and result.events == audit_store.head()[0]


def test_another_config_is_caught_at_the_first_event_it_changes(audit_store):
    fewer = dataclasses.replace(AUDIT_CONFIG, ticks=AUDIT_CONFIG.ticks - 1)
    result = validate_resimulate(audit_store, fewer)
    assert not result.ok and result.difference.right == "the simulation ends before it"
    assert result.difference.seq == result.events + 1


def test_a_tampered_event_is_caught_at_its_seq(store_copy):
    with open_store(store_copy) as store:
        target = list(store.read(types=["TradeExecuted"], limit=10))[-1]
    # Tamper as an attacker with the file would: drop the trigger and rewrite one payload.
    conn = sqlite3.connect(store_copy)
    conn.execute("DROP TRIGGER events_no_update")
    conn.execute("UPDATE events SET payload = replace(payload, '\"qty\":', '\"qty\":1') "
                 "WHERE seq = ?", (target.seq,))
    conn.commit()
    conn.close()
    with open_store(store_copy) as store:
        result = validate_resimulate(store, AUDIT_CONFIG)
    assert not result.ok
    difference = result.difference
    assert (difference.seq, difference.type, difference.key) == (target.seq, "TradeExecuted",
                                                                 ("payload.qty",))
    assert difference.right == {"payload.qty": target.payload["qty"]}
    assert difference.left == {"payload.qty": int(f"1{target.payload['qty']}")}


def test_a_runs_settings_round_trip_in_their_order():
    from sim.runs import config_from_json, config_to_json

    shuffled = dataclasses.replace(AUDIT_CONFIG, symbols={"TSLA": 24_000, "AAPL": 19_000},
                                   tif_weights={"ioc": 5, "day": 95})
    for config in (AUDIT_CONFIG, shuffled):
        again = config_from_json(config_to_json(config))
        assert again == config
        assert list(again.symbols) == list(config.symbols)
        assert list(again.tif_weights) == list(config.tif_weights)


def test_a_store_without_its_runs_settings_cannot_be_resimulated(audit_store):
    import pytest

    from sim.runs import RunNotRecorded, recorded_config

    with pytest.raises(RunNotRecorded, match="does not record the simulator settings"):
        recorded_config(audit_store)
