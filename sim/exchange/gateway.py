"""Gateway: the exchange's front door. It records every order, checks it and routes it on."""

from __future__ import annotations

from sim.exchange.orders import BUY, SELL, Order, OrderRequest
from sim.exchange.scheduler import Actor, Priority


class Gateway(Actor):
    """Validates client requests and routes them: new orders to the risk manager, cancels
    and modifications straight to the matching engine. A refused order stops here with an
    OrderRejected that names the reason."""

    def __init__(self, bus, log, config, latency):
        self.bus, self.log, self.latency = bus, log, latency
        self.clients = {client.id for client in config.clients}
        self.symbols = set(config.symbols)
        self.day_ticks, self.session_ticks = config.day_ticks, config.session_ticks
        self.market_open = False
        self.halted_until: dict[str, int] = {}
        self.orders = 0
        self.risk = self.matching = None  # wired by the Simulation

    # ---- requests from clients ----------------------------------------------------

    def on_order(self, request: OrderRequest) -> None:
        self.orders += 1
        order_id = f"O{self.orders:06d}"
        stream, now = "order-" + order_id, self.bus.now
        expires = self.expiry(request, now)
        submitted = self.log.emit("OrderSubmitted", stream, {
            "order": order_id, "client": request.client, "symbol": request.symbol,
            "side": request.side, "qty": request.qty, "price": request.price,
            "tif": request.tif, "expires": expires,
        }, None, self.latency(), key=request.key)

        reason = self.refusal(request, now)
        if reason is not None:
            self.log.emit("OrderRejected", stream, {"order": order_id, "reason": reason},
                          submitted, self.latency())
            return
        validated = self.log.emit("OrderValidated", stream, {"order": order_id}, submitted,
                                  self.latency())
        order = Order(order_id, request.client, request.symbol, request.side, request.qty,
                      request.price, request.tif, expires, submitted.correlation_id, validated)
        self.bus.post(now, Priority.ORDER, self.risk.on_order, order)

    def refusal(self, request: OrderRequest, now: int) -> str | None:
        """Why the order may not go on, or None: the static checks, then the market's state."""
        if request.client not in self.clients:
            return "unknown_client"
        if request.symbol not in self.symbols:
            return "unknown_symbol"
        if request.side not in (BUY, SELL):
            return "bad_side"
        if request.qty <= 0:
            return "bad_quantity"
        if request.price <= 0:
            return "bad_price"
        if not self.market_open:
            return "market_closed"
        if self.halted_until.get(request.symbol, -1) >= now:
            return "symbol_halted"
        return None

    def expiry(self, request: OrderRequest, now: int) -> int:
        """The last tick the order may live: the (next) session's close for a day order."""
        if request.tif == "ioc":
            return now
        if request.tif == "gtt":
            return now + request.ttl
        close = now - now % self.day_ticks + self.session_ticks - 1
        return close if now <= close else close + self.day_ticks

    def on_cancel(self, client: str, order_id: str) -> None:
        self.bus.post(self.bus.now, Priority.ORDER, self.matching.on_cancel, client, order_id)

    def on_modify(self, client: str, order_id: str, qty: int, price: int, symbol: str) -> None:
        # Changes need an open, unhalted market; a refused change leaves the order as it was.
        if self.market_open and self.halted_until.get(symbol, -1) < self.bus.now:
            self.bus.post(self.bus.now, Priority.ORDER, self.matching.on_modify, client,
                          order_id, qty, price)

    # ---- market data ----------------------------------------------------------------

    def on_session(self, is_open: bool, event) -> None:
        self.market_open = is_open

    def on_halt(self, symbol: str, until: int, event) -> None:
        self.halted_until[symbol] = until
