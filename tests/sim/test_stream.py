"""Events as facts, streamed or replayed, answer alike and agree with the simulator's state."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from engine import TempologError, engine_from_files, load_program, program_from_source
from sim.config import SimConfig
from sim.events.types import EVENT_TYPES
from sim.exchange.simulator import Simulation
from sim.facts import FactBatch, fact_of, replay
from sim.sinks import EngineSink, StoreSink
from sim.store import open_store

RULES = Path(__file__).resolve().parents[2] / "rules"
CONFIG = SimConfig(ticks=200, seed=3)
# Queries here run without a time limit: pyDatalog's pending_order takes seconds on a
# loaded machine, and these tests are about answers, not speed (bench/ measures that).
# The rule file holding the relations asked here, not the whole rule set: pyDatalog
# materialises every relation of its program for a query, the order book included.
ASKED = [RULES / "audit.dl"]
QUERIES = (
    "current_position(c, s, q, a, r)",
    "pending_order(o, c, s, d, q, p)",
    "wash_trade(c, b, s)",
    "order_done(o)",
)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One run into a store, and the simulation with its final state."""
    store = open_store(tmp_path_factory.mktemp("stream") / "events.db", create=True)
    sim = Simulation(CONFIG)
    sim.run([StoreSink(store)])
    yield sim, store
    store.close()


def test_a_fact_is_the_payload_in_declared_order_then_the_time():
    relation, row = fact_of("TradeExecuted", {
        "trade": "T1", "symbol": "AAPL", "buy_order": "O1", "sell_order": "O2",
        "buyer": "c1", "seller": "c2", "qty": 5, "price": 19_000, "aggressor": "buy"}, 42)
    assert relation == "trade_executed"
    assert row == ("T1", "AAPL", "O1", "O2", "c1", "c2", 5, 19_000, "buy", 42)


class _Recorder:
    """An engine stand-in that records what it is asked to assert."""

    def __init__(self, source: str):
        self.program = program_from_source(source)
        self.asserted: list[tuple[str, list, list]] = []

    def relations(self):
        return self.program.relations

    def assert_facts(self, relation, rows, *, seqs=None):
        self.asserted.append((relation, list(rows), list(seqs)))
        return len(rows)

    def assert_many(self, batch):
        return sum(self.assert_facts(relation, rows, seqs=seqs)
                   for relation, (rows, seqs) in batch.items())


def test_only_the_event_relations_a_program_declares_are_asserted():
    engine = _Recorder(".event price_updated(symbol: symbol, price: number, t: time)\n"
                       ".decl p(s: symbol)\np(s) :- price_updated(s, _, _).")
    batch = FactBatch(engine)
    batch.add("PriceUpdated", {"symbol": "AAPL", "price": 1}, 3, 7)
    batch.add("MarketOpened", {"day": 0}, 3, 8)
    batch.add("PriceUpdated", {"symbol": "MSFT", "price": 2}, 4, 9)
    assert batch.flush() == 2
    assert engine.asserted == [("price_updated", [("AAPL", 1, 3), ("MSFT", 2, 4)], [7, 9])]


def test_an_event_relation_declared_unlike_the_table_is_refused():
    engine = _Recorder(".event price_updated(symbol: symbol, t: time)\n"
                       ".decl p(s: symbol)\np(s) :- price_updated(s, _).")
    with pytest.raises(TempologError, match="price_updated.*include rules/events.dl"):
        FactBatch(engine)


@pytest.mark.parametrize("background", [False, True])
def test_the_streamed_and_the_replayed_engine_give_equal_answers(run, backend, background):
    sim, store = run
    with engine_from_files(ASKED, backend) as replayed:
        assert replay(store, replayed) == len(store)
        with engine_from_files(ASKED, backend) as streamed:
            again = Simulation(CONFIG)
            again.run([EngineSink(streamed, background=background)])
            for query in QUERIES:
                assert (streamed.query(query, timeout=None)
                        == replayed.query(query, timeout=None)), query
                assert (streamed.query(query, as_of=100, timeout=None)
                        == replayed.query(query, as_of=100, timeout=None))
            assert streamed.query(QUERIES[0]).rows  # not vacuous


