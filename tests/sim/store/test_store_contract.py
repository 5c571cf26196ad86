"""The EventStore contract, run on every backend: append-only, chained, atomic, idempotent."""

from __future__ import annotations

import io
import json

import pytest
from prices import price

from engine import EventRejected
from sim.events.types import Event
from sim.store import GENESIS_HASH, ConcurrencyConflict, StoreCorrupted, StoreNotFound, open_store


def test_append_numbers_events_gaplessly_and_the_chain_verifies(store, sim_events):
    seqs = store.append(sim_events[:100])
    seqs += store.append(sim_events[100:])
    assert seqs == list(range(1, len(sim_events) + 1))
    result = store.verify()
    assert result.ok and result.events == len(sim_events)
    assert (result.last_seq, result.last_hash) == store.head()
    assert store.head()[1] != GENESIS_HASH


def test_stored_events_read_back_as_appended(filled, sim_events):
    stored = list(filled.read())
    assert [e.event_id for e in stored] == [e.event_id for e in sim_events]
    assert [e.payload for e in stored] == [e.payload for e in sim_events]
    assert [(e.stream_id, e.version) for e in stored] == [
        (e.stream_id, e.version) for e in sim_events]


# ---- all or nothing --------------------------------------------------------------

def _valid(n: int) -> list[Event]:
    return [price(time=i, cents=19_000 + i) for i in range(n)]


@pytest.mark.parametrize("bad, field", [
    (Event("PriceWobbled", 5, "market-AAPL", {"symbol": "AAPL"}), "type"),
    (Event("PriceUpdated", 5, "market-AAPL", {"symbol": "AAPL"}), "payload.price"),
    (Event("PriceUpdated", 5, "market-AAPL", {"symbol": "AAPL", "price": "190.00"}),
     "payload.price"),
    (Event("PriceUpdated", 5, "market-AAPL", {"symbol": "AAPL", "price": 190.0}),
     "payload.price"),
    (Event("PriceUpdated", 5, "market-AAPL", {"symbol": "AAPL", "price": 1, "x": 1}),
     "payload.x"),
    (Event("VolumeUpdated", 5, "market-AAPL", {"symbol": "AAPL", "volume": -3,
                                               "day_volume": 3}), "payload.volume"),
    (Event("PriceUpdated", -1, "market-AAPL", {"symbol": "AAPL", "price": 1}), "time"),
    (Event("PriceUpdated", 5, "", {"symbol": "AAPL", "price": 1}), "stream_id"),
    (price(time=1), "time"),  # the stream is at time 2 by then: time may not go back
])
def test_an_invalid_event_rejects_its_whole_batch_naming_event_and_field(store, bad, field):
    store.append([price(time=0)])
    before = store.head()
    batch = _valid(3) + [bad] + _valid(2)
    batch = [e._replace(time=max(e.time, 2)) if e is not bad else e for e in batch]
    with pytest.raises(EventRejected) as caught:
        store.append(batch)
    message = str(caught.value)
    assert message.startswith("event 3 (")
    assert f"{field} " in message
    assert caught.value.field == field and caught.value.index == 3
    assert store.head() == before
    assert store.verify().ok


def test_appends_from_dicts_are_checked_too(store):
    with pytest.raises(EventRejected, match="colour is not a field of an event"):
        store.append([{**price()._asdict(), "colour": "red"}])
    with pytest.raises(EventRejected, match="payload is missing"):
        store.append([{"type": "PriceUpdated", "time": 0, "stream_id": "market-AAPL"}])
    assert store.append([price()._asdict()]) == [1]


def test_an_id_already_stored_rejects_the_batch(store):
    store.append([price(event_id="e-1")])
    with pytest.raises(EventRejected, match="event 1 .*event_id is already in the store"):
        store.append([price(time=1), price(time=2, event_id="e-1")])
    assert store.head()[0] == 1


# ---- idempotency and concurrency --------------------------------------------------

def test_a_repeated_idempotency_key_returns_the_original_seq(store):
    assert store.append(_valid(2)) == [1, 2]
    assert store.append([price(time=5, idempotency_key="k1")]) == [3]
    assert store.append([price(time=6), price(time=7, idempotency_key="k1")]) == [4, 3]
    assert store.append([price(time=8, idempotency_key="k2"),
                         price(time=9, idempotency_key="k2")]) == [5, 5]
    assert store.head()[0] == 5 and store.verify().ok


@pytest.mark.parametrize("changed,field", [
    (dict(cents=19_001), "payload"),
    (dict(symbol="MSFT"), "stream_id"),
])
def test_a_repeated_key_with_another_request_is_refused(store, changed, field):
    assert store.append([price(time=5, idempotency_key="k1")]) == [1]
    with pytest.raises(EventRejected, match=rf"event 1 \(PriceUpdated\): idempotency_key 'k1' "
                       rf"was used by seq 1 with another {field} .*a new request needs a new "
                       r"key; nothing of the batch of 2 was written"):
        store.append([price(time=6), price(time=7, idempotency_key="k1", **changed)])
    assert store.head()[0] == 1
    # ... and within one batch too, before anything is stored.
    with pytest.raises(EventRejected, match="event 1 .*'k2' was used by seq 2 with another"):
        store.append([price(time=8, idempotency_key="k2"),
                      price(time=9, idempotency_key="k2", cents=1)])
    assert store.head()[0] == 1 and store.verify().ok


