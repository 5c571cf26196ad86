"""Benchmark: loading facts into the SWI-Prolog engine, its rate and peak memory; not a test.

    python -m bench.load --facts 150000
    python -m bench.load --facts 1500000
    python -m bench.load --facts 1500000 --hold   # all input generated first, then loaded

The facts are bench/engine.py's generated trading events, in time order, asserted in
batches of 10,000 (one assert_facts per relation per batch) into bench/engine.py's program
(a join, a negation, a recursion, sums, so timed views and prefix aggregates are kept as
the facts arrive). The input is generated batch by batch as it is loaded, as a replay reads
a store, so the process's peak is the engine's; `--hold` generates all of it first and
keeps it (the bench before 2026-12-02 evening: its peak includes the input). Prints one
JSON line: wall and CPU seconds of the load (CPU: every thread of this process, Prolog's
included, generating the input left out), facts per second by each, the process's peak
memory, and its peak before the load.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.engine import PROGRAM, _time_ordered_batches, generate  # noqa: E402
from engine.analysis import program_from_source  # noqa: E402
from engine.backends.swipl.backend import SwiplEngine  # noqa: E402

BATCH = 10_000


def batches(n_facts: int) -> Iterator[list[tuple[str, list[tuple]]]]:
    """About `n_facts` generated facts, BATCH at a time, each batch later than the one
    before (generate's events end two ticks after the tick it returns)."""
    made, start, tick, seed = 0, 0, 0, 1
    while made < n_facts:
        facts, tick, start = generate(min(BATCH, n_facts - made), seed, start, tick)
        made += sum(map(len, facts.values()))
        seed += 1
        yield _time_ordered_batches(facts, BATCH)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facts", type=int, default=150_000)
    parser.add_argument("--hold", action="store_true",
                        help="generate all the input first and hold it while loading")
    args = parser.parse_args()
    source: Iterator = batches(args.facts)
    if args.hold:
        source = iter(list(source))
    input_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    engine = SwiplEngine(program_from_source(PROGRAM))
    count, cpu, wall = 0, 0.0, 0.0
    for batch in source:
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for relation, rows in batch:
            engine.assert_facts(relation, rows)
            count += len(rows)
        cpu, wall = cpu + time.process_time() - cpu0, wall + time.perf_counter() - wall0
    print(json.dumps({
        "facts": count, "hold": args.hold, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
        "rate_wall": round(count / wall), "rate_cpu": round(count / cpu),
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "peak_before_load_mb": round(input_peak / 1024),
        "load_average": round(os.getloadavg()[0], 1), "date": time.strftime("%Y-%m-%d %H:%M UTC",
                                                                          time.gmtime())}))
    engine.close()


if __name__ == "__main__":
    main()
