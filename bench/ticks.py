"""Benchmark: the trading rules re-evaluated after each tick, against a full evaluation.

    python -m bench.ticks                  # the default run (10,000 ticks, ~350k facts)
    python -m bench.ticks --ticks 2000     # a smaller one

The simulation's ticks are fed to one engine (rules/trading.dl) one tick at a time; after
each, every derived relation is brought up to date ('bu:ensure', what a query about now
runs first) and the CPU time inside Prolog and the wall time are recorded. Every `--every`
of the last `--last` ticks, a full evaluation from scratch is timed too, in the same
process between two ticks, so that the two figures share the machine's noise. The ratio
is the median per-tick re-evaluation over those ticks to the median full evaluation.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine import load_program  # noqa: E402
from engine.backends.swipl.backend import SwiplEngine  # noqa: E402
from sim.config import SimConfig  # noqa: E402
from sim.exchange.simulator import Simulation  # noqa: E402
from sim.facts import FactBatch, envelope_of  # noqa: E402

TRADING = Path(__file__).resolve().parents[1] / "rules" / "trading.dl"


def tick_batches(engine, ticks: int) -> list[dict[str, tuple[list[tuple], list[int]]]]:
    """Each tick's facts as the simulator's engine sink gives them (payloads and envelopes,
    with their seqs), by relation."""
    batch, seq, batches = FactBatch(engine), 1, []
    for _, events in Simulation(SimConfig(ticks=ticks)).ticks():
        for event in events:
            batch.add(event.type, event.payload, event.time, seq, envelope_of(event))
            seq += 1
        batches.append({relation: (rows, seqs) for relation, rows, seqs in batch.take()})
    return batches


def timed_ensure(engine: SwiplEngine, full: bool = False) -> tuple[float, float, bool]:
    """(CPU s inside Prolog, wall s, incremental?) of bringing every relation up to date."""
    state = f"'bu:{engine.module}'"
    if full:
        engine._prolog.request(f"tl_call_json(nb_setval({state}, full))")
    incremental = engine._prolog.request(f"tl_call_json(nb_current({state}, delta))")["ok"]
    started = time.perf_counter()
    cpu = engine._prolog.request(f"tl_timed({engine.module}:'bu:ensure')")["seconds"]
    return cpu, time.perf_counter() - started, incremental


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=10_000)
    parser.add_argument("--last", type=int, default=500, help="ticks compared with full")
    parser.add_argument("--every", type=int, default=25, help="full evaluation every N ticks")
    parser.add_argument("--full", action="store_true", help="now_incremental=False")
    args = parser.parse_args()
    program = load_program([TRADING])
    engine = SwiplEngine(program, now_incremental=not args.full)
    batches = tick_batches(engine, args.ticks)
    cpu_ticks, wall_ticks, assert_ticks, full_cpu, full_wall = [], [], [], [], []
    facts = in_full = 0
    try:
        for i, batch in enumerate(batches):
            if not batch:
                continue
            started = time.perf_counter()
            engine.assert_many(batch)
            assert_ticks.append(time.perf_counter() - started)
            facts += sum(len(rows) for rows, _ in batch.values())
            cpu, wall, incremental = timed_ensure(engine)
            in_full += not incremental
            cpu_ticks.append((i, cpu))
            wall_ticks.append(wall)
            if i >= args.ticks - args.last and i % args.every == 0:
                cpu, wall, _ = timed_ensure(engine, full=True)
                full_cpu.append(cpu)
                full_wall.append(wall)
    finally:
        engine.close()
    cpus = [c for _, c in cpu_ticks]
    last = [c for i, c in cpu_ticks if i >= args.ticks - args.last]
    ms = 1000
    print(f"# {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average "
          f"{os.getloadavg()[0]:.1f}; {args.ticks:,} ticks, {facts:,} facts, "
          f"{len(cpus):,} ticks with facts ({facts / len(cpus):.1f} a tick), "
          f"{in_full} evaluated in full")
    print("| figure | p50 | p99 | max |\n|---|---:|---:|---:|")
    for name, values in (("re-evaluation per tick, CPU ms in Prolog", cpus),
                         ("re-evaluation per tick, wall ms", wall_ticks),
                         ("assert of a tick's facts, wall ms", assert_ticks),
                         (f"re-evaluation, last {args.last} ticks, CPU ms", last),
                         (f"full evaluation, {len(full_cpu)} times in them, CPU ms", full_cpu),
                         ("full evaluation, wall ms", full_wall)):
        if values:
            print(f"| {name} | {percentile(values, 0.5) * ms:.2f} | "
                  f"{percentile(values, 0.99) * ms:.2f} | {max(values) * ms:.2f} |")
    if full_cpu and last:
        print(f"\nOne tick re-evaluated / full evaluation (medians, CPU, last {args.last} ticks): "
              f"{statistics.median(last) / statistics.median(full_cpu):.4f}")


if __name__ == "__main__":
    main()
