"""MatchingEngine: one order book per symbol; fills, cancels, modifications and expiries."""

from __future__ import annotations

import heapq
from itertools import count

from sim.exchange.book import Fill, OrderBook
from sim.exchange.orders import BUY, Order
from sim.exchange.scheduler import Actor, Priority


class MatchingEngine(Actor):
    """Takes risk-checked orders into the books and reports what happens to them. Each
    trade goes to the PositionKeeper (fill priority), to MarketData for the tape, and is
    scheduled for settlement `settlement_ticks` later."""

    def __init__(self, bus, log, config, latency):
        self.bus, self.log, self.latency = bus, log, latency
        self.books = {s: OrderBook(s, self_match=config.self_match) for s in config.symbols}
        # Working orders per client, oldest first: what a client may cancel or modify.
        self.working: dict[str, dict[str, Order]] = {c.id: {} for c in config.clients}
        self._expiries: list[tuple[int, int, Order]] = []
        self._pushes = count()
        self.settlement_ticks = config.settlement_ticks
        self.trades = 0
        self.positions = self.market = None  # wired by the Simulation

    def on_order(self, order: Order) -> None:
        accepted = self.log.emit("OrderAccepted", order.stream, {"order": order.id},
                                 order.last, self.latency())
        order.last = accepted
        ioc = order.tif == "ioc"
        fills, cancelled = self.books[order.symbol].submit(order, rest=not ioc)
        self._report(order, fills, cancelled, accepted)
        if order.qty and ioc:
            self._expire(order, accepted)
        elif order.qty:
            self.working[order.client][order.id] = order
            heapq.heappush(self._expiries, (order.expires, next(self._pushes), order))

    def on_cancel(self, client: str, order_id: str) -> None:
        # A cancel that arrives after the order was filled or expired changes nothing.
        order = self.working[client].pop(order_id, None)
        if order is not None:
            self.books[order.symbol].cancel(order_id)
            self._cancelled(order, "client_request", order.last)

    def on_modify(self, client: str, order_id: str, qty: int, price: int) -> None:
        # A change may lower the open quantity or move the price; more shares take a new
        # order. A refused or empty change leaves the order as it was, without an event.
        order = self.working[client].get(order_id)
        if order is None or not 0 < qty <= order.qty or (qty, price) == (order.qty, order.price):
            return
        order.modifications += 1
        modified = self.log.emit("OrderModified", order.stream, {
            "order": order.id, "n": order.modifications, "qty": qty, "price": price,
        }, order.last, self.latency())
        order.last = modified
        fills, cancelled = self.books[order.symbol].modify(order_id, qty, price)
        self._report(order, fills, cancelled, modified)
        if not order.qty:
            del self.working[client][order_id]

    # ---- time in force ------------------------------------------------------------------

    def on_clock(self, t: int) -> None:
        """Expire the orders whose last live tick has passed."""
        self._expire_through(t - 1, None)

    def on_session(self, is_open: bool, event) -> None:
        if not is_open:  # the close ends every order that does not outlive the day
            self._expire_through(self.bus.now, event)

    def _expire_through(self, tick: int, cause) -> None:
        due = self._expiries
        while due and due[0][0] <= tick:
            order = heapq.heappop(due)[2]
            if self.working[order.client].pop(order.id, None) is not None:
                self.books[order.symbol].cancel(order.id)
                self._expire(order, cause or order.last)

    def _expire(self, order: Order, cause) -> None:
        order.last = self.log.emit("OrderExpired", order.stream, {
            "order": order.id, "remaining": order.qty}, cause, self.latency())

    # ---- reporting ----------------------------------------------------------------------

    def _report(self, incoming: Order, fills: list[Fill], cancelled: list[Order], cause) -> None:
        for resting in cancelled:
            del self.working[resting.client][resting.id]
            self._cancelled(resting, "self_match_prevented", cause)
        for fill in fills:
            self._trade(fill, cause)

    def _cancelled(self, order: Order, reason: str, cause) -> None:
        order.last = self.log.emit("OrderCancelled", order.stream, {
            "order": order.id, "reason": reason, "remaining": order.qty}, cause, self.latency())

    def _trade(self, fill: Fill, cause) -> None:
        resting, incoming, qty, price, resting_left, incoming_left = fill
        self.trades += 1
        trade_id = f"T{self.trades:06d}"
        buy, sell = (incoming, resting) if incoming.side == BUY else (resting, incoming)
        emit, latency = self.log.emit, self.latency
        trade = emit("TradeExecuted", "trade-" + trade_id, {
            "trade": trade_id, "symbol": incoming.symbol, "buy_order": buy.id,
            "sell_order": sell.id, "buyer": buy.client, "seller": sell.client, "qty": qty,
            "price": price, "aggressor": incoming.side,
        }, cause, latency())
        for order, left in ((resting, resting_left), (incoming, incoming_left)):
            if left:
                order.last = emit("OrderPartiallyFilled", order.stream, {
                    "order": order.id, "trade": trade_id, "qty": qty, "price": price,
                    "remaining": left}, trade, latency())
            else:
                order.last = emit("OrderFilled", order.stream, {
                    "order": order.id, "trade": trade_id, "qty": qty, "price": price},
                    trade, latency())
        if not resting.qty:
            del self.working[resting.client][resting.id]
        bus, now = self.bus, self.bus.now
        bus.post(now, Priority.FILL, self.positions.on_trade, trade, incoming.symbol,
                 buy.client, sell.client, qty, price)
        bus.post(now, Priority.MARKET_DATA, self.market.on_trade, trade, incoming.symbol, qty,
                 price)
        bus.post(now + self.settlement_ticks, Priority.FILL, self.positions.on_settle, trade,
                 buy.client, sell.client, qty * price)
