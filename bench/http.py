"""Benchmark `tempolog serve`: POST /query under load while the store grows, and POST /events.

    .venv/bin/python -m bench.http [--db var/bench-http.db] [--seconds 30] [--rate 200]
                                   [--source DIR]

(as a module: run as a script, this file would hide the standard library's `http`).

First a sequential probe on a quiet store (one request at a time: what a request costs).
Then eight client processes share --rate requests per second (open loop: each request is
sent at its planned time, so a slow answer delays no later one), half point queries now and
half as of a random tick, for --seconds, while another process appends price events to the
store. Then one client appends one order's events per request. Latencies in milliseconds:
the client's (send to last byte) and the server's own (its `Server-Timing: app` header, from
the request's arrival in the application to its answer, when the server sends one). Last,
where the load's slowest 1% spent their time by the server's account (waiting for a worker
thread, for the Prolog thread, the engine, the rest), the probe's five slowest as-of
requests at random ticks by their place in the probe (slow first requests are warm-up, slow
later ones are not), and the share of CPU time the hypervisor took during the load (steal):
on a shared VM, a run's tail follows it.

The clients are processes, each with one keep-alive `http.client` connection: on the same
2 cores as the server, eight httpx clients in one process spent more CPU per request than
the server and queued behind each other's GIL, which the figure then included.
`--source DIR` serves from another checkout (e.g. a worktree of main: the figure before).
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from bench.machine import as_percent, cpu_times, stolen

ROOT = Path(__file__).resolve().parent.parent
TEMPOLOG = str(Path(sys.executable).parent / "tempolog")
RULES = ROOT / "rules" / "trading.dl"
CLIENTS = 8
TICKS = 10_000  # of the default simulation
POINT = ('current_position("client-2", "MSFT", q, a, r)',
         'pending_order(o, "client-3", "AAPL", s, q, p)')

APPENDER = """
import sys, time
from sim import open_store
store, until = open_store(sys.argv[1]), time.monotonic() + float(sys.argv[2])
tick = store.stream_version("market-BENCH")  # past the earlier runs' prices on this store
while time.monotonic() < until:  # 100 events a second, 10 per append
    store.append([{"type": "PriceUpdated", "time": 20_000 + tick + i, "stream_id":
                   "market-BENCH", "payload": {"symbol": "BENCH", "price": 10_000 + i}}
                  for i in range(10)])
    tick += 10
    time.sleep(0.1)
"""


class Client:
    """One keep-alive connection; `post` returns (seconds, status, body, server ms)."""

    def __init__(self, url: str):
        host, port = url.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=10)

    def request(self, method: str, path: str, body: dict | None = None, retry: bool = True):
        data = None if body is None else json.dumps(body).encode()
        sent = time.perf_counter()
        try:
            self.conn.request(method, path, data, {"Content-Type": "application/json"})
            response = self.conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()  # reconnects at the next request
            if retry and method == "GET":  # the server closed an idle connection
                return self.request(method, path, body, retry=False)
            return time.perf_counter() - sent, 0, {}, {}
        took = time.perf_counter() - sent
        return took, response.status, json.loads(raw), server_ms(
            response.getheader("server-timing"))

    def get(self, path: str) -> dict:
        return self.request("GET", path)[2]


def server_ms(header: str | None) -> dict[str, float]:
    """The durations of a Server-Timing header: `app;dur=1.2, engine;dur=0.8` -> ms by name."""
    found = {}
    for metric in (header or "").split(","):
        name, *params = metric.strip().split(";")
        for param in params:
            if param.startswith("dur="):
                found[name] = float(param[4:])
    return found


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def row(name: str, samples: list[tuple]) -> str:
    """A table row of (seconds, ok, server ms or None, engine ms or None, cached) samples."""
    ms = [s[0] * 1000 for s in samples]
    server = [s[2] for s in samples if s[2] is not None]
    engine = [s[3] for s in samples if s[3] is not None]
    cached = sum(bool(s[4]) for s in samples)
    errors = sum(not s[1] for s in samples)
    shown = (f"{statistics.median(server):.2f} | {percentile(server, 0.99):.2f}"
             if server else "— | —")
    shown += f" | {statistics.median(engine):.2f}" if engine else " | —"
    return (f"| {name} | {len(ms):,} | {statistics.median(ms):.2f} | {percentile(ms, 0.95):.2f}"
            f" | {percentile(ms, 0.99):.2f} | {max(ms):.1f} | {errors} | {shown} | {cached:,} |")


def query_body(rng: random.Random, n: int) -> dict:
    body = {"query": rng.choice(POINT)}
    if n % 2:
        body["as_of"] = rng.randint(1, TICKS)
    return body


def _sample(answer, ok_status=200) -> tuple:
    """(seconds, ok, server ms, engine or store ms, cached, queue ms, pool ms)."""
    took, status, body, timing = answer
    return (took, status == ok_status, timing.get("app"), timing.get("engine", timing.get(
        "store")), body.get("cached", False), timing.get("queue"), timing.get("pool"))


def tail(samples: list[tuple], share: float = 0.01) -> str:
    """Where the slowest `share` of the samples spent their time, by the server's account:
    means (which add up, unlike medians) of the client's time, the server's, and of a
    miss's waits for a worker thread and for the Prolog thread and its engine time after."""
    slowest = sorted(samples, key=lambda s: -s[0])[:max(1, int(len(samples) * share))]
    kept = sum(bool(s[4]) for s in slowest)
    misses = [s for s in slowest if not s[4] and None not in (s[2], s[3], s[5], s[6])]
    untimed = len(slowest) - kept - len(misses)  # errors, and servers without these metrics

    def mean(values) -> str:
        values = list(values)
        return f"{statistics.fmean(values):.2f}" if values else "—"

    return (f"{len(slowest)} requests, {kept} of them kept answers, {untimed} errors or "
            f"without the server's parts; "
            f"means: client {mean(s[0] * 1000 for s in slowest)} ms, server "
            f"{mean(s[2] for s in slowest if s[2] is not None)}; of the {len(misses)} misses' "
            f"server time {mean(s[2] for s in misses)}: waiting for a worker "
            f"{mean(s[6] for s in misses)}, for the Prolog thread {mean(s[5] for s in misses)}"
            f", the engine after that {mean(s[3] - s[5] for s in misses)}, the rest "
            f"{mean(s[2] - s[3] - s[6] for s in misses)}")


