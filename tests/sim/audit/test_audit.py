"""The auditor's questions: explain an event, trace an order or trade, statements, compliance."""

from __future__ import annotations

import csv
import io
import json

import pytest
from audit_support import AUDIT_CONFIG

from sim.audit.compliance import compliance
from sim.audit.explain import NotFound, explain_event, format_trace, trace
from sim.audit.statement import statement
from sim.audit.summary import money


def test_money_is_shown_as_money():
    assert [money(c) for c in (0, 5, -5, 123456789)] == ["$0.00", "$0.05", "-$0.05",
                                                         "$1,234,567.89"]


def test_a_risk_rejection_is_explained_back_to_the_order(audit_store):
    rejected = next(e for e in audit_store.read(types=["OrderRejected"])
                    if e.payload["reason"].endswith("_limit"))
    explanation = explain_event(audit_store, rejected.seq)
    types = [e.type for e in explanation.chain]
    assert types[0] == "OrderSubmitted" and types[-1] == "OrderRejected"
    assert "RiskChecked" in types and "LimitBreached" in types
    failed = [c for c in explanation.risk if c.result == "fail"]
    check = rejected.payload["reason"].removesuffix("_limit")
    assert check in {c.check for c in failed}
    assert all(c.value is not None and c.value > c.limit for c in failed)
    text = explanation.format()
    assert f"seq {rejected.seq} OrderRejected" in text and "against a limit of" in text
    assert f"seq {explanation.chain[0].seq} OrderSubmitted" in text
    assert explain_event(audit_store, rejected.event_id).event == rejected
    assert json.loads(json.dumps(explanation.to_dict()))["event"]["seq"] == rejected.seq


def test_an_override_shows_the_breach_it_waived(audit_store):
    waived = next(audit_store.read(types=["LimitOverridden"]))
    explanation = explain_event(audit_store, waived.seq)
    check = next(c for c in explanation.risk if c.check == waived.payload["check"])
    assert check.result == "override" and check.override_seq == waived.seq
    assert explanation.chain[-2].type == "LimitBreached"


def test_a_root_event_has_no_causes_but_effects(audit_store):
    submitted = next(audit_store.read(types=["OrderSubmitted"]))
    explanation = explain_event(audit_store, submitted.seq)
    assert explanation.chain == [submitted] and explanation.effects
    assert "a root cause" in explanation.format()


def test_unknown_events_are_named(audit_store):
    with pytest.raises(NotFound, match="no event with seq 99999999"):
        explain_event(audit_store, 99_999_999)
    with pytest.raises(NotFound, match="no order O999999"):
        trace(audit_store, "O999999")


def test_an_orders_trace_runs_from_submission_to_its_end(audit_store):
    expired = next(e for e in audit_store.read(types=["OrderExpired"]) if e.time % 1000 == 989)
    order = expired.payload["order"]
    title, events = trace(audit_store, order)
    assert events[0].type == "OrderSubmitted" and events[-1] == expired  # closed by the market
    assert [e.seq for e in events] == sorted(e.seq for e in events)
    lines = format_trace(title, events).splitlines()
    assert lines[0].startswith(f"order-{order}") and len(lines) == len(events) + 1
    assert lines[1].lstrip().startswith("1. seq") and "OrderSubmitted" in lines[1]


def test_a_trades_trace_holds_its_settlement(audit_store):
    settled = next(audit_store.read(types=["TradeSettled"]))
    _, events = trace(audit_store, settled.payload["trade"])
    assert {"TradeExecuted", "TradeReported", "TradeSettled", "OrderSubmitted"} <= {
        e.type for e in events}
    by_correlation = trace(audit_store, settled.correlation_id)[1]
    assert {e.seq for e in by_correlation} <= {e.seq for e in events}


def test_a_statement_reconciles_to_the_cent(audit_store):
    s = statement(audit_store, "client-3", 300, 900)
    assert s.trades and all(300 <= t.time <= 900 for t in s.trades)
    assert s.closing_cash == s.opening_cash + sum(t.cash for t in s.trades)
    opening = {p.symbol: p.qty for p in s.opening}
    closing = {p.symbol: p.qty for p in s.closing}
    for symbol in opening.keys() | closing.keys():
        moved = sum(t.qty if t.side == "buy" else -t.qty for t in s.trades
                    if t.symbol == symbol and t.side != "both")
        assert closing.get(symbol, 0) == opening.get(symbol, 0) + moved
    whole = statement(audit_store, "client-3")
    client = next(c for c in AUDIT_CONFIG.clients if c.id == "client-3")
    assert whole.opening_cash == client.balance and whole.opening == []


def test_a_statement_in_text_csv_and_json(audit_store):
    s = statement(audit_store, "client-1", 0, 600)
    text = s.to_text()
    assert text.startswith("Statement for client-1, t=0 to t=600")
    assert f"Opening cash: {money(s.opening_cash)}" in text
    assert f"Realized P&L in the period: {money(s.realized)}" in text
    rows = list(csv.DictReader(io.StringIO(s.to_csv())))
    assert sum(1 for r in rows if r["section"] == "trade") == len(s.trades)
    assert rows[0]["amount"] == f"{s.opening_cash // 100}.{s.opening_cash % 100:02d}"
    data = json.loads(s.to_json())
    assert data["closing_cash"] == s.closing_cash and len(data["trades"]) == len(s.trades)
    with pytest.raises(NotFound, match="no client 'client-9'"):
        statement(audit_store, "client-9")


def test_compliance_finds_each_kind_with_event_references(audit_store):
    found = compliance(audit_store, max_modifications=3)
    counts = found.counts()
    assert all(counts[kind] for kind in counts), counts
    for f in found.findings:
        event = audit_store.get_seq(f.seq)
        expected = {"wash_trade": "TradeExecuted", "limit_breach": "LimitBreached",
                    "limit_override": "LimitOverridden",
                    "excessive_modifications": "OrderModified"}[f.kind]
        assert event.type == expected
    overrides = found.of("limit_override")
    assert all(f.refs and audit_store.get_seq(f.refs[0]).type == "LimitBreached"
               for f in overrides)
    churn = found.of("excessive_modifications")
    assert all(len(f.refs) > 3 for f in churn)
    rows = list(csv.DictReader(io.StringIO(found.to_csv())))
    assert len(rows) == len(found.findings) and rows[0]["seq"] == str(found.findings[0].seq)
    assert json.loads(found.to_json())["counts"] == counts
