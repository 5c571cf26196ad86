"""The store's JSON-lines format: export any backend's events, check an export for import."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import IO, Any

from sim.events.types import Event, StoredEvent
from sim.events.validate import check_event
from sim.store.batch import Heads
from sim.store.chain import chain_hash, row_bytes
from sim.store.errors import StoreCorrupted

COLUMNS = StoredEvent._fields


def export_jsonl(events: Iterable[StoredEvent], out: IO[str]) -> int:
    """Write events as JSON lines (canonical JSON, payload as an object); returns the count."""
    written = 0
    for event in events:
        out.write(event.to_json() + "\n")
        written += 1
    return written


def imported_rows(lines: Iterable[str], heads: Heads) -> Iterator[tuple]:
    """The rows of an export, as stored (payload as canonical JSON text), checked to follow
    `heads`: seqs, stream versions and times in order, every event valid, every hash
    recomputed. Raises StoreCorrupted at the first line that fails."""
    seq, previous = heads.seq, heads.hash
    streams: dict[str, tuple[int, int]] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        row = _exported_row(line, number)
        if row[0] != seq + 1:
            raise StoreCorrupted(f"line {number}: seq {row[0]} does not follow {seq}")
        event = Event(row[2], row[3], row[5], row[10], row[1], row[4], row[6],
                      row[7], row[8], row[9])
        payload = check_event(event, number - 1, 0, what=f"line {number}")
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
        yield (*row[:10], payload, row[11])


def _exported_row(line: str, number: int) -> tuple[Any, ...]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise StoreCorrupted(f"line {number}: not JSON: {error}") from None
    if not isinstance(record, dict) or set(record) != set(COLUMNS):
        raise StoreCorrupted(f"line {number}: an exported event has exactly the fields "
                             f"{', '.join(COLUMNS)}")
    row = tuple(record[c] for c in COLUMNS)
    if type(row[0]) is not int or not isinstance(row[11], str):
        raise StoreCorrupted(f"line {number}: seq and hash are missing or mistyped")
    return row
