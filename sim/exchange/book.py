"""A price-time-priority limit order book for one symbol: matching, resting, cancels, changes."""

from __future__ import annotations

from bisect import insort
from collections import deque
from typing import NamedTuple

from sim.exchange.orders import BUY, Order


class Fill(NamedTuple):
    """`qty` shares of `incoming` traded against `resting` at the resting order's price;
    each order's open quantity right after this fill (an order may fill many times)."""

    resting: Order
    incoming: Order
    qty: int
    price: int
    resting_left: int
    incoming_left: int


class Side:
    """One side of the book. Price levels are keyed so that the best is always the last key:
    bids by price, asks by minus price, which keeps pops of the best level O(1)."""

    __slots__ = ("sign", "levels", "keys")

    def __init__(self, is_bid: bool):
        self.sign = 1 if is_bid else -1
        self.levels: dict[int, deque[Order]] = {}
        self.keys: list[int] = []

    def best_price(self) -> int | None:
        return self.keys[-1] * self.sign if self.keys else None

    def add(self, order: Order) -> None:
        key = order.price * self.sign
        level = self.levels.get(key)
        if level is None:
            level = self.levels[key] = deque()
            insort(self.keys, key)
        level.append(order)

    def remove(self, order: Order) -> None:
        key = order.price * self.sign
        level = self.levels[key]
        level.remove(order)
        if not level:
            del self.levels[key]
            self.keys.remove(key)

    def orders(self):
        """Every resting order, best price first, then by time."""
        for key in reversed(self.keys):
            yield from self.levels[key]


class OrderBook:
    """Incoming orders trade with the best-priced, then oldest, resting orders of the other
    side at the resting price. With `self_match` off, a resting order of the same client
    is cancelled instead of traded (cancel-oldest self-trade prevention)."""

    def __init__(self, symbol: str, *, self_match: bool = True):
        self.symbol = symbol
        self.self_match = self_match
        self.bids = Side(True)
        self.asks = Side(False)
        self.resting: dict[str, Order] = {}
        self._arrivals = 0

    def best_bid(self) -> int | None:
        return self.bids.best_price()

    def best_ask(self) -> int | None:
        return self.asks.best_price()

    def submit(self, order: Order, *, rest: bool = True) -> tuple[list[Fill], list[Order]]:
        """Match `order`; rest what is left (when `rest`). Returns the fills and the resting
        orders cancelled by self-trade prevention."""
        fills, cancelled = self._match(order)
        if rest and order.qty > 0:
            self._rest(order)
        return fills, cancelled

    def cancel(self, order_id: str) -> Order | None:
        order = self.resting.pop(order_id, None)
        if order is not None:
            (self.bids if order.side == BUY else self.asks).remove(order)
        return order

    def modify(self, order_id: str, qty: int, price: int) -> tuple[list[Fill], list[Order]]:
        """Change a resting order. Lowering the quantity keeps its place in the queue; a new
        price or a larger quantity sends it to the back, and a new price may make it trade."""
        order = self.resting[order_id]
        if qty <= 0:
            raise ValueError("modify to a positive quantity; cancel to remove an order")
        if price == order.price and qty <= order.qty:
            order.qty = qty
            return [], []
        self.cancel(order_id)
        order.qty, order.price = qty, price
        return self.submit(order)

    def _rest(self, order: Order) -> None:
        self._arrivals += 1
        order.arrival = self._arrivals
        (self.bids if order.side == BUY else self.asks).add(order)
        self.resting[order.id] = order

    def _match(self, order: Order) -> tuple[list[Fill], list[Order]]:
        fills: list[Fill] = []
        cancelled: list[Order] = []
        other = self.asks if order.side == BUY else self.bids
        # A sell crosses bids priced at or above its limit (key >= limit); a buy crosses
        # asks priced at or below it (-ask >= -limit): both are key >= limit * sign.
        limit_key = order.price * other.sign
        keys, levels = other.keys, other.levels
        while order.qty > 0 and keys and keys[-1] >= limit_key:
            key = keys[-1]
            level = levels[key]
            resting = level[0]
            if resting.client == order.client and not self.self_match:
                self._drop_head(other, key, level)
                cancelled.append(resting)
                continue
            qty = min(order.qty, resting.qty)
            price = resting.price
            order.qty -= qty
            order.filled += qty
            resting.qty -= qty
            resting.filled += qty
            fills.append(Fill(resting, order, qty, price, resting.qty, order.qty))
            if resting.qty == 0:
                self._drop_head(other, key, level)
        return fills, cancelled

    def _drop_head(self, side: Side, key: int, level: deque) -> None:
        gone = level.popleft()
        del self.resting[gone.id]
        if not level:
            del side.levels[key]
            side.keys.pop()

    def depth(self) -> tuple[list[Order], list[Order]]:
        """Resting bids and asks, each best first."""
        return list(self.bids.orders()), list(self.asks.orders())

    def __len__(self) -> int:
        return len(self.resting)
