"""The PostgreSQL backend's own guarantees: several writer processes, its schema, its tailing."""

from __future__ import annotations

import multiprocessing
import threading
import time
from pathlib import Path

import psycopg
import pytest

from sim.config import SimConfig
from sim.events.types import Event
from sim.exchange.simulator import simulate
from sim.store import ConcurrencyConflict, StoreCorrupted, StoreNotFound
from sim.store.errors import StoreUnavailable
from sim.store.postgresql import _SCHEMA, POLL_SECONDS, PostgresEventStore
from sim.store.sqlite import SqliteEventStore

ROOT = Path(__file__).resolve().parents[3]
WRITERS, PER_WRITER, BATCH = 4, 10_000, 500


def price(symbol: str, time: int, **envelope) -> Event:
    return Event("PriceUpdated", time, "market-" + symbol, {"symbol": symbol, "price": time},
                 **envelope)


@pytest.fixture
def store(postgres_url):
    with PostgresEventStore(postgres_url) as store:
        yield store


# ---- several writers ----------------------------------------------------------------

def _writer(url: str, name: str, barrier, results) -> None:
    """Race the others once on a shared stream, then append PER_WRITER events in batches."""
    with PostgresEventStore(url) as store:
        version = store.stream_version("market-SHARED")
        barrier.wait()  # all writers saw version 0 and now expect it: one may win
        try:
            store.append([price("SHARED", 0, idempotency_key=f"race-{name}")],
                         expected_versions={"market-SHARED": version})
            won = True
        except ConcurrencyConflict:
            won = False
        for start in range(0, PER_WRITER, BATCH):
            store.append([price(name, t) for t in range(start, start + BATCH)])
        results.put((name, won))


def test_four_processes_appending_at_once_leave_no_gap_fork_loss_or_duplicate(postgres_url):
    # Forked, not spawned: a spawned child would spend seconds importing what is loaded here.
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(WRITERS), context.Queue()
    names = [f"W{i}" for i in range(WRITERS)]
    PostgresEventStore(postgres_url).close()  # the schema exists before the race
    workers = [context.Process(target=_writer, args=(postgres_url, n, barrier, results))
               for n in names]
    for worker in workers:
        worker.start()
    outcomes = dict(results.get(timeout=120) for _ in workers)
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    assert sorted(outcomes.values()) == [False] * (WRITERS - 1) + [True]
    with PostgresEventStore(postgres_url) as store:
        result = store.verify()  # gapless from 1, one chain: no fork
        assert result.ok, result.reason
        assert result.events == WRITERS * PER_WRITER + 1
        streams: dict[str, list[int]] = {}
        for event in store.read():
            streams.setdefault(event.stream_id, []).append(event.payload["price"])
        for name in names:  # every event once, in its writer's order
            assert streams.pop("market-" + name) == list(range(PER_WRITER))
        assert streams == {"market-SHARED": [0]}


# ---- the schema ----------------------------------------------------------------------

@pytest.mark.parametrize("statement", [
    "UPDATE events SET payload = '{}' WHERE seq = 3",
    "DELETE FROM events WHERE seq = 3",
    "TRUNCATE events",
])
def test_update_delete_and_truncate_are_refused(store, statement):
    store.append([price("AAPL", t) for t in range(5)])
    with pytest.raises(psycopg.errors.IntegrityConstraintViolation, match="append-only"):
        store.conn.execute(statement)
    assert store.verify().ok and store.head()[0] == 5


def test_a_store_of_another_schema_version_is_refused_clearly(store, postgres_url):
    store.conn.execute("ALTER TABLE tempolog_schema DISABLE TRIGGER ALL")
    store.conn.execute("UPDATE tempolog_schema SET version = 99")
    with pytest.raises(StoreCorrupted, match="schema version 99, not 1"):
        PostgresEventStore(postgres_url)


def test_an_unreachable_server_is_a_clear_error(postgres_server):
    with pytest.raises(StoreUnavailable, match="cannot reach the event store at postgresql://"):
        PostgresEventStore("postgresql://nobody:secret@127.0.0.1:9/none")


def test_opening_a_missing_store_without_create_fails(postgres_url):
    with pytest.raises(StoreNotFound, match="no event store at postgresql://"):
        PostgresEventStore(postgres_url, create=False)


def test_the_same_seed_gives_the_same_chain_as_sqlite(store, tmp_path):
    events = simulate(SimConfig(ticks=200, seed=11))
    with SqliteEventStore(tmp_path / "events.db") as lite:
        for start in range(0, len(events), 700):
            lite.append(events[start:start + 700])
            store.append(events[start:start + 700])
        assert store.head() == lite.head()
        assert list(store.read()) == list(lite.read())


# ---- tailing -------------------------------------------------------------------------

def store_append_elsewhere(url: str) -> None:
    with PostgresEventStore(url) as other:
        other.append([price("AAPL", 1)])


def test_tailing_falls_back_to_polling_when_notifications_are_lost(store):
    store.append([price("AAPL", 0)])
    store.conn.execute("ALTER TABLE events DISABLE TRIGGER events_appended")  # no NOTIFY
    timer = threading.Timer(0.1, lambda: store_append_elsewhere(store.url))
    timer.start()
    started = time.monotonic()
    assert store.wait_for_append(1, timeout=30) == 2
    assert time.monotonic() - started < 0.1 + POLL_SECONDS + 2
    timer.join()


def test_the_schema_docs_show_is_the_one_the_store_creates():
    text = (ROOT / "docs" / "postgres.md").read_text()
    shown = text.split("```sql\n", 1)[1].split("```", 1)[0]
    assert shown in _SCHEMA
