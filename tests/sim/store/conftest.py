"""The store contract's fixtures: every test of it runs once per EventStore backend."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

import pytest
from pg_server import empty_schema

from sim.config import SimConfig
from sim.events.types import Event
from sim.exchange.simulator import simulate
from sim.store import EventStore, open_store

# The backends the contract suite runs on; a new backend adds its name and a URL below.
STORE_BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=STORE_BACKENDS)
def store_url(request, tmp_path) -> Iterator[Callable[[str], str]]:
    """A function of a name giving the URL of a store of the backend under test: a new,
    empty one for each name (the same name, the same store). PostgreSQL stores are schemas
    of the test run's one server, dropped after the test."""
    if request.param == "sqlite":
        yield lambda name="events": f"sqlite:{tmp_path / name}.db"
        return
    if request.param == "postgresql":
        server = request.getfixturevalue("postgres_server")
        with ExitStack() as schemas:
            urls: dict[str, str] = {}

            def url(name: str = "events") -> str:
                if name not in urls:
                    urls[name] = schemas.enter_context(contextmanager(empty_schema)(server))
                return urls[name]

            yield url
        return
    raise AssertionError(f"no URL for the store backend {request.param}")


@pytest.fixture
def new_store(store_url) -> Callable[[str], EventStore]:
    """Opens (creating) the store of a name; every store opened is closed after the test."""
    opened: list[EventStore] = []

    def new(name: str = "events") -> EventStore:
        opened.append(open_store(store_url(name), create=True))
        return opened[-1]

    yield new
    for store in opened:
        store.close()


@pytest.fixture(scope="module")
def sim_events() -> list[Event]:
    return simulate(SimConfig(ticks=300, seed=7))


@pytest.fixture
def store(new_store):
    return new_store()


@pytest.fixture
def filled(store, sim_events):
    store.append(sim_events)
    return store
