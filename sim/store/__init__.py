"""The event store: append-only, hash-chained event logs behind one interface (EventStore)."""

from sim.store.base import EventStore, TypeStats
from sim.store.chain import GENESIS_HASH, Verification
from sim.store.errors import ConcurrencyConflict, StoreCorrupted, StoreNotFound
from sim.store.url import open_store, remove_store

__all__ = ["GENESIS_HASH", "ConcurrencyConflict", "EventStore", "StoreCorrupted",
           "StoreNotFound", "TypeStats", "Verification", "open_store", "remove_store"]
