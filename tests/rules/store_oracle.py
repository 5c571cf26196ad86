"""An independent reading of the event store: every relation of rules/ in plain Python."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from fractions import Fraction

LIFECYCLE = {
    "OrderSubmitted": "submitted", "OrderValidated": "validated", "OrderRejected": "rejected",
    "OrderAccepted": "accepted", "OrderPartiallyFilled": "partially_filled",
    "OrderFilled": "filled", "OrderCancelled": "cancelled", "OrderExpired": "expired",
}
POSITION_CHANGES = {"PositionOpened": "opened", "PositionIncreased": "increased",
                    "PositionDecreased": "decreased", "PositionClosed": "closed"}
DONE = {"OrderFilled", "OrderCancelled", "OrderExpired"}


class Event:
    __slots__ = ("seq", "id", "type", "time", "stream", "version", "causation", "payload")

    def __init__(self, seq, id, type, time, stream, version, causation, payload):
        self.seq, self.id, self.type, self.time = seq, id, type, time
        self.stream, self.version, self.causation = stream, version, causation
        self.payload = json.loads(payload)


def read_events(conn, as_of: int | None = None) -> list[Event]:
    """The store's events with time <= as_of (all when None), in seq order, by SQL."""
    sql = ("SELECT seq, event_id, type, time, stream_id, version, causation_id, payload "
           "FROM events" + (" WHERE time <= ?" if as_of is not None else "") + " ORDER BY seq")
    return [Event(*row) for row in conn.execute(sql, () if as_of is None else (as_of,))]


