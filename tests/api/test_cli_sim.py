"""The sim, verify, stats, events and import commands, as a user runs them."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app

RULES = Path(__file__).resolve().parents[2] / "rules"
COMMANDS = ("sim", "verify", "stats", "events", "import")

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "events.db"
    result = invoke("sim", "--ticks", 200, "--seed", 4, "--db", path, "--quiet")
    assert result.exit_code == 0, result.stderr
    assert "OrderSubmitted" in result.stdout and "1,000" in result.stdout  # 200 ticks x 5
    assert "last hash" in result.stdout
    return path


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command):
    result = invoke(command, "--help")
    assert result.exit_code == 0 and "--db" in result.stdout


def test_verify_says_ok_then_names_the_first_bad_seq(db, tmp_path):
    result = invoke("verify", "--db", db)
    assert result.exit_code == 0 and ": ok, " in result.stdout
    copy = tmp_path / "tampered.db"
    with sqlite3.connect(db) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    with sqlite3.connect(copy) as conn:
        conn.execute("DROP TRIGGER events_no_update")
        conn.execute("UPDATE events SET ts = ts + 1 WHERE seq = 321")
    result = invoke("verify", "--db", copy)
    assert result.exit_code == 1
    assert "corrupted at seq 321" in result.stderr


def test_stats_counts_per_type(db):
    result = invoke("stats", "--db", db, "--json")
    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    by_type = {row["type"]: row for row in rows}
    assert by_type["OrderSubmitted"]["count"] == 1_000
    assert by_type["OrderSubmitted"]["first_time"] == 0
    assert by_type["OrderSubmitted"]["last_time"] == 199
    assert "OrderSubmitted" in invoke("stats", "--db", db).stdout


def test_events_filter_by_seq_type_and_correlation(db):
    lines = invoke("events", "--db", db, "--from-seq", 5, "--to-seq", 9).stdout.splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [5, 6, 7, 8, 9]
    fills = [json.loads(line) for line in
             invoke("events", "--db", db, "--type", "order_filled", "--limit", 3).stdout
             .splitlines()]
    assert len(fills) == 3 and {f["type"] for f in fills} == {"OrderFilled"}
    correlation = fills[0]["correlation_id"]
    chain = [json.loads(line) for line in
             invoke("events", "--db", db, "--correlation", correlation).stdout.splitlines()]
    assert chain[0]["event_id"] == correlation and fills[0] in chain
    causes = [json.loads(line) for line in
              invoke("events", "--db", db, "--chain", fills[0]["event_id"]).stdout.splitlines()]
    assert causes[0]["type"] == "OrderSubmitted" and causes[-1] == fills[0]


def test_export_then_import_reproduces_the_store(db, tmp_path):
    export = tmp_path / "events.jsonl"
    export.write_text(invoke("events", "--db", db).stdout)
    result = invoke("import", export, "--db", tmp_path / "copy.db")
    assert result.exit_code == 0, result.stderr
    assert invoke("verify", "--db", db).stdout.split(": ok")[1] == \
        invoke("verify", "--db", tmp_path / "copy.db").stdout.split(": ok")[1]


# Exit 1 for a user's mistake, 2 for a command line that is wrong, naming a file or store
# that is not there included (issues 7 and 10: one code each).
@pytest.mark.parametrize("args, message, code", [
    (("verify", "--db", "missing.db"), "no event store at missing.db", 2),
    (("events", "--type", "OrderWobbled"), "unknown event type 'OrderWobbled'", 2),
    (("sim", "--ticks", "-5", "--no-store"), "ticks must not be negative", 1),
    (("sim", "--config", "nowhere.toml", "--no-store"), "nowhere.toml does not exist", 2),
    (("sim", "--no-store", "--query", "p(x)"), "--query needs --engine", 2),
    (("import", "nothing.jsonl"), "no file nothing.jsonl", 2),
])
def test_user_mistakes_are_one_clear_message(args, message, code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke(*args)
    assert result.exit_code == code
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_sim_refuses_to_overwrite_a_store_unless_asked(db, tmp_path):
    path = tmp_path / "again.db"
    assert invoke("sim", "--ticks", 20, "--db", path, "-q").exit_code == 0
    refused = invoke("sim", "--ticks", 20, "--db", path, "-q")
    assert refused.exit_code == 1 and "--overwrite" in refused.stderr
    assert invoke("sim", "--ticks", 30, "--db", path, "-q", "--overwrite").exit_code == 0
    stats = [json.loads(line) for line in invoke("stats", "--db", path, "--json").stdout
             .splitlines()]
    assert next(s for s in stats if s["type"] == "OrderSubmitted")["count"] == 150


def test_sim_streams_into_an_engine_and_answers(tmp_path):
    result = invoke("sim", "--ticks", 150, "--seed", 2, "--no-store", "-q",
                    "--engine", RULES / "trading.dl", "--query", "wash_trade(c, b, s)",
                    "--query", "exposure(c, e)")
    assert result.exit_code == 0, result.stderr
    assert "streamed into" in result.stdout
    assert "wash_trade(c, b, s):" in result.stdout
    # exposure is money: integer cents in the engine, shown as dollars and cents
    assert re.search(r"│ client-\d +│ \d{1,3}(,\d{3})*\.\d\d", result.stdout), result.stdout


def test_a_rule_file_with_mistakes_is_reported_before_simulating(tmp_path):
    rules = tmp_path / "bad.dl"
    rules.write_text(".decl edge(x: number, y: nmber)\n")
    result = runner.invoke(app, ["sim", "--ticks", "5", "--db", str(tmp_path / "e.db"),
                                 "--engine", str(rules), "--quiet"])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{rules}:1:23: error[unknown-type]: unknown type 'nmber'")
    assert "did you mean 'number'?" in result.stderr
    assert "events in" not in result.stdout  # nothing was simulated
