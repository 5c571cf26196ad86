"""RiskManager: every order against its client's limits, each check's result recorded."""

from __future__ import annotations

from collections import deque

from sim.config import CHECKS
from sim.exchange.orders import BUY
from sim.exchange.scheduler import Actor, Priority


class RiskManager(Actor):
    """Runs four checks on every validated order and records each result (pass, fail or
    override) in one RiskChecked. A failed check is a LimitBreached; a client with a
    standing override for that check gets a LimitOverridden instead of a rejection.

    - position: the symbol's notional position after the order within the risk limit;
    - velocity: orders in the last `velocity_window` ticks within the velocity limit;
    - loss: the day's realized loss below the daily loss limit;
    - concentration: once the client's gross exposure exceeds its risk limit, no symbol
      above `concentration_bp` of it.
    Position, loss and concentration only stop orders that would grow the position.
    """

    def __init__(self, bus, log, config, latency):
        self.bus, self.log, self.latency = bus, log, latency
        self.clients = {client.id: client for client in config.clients}
        self.window = config.velocity_window
        self.concentration_bp = config.concentration_bp
        self.prices = dict(config.symbols)
        self.positions: dict[tuple[str, str], int] = {}
        self.day_pnl = dict.fromkeys(self.clients, 0)
        self.recent: dict[str, deque[int]] = {c: deque() for c in self.clients}
        self.matching = None

    def on_order(self, order) -> None:
        client = self.clients[order.client]
        limits, failed = self.measure(order, client), []
        results = {}
        for check in CHECKS:
            value, limit, breached = limits[check]
            if not breached:
                results[check] = "pass"
            else:
                results[check] = "override" if check in client.overrides else "fail"
                failed.append(check)
        rejected = [check for check in failed if results[check] == "fail"]
        emit, stream = self.log.emit, "risk-" + client.id
        checked = emit("RiskChecked", stream, {
            "order": order.id, "client": client.id, "symbol": order.symbol,
            "result": "failed" if rejected else "passed", **results,
        }, order.last, self.latency())
        cause = checked
        for check in failed:
            value, limit, _ = limits[check]
            cause = emit("LimitBreached", stream, {
                "order": order.id, "client": client.id, "check": check, "value": value,
                "limit": limit}, checked, self.latency())
            if results[check] == "override":
                cause = emit("LimitOverridden", stream, {
                    "order": order.id, "client": client.id, "check": check,
                    "approver": "risk-desk"}, cause, self.latency())
        if rejected:
            emit("OrderRejected", order.stream, {"order": order.id,
                                                 "reason": rejected[0] + "_limit"},
                 cause, self.latency())
            return
        order.last = cause
        self.bus.post(self.bus.now, Priority.ORDER, self.matching.on_order, order)

    def measure(self, order, client) -> dict[str, tuple[int, int, bool]]:
        """Each check's (value, limit, breached) for the order."""
        now, recent = self.bus.now, self.recent[client.id]
        recent.append(now)
        while recent[0] <= now - self.window:
            recent.popleft()
        before = self.positions.get((client.id, order.symbol), 0)
        after = before + (order.qty if order.side == BUY else -order.qty)
        grows = abs(after) > abs(before)
        exposure = abs(after) * order.price
        gross = exposure + sum(abs(self.positions.get((client.id, symbol), 0)) * price
                               for symbol, price in self.prices.items()
                               if symbol != order.symbol)
        share_bp = exposure * 10_000 // gross if gross else 0
        loss = -self.day_pnl[client.id]
        return {
            "position": (exposure, client.risk_limit, grows and exposure > client.risk_limit),
            "velocity": (len(recent), client.velocity_limit,
                         len(recent) > client.velocity_limit),
            "loss": (loss, client.daily_loss_limit, grows and loss >= client.daily_loss_limit),
            "concentration": (share_bp, self.concentration_bp,
                              grows and gross > client.risk_limit
                              and share_bp > self.concentration_bp),
        }

    # ---- what the risk manager hears -------------------------------------------------

    def on_position(self, client: str, symbol: str, qty: int, realized: int) -> None:
        self.positions[(client, symbol)] = qty
        self.day_pnl[client] += realized

    def on_price(self, symbol: str, price: int) -> None:
        self.prices[symbol] = price

    def on_session(self, is_open: bool, event) -> None:
        if is_open:
            self.day_pnl = dict.fromkeys(self.day_pnl, 0)