class Oracle:
    """Each relation as a set of tuples, computed by replaying the events in seq order."""

    def __init__(self, events: list[Event]):
        self.events = events
        self.by_type: dict[str, list[Event]] = defaultdict(list)
        for event in events:
            self.by_type[event.type].append(event)
        self.submitted = {e.payload["order"]: e for e in self.by_type["OrderSubmitted"]}

    def of(self, type: str) -> list[Event]:
        return self.by_type.get(type, [])

    # ---- orders

    def order_state(self):
        state = {}
        for event in self.events:
            if event.type in LIFECYCLE:
                state[event.payload["order"]] = LIFECYCLE[event.type]
        return set(state.items())

    def _resting(self):
        """Each accepted, not yet done order: (client, symbol, side, open qty, price, since)."""
        book = {}
        for event in self.events:
            p = event.payload
            if event.type == "OrderAccepted":
                s = self.submitted[p["order"]].payload
                book[p["order"]] = [s["client"], s["symbol"], s["side"], s["qty"], s["price"],
                                    event.seq]
            elif event.type == "OrderPartiallyFilled" and p["order"] in book:
                book[p["order"]][3] = p["remaining"]
            elif event.type == "OrderModified" and p["order"] in book:
                entry = book[p["order"]]
                if p["price"] != entry[4]:
                    entry[5] = event.seq  # a new price goes to the back of the queue
                entry[3], entry[4] = p["qty"], p["price"]
            elif event.type in DONE:
                book.pop(p["order"], None)
        return book

    def pending_order(self):
        return {(o, *entry[:5]) for o, entry in self._resting().items()}

    def _fills(self):
        for event in self.events:
            if event.type in ("OrderPartiallyFilled", "OrderFilled"):
                yield event.payload

    def total_filled(self):
        total = Counter()
        for p in self._fills():
            total[p["order"]] += p["qty"]
        return set(total.items())

    def fill_rate(self):
        return {(o, filled * 1.0 / self.submitted[o].payload["qty"])
                for o, filled in self.total_filled()}

    def avg_fill_rate(self):
        rates = [rate for _, rate in self.fill_rate()]
        # the exact mean, rounded once (the language's mean does not depend on order)
        return {(float(sum(map(Fraction, rates)) / len(rates)),)} if rates else set()

    def modification_count(self):
        return set(Counter(e.payload["order"] for e in self.of("OrderModified")).items())

    def excessive_mods(self):
        return {(self.submitted[o].payload["client"], o, n)
                for o, n in self.modification_count() if n > 5}

    def trade_volume(self):
        volume = Counter()
        for e in self.of("TradeExecuted"):
            volume[e.payload["symbol"]] += e.payload["qty"]
        return set(volume.items())

    def order_book(self):
        levels = defaultdict(list)
        for o, (_, symbol, side, qty, price, since) in self._resting().items():
            key = (-price if side == "buy" else price, since)
            levels[(symbol, side)].append((key, o, price, qty))
        return {(symbol, side, rank, o, price, qty)
                for (symbol, side), entries in levels.items()
                for rank, (_, o, price, qty) in enumerate(sorted(entries), 1)}

    # ---- positions

    def _positions(self):
        """The latest position event per (client, symbol)."""
        latest = {}
        for e in self.events:
            if e.type in POSITION_CHANGES:
                latest[(e.payload["client"], e.payload["symbol"])] = e.payload
        return latest

    def current_position(self):
        return {(c, s, p["qty"], p["avg_price"], p["realized"])
                for (c, s), p in self._positions().items() if p["qty"]}

    def position_at_trade(self):
        """Each trade's buyer's and seller's qty as of the trade's tick: the last position
        event (by seq) of that client and symbol with time <= the tick; 0 when none."""
        history = defaultdict(list)  # (client, symbol) -> [(time, qty)] in seq order
        for e in self.events:
            if e.type in POSITION_CHANGES:
                history[(e.payload["client"], e.payload["symbol"])].append(
                    (e.time, e.payload["qty"]))
        found = set()
        for e in self.of("TradeExecuted"):
            p = e.payload
            for client in (p["buyer"], p["seller"]):
                qty = 0
                for time, q in history[(client, p["symbol"])]:
                    if time <= e.time:
                        qty = q
                found.add((p["trade"], client, p["symbol"], qty, e.time))
        return found

    def latest_price(self):
        return set({e.payload["symbol"]: e.payload["price"]
                    for e in self.of("PriceUpdated")}.items())

    def unrealized_pnl(self):
        prices = dict(self.latest_price())
        return {(c, s, q * (prices[s] - a)) for c, s, q, a, _ in self.current_position()
                if s in prices}

    def _exposures(self):
        prices = dict(self.latest_price())
        per_symbol = defaultdict(dict)
        for c, s, q, _, _ in self.current_position():
            if s in prices:
                per_symbol[c][s] = abs(q) * prices[s]
        return per_symbol

    def exposure(self):
        return {(c, sum(values.values())) for c, values in self._exposures().items()}

    def concentration_risk(self):
        found = set()
        for c, values in self._exposures().items():
            total = sum(values.values())
            for s, value in values.items():
                if total > 0 and value * 1.0 / total > 0.25:
                    found.add((c, s, value * 1.0 / total))
        return found

    # ---- risk

    def _accounts(self):
        return {e.payload["client"]: e.payload for e in self.of("AccountOpened")}

    def velocity_breach(self):
        checks = defaultdict(list)
        for e in self.of("RiskChecked"):
            checks[e.payload["client"]].append(e.time)
        found = set()
        for client, account in self._accounts().items():
            times = checks[client]
            for t in set(times):
                n = sum(1 for u in times if t - account["velocity_window"] < u <= t)
                if n > account["velocity_limit"]:
                    found.add((client, n, t))
        return found

    def realized_pnl_today(self):
        opens = [e.time for e in self.of("MarketOpened")]
        if not opens:
            return set()
        since = max(opens)
        pnl = dict.fromkeys(self._accounts(), 0)
        realized = {}
        for e in self.events:
            if e.type in POSITION_CHANGES:
                key = (e.payload["client"], e.payload["symbol"])
                change = e.payload["realized"] - realized.get(key, 0)
                realized[key] = e.payload["realized"]
                if e.time >= since:
                    pnl[key[0]] += change
        return set(pnl.items())

    def loss_breach(self):
        accounts = self._accounts()
        return {(c, -pnl, accounts[c]["loss_limit"]) for c, pnl in self.realized_pnl_today()
                if pnl < -accounts[c]["loss_limit"]}

    def first_breach(self):
        first = {}
        for e in self.of("LimitBreached"):
            first.setdefault((e.payload["client"], e.payload["check"]), e.time)
        return {(c, check, t) for (c, check), t in first.items()}

    # ---- audit

    def trade_history(self):
        streams = defaultdict(list)
        for e in self.events:
            streams[e.stream].append(e)
        return {(e.payload["trade"], x.seq, x.type) for e in self.of("TradeExecuted")
                for order in (e.payload["buy_order"], e.payload["sell_order"])
                for x in streams["order-" + order]}

    def audit(self):
        before, found = {}, set()
        for e in self.events:
            if e.type in POSITION_CHANGES:
                p = e.payload
                key = (p["client"], p["symbol"])
                found.add((*key, POSITION_CHANGES[e.type], before.get(key, 0), p["qty"], e.time))
                before[key] = p["qty"]
        return found

    def wash_trade(self):
        found = set()
        for e in self.of("TradeExecuted"):
            p = e.payload
            if p["buyer"] == p["seller"]:
                tb = self.submitted[p["buy_order"]].time
                ts = self.submitted[p["sell_order"]].time
                if abs(tb - ts) < 10:
                    found.add((p["buyer"], p["buy_order"], p["sell_order"]))
        return found

    # ---- invariants: each the set of its violations

    def negative_balance(self):
        return {e.seq for e in self.events if e.type in POSITION_CHANGES
                and e.payload["cash"] < 0}

    def orphan_position(self):
        parties = {(e.payload["trade"], c) for e in self.of("TradeExecuted")
                   for c in (e.payload["buyer"], e.payload["seller"])}
        return {e.seq for e in self.events if e.type in POSITION_CHANGES
                and (e.payload["trade"], e.payload["client"]) not in parties}

    def one_sided_trade(self):
        filled = {(p["order"], p["trade"]) for p in self._fills()}
        booked = {(e.payload["trade"], e.payload["client"]) for e in self.events
                  if e.type in POSITION_CHANGES}
        return {p["trade"] for p in (e.payload for e in self.of("TradeExecuted"))
                if not {(p["buy_order"], p["trade"]), (p["sell_order"], p["trade"])} <= filled
                or not {(p["trade"], p["buyer"]), (p["trade"], p["seller"])} <= booked}

    def time_travel(self):
        by_id = {e.id: e for e in self.events}
        return {b.seq for a, b in zip(self.events, self.events[1:]) if b.time < a.time} | {
            e.seq for e in self.events
            if e.causation in by_id and e.time < by_id[e.causation].time}


RELATIONS = (
    "order_state", "pending_order", "total_filled", "fill_rate", "avg_fill_rate",
    "current_position", "latest_price", "unrealized_pnl", "exposure", "concentration_risk",
    "velocity_breach", "realized_pnl_today", "loss_breach", "first_breach", "trade_history",
    "audit", "wash_trade", "modification_count", "excessive_mods", "trade_volume", "order_book",
    "position_at_trade",
)
INVARIANTS = ("negative_balance", "orphan_position", "one_sided_trade", "time_travel")
