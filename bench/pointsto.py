"""Benchmark a generated points-to analysis shaped like Soufflé's hmmer example; not a test.

    python -m bench.pointsto                        # clingo, swipl and pydatalog side by side
    python -m bench.pointsto --backends swipl-tabled   # SWI-Prolog's tabled (as-of) path
    python -m bench.pointsto --facts 5000           # a smaller program
    python -m bench.pointsto --write DIR            # the .dl and its facts as CSV, to look at
    python -m bench.pointsto --worker swipl 50000   # one measurement, JSON out
    python -m bench.pointsto --backends swipl --baseline DIR   # and DIR's checkout, alternating

The program has hmmer's shape: a C points-to analysis with 7 mutually recursive relations
(points-to, heap points-to, reachability through the heap, assignments, the call graph,
reachable functions and call sites), stratified negation inside the recursion (on input
relations) and after it (on its results), ~24 rules. The facts are a generated C program
(functions with local variables, globals, allocations, loads, stores, direct and indirect
calls); seed 1 and ~50,000 facts by default. Each backend runs in a fresh process, under a
time limit and a memory cap, and prints its time, peak memory and a digest of every answer.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import re
import resource
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PROGRAM = """
.decl alloc(var: symbol, obj: symbol)             // var = &obj, var = malloc()
.decl assign(to: symbol, from: symbol)            // to = from
.decl load(to: symbol, base: symbol)              // to = *base
.decl store(base: symbol, from: symbol)           // *base = from
.decl memcpy(dst: symbol, src: symbol)            // memcpy(dst, src, ...)
.decl call_direct(site: symbol, func: symbol)
.decl call_indirect(site: symbol, fptr: symbol)   // (*fptr)(...)
.decl call_vtable(site: symbol, table: symbol)    // (*table->slot)(...)
.decl actual_arg(site: symbol, i: number, var: symbol)
.decl formal_arg(func: symbol, i: number, var: symbol)
.decl return_var(func: symbol, var: symbol)
.decl call_result(site: symbol, var: symbol)
.decl function_object(obj: symbol, func: symbol)
.decl in_function(site: symbol, func: symbol)
.decl entry(func: symbol)
.decl global(var: symbol)
.decl non_pointer(var: symbol)                    // declared as an integer

// ---- the recursive core: 7 mutually recursive relations ----
.decl is_ptr(var: symbol, obj: symbol)
is_ptr(v, o) :- alloc(v, o).
is_ptr(to, o) :- flows(to, from), is_ptr(from, o), !non_pointer(to).
is_ptr(to, o) :- load(to, base), is_ptr(base, b), heap_ptr(b, o).

.decl heap_ptr(obj: symbol, target: symbol)
heap_ptr(b, o) :- store(base, from), is_ptr(base, b), is_ptr(from, o).
heap_ptr(d, o) :- memcpy(dst, src), is_ptr(dst, d), is_ptr(src, s), heap_ptr(s, o).

.decl is_reachable(obj: symbol, target: symbol)
is_reachable(o, t) :- heap_ptr(o, t).
is_reachable(o, t) :- is_reachable(o, m), heap_ptr(m, t).

.decl flows(to: symbol, from: symbol)
flows(to, from) :- assign(to, from).
flows(f, a) :- call_edge(s, fn), actual_arg(s, i, a), formal_arg(fn, i, f).
flows(r, v) :- call_edge(s, fn), return_var(fn, v), call_result(s, r).

.decl call_edge(site: symbol, func: symbol)
call_edge(s, f) :- call_direct(s, f), reachable_site(s).
call_edge(s, f) :- call_indirect(s, p), reachable_site(s), is_ptr(p, o), function_object(o, f).
call_edge(s, f) :- call_vtable(s, p), reachable_site(s), is_ptr(p, t),
                   is_reachable(t, o), function_object(o, f).

.decl reachable_function(func: symbol)
reachable_function(f) :- entry(f).
reachable_function(f) :- call_edge(_, f).

.decl reachable_site(site: symbol)
reachable_site(s) :- in_function(s, f), reachable_function(f).

