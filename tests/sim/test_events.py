"""The canonical forms: a payload's fast encoding and a row's bytes are canonical JSON."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sim.events.ids import canonical_json
from sim.events.types import EVENT_TYPES, KINDS
from sim.events.validate import payload_problem
from sim.store.chain import row_bytes

texts = st.text(min_size=1, max_size=12)
numbers = st.integers(0, 2**63 - 1)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(EVENT_TYPES)), st.data())
def test_the_fast_payload_encoding_is_canonical_json(type_name, data):
    event_type = EVENT_TYPES[type_name]
    payload = {name: data.draw(numbers if KINDS[kind].python is int else texts)
               for name, kind in event_type.fields}
    assert event_type.encode(payload) == canonical_json(payload)
    assert payload_problem(event_type, payload) is None
    broken = dict(payload, **{event_type.fields[0][0]: None})
    assert event_type.encode(broken) is None and payload_problem(event_type, broken)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 10**9), texts, texts, st.integers(0, 10**6), st.one_of(st.none(), texts))
def test_row_bytes_are_canonical_json_of_the_row(seq, event_id, stream, time, key):
    payload = canonical_json({"symbol": stream, "price": time})
    row = [seq, event_id, "PriceUpdated", time, time * 7, stream, seq, None, event_id, key]
    expected = canonical_json(row)[:-1] + "," + payload + "]"
    assert row_bytes(*row, payload) == expected.encode("ascii")
