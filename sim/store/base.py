"""The EventStore interface: what every backend offers the simulator, the facts and the api."""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

from engine import TempologError
from sim.events.ids import canonical_json
from sim.events.types import Event, StoredEvent
from sim.store.chain import Verification, verify_rows
from sim.store.jsonl import export_jsonl


@dataclass(frozen=True)
class TypeStats:
    type: str
    count: int
    first_time: int
    last_time: int
    first_seq: int
    last_seq: int


class EventStore(ABC):
    """An append-only, hash-chained log of events, numbered by a gapless `seq` from 1.

    Every backend gives the same seqs, ids and hashes for the same appends, so the same
    seed makes the same log byte for byte. `url` opens the same store again (open_store),
    from another process too when `shared`; `durable` says whether a commit survives a
    power cut.

    Tailing (a stable API: the HTTP service's tail, replay and the engine loader use it):
    `wait_for_append(after_seq, timeout)` blocks until the head seq is past `after_seq` —
    another process's commit counts — and returns the head; `follow(from_seq)` yields every
    event from `from_seq` on, then each new one as it is committed. A reader resumes with
    `follow(last_applied_seq + 1)`."""

    url: str
    durable: bool = True

    @property
    def shared(self) -> bool:
        """Whether another process can open this store by its url (not so in memory)."""
        return True

    # ---- writing ------------------------------------------------------------------------

    @abstractmethod
    def append(self, events: Iterable[Event | Mapping[str, Any]], *,
               expected_versions: Mapping[str, int] | None = None) -> list[int]:
        """Append a batch in one transaction; returns each event's seq.

        All or nothing: an invalid event raises EventRejected naming the event and the
        field, a stream not at its expected version raises ConcurrencyConflict, and then
        nothing of the batch is written. `expected_versions` maps a stream to the version
        the caller last saw (0: new stream); an event's own `version`, when set, must be
        its stream's next one. An event whose idempotency key is already stored is not
        written again: its seq is the original's."""

    @abstractmethod
    def import_jsonl(self, lines: Iterable[str] | IO[str]) -> int:
        """Append exported events as they were (seq, ids, hashes), re-verifying the chain and
        every event on the way (jsonl.imported_rows); all or nothing. Returns the count."""

    # ---- reading ------------------------------------------------------------------------

    @abstractmethod
    def read(self, *, from_seq: int | None = None, to_seq: int | None = None,
             from_time: int | None = None, to_time: int | None = None,
             types: Iterable[str] | None = None, stream_id: str | None = None,
             correlation_id: str | None = None, limit: int | None = None
             ) -> Iterator[StoredEvent]:
        """Events in seq order; every bound is inclusive, every filter optional."""

    @abstractmethod
    def get(self, event_id: str) -> StoredEvent | None:
        """The event with this id, if any."""

    @abstractmethod
    def stream_version(self, stream_id: str) -> int:
        """The stream's last version (0 for a stream with no events)."""

    @abstractmethod
    def head(self) -> tuple[int, str]:
        """The last seq and hash (0 and the genesis hash for an empty store)."""

    @abstractmethod
    def stats(self, *, since: int | None = None, until: int | None = None) -> list[TypeStats]:
        """Per event type, in name order: count, first and last time and seq, of the events
        with `since <= time <= until` (each bound optional)."""

    @abstractmethod
    def stored_rows(self) -> Iterator[tuple]:
        """Every row as stored, in seq order: the columns of StoredEvent with the payload as
        its stored JSON text, untouched, so that verify checks what is really there."""

    @abstractmethod
    def wait_for_append(self, after_seq: int, timeout: float) -> int:
        """The head seq as soon as it is past `after_seq`, or whatever it is once `timeout`
        seconds have passed; cheap to call in a loop (no busy wait, no full scan)."""

    @abstractmethod
    def close(self) -> None:
        """Release the connection; the store is not used after."""

    # ---- what follows from the above, the same for every backend ------------------------

    def causation_chain(self, event_id: str) -> list[StoredEvent]:
        """The event and the events that caused it, root cause first."""
        chain: list[StoredEvent] = []
        seen: set[str] = set()
        current = self.get(event_id)
        while current is not None and current.event_id not in seen:
            chain.append(current)
            seen.add(current.event_id)
            current = self.get(current.causation_id) if current.causation_id else None
        return chain[::-1]

    def read_facts(self, *, from_seq: int | None = None, to_time: int | None = None
                   ) -> Iterator[tuple[int, str, int, dict]]:
        """(seq, type, time, payload) of the events in seq order: what becomes a fact, without
        the rest of the envelope. A backend may answer it faster than read does."""
        for event in self.read(from_seq=from_seq, to_time=to_time):
            yield event.seq, event.type, event.time, event.payload

    def follow(self, from_seq: int = 1, *, timeout: float | None = None,
               stop: threading.Event | None = None) -> Iterator[StoredEvent]:
        """Every event from `from_seq` on in seq order, then each new one as it is appended,
        by this or another process. Ends once `timeout` seconds pass with nothing new, or
        within a fifth of a second of `stop` being set; runs for ever with neither."""
        next_seq, idle_since = from_seq, time.monotonic()
        while True:
            for event in self.read(from_seq=next_seq):
                yield event
                next_seq, idle_since = event.seq + 1, time.monotonic()
            if stop is not None and stop.is_set():
                return
            wait = 60.0 if timeout is None else timeout - (time.monotonic() - idle_since)
            if wait <= 0:
                return
            self.wait_for_append(next_seq - 1, min(wait, 0.2) if stop is not None else wait)

    def get_seq(self, seq: int) -> StoredEvent | None:
        """The event with this seq, if any."""
        return next(self.read(from_seq=seq, to_seq=seq), None)

    def scan(self, from_seq: int, to_seq: int, types: Iterable[str] | None = None
             ) -> Iterator[tuple[int, str, int, str]]:
        """(seq, type, time, payload JSON) of the events from_seq..to_seq of the types given,
        in seq order: the read models' replay, which decodes only the payloads it reads. A
        backend may answer it faster than read does."""
        for event in self.read(from_seq=from_seq, to_seq=to_seq, types=types):
            yield event.seq, event.type, event.time, canonical_json(event.payload)

    def last_seq_at(self, at: int) -> int:
        """The last seq of an event with time <= `at` (0 if there is none)."""
        last = 0
        for event in self.read(to_time=at):
            last = event.seq
        return last

    # ---- beside the log: snapshots of state built from it, and the run's metadata ---------
    # Neither is an event: snapshots can be dropped and rebuilt from the log at any time.

    def save_snapshot(self, seq: int, event_hash: str, state_hash: str, state: bytes,
                      format: int) -> None:
        """Keep a snapshot of state as of `seq` (whose event has `event_hash`), replacing one
        at the same seq."""
        raise _unsupported(self, "snapshots")

    def load_snapshot(self, at_or_before: int, format: int
                      ) -> tuple[int, str, str, bytes] | None:
        """(seq, event_hash, state_hash, state) of the latest snapshot of this format at or
        before a seq, or None."""
        raise _unsupported(self, "snapshots")

    def list_snapshots(self, format: int) -> list[tuple[int, str, str, int]]:
        """(seq, event_hash, state_hash, size in bytes) of every snapshot of the format."""
        raise _unsupported(self, "snapshots")

    def save_engine_snapshot(self, seq: int, program: str, event_hash: str, state_hash: str,
                             state: bytes) -> None:
        """Keep an engine's state as of `seq` for the compiled program `program` (a hash),
        replacing one of the same program at the same seq."""
        raise _unsupported(self, "engine snapshots")

    def load_engine_snapshot(self, program: str, at_or_before: int
                             ) -> tuple[int, str, str, bytes] | None:
        """(seq, event_hash, state_hash, state) of the program's latest engine snapshot at or
        before a seq, or None."""
        raise _unsupported(self, "engine snapshots")

    def list_engine_snapshots(self, program: str | None = None
                              ) -> list[tuple[int, str, str, str, int]]:
        """(seq, program, event_hash, state_hash, size in bytes) of every engine snapshot
        (of one program), by seq."""
        raise _unsupported(self, "engine snapshots")

    def set_meta(self, key: str, value: str) -> None:
        """Record a fact about the store (e.g. the simulator settings that made it)."""
        raise _unsupported(self, "metadata")

    def get_meta(self, key: str) -> str | None:
        return None

    def export_jsonl(self, out: IO[str], **filters: Any) -> int:
        """Write the events `read(**filters)` selects as JSON lines; returns the count."""
        return export_jsonl(self.read(**filters), out)

    def verify(self) -> Verification:
        """Walk the chain from the first event: seqs gapless from 1, every hash recomputed."""
        return verify_rows(self.stored_rows())

    def __len__(self) -> int:
        return self.head()[0]

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _unsupported(store: EventStore, what: str) -> TempologError:
    return TempologError(f"{store.url}: this store backend keeps no {what}",
                         code="store-unsupported")
