"""`tempolog serve --db postgresql://…`: a real uvicorn on 127.0.0.1 over a real PostgreSQL."""

from __future__ import annotations

import io
import time

import pytest
from pg_server import empty_schema
from service_fixtures import TOKEN, Server

from sim.store import open_store

AUTH = {"Authorization": f"Bearer {TOKEN}"}
PRICES = 'price_updated("AAPL", p, t)'


@pytest.fixture(scope="module")
def pg_store(postgres_server, pristine_store):
    """A schema of the run's server holding the events of the service tests' SQLite store
    (`tempolog copy` does the same; the CLI tests run that)."""
    for url in empty_schema(postgres_server):
        with open_store(pristine_store) as lite, open_store(url, create=True) as store:
            exported = io.StringIO()
            lite.export_jsonl(exported)
            store.import_jsonl(exported.getvalue().splitlines())
        yield url


@pytest.fixture(scope="module")
def server(pg_store, token_file, tmp_path_factory):
    server = Server(pg_store, tmp_path_factory.mktemp("log") / "serve.log",
                    "--token-file", str(token_file))
    yield server
    server.stop()
    assert "Traceback" not in server.log.read_text()


def _rows(server, query: str, **options) -> list:
    answer = server.client.post("/query", json={"query": query, **options})
    assert answer.status_code == 200, answer.text
    return sorted(map(tuple, answer.json()["rows"]))


def test_the_service_answers_from_the_server_as_from_the_file(server, pristine_store):
    with open_store(pristine_store) as lite:
        prices = sorted((e.payload["price"], e.time) for e in lite.read(types=["PriceUpdated"])
                        if e.payload["symbol"] == "AAPL")
        first_order = next(lite.read(types=["OrderSubmitted"], limit=1))
    assert len(prices) > 5 and _rows(server, PRICES) == prices
    stored = server.client.get(f"/events/{first_order.seq}").json()
    assert stored["event_id"] == first_order.event_id and stored["hash"] == first_order.hash
    health = server.client.get("/health").json()
    assert health["status"] == "ok", health


def test_an_event_posted_is_in_the_server_and_a_fact_for_a_query_after_it(server, pg_store):
    event = {"type": "PriceUpdated", "time": 151, "stream_id": "market-PGX",
             "payload": {"symbol": "PGX", "price": 4321}}
    posted = server.client.post("/events", json={"events": [event]}, headers=AUTH)
    assert posted.status_code == 200, posted.text
    [seq] = posted.json()["seqs"]
    assert _rows(server, 'price_updated("PGX", p, t)', after_seq=posted.json()["head_seq"]) == [
        (4321, 151)]
    with open_store(pg_store) as store:
        assert store.get_seq(seq).payload == {"symbol": "PGX", "price": 4321}
        assert store.verify().ok


def test_an_append_by_another_process_reaches_the_service_by_notify(server, pg_store):
    with open_store(pg_store) as store:
        store.append([{"type": "PriceUpdated", "time": 152, "stream_id": "market-PGY",
                       "payload": {"symbol": "PGY", "price": 99}}])
    written = time.monotonic()
    while not _rows(server, 'price_updated("PGY", p, t)'):
        assert time.monotonic() - written < 5, "not a fact within 5 s"
        time.sleep(0.05)
    assert _rows(server, 'price_updated("PGY", p, t)') == [(99, 152)]
