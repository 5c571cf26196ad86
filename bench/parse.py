"""Benchmark: parse and analyse a generated 10,000-rule file (target: at most 2 s)."""

from __future__ import annotations

import argparse
import platform
import statistics
import time

from engine.analysis import analyse
from engine.lang.parser import parse


def generate(rules: int) -> str:
    """A program shaped like real rule files: joins, negation, comparisons, aggregates."""
    lines = [
        ".event order_submitted(order: symbol, client: symbol, symbol: symbol, "
        "qty: number, price: number, t: time)",
        ".event order_filled(order: symbol, qty: number, t: time)",
        ".decl watch(client: symbol)",
    ]
    for i in range(rules):
        kind = i % 4
        if kind == 0:
            lines.append(f'r{i}(o, c) :- order_submitted(o, c, "S{i % 50}", q, p, t), '
                         f"q > {i % 100}, p * q >= {i}.")
        elif kind == 1:
            lines.append(f"r{i}(o, c) :- r{i - 1}(o, c), !order_filled(o, _, _), watch(c).")
        elif kind == 2:
            lines.append(f"r{i}(c, n) :- watch(c), n = count : {{ r{i - 2}(_, c) }}.")
        else:
            lines.append(f"r{i}(c, s) :- watch(c), s = sum q : {{ order_submitted(o, c, _, q, _, "
                         f"_), r{i - 3}(o, c) }}.")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rules", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    text = generate(args.rules)
    parse_times, analyse_times = [], []
    for _ in range(args.runs):
        started = time.perf_counter()
        rule_file = parse(text, "bench.dl")
        parsed = time.perf_counter()
        program = analyse([rule_file])
        done = time.perf_counter()
        parse_times.append(parsed - started)
        analyse_times.append(done - parsed)
    totals = [p + a for p, a in zip(parse_times, analyse_times)]
    print(f"machine: {platform.processor() or platform.machine()}, "
          f"python {platform.python_version()}")
    print(f"{args.rules} rules, {len(text) / 1e6:.2f} MB, {len(program.strata)} strata, "
          f"{args.runs} runs")
    print(f"parse   median {statistics.median(parse_times):.3f} s")
    print(f"analyse median {statistics.median(analyse_times):.3f} s")
    print(f"total   median {statistics.median(totals):.3f} s  "
          f"(min {min(totals):.3f}, max {max(totals):.3f}; target <= 2 s)")


if __name__ == "__main__":
    main()
