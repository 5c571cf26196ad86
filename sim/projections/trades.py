"""Trade history: every execution with its parties, and when it was printed and settled."""

from __future__ import annotations

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


class Trades(Projection):
    name = "trades"
    handlers = {"TradeExecuted": "on_executed", "TradeReported": "on_reported",
                "TradeSettled": "on_settled"}

    def __init__(self) -> None:
        super().__init__()
        self.trades: dict[str, TradeRecord] = {}  # in seq order

    def on_executed(self, seq: int, time: int, p: dict):
        self.trades[p["trade"]] = TradeRecord(
            p["trade"], p["symbol"], p["buyer"], p["seller"], p["buy_order"], p["sell_order"],
            p["qty"], p["price"], p["aggressor"], time, seq)
        return (p["trade"],)

    # A replay from the middle of the log may see a trade printed or settled whose
    # execution came before it: such trades are not in this history.
    def on_reported(self, seq: int, time: int, p: dict):
        record = self.trades.get(p["trade"])
        if record is None:
            return ()
        record.reported_seq = seq
        return (p["trade"],)

    def on_settled(self, seq: int, time: int, p: dict):
        record = self.trades.get(p["trade"])
        if record is None:
            return ()
        record.settled_seq, record.settled_time = seq, time
        return (p["trade"],)

    def of(self, client: str, from_time: int | None = None,
           to_time: int | None = None) -> list[TradeRecord]:
        """The client's trades (as buyer or seller) in seq order, within the times given."""
        return [t for t in self.trades.values()
                if client in (t.buyer, t.seller)
                and (from_time is None or t.time >= from_time)
                and (to_time is None or t.time <= to_time)]

    def state(self) -> dict:
        return {"last_seq": self.last_seq,
                "trades": [t.row() for t in self.trades.values()]}

    def restore(self, state: dict) -> None:
        self.last_seq = state["last_seq"]
        self.trades = {row[0]: TradeRecord(*row) for row in state["trades"]}

    def entry(self, key):
        record = self.trades.get(key)
        return None if record is None else record.row()
