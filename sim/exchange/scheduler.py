"""A deterministic message scheduler: messages run by tick, then priority, then posting order."""

from __future__ import annotations

import heapq
from collections.abc import Callable
from enum import IntEnum


class Priority(IntEnum):
    """Within a tick: the clock (session open, expiries) first; fills settle before the next
    order update is looked at; market data sees the tick's trades once every order is handled."""

    CLOCK = 0
    FILL = 1
    ORDER = 2
    MARKET_DATA = 3
    METRICS = 4


class Scheduler:
    def __init__(self) -> None:
        self._queue: list[tuple[int, int, int, Callable, tuple]] = []
        self._posted = 0
        self.now = 0

    def post(self, tick: int, priority: Priority, handler: Callable, *args) -> None:
        """Run `handler(*args)` at `tick` (not before the current one)."""
        self._posted += 1
        heapq.heappush(self._queue, (max(tick, self.now), priority, self._posted, handler, args))

    def run_until(self, tick: int) -> int:
        """Deliver every message due at or before `tick`; returns how many ran."""
        queue, ran = self._queue, 0
        while queue and queue[0][0] <= tick:
            self.now, _, _, handler, args = heapq.heappop(queue)
            handler(*args)
            ran += 1
        self.now = tick
        return ran

    def __len__(self) -> int:
        return len(self._queue)


class Actor:
    """Market data every actor may hear about; an actor overrides what it cares for."""

    def on_session(self, is_open: bool, event) -> None:
        """The session opened or closed (`event` is MarketOpened or MarketClosed)."""

    def on_price(self, symbol: str, price: int) -> None:
        """A new reference price, in cents."""

    def on_halt(self, symbol: str, until: int, event) -> None:
        """Trading in `symbol` stopped until tick `until`."""
