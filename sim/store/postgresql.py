"""The event store on PostgreSQL: the SQLite store's contract for many writers and readers."""

from __future__ import annotations

import time as clock
from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any

import psycopg
from psycopg import errors as pg_errors

from engine import EventRejected
from sim.events.types import Event, StoredEvent
from sim.events.validate import as_event
from sim.store.batch import Heads, Plan, check_batch, check_expected, duplicate_id
from sim.store.errors import StoreCorrupted, StoreNotFound, StoreUnavailable
from sim.store.filters import conditions, where
from sim.store.jsonl import COLUMNS, imported_rows
from sim.store.sql import SqlEventStore, stored_event

SCHEMA_VERSION = 1

CHANNEL = "tempolog_events"
APPEND_LOCK = 0x74656D706F6C6F67  # "tempolog": the advisory lock that serialises appends
SCHEMA_LOCK = APPEND_LOCK + 1      # held while one process creates the schema
POLL_SECONDS = 0.5                 # how stale a tail may get if a notification is lost
PAGE = 5_000                       # rows a read fetches per round trip
_SELECT = (f"SELECT {', '.join(c if c != 'payload' else 'payload::text' for c in COLUMNS)} "
           "FROM events")
_TAKE_APPEND_LOCK = f"SELECT pg_advisory_xact_lock({APPEND_LOCK})"
_HEAD = "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1"
# One index probe per stream (a DISTINCT ON over the streams would read their every row).
_STREAM_HEADS = ("SELECT s, e.version, e.time FROM unnest(%s::text[]) s CROSS JOIN LATERAL "
                 "(SELECT version, time FROM events WHERE stream_id = s "
                 "ORDER BY version DESC LIMIT 1) e")
_STORED_KEYS = "SELECT idempotency_key, seq FROM events WHERE idempotency_key = ANY(%s)"
_COPY = f"COPY events ({', '.join(COLUMNS)}) FROM STDIN"
_REQUEST = "SELECT type, stream_id, payload::text FROM events WHERE seq = %s"
# Beside the log, created on open for stores made before them: snapshots can be dropped and
# rebuilt from the events at any time, so they are not append-only.
_SIDE_TABLES = """
CREATE TABLE IF NOT EXISTS snapshots (seq bigint PRIMARY KEY, event_hash text NOT NULL,
    state_hash text NOT NULL, format integer NOT NULL, state bytea NOT NULL);
CREATE TABLE IF NOT EXISTS engine_snapshots (seq bigint NOT NULL, program text NOT NULL,
    event_hash text NOT NULL, state_hash text NOT NULL, state bytea NOT NULL,
    PRIMARY KEY (program, seq));
CREATE TABLE IF NOT EXISTS meta (key text PRIMARY KEY, value text NOT NULL);
"""

# `payload` is `json`, not `jsonb`: json keeps the text verbatim, and the hash covers that text.
# seq is assigned under the append lock, not by a sequence: a sequence leaves a gap for every
# rolled-back batch, and the log's seq must be gapless.
_SCHEMA = """
CREATE TABLE tempolog_schema (version integer NOT NULL);
CREATE TABLE events (
    seq             bigint PRIMARY KEY,
    event_id        text   COLLATE "C" NOT NULL UNIQUE,
    type            text   COLLATE "C" NOT NULL,
    time            bigint NOT NULL,
    ts              bigint NOT NULL,
    stream_id       text   COLLATE "C" NOT NULL,
    version         bigint NOT NULL,
    causation_id    text   COLLATE "C",
    correlation_id  text   COLLATE "C",
    idempotency_key text   COLLATE "C",
    payload         json   NOT NULL,
    hash            text   NOT NULL,
    UNIQUE (stream_id, version)
);
CREATE UNIQUE INDEX events_idempotency_key ON events (idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX events_time ON events (time);
CREATE INDEX events_type ON events (type);
CREATE INDEX events_correlation ON events (correlation_id);
CREATE FUNCTION events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only: % is not allowed', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END $$;
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();
CREATE FUNCTION events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tempolog_events', (SELECT max(seq) FROM appended)::text);
    RETURN NULL;
END $$;
CREATE TRIGGER events_appended AFTER INSERT ON events REFERENCING NEW TABLE AS appended
    FOR EACH STATEMENT EXECUTE FUNCTION events_notify();
"""


