"""Benchmark explain and check on the default simulation (issue #10); not a test.

    python -m bench.explain                      # simulates var/bench-explain.db if missing
    python -m bench.explain --db var/events.db   # an existing store (e.g. `make demo`'s)
    python -m bench.explain --rules rules        # every shipped rule file, not only the invariants'

Targets: explain of a current_position answer <= 50 ms; check of the shipped invariants,
with a planted violation and its first-violation search, <= 2 s. Loading the store into
the engine, and the first evaluation of every relation "now" that follows it, are timed on
their own and are part of neither figure. By default the engine holds the files of the
shipped invariants (rules/invariants.dl, which includes orders.dl and positions.dl, and
rules/examples/graph.dl) and tests/rules/planted.dl; with `--rules rules` every shipped file,
whose first evaluation (order_book, trade_history …) takes minutes.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.cli.explain import event_at  # noqa: E402
from engine import Engine  # noqa: E402
from sim import open_store, replay  # noqa: E402

PLANTED = ROOT / "tests" / "rules" / "planted.dl"
INVARIANT_FILES = [ROOT / "rules" / "invariants.dl", ROOT / "rules" / "examples" / "graph.dl"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=ROOT / "var" / "bench-explain.db")
    parser.add_argument("--backend", default="swipl")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rules", type=Path, action="append",
                        help="rule files or folders (default: the shipped invariants' files)")
    args = parser.parse_args()
    if not args.db.exists():
        print(f"simulating the default run into {args.db} …", flush=True)
        subprocess.run([sys.executable, "-m", "api.cli.app", "sim", "--db", str(args.db),
                        "--quiet"], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    chosen = args.rules or INVARIANT_FILES
    rules = [f for p in chosen for f in (sorted(p.rglob("*.dl")) if p.is_dir() else [p])]
    rules.append(PLANTED)
    store = open_store(str(args.db))
    engine = Engine.from_files(rules, backend=args.backend)
    started = time.perf_counter()
    events = replay(store, engine)
    loaded = time.perf_counter() - started
    print(f"{platform.node()} · {platform.processor() or platform.machine()} · "
          f"Python {platform.python_version()} · {time.strftime('%Y-%m-%d %H:%M')}")
    print(f"backend {args.backend}: {events:,} events loaded in {loaded:.1f} s (not counted)")
    started = time.perf_counter()
    any_relation = next(iter(engine.program.relations.values()))
    engine.query(f"{any_relation.name}({', '.join(['_'] * any_relation.arity)})", limit=1,
                 timeout=None)  # a first question "now" evaluates every relation
    print(f"first evaluation of every relation now: {time.perf_counter() - started:.1f} s "
          "(not counted)")

    positions = engine.query("current_position(c, s, q, a, r)").rows
    timings = []
    for _ in range(args.rounds):
        for client, symbol, *_ in positions:
            started = time.perf_counter()
            engine.explain(f'current_position("{client}", "{symbol}", q, a, r)',
                           events=event_at(store))
            timings.append(time.perf_counter() - started)
    print(f"explain current_position (x{len(timings)}, {len(positions)} answers): median "
          f"{statistics.median(timings) * 1e3:.1f} ms, max {max(timings) * 1e3:.1f} ms "
          "(target <= 50 ms)")

    from engine.explain.checking import check_invariant

    for invariant in engine.program.invariants:  # each on its own: what each search costs
        started = time.perf_counter()
        result = check_invariant(engine, invariant, events=event_at(store))
        first = "holds" if result.holds else (
            f"first at t={result.first_time} ({result.search.how}, "
            f"{result.search.questions} as-of questions)")
        where = Path(invariant.pos.path).resolve().relative_to(ROOT)
        print(f"  {invariant.name} ({where}:{invariant.pos.line}): {first}, "
              f"{time.perf_counter() - started:.2f} s")
        if not result.holds:
            print(f"    side by side, the search alone: {search_alone(engine, invariant)}")
    checks = []
    for _ in range(args.rounds):
        started = time.perf_counter()
        report = engine.check(events=event_at(store))
        checks.append(time.perf_counter() - started)
    violated = ", ".join(f"{r.name} first at t={r.first_time}" for r in report.violated)
    print(f"check of {len(report.results)} invariants ({violated}): first run "
          f"{checks[0]:.2f} s, median {statistics.median(checks):.2f} s (target <= 2 s)")
    engine.close()
    store.close()


def search_alone(engine, invariant) -> str:
    """The exact first-time search against the bisection it replaced, on warm tables."""
    from engine.explain.timeline import first_time, first_true, relations_read, time_span
    from engine.lang import pretty

    text = pretty.body(invariant.body)
    columns = engine.query(text, timeout=None).columns

    def holds(t: int) -> bool:
        return bool(engine.query(text, as_of=t, limit=1, timeout=None).rows)

    started = time.perf_counter()
    exact = first_time(engine, invariant.body, holds, columns=columns).time
    exact_s = time.perf_counter() - started
    started = time.perf_counter()
    span = time_span(engine, relations_read(engine.program, invariant.body))
    bisected = first_true(span, holds)
    bisected_s = time.perf_counter() - started
    return (f"exact t={exact} in {exact_s:.2f} s; bisection t={bisected} in "
            f"{bisected_s:.2f} s ({bisected_s / exact_s:.1f}x)")


if __name__ == "__main__":
    main()
