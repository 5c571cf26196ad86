"""Benchmark the evaluation backends side by side (issue #3); not a test.

    python bench/engine.py                 # the full table: swipl at 150k and 1.5M, pyDatalog small
    python bench/engine.py --quick         # a smaller, faster run
    python bench/engine.py --worker swipl 150000 incremental   # one measurement, JSON out

Each (backend, size, mode) runs in a fresh process, so that its peak memory is its own.
Facts are generated, shaped like the simulator's events (orders, fills, trades, prices).
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.machine import as_percent, cpu_times, stolen  # noqa: E402 - after the path

PROGRAM = """
.event order_submitted(order: symbol, client: symbol, symbol: symbol, side: symbol,
                       qty: number, price: number, t: time)
.event order_filled(order: symbol, trade: symbol, qty: number, price: number, t: time)
.event order_cancelled(order: symbol, t: time)
.event order_replaced(order: symbol, new_order: symbol, t: time)
.event trade_executed(trade: symbol, symbol: symbol, buyer: symbol, seller: symbol,
                      qty: number, price: number, t: time)
.event price_updated(symbol: symbol, price: number, t: time)

// a join
fill_of(o, tr, c, s, q) :- order_filled(o, tr, q, _, _), order_submitted(o, c, s, _, _, _, _).
// a negation
done(o) :- order_filled(o, _, _, _, _).
done(o) :- order_cancelled(o, _).
pending(o, c, s, q) :- order_submitted(o, c, s, _, q, _, _), !done(o).
// a recursion
replaced_by(a, b) :- order_replaced(a, b, _).
replaced_by(a, c) :- replaced_by(a, b), order_replaced(b, c, _).
// aggregates: one client's net position in one symbol
traded(c, s) :- trade_executed(_, s, c, _, _, _, _).
traded(c, s) :- trade_executed(_, s, _, c, _, _, _).
net_position(c, s, n) :- traded(c, s),
    b = sum qb : { trade_executed(_, s, c, _, qb, _, _) },
    x = sum qs : { trade_executed(_, s, _, c, qs, _, _) },
    n = b - x.