def _locked_heads(conn: psycopg.Connection, lock: str | None, streams: list[str],
                  keys: list[str]) -> Heads:
    """Begin the append's transaction, take the append lock and read what the batch depends
    on: the last seq and hash, the last version and time of its streams, which of its keys
    are stored. One round trip (a pipeline); each read is a statement after the lock's, so
    under READ COMMITTED it sees every append committed before the lock was granted."""
    with conn.pipeline():
        conn.execute("BEGIN")
        if lock is not None:
            conn.execute(lock)
        head = conn.execute(_HEAD)
        stream_heads = conn.execute(_STREAM_HEADS, (streams,))
        stored_keys = conn.execute(_STORED_KEYS, (keys,)) if keys else None
    heads = Heads()
    row = head.fetchone()
    if row is not None:
        heads.seq, heads.hash = row
        heads.streams = {stream: (version, time) for stream, version, time in stream_heads}
        if stored_keys is not None:
            heads.keys = dict(stored_keys.fetchall())
    return heads


class _StreamsOnDemand(dict):
    """Stream heads looked up as an import first meets each stream."""

    def __init__(self, cur: psycopg.Cursor):
        super().__init__()
        self.cur = cur

class PostgresEventStore(SqlEventStore):
    """Append-only events in one PostgreSQL database (or schema, by the URL's search_path).
    Appends from any number of connections and processes take turns on a transaction-scoped
    advisory lock: each batch reads the head, extends the chain and commits or rolls back
    whole, so seqs stay gapless and the chain never forks. Commits NOTIFY listeners."""

    select = _SELECT
    placeholder = "%s"
    # Waits for the other appenders' transactions; held until this one ends.
    append_lock: str | None = _TAKE_APPEND_LOCK

    def __init__(self, url: str, *, create: bool = True, durable: bool = True):
        self.url = url
        self.durable = durable
        self.conn = _connect(url)
        self._listener: psycopg.Connection | None = None
        try:
            self._open(create)
        except BaseException:
            self.conn.close()
            raise
        if not durable:  # a crash may lose the last commits, never corrupt: as SQLite NORMAL
            self.conn.execute("SET synchronous_commit = off")

    def _open(self, create: bool) -> None:
        with self.conn.transaction():
            self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            events, schema = self.conn.execute(
                "SELECT to_regclass('events') IS NOT NULL, "
                "to_regclass('tempolog_schema') IS NOT NULL").fetchone()
            if events and not schema:
                raise StoreCorrupted(f"{safe_url(self.url)} has an events table that is not "
                                     "a tempolog event store (no tempolog_schema table)")
            if schema:
                found = self.conn.execute("SELECT max(version) FROM tempolog_schema").fetchone()
                if found[0] != SCHEMA_VERSION:
                    raise StoreCorrupted(
                        f"{safe_url(self.url)} holds event store schema version {found[0]}, "
                        f"not {SCHEMA_VERSION}: use the tempolog release that wrote it, or "
                        "export it there and import it here")
                self.conn.execute(_SIDE_TABLES)
                return
            if not create:
                raise StoreNotFound(f"no event store at {safe_url(self.url)}")
            self.conn.execute(_SCHEMA)
            self.conn.execute(_SIDE_TABLES)
            self.conn.execute("INSERT INTO tempolog_schema VALUES (%s)", (SCHEMA_VERSION,))

    # ---- writing ------------------------------------------------------------------------

    def append(self, events: Iterable[Event | Mapping[str, Any]], *,
               expected_versions: Mapping[str, int] | None = None) -> list[int]:
        batch = [as_event(e, i) for i, e in enumerate(events)]
        expected = check_expected(expected_versions)
        checked = check_batch(batch)  # before the lock: writers check side by side
        streams = list({e.stream_id for e in batch} | set(expected))
        keys = list({e.idempotency_key for e in batch} - {None})
        conn = self.conn
        try:
            heads = _locked_heads(conn, self.append_lock, streams, keys)
            with conn.cursor() as cur:
                plan = Plan(checked, heads, expected,
                            lambda seq: cur.execute(_REQUEST, (seq,)).fetchone())
                if plan.rows:
                    self._insert(cur, plan.rows)
            conn.execute("COMMIT")
        except pg_errors.UniqueViolation as error:
            self._rollback()
            raise self._explain_unique(batch, error) from None
        except BaseException:
            self._rollback()
            raise
        return plan.seqs

    def _rollback(self) -> None:
        if not self.conn.closed and (self.conn.info.transaction_status
                                     != psycopg.pq.TransactionStatus.IDLE):
            self.conn.execute("ROLLBACK")


    @staticmethod
    def _insert(cur: psycopg.Cursor, rows: list[tuple]) -> None:
        with cur.copy(_COPY) as copy:
            for row in rows:
                copy.write_row(row)

    def _explain_unique(self, batch: list[Event], error: Exception) -> EventRejected:
        ids = [e.event_id for e in batch if e.event_id is not None]
        stored = {row[0] for row in self.conn.execute(
            "SELECT event_id FROM events WHERE event_id = ANY(%s)", (ids,))}
        return duplicate_id(batch, stored) or EventRejected(
            f"the batch breaks a constraint of the store: {error.diag.message_primary}")

    def import_jsonl(self, lines: Iterable[str] | IO[str]) -> int:
        try:
            with self.conn.transaction(), self.conn.cursor() as cur:
                cur.execute(_TAKE_APPEND_LOCK)
                heads = Heads()
                row = cur.execute(_HEAD).fetchone()
                if row is not None:
                    heads.seq, heads.hash = row
                    heads.streams = _StreamsOnDemand(self.conn.cursor())
                rows = list(imported_rows(lines, heads))
                self._insert(cur, rows)
        except pg_errors.UniqueViolation as error:
            raise StoreCorrupted(f"imported events clash with stored ones: "
                                 f"{error.diag.message_primary}") from None
        return len(rows)

    # ---- reading ------------------------------------------------------------------------

    def read(self, *, from_seq: int | None = None, to_seq: int | None = None,
             from_time: int | None = None, to_time: int | None = None,
             types: Iterable[str] | None = None, stream_id: str | None = None,
             correlation_id: str | None = None, limit: int | None = None
             ) -> Iterator[StoredEvent]:
        clauses, args = conditions("%s", to_seq=to_seq, from_time=from_time, to_time=to_time,
                                   stream_id=stream_id, correlation_id=correlation_id,
                                   types=types)  # from_seq: where the pages start
        for row in self._pages(clauses, args, (from_seq or 1) - 1, limit):
            yield stored_event(row)

    def _pages(self, clauses: list[str], args: list, after: int, limit: int | None):
        """Rows past seq `after`, a page a round trip: a long read holds no transaction
        open, and a page is always whole rows of an append-only log (new rows come last)."""
        sql = f"{_SELECT}{where(['seq > %s', *clauses])} ORDER BY seq LIMIT %s"
        while limit is None or limit > 0:
            page = PAGE if limit is None else min(PAGE, limit)
            rows = self.conn.execute(sql, [after, *args, page]).fetchall()
            yield from rows
            if len(rows) < page:
                return
            after = rows[-1][0]
            if limit is not None:
                limit -= len(rows)

    def scan(self, from_seq: int, to_seq: int, types: Iterable[str] | None = None
             ) -> Iterator[tuple[int, str, int, str]]:
        sql = ("SELECT seq, type, time, payload::text FROM events WHERE seq > %s AND seq <= %s"
               + (" AND type = ANY(%s)" if types is not None else "") + " ORDER BY seq LIMIT %s")
        extra = [list(types)] if types is not None else []
        after = from_seq - 1
        while True:
            rows = self.conn.execute(sql, [after, to_seq, *extra, PAGE]).fetchall()
            yield from rows
            if len(rows) < PAGE:
                return
            after = rows[-1][0]

    def stored_rows(self) -> Iterator[tuple]:
        return self._pages([], [], 0, None)

    # ---- tailing ------------------------------------------------------------------------

    def wait_for_append(self, after_seq: int, timeout: float) -> int:
        """Woken by the commit's NOTIFY on a connection of its own; the head is re-read every
        POLL_SECONDS too, so a lost notification delays a follower but loses nothing."""
        deadline = clock.monotonic() + timeout
        listener = self._listen()
        while True:
            head = listener.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]
            left = deadline - clock.monotonic()
            if head > after_seq or left <= 0:
                return head
            for _ in listener.notifies(timeout=min(left, POLL_SECONDS), stop_after=1):
                pass

    def _listen(self) -> psycopg.Connection:
        if self._listener is None or self._listener.closed:
            self._listener = _connect(self.url)
            self._listener.execute(f"LISTEN {CHANNEL}")  # before the head is read: no gap
        return self._listener

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()
        self.conn.close()


def _connect(url: str) -> psycopg.Connection:
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as error:
        lines = str(error).strip().splitlines()
        raise StoreUnavailable(f"cannot reach the event store at {safe_url(url)}: "
                               f"{lines[-1] if lines else 'no answer'}") from None


def safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    info = psycopg.conninfo.conninfo_to_dict(url)
    host, port = info.get("host", "localhost"), info.get("port", "5432")
    return f"postgresql://{info.get('user', '')}@{host}:{port}/{info.get('dbname', '')}"



def open_url(url: str, *, create: bool = False, durable: bool = True) -> PostgresEventStore:
    """The store at a `postgresql://` URL (libpq's syntax; a schema by its search_path)."""
    return PostgresEventStore(url, create=create, durable=durable)


def remove_url(url: str) -> None:
    """Drop the store's tables and functions (`tempolog sim --overwrite`); DROP is not one of
    the changes the triggers refuse, as dropping the store is not editing its history."""
    with _connect(url) as conn, conn.transaction():
        conn.execute("DROP TABLE IF EXISTS events, tempolog_schema, snapshots, engine_snapshots, "
                     "meta")
        conn.execute("DROP FUNCTION IF EXISTS events_refuse_change(), events_notify()")
