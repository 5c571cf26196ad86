"""The event types: one table, in code, of every event, its payload schema and its relation."""

from __future__ import annotations

from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii
from operator import itemgetter
from typing import Any, NamedTuple

from sim.events.ids import canonical_json

MAX_INT = 2**63 - 1
MAX_FIELD_TEXT = 1_000  # characters of one payload string (a name or an id)
MAX_PAYLOAD_BYTES = 16_384  # of one event's canonical payload JSON


def is_unicode(text: str) -> bool:
    """Whether a str is well-formed Unicode: no lone surrogate, which UTF-8 cannot carry
    and the engines cannot load."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class Kind(NamedTuple):
    """A payload field's kind: its Python type, its .dl type and the values it admits."""

    python: type
    dl_type: str
    minimum: int | None = None


KINDS = {
    "id": Kind(str, "symbol"),        # an order, trade or client id
    "symbol": Kind(str, "symbol"),    # a name: ticker, side, reason, result …
    "qty": Kind(int, "number", 0),    # shares; never negative
    "price": Kind(int, "number", 0),  # cents; never negative
    "money": Kind(int, "number"),     # signed cents: cash, cost, P&L
    "signed": Kind(int, "number"),    # a signed count: a position's shares
    "count": Kind(int, "number", 0),  # a sequence number or a day
    "tick": Kind(int, "number", 0),   # a point in simulated time other than the event's own
}


@dataclass(frozen=True)
class EventType:
    """An event type; its facts go to `relation` as (payload fields in order…, time)."""

    name: str
    relation: str
    stream: str  # the stream (aggregate) its events belong to, as a format string
    fields: tuple[tuple[str, str], ...]
    doc: str
    _checks: tuple = field(init=False, repr=False, compare=False)
    _template: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Canonical JSON sorts keys: encode() fills a template laid out in that order.
        ordered = sorted(self.fields)
        checks = tuple((name, KINDS[kind].python is int,
                        -MAX_INT if KINDS[kind].minimum is None else KINDS[kind].minimum)
                       for name, kind in ordered)
        template = "{" + ",".join(f'"{name}":%s' for name, _ in ordered) + "}"
        object.__setattr__(self, "_checks", checks)
        object.__setattr__(self, "_template", template)

    def encode(self, payload) -> str | None:
        """The payload's canonical JSON if it is valid, else None (see payload_problem).
        Equal to canonical_json(payload), at a third of the cost: the store's hot path."""
        if type(payload) is not dict or len(payload) != len(self._checks):
            return None
        parts = []
        for name, is_int, minimum in self._checks:
            value = payload.get(name)
            if is_int:
                if type(value) is not int or not minimum <= value <= MAX_INT:
                    return None
                parts.append(str(value))
            elif (type(value) is str and value and len(value) <= MAX_FIELD_TEXT
                  and is_unicode(value)):
                parts.append(encode_basestring_ascii(value))
            else:
                return None
        return self._template % tuple(parts)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.fields)

    def fact_row(self, payload: dict, time: int) -> tuple:
        return (*_getter(self)(payload), time)

    def declaration(self) -> str:
        columns = [f"{name}: {KINDS[kind].dl_type}" for name, kind in self.fields]
        return f".event {self.relation}({', '.join(columns + ['t: time'])})"


def _type(name: str, relation: str, stream: str, doc: str, *fields: str) -> EventType:
    pairs = tuple(tuple(f.split(":")) for f in fields)
    return EventType(name, relation, stream, pairs, doc)


_POSITION = ("client:id", "symbol:symbol", "trade:id", "n:count", "qty:signed", "cost:money",
             "avg_price:price", "realized:money", "cash:money")