volume(s, n) :- price_updated(s, _, _), n = sum q : { trade_executed(_, s, _, _, q, _, _) }.
"""
DERIVED = ["fill_of(o, tr, c, s, q)", "pending(o, c, s, q)", "replaced_by(a, b)",
           "net_position(c, s, n)", "volume(s, n)"]
CLIENTS, SYMBOLS = 100, 10


def generate(n_facts: int, seed: int = 1, start: int = 0, tick0: int = 0):
    """About `n_facts` events in time order: {relation: rows} and the last tick."""
    rng = random.Random(seed)
    facts: dict[str, list[tuple]] = {name: [] for name in (
        "order_submitted", "order_filled", "order_cancelled", "order_replaced",
        "trade_executed", "price_updated")}
    count, i, tick = 0, start, tick0
    while count < n_facts:
        tick += rng.randrange(1, 3)
        o, c, s = f"O{i}", f"C{rng.randrange(CLIENTS)}", f"S{rng.randrange(SYMBOLS)}"
        side, qty, price = rng.choice(("buy", "sell")), rng.randrange(1, 500), 10_000 + i % 97
        facts["order_submitted"].append((o, c, s, side, qty, price, tick))
        count += 1
        roll = rng.random()
        if roll < 0.5:
            tr = f"T{i}"
            other = f"C{rng.randrange(CLIENTS)}"
            buyer, seller = (c, other) if side == "buy" else (other, c)
            facts["order_filled"].append((o, tr, qty, price, tick + 1))
            facts["trade_executed"].append((tr, s, buyer, seller, qty, price, tick + 1))
            count += 2
        elif roll < 0.7:
            facts["order_cancelled"].append((o, tick + 2))
            count += 1
        elif roll < 0.8 and i > start:
            facts["order_replaced"].append((f"O{i - 1}", o, tick))
            count += 1
        if rng.random() < 0.12:
            facts["price_updated"].append((s, price + rng.randrange(-50, 50), tick))
            count += 1
        i += 1
    return facts, tick + 2, i


# ---- one measurement, in its own process ----------------------------------------------

def worker(backend: str, n_facts: int, mode: str, as_of_queries: int) -> dict:
    from engine.analysis import program_from_source
    from engine.backends.factory import backend_class

    program = program_from_source(PROGRAM)
    options = {}
    if backend == "swipl":
        options = {"incremental": mode == "incremental", "time_index": mode != "no-index"}
    cls = backend_class(backend)
    facts, last_tick, next_order = generate(n_facts)
    total = sum(len(rows) for rows in facts.values())
    batches = _time_ordered_batches(facts, 10_000)
    out = {"backend": backend, "mode": mode, "facts": total,
           "data_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}

    # load rate: events in time order, in batches of 10k interleaved across relations
    engine = cls(program, **options)
    started = time.perf_counter()
    for relation, rows in batches:
        engine.assert_facts(relation, rows)
    out["load_s"] = time.perf_counter() - started
    out["load_rate"] = total / out["load_s"]

    # full evaluation: every derived relation, from cold tables
    out["full_eval_s"] = _evaluate_all(engine)

    # re-query after +1 and +1,000 new facts (later in time)
    for extra in (1, 1000):
        more, last_tick, next_order = generate(extra, seed=extra, start=next_order,
                                               tick0=last_tick)
        rows = [(rel, row) for rel, rs in more.items() for row in rs][:extra]
        for relation, row in rows:
            engine.assert_facts(relation, [row])
        out[f"requery_{extra}_s"] = _evaluate_all(engine)
        out[f"requery_{extra}_ratio"] = out[f"requery_{extra}_s"] / out["full_eval_s"]

    # as-of point queries: one client's net position in one symbol at a random past time
    rng = random.Random(42)
    keys = sorted({(row[2], row[1]) for row in facts["trade_executed"]})
    latencies, wrong = [], 0
    queries = [(rng.choice(keys), rng.randrange(0, last_tick)) for _ in range(as_of_queries)]
    cpu = cpu_times()
    for (client, symbol), as_of in queries:
        text = f'net_position("{client}", "{symbol}", n)'
        started = time.perf_counter()
        result = engine.query(text, as_of=as_of)
        latencies.append(time.perf_counter() - started)
        wrong += len(result.rows) > 1
    out["as_of_stolen"] = stolen(cpu, cpu_times())
    latencies.sort()
    out["as_of_n"] = len(latencies)
    out["as_of_p50_ms"] = 1000 * latencies[len(latencies) // 2]
    out["as_of_p99_ms"] = 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    out["as_of_check"] = _check_as_of(engine, facts, queries[:5])
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    engine.close()
    return out


def as_of_pair(sizes: list[int], mode: str, n_queries: int) -> dict:
    """As-of point queries on engines of several sizes in one process, interleaved, so that
    the machine's noise (other processes, idle-CPU wake-ups) falls on every size alike.
    Also the time inside Prolog per query (a loop run in Prolog): the index's own cost."""
    from engine.analysis import program_from_source
    from engine.backends.swipl.backend import SwiplEngine
    from engine.backends.swipl.thread import PrologThread

    program = program_from_source(PROGRAM)
    engines = []
    for size in sizes:
        facts, last_tick, _ = generate(size)
        engine = SwiplEngine(program, incremental=mode == "incremental",
                             time_index=mode != "no-index")
        for relation, rows in _time_ordered_batches(facts, 10_000):
            engine.assert_facts(relation, rows)
        keys = sorted({(row[2], row[1]) for row in facts["trade_executed"]})
        engines.append((engine, keys, last_tick))
        del facts
    rng = random.Random(42)
    latencies: list[list[float]] = [[] for _ in sizes]
    for _ in range(n_queries):
        for i, (engine, keys, last_tick) in enumerate(engines):
            (client, symbol), as_of = rng.choice(keys), rng.randrange(0, last_tick)
            started = time.perf_counter()
            engine.query(f'net_position("{client}", "{symbol}", n)', as_of=as_of)
            latencies[i].append(time.perf_counter() - started)
    out = {"mode": mode}
    for size, lat, (engine, keys, last_tick) in zip(sizes, latencies, engines):
        lat.sort()
        out[f"p50_ms_{size}"] = 1000 * lat[len(lat) // 2]
        out[f"p99_ms_{size}"] = 1000 * lat[int(len(lat) * 0.99)]
        _, goal, row = engine._query_cache('net_position("C1", "S1", n)')
        goal = goal.replace("'C1'", "C").replace("'S1'", "S")
        calls = ",".join(f"q('{c}','{s}',{rng.randrange(0, last_tick)})"
                         for c, s in (rng.choice(keys) for _ in range(2000)))
        m = engine.module
        answer = PrologThread.shared().request(
            f"tl_timed((L = [{calls}], forall(member(q(C, S, AsOf), L), "
            f"(findall({row}, {m}:({goal}), _), {m}:tl_drop_as_of(AsOf)))))")
        out[f"prolog_us_{size}"] = answer["seconds"] / 2000 * 1e6
    return out


def _time_ordered_batches(facts, size):
    events = sorted(((row[-1], rel, row) for rel, rows in facts.items() for row in rows),
                    key=lambda e: e[0])
    batches = []
    for start in range(0, len(events), size):
        chunk: dict[str, list] = {}
        for _, rel, row in events[start:start + size]:
            chunk.setdefault(rel, []).append(row)
        batches.extend(chunk.items())
    return batches


def _evaluate_all(engine) -> float:
    started = time.perf_counter()
    for query in DERIVED:  # count, so that the figure is evaluation, not row transfer
        engine.query(f"total = count : {{ {query} }}", timeout=None)
    return time.perf_counter() - started


def _check_as_of(engine, facts, queries) -> bool:
    """The as-of answers agree with a sum computed here from the raw facts."""
    for (client, symbol), as_of in queries:
        expected = sum(q for _, s, b, _, q, _, t in facts["trade_executed"]
                       if s == symbol and b == client and t <= as_of) - \
            sum(q for _, s, _, sl, q, _, t in facts["trade_executed"]
                if s == symbol and sl == client and t <= as_of)
        traded = any(t <= as_of and s == symbol and client in (b, sl)
                     for _, s, b, sl, _, _, t in facts["trade_executed"])
        rows = engine.query(f'net_position("{client}", "{symbol}", n)', as_of=as_of).rows
        if rows != (((expected,),) if traded else ()):
            return False
    return True


# ---- the whole table ---------------------------------------------------------------------

RUNS_FULL = [("swipl", 150_000, "incremental", 2000), ("swipl", 150_000, "explicit", 2000),
             ("swipl", 150_000, "no-index", 300), ("swipl", 1_500_000, "incremental", 2000),
             ("swipl", 1_500_000, "explicit", 2000), ("swipl", 1_500_000, "no-index", 300),
             ("pydatalog", 15_000, "-", 20), ("pydatalog", 150_000, "-", 5)]
RUNS_QUICK = [("swipl", 30_000, "incremental", 300), ("swipl", 30_000, "explicit", 300),
              ("pydatalog", 3_000, "-", 5)]


PAIR = ("as-of-pair", "150000,1500000", "explicit", 2000)
PAIR_QUICK = ("as-of-pair", "3000,30000", "explicit", 300)


def run(spec) -> dict:
    backend, n, mode, queries = spec
    cmd = [sys.executable, __file__, "--worker", backend, str(n), mode, str(queries)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        return {"backend": backend, "mode": mode, "facts": n, "error": done.stderr[-500:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(results: list[dict]) -> str:
    head = ("| backend | mode | facts | load facts/s | full eval s | +1 ratio | +1,000 ratio "
            "| as-of p50 ms | as-of p99 ms | stolen by the hypervisor meanwhile "
            "| peak MB (of it, Python's copy of the facts) |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|")
    lines = [head]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['backend']} | {r['mode']} | {r['facts']:,} | error: "
                         f"{r['error'].splitlines()[-1] if r['error'] else '?'} |")
            continue
        lines.append(
            f"| {r['backend']} | {r['mode']} | {r['facts']:,} | {r['load_rate']:,.0f} "
            f"| {r['full_eval_s']:.3f} | {r['requery_1_ratio']:.2f} "
            f"| {r['requery_1000_ratio']:.2f} | {r['as_of_p50_ms']:.3f} "
            f"| {r['as_of_p99_ms']:.3f} | {as_percent(r.get('as_of_stolen'))} "
            f"| {r['peak_rss_mb']:.0f} ({r['data_rss_mb']:.0f}) |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--worker", nargs=4, metavar=("BACKEND", "FACTS", "MODE", "QUERIES"))
    args = parser.parse_args()
    if args.worker:
        backend, n, mode, queries = args.worker
        if backend == "as-of-pair":
            print(json.dumps(as_of_pair([int(x) for x in n.split(",")], mode, int(queries))))
        else:
            print(json.dumps(worker(backend, int(n), mode, int(queries))))
        return
    print(f"machine: {platform.machine()}, {_cores()} cores, python "
          f"{platform.python_version()}, {time.strftime('%Y-%m-%d')}")
    results = []
    for spec in (RUNS_QUICK if args.quick else RUNS_FULL):
        result = run(spec)
        results.append(result)
        print(json.dumps(result), flush=True)
    pair = run(PAIR_QUICK if args.quick else PAIR)
    print(json.dumps(pair), flush=True)
    print(table(results))
    small, large = (PAIR_QUICK if args.quick else PAIR)[1].split(",")
    if "error" not in pair:
        print(f"\nas-of point query, {small} and {large} facts in one process, interleaved: "
              f"p50 {pair['p50_ms_' + small]:.3f} / {pair['p50_ms_' + large]:.3f} ms "
              f"(ratio {pair['p50_ms_' + large] / pair['p50_ms_' + small]:.2f}), "
              f"p99 {pair['p99_ms_' + small]:.3f} / {pair['p99_ms_' + large]:.3f} ms; "
              f"inside Prolog {pair['prolog_us_' + small]:.1f} / "
              f"{pair['prolog_us_' + large]:.1f} us per query")


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    main()
