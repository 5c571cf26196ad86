"""`tempolog query`: one query over a store, as a table, JSON or CSV, and its exit codes."""

from __future__ import annotations

import csv
import io
import json

from service_fixtures import TRADING
from typer.testing import CliRunner

from api.cli import app
from api.query import money_text

runner = CliRunner()
POSITIONS = "current_position(c, s, q, a, r), q > 0"


def query(db, text: str, *options: str):
    return runner.invoke(app, ["query", text, "--db", str(db), "--rules", str(TRADING),
                               *options])


def test_json_has_every_answer_with_money_as_integer_cents(small_store):
    result = query(small_store, POSITIONS, "--format", "json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["columns"] == ["c", "s", "q", "a", "r"]
    assert answer["money_columns"] == ["a", "r"]
    assert answer["count"] == len(answer["rows"]) > 0
    assert all(type(v) is int for row in answer["rows"] for v in row[2:])
    assert all(row[2] > 0 for row in answer["rows"])


def test_table_and_csv_show_money_as_dollars(small_store):
    answer = json.loads(query(small_store, POSITIONS, "--format", "json").stdout)
    client, symbol, qty, avg_cents, _ = answer["rows"][0]
    dollars = f"{avg_cents // 100}.{avg_cents % 100:02d}"
    table = query(small_store, POSITIONS)
    assert table.exit_code == 0
    assert "a ($)" in table.stdout and dollars in table.stdout
    assert f"{len(answer['rows'])} rows in" in table.stdout
    rows = list(csv.reader(io.StringIO(query(small_store, POSITIONS, "--format", "csv").stdout)))
    assert rows[0] == answer["columns"] and rows[1][:4] == [client, symbol, str(qty), dollars]
    assert len(rows) == len(answer["rows"]) + 1


def test_as_of_and_limit(small_store):
    text = 'price_updated("AAPL", p, t)'
    every = json.loads(query(small_store, text, "--format", "json").stdout)["rows"]
    early = json.loads(query(small_store, text, "--format", "json", "--as-of", "40").stdout)
    assert early["rows"] == [row for row in every if row[1] <= 40] and early["as_of"] == 40
    two = json.loads(query(small_store, text, "--format", "json", "--limit", "2").stdout)
    assert two["rows"] == every[:2]


def test_a_bad_query_exits_1_with_its_position_and_a_caret(small_store):
    result = query(small_store, "current_position(c, s, q, a, r), q > zz")
    assert result.exit_code == 1
    assert "<query>:1:38: error[unsafe-variable]" in result.stderr
    assert result.stderr.splitlines()[2].index("^") == len("1 | ") + 37
    assert "Traceback" not in result.output


def test_a_missing_store_or_a_bad_option_exits_2(tmp_path, small_store):
    missing = query(tmp_path / "none.db", POSITIONS)
    assert missing.exit_code == 2 and "no event store" in missing.stderr
    usage = query(small_store, POSITIONS, "--format", "yaml")
    assert usage.exit_code == 2


def test_money_is_shown_with_thousands_separators_by_the_one_formatter():
    assert [money_text(c) for c in (12_345_678, -5, 0, -123_456)] == [
        "123,456.78", "-0.05", "0.00", "-1,234.56"]


def test_a_column_declared_money_is_money_whatever_its_name(small_store):
    # exposure(client, total: money): `total` is no event field's name
    answer = json.loads(query(small_store, "exposure(c, e)", "--format", "json").stdout)
    assert answer["money_columns"] == ["e"] and answer["rows"]
    client, cents = answer["rows"][0]
    table = query(small_store, "exposure(c, e)")
    assert "e ($)" in table.stdout and money_text(cents) in table.stdout
