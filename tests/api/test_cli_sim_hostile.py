"""`tempolog sim` validates its whole configuration before it writes anything, and
`--overwrite` replaces only an event store (issue 14)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from api.cli import app
from sim.config import MAX_ID, SimConfigError, load_config

runner = CliRunner()
CLIENT = '[[clients]]\nid = "{id}"\nbalance = "1000"\nrisk_limit = "100"\nvelocity_limit = 10\n'


@pytest.mark.parametrize("toml, message", [
    ("ticks = 1.5", "ticks must be an integer, not 1.5"),
    ("seed = true", "seed must be an integer, not True"),
    ('ticks = "abc"', "ticks must be an integer, not 'abc'"),
    ("orders_per_tick = []", "orders_per_tick must be an integer"),
    ('epoch = "1960-01-01T00:00:00Z"', "must not be before 1970"),
    ('[symbols]\n"" = "1.00"', "symbol '' must be 1 to"),
    (f'[symbols]\n{"A" * 300} = "1.00"', f"must be 1 to {MAX_ID} printable"),
    ('[symbols]\nA = "92233720368547758.08"', "the price of A must be positive and at most"),
    (CLIENT.format(id=""), "client id '' must be 1 to"),
    (CLIENT.format(id="a") + "weight = 0\n", "at least one client needs a positive weight"),
    (CLIENT.format(id="a") + 'weight = "x"\n', "a: weight must be an integer"),
])
def test_a_bad_setting_is_a_config_error_and_no_store_is_made(tmp_path, toml, message):
    config = tmp_path / "sim.toml"
    config.write_text(toml + "\n")
    with pytest.raises(SimConfigError, match=message.replace("(", r"\(")):
        load_config(config)
    db = tmp_path / "events.db"
    result = runner.invoke(app, ["sim", "--config", str(config), "--db", str(db), "-q"])
    assert result.exit_code == 1 and "error[sim-config]" in result.stderr
    assert "Traceback" not in result.output and not db.exists()


def test_zero_ticks_says_where_its_store_is(tmp_path):
    db = tmp_path / "zero.db"
    result = runner.invoke(app, ["sim", "--ticks", "0", "--db", str(db), "-q"])
    assert result.exit_code == 0, result.stderr
    unwrapped = "".join(result.stdout.split())  # rich wraps long lines
    assert f"into{db}" in unwrapped and "withoutastore" not in unwrapped


def test_overwrite_never_replaces_a_file_that_is_not_an_event_store(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    result = runner.invoke(app, ["sim", "--ticks", "5", "--db", str(notes), "--overwrite",
                                 "-q"])
    assert result.exit_code == 1 and "is not an event store" in result.stderr
    assert notes.read_text() == "my notes\n"
