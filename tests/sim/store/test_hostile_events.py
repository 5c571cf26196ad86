"""Hostile appends are rejected whole with the event and field named, on every store
backend, never with a raw Python exception (issue 14)."""

from __future__ import annotations

import pytest

from engine import EventRejected
from sim.events.types import MAX_FIELD_TEXT, Event


def price(time=0, symbol="AAPL", **envelope) -> Event:
    return Event("PriceUpdated", time, "market-AAPL", {"symbol": symbol, "price": 19_000},
                 **envelope)


@pytest.fixture
def store(new_store):
    return new_store()


@pytest.mark.parametrize("bad, field", [
    (price(time=2**63), "time"),
    (price(time=2**62), "time"),  # no ts given: the ts it implies is past 64 bits
    (price(ts=2**63), "ts"),
    (price(version=2**63), "version"),
    (price(idempotency_key=["k"]), "idempotency_key"),
    (price(event_id="\ud800"), "event_id"),
    (price()._replace(stream_id="market-\udfff"), "stream_id"),
    (price(symbol="A\ud800"), "payload.symbol"),
    (price(symbol="A" * (MAX_FIELD_TEXT + 1)), "payload.symbol"),
    (price()._replace(payload=["AAPL", 1]), "payload"),
])
def test_a_hostile_event_rejects_its_batch_naming_event_and_field(store, bad, field):
    store.append([price()])
    before = store.head()
    with pytest.raises(EventRejected) as caught:
        store.append([price(time=1), price(time=2), bad, price(time=3)])
    assert caught.value.index == 2 and caught.value.field == field
    assert str(caught.value).startswith("event 2 (PriceUpdated")
    assert f": {field} " in str(caught.value)
    assert store.head() == before and store.verify().ok


def test_text_at_the_limits_is_stored_and_read_back(store):
    symbol = "é" * MAX_FIELD_TEXT
    [seq] = store.append([price(symbol=symbol, idempotency_key="k" * 200)])
    assert [e.payload["symbol"] for e in store.read(from_seq=seq)] == [symbol]


@pytest.mark.parametrize("expected", [["market-AAPL"], 5, {"market-AAPL": "1"}, {1: 0},
                                      {"m-\udc00": 0}])
def test_expected_versions_that_are_no_mapping_of_versions_are_rejected(store, expected):
    with pytest.raises(EventRejected, match="expected_versions"):
        store.append([price()], expected_versions=expected)
    assert len(store) == 0


def test_a_dict_event_with_a_key_that_is_not_text_is_rejected(store):
    with pytest.raises(EventRejected, match="is not a field of an event"):
        store.append([{**price()._asdict(), 1: "x"}])
