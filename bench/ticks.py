"""Benchmark: the trading rules re-evaluated after each tick, against a full evaluation.

    python -m bench.ticks                  # the default run (10,000 ticks, ~350k facts)
    python -m bench.ticks --ticks 2000     # a smaller one
    python -m bench.ticks --components     # each component's step timed, every tick

The simulation's ticks are fed to one engine (rules/trading.dl) one tick at a time; after
each, every derived relation is brought up to date ('bu:ensure', what a query about now
runs first) and the CPU time inside Prolog and the wall time are recorded. Every `--every`
of the last `--last` ticks, a full evaluation from scratch is timed too, in the same
process between two ticks, so that the two figures share the machine's noise. The ratio
is the median per-tick re-evaluation over those ticks to the median full evaluation.
`--compare` feeds the same ticks, in turn, to an engine without kept counts, kept sums and
means (kept.py), twin cancellation (materialised.py), turned assignments
(keyed.delta_first), joins' lost step (increment.py), ranges read value by value
(ranges.py), tests read once (clause.py) and a step's delta planned as a tick's facts
(planner.py), or only those named (`--compare ranges`), so that before and after share the
machine's noise. Before each tick is timed the engine plans again when a relation has grown
2x, as a query about now does.
`--components` runs each incremental tick component by component ('bu:inc:<k>', each timed)
and reports which relations make the slowest ticks.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine import load_program  # noqa: E402
from engine.analysis import planner  # noqa: E402
from engine.backends.swipl import bottomup, clause, increment, kept, ranges  # noqa: E402
from engine.backends.swipl.backend import SwiplEngine  # noqa: E402
from engine.backends.swipl.bottomup import DONE, REDONE  # noqa: E402
from engine.backends.swipl.prolog_text import predicate  # noqa: E402
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


def timed_components(engine: SwiplEngine) -> tuple[float, float, bool, dict[int, float]]:
    """As timed_ensure, but an incremental step is run component by component ('bu:incr'
    unrolled, the same goals in the same order), each one's CPU time kept by k."""
    state, module = f"'bu:{engine.module}'", engine.module
    incremental = engine._prolog.request(
        f"tl_call_json(({module}:'bu:small', nb_current({state}, delta)))")["ok"]
    if not incremental:
        return (*timed_ensure(engine), {})
    started = time.perf_counter()
    cpu = engine._prolog.request(
        f"tl_timed(( nb_setval({state}, full), {module}:'bu:drop_helpers', "
        f"retractall({module}:{REDONE}(_)) ))")["seconds"]
    steps = {}
    for k in sorted(engine.plan.below):
        steps[k] = engine._prolog.request(
            f"tl_timed(( {module}:{DONE}({k}) -> {module}:{predicate('bu:inc', str(k))} "
            f"; true ))")["seconds"]
    cpu += engine._prolog.request(
        f"tl_timed(( {module}:'bu:clear', nb_setval({state}, clean) ))")["seconds"]
    return cpu + sum(steps.values()), time.perf_counter() - started, True, steps


