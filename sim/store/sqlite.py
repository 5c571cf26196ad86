"""The event store: an append-only SQLite table, hash-chained, written in all-or-nothing batches."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import sqlite_utils

from engine.errors import ConcurrencyConflict, EventRejected, StoreCorrupted
from sim.events.ids import GENESIS_HASH, chain_hash, event_id, row_bytes, seed_bits
from sim.events.types import ENVELOPE, EVENT_TYPES, Event, StoredEvent, payload_problem

SCHEMA_VERSION = 1
COLUMNS = StoredEvent._fields
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM events"
_INSERT = f"INSERT INTO events ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
_STORE_BITS = seed_bits("store", "events")  # the run part of ids the store makes itself
DEFAULT_EPOCH_US = 1_767_623_400_000_000  # 2026-01-05T14:30:00Z, the simulator's default
DEFAULT_TICK_US = 1_000_000
MAX_TEXT = 200

_TRIGGERS = """
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only: UPDATE is not allowed'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only: DELETE is not allowed'); END;
"""


@dataclass(frozen=True)
class Verification:
    """The outcome of walking the hash chain: `bad_seq` is the first seq that fails."""

    ok: bool
    events: int
    last_seq: int
    last_hash: str
    bad_seq: int | None = None
    reason: str = ""


@dataclass(frozen=True)
class TypeStats:
    type: str
    count: int
    first_time: int
    last_time: int
    first_seq: int
    last_seq: int


class _Heads:
    """What an append must know about the log: its last seq and hash, each stream's version
    and time, and every idempotency key. Loaded once; when another connection has written
    (SQLite's data_version tells), the rows after our last seq are all that can be new."""

    def __init__(self, conn: sqlite3.Connection):
        self.seq, self.hash = 0, GENESIS_HASH
        self.streams: dict[str, tuple[int, int]] = {}
        self.keys: dict[str, int] = {}
        self.catch_up(conn)

    def catch_up(self, conn: sqlite3.Connection) -> None:
        rows = conn.execute("SELECT seq, stream_id, version, time, idempotency_key, hash "
                            "FROM events WHERE seq > ? ORDER BY seq", (self.seq,))
        streams, keys = self.streams, self.keys
        for seq, stream, version, time, key, hash in rows:
            streams[stream] = (version, time)
            if key is not None:
                keys[key] = seq
            self.seq, self.hash = seq, hash


class EventStore:
    """Append-only events in SQLite (WAL). Every row's hash covers its canonical bytes and the
    previous row's hash; triggers refuse UPDATE and DELETE. Safe for one writer per process
    and many processes: appends take SQLite's write lock and re-read what changed."""

    def __init__(self, path: str | Path, *, durable: bool = True, create: bool = True):
        self.path = str(path)
        self.durable = durable
        if not create and (self.path == ":memory:" or not Path(self.path).exists()):
            raise FileNotFoundError(f"no event store at {self.path}")
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db = sqlite_utils.Database(conn)
        self.conn = conn
        conn.execute("PRAGMA busy_timeout = 10000")
        try:
            self._create()
        except sqlite3.DatabaseError as error:
            conn.close()
            raise StoreCorrupted(f"{self.path} is not an event store: {error}") from None
        # FULL syncs the WAL at every commit: a committed batch survives a power cut too.
        conn.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
        self._heads: _Heads | None = None
        self._data_version = None

    def _create(self) -> None:
        if self.path != ":memory:":
            self.db.enable_wal()
        if "events" in self.db.table_names():
            version = self.conn.execute("PRAGMA user_version").fetchone()[0]
            if version != SCHEMA_VERSION:
                raise sqlite3.DatabaseError(f"schema version {version}, not {SCHEMA_VERSION}")
            return
        events = self.db["events"]
        events.create({
            "seq": int, "event_id": str, "type": str, "time": int, "ts": int,
            "stream_id": str, "version": int, "causation_id": str, "correlation_id": str,
            "idempotency_key": str, "payload": str, "hash": str,
        }, pk="seq", not_null={"event_id", "type", "time", "ts", "stream_id", "version",
                               "payload", "hash"}, if_not_exists=True)
        events.create_index(["event_id"], unique=True, if_not_exists=True)
        events.create_index(["stream_id", "version"], unique=True, if_not_exists=True)
        events.create_index(["idempotency_key"], unique=True, if_not_exists=True)
        events.create_index(["correlation_id"], if_not_exists=True)
        events.create_index(["time"], if_not_exists=True)
        self.conn.executescript(_TRIGGERS)
        self.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextmanager
    def _transaction(self):
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def _current_heads(self) -> _Heads:
        """Call inside a write transaction: nobody else can commit until it ends."""
        version = self.conn.execute("PRAGMA data_version").fetchone()[0]
        if self._heads is None:
            self._heads = _Heads(self.conn)
        elif version != self._data_version:
            self._heads.catch_up(self.conn)
        self._data_version = version
        return self._heads

    # ---- writing ------------------------------------------------------------------------

    def append(self, events: Iterable[Event | Mapping[str, Any]], *,
               expected_versions: Mapping[str, int] | None = None) -> list[int]:
        """Append a batch in one transaction; returns each event's seq.

        All or nothing: an invalid event raises EventRejected naming the event and the
        field, a stream not at its expected version raises ConcurrencyConflict, and then
        nothing of the batch is written. `expected_versions` maps a stream to the version
        the caller last saw (0: new stream); an event's own `version`, when set, must be
        its stream's next one. An event whose idempotency key is already stored is not
        written again: its seq is the original's.
        """
        batch = [_as_event(e, i) for i, e in enumerate(events)]
        with self._transaction():
            heads = self._current_heads()
            rows, seqs, streams, keys = self._rows(batch, heads, expected_versions or {})
            if rows:
                try:
                    self.conn.executemany(_INSERT, rows)
                except sqlite3.IntegrityError as error:
                    raise self._explain_integrity(batch, error) from None
        if rows:
            heads.seq, heads.hash = rows[-1][0], rows[-1][-1]
            heads.streams.update(streams)
            heads.keys.update(keys)
        return seqs

    def _rows(self, batch: list[Event], heads: _Heads, expected: Mapping[str, int]):
        streams: dict[str, tuple[int, int]] = {}  # this batch's changes, kept apart until commit
        keys: dict[str, int] = {}
        for stream, version in expected.items():
            actual = heads.streams.get(stream, (0, 0))[0]
            if actual != version:
                raise ConcurrencyConflict(
                    f"stream {stream} is at version {actual}, not the expected {version}; "
                    "nothing was written: re-read the stream and retry")
        rows, seqs = [], []
        seq, previous = heads.seq, heads.hash
        for index, event in enumerate(batch):
            key = event.idempotency_key
            if key is not None:
                original = keys.get(key) or heads.keys.get(key)
                if original is not None:
                    seqs.append(original)
                    continue
            payload = _check(event, index, len(batch))
            version, last_time = streams.get(event.stream_id) or heads.streams.get(
                event.stream_id, (0, 0))
            if event.version is not None and event.version != version + 1:
                raise ConcurrencyConflict(
                    f"event {index} ({event.type}) expects stream {event.stream_id} at "
                    f"version {event.version - 1}, but it is at {version}; nothing of the "
                    f"batch of {len(batch)} was written")
            if version and event.time < last_time:
                raise _rejected(index, event, "time", f"goes backwards in stream "
                                f"{event.stream_id} ({event.time} < {last_time})", len(batch))
            seq += 1
            version += 1
            ts = event.ts if event.ts is not None else (
                DEFAULT_EPOCH_US + event.time * DEFAULT_TICK_US)
            eid = event.event_id or event_id(ts // 1000, seq, _STORE_BITS)
            correlation = event.correlation_id or eid
            previous = chain_hash(previous, row_bytes(
                seq, eid, event.type, event.time, ts, event.stream_id, version,
                event.causation_id, correlation, key, payload))
            rows.append((seq, eid, event.type, event.time, ts, event.stream_id, version,
                         event.causation_id, correlation, key, payload, previous))
            streams[event.stream_id] = (version, event.time)
            if key is not None:
                keys[key] = seq
            seqs.append(seq)
        return rows, seqs, streams, keys

    def _explain_integrity(self, batch: list[Event], error: sqlite3.IntegrityError):
        ids = [e.event_id for e in batch if e.event_id]
        seen: set[str] = set()
        for index, event in enumerate(batch):
            if event.event_id in seen:
                return _rejected(index, event, "event_id", "repeats an earlier event's id",
                                 len(batch))
            seen.add(event.event_id)
        stored = {row[0] for row in self.conn.execute(
            f"SELECT event_id FROM events WHERE event_id IN ({','.join('?' * len(ids))})", ids)}
        for index, event in enumerate(batch):
            if event.event_id in stored:
                return _rejected(index, event, "event_id", "is already in the store",
                                 len(batch))
        return EventRejected(f"the batch breaks a constraint of the store: {error}")

    def import_jsonl(self, lines: Iterable[str] | IO[str]) -> int:
        """Append exported events as they were (seq, ids, hashes), re-verifying the chain and
        every event on the way; all or nothing. Returns how many events were imported."""
        with self._transaction():
            heads = self._current_heads()
            seq, previous = heads.seq, heads.hash
            streams: dict[str, tuple[int, int]] = {}
            rows = []
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                row = _imported_row(line, number)
                if row[0] != seq + 1:
                    raise StoreCorrupted(f"line {number}: seq {row[0]} does not follow {seq}")
                event = Event(row[2], row[3], row[5], row[10], row[1], row[4], row[6],
                              row[7], row[8], row[9])
                payload = _check(event, number - 1, 0, what=f"line {number}")
                version, last_time = streams.get(event.stream_id) or heads.streams.get(
                    event.stream_id, (0, 0))
                if event.version != version + 1 or (version and event.time < last_time):
                    raise StoreCorrupted(f"line {number} (seq {row[0]}): version or time "
                                         f"out of order in stream {event.stream_id}")
                previous = chain_hash(previous, row_bytes(*row[:10], payload))
                if previous != row[11]:
                    raise StoreCorrupted(f"line {number}: hash of seq {row[0]} does not match "
                                         "its content and the previous hash")
                seq = row[0]
                streams[event.stream_id] = (event.version, event.time)
                rows.append((*row[:10], payload, row[11]))
            try:
                self.conn.executemany(_INSERT, rows)
            except sqlite3.IntegrityError as error:
                raise StoreCorrupted(f"imported events clash with stored ones: {error}") from None
        self._heads = None
        return len(rows)

    # ---- reading ------------------------------------------------------------------------

    def read(self, *, from_seq: int | None = None, to_seq: int | None = None,
             from_time: int | None = None, to_time: int | None = None,
             types: Iterable[str] | None = None, stream_id: str | None = None,
             correlation_id: str | None = None, limit: int | None = None
             ) -> Iterator[StoredEvent]:
        """Events in seq order; every bound is inclusive, every filter optional."""
        where, args = [], []
        for clause, value in (("seq >= ?", from_seq), ("seq <= ?", to_seq),
                              ("time >= ?", from_time), ("time <= ?", to_time),
                              ("stream_id = ?", stream_id),
                              ("correlation_id = ?", correlation_id)):
            if value is not None:
                where.append(clause)
                args.append(value)
        if types is not None:
            types = list(types)
            where.append(f"type IN ({','.join('?' * len(types))})")
            args.extend(types)
        sql = _SELECT + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY seq"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        for row in self.conn.execute(sql, args):
            yield _stored(row)

    def get(self, event_id: str) -> StoredEvent | None:
        row = self.conn.execute(_SELECT + " WHERE event_id = ?", (event_id,)).fetchone()
        return _stored(row) if row else None

    def get_seq(self, seq: int) -> StoredEvent | None:
        row = self.conn.execute(_SELECT + " WHERE seq = ?", (seq,)).fetchone()
        return _stored(row) if row else None

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

    def stream_version(self, stream_id: str) -> int:
        row = self.conn.execute("SELECT max(version) FROM events WHERE stream_id = ?",
                                (stream_id,)).fetchone()
        return row[0] or 0

    def head(self) -> tuple[int, str]:
        """The last seq and hash (0 and the genesis hash for an empty store)."""
        row = self.conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1")
        found = row.fetchone()
        return (found[0], found[1]) if found else (0, GENESIS_HASH)

    def __len__(self) -> int:
        return self.head()[0]

    def stats(self) -> list[TypeStats]:
        return [TypeStats(*row) for row in self.conn.execute(
            "SELECT type, count(*), min(time), max(time), min(seq), max(seq) FROM events "
            "GROUP BY type ORDER BY type")]

    def export_jsonl(self, out: IO[str], **filters: Any) -> int:
        """Write events as JSON lines (canonical JSON, payload as an object)."""
        written = 0
        for event in self.read(**filters):
            out.write(event.to_json() + "\n")
            written += 1
        return written

    # ---- checking -----------------------------------------------------------------------

    def verify(self) -> Verification:
        """Walk the chain from the first event: seqs gapless from 1, every hash recomputed."""
        previous, expected, count = GENESIS_HASH, 1, 0
        cursor = self.conn.execute(
            "SELECT seq, event_id, type, time, ts, stream_id, version, causation_id, "
            "correlation_id, idempotency_key, payload, hash FROM events ORDER BY seq")
        for row in cursor:
            seq = row[0]
            if seq != expected:
                return Verification(False, count, expected - 1, previous, expected,
                                    f"seq {expected} is missing (next is {seq})")
            try:
                computed = chain_hash(previous, row_bytes(*row[:11]))
            except (TypeError, ValueError, UnicodeEncodeError) as error:
                return Verification(False, count, seq - 1, previous, seq,
                                    f"row is not well-formed: {error}")
            if computed != row[11]:
                return Verification(False, count, seq - 1, previous, seq,
                                    "hash does not match the row and the previous hash")
            previous, expected, count = computed, expected + 1, count + 1
        return Verification(True, count, expected - 1, previous)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# ---- helpers ------------------------------------------------------------------------

def _stored(row: tuple) -> StoredEvent:
    return StoredEvent(*row[:10], json.loads(row[10]), row[11])


def _as_event(value: Event | Mapping[str, Any], index: int) -> Event:
    if isinstance(value, Event):
        return value
    if not isinstance(value, Mapping):
        raise EventRejected(f"event {index} is not an object but {type(value).__name__}")
    unknown = set(value) - set(ENVELOPE)
    if unknown:
        raise _rejected(index, None, sorted(unknown)[0], "is not a field of an event "
                        f"(fields: {', '.join(ENVELOPE)})")
    for required in ("type", "time", "stream_id", "payload"):
        if required not in value:
            raise _rejected(index, None, required, "is missing")
    return Event(**value)


_OPTIONAL_TEXT = ("event_id", "causation_id", "correlation_id", "idempotency_key")


def _check(event: Event, index: int, size: int, what: str | None = None) -> str:
    """The event's canonical payload JSON; EventRejected for the first thing wrong with it."""
    event_type = EVENT_TYPES.get(event.type) if type(event.type) is str else None
    payload = event_type.encode(event.payload) if event_type is not None else None
    valid = (payload is not None and type(event.time) is int and event.time >= 0
             and type(event.stream_id) is str and 0 < len(event.stream_id) <= MAX_TEXT
             and (event.ts is None or type(event.ts) is int and event.ts >= 0)
             and (event.version is None or type(event.version) is int and event.version > 0))
    if valid:
        for text in (event.event_id, event.causation_id, event.correlation_id,
                     event.idempotency_key):
            if text is not None and (type(text) is not str or not 0 < len(text) <= MAX_TEXT):
                valid = False
                break
    if valid:
        return payload
    raise _diagnose(event, event_type, index, size, what)


def _diagnose(event: Event, event_type, index: int, size: int, what: str | None):
    """Name the first thing wrong with an event that failed _check's fast test."""
    def fail(field: str, problem: str):
        return _rejected(index, event, field, problem, size, what)

    if event_type is None:
        return fail("type", f"{event.type!r} is not an event type")
    if not _is_int(event.time) or event.time < 0:
        return fail("time", "must be a non-negative integer (the tick)")
    if not isinstance(event.stream_id, str) or not 0 < len(event.stream_id) <= MAX_TEXT:
        return fail("stream_id", "must be a non-empty string")
    if event.ts is not None and (not _is_int(event.ts) or event.ts < 0):
        return fail("ts", "must be a non-negative integer (microseconds)")
    if event.version is not None and (not _is_int(event.version) or event.version < 1):
        return fail("version", "must be a positive integer")
    for name in _OPTIONAL_TEXT:
        value = getattr(event, name)
        if value is not None and (not isinstance(value, str) or not 0 < len(value) <= MAX_TEXT):
            return fail(name, f"must be a string of 1 to {MAX_TEXT} characters, or null")
    field, problem = payload_problem(event_type, event.payload) or ("payload", "is invalid")
    return fail(f"payload.{field}", problem)


def _is_int(value: Any) -> bool:
    return type(value) is int


def _rejected(index: int, event: Event | None, field: str, problem: str, size: int = 0,
              what: str | None = None) -> EventRejected:
    name = what or f"event {index}"
    if event is not None:
        name += f" ({event.type}" + (f" {event.event_id}" if event.event_id else "") + ")"
    tail = f"; nothing of the batch of {size} was written" if size else ""
    error = EventRejected(f"{name}: {field} {problem}{tail}")
    error.index, error.field = index, field
    return error


def _imported_row(line: str, number: int) -> tuple:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise StoreCorrupted(f"line {number}: not JSON: {error}") from None
    if not isinstance(record, dict) or set(record) != set(COLUMNS):
        raise StoreCorrupted(f"line {number}: an exported event has exactly the fields "
                             f"{', '.join(COLUMNS)}")
    row = tuple(record[c] for c in COLUMNS)
    if not _is_int(row[0]) or not isinstance(row[11], str):
        raise StoreCorrupted(f"line {number}: seq and hash are missing or mistyped")
    return row


def open_store(path: str | Path, **options: Any) -> EventStore:
    """An existing store (raises FileNotFoundError if there is none at `path`)."""
    return EventStore(path, create=False, **options)
