"""Explain one event through its causes, and trace every event of an order, trade or flow."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from engine import TempologError
from sim.audit.summary import limit_value, summarize
from sim.events.types import StoredEvent

_RISK_TYPES = ("RiskChecked", "LimitBreached", "LimitOverridden")


class NotFound(TempologError):
    """No event, order, trade or correlation matches what was asked for."""

    code = "not-found"


@dataclass(frozen=True)
class RiskCheck:
    """One of the risk manager's checks of an order: its result, and for a breach the
    value against the limit (the store records values only for breaches)."""

    check: str
    result: str  # pass, fail or override
    value: int | None = None
    limit: int | None = None
    breach_seq: int | None = None
    override_seq: int | None = None

    def describe(self) -> str:
        if self.value is None:
            return f"{self.check}: {self.result}"
        text = (f"{self.check}: {self.result} — {limit_value(self.check, self.value)} against "
                f"a limit of {limit_value(self.check, self.limit)} (seq {self.breach_seq}")
        if self.override_seq:
            text += f", overridden at seq {self.override_seq}"
        return text + ")"


@dataclass
class Explanation:
    event: StoredEvent
    chain: list[StoredEvent]  # root cause first, the event last
    effects: list[StoredEvent]  # the events it caused directly
    risk: list[RiskCheck] = field(default_factory=list)  # for an order's risk decision
    risk_seq: int | None = None

    def to_dict(self) -> dict:
        def brief(e: StoredEvent) -> dict:
            return {"seq": e.seq, "event_id": e.event_id, "type": e.type, "time": e.time,
                    "ts": e.ts, "summary": summarize(e.type, e.payload)}
        return {"event": {**brief(self.event), "stream_id": self.event.stream_id,
                          "correlation_id": self.event.correlation_id,
                          "causation_id": self.event.causation_id,
                          "payload": self.event.payload},
                "causes": [brief(e) for e in self.chain[:-1]],
                "effects": [brief(e) for e in self.effects],
                "risk": [vars(c) for c in self.risk], "risk_checked_seq": self.risk_seq}

    def format(self) -> str:
        e = self.event
        lines = [f"seq {e.seq} {e.type} at t={e.time} (ts {e.ts}, id {e.event_id})",
                 f"  {summarize(e.type, e.payload)}",
                 f"  stream {e.stream_id} v{e.version}, correlation {e.correlation_id}"]
        if self.risk:
            lines.append(f"  risk decision (RiskChecked seq {self.risk_seq}):")
            lines += [f"    {check.describe()}" for check in self.risk]
        if len(self.chain) > 1:
            lines.append("  because of (root cause first):")
            for depth, cause in enumerate(self.chain[:-1]):
                lines.append(f"    {'  ' * depth}seq {cause.seq} {cause.type} t={cause.time}: "
                             f"{summarize(cause.type, cause.payload)}")
        else:
            lines.append("  a root cause: nothing caused it")
        if self.effects:
            lines.append("  which caused:")
            lines += [f"    seq {x.seq} {x.type} t={x.time}: {summarize(x.type, x.payload)}"
                      for x in self.effects]
        return "\n".join(lines)


def find_event(store, ref: str | int) -> StoredEvent:
    """An event by seq (a number) or event id."""
    text = str(ref).strip()
    event = store.get_seq(int(text)) if text.isdigit() else store.get(text)
    if event is None:
        what = f"seq {text}" if text.isdigit() else f"id {text!r}"
        raise NotFound(f"no event with {what} in {store.path} (last seq {store.head()[0]})")
    return event


def explain_event(store, ref: str | int) -> Explanation:
    event = find_event(store, ref)
    chain = store.causation_chain(event.event_id)
    related = list(store.read(correlation_id=event.correlation_id))
    effects = [x for x in related if x.causation_id == event.event_id]
    explanation = Explanation(event, chain, effects)
    order = event.payload.get("order")
    if order is not None and (event.type in _RISK_TYPES or event.type == "OrderRejected"):
        _add_risk(explanation, order, related)
    return explanation


def _add_risk(explanation: Explanation, order: str, related: list[StoredEvent]) -> None:
    checked = next((x for x in related if x.type == "RiskChecked"
                    and x.payload["order"] == order), None)
    if checked is None:  # a rejection by the gateway: no risk check was made
        return
    breaches = {x.payload["check"]: x for x in related
                if x.type == "LimitBreached" and x.payload["order"] == order}
    overrides = {x.payload["check"]: x.seq for x in related
                 if x.type == "LimitOverridden" and x.payload["order"] == order}
    explanation.risk_seq = checked.seq
    for check in ("position", "velocity", "loss", "concentration"):
        breach = breaches.get(check)
        explanation.risk.append(RiskCheck(
            check, checked.payload[check],
            breach.payload["value"] if breach else None,
            breach.payload["limit"] if breach else None,
            breach.seq if breach else None, overrides.get(check)))


_ORDER = re.compile(r"O\d+")
_TRADE = re.compile(r"T\d+")


def trace(store, ref: str) -> tuple[str, list[StoredEvent]]:
    """Every event of a correlation, or of the one an order or trade started in plus that
    order's or trade's own stream (an expiry at the close belongs to the market's flow), in
    seq order; returns what was traced and the events."""
    ref = ref.strip()
    stream = None
    if _ORDER.fullmatch(ref):
        stream = f"order-{ref}"
    elif _TRADE.fullmatch(ref):
        stream = f"trade-{ref}"
    if stream is not None:
        own = list(store.read(stream_id=stream))
        if not own:
            raise NotFound(f"no {'order' if stream.startswith('order') else 'trade'} {ref} "
                           f"in {store.path}")
        flow = {e.seq: e for e in store.read(correlation_id=own[0].correlation_id)}
        flow.update((e.seq, e) for e in own)
        return f"{stream} (correlation {own[0].correlation_id})", [flow[s] for s in sorted(flow)]
    events = list(store.read(correlation_id=ref))
    if not events:
        event = store.get(ref)
        if event is None:
            raise NotFound(f"no correlation, event, order (O000123) or trade (T000045) {ref!r} "
                           f"in {store.path}")
        events = list(store.read(correlation_id=event.correlation_id))
        ref = event.correlation_id
    return f"correlation {ref}", events


def format_trace(title: str, events: list[StoredEvent]) -> str:
    width = len(str(len(events)))
    lines = [f"{title}: {len(events)} events"]
    for number, e in enumerate(events, 1):
        lines.append(f"{number:>{width}}. seq {e.seq:<7} t={e.time:<6} {e.type:<21} "
                     f"{summarize(e.type, e.payload)}")
    return "\n".join(lines)
