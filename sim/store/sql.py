"""What the SQL stores share: the statements that read single rows, snapshots and metadata."""

from __future__ import annotations

from typing import Any

from sim.events.ids import parse_json
from sim.events.types import StoredEvent
from sim.store.base import EventStore, TypeStats
from sim.store.chain import GENESIS_HASH
from sim.store.filters import conditions, where

# Written with `?`; a backend whose driver takes `%s` rewrites them (no statement below holds
# a literal question mark). ON CONFLICT … DO UPDATE is both PostgreSQL's and SQLite's (3.24+).
_SAVE_SNAPSHOT = ("INSERT INTO snapshots VALUES (?, ?, ?, ?, ?) ON CONFLICT (seq) DO UPDATE "
                  "SET event_hash = excluded.event_hash, state_hash = excluded.state_hash, "
                  "format = excluded.format, state = excluded.state")
_LOAD_SNAPSHOT = ("SELECT seq, event_hash, state_hash, state FROM snapshots WHERE seq <= ? AND "
                  "format = ? ORDER BY seq DESC LIMIT 1")
_LIST_SNAPSHOTS = ("SELECT seq, event_hash, state_hash, length(state) FROM snapshots "
                   "WHERE format = ? ORDER BY seq")
_SAVE_ENGINE_SNAPSHOT = ("INSERT INTO engine_snapshots VALUES (?, ?, ?, ?, ?) ON CONFLICT "
                         "(program, seq) DO UPDATE SET event_hash = excluded.event_hash, "
                         "state_hash = excluded.state_hash, state = excluded.state")
_LOAD_ENGINE_SNAPSHOT = ("SELECT seq, event_hash, state_hash, state FROM engine_snapshots "
                         "WHERE program = ? AND seq <= ? ORDER BY seq DESC LIMIT 1")
_LIST_ENGINE_SNAPSHOTS = ("SELECT seq, program, event_hash, state_hash, length(state) FROM "
                          "engine_snapshots")
_SET_META = ("INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE "
             "SET value = excluded.value")


class SqlEventStore(EventStore):
    """An event store in an SQL database reached through a DB-API connection `conn` whose
    `execute` returns a cursor. `select` is the statement that reads whole rows in
    `StoredEvent` order (the payload as JSON text)."""

    conn: Any
    select: str
    placeholder = "?"

    def _execute(self, sql: str, args: tuple | list = ()):
        if self.placeholder != "?":
            sql = sql.replace("?", self.placeholder)
        return self.conn.execute(sql, args)

    # ---- reading single rows ------------------------------------------------------------

    def get(self, event_id: str) -> StoredEvent | None:
        row = self._execute(self.select + " WHERE event_id = ?", (event_id,)).fetchone()
        return stored_event(row) if row else None

    def get_seq(self, seq: int) -> StoredEvent | None:
        row = self._execute(self.select + " WHERE seq = ?", (seq,)).fetchone()
        return stored_event(row) if row else None

    def stream_version(self, stream_id: str) -> int:
        row = self._execute("SELECT max(version) FROM events WHERE stream_id = ?",
                            (stream_id,)).fetchone()
        return row[0] or 0

    def head(self) -> tuple[int, str]:
        found = self._execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        return (found[0], found[1]) if found else (0, GENESIS_HASH)

    def stats(self, *, since: int | None = None, until: int | None = None) -> list[TypeStats]:
        clauses, args = conditions("?", from_time=since, to_time=until)
        return [TypeStats(*row) for row in self._execute(
            "SELECT type, count(*), min(time), max(time), min(seq), max(seq) FROM events"
            f"{where(clauses)} GROUP BY type ORDER BY type", args)]

    def last_seq_at(self, at: int) -> int:
        row = self._execute("SELECT max(seq) FROM events WHERE time <= ?", (at,))
        return row.fetchone()[0] or 0

    # ---- snapshots and metadata: plain tables beside the append-only one ------------------

    def save_snapshot(self, seq: int, event_hash: str, state_hash: str, state: bytes,
                      format: int) -> None:
        self._execute(_SAVE_SNAPSHOT, (seq, event_hash, state_hash, format, state))

    def load_snapshot(self, at_or_before: int, format: int
                      ) -> tuple[int, str, str, bytes] | None:
        return _with_bytes(self._execute(_LOAD_SNAPSHOT, (at_or_before, format)).fetchone())

    def list_snapshots(self, format: int) -> list[tuple[int, str, str, int]]:
        return self._execute(_LIST_SNAPSHOTS, (format,)).fetchall()

    # An engine's snapshots are keyed by its program's hash as well as the seq: the same store
    # holds snapshots of every rule set replayed from it (the read models' table has one per seq).
    def save_engine_snapshot(self, seq: int, program: str, event_hash: str, state_hash: str,
                             state: bytes) -> None:
        self._execute(_SAVE_ENGINE_SNAPSHOT, (seq, program, event_hash, state_hash, state))

    def load_engine_snapshot(self, program: str, at_or_before: int
                             ) -> tuple[int, str, str, bytes] | None:
        return _with_bytes(
            self._execute(_LOAD_ENGINE_SNAPSHOT, (program, at_or_before)).fetchone())

    def list_engine_snapshots(self, program: str | None = None
                              ) -> list[tuple[int, str, str, str, int]]:
        if program is None:
            return self._execute(_LIST_ENGINE_SNAPSHOTS + " ORDER BY seq, program").fetchall()
        return self._execute(_LIST_ENGINE_SNAPSHOTS + " WHERE program = ? ORDER BY seq",
                             (program,)).fetchall()

    def set_meta(self, key: str, value: str) -> None:
        self._execute(_SET_META, (key, value))

    def get_meta(self, key: str) -> str | None:
        row = self._execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None


def stored_event(row: tuple) -> StoredEvent:
    """A row of `select` (its payload JSON text) as a StoredEvent."""
    return StoredEvent(*row[:10], parse_json(row[10]), row[11])


def _with_bytes(row: tuple | None) -> tuple | None:
    # psycopg may hand a bytea back as a memoryview; callers hash and decode bytes.
    return None if row is None else (row[0], row[1], row[2], bytes(row[3]))
