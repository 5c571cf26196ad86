"""tempolog's simulator: the exchange, its events, their store and their facts, as one API."""

from sim.config import SimConfig, SimConfigError, load_config
from sim.events.types import EVENT_TYPES, Event, EventType, StoredEvent, resolve_type
from sim.exchange.simulator import Simulation, simulate
from sim.facts import FactBatch, envelope_of, event_relations, fact_of, replay
from sim.sinks import EngineSink, StoreSink
from sim.store import (
    GENESIS_HASH,
    ConcurrencyConflict,
    EventStore,
    StoreCorrupted,
    StoreNotFound,
    TypeStats,
    Verification,
    open_store,
)

__all__ = [
    "EVENT_TYPES", "GENESIS_HASH", "ConcurrencyConflict", "EngineSink", "Event", "EventStore",
    "EventType", "FactBatch", "SimConfig", "SimConfigError", "Simulation", "StoreCorrupted",
    "StoreNotFound", "StoreSink", "StoredEvent", "TypeStats", "Verification", "envelope_of",
    "event_relations", "fact_of", "load_config", "open_store", "replay", "resolve_type", "simulate",
]
