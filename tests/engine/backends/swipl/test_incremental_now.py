"""Incremental evaluation of "now" gives the answers of evaluation from scratch, tick by tick."""

from __future__ import annotations

from pathlib import Path

from engine.analysis import load_program
from engine.backends.swipl.backend import SwiplEngine
from sim.config import SimConfig
from sim.exchange.simulator import Simulation
from sim.facts import FactBatch, envelope_of

TRADING = Path(__file__).resolve().parents[4] / "rules" / "trading.dl"


def _everything(engine: SwiplEngine) -> dict[str, tuple]:
    program = engine.program
    return {name: engine.query(f"{name}({', '.join(f'c{i}' for i in range(rel.arity))})",
                               timeout=None).rows
            for name, rel in program.relations.items() if not rel.is_event}


def tick_facts(engine, ticks: int):
    """Each tick's facts as the simulator's engine sink gives them: payloads and envelopes,
    with their seqs."""
    batch, seq = FactBatch(engine), 1
    for _, events in Simulation(SimConfig(ticks=ticks)).ticks():
        for event in events:
            batch.add(event.type, event.payload, event.time, seq, envelope_of(event))
            seq += 1
        yield {relation: (rows, seqs) for relation, rows, seqs in batch.take()}


def test_every_tick_incremental_equals_full_re_evaluation():
    program = load_program([TRADING])
    incremental = SwiplEngine(program)
    full = SwiplEngine(program, now_incremental=False)
    steps = incremental_steps = 0
    try:
        for batch in tick_facts(incremental, 80):
            if not batch:
                continue
            for engine in (incremental, full):
                engine.assert_many(batch)
            state = f"tl_call_json(nb_current('bu:{incremental.module}', delta))"
            incremental_steps += incremental._prolog.request(state)["ok"]
            assert _everything(incremental) == _everything(full), f"after step {steps}"
            steps += 1
        answers = _everything(incremental)
        assert steps > 40 and answers["pending_order"] and answers["current_position"]
        assert answers["order_book"] and answers["order_state"]
        assert incremental_steps == steps - 1  # after the first, none evaluated in full
    finally:
        incremental.close()
        full.close()
