"""Benchmark the ingest lag of `tempolog serve`: how far its facts trail the store, under load.

    .venv/bin/python -m bench.ingest [--db var/bench-http.db] [--seconds 20] [--readers 8]

Against a served store (the default simulation), another connection appends one order's 4
events and 6 price events every 0.1 s (100 events a second), as `tempolog sim` in another
process would. The lag of an append is the time from its commit until /health reports an
applied seq at or past it (polled every 5 ms). Measured twice in one run: quiet, and while
--readers threads send POST /query back to back (closed loop: point queries now and as of a
random tick). Then a burst: 20,000 events in one transaction, and the time until all are
facts, quiet and under the same readers.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import threading
import time
import uuid
from pathlib import Path

import httpx

from bench.http import POINT, default_store, percentile, serving
from sim import open_store

ROOT = Path(__file__).resolve().parent.parent
TICKS = 10_000
BURST = 20_000


class Readers:
    """`count` threads sending POST /query back to back until stopped."""

    def __init__(self, url: str, count: int):
        self.url, self.count = url, count
        self.latencies: list[float] = []
        self.errors = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._read, args=(i,)) for i in range(count)]

    def __enter__(self) -> Readers:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def _read(self, index: int) -> None:
        rng = random.Random(index)
        with httpx.Client(base_url=self.url, timeout=30) as http:
            n = 0
            while not self._stop.is_set():
                body = {"query": rng.choice(POINT)}
                if n % 2:
                    body["as_of"] = rng.randint(1, TICKS)
                sent = time.perf_counter()
                try:
                    ok = http.post("/query", json=body).status_code == 200
                except httpx.HTTPError:
                    ok = False
                took = time.perf_counter() - sent
                with self._lock:
                    self.latencies.append(took)
                    self.errors += not ok
                n += 1


class Watcher:
    """Polls /health; `applied_at(seq)` is when the engine first held `seq` (monotonic)."""

    def __init__(self, url: str):
        self.url = url
        self.seen: list[tuple[float, int]] = []  # (when, applied seq), applied seq growing
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll)

    def __enter__(self) -> Watcher:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _poll(self) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as http:
            while not self._stop.is_set():
                applied = http.get("/health").json()["applied_seq"]
                now = time.monotonic()
                if not self.seen or applied > self.seen[-1][1]:
                    self.seen.append((now, applied))
                time.sleep(0.005)

    def wait_for(self, seq: int, timeout: float) -> float | None:
        """When `seq` was first seen applied, waiting up to `timeout` for it."""
        until = time.monotonic() + timeout
        while time.monotonic() < until:
            for when, applied in self.seen:
                if applied >= seq:
                    return when
            time.sleep(0.01)
        return None


def appends(store, run: str, count: int, start_time: int):
    """Every 0.1 s one order's 4 events and 6 prices; yields (last seq, when committed)."""
    started = time.monotonic()
    for n in range(count):
        time.sleep(max(0.0, started + n * 0.1 - time.monotonic()))
        t = start_time + n * 10
        order, stream = f"I{run}{n:05d}", f"order-I{run}{n:05d}"
        submitted = {"order": order, "client": "client-8", "symbol": "MSFT", "side": "sell",
                     "qty": 5, "price": 30_000, "tif": "day", "expires": t + 100}
        events = [{"type": "OrderSubmitted", "time": t, "stream_id": stream,
                   "payload": submitted},
                  {"type": "OrderValidated", "time": t, "stream_id": stream,
                   "payload": {"order": order}},
                  {"type": "OrderAccepted", "time": t, "stream_id": stream,
                   "payload": {"order": order}},
                  {"type": "OrderCancelled", "time": t + 1, "stream_id": stream,
                   "payload": {"order": order, "reason": "client", "remaining": 5}}]
        events += [{"type": "PriceUpdated", "time": t + i, "stream_id": "market-INGEST",
                    "payload": {"symbol": "INGEST", "price": 10_000 + i}} for i in range(6)]
        seqs = store.append(events)
        yield seqs[-1], time.monotonic()


def steady_lag(url: str, store, run: str, seconds: float, start_time: int) -> list[float]:
    """Lags in seconds of each append of a steady 100 events/s for `seconds`."""
    committed = []
    with Watcher(url) as watcher:
        for seq, when in appends(store, run, int(seconds * 10), start_time):
            committed.append((seq, when))
        lags = []
        for seq, when in committed:
            applied = watcher.wait_for(seq, 120.0)
            lags.append(float("inf") if applied is None else max(0.0, applied - when))
    return lags


def burst_lag(url: str, store, start_time: int) -> float:
    """Seconds from the commit of BURST price events in one transaction until all are facts."""
    events = [{"type": "PriceUpdated", "time": start_time + i, "stream_id": "market-BURST",
               "payload": {"symbol": "BURST", "price": 5_000 + i % 1000}} for i in range(BURST)]
    with Watcher(url) as watcher:
        seq = store.append(events)[-1]
        committed = time.monotonic()
        applied = watcher.wait_for(seq, 300.0)
    return float("inf") if applied is None else applied - committed


def lag_row(name: str, lags: list[float]) -> str:
    ms = [x * 1000 for x in lags]
    return (f"| {name} | {len(ms)} | {statistics.median(ms):.0f} | {percentile(ms, 0.95):.0f} "
            f"| {percentile(ms, 0.99):.0f} | {max(ms):.0f} |")


def query_row(name: str, readers: Readers, seconds: float) -> str:
    ms = [x * 1000 for x in readers.latencies] or [0.0]
    return (f"| {name} | {len(readers.latencies):,} | {len(readers.latencies) / seconds:,.0f}/s "
            f"| {statistics.median(ms):.1f} | {percentile(ms, 0.99):.1f} | {readers.errors} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, default=ROOT / "var" / "bench-http.db")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--readers", type=int, default=8)
    args = parser.parse_args()
    default_store(args.db)
    run = uuid.uuid4().hex[:6]  # order ids of this run: streams new on every run
    store = open_store(str(args.db))
    load = [os.getloadavg()[0]]
    try:
        with serving(args.db) as url:
            head = httpx.get(url + "/health").json()["head_seq"]
            quiet = steady_lag(url, store, run + "q", args.seconds, 100_000)
            quiet_burst = burst_lag(url, store, 200_000)
            began = time.monotonic()
            with Readers(url, args.readers) as readers:
                time.sleep(1.0)  # the readers are under way
                loaded = steady_lag(url, store, run + "l", args.seconds, 300_000)
                loaded_burst = burst_lag(url, store, 400_000)
            took = time.monotonic() - began
            load.append(os.getloadavg()[0])
    finally:
        store.close()
    print(f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; store of {head:,} events; "
          f"load average {load[0]:.1f} at the start, {load[-1]:.1f} at the end")
    print("| ingest lag | appends | p50 ms | p95 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|")
    print(lag_row("100 events/s, quiet", quiet))
    print(lag_row(f"100 events/s, {args.readers} readers", loaded))
    print(f"| {BURST:,} events in one append, quiet | 1 | {quiet_burst * 1000:.0f} | | | |")
    print(f"| {BURST:,} events in one append, {args.readers} readers | 1 "
          f"| {loaded_burst * 1000:.0f} | | | |")
    print()
    print("| queries during the loaded phases | requests | rate | p50 ms | p99 ms | errors |")
    print("|---|---|---|---|---|---|")
    print(query_row(f"POST /query, {args.readers} readers back to back", readers, took))


if __name__ == "__main__":
    main()
