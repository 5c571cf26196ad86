"""The store commands against a real PostgreSQL server: sim, verify, events, copy, TEMPOLOG_DB."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pg_server import empty_schema
from typer.testing import CliRunner

from api.cli import app
from sim.store import open_store

runner = CliRunner()


def invoke(*args, env=None):
    return runner.invoke(app, [str(a) for a in args], env=env)


@pytest.fixture(scope="module")
def simulated(postgres_server) -> Iterator[str]:
    """A store simulated once for the module's tests that only read it."""
    for url in empty_schema(postgres_server):
        result = invoke("sim", "--ticks", 60, "--seed", 5, "--db", url, "--quiet")
        assert result.exit_code == 0, result.stderr
        yield url


@pytest.fixture
def simulated_here(postgres_url) -> str:
    """A store simulated for one test, which may change it."""
    result = invoke("sim", "--ticks", 60, "--seed", 5, "--db", postgres_url, "--quiet")
    assert result.exit_code == 0, result.stderr
    return postgres_url


def test_sim_then_verify_and_events_on_postgresql(simulated, tmp_path):
    result = invoke("verify", "--db", simulated)
    assert result.exit_code == 0 and ": ok, " in result.stdout
    on_server = invoke("events", "--db", simulated, "--type", "OrderSubmitted")
    lite = tmp_path / "events.db"
    assert invoke("sim", "--ticks", 60, "--seed", 5, "--db", lite, "--quiet").exit_code == 0
    in_file = invoke("events", "--db", lite, "--type", "OrderSubmitted")
    assert on_server.stdout == in_file.stdout and on_server.stdout.count("\n") == 300


def test_the_store_can_come_from_tempolog_db(simulated):
    result = invoke("verify", env={"TEMPOLOG_DB": simulated})
    assert result.exit_code == 0 and ": ok, " in result.stdout


def test_sim_overwrites_a_postgresql_store_only_when_asked(simulated_here):
    again = invoke("sim", "--ticks", 10, "--db", simulated_here, "--quiet")
    assert again.exit_code == 1 and "--overwrite" in again.stderr
    replaced = invoke("sim", "--ticks", 10, "--db", simulated_here, "--quiet", "--overwrite")
    assert replaced.exit_code == 0, replaced.stderr
    with open_store(simulated_here) as store:
        assert store.verify().ok and max(e.time for e in store.read()) == 9


def test_copy_from_sqlite_to_postgresql_and_back_keeps_the_chain(tmp_path, postgres_url):
    original, back = tmp_path / "original.db", tmp_path / "back.db"
    assert invoke("sim", "--ticks", 80, "--seed", 2, "--db", original, "--quiet").exit_code == 0
    there = invoke("copy", "--from", original, "--to", postgres_url)
    assert there.exit_code == 0, there.stderr
    assert "the chain verifies on both" in there.stdout
    home = invoke("copy", "--from", postgres_url, "--to", back)
    assert home.exit_code == 0, home.stderr
    with open_store(original) as one, open_store(postgres_url) as two, open_store(back) as three:
        assert one.head() == two.head() == three.head()
        assert list(one.read()) == list(two.read()) == list(three.read())
    refused = invoke("copy", "--from", original, "--to", postgres_url)
    assert refused.exit_code == 1 and "already holds" in refused.stderr


def test_an_unreachable_server_is_one_clear_message():
    result = invoke("verify", "--db", "postgresql://tempolog:secret@127.0.0.1:9/none")
    assert result.exit_code == 1
    assert "cannot reach the event store at postgresql://tempolog@127.0.0.1:9/none" in (
        result.stderr)
    assert "secret" not in result.stderr and "Traceback" not in result.stderr


def test_messages_do_not_show_a_password_given_in_the_url(simulated):
    with_password = simulated.replace("postgresql://postgres@", "postgresql://postgres:hush@")
    result = invoke("verify", "--db", with_password)  # the test server trusts 127.0.0.1
    assert result.exit_code == 0 and "postgresql://postgres:***@" in result.stdout
    assert "hush" not in result.stdout
