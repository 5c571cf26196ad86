"""What every read model shares: the event types it reads and the last seq it applied."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar


class Projection(ABC):
    """A read model kept up to date one event at a time, in seq order.

    Subclasses name a handler per event type in `handlers` (type -> method name); each
    handler takes (seq, time, payload) and returns the keys of the state it changed, so that
    two replays can be compared entry by entry (see ReadModels.compare). `state()` is plain
    JSON data in a deterministic order and `restore` takes it back: a snapshot."""

    name: ClassVar[str]
    handlers: ClassVar[dict[str, str]]

    def __init__(self) -> None:
        self.last_seq = 0

    @classmethod
    def event_types(cls) -> frozenset[str]:
        return frozenset(cls.handlers)

    def bound_handlers(self) -> dict[str, Callable[[int, int, dict], Any]]:
        return {type: getattr(self, method) for type, method in self.handlers.items()}

    @abstractmethod
    def state(self) -> dict:
        """The state as plain JSON data in a deterministic order, `last_seq` with it."""

    @abstractmethod
    def restore(self, state: dict) -> None:
        """Take back what `state()` gave."""

    @abstractmethod
    def entry(self, key) -> Any:
        """The part of the state a handler's key names (JSON data), or None if absent."""
