"""Benchmark: where the default run's CPU goes (sim, store append, engine feed); not a test.

    python -m bench.default_run [--ticks 10000] [--every 1,100,10000]

`tempolog sim --db x.db --engine rules/trading.dl` runs three workers: the simulation
(the main thread), the store's writer process and the engine (a feeder thread, and the
Prolog thread). Here each part is timed alone, in this process, by CPU seconds: the
simulation; gathering its events as facts; asserting them into rules/trading.dl every N
ticks (1: as `tempolog sim` streams them when the engine keeps up; larger N: as its feeder
sends the ticks that queued behind a busy engine); appending them to a SQLite store in
batches of 5,000 (the writer process's work). On 2 cores the run's wall clock cannot be
less than the sum over 2, nor than its largest part. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine import engine_from_files  # noqa: E402
from sim.config import SimConfig  # noqa: E402
from sim.exchange.simulator import Simulation  # noqa: E402
from sim.facts import FactBatch, envelope_of  # noqa: E402
from sim.store.url import open_store  # noqa: E402

RULES = [ROOT / "rules" / "trading.dl"]


def _cpu(fn):
    started = time.process_time()
    result = fn()
    return round(time.process_time() - started, 2), result


def feed(ticks, every: int) -> dict:
    """Gather the run's facts every `every` ticks and assert them into a fresh engine."""
    engine = engine_from_files(RULES)
    batch, takes, seq = FactBatch(engine), [], 1

    def gather():
        nonlocal seq
        for tick, events in ticks:
            for event in events:
                batch.add(event.type, event.payload, event.time, seq, envelope_of(event))
                seq += 1
            if (tick + 1) % every == 0:
                takes.append(batch.take())
        takes.append(batch.take())

    def assert_all():
        return sum(engine.assert_many({r: (rows, seqs) for r, rows, seqs in taken})
                   for taken in takes if taken)

    gathered, _ = _cpu(gather)
    asserted, facts = _cpu(assert_all)
    closed, _ = _cpu(engine.close)
    return {"every": every, "facts": facts, "gather_cpu_s": gathered,
            "assert_cpu_s": asserted, "close_cpu_s": closed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=10_000)
    parser.add_argument("--every", default="1,100,10000")
    args = parser.parse_args()
    simulated, ticks = _cpu(lambda: list(Simulation(SimConfig(ticks=args.ticks)).ticks()))
    events = [event for _, tick_events in ticks for event in tick_events]
    with tempfile.TemporaryDirectory() as directory:
        store = open_store(str(Path(directory) / "x.db"), create=True, durable=False)
        appended, _ = _cpu(lambda: [store.append(events[i:i + 5_000])
                                    for i in range(0, len(events), 5_000)])
        store.close()
    feeds = [feed(ticks, int(every)) for every in args.every.split(",")]
    print(json.dumps({"ticks": args.ticks, "events": len(events), "sim_cpu_s": simulated,
                      "store_append_cpu_s": appended, "engine": feeds,
                      "load_average": round(os.getloadavg()[0], 1),
                      "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}))


if __name__ == "__main__":
    main()
