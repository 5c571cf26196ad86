"""Every relation of rules/ agrees with an independent reading of the event store (SQL and
plain Python in tests/rules/store_oracle.py), for two seeds, now and as of earlier times."""

from __future__ import annotations

import dataclasses
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from store_oracle import INVARIANTS, RELATIONS, Oracle, read_events

from engine import engine_from_files
from engine.backends.factory import BACKENDS, backend_class
from engine.lang import ast, pretty
from engine.lang.parser import parse
from sim.config import DEFAULT_CLIENTS, SimConfig
from sim.exchange.simulator import Simulation
from sim.facts import replay
from sim.sinks import StoreSink
from sim.store import open_store

RULES = Path(__file__).resolve().parents[2] / "rules"
# Short days, so that a short run has several sessions, closes and settlements; client-1's
# tight velocity limit and client-4's small daily loss limit (read by the rules from the
# AccountOpened events) make every risk relation find something.
CLIENTS = tuple(
    dataclasses.replace(c, velocity_limit=60) if c.id == "client-1" else
    dataclasses.replace(c, loss_limit=10_000) if c.id == "client-4" else c
    for c in DEFAULT_CLIENTS)
CONFIG = {"day_ticks": 200, "session_ticks": 190, "settlement_ticks": 100, "clients": CLIENTS}
# pyDatalog is some 50x slower than SWI-Prolog: it answers a much shorter run, at fewer times.
TICKS = {"swipl": 600, "pydatalog": 40}
AS_OF = {"swipl": (None, 0.3, 0.75), "pydatalog": (None, 0.5)}  # now, and fractions of the run
# What a 40-tick run has not seen yet.
RARE = {"excessive_mods", "loss_breach", "velocity_breach", "first_breach"}


@pytest.fixture(scope="module", params=[(b, s) for b in BACKENDS for s in (1, 2)],
                ids=lambda p: f"{p[0]}-seed{p[1]}")
def answers(request, tmp_path_factory):
    """The store of one run, and an engine that has replayed it."""
    backend, seed = request.param
    backend_class(backend)  # both backends are requirements: a missing one fails here
    ticks = TICKS[backend]
    path = tmp_path_factory.mktemp("rules") / "events.db"
    with open_store(path, create=True) as store:
        Simulation(SimConfig(seed=seed, ticks=ticks, **CONFIG)).run([StoreSink(store)])
        with engine_from_files([RULES / "trading.dl"], backend) as engine:
            replay(store, engine)
            # the oracle reads the SQLite file with its own connection and plain SQL
            with closing(sqlite3.connect(path)) as conn:
                yield conn, engine, ticks, backend


def _rows(engine, relation: str, as_of: int | None) -> set[tuple]:
    arity = engine.relations()[relation].arity
    query = f"{relation}({', '.join(f'c{i}' for i in range(arity))})"
    return set(engine.query(query, as_of=as_of, timeout=None).rows)


def _times(backend: str, ticks: int) -> list[int | None]:
    return [None if f is None else int(ticks * f) for f in AS_OF[backend]]


def test_every_relation_agrees_with_the_store(answers):
    conn, engine, ticks, backend = answers
    for time in _times(backend, ticks):
        oracle = Oracle(read_events(conn, time))
        for relation in RELATIONS:
            expected = getattr(oracle, relation)()
            assert _rows(engine, relation, time) == expected, f"{relation} as of {time}"


def test_every_relation_has_answers_at_one_of_the_times(answers):
    """Not vacuous: the comparisons above meet answers for every relation."""
    conn, _, ticks, backend = answers
    empty = set(RELATIONS)
    for time in _times(backend, ticks):
        oracle = Oracle(read_events(conn, time))
        empty -= {relation for relation in RELATIONS if getattr(oracle, relation)()}
    assert empty <= (RARE if ticks < TICKS["swipl"] else set())


def test_the_four_invariants_hold(answers):
    conn, engine, ticks, backend = answers
    for time in _times(backend, ticks):
        oracle = Oracle(read_events(conn, time))
        for invariant in INVARIANTS:
            assert getattr(oracle, invariant)() == set(), invariant
        for invariant in engine_invariants():
            query = pretty.body(invariant.body)
            assert engine.query(query, as_of=time, timeout=None).rows == (), invariant.name


def engine_invariants() -> list[ast.Invariant]:
    path = RULES / "invariants.dl"
    return parse(path.read_text(), str(path)).of_type(ast.Invariant)
