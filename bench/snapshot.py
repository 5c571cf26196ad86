"""Benchmark replay with rules from an engine snapshot against from seq 1 (issue 12).

    .venv/bin/python -m bench.snapshot [--db var/events.db] [--runs 3] [--query Q]

The store (default: the default run, `tempolog sim --db var/events.db`) is copied to a
temporary directory; an engine of rules/trading.dl loads its first 90% of events, is asked
the query (so that the relations it reads are materialised, as `tempolog snapshot --query`
does) and is snapshotted into the copy. Then, in fresh engines, taking turns: the whole
state replayed from seq 1 against restored from the snapshot with the last 10% replayed,
each followed by the query; wall clock and CPU of the process (Prolog's thread included).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine import engine_from_files  # noqa: E402
from engine.backends.swipl import snapshot as swipl_snapshot  # noqa: E402
from sim.engine_snapshots import load_events, restore_latest, save_engine_snapshot  # noqa: E402
from sim.replayer import Selection, replay_engine  # noqa: E402
from sim.store import open_store  # noqa: E402

RULES = [ROOT / "rules" / "trading.dl"]
QUERY = "current_position(c, s, q, a, r)"


def _timed(call):
    """(wall seconds, CPU seconds of the process, value)."""
    cpu, started = time.process_time(), time.perf_counter()
    value = call()
    return time.perf_counter() - started, time.process_time() - cpu, value


def _ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:,.0f} ms"


def replay_and_ask(store, use_snapshots: bool, query: str):
    """One replay into a fresh engine and the query after it: the times of both parts."""
    with engine_from_files(RULES, "swipl") as engine:
        wall, cpu, result = _timed(
            lambda: replay_engine(store, engine, Selection(), use_snapshots=use_snapshots))
        q_wall, q_cpu, answer = _timed(lambda: engine.query(query, timeout=None))
    return wall, cpu, q_wall, q_cpu, result, answer.rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default=str(ROOT / "var" / "events.db"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--query", default=QUERY)
    args = parser.parse_args()
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} {platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "events.db"
        shutil.copyfile(args.db, path)
        store = open_store(path)
        head = store.head()[0]
        cut = head - head // 10
        print(f"store: {head:,} events; the snapshot at seq {cut:,}; the query `{args.query}`\n")

        sizes = {}
        for level in (0, swipl_snapshot.LEVEL):  # raw and compressed: which restores faster
            with engine_from_files(RULES, "swipl") as engine:
                load_events(store, engine, 1, cut)
                engine.query(args.query, timeout=None)
                swipl_snapshot.LEVEL, kept = level, swipl_snapshot.LEVEL
                try:
                    dump_wall, dump_cpu, taken = _timed(
                        lambda engine=engine: save_engine_snapshot(store, engine, cut))
                finally:
                    swipl_snapshot.LEVEL = kept
            restores = []
            for _ in range(args.runs):
                with engine_from_files(RULES, "swipl") as engine:
                    restores.append(_timed(lambda engine=engine: restore_latest(store, engine,
                                                                               cut))[:2])
            sizes[level] = (taken.size, dump_wall, dump_cpu, [r[0] for r in restores],
                            [r[1] for r in restores])
        print(f"| engine snapshot at seq {cut:,} | bytes | dump + store: wall / CPU "
              "| restore: wall (median) | restore: CPU (median) |")
        print("|---|---:|---:|---:|---:|")
        for level, (size, dump_wall, dump_cpu, walls, cpus) in sizes.items():
            name = f"zlib level {level}" if level else "raw fast_write terms"
            print(f"| {name} | {size:,} | {dump_wall * 1000:,.0f} / {dump_cpu * 1000:,.0f} ms "
                  f"| {_ms(walls)} | {_ms(cpus)} |")
        # the compressed one was saved last: it is the one the replays restore

        full, resumed = [], []
        for _ in range(args.runs):  # taking turns, so that load changes hit both alike
            full.append(replay_and_ask(store, False, args.query))
            resumed.append(replay_and_ask(store, True, args.query))
        assert all(run[4].engine_snapshot is None for run in full)
        assert all(run[4].engine_snapshot.seq == cut for run in resumed)
        assert len({run[5] for run in full + resumed}) == 1, "different answers"
        print("\n| replay with rules/trading.dl | events replayed | replay: wall | replay: CPU "
              "| then the query: wall | CPU | replay + query: wall | CPU |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        rows = {}
        for name, runs in (("from seq 1", full), (f"from the engine snapshot at seq {cut:,}",
                                                  resumed)):
            totals = ([r[0] + r[2] for r in runs], [r[1] + r[3] for r in runs])
            rows[name] = [statistics.median(v) for v in
                          ([r[0] for r in runs], [r[1] for r in runs], *totals)]
            print(f"| {name} | {runs[0][4].events:,} | {_ms([r[0] for r in runs])} "
                  f"| {_ms([r[1] for r in runs])} | {_ms([r[2] for r in runs])} "
                  f"| {_ms([r[3] for r in runs])} | {_ms(totals[0])} | {_ms(totals[1])} |")
        (a, b) = rows.values()
        print(f"\nfrom the snapshot against from seq 1 (medians): replay {a[0] / b[0]:.1f}x "
              f"faster by the wall clock, {a[1] / b[1]:.1f}x by CPU; replay + query "
              f"{a[2] / b[2]:.1f}x by the wall clock, {a[3] / b[3]:.1f}x by CPU (target ≥ 5x); "
              f"{len(full[0][5]):,} answers, the same both ways; "
              f"load average {os.getloadavg()[0]:.1f}")
        store.close()


if __name__ == "__main__":
    main()
