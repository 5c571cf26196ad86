"""Benchmark the event store's backends side by side: append, replay and tail latency.

    .venv/bin/python -m bench.store [--events 40000] [--runs 3] [--url postgresql://…]

Without --url it starts a throw-away PostgreSQL server with scripts/postgres.sh (fsync on,
as a production server would run) and stops it at the end.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine import EventRejected  # noqa: E402
from sim.events.types import Event  # noqa: E402
from sim.replayer import models_at  # noqa: E402
from sim.store import open_store, remove_store  # noqa: E402
from sim.store.postgresql import APPEND_LOCK, PostgresEventStore  # noqa: E402

BATCH = 1_000
CPU_SPENT: list[tuple[int, float, float]] = []  # (events, writers' CPU s, server's CPU s)
TAIL_EVENTS = 200
LOCKS = {  # how appenders are serialised: the design, and the alternatives it was chosen over
    "advisory": f"SELECT pg_advisory_xact_lock({APPEND_LOCK})",
    "table": "LOCK TABLE events IN SHARE ROW EXCLUSIVE MODE",
    "optimistic": None,  # no lock: two batches on one seq clash on the key, the loser retries
}


class _LockedBy(PostgresEventStore):
    """The store with another way to serialise appends, for the comparison only."""

    retries = 0

    def append(self, events, **options):
        while True:
            try:
                return super().append(events, **options)
            except EventRejected as error:
                if "events_pkey" not in str(error):  # not another batch's seq: a real error
                    raise
                self.retries += 1


def open_backend(location: str, lock: str = "advisory"):
    if lock == "advisory":
        return open_store(location, create=True)
    store = _LockedBy(location)
    store.append_lock = LOCKS[lock]
    return store


def fresh(location: str) -> str:
    """An empty store at `location`."""
    remove_store(location)
    open_backend(location).close()
    return location


def _events(writer: int, count: int) -> list[list[Event]]:
    symbol = f"W{writer}"
    events = [Event("PriceUpdated", t, f"market-{symbol}-{t % 20}",
                    {"symbol": symbol, "price": 10_000 + t}) for t in range(count)]
    return [events[i:i + BATCH] for i in range(0, count, BATCH)]


def _process_cpu(pid: int) -> float:
    """CPU seconds a process of this machine has used (user + system)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _append_worker(location: str, lock: str, writer: int, count: int, start, results) -> None:
    batches = _events(writer, count)
    with open_backend(location, lock) as store:
        server_pid = (store.conn.info.backend_pid if isinstance(store, PostgresEventStore)
                      else None)
        start.wait(timeout=300)
        cpu = time.process_time()
        server_cpu = _process_cpu(server_pid) if server_pid else 0.0
        for batch in batches:
            store.append(batch)
        server_cpu = _process_cpu(server_pid) - server_cpu if server_pid else 0.0
        results.put((getattr(store, "retries", 0), time.process_time() - cpu, server_cpu))


def bench_append(location: str, writers: int, per_writer: int, lock: str = "advisory",
                 bare: bool = False):
    """Wall seconds for `writers` processes to append `per_writer` events each, in batches;
    `bare`: into a table with only the indexes an append reads (seq, stream and version)."""
    fresh(location)
    if bare:  # the stream index stays: every append looks its streams up in it
        with psycopg.connect(location, autocommit=True) as conn:
            conn.execute("DROP INDEX events_time, events_type, events_correlation, "
                         "events_idempotency_key")
            conn.execute("ALTER TABLE events DROP CONSTRAINT events_event_id_key")
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(writers + 1), context.Queue()
    workers = [context.Process(target=_append_worker,
                               args=(location, lock, w, per_writer, start, results))
               for w in range(writers)]
    for worker in workers:
        worker.start()
    start.wait(timeout=300)  # every writer has connected and built its batches
    began = time.perf_counter()
    outcomes = [results.get(timeout=900) for _ in workers]
    elapsed = time.perf_counter() - began
    retries = sum(r for r, _, _ in outcomes)
    CPU_SPENT.append((writers * per_writer, sum(c for _, c, _ in outcomes),
                      sum(s for _, _, s in outcomes)))
    for worker in workers:
        worker.join()
    with open_backend(location) as store:
        assert store.verify().ok and store.head()[0] == writers * per_writer
    return elapsed, writers * per_writer, retries


def bench_replay(location: str) -> tuple[float, int]:
    """Read the whole log in seq order, as replay does (the store filled by bench_append)."""
    with open_backend(location) as store:
        began = time.perf_counter()
        count = sum(1 for _ in store.read())
        return time.perf_counter() - began, count


def bench_models(location: str) -> float:
    """Seconds to rebuild the read models from the whole log (store.scan, decoding the
    payloads the models read), as `tempolog replay` does."""
    with open_backend(location) as store:
        began = time.perf_counter()
        models_at(store, store.head()[0], use_snapshots=False)
        return time.perf_counter() - began


def _tail_writer(location: str, start, commits) -> None:
    with open_backend(location) as store:
        start.wait(timeout=300)
        for n in range(TAIL_EVENTS):
            seq = store.append([Event("PriceUpdated", n, "market-TAIL",
                                      {"symbol": "TAIL", "price": n})])[0]
            commits.put((seq, time.monotonic()))  # CLOCK_MONOTONIC: one clock for the machine
            time.sleep(0.01)


