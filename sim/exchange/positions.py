"""PositionKeeper: positions at average cost, realized P&L and cash, all in integer cents."""

from __future__ import annotations

from typing import NamedTuple

from sim.exchange.scheduler import Priority
from sim.money import div_round

OPENED, INCREASED = "PositionOpened", "PositionIncreased"
DECREASED, CLOSED = "PositionDecreased", "PositionClosed"


class Step(NamedTuple):
    """One position event: the position's shares and cost after it, and the P&L it realized."""

    kind: str
    qty: int
    cost: int
    realized: int


def apply_fill(qty: int, cost: int, delta: int, price: int) -> list[Step]:
    """Apply a signed fill (`delta` shares, + bought, - sold) to a position of `qty` shares
    whose cost basis is `cost` cents (negative for a short). Average-cost accounting: a
    reduction takes its share of the cost, rounded half-even to the cent, so cost basis plus
    realized P&L always equals the cash paid in, to the cent. A fill through zero closes the
    position and opens the opposite one."""
    if delta == 0:
        return []
    if qty == 0:
        return [Step(OPENED, delta, delta * price, 0)]
    if (qty > 0) == (delta > 0):
        return [Step(INCREASED, qty + delta, cost + delta * price, 0)]
    closing = -qty if abs(delta) >= abs(qty) else delta
    removed = cost if closing == -qty else div_round(cost * -closing, qty)
    realized = -closing * price - removed
    if closing == -qty:
        steps = [Step(CLOSED, 0, 0, realized)]
        rest = delta - closing
        if rest:
            steps.append(Step(OPENED, rest, rest * price, 0))
        return steps
    return [Step(DECREASED, qty + closing, cost - removed, realized)]


def average_price(qty: int, cost: int) -> int:
    """The position's average price in cents, rounded half-even; 0 when flat."""
    return div_round(abs(cost), abs(qty)) if qty else 0


class Position:
    __slots__ = ("qty", "cost", "realized", "n", "stream")

    def __init__(self, stream: str):
        self.qty = self.cost = self.realized = self.n = 0
        self.stream = stream


class PositionKeeper:
    """Books every trade to both clients' positions and cash; settles trades when due."""

    def __init__(self, bus, log, config, latency):
        self.bus, self.log, self.latency = bus, log, latency
        self.cash = {client.id: client.balance for client in config.clients}
        self.positions: dict[tuple[str, str], Position] = {}
        self.risk = None  # the RiskManager, told of every change

    def position(self, client: str, symbol: str) -> Position:
        key = (client, symbol)
        found = self.positions.get(key)
        if found is None:
            found = self.positions[key] = Position(f"position-{client}-{symbol}")
        return found

    def on_trade(self, trade, symbol: str, buyer: str, seller: str, qty: int, price: int) -> None:
        emit, now = self.log.emit, self.bus.now
        for client, delta in ((buyer, qty), (seller, -qty)):
            pos = self.position(client, symbol)
            self.cash[client] -= delta * price
            realized = 0
            for step in apply_fill(pos.qty, pos.cost, delta, price):
                pos.qty, pos.cost, pos.n = step.qty, step.cost, pos.n + 1
                pos.realized += step.realized
                realized += step.realized
                emit(step.kind, pos.stream, {
                    "client": client, "symbol": symbol, "trade": trade.payload["trade"],
                    "n": pos.n, "qty": pos.qty, "cost": pos.cost,
                    "avg_price": average_price(pos.qty, pos.cost), "realized": pos.realized,
                    "cash": self.cash[client],
                }, trade, self.latency())
            self.bus.post(now, Priority.FILL, self.risk.on_position, client, symbol, pos.qty,
                          realized)

    def on_settle(self, trade, buyer: str, seller: str, amount: int) -> None:
        self.log.emit("TradeSettled", trade.stream_id, {
            "trade": trade.payload["trade"], "buyer": buyer, "seller": seller, "amount": amount,
        }, trade, self.latency())
