"""Where a simulation's events go as it runs: the event store, and an engine as facts."""

from __future__ import annotations

import os
import queue
import select
import subprocess
import sys
import threading
from pathlib import Path

from engine import TempologError
from sim.events.types import Event
from sim.facts import FactBatch, envelope_of
from sim.store.base import EventStore
from sim.store.frames import recv_frame, send_frame

STORE_BATCH = 5_000


class StoreSink:
    """Appends the run's events in batches of `batch_size`, in order.

    With `process=True` a writer process does the appending (validation, hashing and
    SQLite), so that it runs beside the simulation on a second core; a thread would not
    do, as SQLite's per-row release of the GIL makes the two threads convoy. A failed
    append is raised here at the next tick, or at close."""

    def __init__(self, store: EventStore, *, batch_size: int = STORE_BATCH,
                 process: bool = False):
        self.store, self.batch_size = store, batch_size
        self.next_seq = store.head()[0] + 1
        if self.next_seq != 1:
            raise TempologError(f"{store.url} already holds {self.next_seq - 1} events; "
                                "simulate into a new store", code="store-not-empty")
        self.buffer: list[Event] = []
        self._writer: _WriterProcess | None = None
        if process and store.shared:
            self._writer = _WriterProcess(store.url, store.durable)

    def on_tick(self, tick: int, events: list[Event]) -> None:
        self.buffer.extend(events)
        if len(self.buffer) >= self.batch_size:
            self._flush()

    def close(self) -> None:
        try:
            self._flush()
        finally:
            if self._writer is not None:
                writer, self._writer = self._writer, None
                appended = writer.close()
                if appended:
                    self._expect(*appended)

    def _flush(self) -> None:
        if not self.buffer:
            return
        batch, self.buffer = self.buffer, []
        if self._writer is None:
            seqs = self.store.append(batch)
            self._expect(seqs[0], len(batch))
        else:
            self._writer.send(batch)

    def _expect(self, first: int, count: int) -> None:
        if first != self.next_seq and count:
            raise TempologError(f"the store numbered the run's events from {first}, not "
                                f"{self.next_seq}: another writer is appending to it",
                                code="store-not-empty")
        self.next_seq += count


class _WriterProcess:
    """`python -m sim.store.writer`: a child process that appends the batches it is sent."""

    def __init__(self, url: str, durable: bool):
        root = str(Path(__file__).resolve().parent.parent)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            p for p in (root, os.environ.get("PYTHONPATH")) if p)}
        self._process = subprocess.Popen(
            [sys.executable, "-m", "sim.store.writer", url, "--durable" if durable else "--fast"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0, env=env)
        self._sent = self._acked = self._count = 0
        self._first: int | None = None

    def send(self, batch: list[Event]) -> None:
        self._collect(block=False)
        try:
            send_frame(self._process.stdin, [tuple(event) for event in batch])
        except BrokenPipeError:
            self._collect(block=True)  # the writer's own error explains the broken pipe
            raise TempologError("the store writer process died", code="store-writer") from None
        self._sent += 1

    def close(self) -> tuple[int, int] | None:
        """Wait for every batch; returns (first seq, count) of what was appended."""
        try:
            send_frame(self._process.stdin, None)
            self._process.stdin.close()
        except BrokenPipeError:
            pass
        try:
            self._collect(block=True)
        finally:
            self._process.wait()
        return (self._first, self._count) if self._first is not None else None

    def _collect(self, block: bool) -> None:
        out = self._process.stdout
        while self._acked < self._sent and (block or select.select([out], [], [], 0)[0]):
            answer = recv_frame(out)
            if answer is None:
                raise TempologError("the store writer process died", code="store-writer")
            self._acked += 1
            status, *rest = answer
            if status == "error":
                raise rest[0]
            if self._first is None:
                self._first = rest[0]
            self._count += rest[1]


class EngineSink:
    """Streams each tick's events into an engine as facts: one assert_many of every
    relation's facts per `every` ticks (1: tick by tick), each fact with its event's seq.

    With `background`, a feeder thread makes the assertions, in order, while the simulation
    goes on: the engine's own work then overlaps the simulator's Python, and the ticks
    that queued while the engine was busy go in together, in one call. A failed
    assertion is raised at the next tick, or at close."""

    def __init__(self, engine, *, every: int = 1, first_seq: int = 1,
                 background: bool = False):
        self.engine = engine
        self.batch = FactBatch(engine)
        self.every = max(1, every)
        self.seq = first_seq
        self.facts = 0
        self.error: BaseException | None = None
        self._queue: queue.Queue | None = None
        if background:
            self._queue = queue.Queue(maxsize=256)
            self._thread = threading.Thread(target=self._feed, name="fact-feeder", daemon=True)
            self._thread.start()

    def on_tick(self, tick: int, events: list[Event]) -> None:
        add, seq = self.batch.add, self.seq
        if self.batch.envelope:
            for event in events:
                add(event.type, event.payload, event.time, seq, envelope_of(event))
                seq += 1
        else:
            for event in events:
                add(event.type, event.payload, event.time, seq)
                seq += 1
        self.seq = seq
        if (tick + 1) % self.every == 0:
            self._flush()

    def close(self) -> None:
        self._flush()
        if self._queue is not None:
            self._queue.put(None)
            self._thread.join()
            self._queue = None
        self._raise_pending()

    def _flush(self) -> None:
        self._raise_pending()
        if self._queue is None:
            self.facts += self._assert(self.batch.take())
        elif self.batch.size:
            self._queue.put(self.batch.take())

    def _feed(self) -> None:
        done = False
        while not done:
            taken, done = _merged(self._queue)
            if self.error is None:
                try:
                    self.facts += self._assert(taken)
                except BaseException as error:  # raised in the simulating thread
                    self.error = error

    def _assert(self, taken: list[tuple[str, list[tuple], list[int]]]) -> int:
        # One call for all relations: per call, the engine's hand-off to the Prolog thread
        # costs more than a tick's few facts do.
        if not taken:
            return 0
        return self.engine.assert_many({relation: (rows, seqs) for relation, rows, seqs in taken})

    def _raise_pending(self) -> None:
        if self.error is not None:
            error, self.error = self.error, None
            raise error


def _merged(pending: queue.Queue) -> tuple[list[tuple[str, list[tuple], list[int]]], bool]:
    """The next batch and every one queued behind it, as one (relation, rows, seqs) list;
    and whether the end (None) was among them. A call's hand-off to the engine costs what
    a tick's ~70 facts do, so while the engine is behind the feeder sends many ticks at
    once; while it keeps up, each tick still goes in as soon as it is made."""
    taken = pending.get()
    if taken is None:
        return [], True
    rows: dict[str, tuple[list[tuple], list[int]]] = {}
    done = False
    while True:
        for relation, more_rows, more_seqs in taken:
            kept = rows.setdefault(relation, ([], []))
            kept[0].extend(more_rows)
            kept[1].extend(more_seqs)
        try:
            taken = pending.get_nowait()
        except queue.Empty:
            break
        if taken is None:
            done = True
            break
    return [(relation, r, s) for relation, (r, s) in rows.items()], done
