"""Benchmark: loading facts into the SWI-Prolog engine, its rate and peak memory; not a test.

    python -m bench.load --facts 150000
    python -m bench.load --facts 1500000

The facts are bench/engine.py's generated trading events, in time order, asserted in
batches of 10,000 (one assert_facts per relation per batch) into bench/engine.py's program
(a join, a negation, a recursion, sums, so timed views and prefix aggregates are kept as
the facts arrive). Prints one JSON line: wall and CPU seconds of the load (CPU: every
thread of this process, Prolog's included; on a shared machine it says more than the
wall clock), facts per second by each, the process's peak memory, and its peak before the
load (the generated facts held in Python): the engine's own share is about the difference.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.engine import PROGRAM, _time_ordered_batches, generate  # noqa: E402
from engine.analysis import program_from_source  # noqa: E402
from engine.backends.swipl.backend import SwiplEngine  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facts", type=int, default=150_000)
    args = parser.parse_args()
    facts, _, _ = generate(args.facts)
    batches = _time_ordered_batches(facts, 10_000)
    del facts
    count = sum(len(rows) for _, rows in batches)
    input_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    engine = SwiplEngine(program_from_source(PROGRAM))
    cpu, wall = time.process_time(), time.perf_counter()
    for relation, rows in batches:
        engine.assert_facts(relation, rows)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(json.dumps({
        "facts": count, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
        "rate_wall": round(count / wall), "rate_cpu": round(count / cpu),
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "peak_before_load_mb": round(input_peak / 1024),
        "load_average": round(os.getloadavg()[0], 1), "date": time.strftime("%Y-%m-%d %H:%M UTC",
                                                                          time.gmtime())}))
    engine.close()


if __name__ == "__main__":
    main()
