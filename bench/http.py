"""Benchmark `tempolog serve`: POST /query under load while the store grows, and POST /events.

    .venv/bin/python -m bench.http [--db var/bench-http.db] [--seconds 30] [--rate 200]

(as a module: run as a script, this file would hide the standard library's `http`).

Eight clients share --rate requests per second (open loop: each request is sent at its
planned time, so a slow answer delays no later one), half point queries now and half as of
a random tick, for --seconds, while another process appends price events to the store.
Then one client appends one order's events per request. Prints latencies in milliseconds.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
TEMPOLOG = str(Path(sys.executable).parent / "tempolog")
RULES = ROOT / "rules" / "trading.dl"
CLIENTS = 8
POINT = ('current_position("client-2", "MSFT", q, a, r)',
         'pending_order(o, "client-3", "AAPL", s, q, p)')

APPENDER = """
import sys, time
from sim import open_store
store, until, tick = open_store(sys.argv[1]), time.monotonic() + float(sys.argv[2]), 0
version = store.stream_version("market-BENCH")
while time.monotonic() < until:  # 100 events a second, 10 per append
    store.append([{"type": "PriceUpdated", "time": 20_000 + tick + i, "stream_id":
                   "market-BENCH", "payload": {"symbol": "BENCH", "price": 10_000 + i}}
                  for i in range(10)])
    tick += 10
    time.sleep(0.1)
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(name: str, latencies: list[float], errors: int, seconds: float) -> str:
    ms = [x * 1000 for x in latencies]
    return (f"| {name} | {len(ms):,} | {len(ms) / seconds:,.0f}/s | {statistics.median(ms):.2f}"
            f" | {percentile(ms, 0.95):.2f} | {percentile(ms, 0.99):.2f} | {max(ms):.1f}"
            f" | {errors} |")


def load_queries(url: str, seconds: float, rate: float, ticks: int):
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    start = time.monotonic() + 0.5
    interval = CLIENTS / rate  # each client's gap between requests

    def client(index: int) -> None:
        rng = random.Random(index)
        with httpx.Client(base_url=url, timeout=10) as http:
            n = 0
            while True:
                planned = start + index * (interval / CLIENTS) + n * interval
                if planned > start + seconds or time.monotonic() > start + seconds + 10:
                    return  # the run's requests are sent, or the server is 10 s behind
                time.sleep(max(0.0, planned - time.monotonic()))
                body = {"query": rng.choice(POINT)}
                if n % 2:
                    body["as_of"] = rng.randint(1, ticks)
                sent = time.perf_counter()
                try:
                    ok = http.post("/query", json=body).status_code == 200
                except httpx.HTTPError:
                    ok = False
                took = time.perf_counter() - sent
                with lock:
                    latencies.append(took)
                    errors[0] += not ok
                n += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors[0]


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


def load_commands(url: str, count: int, rate: float):
    latencies, errors = [], 0
    with httpx.Client(base_url=url, timeout=10) as http:
        start = time.monotonic()
        for n in range(count):
            time.sleep(max(0.0, start + n / rate - time.monotonic()))
            sent = time.perf_counter()
            response = http.post("/events", json={"events": order_events(n)})
            latencies.append(time.perf_counter() - sent)
            errors += response.status_code != 200
    return latencies, errors


def default_store(db: Path) -> None:
    """The default simulation (10,000 ticks, seed 1) at `db`, made once."""
    if not db.exists():
        subprocess.run([TEMPOLOG, "sim", "--db", str(db), "--quiet"], check=True, cwd=ROOT,
                       stdout=subprocess.DEVNULL)


@contextmanager
def serving(db: Path):
    """`tempolog serve` of `db` with rules/trading.dl on a free port of 127.0.0.1, once it
    answers /health and the rules' first answers are tabled; yields its URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([TEMPOLOG, "serve", "--db", str(db), "--rules", str(RULES),
                               "--port", str(port)], cwd=ROOT, stderr=subprocess.DEVNULL)
    try:
        for _ in range(6000):  # the replay of a large store takes a while under load
            if server.poll() is not None:
                raise SystemExit(f"tempolog serve exited with status {server.returncode}")
            try:
                if httpx.get(url + "/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        for query in POINT:  # first answers compile and table the rules
            httpx.post(url + "/query", json={"query": query}, timeout=120)
        yield url
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, default=ROOT / "var" / "bench-http.db")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--commands", type=int, default=500)
    args = parser.parse_args()
    ticks = 10_000
    default_store(args.db)
    with serving(args.db) as url:
        head = httpx.get(url + "/health").json()["head_seq"]
        appender = subprocess.Popen([sys.executable, "-c", APPENDER, str(args.db),
                                     str(args.seconds + 30)], cwd=ROOT,
                                    env={**os.environ, "PYTHONPATH": str(ROOT)})
        while httpx.get(url + "/health").json()["head_seq"] == head:  # its first append
            time.sleep(0.1)
        head = httpx.get(url + "/health").json()["head_seq"]
        queries, query_errors = load_queries(url, args.seconds, args.rate, ticks)
        grown = httpx.get(url + "/health").json()
        appender.terminate()
        appender.wait()
        commands, command_errors = load_commands(url, args.commands, 50.0)
    print(f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; store of {head:,} events, "
          f"{grown['head_seq'] - head:,} appended during the query load, lag at its end "
          f"{grown['lag']}; load average {os.getloadavg()[0]:.1f}")
    print("| what | requests | rate | p50 ms | p95 ms | p99 ms | max ms | errors |")
    print("|---|---|---|---|---|---|---|---|")
    print(summary(f"POST /query, {CLIENTS} clients (point + as-of)", queries, query_errors,
                  args.seconds))
    print(summary("POST /events, one order's 4 events", commands, command_errors,
                  args.commands / 50.0))


if __name__ == "__main__":
    main()