def test_expected_versions_guard_against_lost_updates(store):
    store.append([price(time=1), price(time=2)])
    assert store.stream_version("market-AAPL") == 2
    with pytest.raises(ConcurrencyConflict, match="at version 2, not the expected 1"):
        store.append([price(time=3)], expected_versions={"market-AAPL": 1})
    with pytest.raises(ConcurrencyConflict, match="expects stream market-AAPL at version 4"):
        store.append([price(time=3), price(time=4, version=5)])
    assert store.head()[0] == 2
    assert store.append([price(time=3, version=3)],
                        expected_versions={"market-AAPL": 2, "market-MSFT": 0}) == [3]


def test_two_writers_interleave_without_breaking_the_chain(store_url):
    url = store_url("shared")
    with open_store(url, create=True) as one, open_store(url) as two:
        for i in range(5):
            one.append([price("AAPL", time=i)])
            two.append([price("MSFT", time=i)])
        with pytest.raises(ConcurrencyConflict):
            one.append([price("MSFT", time=9, version=5)])  # two wrote version 5 already
        one.append([price("MSFT", time=9, version=6)])
        assert one.verify().ok and two.verify().ok
        assert one.head() == two.head() == (11, one.head()[1])


# ---- reads ---------------------------------------------------------------------

def test_reads_by_range_type_stream_and_correlation(filled, sim_events):
    assert [e.seq for e in filled.read(from_seq=10, to_seq=14)] == [10, 11, 12, 13, 14]
    in_time = list(filled.read(from_time=100, to_time=110))
    assert in_time and all(100 <= e.time <= 110 for e in in_time)
    assert len(in_time) == sum(1 for e in sim_events if 100 <= e.time <= 110)
    fills = list(filled.read(types=["OrderFilled", "OrderPartiallyFilled"]))
    assert fills and {e.type for e in fills} == {"OrderFilled", "OrderPartiallyFilled"}
    order = fills[0].payload["order"]
    stream = list(filled.read(stream_id="order-" + order))
    assert [e.version for e in stream] == list(range(1, len(stream) + 1))
    assert stream[0].type == "OrderSubmitted"
    chain = list(filled.read(correlation_id=stream[0].event_id))
    assert chain[0].event_id == stream[0].event_id
    assert {"OrderValidated", "RiskChecked", "OrderAccepted"} <= {e.type for e in chain}
    assert len(list(filled.read(types=["OrderFilled"], limit=2))) == 2


@pytest.mark.parametrize("bounds", [{}, {"from_seq": 40}, {"to_time": 120},
                                    {"from_seq": 40, "to_time": 120}])
def test_facts_are_read_as_the_events_are(filled, bounds):
    expected = [(e.seq, e.type, e.time, e.payload) for e in filled.read(**bounds)]
    assert expected and list(filled.read_facts(**bounds)) == expected


def test_causation_chain_walks_back_to_the_root(filled):
    position = next(filled.read(types=["PositionIncreased", "PositionOpened"]))
    chain = filled.causation_chain(position.event_id)
    assert chain[-1] == position
    assert chain[0].causation_id is None
    assert chain[0].type == "OrderSubmitted"
    for cause, effect in zip(chain, chain[1:]):
        assert effect.causation_id == cause.event_id
        assert effect.correlation_id == chain[0].event_id
    assert [e.type for e in chain[:2]] == ["OrderSubmitted", "OrderValidated"]
    assert "TradeExecuted" in [e.type for e in chain]


def test_stats_count_each_type_with_its_first_and_last_time(filled, sim_events):
    stats = {s.type: s for s in filled.stats()}
    assert sum(s.count for s in stats.values()) == len(sim_events)
    submitted = [e for e in sim_events if e.type == "OrderSubmitted"]
    assert stats["OrderSubmitted"].count == len(submitted)
    assert stats["OrderSubmitted"].first_time == submitted[0].time
    assert stats["OrderSubmitted"].last_time == submitted[-1].time


def test_stats_within_a_time_window(filled):
    window = {s.type: s for s in filled.stats(since=50, until=120)}
    events = list(filled.read(from_time=50, to_time=120))
    assert sum(s.count for s in window.values()) == len(events)
    assert all(50 <= s.first_time <= s.last_time <= 120 for s in window.values())
    assert filled.stats(since=10**9) == []


@pytest.mark.parametrize("types", [None, ("TradeExecuted", "PriceUpdated")])
def test_a_scan_gives_each_events_payload_as_stored(filled, types):
    scanned = list(filled.scan(30, 900, types))
    expected = list(filled.read(from_seq=30, to_seq=900, types=types))
    assert [row[:3] for row in scanned] == [(e.seq, e.type, e.time) for e in expected]
    assert [json.loads(row[3]) for row in scanned] == [e.payload for e in expected]