// ---- after the recursion: negation of its results ----
.decl has_target(var: symbol)
has_target(v) :- is_ptr(v, _).
.decl null_deref(var: symbol)
null_deref(v) :- load(_, v), !has_target(v).
.decl escapes(obj: symbol)
escapes(o) :- global(g), is_ptr(g, p), is_reachable(p, o).
escapes(o) :- global(g), is_ptr(g, o).
.decl local_object(obj: symbol)
local_object(o) :- alloc(_, o), !escapes(o).
.decl dead_function(func: symbol)
dead_function(f) :- in_function(_, f), !reachable_function(f).
.decl pointed_to(obj: symbol)
pointed_to(o) :- is_ptr(_, o).
.decl unused_object(obj: symbol)
unused_object(o) :- function_object(o, _), !pointed_to(o).
"""
LOCALS = 24  # variables per function
SCALAR_PARAMETER = 0.3  # how often a parameter or a result is an integer
INPUTS = ["alloc", "assign", "load", "store", "memcpy", "call_direct", "call_indirect",
          "call_vtable", "actual_arg", "formal_arg", "return_var", "call_result",
          "function_object", "in_function", "entry", "global", "non_pointer"]

DERIVED = sorted(set(re.findall(r"^([a-z_]+)\(", PROGRAM, re.M)) - set(INPUTS))


def generate(n_facts: int = 50_000, seed: int = 1) -> dict[str, list[tuple]]:
    """A generated C program as input facts, about `n_facts` of them."""
    rng = random.Random(seed)
    functions = max(4, n_facts // 54)  # each function contributes ~54 facts
    globals_ = [f"g{i}" for i in range(max(2, functions // 8))]
    facts: dict[str, list[tuple]] = {name: [] for name in INPUTS}
    facts["global"] = [(g,) for g in globals_]
    facts["entry"] = [("f0",)]
    for f in range(functions):
        name = f"f{f}"
        facts["function_object"].append((f"fo{f}", name))
        local = [f"{name}.v{i}" for i in range(LOCALS)]
        formals, result = local[:2], local[2]
        facts["formal_arg"] += [(name, i, v) for i, v in enumerate(formals)]
        facts["return_var"].append((name, result))
        # integers: the last few locals, and often a parameter or the result, which
        # keeps points-to sets from flowing along every call chain
        facts["non_pointer"] += [(v,) for v in local[-4:]]
        facts["non_pointer"] += [(v,) for v in local[:3] if rng.random() < SCALAR_PARAMETER]

        def near(i: int, local=local) -> str:  # used close to another: short def-use chains
            return local[max(0, min(LOCALS - 1, i + rng.randint(-3, 3)))]

        for i in range(3):  # heap and stack objects
            facts["alloc"].append((local[rng.randrange(LOCALS)], f"{name}.o{i}"))
        facts["alloc"].append((local[rng.randrange(LOCALS)], f"fo{rng.randrange(functions)}"))
        for _ in range(10):  # assignments, a few through globals
            i = rng.randrange(LOCALS)
            a, b = local[i], near(i)
            if rng.random() < 0.02:
                a = rng.choice(globals_)
            elif rng.random() < 0.02:
                b = rng.choice(globals_)
            facts["assign"].append((a, b))
        for _ in range(3):
            i = rng.randrange(LOCALS)
            facts["load"].append((local[i], near(i)))
            i = rng.randrange(LOCALS)
            facts["store"].append((local[i], near(i)))
        if rng.random() < 0.1:
            i = rng.randrange(LOCALS)
            facts["memcpy"].append((local[i], near(i)))
        for c in range(5):  # call sites: mostly direct, near in the call graph
            site = f"{name}.c{c}"
            facts["in_function"].append((site, name))
            roll = rng.random()
            if roll < 0.8:
                callee = (f + 1 + int(rng.expovariate(1 / 20))) % functions
                facts["call_direct"].append((site, f"f{callee}"))
            elif roll < 0.95:
                facts["call_indirect"].append((site, rng.choice(local)))
            else:
                facts["call_vtable"].append((site, rng.choice(local)))
            facts["actual_arg"] += [(site, i, rng.choice(local)) for i in range(2)]
            facts["call_result"].append((site, rng.choice(local)))
    return facts


def digest(rows) -> str:
    """A digest of a set of rows that does not depend on their order or the backend."""
    text = "\n".join(sorted(json.dumps(list(row)) for row in rows))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def as_clingo(program: str) -> str:
    """The program in clingo's syntax: variables capitalised, `!` as `not`, no declarations."""
    rules = []
    for line in program.splitlines():
        line = line.split("//")[0].strip()
        if line.startswith(".decl") or not line:
            continue
        line = re.sub(r"(?<![\w.])([a-z]\w*)(?!\w*\()", lambda m: m.group(1).upper(), line)
        rules.append(line.replace("!", "not "))
    return "\n".join(rules) + "\n"


def clingo_answers(facts: dict[str, list[tuple]]) -> dict[str, set[tuple]]:
    """The program grounded by clingo (its bottom-up semi-naive grounder, in C++)."""
    import clingo

    control = clingo.Control(["--warn=none"])
    text = [as_clingo(PROGRAM)]
    for name, rows in facts.items():
        text += [f"{name}({','.join(json.dumps(v) for v in row)})." for row in rows]
    control.add("base", [], "\n".join(text))
    control.ground([("base", [])])
    answers: dict[str, set[tuple]] = {}
    for atom in control.symbolic_atoms:
        symbol = atom.symbol
        answers.setdefault(symbol.name, set()).add(tuple(
            arg.string if arg.type == clingo.SymbolType.String else arg.number
            for arg in symbol.arguments))
    return answers


def tabled_answers(facts: dict[str, list[tuple]]) -> dict[str, set[tuple]]:
    """Every derived relation through SWI-Prolog's goal-directed tables (as-of queries)."""
    from engine import open_engine, program_from_source

    program = program_from_source(PROGRAM, "pointsto.dl")
    with open_engine(program, "swipl") as engine:
        for name, rows in facts.items():
            engine.assert_facts(name, rows)
        arity = {name: program.relations[name].arity for name in DERIVED}
        return {name: set(engine.query(f"{name}({', '.join(f'c{i}' for i in range(n))})",
                                       as_of=2**62, timeout=None).rows)
                for name, n in arity.items()}


