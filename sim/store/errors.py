"""The event store's errors, in tempolog's one error tree (EventRejected is the engine's)."""

from __future__ import annotations

from engine import TempologError


class ConcurrencyConflict(TempologError):
    """An append whose expected stream version is not the stream's current version."""

    code = "concurrency-conflict"


class StoreCorrupted(TempologError):
    """The event store's hash chain does not verify, or what is there is not an event store."""

    code = "store-corrupted"


class StoreNotFound(TempologError, FileNotFoundError):
    """No event store where one was to be opened (a FileNotFoundError too, as before)."""

    code = "store-not-found"


class StoreUnavailable(TempologError):
    """The store's server cannot be reached, or refused the connection."""

    code = "store-unavailable"