def test_events_by_seq_and_the_last_seq_at_a_time(filled, sim_events):
    assert filled.get_seq(17).event_id == sim_events[16].event_id
    assert filled.get_seq(10**9) is None
    at_100 = max(i for i, e in enumerate(sim_events, 1) if e.time <= 100)
    assert filled.last_seq_at(100) == at_100
    assert filled.last_seq_at(-1) == 0


def test_snapshots_are_kept_beside_the_log(filled):
    head, head_hash = filled.head()
    assert filled.load_snapshot(head, 1) is None and filled.list_snapshots(1) == []
    filled.save_snapshot(10, "h10", "s10", b"state at 10", 1)
    filled.save_snapshot(20, "h20", "s20", b"state at 20", 1)
    filled.save_snapshot(15, "h15", "s15", b"another format", 2)
    assert filled.load_snapshot(19, 1) == (10, "h10", "s10", b"state at 10")
    assert filled.load_snapshot(head, 2)[0] == 15
    filled.save_snapshot(20, "h20", "s20b", b"again", 1)  # one snapshot per seq
    assert filled.list_snapshots(1) == [(10, "h10", "s10", 11), (20, "h20", "s20b", 5)]
    assert filled.head() == (head, head_hash) and filled.verify().ok


def test_engine_snapshots_are_kept_per_program_beside_the_read_models_ones(filled):
    head, head_hash = filled.head()
    assert filled.load_engine_snapshot("pA", head) is None
    assert filled.list_engine_snapshots() == []
    filled.save_snapshot(10, "h10", "s10", b"read models at 10", 1)
    filled.save_engine_snapshot(10, "pA", "h10", "e10", b"\x00engine A at 10\xff")
    filled.save_engine_snapshot(10, "pB", "h10", "f10", b"engine B at 10")
    filled.save_engine_snapshot(30, "pA", "h30", "e30", b"engine A at 30")
    assert filled.load_engine_snapshot("pA", 29) == (10, "h10", "e10",
                                                     b"\x00engine A at 10\xff")
    assert filled.load_engine_snapshot("pA", head)[0] == 30
    assert filled.load_engine_snapshot("pB", head)[0] == 10
    assert filled.load_engine_snapshot("pC", head) is None
    assert filled.load_snapshot(head, 1) == (10, "h10", "s10", b"read models at 10")
    filled.save_engine_snapshot(30, "pA", "h30", "e30b", b"again")  # one per program and seq
    assert filled.list_engine_snapshots("pA") == [(10, "pA", "h10", "e10", 16),
                                                  (30, "pA", "h30", "e30b", 5)]
    assert [row[:2] for row in filled.list_engine_snapshots()] == [
        (10, "pA"), (10, "pB"), (30, "pA")]
    assert filled.head() == (head, head_hash) and filled.verify().ok


def test_metadata_is_kept_beside_the_log(filled):
    assert filled.get_meta("sim.config") is None
    filled.set_meta("sim.config", '{"seed": 7}')
    filled.set_meta("sim.config", '{"seed": 8}')
    assert filled.get_meta("sim.config") == '{"seed": 8}'


# ---- export and import ------------------------------------------------------------

def test_jsonl_export_and_import_round_trip(filled, new_store):
    exported = io.StringIO()
    count = filled.export_jsonl(exported)
    text = exported.getvalue()
    with new_store("copy") as copy:
        assert copy.import_jsonl(io.StringIO(text)) == count
        again = io.StringIO()
        copy.export_jsonl(again)
        assert again.getvalue() == text
        assert copy.head() == filled.head()
        assert copy.verify().ok
        # and the copy takes new events on the same chain
        copy.append([price(time=10_000)])
        assert copy.verify().ok


def test_import_re_verifies_the_chain_and_writes_nothing_on_failure(filled, new_store):
    lines = io.StringIO()
    filled.export_jsonl(lines)
    records = [json.loads(line) for line in lines.getvalue().splitlines()]
    records[40]["ts"] += 1
    tampered = "\n".join(json.dumps(r) for r in records)
    with new_store("copy") as copy:
        with pytest.raises(StoreCorrupted, match="line 41: hash of seq 41"):
            copy.import_jsonl(io.StringIO(tampered))
        assert copy.head() == (0, GENESIS_HASH)
        with pytest.raises(StoreCorrupted, match="line 1: seq 2 does not follow 0"):
            copy.import_jsonl(io.StringIO("\n".join(lines.getvalue().splitlines()[1:])))


# ---- opening -------------------------------------------------------------------

def test_opening_a_store_that_is_not_there_fails_clearly(store_url):
    with pytest.raises(FileNotFoundError):
        open_store(store_url("missing"))
    with pytest.raises(StoreNotFound, match="no event store at"):
        open_store(store_url("missing"))
