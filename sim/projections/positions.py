"""Portfolio positions per client and symbol: shares, average cost, market value, P&L."""

from __future__ import annotations

from dataclasses import dataclass

from sim.projections.base import Projection

_POSITION_EVENTS = ("PositionOpened", "PositionIncreased", "PositionDecreased", "PositionClosed")


@dataclass
class Holding:
    """One client's position in one symbol, in integer cents. `cost` is the cost basis
    (negative for a short); `realized` the P&L the position has realized so far."""

    client: str
    symbol: str
    qty: int = 0
    cost: int = 0
    avg_price: int = 0
    realized: int = 0
    changes: int = 0
    seq: int = 0  # the seq of its latest change

    def market_value(self, mark: int) -> int:
        return self.qty * mark

    def unrealized(self, mark: int) -> int:
        return self.qty * mark - self.cost

    def row(self) -> list:
        return [self.client, self.symbol, self.qty, self.cost, self.avg_price, self.realized,
                self.changes, self.seq]


class Positions(Projection):
    """Positions from the PositionKeeper's events, marked to the latest reference price."""

    name = "positions"
    handlers = {**dict.fromkeys(_POSITION_EVENTS, "on_position"), "PriceUpdated": "on_price"}

    def __init__(self) -> None:
        super().__init__()
        self.holdings: dict[tuple[str, str], Holding] = {}
        self.marks: dict[str, int] = {}

    def on_position(self, seq: int, time: int, p: dict):
        key = (p["client"], p["symbol"])
        holding = self.holdings.get(key)
        if holding is None:
            holding = self.holdings[key] = Holding(*key)
        holding.qty, holding.cost, holding.avg_price = p["qty"], p["cost"], p["avg_price"]
        holding.realized, holding.changes, holding.seq = p["realized"], p["n"], seq
        return (("holding", key),)

    def on_price(self, seq: int, time: int, p: dict):
        self.marks[p["symbol"]] = p["price"]
        return (("mark", p["symbol"]),)

    # ---- reading -----------------------------------------------------------------------

    def open_positions(self, client: str | None = None) -> list[Holding]:
        """Non-flat positions, by client then symbol."""
        return [h for key, h in sorted(self.holdings.items())
                if h.qty and (client is None or h.client == client)]

    def of(self, client: str) -> list[Holding]:
        """Every position the client has held (flat ones too), by symbol."""
        return [h for key, h in sorted(self.holdings.items()) if h.client == client]

    def mark(self, symbol: str, fallback: int = 0) -> int:
        return self.marks.get(symbol, fallback)

    def realized(self, client: str) -> int:
        return sum(h.realized for h in self.of(client))

    # ---- state ---------------------------------------------------------------------------

    def state(self) -> dict:
        return {"last_seq": self.last_seq,
                "holdings": [h.row() for _, h in sorted(self.holdings.items())],
                "marks": dict(sorted(self.marks.items()))}

    def restore(self, state: dict) -> None:
        self.last_seq = state["last_seq"]
        self.holdings = {(row[0], row[1]): Holding(*row) for row in state["holdings"]}
        self.marks = dict(state["marks"])

    def entry(self, key):
        kind, name = key
        if kind == "mark":
            return self.marks.get(name)
        holding = self.holdings.get(name)
        return None if holding is None else holding.row()
