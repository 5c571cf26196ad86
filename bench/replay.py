"""Benchmark replay into the read models, snapshot resumes, and position-at-time queries.

    .venv/bin/python -m bench.replay [--ticks 10000] [--runs 5] [--postgres URL|start]

With --postgres the same events are copied into a PostgreSQL store (`start`: a throw-away
server of scripts/postgres.sh) and replayed from there too, alternating with SQLite.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine import engine_from_files  # noqa: E402
from sim.config import SimConfig  # noqa: E402
from sim.exchange.simulator import Simulation  # noqa: E402
from sim.facts import replay as replay_facts  # noqa: E402
from sim.replayer import models_at  # noqa: E402
from sim.sinks import StoreSink  # noqa: E402
from sim.snapshots import save_snapshot  # noqa: E402
from sim.store import open_store, remove_store  # noqa: E402

RULES = [ROOT / "rules" / "trading.dl"]


def _timed(call):
    started = time.perf_counter()
    value = call()
    return time.perf_counter() - started, value


def _cpu_timed(call):
    """(wall seconds, CPU seconds of this process, value): on a shared machine the CPU
    seconds say what the work costs, the wall clock what the load made of it."""
    cpu, started = time.process_time(), time.perf_counter()
    value = call()
    return time.perf_counter() - started, time.process_time() - cpu, value


def _p99(values: list[float]) -> float:
    """The 99th percentile (the largest value when there are fewer than 100)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def _row(name: str, wall: list[float], cpu: list[float], events: int, note: str = "") -> str:
    medians = statistics.median(wall), statistics.median(cpu)
    rates = [events / m * 60 / 1e6 if m else 0 for m in medians]
    return (f"| {name} | {events:,} | {medians[0] * 1000:,.0f} ms | {rates[0]:,.1f} M "
            f"| {medians[1] * 1000:,.0f} ms | {rates[1]:,.1f} M | {note} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ticks", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--postgres", help="a PostgreSQL URL (its store is replaced), or "
                        "'start' for a throw-away server")
    parser.add_argument("--no-engine", action="store_true", help="skip position-at-time")
    args = parser.parse_args()
    config = SimConfig(ticks=args.ticks)
    print(f"# {time.strftime('%Y-%m-%d %H:%M')} {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
          f"load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "events.db"
        store = open_store(path, create=True, durable=False)
        Simulation(config).run([StoreSink(store)])
        head = store.head()[0]
        print(f"default run: {args.ticks:,} ticks, seed {config.seed}, {head:,} events\n")

        # Side by side, alternating, so that load changes hit both alike.
        cut = head - head // 10
        models, _ = models_at(store, cut, use_snapshots=False)
        snapshot = save_snapshot(store, models)
        full, full_cpu, resumed, resumed_cpu = [], [], [], []
        applied = 0
        for _ in range(args.runs):
            wall, cpu, (built, _) = _cpu_timed(
                lambda: models_at(store, head, use_snapshots=False))
            full.append(wall)
            full_cpu.append(cpu)
            applied = built.applied
            wall, cpu, (again, used) = _cpu_timed(lambda: models_at(store, head))
            assert used is not None and used.seq == cut and again.digest() == built.digest()
            resumed.append(wall)
            resumed_cpu.append(cpu)
        print("| replay into the read models | events | wall (median) | events/min "
              "| CPU (median) | events/min of CPU | note |")
        print("|---|---:|---:|---:|---:|---:|---|")
        print(_row("from seq 1 (positions, trades, balances)", full, full_cpu, head,
                   f"{applied:,} of them change a model; target ≥ 10 M/min"))
        print(_row(f"the state at the head from the snapshot at seq {cut:,}", resumed,
                   resumed_cpu, head - cut, f"replays the last 10%; snapshot "
                   f"{snapshot.size:,} bytes (zlib JSON)"))
        ratio = statistics.median(full) / statistics.median(resumed)
        ratio_cpu = statistics.median(full_cpu) / statistics.median(resumed_cpu)
        print(f"\nthe last 10% from a snapshot against from seq 1: {ratio:.1f}x faster by the "
              f"wall clock, {ratio_cpu:.1f}x by CPU (target ≥ 5x)\n")
        if args.postgres:
            replay_on_postgres(store, args.postgres, args.runs)
        if args.no_engine:
            store.close()
            return

        # Position at a time: the engine's time index against rebuilding the read models.
        with engine_from_files(RULES, "swipl") as engine:
            seconds, facts = _timed(lambda: replay_facts(store, engine))
            print(f"engine: {facts:,} events as facts in {seconds:.1f} s")
            last_time = store.get_seq(head).time
            times = random.Random(7).sample(range(1, last_time), args.queries)
            query = 'current_position("client-2", "AAPL", q, a, r)'
            engine.query(query, as_of=times[0])  # warm the tables once
            indexed, rebuilt = [], []
            for t in times:
                seconds, answer = _timed(lambda t=t: engine.query(query, as_of=t))
                indexed.append(seconds)
            for t in times[: max(3, args.queries // 10)]:
                seq = store.last_seq_at(t)
                seconds, _ = _timed(lambda seq=seq: models_at(store, seq, use_snapshots=False))
                rebuilt.append(seconds)
        print("\n| position of one client and symbol as of a time | calls | median | p99 | min |")
        print("|---|---:|---:|---:|---:|")
        for name, times_taken, digits in (
                ("engine `query(..., as_of=T)` (time index)", indexed, 2),
                ("rebuild the read models to T (no index)", rebuilt, 1)):
            figures = (statistics.median(times_taken), _p99(times_taken), min(times_taken))
            print(f"| {name} | {len(times_taken)} | "
                  + " | ".join(f"{f * 1000:.{digits}f} ms" for f in figures) + " |")
        store.close()


def replay_on_postgres(lite, where: str, runs: int) -> None:
    """The same replay from a PostgreSQL copy of the store, alternating with SQLite."""
    script = ROOT / "scripts" / "postgres.sh"
    server_dir = Path(tempfile.gettempdir()) / f"tempolog-pg-bench-{os.getpid()}"
    url = where
    if where == "start":
        url = subprocess.run([str(script), "start", str(server_dir)], check=True, text=True,
                             capture_output=True).stdout.split()[-1]
        subprocess.Popen([str(script), "watch", str(os.getpid()), str(server_dir)],
                         start_new_session=True)  # stops it if this run is killed
    try:
        remove_store(url)
        with open_store(url, create=True) as store:
            exported = io.StringIO()
            lite.export_jsonl(exported)
            seconds, _ = _timed(lambda: store.import_jsonl(exported.getvalue().splitlines()))
            head = store.head()[0]
            print(f"copied {head:,} events into PostgreSQL in {seconds:.1f} s")
            timings = {"SQLite": ([], []), "PostgreSQL": ([], [])}
            digests = set()
            for _ in range(runs):
                for name, source in (("SQLite", lite), ("PostgreSQL", store)):
                    wall, cpu, (built, _) = _cpu_timed(
                        lambda source=source: models_at(source, head, use_snapshots=False))
                    timings[name][0].append(wall)
                    timings[name][1].append(cpu)
                    digests.add(built.digest())
            assert len(digests) == 1, "the backends' replays differ"
        print("\n| replay into the read models from seq 1 | events | wall (median) | events/min "
              "| CPU of this process (median) | events/min of CPU | note |")
        print("|---|---:|---:|---:|---:|---:|---|")
        for name, (wall, cpu) in timings.items():
            print(_row(name, wall, cpu, head, "the same state digest on both"))
        print()
    finally:
        if where == "start":
            subprocess.run([str(script), "stop", str(server_dir)], check=True)


if __name__ == "__main__":
    main()
