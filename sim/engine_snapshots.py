"""Engine snapshots: an engine's state at a seq, kept beside the events, so replays with rules
resume from it instead of loading every event again."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from engine import SnapshotRejected, SnapshotUnsupported
from sim.facts import FactBatch, envelope_of
from sim.store import StoreCorrupted

log = logging.getLogger(__name__)
SNAPSHOT_BATCH = 50_000  # facts per assert while building up to a snapshot


@dataclass(frozen=True)
class EngineSnapshot:
    """An engine's state after the event `seq` (whose hash was `event_hash`), for the
    compiled program `program`; `state_hash` is the SHA-256 of the stored bytes."""

    seq: int
    program: str
    event_hash: str
    state_hash: str
    size: int = 0

    def to_dict(self) -> dict:
        return {"seq": self.seq, "program": self.program, "event_hash": self.event_hash,
                "state_hash": self.state_hash, "bytes": self.size}


def save_engine_snapshot(store, engine, seq: int) -> EngineSnapshot:
    """Store the engine's state, which must hold exactly the events 1..seq of the store."""
    event = store.get_seq(seq)
    if event is None:
        raise StoreCorrupted(f"cannot snapshot at seq {seq}: the store has no such event")
    blob = engine.dump_state()
    digest = hashlib.sha256(blob).hexdigest()
    program = engine.program_hash()
    store.save_engine_snapshot(seq, program, event.hash, digest, blob)
    return EngineSnapshot(seq, program, event.hash, digest, len(blob))


def engine_snapshots(store, program: str | None = None) -> list[EngineSnapshot]:
    """The stored engine snapshots (of one program), by seq."""
    return [EngineSnapshot(seq, prog, event_hash, digest, size) for seq, prog, event_hash,
            digest, size in store.list_engine_snapshots(program)]


def restore_latest(store, engine, at_or_before: int, notes: list[str] | None = None
                   ) -> EngineSnapshot | None:
    """Restore into `engine` the latest snapshot of its program at or before a seq that
    checks out: the event it stands for still has its hash, the bytes their SHA-256, the
    engine accepts them. A snapshot that does not is passed over with a warning (added to
    `notes`, else logged), never trusted. None when none does (or the backend cannot
    restore)."""
    try:
        program = engine.program_hash()
    except SnapshotUnsupported as error:
        _warn(notes, f"{error}: replaying from seq 1")
        return None
    bound = at_or_before
    while bound > 0:
        row = store.load_engine_snapshot(program, bound)
        if row is None:
            return None
        seq, event_hash, digest, blob = row
        bound = seq - 1
        event = store.get_seq(seq)
        if event is None or event.hash != event_hash:
            _warn(notes, f"the engine snapshot at seq {seq} stands for event hash "
                         f"{event_hash[:16]}…, but the store has "
                         f"{event.hash[:16] + '…' if event else 'no event'} there: ignored "
                         "(the log changed under it; run `tempolog verify`)")
            continue
        if hashlib.sha256(blob).hexdigest() != digest:
            _warn(notes, f"the engine snapshot at seq {seq} does not match its SHA-256: "
                         "ignored (damaged)")
            continue
        try:
            engine.restore_state(blob)
        except SnapshotRejected as error:
            _warn(notes, f"the engine snapshot at seq {seq} was refused: {error}")
            if engine.closed:  # it failed half way: nothing more can go into this engine
                raise
            continue
        return EngineSnapshot(seq, program, event_hash, digest, len(blob))
    return None


def take_engine_snapshots(store, engine, every: int | None = None, *,
                          queries: tuple[str, ...] = (),
                          progress: Callable[[int], None] | None = None
                          ) -> list[EngineSnapshot]:
    """Snapshot an engine of the rules every `every` seqs and at the head, resuming from the
    latest snapshot of its program already stored; returns the new ones. Before each, the
    `queries` are asked about now, so that the relations they read are materialised in the
    snapshot and a replay asking them resumes incrementally."""
    if every is not None and every < 1:
        raise ValueError("--every must be at least 1")
    head = store.head()[0]
    start = restore_latest(store, engine, head)
    seq = start.seq if start is not None else 0
    step = every or max(head - seq, 1)
    taken = []
    while seq < head:
        target = min(head, (seq // step + 1) * step)
        load_events(store, engine, seq + 1, target)
        for query in queries:
            engine.query(query, timeout=None)
        seq = target
        taken.append(save_engine_snapshot(store, engine, seq))
        if progress is not None:
            progress(seq)
    return taken


def load_events(store, engine, first: int, last: int) -> int:
    """Assert the events first..last into the engine as facts; returns how many were new."""
    batch, facts = FactBatch(engine), 0
    for event in store.read(from_seq=first, to_seq=last):
        batch.add(event.type, event.payload, event.time, event.seq, envelope_of(event))
        if batch.size >= SNAPSHOT_BATCH:
            facts += batch.flush()
    return facts + batch.flush()


def _warn(notes: list[str] | None, message: str) -> None:
    if notes is None:
        log.warning("%s", message)
    else:
        notes.append(message)
