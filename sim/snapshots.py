"""Snapshots: the read models' state at a seq, stored beside the events, so replays resume."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from sim.events.ids import parse_json
from sim.projections import ReadModels
from sim.projections.models import canonical
from sim.store import StoreCorrupted

SNAPSHOT_FORMAT = 1  # bump when a projection's state changes shape: old snapshots are ignored
PROGRESS_EVERY = 5_000  # seqs between progress reports


@dataclass(frozen=True)
class Snapshot:
    """The read models' state after the event `seq`, whose hash was `event_hash`."""

    seq: int
    event_hash: str
    state_hash: str
    state: dict
    size: int = 0  # bytes stored

    def to_dict(self) -> dict:
        return {"seq": self.seq, "event_hash": self.event_hash,
                "state_hash": self.state_hash, "bytes": self.size}


def state_hash(state: dict) -> str:
    return hashlib.sha256(canonical(state).encode("ascii")).hexdigest()


def scan(store, first: int, last: int, types: Iterable[str] | None = None, *,
         progress: Callable[[int], None] | None = None
         ) -> Iterator[tuple[int, str, int, str]]:
    """store.scan, telling `progress` how many seqs of first..last it has read so far."""
    rows = store.scan(first, last, types)
    if progress is None:
        yield from rows
        return
    step = PROGRESS_EVERY
    for row in rows:
        yield row
        if row[0] >= first + step - 1:
            progress(row[0] - first + 1)
            step += PROGRESS_EVERY
    progress(last - first + 1)


def save_snapshot(store, models: ReadModels) -> Snapshot:
    """Store the models' state as of their last seq (which must be in the store)."""
    seq = models.last_seq
    event = store.get_seq(seq)
    if event is None:
        raise StoreCorrupted(f"cannot snapshot at seq {seq}: the store has no such event")
    state = models.state()
    text = canonical(state).encode("ascii")
    blob = zlib.compress(text, 6)
    digest = hashlib.sha256(text).hexdigest()
    store.save_snapshot(seq, event.hash, digest, blob, SNAPSHOT_FORMAT)
    return Snapshot(seq, event.hash, digest, state, len(blob))


def snapshots(store) -> list[Snapshot]:
    """Every usable snapshot, oldest first, without their state (state={})."""
    return [Snapshot(seq, event_hash, digest, {}, size) for seq, event_hash, digest, size in
            store.list_snapshots(SNAPSHOT_FORMAT)]


def latest_snapshot(store, at_or_before: int) -> Snapshot | None:
    """The latest snapshot at or before a seq, checked against the store: the event it
    stands for must still have its hash, and the state its digest."""
    row = store.load_snapshot(at_or_before, SNAPSHOT_FORMAT)
    if row is None:
        return None
    seq, event_hash, digest, blob = row
    event = store.get_seq(seq)
    if event is None or event.hash != event_hash:
        raise StoreCorrupted(f"the snapshot at seq {seq} stands for event hash {event_hash[:16]}…"
                             f" but the store has {event.hash[:16] + '…' if event else 'no event'}"
                             " there: the log changed under it; run `tempolog verify`")
    text = zlib.decompress(blob)
    if hashlib.sha256(text).hexdigest() != digest:
        raise StoreCorrupted(f"the snapshot at seq {seq} does not match its own digest")
    return Snapshot(seq, event_hash, digest, parse_json(text), len(blob))


def take_snapshots(store, every: int | None = None, *,
                   progress: Callable[[int], None] | None = None) -> list[Snapshot]:
    """Snapshot the read models every `every` seqs and at the head, resuming from the latest
    snapshot already stored; returns the new ones."""
    if every is not None and every < 1:
        raise ValueError("--every must be at least 1")
    head = store.head()[0]
    models = ReadModels()
    start = latest_snapshot(store, head)
    if start is not None:
        models.restore(start.state)
    taken = []
    seq = models.last_seq
    step = every or max(head - seq, 1)
    while seq < head:
        target = min(head, (seq // step + 1) * step)
        models.apply_rows(store.scan(seq + 1, target, models.event_types))
        models.last_seq = seq = target
        taken.append(save_snapshot(store, models))
        if progress is not None:
            progress(seq)
    return taken
