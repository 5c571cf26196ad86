"""The simulated clients: the order flow, with cancels, modifications and the odd bad order."""

from __future__ import annotations

from bisect import bisect
from itertools import accumulate, islice

from sim.exchange.orders import BUY, SELL, OrderRequest
from sim.exchange.scheduler import Priority
from sim.money import div_round

RECENT = 20  # clients cancel among their most recent working orders
BAD_FIELDS = ("client", "symbol", "side", "qty", "price")


class Clients:
    """Each tick, `orders_per_tick` orders from clients picked by weight. A limit price lies
    up to `price_behind_bp` behind the reference price (below it for a buy) or up to
    `price_through_bp` through it, so some orders trade at once and the rest wait. After
    each order its client may cancel or modify one of its working orders, at its own rates."""

    def __init__(self, bus, config, rng, gateway, market, matching):
        self.bus, self.config, self.rng = bus, config, rng
        self.gateway, self.market, self.matching = gateway, market, matching
        self.clients = list(config.clients)
        self.cumulative = list(accumulate(client.weight for client in self.clients))
        self.symbols = list(config.symbols)
        self.tifs = list(config.tif_weights)
        self.tif_cumulative = list(accumulate(config.tif_weights.values()))
        self.numbers = dict.fromkeys((client.id for client in self.clients), 0)

    def on_tick(self, t: int) -> None:
        random, post, gateway = self.rng.random, self.bus.post, self.gateway
        for _ in range(self.config.orders_per_tick):
            client = self.clients[bisect(self.cumulative, random() * self.cumulative[-1])]
            request = self.new_order(client)
            if random() < self.config.bad_order_rate:
                request = self.spoil(request)
            post(t, Priority.ORDER, gateway.on_order, request)
            if random() < client.cancel_rate:
                order = self.pick_working(client.id)
                if order is not None:
                    post(t, Priority.ORDER, gateway.on_cancel, client.id, order.id)
            if random() < client.modify_rate:
                order = (self.pick_working(client.id, client.modify_oldest, oldest=True)
                         if client.modify_oldest else self.pick_working(client.id))
                if order is not None:
                    qty, price = self.change(order)
                    post(t, Priority.ORDER, gateway.on_modify, client.id, order.id, qty, price,
                         order.symbol)

    def new_order(self, client) -> OrderRequest:
        random, config = self.rng.random, self.config
        symbol = self.symbols[int(random() * len(self.symbols))]
        side = BUY if random() < 0.5 else SELL
        behind, through = config.price_behind_bp, config.price_through_bp
        offset_bp = int(random() * (behind + through + 1)) - behind  # + is through the price
        reference = self.market.prices[symbol]
        if side == SELL:
            offset_bp = -offset_bp
        price = max(1, reference + div_round(reference * offset_bp, 10_000))
        low, high = config.order_size_bp
        notional = client.risk_limit * (low + int(random() * (high - low + 1))) // 10_000
        qty = max(1, notional // price)
        tif = self.tifs[bisect(self.tif_cumulative, random() * self.tif_cumulative[-1])]
        ttl_low, ttl_high = config.gtt_ticks
        ttl = ttl_low + int(random() * (ttl_high - ttl_low + 1))
        self.numbers[client.id] += 1
        key = f"{client.id}/{self.numbers[client.id]}"
        return OrderRequest(client.id, key, symbol, side, qty, price, tif, ttl)

    def spoil(self, request: OrderRequest) -> OrderRequest:
        """A malformed order, for the gateway to refuse."""
        field = BAD_FIELDS[int(self.rng.random() * len(BAD_FIELDS))]
        bad = {"client": "client-0", "symbol": "NFLX", "side": "hold", "qty": 0, "price": 0}
        return request._replace(**{field: bad[field]})

    def pick_working(self, client: str, among: int = RECENT, oldest: bool = False):
        """One of the client's `among` most recent (or oldest) working orders, or None."""
        working = self.matching.working[client]
        if not working:
            return None
        index = int(self.rng.random() * min(among, len(working)))
        orders = iter(working.values()) if oldest else reversed(working.values())
        return next(islice(orders, index, None))

    def change(self, order) -> tuple[int, int]:
        """A new price a few cents away, and half the time a smaller quantity."""
        random = self.rng.random
        price = max(1, order.price + int(random() * 11) - 5)
        qty = order.qty
        if random() < 0.5 and qty > 1:
            qty = 1 + int(random() * (qty - 1))
        return qty, price
