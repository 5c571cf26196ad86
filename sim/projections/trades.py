"""Trade history: every execution with its parties, and when it was printed and settled."""

from __future__ import annotations

import sys
from dataclasses import dataclass, fields

from sim.projections.base import Projection


@dataclass
class TradeRecord:
    trade: str
    symbol: str
    buyer: str
    seller: str
    buy_order: str
    sell_order: str
    qty: int
    price: int  # cents
    aggressor: str
    time: int
    seq: int
    reported_seq: int = 0
    settled_seq: int = 0
    settled_time: int = -1

    @property
    def amount(self) -> int:
        return self.qty * self.price

    def row(self) -> list:
        return [getattr(self, name) for name in _FIELDS]

    def side_of(self, client: str) -> str:
        """'buy', 'sell', or 'both' for a wash trade."""
        if self.buyer == client == self.seller:
            return "both"
        return "buy" if self.buyer == client else "sell"


_FIELDS = tuple(f.name for f in fields(TradeRecord))
_REPORTED, _SETTLED, _SETTLED_TIME = (_FIELDS.index(name) for name in
                                      ("reported_seq", "settled_seq", "settled_time"))


class Trades(Projection):
    """Trades kept as rows (lists in TradeRecord's field order), which are also the state:
    a snapshot of tens of thousands of trades restores without building an object each."""

    name = "trades"
    handlers = {"TradeExecuted": "on_executed", "TradeReported": "on_reported",
                "TradeSettled": "on_settled"}

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, list] = {}  # by trade id, in seq order

    def on_executed(self, seq: int, time: int, p: dict):
        self.rows[p["trade"]] = [p["trade"], p["symbol"], p["buyer"], p["seller"],
                                 p["buy_order"], p["sell_order"], p["qty"], p["price"],
                                 p["aggressor"], time, seq, 0, 0, -1]
        return (p["trade"],)

    # A replay from the middle of the log may see a trade printed or settled whose
    # execution came before it: such trades are not in this history.
    def on_reported(self, seq: int, time: int, p: dict):
        row = self.rows.get(p["trade"])
        if row is None:
            return ()
        row[_REPORTED] = seq
        return (p["trade"],)

    def on_settled(self, seq: int, time: int, p: dict):
        row = self.rows.get(p["trade"])
        if row is None:
            return ()
        row[_SETTLED], row[_SETTLED_TIME] = seq, time
        return (p["trade"],)

    def __len__(self) -> int:
        return len(self.rows)

    def records(self) -> list[TradeRecord]:
        return [TradeRecord(*row) for row in self.rows.values()]

    def of(self, client: str, from_time: int | None = None,
           to_time: int | None = None) -> list[TradeRecord]:
        """The client's trades (as buyer or seller) in seq order, within the times given."""
        low = -1 if from_time is None else from_time
        high = sys.maxsize if to_time is None else to_time
        return [TradeRecord(*row) for row in self.rows.values()
                if client in (row[2], row[3]) and low <= row[9] <= high]

    def settled(self) -> int:
        return sum(1 for row in self.rows.values() if row[_SETTLED])

    def state(self) -> dict:
        return {"last_seq": self.last_seq, "trades": [list(row) for row in self.rows.values()]}

    def restore(self, state: dict) -> None:
        self.last_seq = state["last_seq"]
        self.rows = {row[0]: row for row in state["trades"]}

    def entry(self, key):
        row = self.rows.get(key)
        return None if row is None else list(row)
