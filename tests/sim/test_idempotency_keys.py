"""Every submission has its own idempotency key, so every seed's run appends cleanly."""

from __future__ import annotations

from collections import Counter

import pytest

from sim.config import SimConfig
from sim.exchange.simulator import simulate
from sim.store import open_store


def test_malformed_orders_keep_their_senders_unique_keys():
    # Half the orders malformed, a fifth of those with an unknown client id: before keys
    # were the sender's, "client-0/N" came up for two senders' N-th orders.
    events = simulate(SimConfig(ticks=200, seed=1, bad_order_rate=0.5))
    submitted = [e for e in events if e.type == "OrderSubmitted"]
    keys = Counter(e.idempotency_key for e in submitted)
    assert len(keys) == len(submitted) and max(keys.values()) == 1
    strangers = [e for e in submitted if e.payload["client"] == "client-0"]
    assert len(strangers) > 50
    assert all(e.idempotency_key.split("/")[0] in {"client-1", "client-2", "client-3",
                                                    "client-4"} for e in strangers)


@pytest.mark.parametrize("seed", range(1, 31))
def test_every_seed_appends_cleanly(seed):
    events = simulate(SimConfig(ticks=120, seed=seed, bad_order_rate=0.05))
    with open_store("sqlite::memory:", create=True) as store:
        seqs = store.append(events)
        assert seqs == list(range(1, len(events) + 1))
        assert store.verify().ok