def sequential(url: str, count: int) -> dict[str, list[tuple]]:
    """One request at a time, no appends: the cost of a request, not of queueing."""
    client, rng = Client(url), random.Random(7)
    kinds = {"now (cached after the first)": lambda n: {"query": POINT[n % 2]},
             "as of t=5000 (cached after the first)": lambda n: {"query": POINT[n % 2],
                                                                "as_of": 5000},
             "as of a random tick": lambda n: {"query": POINT[n % 2],
                                               "as_of": rng.randint(1, TICKS)}}
    return {name: [_sample(client.request("POST", "/query", make(n))) for n in range(count)]
            for name, make in kinds.items()}


def query_client(args: tuple) -> list[tuple]:
    """One of the load's clients (a process): (kind, *sample)."""
    index, url, start, seconds, rate = args
    client, rng = Client(url), random.Random(index)
    interval = CLIENTS / rate  # each client's gap between requests
    samples, n = [], 0
    while True:
        planned = start + index * (interval / CLIENTS) + n * interval
        if planned > start + seconds or time.monotonic() > start + seconds + 10:
            return samples  # the run's requests are sent, or the server is 10 s behind
        time.sleep(max(0.0, planned - time.monotonic()))
        body = query_body(rng, n)
        samples.append(("as-of" if "as_of" in body else "now",
                        *_sample(client.request("POST", "/query", body))))
        n += 1


def load_queries(url: str, seconds: float, rate: float) -> list[tuple]:
    start = time.monotonic() + 1.0  # CLOCK_MONOTONIC: one clock for every process
    with multiprocessing.get_context("fork").Pool(CLIENTS) as pool:
        runs = pool.map(query_client, [(i, url, start, seconds, rate) for i in range(CLIENTS)])
    return [sample for run in runs for sample in run]


def order_events(n: int) -> list[dict]:
    order = f"B{n:06d}"
    stream, t = f"order-{order}", 30_000 + n
    submitted = {"order": order, "client": "client-9", "symbol": "AAPL", "side": "buy",
                 "qty": 10, "price": 18_000, "tif": "day", "expires": t + 100}
    return [{"type": "OrderSubmitted", "time": t, "stream_id": stream, "payload": submitted},
            {"type": "OrderValidated", "time": t, "stream_id": stream,
             "payload": {"order": order}},
            {"type": "OrderAccepted", "time": t, "stream_id": stream,
             "payload": {"order": order}},
            {"type": "OrderCancelled", "time": t + 1, "stream_id": stream,
             "payload": {"order": order, "reason": "client", "remaining": 10}}]


def load_commands(url: str, count: int, rate: float) -> list[tuple]:
    client, samples = Client(url), []
    first = client.get("/health")["head_seq"]  # order ids unique across runs on one store
    start = time.monotonic()
    for n in range(count):
        time.sleep(max(0.0, start + n / rate - time.monotonic()))
        samples.append(_sample(client.request("POST", "/events",
                                              {"events": order_events(first + n)})))
    return samples