def component_report(engine: SwiplEngine, steps: list[tuple[float, dict[int, float]]]) -> None:
    """Per component: p50, p99 and max ms a tick, and its share of the slowest 1% of ticks."""
    names: dict[int, list[str]] = {}
    for name, k in engine.plan.component_of.items():
        names.setdefault(k, []).append(name)
    worst = sorted(steps, key=lambda s: s[0])[-max(1, len(steps) // 100):]
    in_worst = sum(total for total, _ in worst)
    rows = []
    for k in sorted(engine.plan.below):
        values = [by_k.get(k, 0.0) for _, by_k in steps]
        share = sum(by_k.get(k, 0.0) for _, by_k in worst) / in_worst if in_worst else 0
        rows.append((percentile(values, 0.99), k, values, share))
    print(f"\n{len(steps):,} incremental ticks timed by component; the slowest 1% "
          f"({len(worst)} ticks) took {in_worst / len(worst) * 1000:.2f} ms on average")
    print("| component | p50 ms | p99 ms | max ms | share of the slowest 1% |\n"
          "|---|---:|---:|---:|---:|")
    for p99, k, values, share in sorted(rows, reverse=True)[:12]:
        print(f"| {k}: {', '.join(sorted(names[k]))} | {percentile(values, 0.5) * 1000:.2f} | "
              f"{p99 * 1000:.2f} | {max(values) * 1000:.2f} | {share:.0%} |")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@dataclass
class Run:
    """One engine fed the ticks, and what was timed of it."""

    name: str
    engine: SwiplEngine
    cpu_ticks: list[tuple[int, float]] = field(default_factory=list)
    wall_ticks: list[float] = field(default_factory=list)
    assert_ticks: list[float] = field(default_factory=list)
    full_cpu: list[float] = field(default_factory=list)
    full_wall: list[float] = field(default_factory=list)
    steps: list[tuple[float, dict[int, float]]] = field(default_factory=list)
    plan_walls: list[float] = field(default_factory=list)
    in_full: int = 0

    def tick(self, i: int, batch, args) -> None:
        started = time.perf_counter()
        self.engine.assert_many(batch)
        self.assert_ticks.append(time.perf_counter() - started)
        # What a query about now does first: plan again from statistics when a relation
        # has grown 2x (timed apart: a few dozen times in a run, not per tick).
        started, plan = time.perf_counter(), self.engine.plan
        self.engine._plan_if_grown()
        if self.engine.plan is not plan:
            self.plan_walls.append(time.perf_counter() - started)
        if args.components:
            cpu, wall, incremental, by_k = timed_components(self.engine)
            if by_k:
                self.steps.append((cpu, by_k))
        else:
            cpu, wall, incremental = timed_ensure(self.engine)
        self.in_full += not incremental
        self.cpu_ticks.append((i, cpu))
        self.wall_ticks.append(wall)
        if i >= args.ticks - args.last and i % args.every == 0:
            cpu, wall, _ = timed_ensure(self.engine, full=True)
            self.full_cpu.append(cpu)
            self.full_wall.append(wall)

    def figures(self, last_ticks: int) -> list[tuple[str, list[float]]]:
        last = [c for i, c in self.cpu_ticks if i >= last_ticks]
        return [("re-evaluation per tick, CPU ms in Prolog", [c for _, c in self.cpu_ticks]),
                ("re-evaluation per tick, wall ms", self.wall_ticks),
                ("assert of a tick's facts, wall ms", self.assert_ticks),
                ("re-evaluation, last ticks, CPU ms", last),
                (f"full evaluation, {len(self.full_cpu)} times in them, CPU ms", self.full_cpu),
                ("full evaluation, wall ms", self.full_wall)]


REFINEMENTS = {"counts": (bottomup, "COUNT_DELTAS"), "sums": (kept, "SUMS"),
               "turns": (bottomup, "TURN_ASSIGNMENTS"),
               "twins": (increment, "CANCEL_TWINS"), "lost": (increment, "DELETE_REDERIVE"),
               "ranges": (ranges, "READ_RANGES"), "once": (clause, "TESTS_ONCE"),
               "steps": (planner, "STEP_DELTAS")}


def engine_before(program, names: list[str]) -> SwiplEngine:
    """An engine planned without the refinements `names` (REFINEMENTS), switched off while
    it compiles and whenever it plans again."""

    class Before(SwiplEngine):
        def _load_plan(self, *args, **kwargs):
            with switched_off(names):
                return super()._load_plan(*args, **kwargs)

    with switched_off(names):
        return Before(program)


@contextmanager
def switched_off(names: list[str]):
    flags = [REFINEMENTS[name] for name in names]
    saved = [getattr(module, name) for module, name in flags]
    for module, name in flags:
        setattr(module, name, False)
    try:
        yield
    finally:
        for (module, name), value in zip(flags, saved):
            setattr(module, name, value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=10_000)
    parser.add_argument("--last", type=int, default=500, help="ticks compared with full")
    parser.add_argument("--every", type=int, default=25, help="full evaluation every N ticks")
    parser.add_argument("--full", action="store_true", help="now_incremental=False")
    parser.add_argument("--components", action="store_true",
                        help="time each component of every incremental tick")
    parser.add_argument("--compare", nargs="?", const=",".join(REFINEMENTS), default=None,
                        help="also an engine without these refinements, fed the same ticks "
                             f"(comma-separated; default all: {','.join(REFINEMENTS)})")
    args = parser.parse_args()
    program = load_program([TRADING])
    runs = [Run("after" if args.compare else "", SwiplEngine(
        program, now_incremental=not args.full))]
    if args.compare:
        names = args.compare.split(",")
        unknown = set(names) - set(REFINEMENTS)
        if unknown:
            parser.error(f"--compare: no refinement {', '.join(sorted(unknown))}")
        runs.insert(0, Run("before", engine_before(program, names)))
    batches = tick_batches(runs[0].engine, args.ticks)
    facts = 0
    try:
        for i, batch in enumerate(batches):
            if not batch:
                continue
            facts += sum(len(rows) for rows, _ in batch.values())
            for run in runs if i % 2 else runs[::-1]:  # each goes first every other tick
                run.tick(i, batch, args)
    finally:
        for run in runs:
            run.engine.close()
    ticked = len(runs[0].cpu_ticks)
    print(f"# {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average "
          f"{os.getloadavg()[0]:.1f}; {args.ticks:,} ticks, {facts:,} facts, "
          f"{ticked:,} ticks with facts ({facts / ticked:.1f} a tick), evaluated in full: "
          + ", ".join(f"{run.name or 'engine'} {run.in_full}" for run in runs))
    print("| figure, ms (p50 / p99 / max) | " + " | ".join(r.name or "" for r in runs)
          + " |\n|---|" + "---:|" * len(runs))
    by_run = [run.figures(args.ticks - args.last) for run in runs]
    for row, (name, _) in enumerate(by_run[0]):
        cells = [figures[row][1] for figures in by_run]
        if all(cells):
            print(f"| {name.replace('last ticks', f'last {args.last} ticks')} | " + " | ".join(
                f"{percentile(v, 0.5) * 1000:.2f} / {percentile(v, 0.99) * 1000:.2f} / "
                f"{max(v) * 1000:.2f}" for v in cells) + " |")
    for run in runs:
        slowest = sorted(run.cpu_ticks, key=lambda tick: tick[1])[-3:][::-1]
        print(f"\n{run.name or 'The'} slowest ticks (tick: CPU ms): "
              + ", ".join(f"{i}: {cpu * 1000:,.0f}" for i, cpu in slowest))
        if run.plan_walls:
            print(f"\n{run.name or 'The engine'} planned again {len(run.plan_walls)} times "
                  f"(a relation grown 2x, as a query about now would): "
                  f"{sum(run.plan_walls) * 1000:,.0f} ms wall in all, not in the figures above")
    for run, figures in zip(runs, by_run):
        last, full = figures[3][1], figures[4][1]
        if last and full:
            ratio = statistics.median(last) / statistics.median(full)
            print(f"\n{run.name or 'One'} tick re-evaluated / full evaluation (medians, CPU, "
                  f"last {args.last} ticks): {ratio:.4f}")
    if len(runs) == 2:
        (a, b) = ([c for _, c in run.cpu_ticks] for run in runs)
        print(f"after / before, per tick CPU: p50 {percentile(b, .5) / percentile(a, .5):.3f}, "
              f"p99 {percentile(b, .99) / percentile(a, .99):.3f}")
    for run in runs:
        if run.steps:
            print(f"\n## {run.name or 'components'}")
            component_report(run.engine, run.steps)


if __name__ == "__main__":
    main()
