"""`tempolog check`, `explain`, `why-not`, `diff` over a real SQLite store: exit codes, JSON,
JUnit XML whose counts are right, and errors without tracebacks."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from sim import load_config, open_store, simulate

ROOT = Path(__file__).parents[2]
PLANTED = ROOT / "tests" / "rules" / "planted.dl"
TRADING = ROOT / "rules" / "trading.dl"
runner = CliRunner()


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("store") / "events.db"
    with open_store(str(path), create=True) as store:
        store.append(simulate(load_config(ticks=150)))
    return str(path)


def tempolog(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_check_exit_codes(db, tmp_path):
    assert tempolog("check", ROOT / "rules", "--db", db).exit_code == 0
    assert tempolog("check", PLANTED, "--db", db).exit_code == 1
    assert tempolog("check", PLANTED, "--db", db, "--as-of", 10).exit_code == 0
    assert tempolog("check", tmp_path / "missing.dl", "--db", db).exit_code == 2
    assert tempolog("check", PLANTED, "--db", tmp_path / "missing.db").exit_code == 2
    assert tempolog("check", PLANTED, "--db", db, "--format", "xml").exit_code == 2
    bad = tmp_path / "bad.dl"
    bad.write_text(".never broken: order_submitted(o, _, _, _, q, _, _, _, _), q >.\n")
    result = tempolog("check", bad, "--db", db)
    assert result.exit_code == 1
    assert f"{bad}:1:" in result.stderr and "^" in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_check_shows_the_rules_warnings_and_still_runs(db, tmp_path):
    rules = tmp_path / "warned.dl"
    rules.write_text(f'.include "{ROOT / "rules" / "events.dl"}"\n'
                     ".never filled_unsubmitted: order_filled(o, _, _, _, _), "
                     "!order_submitted(o, c, _, _, _, _, _, _, _).\n")
    result = tempolog("check", rules, "--db", db)
    assert result.exit_code == 0  # a warning fails nothing: the invariant holds
    assert "warning[negation-only-variable]: " in result.stderr
    assert f"{rules}:2:" in result.stderr and "^" in result.stderr
    assert "filled_unsubmitted" in result.stdout


def test_check_resumes_from_an_engine_snapshot_of_its_rules(db, tmp_path):
    store = tmp_path / "snapshotted.db"
    store.write_bytes(Path(db).read_bytes())
    rules = [ROOT / "rules", PLANTED]
    cold = tempolog("check", *rules, "--db", store, "--format", "json")
    assert "resumed" not in cold.stderr
    taken = tempolog("snapshot", "--db", store, "--rules", rules[0], "--rules", PLANTED, "-q")
    assert taken.exit_code == 0, taken.output
    warm = tempolog("check", *rules, "--db", store, "--format", "json")
    assert warm.exit_code == cold.exit_code == 1
    assert "resumed from the engine snapshot at seq" in warm.stderr
    assert json.loads(warm.stdout) == json.loads(cold.stdout)
    forced = tempolog("check", *rules, "--db", store, "--format", "json", "--no-snapshot")
    assert "resumed" not in forced.stderr and forced.stdout == cold.stdout


def test_check_text_names_each_violation_with_first_time_and_proof(db):
    result = tempolog("check", PLANTED, "--db", db)
    assert "FAIL  no_wash_trades  (" in result.stdout and ", first at t=" in result.stdout
    assert "ok    non_positive_qty" in result.stdout
    assert "[seq " in result.stdout and ", event " in result.stdout
    assert result.stdout.rstrip().endswith("4 invariants checked now: 1 hold, 3 violated")


def test_check_json_to_a_file(db, tmp_path):
    out = tmp_path / "report.json"
    result = tempolog("check", PLANTED, "--db", db, "--format", "json", "--output", out)
    assert result.exit_code == 1 and result.stdout == ""
    report = json.loads(out.read_text())
    assert (report["invariants"], report["violated"]) == (4, 3)
    first = report["results"][0]
    event = first["proof"]["children"][0]["children"][0]
    assert event["kind"] == "event" and isinstance(event["seq"], int)
    assert isinstance(event["event_id"], str) and event["time"] <= first["first_time"]


def test_check_junit_parses_with_the_right_counts(db, tmp_path):
    out = tmp_path / "junit.xml"
    assert tempolog("check", PLANTED, "--db", db, "--format", "junit",
                    "--output", out).exit_code == 1
    root = ET.parse(out).getroot()
    suite = root.find("testsuite")
    cases = suite.findall("testcase")
    failed = [c for c in cases if c.find("failure") is not None]
    assert (suite.get("tests"), suite.get("failures")) == ("4", "3")
    assert (len(cases), len(failed)) == (4, 3)
    assert [c.get("name") for c in failed] == ["no_wash_trades", "big_trade", "big_position"]
    failure = failed[0].find("failure")
    assert re.match(r"\d+ violations, first at t=\d+$", failure.get("message"))
    assert "self_trade(" in failure.text and "[seq " in failure.text


def test_check_since_only_counts_later_answers(db):
    whole = json.loads(tempolog("check", PLANTED, "--db", db, "--format", "json").stdout)
    whole = whole["results"][0]["count"]
    report = json.loads(tempolog("check", PLANTED, "--db", db, "--since", 100,
                                 "--format", "json").stdout)
    wash = report["results"][0]
    assert report["since"] == 100 and wash["first_time"] > 100 and 0 < wash["count"] < whole


def test_explain_with_causation_chains(db):
    result = tempolog("explain", 'current_position("client-2", "AMZN", q, a, r)', "--db", db,
                      "--rules", TRADING, "--events")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("1 answer now\n\ncurrent_position(\"client-2\", \"AMZN\", ")
    assert "└─ position_" in result.stdout and "caused by TradeExecuted [seq " in result.stdout
    as_json = json.loads(tempolog("explain", 'current_position("client-2", "AMZN", q, a, r)',
                                  "--db", db, "--rules", TRADING, "--as-of", 100, "--depth", 1,
                                  "--format", "json").stdout)
    assert as_json["as_of"] == 100 and as_json["answers"] == 1
    kinds = {c["kind"] for c in as_json["proofs"][0]["children"]}
    assert "cut" in kinds and "aggregate" in kinds


def test_why_not_and_diff(db):
    result = tempolog("why-not", 'self_trade("T000002", _, _, _, _, _)', "--db", db,
                      "--rules", TRADING)
    assert result.exit_code == 0, result.output
    assert "does not hold now" in result.stdout and "nearest miss:" in result.stdout
    result = tempolog("diff", "pending_order(o, c, \"AAPL\", d, q, p)", "--from", 50,
                      "--to", 60, "--db", db, "--rules", TRADING)
    assert result.exit_code == 0, result.output
    assert " added, " in result.stdout.splitlines()[0]
    assert "\n+ " in result.stdout and "\n- " in result.stdout
    bad = tempolog("explain", "no_such(x)", "--db", db, "--rules", TRADING)
    assert bad.exit_code == 1 and "relation no_such is not defined" in bad.stderr


def test_the_installed_command_shows_no_traceback(db):
    command = [sys.executable, "-m", "api.cli.app", "why-not", "self_trade(1)", "--db", db,
               "--rules", str(TRADING)]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 1
    assert "error[" in result.stderr and "Traceback" not in result.stderr
