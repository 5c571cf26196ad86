"""The store contract's fixtures: every test of it runs once per EventStore backend."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from sim.store import EventStore, open_store

# The backends the contract suite runs on; a new backend adds its name and a URL below.
STORE_BACKENDS = ["sqlite"]


@pytest.fixture(params=STORE_BACKENDS)
def store_url(request, tmp_path) -> Callable[[str], str]:
    """A function of a name giving the URL of a store of the backend under test: a new,
    empty one for each name (the same name, the same store)."""
    if request.param == "sqlite":
        return lambda name="events": f"sqlite:{tmp_path / name}.db"
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
