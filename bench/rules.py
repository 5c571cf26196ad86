"""Benchmark every relation of rules/ on the default simulation: now, as of random times.

    .venv/bin/python bench/rules.py [--ticks 10000] [--repeat 20] [--store var/bench.db]

Prints a markdown table (p50/p95 per question, first call and repeats) for
docs/benchmarks.md, then position-at-time lookups (p99), then the first answers to the
queries of docs/rules.md (its samples). `--transfer N` instead times handing the big
relations' rows to Python, the old way (json_write/3, a key sort) and the new
(engine/backends/swipl/rows.py) alternately, N times each; `--no-samples` skips the
docs' queries.
"""

from __future__ import annotations

import argparse
import platform
import random
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine import engine_from_files  # noqa: E402
from engine.backends.swipl import rows as answer_rows  # noqa: E402
from engine.engine import sorted_rows  # noqa: E402
from sim.config import SimConfig  # noqa: E402
from sim.exchange.simulator import Simulation  # noqa: E402
from sim.facts import replay  # noqa: E402
from sim.sinks import StoreSink  # noqa: E402
from sim.store import EventStore, open_store  # noqa: E402

RULES = ROOT / "rules" / "trading.dl"
DOCS = ROOT / "docs" / "rules.md"
RELATIONS = (
    "order_state", "pending_order", "total_filled", "fill_rate", "avg_fill_rate",
    "current_position", "latest_price", "unrealized_pnl", "exposure", "concentration_risk",
    "velocity_breach", "realized_pnl_today", "loss_breach", "first_breach", "trade_history",
    "audit", "wash_trade", "modification_count", "excessive_mods", "trade_volume", "order_book",
)


def _store(path: Path, ticks: int) -> EventStore:
    """The default simulation's store, made once and kept (simulating takes a minute)."""
    if path.exists():
        return open_store(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    store = open_store(path, create=True)
    Simulation(SimConfig(ticks=ticks)).run([StoreSink(store)])
    return store


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _timed(engine, query: str, as_of: int | None) -> tuple[float, int]:
    start = time.perf_counter()
    rows = engine.query(query, as_of=as_of, timeout=None).rows
    return (time.perf_counter() - start) * 1000, len(rows)


TRANSFERRED = ("order_state", "trade_history", "total_filled", "audit")


def _transfer(engine, relation: str, repeat: int) -> str:
    """ms per 10k rows of `relation` (materialised "now"), old path against new, alternating;
    both read the same Prolog goal, so only the hand-over differs."""
    arity = engine.relations()[relation].arity
    engine.query(f"{relation}({', '.join(['_'] * arity)})", limit=1, timeout=None)  # up to date
    args = ", ".join(f"A{i}" for i in range(arity))
    goal = f"'m:{relation}'({args})"
    rest = f"{engine.module}, none, none, 1.0Inf, _, [{args}], ({goal})"

    def old(call):
        return sorted_rows(call(f"tl_query({rest})", ""))

    def new(call):
        return answer_rows.fetch(call, rest)

    wall: dict[str, list[float]] = {"old": [], "new": []}
    cpu: dict[str, list[float]] = {"old": [], "new": []}  # the process's, Prolog's thread too
    count = 0
    for _ in range(repeat):
        for name, fn in (("old", old), ("new", new)):
            start, start_cpu = time.perf_counter(), time.process_time()
            rows = engine._prolog.run(fn)
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
            count = len(rows)

    def per(times: dict[str, list[float]], name: str) -> float:  # ms per 10k rows, median
        return statistics.median(times[name]) * 1000 * 10_000 / max(count, 1)

    cells = [f"{per(t, 'old'):,.0f} / {per(t, 'new'):,.0f} ms "
             f"({per(t, 'old') / per(t, 'new'):.1f}x)" for t in (wall, cpu)]
    return f"| `{relation}` | {count:,} | {cells[0]} | {cells[1]} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20, help="calls now, per relation")
    parser.add_argument("--past", type=int, default=3, help="calls as of random times")
    parser.add_argument("--lookups", type=int, default=100, help="positions at random times")
    parser.add_argument("--no-table", action="store_true", help="skip the relation table")
    parser.add_argument("--transfer", type=int, default=0,
                        help="time the rows' hand-over, old and new, this many times")
    parser.add_argument("--no-samples", action="store_true", help="skip the docs' queries")
    parser.add_argument("--store", type=Path, default=ROOT / "var" / "bench-rules.db")
    args = parser.parse_args()
    rng = random.Random(7)
    store = _store(args.store, args.ticks)
    print(f"{platform.node()} {platform.machine()}, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {len(store):,} events")
    with engine_from_files([RULES], "swipl") as engine:
        start = time.perf_counter()
        replay(store, engine)
        print(f"replay into SWI-Prolog: {time.perf_counter() - start:.1f} s\n")
        if args.transfer:
            print("| relation | rows | wall per 10k rows: old / new "
                  "| CPU per 10k rows: old / new |")
            print("|---|---|---|---|")
            for relation in TRANSFERRED:
                print(_transfer(engine, relation, args.transfer), flush=True)
            print()
        print("| relation | answers | now: first | now: p50 / p95 | as of a random time: "
              "p50 / p95 |")
        print("|---|---|---|---|---|")
        for relation in () if args.no_table else RELATIONS:
            arity = engine.relations()[relation].arity
            query = f"{relation}({', '.join(f'c{i}' for i in range(arity))})"
            first, count = _timed(engine, query, None)
            now = [_timed(engine, query, None)[0] for _ in range(args.repeat)]
            past = [_timed(engine, query, rng.randrange(args.ticks))[0]
                    for _ in range(args.past)]
            print(f"| `{relation}` | {count:,} | {first:,.1f} ms | {_pct(now, .5):,.2f} / "
                  f"{_pct(now, .95):,.2f} ms | {_pct(past, .5):,.0f} / {_pct(past, .95):,.0f} ms |")
        times = []
        clients = [f"client-{i}" for i in range(1, 5)]
        symbols = ["AAPL", "GOOGL", "MSFT", "AMZN", "TSLA"]
        for _ in range(args.lookups):
            query = (f'current_position("{rng.choice(clients)}", "{rng.choice(symbols)}", '
                     "q, a, r)")
            times.append(_timed(engine, query, rng.randrange(args.ticks))[0])
        print(f"\nposition at a random time ({args.lookups} lookups): "
              f"p50 {_pct(times, .5):.2f} ms, p99 {_pct(times, .99):.2f} ms, "
              f"median {statistics.median(times):.2f} ms")
        samples = re.findall(r"```query\n(.*?)\n```", DOCS.read_text(), re.DOTALL)
        print("\nthe queries of docs/rules.md, now (first three rows):")
        for query in [] if args.no_samples else samples:
            result = engine.query(query, limit=3, timeout=None)
            print(f"{query}\n    {', '.join(result.columns)}")
            for row in result.rows:
                print(f"    {row}")
    store.close()


if __name__ == "__main__":
    main()
