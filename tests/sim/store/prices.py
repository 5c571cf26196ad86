"""A price event to append in the store tests."""

from __future__ import annotations

from sim.events.types import Event


def price(symbol="AAPL", cents=19_000, time=0, **envelope) -> Event:
    return Event("PriceUpdated", time, "market-" + symbol, {"symbol": symbol, "price": cents},
                 **envelope)