EVENT_TYPES: dict[str, EventType] = {t.name: t for t in (
    # Accounts: one stream per client, opened at t=0 with what the risk manager checks.
    _type("AccountOpened", "account_opened", "account-{client}",
          "a client's account: opening cash balance and the limits its orders are checked "
          "against (risk limit per symbol, orders per velocity window, daily realized loss)",
          "client:id", "balance:money", "risk_limit:money", "velocity_limit:count",
          "velocity_window:count", "loss_limit:money"),
    # Orders: one stream per order.
    _type("OrderSubmitted", "order_submitted", "order-{order}",
          "a client's order as the gateway received it; expires is its last live tick",
          "order:id", "client:id", "symbol:symbol", "side:symbol", "qty:qty", "price:price",
          "tif:symbol", "expires:tick"),
    _type("OrderValidated", "order_validated", "order-{order}",
          "the gateway found the order well-formed and the market open", "order:id"),
    _type("OrderRejected", "order_rejected", "order-{order}",
          "the gateway or the risk manager refused the order", "order:id", "reason:symbol"),
    _type("OrderAccepted", "order_accepted", "order-{order}",
          "the matching engine took the order", "order:id"),
    _type("OrderPartiallyFilled", "order_partially_filled", "order-{order}",
          "a trade filled part of the order; remaining is still open",
          "order:id", "trade:id", "qty:qty", "price:price", "remaining:qty"),
    _type("OrderFilled", "order_filled", "order-{order}",
          "a trade filled the rest of the order", "order:id", "trade:id", "qty:qty",
          "price:price"),
    _type("OrderCancelled", "order_cancelled", "order-{order}",
          "the order left the book unfilled: client request or self-match prevention",
          "order:id", "reason:symbol", "remaining:qty"),
    _type("OrderExpired", "order_expired", "order-{order}",
          "the order's time in force ran out", "order:id", "remaining:qty"),
    _type("OrderModified", "order_modified", "order-{order}",
          "the client changed the open quantity or the price; n counts the modifications",
          "order:id", "n:count", "qty:qty", "price:price"),
    # Trades: one stream per trade.
    _type("TradeExecuted", "trade_executed", "trade-{trade}",
          "two orders matched; aggressor is the side of the incoming order",
          "trade:id", "symbol:symbol", "buy_order:id", "sell_order:id", "buyer:id",
          "seller:id", "qty:qty", "price:price", "aggressor:symbol"),
    _type("TradeReported", "trade_reported", "trade-{trade}",
          "the trade was printed on the public tape", "trade:id", "symbol:symbol", "qty:qty",
          "price:price"),
    _type("TradeSettled", "trade_settled", "trade-{trade}",
          "cash and shares changed hands; amount is qty * price in cents",
          "trade:id", "buyer:id", "seller:id", "amount:money"),
    # Positions: one stream per client and symbol; n counts the position's changes.
    _type("PositionOpened", "position_opened", "position-{client}-{symbol}",
          "a flat position became long or short", *_POSITION),
    _type("PositionIncreased", "position_increased", "position-{client}-{symbol}",
          "a position grew on its side", *_POSITION),
    _type("PositionDecreased", "position_decreased", "position-{client}-{symbol}",
          "a position shrank without closing; realized is the position's P&L so far",
          *_POSITION),
    _type("PositionClosed", "position_closed", "position-{client}-{symbol}",
          "a position went flat", *_POSITION),
    # Risk: one stream per client.
    _type("RiskChecked", "risk_checked", "risk-{client}",
          "every check's result for one order: pass, fail or override",
          "order:id", "client:id", "symbol:symbol", "result:symbol", "position:symbol",
          "velocity:symbol", "loss:symbol", "concentration:symbol"),
    _type("LimitBreached", "limit_breached", "risk-{client}",
          "an order would break a limit; value and limit are in the check's unit",
          "order:id", "client:id", "check:symbol", "value:signed", "limit:signed"),
    _type("LimitOverridden", "limit_overridden", "risk-{client}",
          "a breach was waived by a standing override", "order:id", "client:id",
          "check:symbol", "approver:id"),
    # Market data: one stream per symbol, and one for the session.
    _type("PriceUpdated", "price_updated", "market-{symbol}",
          "the reference price moved (a random walk)", "symbol:symbol", "price:price"),
    _type("VolumeUpdated", "volume_updated", "market-{symbol}",
          "shares traded since the last volume update, and in the day so far",
          "symbol:symbol", "volume:qty", "day_volume:qty"),
    _type("MarketOpened", "market_opened", "market", "the trading session began", "day:count"),
    _type("MarketClosed", "market_closed", "market", "the trading session ended", "day:count"),
    _type("TradingHalted", "trading_halted", "market-{symbol}",
          "trading in the symbol stopped until the tick `until`",
          "symbol:symbol", "reason:symbol", "until:tick"),
)}

