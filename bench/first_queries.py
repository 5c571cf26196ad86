"""Benchmark the first as-of queries after a start, with and without finishing new indexes.

    .venv/bin/python -m bench.first_queries [--store var/events.db] [--queries 60]

bench/http.py's two point queries, each first asked about now (as bench/http.py's server
start does), then --queries of them as of random ticks, alternating, in two engines over
the same replay of the default simulation: before (`warm_indexes=False`: SWI-Prolog's new
multi-argument indexes are finished by the nine queries after the one that made them) and
after (the query that made one finishes it; runtime.pl, tl_warm_indexes). Each query is
asked of one engine and then of the other, so both see the same machine. Wall ms per query,
in order, and the p50/p90/max of the first 20 and of the rest.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import time
from pathlib import Path

from bench.as_of import POINT
from bench.rules import _store
from engine.analysis import load_program
from engine.backends.swipl.backend import SwiplEngine
from sim.facts import replay

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules" / "trading.dl"
TICKS = 10_000


def _summary(values: list[float]) -> str:
    ordered = sorted(values)
    return (f"p50 {statistics.median(ordered):.2f}, p90 {ordered[int(0.9 * len(ordered))]:.2f},"
            f" max {ordered[-1]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=ROOT / "var" / "events.db")
    parser.add_argument("--queries", type=int, default=60)
    args = parser.parse_args()
    store = _store(args.store, TICKS)
    program = load_program([RULES])
    engines = {"before": SwiplEngine(program, warm_indexes=False), "after": SwiplEngine(program)}
    try:
        started = time.perf_counter()
        replay(store, engines["after"])
        engines["before"].restore_state(engines["after"].dump_state())
        print(f"{platform.node()} {platform.machine()}, Python {platform.python_version()}, "
              f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {len(store):,} events; "
              f"replay and restore {time.perf_counter() - started:.1f} s; load average "
              f"{os.getloadavg()[0]:.2f}")
        for engine in engines.values():
            for text in POINT:
                engine.query(text, timeout=None)
        rng = random.Random(7)
        asked = [(POINT[n % 2], rng.randint(1, TICKS)) for n in range(args.queries)]
        ms: dict[str, list[float]] = {name: [] for name in engines}
        for text, at in asked:
            for name, engine in engines.items():
                start = time.perf_counter()
                engine.query(text, as_of=at, timeout=None)
                ms[name].append((time.perf_counter() - start) * 1000)
        for name, values in ms.items():
            print(f"\n{name}: " + " ".join(f"{v:.1f}" for v in values))
            print(f"  first 20: {_summary(values[:20])}; the rest: {_summary(values[20:])}")
        print(f"\nload average {os.getloadavg()[0]:.2f}")
    finally:
        for engine in engines.values():
            engine.close()
        store.close()


if __name__ == "__main__":
    main()
