"""The audit commands as a user runs them: output, formats and exit codes."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app

RULES = Path(__file__).resolve().parents[2] / "rules"
COMMANDS = ("replay", "snapshot", "validate", "explain-event", "trace", "statement",
            "compliance", "report")

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("audit-cli") / "events.db"
    result = invoke("sim", "--ticks", 600, "--seed", 4, "--db", path, "--quiet")
    assert result.exit_code == 0, result.stderr
    return path


@pytest.fixture
def copy(db, tmp_path) -> Path:
    target = tmp_path / "copy.db"
    shutil.copyfile(db, target)
    return target


@pytest.mark.parametrize("command", COMMANDS)
def test_every_audit_command_has_help(command):
    result = invoke(command, "--help")
    assert result.exit_code == 0 and "--db" in result.stdout


def test_replay_prints_the_rebuilt_read_models(db):
    result = invoke("replay", "--db", db)
    assert result.exit_code == 0, result.stderr
    assert "replayed" in result.stdout and "positions" in result.stdout
    assert "balances" in result.stdout and "$" in result.stdout
    data = json.loads(invoke("replay", "--db", db, "--json").stdout)
    digest = json.loads(invoke("validate", "--db", db, "--json").stdout)["digest"]
    assert data["digest"] == digest and data["last_seq"] == data["events"]


def test_a_filtered_replay_says_so_and_keeps_its_client(db):
    result = invoke("replay", "--db", db, "--client", "client-3", "--type", "trade_executed",
                    "--type", "PositionOpened", "--json")
    state = json.loads(result.stdout)["state"]
    assert {row[0] for row in state["positions"]["holdings"]} == {"client-3"}
    text = invoke("replay", "--db", db, "--symbol", "AAPL", "--to", 300).stdout
    assert "a filtered replay" in text


def test_replay_into_the_rules_answers_queries(db):
    result = invoke("replay", "--db", db, "--rules", RULES / "audit.dl", "--query",
                    "self_trade(tr, c, s, q, p, t)", "--to-seq", 5000)
    assert result.exit_code == 0, result.stderr
    assert "self_trade(tr, c, s, q, p, t):" in result.stdout and "answers" in result.stdout


@pytest.mark.parametrize("args,code,message", [
    (("--type", "OrderTeleported"), 2, "unknown event type 'OrderTeleported'"),
    (("--query", "wash_trade(t, c, s, q, p, x)"), 2, "--query needs --rules"),
    (("--from-seq", 9, "--to-seq", 3), 1, "the seq range is empty"),
    (("--speed", -1), 1, "--speed must be 0"),
])
def test_replay_refuses_bad_options(db, args, code, message):
    result = invoke("replay", "--db", db, *args)
    assert result.exit_code == code and message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_store_is_a_usage_mistake(tmp_path):
    for command in (("replay",), ("validate",), ("explain-event", 1), ("trace", "O000001"),
                    ("statement", "--client", "client-1"), ("compliance",), ("report",)):
        result = invoke(*command, "--db", tmp_path / "none.db")
        assert result.exit_code == 2, command
        assert "none.db" in result.stderr and "Traceback" not in result.stderr


def test_snapshots_are_taken_and_replays_resume_from_them(copy):
    result = invoke("snapshot", "--db", copy, "--every", 5000)
    assert result.exit_code == 0 and "took" in result.stdout and "seq     5000" in result.stdout
    listed = invoke("snapshot", "--db", copy, "--list").stdout
    assert "seq    10000" in listed
    resumed = invoke("replay", "--db", copy, "--from-seq", 12000)
    assert "from the snapshot at seq 10000" in resumed.stdout
    full = json.loads(invoke("replay", "--db", copy, "--json", "--no-snapshot").stdout)
    again = json.loads(invoke("replay", "--db", copy, "--json", "--from-seq", 12000).stdout)
    assert again["digest"] == full["digest"] and again["snapshot"]["seq"] == 10000
    assert invoke("snapshot", "--db", copy, "--every", 0).exit_code == 2


def test_engine_snapshots_are_taken_and_replays_with_rules_resume_from_them(copy):
    rules = RULES / "audit.dl"
    query = "self_trade(tr, c, s, q, p, t)"
    result = invoke("snapshot", "--db", copy, "--every", 5000, "--rules", rules, "--query", query)
    assert result.exit_code == 0, result.stderr
    assert "engine snapshots of" in result.stdout and "program" in result.stdout
    listed = invoke("snapshot", "--db", copy, "--list", "--rules", rules).stdout
    assert "stored" in listed and "seq    10000" in listed
    resumed = invoke("replay", "--db", copy, "--rules", rules, "--from-seq", 12000,
                     "--query", query)
    assert resumed.exit_code == 0, resumed.stderr
    assert "from the engine snapshot at seq 10000, then replayed" in resumed.stdout
    full = json.loads(invoke("replay", "--db", copy, "--rules", rules, "--query", query,
                             "--no-snapshot", "--json").stdout)
    again = json.loads(invoke("replay", "--db", copy, "--rules", rules, "--query", query,
                              "--from-seq", 12000, "--json").stdout)
    assert full["engine_snapshot"] is None and full["first_seq"] == 1
    assert again["engine_snapshot"]["seq"] == 10000 and again["first_seq"] == 10001
    assert again["answers"] == full["answers"] and full["answers"][query]
    assert again["last_seq"] == full["last_seq"]
    mistake = invoke("snapshot", "--db", copy, "--query", query)
    assert mistake.exit_code == 2 and "--query needs --rules" in mistake.stderr


def test_validate_passes_and_then_catches_a_tampered_event(copy):
    assert invoke("validate", "--db", copy).exit_code == 0
    ok = invoke("validate", "--db", copy, "--resimulate")
    assert ok.exit_code == 0 and "the simulator reproduced" in ok.stdout
    with sqlite3.connect(copy) as conn:
        conn.execute("DROP TRIGGER events_no_update")
        conn.execute("UPDATE events SET payload = replace(payload, '\"price\":', '\"price\":9')"
                     " WHERE seq = (SELECT min(seq) FROM events WHERE type = 'TradeExecuted')")
        seq = conn.execute("SELECT min(seq) FROM events WHERE type = 'TradeExecuted'"
                           ).fetchone()[0]
    bad = invoke("validate", "--db", copy, "--resimulate")
    assert bad.exit_code == 1
    assert f"first difference at seq {seq} (TradeExecuted)" in bad.stderr
    assert "payload.price" in bad.stderr and "stored:" in bad.stderr


def test_validate_catches_a_snapshot_that_no_longer_matches(copy):
    invoke("snapshot", "--db", copy, "--every", 4000)
    with sqlite3.connect(copy) as conn:
        conn.execute("UPDATE snapshots SET state_hash = 'bad' WHERE seq = 8000")
    result = invoke("validate", "--db", copy)
    assert result.exit_code == 1 and "first difference at seq 8000" in result.stderr


def test_explain_event_and_trace(db):
    with sqlite3.connect(db) as conn:
        seq, order = conn.execute(
            "SELECT seq, json_extract(payload, '$.order') FROM events WHERE type = "
            "'OrderRejected' AND json_extract(payload, '$.reason') LIKE '%_limit' LIMIT 1"
        ).fetchone()
    result = invoke("explain-event", seq, "--db", db)
    assert result.exit_code == 0, result.stderr
    assert f"seq {seq} OrderRejected" in result.stdout and "against a limit of" in result.stdout
    data = json.loads(invoke("explain-event", seq, "--db", db, "--json").stdout)
    assert data["causes"][0]["type"] == "OrderSubmitted"
    traced = invoke("trace", order, "--db", db)
    assert traced.exit_code == 0 and " 1. seq" in traced.stdout or "1. seq" in traced.stdout
    assert "OrderRejected" in traced.stdout
    assert invoke("explain-event", 10**9, "--db", db).exit_code == 1
    missing = invoke("trace", "O999999", "--db", db)
    assert missing.exit_code == 1 and "no order O999999" in missing.stderr


def test_statement_in_three_formats(db):
    text = invoke("statement", "--db", db, "--client", "client-1", "--from", 100, "--to", 500)
    assert text.exit_code == 0, text.stderr
    assert text.stdout.startswith("Statement for client-1, t=100 to t=500")
    rows = list(csv.DictReader(io.StringIO(invoke(
        "statement", "--db", db, "--client", "client-1", "--format", "csv").stdout)))
    assert rows[0]["section"] == "opening_cash" and rows[-1]["section"] == "unrealized_pnl"
    data = json.loads(invoke("statement", "--db", db, "--client", "client-1", "--format",
                             "json").stdout)
    assert data["closing_cash"] == data["opening_cash"] + sum(t["cash"] for t in data["trades"])
    assert invoke("statement", "--db", db, "--client", "client-9").exit_code == 1
    assert invoke("statement", "--db", db, "--client", "client-1", "--from", 9, "--to", 2
                  ).exit_code == 2


def test_compliance_as_csv_json_and_file(db, tmp_path):
    result = invoke("compliance", "--db", db)
    assert result.exit_code == 0
    assert result.stdout.startswith("kind,seq,time,client,symbol,order,trade,detail,refs")
    data = json.loads(invoke("compliance", "--db", db, "--format", "json").stdout)
    assert data["counts"]["wash_trade"] > 0 and "findings:" in result.stderr
    out = tmp_path / "findings" / "f.csv"
    assert invoke("compliance", "--db", db, "--out", out).exit_code == 0
    assert out.read_text() == result.stdout


def test_report_writes_the_charts_and_the_page(db, tmp_path):
    result = invoke("report", "--db", db, "--out", tmp_path / "report", "--quiet")
    assert result.exit_code == 0, result.stderr
    names = sorted(p.name for p in (tmp_path / "report").iterdir())
    assert names == ["latency.png", "order_volume.png", "prices.png", "report.html",
                     "risk_breaches.png", "top_client_positions.png"]


def test_stats_within_a_time_window(db):
    rows = [json.loads(line) for line in invoke(
        "stats", "--db", db, "--since", 100, "--until", 199, "--json").stdout.splitlines()]
    by_type = {row["type"]: row for row in rows}
    assert by_type["OrderSubmitted"]["count"] == 500  # 100 ticks x 5 orders
    assert all(100 <= row["first_time"] <= row["last_time"] <= 199 for row in rows)
    table = invoke("stats", "--db", db, "--since", 100, "--until", 199).stdout
    assert "t=100..199" in table and "first time" in table
    assert invoke("stats", "--db", db, "--since", 9, "--until", 2).exit_code == 2


def test_resimulating_needs_the_runs_recorded_settings(audit_db):
    result = invoke("validate", "--db", audit_db, "--resimulate")
    assert result.exit_code == 1 and "does not record the simulator settings" in result.stderr
