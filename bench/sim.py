"""Benchmark the simulator, the event store and replay; prints a markdown table of medians.

    .venv/bin/python bench/sim.py [--ticks 10000] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine import engine_from_files, load_program  # noqa: E402
from sim.config import SimConfig  # noqa: E402
from sim.exchange.simulator import Simulation, simulate  # noqa: E402
from sim.facts import replay  # noqa: E402
from sim.sinks import EngineSink, StoreSink  # noqa: E402
from sim.store.sqlite import _INSERT, SqliteEventStore  # noqa: E402

RULES = [ROOT / "rules" / "trading.dl"]
BATCH = 5_000


def _fresh(directory: str, name: str) -> Path:
    path = Path(directory) / name
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    return path


def _cpu() -> float:
    """CPU seconds of this process (all its threads) and of its waited-for children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _median(runs: int, measure) -> tuple[float, int, float]:
    """Medians over `runs` calls of measure() -> (seconds, events): wall and CPU seconds.
    On a busy machine the CPU seconds say more than the wall clock."""
    results = []
    for _ in range(runs):
        cpu = _cpu()
        seconds, count = measure()
        results.append((seconds, count, _cpu() - cpu))
    return (statistics.median(r[0] for r in results), results[0][1],
            statistics.median(r[2] for r in results))


def bench_run(config: SimConfig, directory: str, store: bool, engine: bool, every: int = 1):
    sinks, opened = [], []
    if store:
        events = SqliteEventStore(_fresh(directory, "run.db"))
        opened.append(events)
        sinks.append(StoreSink(events, process=True))
    if engine:
        facts = engine_from_files(RULES)
        opened.append(facts)
        sinks.append(EngineSink(facts, every=every, background=True))
    started = time.perf_counter()
    summary = Simulation(config).run(sinks)
    elapsed = time.perf_counter() - started
    for thing in opened:
        thing.close()
    return elapsed, summary.events


def bench_append(events, directory: str) -> tuple[float, int]:
    with SqliteEventStore(_fresh(directory, "append.db")) as store:
        started = time.perf_counter()
        for i in range(0, len(events), BATCH):
            store.append(events[i:i + BATCH])
        return time.perf_counter() - started, len(events)


def bench_raw(rows, directory: str) -> tuple[float, int]:
    """Raw sqlite3.executemany of the very rows the store wrote, into the same schema."""
    SqliteEventStore(_fresh(directory, "raw.db")).close()  # the same table, indexes and triggers
    conn = sqlite3.connect(Path(directory) / "raw.db", isolation_level=None)
    conn.execute("PRAGMA synchronous = FULL")
    started = time.perf_counter()
    for i in range(0, len(rows), BATCH):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(_INSERT, rows[i:i + BATCH])
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed, len(rows)


class NullEngine:
    """Takes facts and does nothing with them: what replay costs on our side of the engine."""

    def __init__(self):
        self.program = load_program(RULES)

    def relations(self):
        return self.program.relations

    def assert_facts(self, relation, rows, *, seqs=None) -> int:
        return len(rows)

    def close(self) -> None:
        pass


def bench_replay(path: Path, engine_factory) -> tuple[float, int]:
    with SqliteEventStore(path) as store:
        engine = engine_factory()
        started = time.perf_counter()
        count = replay(store, engine)
        elapsed = time.perf_counter() - started
        engine.close()
        return elapsed, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    config = SimConfig(ticks=args.ticks)
    rows: list[tuple[str, ...]] = []
    cpu_rates: dict[str, float] = {}

    def report(name: str, seconds: float, count: int, cpu: float, note: str = "") -> float:
        rate = count / seconds
        rows.append((name, f"{count:,}", f"{seconds:.2f} s", f"{rate:,.0f}/s", f"{cpu:.2f} s",
                     note))
        print(f"{name}: {count:,} in {seconds:.2f} s = {rate:,.0f}/s, cpu {cpu:.2f} s {note}",
              file=sys.stderr)
        cpu_rates[name] = count / cpu
        return rate

    with tempfile.TemporaryDirectory() as directory:
        sim_only = report("simulate, no store", *_median(
            args.runs, lambda: bench_run(config, directory, False, False)))
        with_store = report("simulate into the store", *_median(
            args.runs, lambda: bench_run(config, directory, True, False)))
        full = _median(args.runs, lambda: bench_run(config, directory, True, True))
        report("simulate into the store, streaming facts tick by tick", *full,
               "target: default run <= 10 s")
        batched = _median(args.runs, lambda: bench_run(config, directory, True, True, 100))
        report("… streaming facts every 100 ticks", *batched)

        events = simulate(config)
        append = report("EventStore.append (batches of 5,000)", *_median(
            args.runs, lambda: bench_append(events, directory)), "target >= 50,000/s")
        with sqlite3.connect(Path(directory) / "append.db") as conn:
            stored = conn.execute("SELECT * FROM events ORDER BY seq").fetchall()
        raw = report("raw sqlite3.executemany, same rows and schema", *_median(
            args.runs, lambda: bench_raw(stored, directory)))
        store_path = Path(directory) / "append.db"
        mapped = _median(args.runs, lambda: bench_replay(store_path, NullEngine))
        report("replay store -> facts (no engine)", *mapped,
               f"= {mapped[1] / mapped[0] * 60:,.0f} events/min")
        replayed = _median(args.runs, lambda: bench_replay(
            store_path, lambda: engine_from_files(RULES)))
        per_minute = replayed[1] / replayed[0] * 60
        load = os.getloadavg()[0]
        report("replay store -> engine", *replayed,
               f"= {per_minute:,.0f} events/min (target >= 1,000,000)")

    print(f"\nMachine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}; "
          f"{args.ticks:,} ticks, median of {args.runs}; load average {load:.1f} at the end.\n")
    print("| measurement | events | wall | rate | CPU | note |\n|---|---:|---:|---:|---:|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    on_cpu = [cpu_rates[name] for name in ("simulate into the store", "simulate, no store",
                                           "EventStore.append (batches of 5,000)",
                                           "raw sqlite3.executemany, same rows and schema")]
    print(f"\nRatios, by wall clock (by CPU): store on / off {with_store / sim_only:.2f} "
          f"({on_cpu[0] / on_cpu[1]:.2f}); append / raw executemany {append / raw:.2f} "
          f"({on_cpu[2] / on_cpu[3]:.2f}).")


if __name__ == "__main__":
    main()