def bench_tail(location: str) -> list[float]:
    """Milliseconds from an append's commit in one process to a follower's seeing it here."""
    fresh(location)
    context = multiprocessing.get_context("spawn")
    start, commits = context.Barrier(2), context.Queue()
    writer = context.Process(target=_tail_writer, args=(location, start, commits))
    writer.start()
    seen: dict[int, float] = {}
    with open_backend(location) as store:
        store.wait_for_append(0, 0)  # connect the listener before the writer starts
        start.wait(timeout=300)
        for event in store.follow(1, timeout=30):
            seen[event.seq] = time.monotonic()
            if len(seen) == TAIL_EVENTS:
                break
    committed = dict(commits.get(timeout=60) for _ in range(TAIL_EVENTS))
    writer.join()
    return [(seen[seq] - at) * 1000 for seq, at in committed.items()]


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=40_000, help="events per append run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--url", help="a PostgreSQL database to use (its public schema is wiped)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop the server on the way out
    script = ROOT / "scripts" / "postgres.sh"
    server_dir = Path(tempfile.gettempdir()) / f"tempolog-pg-bench-{os.getpid()}"
    url = args.url
    if not url:
        url = subprocess.run([str(script), "start", str(server_dir)], check=True, text=True,
                             capture_output=True).stdout.split()[-1]
        subprocess.Popen([str(script), "watch", str(os.getpid()), str(server_dir)],
                         start_new_session=True)  # stops it if this run is killed
    rows = []
    try:
        with psycopg.connect(url) as conn:
            version = conn.info.server_version
            server = f"{version // 10000}.{version % 10000}"
        with tempfile.TemporaryDirectory() as directory:
            backends = {"SQLite": str(Path(directory) / "bench.db"), "PostgreSQL": url}
            rows += run_all(backends, args.events, args.runs)
            rows += compare_locks(url, args.events, args.runs)
    finally:
        if not args.url:
            subprocess.run([str(script), "stop", str(server_dir)], check=True)
    print(f"\nMachine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}, PostgreSQL {server}; "
          f"median of {args.runs}; load average {os.getloadavg()[0]:.1f} at the end.\n")
    print("| measurement | backend | figure | note |\n|---|---|---:|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def _report(rows: list, name: str, backend: str, figure: str, note: str = "") -> None:
    note = f"{note}; load {os.getloadavg()[0]:.1f}" if note else f"load {os.getloadavg()[0]:.1f}"
    rows.append((name, backend, figure, note))
    print(f"{name} [{backend}]: {figure} {note}", file=sys.stderr, flush=True)


def run_all(backends: dict[str, str], events: int, runs: int) -> list[tuple]:
    rows: list[tuple] = []
    for writers in (1, 4):
        for name, location in backends.items():
            CPU_SPENT.clear()
            rates = [count / seconds for seconds, count, _ in
                     (bench_append(location, writers, events // writers) for _ in range(runs))]
            appended, writers_cpu, server_cpu = map(sum, zip(*CPU_SPENT))
            cpu = f"CPU per 1,000 events: writers {writers_cpu / appended * 1e6:.0f} ms" + (
                f", server {server_cpu / appended * 1e6:.0f} ms" if server_cpu else "")
            target = "; target ≥ 50,000/s" if writers == 4 and name == "PostgreSQL" else ""
            _report(rows, f"append, {writers} writer(s), batches of {BATCH:,}", name,
                    f"{statistics.median(rates):,.0f} events/s", cpu + target)
    for name, location in backends.items():
        bench_append(location, 1, events)
        per_minute = [count / seconds * 60 for seconds, count in
                      (bench_replay(location) for _ in range(runs))]
        _report(rows, f"replay (read all {events:,} in seq order)", name,
                f"{statistics.median(per_minute) / 1e6:,.1f} M events/min",
                "target ≥ 1 M/min" if name == "PostgreSQL" else "")
        per_minute = [events / seconds * 60 for seconds in
                      (bench_models(location) for _ in range(runs))]
        _report(rows, f"replay into the read models ({events:,} prices)", name,
                f"{statistics.median(per_minute) / 1e6:,.1f} M events/min")
    for name, location in backends.items():
        latencies = [ms for _ in range(runs) for ms in bench_tail(location)]
        _report(rows, f"tail latency, commit → follower ({TAIL_EVENTS} × {runs} appends)",
                name, f"p50 {_percentile(latencies, 0.5):.1f} ms, "
                f"p99 {_percentile(latencies, 0.99):.1f} ms",
                "target p99 ≤ 50 ms" if name == "PostgreSQL" else "")
    return rows


def compare_locks(url: str, events: int, runs: int) -> list[tuple]:
    """The ways to serialise appenders, 4 writers each, taking turns run by run so that all
    see the same load; and, for scale, the advisory lock into a table without the indexes
    on time, type, correlation, event id and key (what they cost; not a configuration)."""
    variants = [*LOCKS, "advisory, without 5 of the 7 indexes"]
    measured: dict[str, list[tuple]] = {variant: [] for variant in variants}
    for _ in range(runs):
        for variant in variants:
            bare = variant.endswith("indexes")
            measured[variant].append(bench_append(url, 4, events // 4, variant.split(",")[0],
                                                  bare))
    rows: list[tuple] = []
    for variant, results in measured.items():
        rate = statistics.median(count / seconds for seconds, count, _ in results)
        retries = statistics.median(r for _, _, r in results)
        _report(rows, f"append, 4 writers, serialised by: {variant}", "PostgreSQL",
                f"{rate:,.0f} events/s",
                f"{retries:.0f} retried batches (median)" if variant == "optimistic" else "")
    return rows


if __name__ == "__main__":
    main()
