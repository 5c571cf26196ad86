"""Orders as the exchange holds them, and the requests clients send."""

from __future__ import annotations

from typing import NamedTuple

BUY, SELL = "buy", "sell"


class OrderRequest(NamedTuple):
    """A new order as a client sends it; nothing is checked yet."""

    client: str
    # The submission's idempotency key: the sender's id and its own numbering. Set by the
    # sender, so a malformed copy (another client's id, say) keeps its sender's unique key.
    key: str
    symbol: str
    side: str
    qty: int
    price: int  # cents
    tif: str
    ttl: int  # ticks a `gtt` order lives


class Order:
    """A live order. `qty` is the open quantity; `last` is its latest event (for causation)."""

    __slots__ = ("id", "client", "symbol", "side", "price", "qty", "filled", "tif", "expires",
                 "arrival", "correlation", "last", "modifications", "stream")

    def __init__(self, id: str, client: str, symbol: str, side: str, qty: int, price: int,
                 tif: str = "day", expires: int = 0, correlation: str | None = None,
                 last=None):
        self.id = id
        self.client = client
        self.symbol = symbol
        self.side = side
        self.qty = qty
        self.price = price
        self.filled = 0
        self.tif = tif
        self.expires = expires
        self.arrival = 0  # the book's time priority, set when the order rests
        self.correlation = correlation
        self.last = last
        self.modifications = 0
        self.stream = "order-" + id

    def __repr__(self) -> str:
        return (f"Order({self.id} {self.client} {self.side} {self.qty}@{self.price} "
                f"{self.symbol} filled={self.filled})")
