"""One line per event, as a person reads it: who did what, in shares and money."""

from __future__ import annotations


def money(cents: int) -> str:
    """Cents shown as money: 1234567 -> '$12,345.67', -5 -> '-$0.05'."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}${whole:,}.{part:02d}"


def _position(p: dict) -> str:
    return (f"{p['client']} {p['symbol']} now {p['qty']:+,} @ avg {money(p['avg_price'])}, "
            f"realized {money(p['realized'])}, cash {money(p['cash'])} ({p['trade']})")


_LINES = {
    "AccountOpened": lambda p: (f"{p['client']} opened with {money(p['balance'])}; limits: "
                                f"{money(p['risk_limit'])} per symbol, {p['velocity_limit']:,} "
                                f"orders per {p['velocity_window']:,} ticks, daily loss "
                                f"{money(p['loss_limit'])}"),
    "OrderSubmitted": lambda p: (f"{p['client']} {p['side']} {p['qty']:,} {p['symbol']} @ "
                                 f"{money(p['price'])} {p['tif']} until t={p['expires']} "
                                 f"({p['order']})"),
    "OrderValidated": lambda p: f"{p['order']} well-formed, market open",
    "OrderRejected": lambda p: f"{p['order']} rejected: {p['reason']}",
    "OrderAccepted": lambda p: f"{p['order']} accepted into the book",
    "OrderPartiallyFilled": lambda p: (f"{p['order']} filled {p['qty']:,} @ {money(p['price'])}"
                                       f" by {p['trade']}, {p['remaining']:,} left"),
    "OrderFilled": lambda p: (f"{p['order']} filled {p['qty']:,} @ {money(p['price'])} by "
                              f"{p['trade']}, done"),
    "OrderCancelled": lambda p: (f"{p['order']} cancelled ({p['reason']}), "
                                 f"{p['remaining']:,} unfilled"),
    "OrderExpired": lambda p: f"{p['order']} expired, {p['remaining']:,} unfilled",
    "OrderModified": lambda p: (f"{p['order']} modified (#{p['n']}): {p['qty']:,} @ "
                                f"{money(p['price'])}"),
    "TradeExecuted": lambda p: (f"{p['trade']} {p['qty']:,} {p['symbol']} @ {money(p['price'])}"
                                f": {p['buyer']} buys ({p['buy_order']}) from {p['seller']} "
                                f"({p['sell_order']}), {p['aggressor']} side aggressed"),
    "TradeReported": lambda p: f"{p['trade']} printed: {p['qty']:,} {p['symbol']} @ "
                               f"{money(p['price'])}",
    "TradeSettled": lambda p: (f"{p['trade']} settled: {p['buyer']} paid {p['seller']} "
                               f"{money(p['amount'])}"),
    "PositionOpened": _position,
    "PositionIncreased": _position,
    "PositionDecreased": _position,
    "PositionClosed": _position,
    "RiskChecked": lambda p: (f"{p['order']} of {p['client']} {p['result']}: position "
                              f"{p['position']}, velocity {p['velocity']}, loss {p['loss']}, "
                              f"concentration {p['concentration']}"),
    "LimitBreached": lambda p: (f"{p['order']} of {p['client']} breaches the {p['check']} "
                                f"limit: {limit_value(p['check'], p['value'])} > "
                                f"{limit_value(p['check'], p['limit'])}"),
    "LimitOverridden": lambda p: (f"{p['order']} of {p['client']}: {p['check']} breach waived "
                                  f"by {p['approver']}"),
    "PriceUpdated": lambda p: f"{p['symbol']} at {money(p['price'])}",
    "VolumeUpdated": lambda p: (f"{p['symbol']} traded {p['volume']:,} shares, "
                                f"{p['day_volume']:,} today"),
    "MarketOpened": lambda p: f"day {p['day']} session opened",
    "MarketClosed": lambda p: f"day {p['day']} session closed",
    "TradingHalted": lambda p: f"{p['symbol']} halted ({p['reason']}) until t={p['until']}",
}


def limit_value(check: str, value: int) -> str:
    """A risk check's value in its unit: money, orders per window, or basis points."""
    if check in ("position", "loss"):
        return money(value)
    if check == "concentration":
        return f"{value // 100}.{value % 100:02d}%"
    return f"{value:,} orders"


def summarize(type: str, payload: dict) -> str:
    line = _LINES.get(type)
    return line(payload) if line else ", ".join(f"{k}={v}" for k, v in payload.items())
