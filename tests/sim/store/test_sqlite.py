"""The SQLite backend's own guarantees: triggers refuse changes, verify finds tampering."""

from __future__ import annotations

import sqlite3

import pytest

from engine import TempologError
from sim.config import SimConfig
from sim.events.types import Event
from sim.exchange.simulator import simulate
from sim.store import StoreCorrupted, open_store
from sim.store.sqlite import SqliteEventStore


@pytest.fixture(scope="module")
def sim_events() -> list[Event]:
    return simulate(SimConfig(ticks=300, seed=7))


@pytest.fixture
def filled(tmp_path, sim_events):
    with SqliteEventStore(tmp_path / "events.db") as store:
        store.append(sim_events)
        yield store


def test_update_and_delete_are_refused(filled):
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        filled.conn.execute("UPDATE events SET payload = '{}' WHERE seq = 3")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        filled.conn.execute("DELETE FROM events WHERE seq = 3")
    assert filled.verify().ok


@pytest.mark.parametrize("tamper, bad_seq", [
    ("UPDATE events SET payload = replace(payload, '\"', ' \"') WHERE seq = 57", 57),
    ("UPDATE events SET time = time + 1 WHERE seq = 120", 120),
    ("UPDATE events SET hash = '00' || substr(hash, 3) WHERE seq = 200", 200),
    ("UPDATE events SET type = 'OrderAccepted' WHERE seq = 31", 31),
    ("DELETE FROM events WHERE seq = 88", 88),
])
def test_verify_names_the_first_tampered_seq(filled, tamper, bad_seq):
    filled.conn.executescript("DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;")
    filled.conn.execute(tamper)
    result = filled.verify()
    assert not result.ok
    assert result.bad_seq == bad_seq
    assert result.last_seq == bad_seq - 1


def test_a_file_that_is_not_an_event_store_fails_clearly(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreCorrupted, match="not an event store"):
        SqliteEventStore(junk)


@pytest.mark.parametrize("url", ["{dir}/a.db", "sqlite:{dir}/a.db", "sqlite://{dir}/a.db"])
def test_a_path_and_sqlite_urls_open_the_same_file(tmp_path, url):
    with open_store(url.format(dir=tmp_path), create=True) as store:
        assert isinstance(store, SqliteEventStore)
        assert store.append([Event("MarketOpened", 0, "market", {"day": 1})]) == [1]
    with SqliteEventStore(tmp_path / "a.db", create=False) as again:
        assert len(again) == 1


def test_a_url_of_no_backend_is_a_clear_error():
    with pytest.raises(TempologError, match="no event store backend for nosuch: URLs"):
        open_store("nosuch://somewhere/events")


