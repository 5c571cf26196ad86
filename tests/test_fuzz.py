"""Bounded fuzzing (a few seconds): mutated rule files, queries, events and simulator
settings get a TempologError or an answer, never another exception; every diagnostic
about a text is positioned. bench/fuzz.py runs the same strategies for longer."""

from __future__ import annotations

import os

import pytest
from fuzz_strategies import events, queries, rule_files, settings
from hypothesis import HealthCheck, given
from hypothesis import settings as run

from engine import DiagnosticError, Program, TempologError, program_from_source
from engine.backends.factory import backend_class
from sim.config import SimConfig, SimConfigError
from sim.exchange.simulator import simulate
from sim.store import open_store

LONG = os.environ.get("TEMPOLOG_FUZZ") == "long"  # bench/fuzz.py: docs/reliability.md's run


def budget(short: int, long: int):
    """`short` fixed examples in the suite; `long` random ones, each within 10 s, in bench."""
    return run(max_examples=long if LONG else short, deadline=10_000 if LONG else None,
               derandomize=not LONG, database=None,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                      HealthCheck.large_base_example, HealthCheck.data_too_large])

FILE_LEVEL = {"file-not-found", "file-too-large"}  # about a file as a whole, not a position
QUERIED = program_from_source('.decl p(x: number, s: symbol)\n.decl q(n: number)\n'
                              'p(1, "a"). p(2, "b"). q(n) :- p(n, _).\n')


def check_diagnostics(error: DiagnosticError) -> None:
    for diagnostic in error.diagnostics:
        assert diagnostic.line > 0 or diagnostic.code in FILE_LEVEL, diagnostic


@budget(60, 10_000)
@given(text=rule_files())
def test_a_mutated_rule_file_loads_or_gets_positioned_diagnostics(tmp_path, text):
    try:
        assert isinstance(program_from_source(text, str(tmp_path / "fuzz.dl")), Program)
    except DiagnosticError as error:
        check_diagnostics(error)


@pytest.fixture(scope="module", params=["swipl", "pydatalog"])
def queried(request):
    engine = backend_class(request.param)(QUERIED)
    yield engine
    engine.close()


@budget(60, 10_000)
@given(text=queries())
def test_a_mutated_query_is_answered_or_rejected_with_a_tempolog_error(queried, text):
    try:
        queried.query(text, timeout=5)
    except DiagnosticError as error:
        check_diagnostics(error)
    except TempologError:
        pass


@pytest.fixture(scope="module")
def store():
    with open_store("sqlite::memory:", create=True) as opened:
        yield opened


@budget(60, 2_000)
@given(event=events())
def test_a_mutated_event_is_stored_or_rejected_whole(store, event):
    before = store.head()
    try:
        store.append([event])
    except TempologError:
        assert store.head() == before
    assert store.verify().ok


@budget(60, 200)
@given(chosen=settings())
def test_mutated_settings_are_refused_up_front_or_simulate_to_the_end(chosen):
    try:
        config = SimConfig(**chosen)
    except SimConfigError:
        return
    except TypeError as error:  # an unknown keyword: load_config turns it into SimConfigError
        assert "unexpected keyword" in str(error)
        return
    if config.ticks * config.orders_per_tick <= 100:
        simulate(config)
