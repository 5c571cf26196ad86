"""MarketData: the session clock, reference prices (a random walk), the tape, volumes, halts."""

from __future__ import annotations

from sim.exchange.scheduler import Priority
from sim.money import div_round


class MarketData:
    def __init__(self, bus, log, config, rng, latency):
        self.bus, self.log, self.config, self.rng, self.latency = bus, log, config, rng, latency
        self.prices = dict(config.symbols)
        self.reference = dict(config.symbols)  # the price a halt is measured from
        self.window_volume = dict.fromkeys(config.symbols, 0)
        self.day_volume = dict.fromkeys(config.symbols, 0)
        self.session_open = False
        self.subscribers: list = []  # actors with on_session / on_halt / on_price handlers
        self.matching = None

    def on_clock(self, t: int) -> None:
        """At the first tick of a day the session opens, before any order of the tick."""
        if t % self.config.day_ticks:
            return
        self.session_open = True
        self.day_volume = dict.fromkeys(self.day_volume, 0)
        self.reference = dict(self.prices)
        opened = self.log.emit("MarketOpened", "market", {"day": t // self.config.day_ticks},
                               None, self.latency())
        for actor in self.subscribers:
            self.bus.post(t, Priority.CLOCK, actor.on_session, True, opened)

    def on_tick_end(self, t: int) -> None:
        """After the tick's orders: the periodic price and volume updates, then the close."""
        config = self.config
        if t % config.price_interval == 0:
            for symbol in self.prices:
                self._update_price(t, symbol, walk=t > 0)
            for symbol, volume in self.window_volume.items():
                if volume:
                    self.log.emit("VolumeUpdated", "market-" + symbol, {
                        "symbol": symbol, "volume": volume,
                        "day_volume": self.day_volume[symbol]}, None, self.latency())
                    self.window_volume[symbol] = 0
        if self.session_open and t % config.day_ticks == config.session_ticks - 1:
            self.session_open = False
            closed = self.log.emit("MarketClosed", "market", {"day": t // config.day_ticks},
                                   None, self.latency())
            for actor in self.subscribers:
                self.bus.post(t, Priority.MARKET_DATA, actor.on_session, False, closed)

    def _update_price(self, t: int, symbol: str, walk: bool) -> None:
        config, price = self.config, self.prices[symbol]
        if walk:
            step_bp = int(self.rng.random() * (2 * config.price_step_bp + 1)) - config.price_step_bp
            price = max(price + div_round(price * step_bp, 10_000), config.price_floor)
            self.prices[symbol] = price
        updated = self.log.emit("PriceUpdated", "market-" + symbol,
                                {"symbol": symbol, "price": price}, None, self.latency())
        for actor in self.subscribers:
            self.bus.post(t, Priority.MARKET_DATA, actor.on_price, symbol, price)
        reference = self.reference[symbol]
        if abs(price - reference) * 10_000 >= config.halt_move_bp * reference:
            self.reference[symbol] = price
            until = t + config.halt_ticks
            halted = self.log.emit("TradingHalted", "market-" + symbol, {
                "symbol": symbol, "reason": "circuit_breaker", "until": until},
                updated, self.latency())
            for actor in self.subscribers:
                self.bus.post(t, Priority.MARKET_DATA, actor.on_halt, symbol, until, halted)

    def on_trade(self, trade, symbol: str, qty: int, price: int) -> None:
        """Print a trade on the tape and count its volume."""
        self.window_volume[symbol] += qty
        self.day_volume[symbol] += qty
        self.log.emit("TradeReported", trade.stream_id, {
            "trade": trade.payload["trade"], "symbol": symbol, "qty": qty, "price": price,
        }, trade, self.latency())
