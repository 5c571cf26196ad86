"""The hash chain's two spellings agree: the append's split rows and verify's whole rows."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sim.events.ids import canonical_json
from sim.store.chain import GENESIS_HASH, chain_hash, chained_hash, row_bytes, row_template

text = st.text(st.characters(codec="utf-8"), min_size=1, max_size=20)
number = st.integers(0, 2**63 - 1)


@given(seq=number, event_id=text, type=text, time=number, ts=number, stream=text,
       version=number, causation=st.none() | text, correlation=st.none() | text,
       key=st.none() | text, payload=st.dictionaries(text, number | text, max_size=3))
def test_an_append_hashes_a_row_as_verify_recomputes_it(seq, event_id, type, time, ts, stream,
                                                        version, causation, correlation, key,
                                                        payload):
    payload_json = canonical_json(payload)
    whole = row_bytes(seq, event_id, type, time, ts, stream, version, causation, correlation,
                      key, payload_json)
    assert whole == canonical_json([seq, event_id, type, time, ts, stream, version, causation,
                                    correlation, key, payload]).encode("ascii")
    template = row_template(type, time, ts, stream, causation, key, payload_json)
    assert chained_hash(GENESIS_HASH, seq, event_id, version, correlation, *template) == (
        chain_hash(GENESIS_HASH, whole))
