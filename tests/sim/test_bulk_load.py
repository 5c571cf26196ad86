"""Facts loaded in one bulk call, streamed one event at a time, or given out of order and
twice, leave SWI-Prolog engines of the shipped rules with the same answers, now and as of
past times."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from engine import load_program
from engine.backends.swipl.backend import SwiplEngine
from sim.config import SimConfig
from sim.exchange.simulator import Simulation
from sim.facts import FactBatch, envelope_of, replay
from sim.sinks import StoreSink
from sim.store import open_store

RULES = Path(__file__).resolve().parents[2] / "rules" / "trading.dl"
CONFIG = SimConfig(ticks=60, seed=11)
AS_OF = (None, 15, 40)  # now, and two past times


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    store = open_store(tmp_path_factory.mktemp("bulk") / "events.db", create=True)
    Simulation(CONFIG).run([StoreSink(store)])
    yield store
    store.close()


@pytest.fixture(scope="module")
def program():
    return load_program([RULES])


def answers(engine, program) -> dict:
    """Every derived relation's rows, now and as of each past time."""
    found = {}
    for name in sorted(program.derived_relations):
        columns = ", ".join(f"v{i}" for i in range(program.relations[name].arity))
        for as_of in AS_OF:
            found[name, as_of] = engine.query(f"{name}({columns})", as_of=as_of,
                                              timeout=None).rows
    return found


def facts_of(store, engine) -> list[tuple[str, tuple, int]]:
    """(relation, row, seq) of every stored event's facts, in seq order."""
    batch = FactBatch(engine)
    for event in store.read():
        batch.add(event.type, event.payload, event.time, event.seq, envelope_of(event))
    return [(relation, row, seq) for relation, rows, seqs in batch.take()
            for row, seq in zip(rows, seqs)]


def test_bulk_streamed_and_shuffled_loads_give_the_same_answers(store, program):
    with SwiplEngine(program) as bulk, SwiplEngine(program) as streamed, \
            SwiplEngine(program) as shuffled:
        replay(store, bulk, batch_size=10**9)  # one call: every relation's rows at once
        facts = facts_of(store, bulk)
        new = 0
        batch = FactBatch(streamed)
        for event in store.read():  # as `tempolog sim --engine` streams: event by event
            batch.add(event.type, event.payload, event.time, event.seq, envelope_of(event))
            new += batch.flush()
        assert new == len(facts)
        # Out of time order, each fact twice, in calls of a few relations: most facts are
        # no later than some stored one, so they are looked up; none is counted twice.
        given = facts + facts
        random.Random(5).shuffle(given)
        new = 0
        for start in range(0, len(given), 97):
            chunk: dict[str, tuple[list, list]] = {}
            for relation, row, seq in given[start:start + 97]:
                rows, seqs = chunk.setdefault(relation, ([], []))
                rows.append(row)
                seqs.append(seq)
            new += shuffled.assert_many(chunk)
        assert new == len(facts)
        expected = answers(bulk, program)
        assert sum(bool(rows) for rows in expected.values()) > len(expected) // 3  # not vacuous
        assert answers(streamed, program) == expected
        assert answers(shuffled, program) == expected


def test_a_repeated_fact_is_new_once_and_keeps_its_first_seq(program):
    with SwiplEngine(program) as engine:
        row = ("O1", "c1", "AAPL", "buy", 10, 15000, "gtc", 0, 5)
        later = ("O2", "c1", "AAPL", "buy", 10, 15000, "gtc", 0, 9)
        relation = "order_submitted"
        assert engine.assert_facts(relation, [row, later, row], seqs=[3, 4, 7]) == 2
        assert engine.assert_facts(relation, [row], seqs=[8]) == 0  # earlier than the latest
        assert engine.assert_facts(relation, [later], seqs=[9]) == 0  # as late as it
        assert engine.event_seqs(relation, [row, later]) == {row: 3, later: 4}
