"""Benchmark the join planner: the seed's rules written in a bad and a good atom order; not a test.

    python -m bench.join_order                 # the default run's events (10,000 ticks)
    python -m bench.join_order --ticks 2000    # a smaller run

Each rule (wash trade, pending orders, positions, velocity) is written twice, in the order
a user might think of it and in a good one, as two relations of one program. The events
of one simulation are loaded into two engines, with and without the planner; each
relation is then evaluated (counted) on its own, cold, in turn, several times, and the
median CPU time inside Prolog is kept. A ratio is the worse order's time over the better's.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine import program_from_source  # noqa: E402
from engine.backends.swipl.backend import SwiplEngine  # noqa: E402
from sim.config import SimConfig  # noqa: E402
from sim.exchange.simulator import simulate  # noqa: E402
from sim.facts import fact_of  # noqa: E402

EVENTS = Path(__file__).resolve().parents[1] / "rules" / "events.dl"

# (name, written badly, written well): the bad order joins on a column with few values
# (client, symbol, side) before the atom that would bind a key.
RULES = [
    ("wash_trade",
     "wash_trade_{v}(tr, c, s) :- {body}.",
     ['order_submitted(b, c, s, "buy", _, _, _, _, _)',
      'order_submitted(o, c, s, "sell", _, _, _, _, _)',
      "trade_executed(tr, s, b, o, c, c, _, _, _, _)"],
     [2, 0, 1]),
    ("pending_order",
     "pending_order_{v}(o, c, s, q) :- {body}, !order_done(o).",
     ['risk_checked(o, c, s, "passed", _, _, _, _, _)', "order_accepted(o, _)",
      "order_submitted(o, c, s, _, q, _, _, _, _)"],
     [2, 1, 0]),
    ("position",
     "position_{v}(c, s, q, t) :- {body}.",
     ["account_opened(c, _, _, _, _, _, _)", "trade_executed(tr, s, _, _, c, _, _, _, _, t)",
      "position_opened(c, s, tr, _, q, _, _, _, _, _)"],
     [2, 1, 0]),
    ("velocity",
     "velocity_{v}(o, n) :- {body}, n = count : {{ order_submitted(_, c, _, _, _, _, _, _, "
     "t2), t2 <= t, t2 > t - w }}.",
     ["account_opened(c, _, _, _, w, _, _)", "order_rejected(o, _, _)",
      "order_submitted(o, c, _, _, _, _, _, _, t)"],
     [1, 2, 0]),
]
SUPPORT = """
.decl order_done(order: symbol)
order_done(o) :- order_filled(o, _, _, _, _).
order_done(o) :- order_cancelled(o, _, _, _).
order_done(o) :- order_expired(o, _, _).
"""


def facts(ticks: int) -> dict[str, list[tuple]]:
    rows: dict[str, list[tuple]] = {}
    for event in simulate(SimConfig(ticks=ticks)):
        relation, row = fact_of(event.type, event.payload, event.time)
        rows.setdefault(relation, []).append(row)
    return rows


def evaluate_once(engine: SwiplEngine, relation: str, limit: float) -> float | None:
    """CPU seconds inside Prolog to evaluate the program from cold and count `relation`."""
    engine._prolog.request(f"tl_call_json(nb_setval('bu:{engine.module}', full))")
    arity = engine.program.relations[relation].arity
    body = f"{relation}({', '.join('_' * arity)})"
    start = time.process_time()
    try:
        engine.query(f"n = count : {{ {body} }}", timeout=limit)
    except Exception:  # noqa: BLE001 - a time-out: recorded as "over the limit"
        return None
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--limit", type=float, default=120, help="seconds per evaluation")
    parser.add_argument("--rules", default=",".join(r[0] for r in RULES))
    args = parser.parse_args()
    rows = facts(args.ticks)
    print(f"# {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load "
          f"{os.getloadavg()[0]:.1f}; {args.ticks} ticks, {sum(map(len, rows.values()))} events")
    # One engine per rule and variant: the program holds only that rule (and order_done),
    # so an evaluation measures that rule alone.
    print("| rule | planner | bad order s | good order s | bad / good |")
    print("|---|---|---:|---:|---:|")
    for name, template, atoms, good in RULES:
        if name not in args.rules.split(","):
            continue
        for plan_joins in (False, True):
            times = {}
            for variant, order in (("bad", range(len(atoms))), ("good", good)):
                text = "\n".join([EVENTS.read_text(), SUPPORT, template.format(
                    v=variant, body=", ".join(atoms[i] for i in order))])
                engine = SwiplEngine(program_from_source(text, "join_order.dl"),
                                     plan_joins=plan_joins)
                try:
                    engine.assert_many({r: (v, None) for r, v in rows.items()
                                        if r in engine.program.relations})
                    engine.query("n = count : { order_done(_) }", timeout=None)  # plans
                    runs = [evaluate_once(engine, f"{name}_{variant}", args.limit)
                            for _ in range(args.runs)]
                finally:
                    engine.close()
                done = [r for r in runs if r is not None]
                times[variant] = statistics.median(done) if len(done) == len(runs) else None
            bad, good_s = times["bad"], times["good"]
            ratio = f"{bad / good_s:.2f}" if bad and good_s else f"> {args.limit / good_s:.0f}" \
                if good_s else "-"
            show = [f"{t:.3f}" if t is not None else f"> {args.limit:g}" for t in (bad, good_s)]
            print(f"| {name} | {'on' if plan_joins else 'off'} | {show[0]} | {show[1]} "
                  f"| {ratio} |", flush=True)


if __name__ == "__main__":
    main()