BY_RELATION = {t.relation: t for t in EVENT_TYPES.values()}

_GETTERS: dict[str, Any] = {}


def _getter(event_type: EventType):
    getter = _GETTERS.get(event_type.name)
    if getter is None:
        names = event_type.field_names
        getter = itemgetter(*names) if len(names) > 1 else (lambda p, n=names[0]: (p[n],))
        _GETTERS[event_type.name] = getter
    return getter


def resolve_type(name: str) -> EventType:
    """An event type by its name (`OrderFilled`) or its relation (`order_filled`)."""
    found = EVENT_TYPES.get(name) or BY_RELATION.get(name)
    if found is None:
        raise KeyError(name)
    return found


# ---- the event record ----------------------------------------------------------

class Event(NamedTuple):
    """An event to append. The store assigns `seq` and `hash`; producers that know their
    stream set `version` (optimistic concurrency) and may leave the rest to the store."""

    type: str
    time: int
    stream_id: str
    payload: dict
    event_id: str | None = None
    ts: int | None = None
    version: int | None = None
    causation_id: str | None = None
    correlation_id: str | None = None
    idempotency_key: str | None = None


ENVELOPE = Event._fields


class StoredEvent(NamedTuple):
    """An event as the store holds it, in the `events` table's column order."""

    seq: int
    event_id: str
    type: str
    time: int
    ts: int
    stream_id: str
    version: int
    causation_id: str | None
    correlation_id: str | None
    idempotency_key: str | None
    payload: dict
    hash: str

    def to_json(self) -> str:
        return canonical_json(self._asdict())


# ---- rules/events.dl is generated from the table ---------------------------------

# Every event's envelope, as one more event relation beside its payload relation.
ENVELOPE_RELATION = "event"
ENVELOPE_DECLARATION = (
    ".event event(seq: number, id: symbol, type: symbol, stream: symbol, version: number, "
    "t: time, causation: symbol, correlation: symbol)")
ENVELOPE_DOC = (
    "// The envelope of every event, whatever its type: its seq (arrival order, gapless), id,\n"
    "// type name (`OrderFilled`), stream and version in it, valid time, and the ids of the\n"
    "// event that caused it (\"\" for a root event) and of its chain's root. A payload fact\n"
    "// joins its envelope through its stream: an order's events are in stream\n"
    "// cat(\"order-\", order), and the stream's latest event has its largest version.")


def envelope_row(seq: int, type: str, time: int, event_id: str, stream: str, version: int,
                 causation: str | None, correlation: str | None) -> tuple:
    return (seq, event_id, type, stream, version, time, causation or "", correlation or "")


def render_dl() -> str:
    lines = [
        "// Generated from EVENT_TYPES (sim/events/types.py) by `python -m sim.events`: do not "
        "edit.",
        "// One event relation per event type: the payload's fields in order, then `t`, the",
        "// event's valid time (the simulator tick). Money and prices are integer cents.",
        "", ENVELOPE_DOC, ENVELOPE_DECLARATION,
    ]
    for event_type in EVENT_TYPES.values():
        lines += ["", f"// {event_type.name}: {event_type.doc}.", event_type.declaration()]
    return "\n".join(lines) + "\n"

