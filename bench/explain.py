"""Benchmark explain and check on the default simulation (issue #10); not a test.

    python -m bench.explain                      # simulates var/bench-explain.db if missing
    python -m bench.explain --db var/events.db   # an existing store (e.g. `make demo`'s)

Targets: explain of a current_position answer <= 50 ms; check of the shipped invariants,
with a planted violation and its first-violation search, <= 2 s. Loading the store into
the engine is timed on its own and is not part of either figure.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=ROOT / "var" / "bench-explain.db")
    parser.add_argument("--backend", default="swipl")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not args.db.exists():
        print(f"simulating the default run into {args.db} …", flush=True)
        subprocess.run([sys.executable, "-m", "api.cli.app", "sim", "--db", str(args.db),
                        "--quiet"], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    rules = sorted((ROOT / "rules").rglob("*.dl")) + [PLANTED]
    store = open_store(str(args.db))
    engine = Engine.from_files(rules, backend=args.backend)
    started = time.perf_counter()
    events = replay(store, engine)
    loaded = time.perf_counter() - started
    print(f"{platform.node()} · {platform.processor() or platform.machine()} · "
          f"Python {platform.python_version()} · {time.strftime('%Y-%m-%d %H:%M')}")
    print(f"backend {args.backend}: {events:,} events loaded in {loaded:.1f} s (not counted)")

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
        first = "holds" if result.holds else f"first at t={result.first_time}"
        where = Path(invariant.pos.path).resolve().relative_to(ROOT)
        print(f"  {invariant.name} ({where}:{invariant.pos.line}): {first}, "
              f"{time.perf_counter() - started:.2f} s")
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


if __name__ == "__main__":
    main()