def default_store(db: Path) -> None:
    """The default simulation (10,000 ticks, seed 1) at `db`, made once."""
    if not db.exists():
        subprocess.run([TEMPOLOG, "sim", "--db", str(db), "--quiet"], check=True, cwd=ROOT,
                       stdout=subprocess.DEVNULL)


@contextmanager
def serving(db: Path, source: Path | None):
    """`tempolog serve` of `db` with rules/trading.dl on a free port of 127.0.0.1 (from the
    checkout `source`, when given), once it answers /health and the rules' first answers
    are tabled; yields its URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ)
    if source is not None:  # its packages before the editable install's
        env["PYTHONPATH"] = str(source)
    server = subprocess.Popen([TEMPOLOG, "serve", "--db", str(db), "--rules", str(RULES),
                               "--port", str(port)], cwd=source or ROOT, env=env,
                              stderr=subprocess.DEVNULL)
    try:
        for _ in range(6000):  # the replay of a large store takes a while under load
            if server.poll() is not None:
                raise SystemExit(f"tempolog serve exited with status {server.returncode}")
            try:
                if Client(url).request("GET", "/health")[1] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        for query in POINT:  # first answers compile and table the rules
            Client(url).request("POST", "/query", {"query": query, "timeout": 30})
        yield url
    finally:
        server.terminate()
        server.wait()


HEADER = ("| what | requests | p50 ms | p95 ms | p99 ms | max ms | errors | server p50 ms"
          " | server p99 ms | engine (or store) p50 ms | cached |\n"
          "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, default=ROOT / "var" / "bench-http.db")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--commands", type=int, default=500)
    parser.add_argument("--sequential", type=int, default=200, help="requests of each kind")
    parser.add_argument("--source", type=Path, help="serve from this checkout")
    args = parser.parse_args()
    args.db = args.db.resolve()
    default_store(args.db)
    load = os.getloadavg()[0]
    with serving(args.db, args.source) as url:
        client = Client(url)
        probe = sequential(url, args.sequential)
        head = client.get("/health")["head_seq"]
        appender = subprocess.Popen([sys.executable, "-c", APPENDER, str(args.db),
                                     str(args.seconds + 30)], cwd=ROOT,
                                    env={**os.environ, "PYTHONPATH": str(ROOT)})
        while client.get("/health")["head_seq"] == head:  # its first append
            if appender.poll() is not None:
                raise SystemExit(f"the appender exited with status {appender.returncode}")
            time.sleep(0.1)
        head = client.get("/health")["head_seq"]
        before, cpu = client.get("/stats"), cpu_times()
        queries = load_queries(url, args.seconds, args.rate)
        steal = as_percent(stolen(cpu, cpu_times()))
        grown, after = client.get("/health"), client.get("/stats")
        appender.terminate()
        appender.wait()
        cpu = cpu_times()
        commands = load_commands(url, args.commands, 50.0)
        command_steal = as_percent(stolen(cpu, cpu_times()))
    print(f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, served from "
          f"{args.source or ROOT}; store of {head:,} events, {grown['head_seq'] - head:,} "
          f"appended during the query load, lag at its end {grown['lag']}; load average "
          f"{load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end; CPU stolen by the "
          f"hypervisor during the query load: {steal}, during the commands: {command_steal}")
    print(HEADER)
    for name, samples in probe.items():
        print(row(f"sequential: {name}", samples))
    print(row(f"POST /query, {CLIENTS} clients, {args.rate:g}/s planned (point + as-of)",
              [s[1:] for s in queries]))
    for kind in ("now", "as-of"):
        print(row(f"… of which {kind}", [s[1:] for s in queries if s[0] == kind]))
    print(row("POST /events, one order's 4 events, 50/s", commands))
    print("the load's slowest 1%: " + tail([s[1:] for s in queries]))
    slowest = sorted(enumerate(probe["as of a random tick"]), key=lambda s: -(s[1][2] or 0))[:5]
    print("sequential as of a random tick, the slowest on the server: " + ", ".join(
        f"#{n + 1} {sample[2]:.2f} ms (engine {sample[3] or 0:.2f})" for n, sample in slowest))
    if "writes" in after:  # a server with these statistics
        hits, misses, batches, events, ms = (after[k][f] - before[k][f] for k, f in (
            ("answers", "hits"), ("answers", "misses"), ("writes", "batches"),
            ("writes", "events"), ("writes", "ms")))
        print(f"during the query load: answer cache {hits:,} hits, {misses:,} misses; the "
              f"tailer wrote {events:,} events in {batches:,} batches, {ms / batches:.2f} ms "
              f"per batch ({ms / 1000 / args.seconds:.1%} of the engine's time)")


if __name__ == "__main__":
    main()
