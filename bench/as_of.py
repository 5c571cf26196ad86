"""Benchmark as-of literals (`p @ t`) and as-of queries on the default simulation.

    .venv/bin/python -m bench.as_of [--store var/events.db] [--lookups 1000] [--loop 300]
    .venv/bin/python -m bench.as_of --mix [--appends 150] [--store var/events.db]

Prints, on SWI-Prolog after a replay of the store: `position_at_trade` now (first call
and repeats, per answer) and as of random times; the same answers the way they were asked
before `@` — one `current_position` query as of each trade's tick, from Python — on a
sample of trades, per answer; a position at a random time asked with `@` in a query and
as an as-of query (p50/p99); and what an incremental step costs `position_at_trade` when
the last ticks arrive one by one, derived in full and from the earliest new time on.

With --mix: the query mix of bench/http.py inside the engine, two engines in one run
(before: answered from tables, which every append drops for every time; after: untabled
moded forms within a budget, tables dropped from the new facts' time on): 20 queries per
append of 10 prices later than every stored event, half of them now (as of the end of time,
as the service asks) and half as of a random tick; p50/p99 per query and kind.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import time
from pathlib import Path

from bench.rules import _pct, _store
from engine import engine_from_files
from engine.analysis import load_program
from engine.backends.swipl import increment
from engine.backends.swipl.backend import SwiplEngine
from sim.events.types import Event
from sim.facts import FactBatch, envelope_of, replay

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules" / "trading.dl"
QUERY = "position_at_trade(tr, c, s, q, t)"
CLIENTS = [f"client-{i}" for i in range(1, 5)]
SYMBOLS = ["AAPL", "GOOGL", "MSFT", "AMZN", "TSLA"]


def _ms(engine, query: str, as_of: int | None = None) -> tuple[float, tuple]:
    start = time.perf_counter()
    rows = engine.query(query, as_of=as_of, timeout=None).rows
    return (time.perf_counter() - start) * 1000, rows


def _load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=ROOT / "var" / "events.db")
    parser.add_argument("--ticks", type=int, default=10_000, help="to simulate, if no store")
    parser.add_argument("--repeat", type=int, default=5, help="now calls after the first")
    parser.add_argument("--past", type=int, default=5, help="calls as of random times")
    parser.add_argument("--loop", type=int, default=300, help="trades asked one by one")
    parser.add_argument("--lookups", type=int, default=1000, help="positions at a time")
    parser.add_argument("--steps", type=int, default=30, help="ticks, one by one, from")
    parser.add_argument("--step-from", type=int, default=5000, help="this tick on")
    parser.add_argument("--mix", action="store_true", help="bench.http's queries only")
    parser.add_argument("--appends", type=int, default=150, help="with --mix")
    args = parser.parse_args()
    if args.mix:
        return mix(_store(args.store, args.ticks), args.appends)
    rng = random.Random(9)
    store = _store(args.store, args.ticks)
    last = max(event.time for event in store.read(from_seq=max(1, len(store) - 5)))
    assert args.step_from + args.steps < last
    print(f"{platform.node()} {platform.machine()}, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {len(store):,} events, "
          f"last tick {last}; {_load()}")
    increment.TIME_RANGES = False  # before: a step derives position_at_trade in full
    before = engine_from_files([RULES], "swipl")
    increment.TIME_RANGES = True
    with engine_from_files([RULES], "swipl") as engine, before:
        start = time.perf_counter()
        for one in (before, engine):
            increment.TIME_RANGES = one is engine  # for a re-plan while the facts grow
            replay(store, one, to_time=args.step_from)
        print(f"replay up to tick {args.step_from}, into two engines: "
              f"{time.perf_counter() - start:.1f} s")
        resume = steps(store, before, engine, args.step_from, args.steps)
        replay(store, engine, from_seq=resume)  # the rest of the run, into `engine` only

        derive = engine._prolog.request(  # inside Prolog: the rules alone, no transfer
            f"tl_timed(aggregate_all(count, {engine.module}:"
            f"'bu:all:position_at_trade'(_, _, _, _, _), _))")["seconds"] * 1000
        _, rows = _ms(engine, QUERY)
        again = [_ms(engine, QUERY)[0] for _ in range(args.repeat)]
        print(f"{QUERY} now: {len(rows):,} answers; derived from scratch inside Prolog "
              f"in {derive:,.0f} ms ({derive * 1000 / len(rows):.1f} µs per answer); asked "
              f"(materialised, the rows handed to Python) p50 {_pct(again, .5):,.0f} ms "
              f"({_pct(again, .5) * 1000 / len(rows):.1f} µs per answer)")
        past = []
        for _ in range(args.past):
            at = rng.randrange(1, last)
            ms, found = _ms(engine, QUERY, at)
            past.append((ms, len(found)))
        print("as of random times: " + "; ".join(
            f"{n:,} answers in {ms:,.0f} ms ({ms * 1000 / max(n, 1):.1f} µs each)"
            for ms, n in past))

        # Before `@`: one as-of query per trade, from Python (tables per as-of time).
        sample = rng.sample(rows, min(args.loop, len(rows)))
        loop, mismatches = [], 0
        for _, c, s, q, t in sample:
            ms, found = _ms(engine, f'current_position("{c}", "{s}", q, _, _)', t)
            loop.append(ms)
            mismatches += (found[0][0] if found else 0) != q
        total = sum(loop)
        print(f"before @, one current_position query as of each trade's tick "
              f"({len(sample)} trades' parties): {total / len(sample) * 1000:,.0f} µs per "
              f"answer (p50 {_pct(loop, .5):.2f} ms, p99 {_pct(loop, .99):.2f} ms); "
              f"answers differing from position_at_trade: {mismatches}")

        asked = [(rng.choice(CLIENTS), rng.choice(SYMBOLS), rng.randrange(1, last))
                 for _ in range(args.lookups)]
        at_query = [_ms(engine, f'current_position("{c}", "{s}", q, a, r) @ {at}')[0]
                    for c, s, at in asked]
        as_of_query = [_ms(engine, f'current_position("{c}", "{s}", q, a, r)', at)[0]
                       for c, s, at in asked]
        for name, times in (("with @ in the query", at_query),
                            ("as an as-of query", as_of_query)):
            print(f"position of one client and symbol at a random time, {name} "
                  f"({args.lookups} calls): p50 {_pct(times, .5):.2f} ms, "
                  f"p99 {_pct(times, .99):.2f} ms, min {min(times):.2f} ms")
        inside = []  # the same lookups' own CPU inside Prolog: no hand-off, no queue
        for c, s, at in asked:
            goal = (f"tl_timed(forall({engine.module}:'at:current_position'({at}, "
                    f"'{c}', '{s}', _, _, _), true))")
            inside.append(engine._prolog.request(goal)["seconds"] * 1000)
        if inside:
            print(f"the same, inside Prolog ('at:current_position', CPU): p50 "
                  f"{_pct(inside, .5):.3f} ms, p99 {_pct(inside, .99):.3f} ms")
        print(f"({_load()})")
    store.close()


def steps(store, before, after, after_time: int, count: int) -> int:
    """The events of `count` ticks after `after_time`, one tick per batch into both
    engines, each followed by a now-query of position_at_trade (`limit=1`: the incremental
    step, not the rows' transfer); in full (before) and from the earliest new time on
    (after), alternating. Returns the seq to resume the replay from."""
    ticks: dict[int, list] = {}
    resume = None
    for event in store.read(from_time=after_time + 1, to_time=after_time + count):
        if event.time > after_time:
            ticks.setdefault(event.time, []).append(event)
            resume = event.seq + 1 if resume is None else max(resume, event.seq + 1)
    times: dict[str, list[float]] = {"before": [], "after": []}
    moved = [tick for tick in sorted(ticks)  # ticks whose events change positions
             if any(e.type.startswith("Position") for e in ticks[tick])]
    for name, one in (("before", before), ("after", after)):  # materialised first
        increment.TIME_RANGES = name == "after"
        _ms(one, QUERY)
    for tick in sorted(ticks):
        for name, one in (("before", before), ("after", after)):
            increment.TIME_RANGES = name == "after"  # for a re-plan within the call
            replay(store, one, from_seq=ticks[tick][0].seq, to_time=tick)
            start = time.perf_counter()
            one.query(QUERY, limit=1, timeout=None)
            times[name].append((time.perf_counter() - start) * 1000)
    increment.TIME_RANGES = True
    order = sorted(ticks)
    for label, chosen in (("with position events", moved),
                          ("without", [t for t in order if t not in moved])):
        if not chosen:
            continue
        b, a = (statistics.median(times[n][order.index(t)] for t in chosen)
                for n in ("before", "after"))
        print(f"incremental step, {len(chosen)} ticks {label} "
              f"({sum(len(ticks[t]) for t in chosen)} events), then {QUERY} now: derived "
              f"in full p50 {b:,.1f} ms; from the earliest new time on p50 {a:,.1f} ms "
              f"({b / a:.1f}x)")
    print()
    return resume


POINT = ('current_position("client-2", "MSFT", q, a, r)',
         'pending_order(o, "client-3", "AAPL", s, q, p)')  # bench/http.py's
END_OF_TIME = 2**62  # api/live.py's: how the service asks about now
PER_APPEND = 20  # bench/http.py: 200 queries/s, 10 appends/s


def mix(store, appends: int) -> None:
    """bench/http.py's queries inside two engines, before and after, in one run."""
    last = max(event.time for event in store.read(from_seq=max(1, len(store) - 5)))
    ticks = 10_000
    print(f"{platform.node()} {platform.machine()}, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {len(store):,} events, "
          f"last time {last}; {_load()}")
    program = load_program([RULES])
    before = SwiplEngine(program, invalidate_by_time=False, untabled_budget=None)
    after = SwiplEngine(program)
    engines = {"before": before, "after": after}
    try:
        start = time.perf_counter()
        replay(store, after)
        before.restore_state(after.dump_state())  # the same program: one replay for both
        print(f"replay and restore: {time.perf_counter() - start:.1f} s; {_load()}")
        for text in POINT:  # first answers: prepared queries, forms, JIT indexes
            for engine in engines.values():
                for at in (END_OF_TIME, 1, ticks // 2):
                    engine.query(text, as_of=at, timeout=None)
        times: dict[tuple[str, str, str], list[float]] = {}
        for name, engine in engines.items():  # one after the other: one Prolog thread
            # serves both, and one engine's tables slowed the other's queries when they
            # alternated; each is closed after its turn, its tables freed
            _mix_phase(engine, name, appends, len(store) + 1_000_000, last + 1, ticks, times)
            engine.close()
        print(f"{appends} appends of 10 prices, {appends * PER_APPEND} queries per engine; "
              f"{_load()}")
        for measure in ("wall", "cpu"):
            print(f"\n{measure} ms per query\n")
            print("| query | kind | before p50 / p99 | after p50 / p99 | p50 ratio |")
            print("|---|---|---:|---:|---:|")
            for (what, name, relation, kind), values in times.items():
                if what != measure or name != "before":
                    continue
                done = times[(measure, "after", relation, kind)]
                b, a = _pct(values, .5), _pct(done, .5)
                print(f"| {relation} | {kind} | {b:.2f} / {_pct(values, .99):.2f} | "
                      f"{a:.2f} / {_pct(done, .99):.2f} | {b / max(a, 1e-3):.1f}x |")
    finally:
        before.close()
        after.close()
    store.close()


def _mix_phase(engine, name: str, appends: int, seq: int, moment: int, ticks: int,
               times: dict) -> None:
    """One engine's run of the mix: the same appends and queries for every engine."""
    rng = random.Random(11)
    for n in range(appends):
        batch = FactBatch(engine)
        for i in range(10):
            event = Event("PriceUpdated", moment + i, "market-BENCH",
                          {"symbol": "BENCH", "price": 10_000 + i}, f"bench-{n}-{i}",
                          version=10 * n + i + 1)
            batch.add(event.type, event.payload, event.time, seq + i, envelope_of(event))
        engine.assert_many({relation: (rows, seqs)  # one write, as the service's
                            for relation, rows, seqs in batch.take()})
        moment, seq = moment + 10, seq + 10
        for i in range(PER_APPEND):
            text = rng.choice(POINT)
            now = i % 2 == 0
            at = END_OF_TIME if now else rng.randint(1, ticks)
            started, cpu = time.perf_counter(), time.process_time()
            engine.query(text, as_of=at, timeout=None)
            ms = (time.perf_counter() - started) * 1000
            cpu_ms = (time.process_time() - cpu) * 1000  # this process's, Prolog's included
            kind = "now" if now else "as of a random tick"
            for key in ((text.split("(")[0], kind), ("all", "all")):
                times.setdefault(("wall", name) + key, []).append(ms)
                times.setdefault(("cpu", name) + key, []).append(cpu_ms)
    print(f"{name}: done; {_load()}")


if __name__ == "__main__":
    main()