def test_trading_rules_agree_with_the_simulators_own_state(run, backend):
    sim, store = run
    with engine_from_files(ASKED, backend) as engine:
        replay(store, engine)
        positions = {(c, s): (p.qty, p.realized) for (c, s), p in sim.positions.positions.items()
                     if p.qty}
        assert {(c, s): (q, r) for c, s, q, _, r in
                engine.query("current_position(c, s, q, a, r)", timeout=None).rows} == positions
        resting = {o.id: (o.client, o.symbol, o.side, o.qty, o.price)
                   for orders in sim.matching.working.values() for o in orders.values()}
        assert {row[0]: row[1:] for row in
                engine.query("pending_order(o, c, s, d, q, p)", timeout=None).rows} == resting
        self_trades = {(e.payload["buyer"], e.payload["buy_order"], e.payload["sell_order"])
                       for e in store.read(types=["TradeExecuted"])
                       if e.payload["buyer"] == e.payload["seller"]}
        washes = set(engine.query("wash_trade(c, b, s)", timeout=None).rows)
        assert washes and washes <= self_trades  # tests/rules checks the 10-tick window


def test_replay_up_to_a_time_equals_asking_as_of_that_time(run, backend):
    _, store = run
    with engine_from_files(ASKED, backend) as full, \
            engine_from_files(ASKED, backend) as early:
        replay(store, full)
        replay(store, early, to_time=120)
        for query in QUERIES:
            assert (full.query(query, as_of=120, timeout=None)
                    == early.query(query, timeout=None)), query


def test_every_event_type_has_a_relation_in_trading_rules():
    program = load_program([RULES / "trading.dl"])
    for event_type in EVENT_TYPES.values():
        relation = program.relations[event_type.relation]
        assert relation.is_event and relation.arity == len(event_type.fields) + 1


def test_a_failed_assertion_in_the_feeder_is_raised_in_the_simulating_thread():
    class Failing(_Recorder):
        def assert_facts(self, relation, rows, *, seqs=None):
            raise TempologError("the engine is closed", code="closed")

    engine = Failing(".event market_opened(day: number, t: time)")
    sink = EngineSink(engine, background=True)
    sink.on_tick(0, Simulation(SimConfig(ticks=1)).step())
    with pytest.raises(TempologError, match="the engine is closed"):
        sink.close()



def test_ticks_queued_behind_a_busy_engine_go_in_together_in_order():
    class Slow(_Recorder):
        calls = 0

        def assert_many(self, batch):
            if not self.calls:
                started.set()
                go.wait(timeout=10)  # busy with the first tick while the others queue
            self.calls += 1
            return super().assert_many(batch)

    started, go = threading.Event(), threading.Event()
    source = (".event price_updated(symbol: symbol, price: number, t: time)\n"
              ".event market_opened(day: number, t: time)")
    engine, alone = Slow(source), _Recorder(source)
    ticks = list(Simulation(SimConfig(ticks=30, seed=3)).ticks())
    sink = EngineSink(engine, background=True)
    sink.on_tick(*ticks[0])
    started.wait(timeout=10)
    for tick, events in ticks[1:]:
        sink.on_tick(tick, events)
    go.set()
    sink.close()
    one_by_one = EngineSink(alone)
    for tick, events in ticks:
        one_by_one.on_tick(tick, events)
    one_by_one.close()
    assert engine.calls == 2  # the first tick, then the 29 that queued behind it
    assert sink.facts == one_by_one.facts > 0

    def facts(recorder):
        return {relation: [(row, seq) for r, rows, seqs in recorder.asserted if r == relation
                           for row, seq in zip(rows, seqs)]
                for relation in ("price_updated", "market_opened")}

    assert facts(engine) == facts(alone)  # the same facts, each relation's in seq order


def test_every_event_has_its_envelope_fact_in_streamed_and_replayed_engines(run, backend):
    _, store = run
    expected = {(e.seq, e.event_id, e.type, e.stream_id, e.version, e.time,
                 e.causation_id or "", e.correlation_id) for e in store.read()}
    query = "event(s, i, ty, st, v, t, c, r)"
    with engine_from_files([RULES / "events.dl"], backend) as replayed, \
            engine_from_files([RULES / "events.dl"], backend) as streamed:
        replay(store, replayed)
        Simulation(CONFIG).run([EngineSink(streamed)])
        for engine in (replayed, streamed):
            rows = engine.query(query, timeout=None).rows
            assert set(rows) == expected and len(rows) == len(store)
            early = engine.query(query, as_of=120, timeout=None).rows
            assert set(early) == {row for row in expected if row[5] <= 120}