def worker(backend: str, n_facts: int, seed: int) -> dict:
    """Evaluate the whole program once in this process; time, peak memory, answers."""
    from engine import evaluate

    facts = generate(n_facts, seed)
    start = time.perf_counter()
    cpu = time.process_time()
    if backend == "clingo":
        answers = clingo_answers(facts)
    elif backend == "swipl-tabled":  # as of a time after every fact: the tabled path
        answers = tabled_answers(facts)
    else:
        answers = evaluate(PROGRAM, facts, backend=backend, path="pointsto.dl")
    wall = time.perf_counter() - start
    return {
        "backend": backend, "facts": sum(len(rows) for rows in facts.values()),
        "wall_s": round(wall, 2), "cpu_s": round(time.process_time() - cpu, 2),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "tuples": {name: len(answers.get(name, ())) for name in DERIVED},
        "digest": {name: digest(answers.get(name, ())) for name in DERIVED},
    }


def run_child(backend: str, n_facts: int, seed: int, limit_s: float, cap_mb: int,
              checkout: Path | None = None) -> dict:
    """One worker in a fresh process, killed past `limit_s` seconds or `cap_mb` of memory;
    `checkout`: run that checkout's engine and benchmark instead of this one's."""
    command = [sys.executable, "-m", "bench.pointsto", "--worker", backend, str(n_facts),
               "--seed", str(seed)]
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, cwd=checkout or Path(__file__).resolve().parents[1])
    peak, why = [0], [None]

    def watch():
        while child.poll() is None:
            try:
                with open(f"/proc/{child.pid}/status") as status:
                    rss = next(int(line.split()[1]) // 1024 for line in status
                               if line.startswith("VmRSS:"))
            except (OSError, StopIteration):
                rss = 0
            peak[0] = max(peak[0], rss)
            elapsed = time.perf_counter() - start
            if rss > cap_mb or elapsed > limit_s:
                why[0] = (f"killed at {rss} MB" if rss > cap_mb
                          else f"killed after {elapsed:.0f} s")
                child.kill()
                return
            time.sleep(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    out, err = child.communicate()
    watcher.join()
    if why[0] or child.returncode != 0:
        tail = err.strip().splitlines()[-1:] if err.strip() else []
        return {"backend": backend, "checkout": str(checkout or "."),
                "failed": why[0] or f"exit {child.returncode}",
                "wall_s": round(time.perf_counter() - start, 1), "peak_mb": peak[0],
                "error": tail[0][:200] if tail else ""}
    return {"checkout": str(checkout or "."), **json.loads(out.strip().splitlines()[-1])}


def write(directory: Path, n_facts: int, seed: int) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "pointsto.dl").write_text(PROGRAM.lstrip())
    for name, rows in generate(n_facts, seed).items():
        lines = ["\t".join(str(value) for value in row) for row in rows]
        (directory / f"{name}.facts").write_text("".join(line + "\n" for line in lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facts", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--backends", default="clingo,swipl,pydatalog")
    parser.add_argument("--limit", type=float, default=600, help="seconds per backend")
    parser.add_argument("--cap", type=int, default=3000, help="MB of memory per backend")
    parser.add_argument("--worker", nargs=2, metavar=("BACKEND", "FACTS"))
    parser.add_argument("--write", type=Path, metavar="DIR")
    parser.add_argument("--baseline", type=Path, metavar="DIR",
                        help="also run each backend from this checkout (e.g. main), alternating")
    parser.add_argument("--runs", type=int, default=1, help="runs of each backend")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker[0], int(args.worker[1]), args.seed)))
        return
    if args.write:
        write(args.write, args.facts, args.seed)
        return
    print(f"# {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load "
          f"{os.getloadavg()[0]:.1f}")
    checkouts = [None] + ([args.baseline.resolve()] if args.baseline else [])
    results = []
    for _ in range(args.runs):
        for backend in args.backends.split(","):
            for checkout in checkouts:
                results.append(run_child(backend, args.facts, args.seed, args.limit,
                                         args.cap, checkout))
                print(json.dumps(results[-1]), flush=True)
    if args.runs > 1 or args.baseline:
        for backend in args.backends.split(","):
            for checkout in checkouts:
                runs = [r for r in results if r["backend"] == backend and "cpu_s" in r
                        and r["checkout"] == str(checkout or ".")]
                if runs:
                    print(f"median {backend} @ {checkout or '.'}: "
                          f"cpu {statistics.median(r['cpu_s'] for r in runs):.2f} s, "
                          f"wall {statistics.median(r['wall_s'] for r in runs):.2f} s, "
                          f"peak {statistics.median(r['peak_mb'] for r in runs):.0f} MB "
                          f"({len(runs)} runs)")
    done = [r for r in results if "digest" in r]
    if len(done) > 1:
        same = all(r["digest"] == done[0]["digest"] for r in done)
        print("same answers on " + ", ".join(r["backend"] for r in done) + f": {same}")


if __name__ == "__main__":
    main()
