"""Compliance findings from the event log: wash trades, limit breaches and overrides, churn."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from sim.audit.summary import limit_value, money

DEFAULT_MAX_MODIFICATIONS = 5
_TYPES = ("TradeExecuted", "LimitBreached", "LimitOverridden", "OrderRejected",
          "OrderSubmitted", "OrderModified")
COLUMNS = ("kind", "seq", "time", "client", "symbol", "order", "trade", "detail", "refs")


@dataclass
class Finding:
    """One thing a compliance officer should look at; `seq` is the event that shows it and
    `refs` the other events involved."""

    kind: str  # wash_trade, limit_breach, limit_override, excessive_modifications
    seq: int
    time: int
    client: str
    detail: str
    symbol: str = ""
    order: str = ""
    trade: str = ""
    refs: list[int] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {name: getattr(self, name) for name in COLUMNS}


@dataclass
class Findings:
    findings: list[Finding]
    events: int
    max_modifications: int

    def of(self, kind: str) -> list[Finding]:
        return [f for f in self.findings if f.kind == kind]

    def counts(self) -> dict[str, int]:
        counts = Counter(f.kind for f in self.findings)
        return {kind: counts.get(kind, 0) for kind in
                ("wash_trade", "limit_breach", "limit_override", "excessive_modifications")}

    def to_json(self) -> str:
        return json.dumps({"events_read": self.events, "max_modifications":
                           self.max_modifications, "counts": self.counts(),
                           "findings": [f.to_dict() for f in self.findings]}, indent=2)

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        for f in self.findings:
            row = f.to_dict()
            row["refs"] = " ".join(map(str, f.refs))
            writer.writerow([row[name] for name in COLUMNS])
        return out.getvalue()


def compliance(store, *, max_modifications: int = DEFAULT_MAX_MODIFICATIONS,
               progress: Callable[[int], None] | None = None) -> Findings:
    """Every finding, in seq order of the event that shows it."""
    findings: list[Finding] = []
    breaches: dict[tuple[str, str], Finding] = {}  # (order, check) -> its breach
    orders: dict[str, tuple[str, str]] = {}  # order -> (client, symbol)
    modifications: dict[str, list[int]] = {}  # order -> seqs of its modifications
    read = 0
    for e in store.read(types=_TYPES):
        p, read = e.payload, read + 1
        if e.type == "OrderSubmitted":
            orders[p["order"]] = (p["client"], p["symbol"])
        elif e.type == "TradeExecuted" and p["buyer"] == p["seller"]:
            findings.append(Finding(
                "wash_trade", e.seq, e.time, p["buyer"],
                f"{p['buyer']} bought and sold {p['qty']:,} {p['symbol']} @ "
                f"{money(p['price'])} with itself ({p['buy_order']} against "
                f"{p['sell_order']})", p["symbol"], p["buy_order"], p["trade"]))
        elif e.type == "LimitBreached":
            client, symbol = orders.get(p["order"], (p["client"], ""))
            finding = Finding(
                "limit_breach", e.seq, e.time, p["client"],
                f"{p['check']} {limit_value(p['check'], p['value'])} > limit "
                f"{limit_value(p['check'], p['limit'])}", symbol, p["order"])
            breaches[(p["order"], p["check"])] = finding
            findings.append(finding)
        elif e.type == "LimitOverridden":
            breach = breaches.get((p["order"], p["check"]))
            refs = [breach.seq] if breach else []
            if breach:
                breach.detail += f"; overridden by {p['approver']} at seq {e.seq}"
                breach.refs.append(e.seq)
            findings.append(Finding(
                "limit_override", e.seq, e.time, p["client"],
                f"{p['check']} breach waived by {p['approver']}; the order went on",
                breach.symbol if breach else "", p["order"], refs=refs))
        elif e.type == "OrderRejected" and p["reason"].endswith("_limit"):
            breach = breaches.get((p["order"], p["reason"].removesuffix("_limit")))
            if breach:
                breach.detail += f"; order rejected at seq {e.seq}"
                breach.refs.append(e.seq)
        elif e.type == "OrderModified":
            modifications.setdefault(p["order"], []).append(e.seq)
        if progress is not None and read % 5000 == 0:
            progress(read)
    for order, seqs in modifications.items():
        if len(seqs) > max_modifications:
            client, symbol = orders.get(order, ("", ""))
            last = store.get_seq(seqs[-1])
            findings.append(Finding(
                "excessive_modifications", seqs[-1], last.time, client,
                f"{order} modified {len(seqs)} times (more than {max_modifications})",
                symbol, order, refs=seqs))
    findings.sort(key=lambda f: (f.seq, f.kind))
    return Findings(findings, read, max_modifications)
