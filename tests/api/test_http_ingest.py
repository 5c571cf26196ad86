"""Writers are not starved: appends become facts while 8 readers hammer a real server."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from service_fixtures import Server

from sim import open_store

READERS = 8
APPENDS = 15
QUERIES = ('current_position(c, "AAPL", q, a, r)', 'price_updated("ING", p, t)',
           'pending_order(o, c, "MSFT", s, q, p)')


@pytest.fixture(scope="module")
def server(small_store, tmp_path_factory):
    server = Server(small_store, tmp_path_factory.mktemp("log") / "serve.log")
    yield server
    server.stop()
    assert "Traceback" not in server.log.read_text()


def _applied(client: httpx.Client, seq: int) -> None:
    deadline = time.monotonic() + 120  # a guard against a hang, not a timing
    while client.get("/health").json()["applied_seq"] < seq:
        assert time.monotonic() < deadline, f"seq {seq} never became a fact"
        time.sleep(0.01)


def test_appends_become_facts_while_eight_readers_hammer(server, small_store):
    stop = threading.Event()
    bases: list[list[int]] = [[] for _ in range(READERS)]  # each reader's answers' seqs
    errors: list[str] = []

    def read(index: int) -> None:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            n = 0
            while not stop.is_set():
                body = {"query": QUERIES[(index + n) % len(QUERIES)]}
                if n % 2:
                    body["as_of"] = 20 + (index * 13 + n) % 130
                response = http.post("/query", json=body)
                if response.status_code != 200:
                    errors.append(response.text)
                else:
                    bases[index].append(response.json()["seq"])
                n += 1

    readers = [threading.Thread(target=read, args=(i,)) for i in range(READERS)]
    for thread in readers:
        thread.start()
    answered_before = None
    try:
        with open_store(small_store) as store:  # another writer of the store, as sim is
            while not all(bases):  # every reader under way
                time.sleep(0.01)
            answered_before = [len(b) for b in bases]
            for n in range(APPENDS):
                [seq] = store.append([{"type": "PriceUpdated", "time": 1000 + n,
                                       "stream_id": "market-ING",
                                       "payload": {"symbol": "ING", "price": 100 + n}}])
                _applied(server.client, seq)
                assert all(thread.is_alive() for thread in readers)
    finally:
        stop.set()
        for thread in readers:
            thread.join()
    assert errors == []
    # Every reader kept being answered while the appends went in, and no reader ever saw
    # the engine's basis go back.
    assert all(len(b) > before for b, before in zip(bases, answered_before))
    assert all(b == sorted(b) for b in bases)
    answer = server.client.post("/query", json={"query": 'price_updated("ING", p, t)'}).json()
    assert sorted(answer["rows"]) == [[100 + n, 1000 + n] for n in range(APPENDS)]
