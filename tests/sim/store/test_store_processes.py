"""The store contract across processes: a writer killed mid-append, the writer process,
tailing another process's appends. Every test runs once per EventStore backend."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from prices import price

from engine import EventRejected, TempologError
from sim.config import SimConfig
from sim.exchange.simulator import Simulation
from sim.sinks import StoreSink
from sim.store import open_store

# ---- a writer killed mid-append ------------------------------------------------------

WRITER = """
import sys
from sim.events.types import Event
from sim.store import open_store

store, t = open_store(sys.argv[1], create=True), 0
while True:
    batch = []
    for _ in range(2_000):
        batch.append(Event("PriceUpdated", t, "market-AAPL", {"symbol": "AAPL", "price": t}))
        t += 1
    print(store.append(batch)[-1], flush=True)
"""


def test_a_writer_killed_mid_append_leaves_a_valid_chain_and_its_commits(store_url):
    path = store_url("killed")
    root = Path(__file__).resolve().parents[3]
    child = subprocess.Popen([sys.executable, "-c", WRITER, path], stdout=subprocess.PIPE,
                             text=True, cwd=root, env={**os.environ, "PYTHONPATH": str(root)})
    committed = [int(child.stdout.readline()) for _ in range(4)]
    child.send_signal(signal.SIGKILL)  # most likely in the middle of the fifth batch
    child.wait()
    assert child.returncode == -signal.SIGKILL
    with open_store(path) as store:
        result = store.verify()
        assert result.ok, result.reason
        assert result.last_seq >= committed[-1]
        assert result.last_seq % 2_000 == 0  # whole batches only
        assert [e.payload["price"] for e in store.read(from_seq=committed[-1] - 1,
                                                       to_seq=committed[-1])] == [
            committed[-1] - 2, committed[-1] - 1]
        store.append([price(time=10**6)])  # and it takes appends again
        assert store.verify().ok


# ---- the writer process ----------------------------------------------------------------

def test_the_writer_process_stores_what_an_inline_append_would(new_store):
    config = SimConfig(ticks=150, seed=3)
    heads = []
    for process in (False, True):
        with new_store(f"run-{process}") as store:
            Simulation(config).run([StoreSink(store, batch_size=700, process=process)])
            heads.append(store.head())
            assert store.verify().ok
    assert heads[0] == heads[1] and heads[0][0] > 1_000


def test_the_writer_process_reports_a_rejected_batch(new_store):
    with new_store("bad") as store:
        sink = StoreSink(store, batch_size=1, process=True)
        sink.on_tick(0, [price(time=0)])
        sink.on_tick(1, [price(time=1)._replace(payload={"symbol": "AAPL", "price": -1})])
        with pytest.raises(EventRejected, match="payload.price must not be negative"):
            sink.close()
        assert store.head()[0] == 1


def test_a_sink_refuses_a_store_that_is_not_empty(filled):
    with pytest.raises(TempologError, match="already holds"):
        StoreSink(filled)


# ---- tailing ---------------------------------------------------------------------------

APPENDER = """
import sys, time
from sim.events.types import Event
from sim.store import open_store

with open_store(sys.argv[1]) as store:
    for n in range(1, int(sys.argv[2]) + 1):
        store.append([Event("PriceUpdated", n, "market-AAPL", {"symbol": "AAPL", "price": n})])
        time.sleep(0.005)
"""


def test_a_follower_sees_every_event_another_process_appends_once_in_order(store):
    store.append([price(time=0)])
    root = Path(__file__).resolve().parents[3]
    appender = subprocess.Popen([sys.executable, "-c", APPENDER, store.url, "40"], cwd=root,
                                env={**os.environ, "PYTHONPATH": str(root)})
    seen = []
    for event in store.follow(2, timeout=30):  # resumes after seq 1, as if it had applied it
        seen.append((event.seq, event.payload["price"]))
        if event.seq == 41:
            break
    assert appender.wait(timeout=30) == 0
    assert seen == [(n + 1, n) for n in range(1, 41)]
    assert list(store.follow(42, timeout=0.2)) == []  # caught up: nothing, then the timeout


def test_wait_for_append_wakes_on_another_writers_commit(store):
    store.append([price(time=0)])
    assert store.wait_for_append(0, timeout=5) == 1  # already past: no wait
    started = time.monotonic()
    assert store.wait_for_append(1, timeout=0.3) == 1  # nothing new: the timeout
    assert time.monotonic() - started >= 0.3

    def append_elsewhere():
        with open_store(store.url) as other:
            other.append([price(time=1)])

    timer = threading.Timer(0.1, append_elsewhere)
    timer.start()
    assert store.wait_for_append(1, timeout=30) == 2
    timer.join()


def test_follow_stops_soon_after_it_is_asked_to(store):
    store.append([price(time=0), price(time=1)])
    stop = threading.Event()
    seen = []
    for event in store.follow(1, stop=stop):
        seen.append(event.seq)
        stop.set()
    assert seen == [1, 2]  # what was already there, then it stops instead of waiting
