"""Determinism checks: replay a range twice and compare; re-run the simulator and compare."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from sim.events.ids import parse_json
from sim.events.types import EVENT_TYPES, StoredEvent
from sim.projections import ReadModels, StateDifference
from sim.snapshots import snapshots, state_hash
from sim.store.chain import GENESIS_HASH, chain_hash, row_bytes


@dataclass
class Validation:
    ok: bool
    events: int
    first_seq: int
    last_seq: int
    digest: str = ""  # the read models' state digest after the range (replay check)
    difference: StateDifference | None = None
    checked_snapshots: list[int] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"ok": self.ok, "events": self.events, "first_seq": self.first_seq,
                "last_seq": self.last_seq, "digest": self.digest,
                "checked_snapshots": self.checked_snapshots,
                "difference": self.difference.to_dict() if self.difference else None}


def validate_replay(store, from_seq: int | None = None, to_seq: int | None = None, *,
                    make_models: Callable[[], ReadModels] = ReadModels,
                    progress: Callable[[int], None] | None = None) -> Validation:
    """Replay the range into two fresh read models side by side, each from its own read of
    the store, comparing every entry each event changes; the first mismatch names its seq
    and both values. A replay from seq 1 is also checked against the stored snapshots."""
    first, last = from_seq or 1, min(to_seq or store.head()[0], store.head()[0])
    left, right = make_models(), make_models()
    if first > 1:  # the states start from nothing at `first`, not from a snapshot
        left.last_seq = right.last_seq = first - 1
    stored = {s.seq: s.state_hash for s in snapshots(store)} if first == 1 else {}
    result = Validation(True, 0, first, last)
    rows_a = store.scan(first, last)
    rows_b = store.scan(first, last)
    try:
        return _lockstep(result, left, right, rows_a, rows_b, stored, progress)
    finally:
        rows_a.close()
        rows_b.close()


def _lockstep(result, left, right, rows_a, rows_b, stored, progress) -> Validation:
    loads, read = parse_json, left.event_types | right.event_types
    for (seq, type, time, payload), (seq_b, type_b, time_b, payload_b) in zip(rows_a, rows_b):
        result.events += 1
        if (seq, type, time, payload) != (seq_b, type_b, time_b, payload_b):
            result.ok = False
            result.difference = StateDifference(seq, type, "event", seq, [seq, type, payload],
                                                [seq_b, type_b, payload_b])
            return result
        if type in read:
            touched = left.apply(seq, type, time, loads(payload))
            touched_b = right.apply(seq, type, time, loads(payload_b))
        else:
            touched = left.apply(seq, type, time, None)
            touched_b = right.apply(seq, type, time, None)
        for name, key in dict.fromkeys(touched + touched_b):
            mine, theirs = left.entry(name, key), right.entry(name, key)
            if mine != theirs:
                result.ok = False
                result.difference = StateDifference(seq, type, name, key, mine, theirs)
                return result
        if seq in stored:
            digest = state_hash(left.state())
            result.checked_snapshots.append(seq)
            if digest != stored[seq]:
                result.ok = False
                result.difference = StateDifference(seq, type, "snapshot", seq, stored[seq],
                                                    digest)
                return result
        if progress is not None and result.events % 5000 == 0:
            progress(result.events)
    left.last_seq = right.last_seq = max(left.last_seq, result.last_seq)
    whole = left.first_difference(right)
    if whole is not None:  # a difference no single event's entries showed
        result.ok, result.difference = False, whole
    result.digest = left.digest()
    return result


def validate_resimulate(store, config, *, progress: Callable[[int], None] | None = None
                        ) -> Validation:
    """Run the simulator again with the run's config and compare every stored row, hash and
    content, with the one the run gives, in seq order; the first mismatch shows the fields
    that differ."""
    stored = store.stored_rows()
    result = Validation(True, 0, 1, 0)
    for row in resimulated(config):
        original = next(stored, None)
        if original != row:
            again = StoredEvent(*row[:10], parse_json(row[10]), row[11])
            original = original and store.get_seq(original[0])
            result.ok, result.difference = False, _event_difference(original, again)
            return result
        result.events, result.last_seq = result.events + 1, row[0]
        if progress is not None and row[0] % 5000 == 0:
            progress(row[0])
    extra = next(stored, None)
    if extra is not None:
        extra = store.get_seq(extra[0])
        result.ok = False
        result.difference = StateDifference(extra.seq, extra.type, "event", "seq",
                                            _fields(extra), "the simulation ends before it")
    return result


def resimulated(config) -> Iterator[tuple]:
    """The rows a run of `config` gives, as the store holds them: the columns in order,
    the payload's canonical JSON, the hash chain."""
    from sim.exchange.simulator import Simulation

    previous, seq = GENESIS_HASH, 0
    for _, events in Simulation(config).ticks():
        for e in events:
            seq += 1
            payload = EVENT_TYPES[e.type].encode(e.payload)
            row = (seq, e.event_id, e.type, e.time, e.ts, e.stream_id, e.version,
                   e.causation_id, e.correlation_id, e.idempotency_key, payload)
            previous = chain_hash(previous, row_bytes(*row))
            yield (*row, previous)


def _fields(event) -> dict:
    fields = event._asdict()
    payload = fields.pop("payload")
    return {**fields, **{f"payload.{k}": v for k, v in payload.items()}}


def _event_difference(original, again) -> StateDifference | None:
    if original is None:
        return StateDifference(again.seq, again.type, "event", "seq",
                               "the store ends before it", _fields(again))
    mine, theirs = _fields(original), _fields(again)
    keys = [k for k in dict.fromkeys([*mine, *theirs]) if k != "hash"
            and mine.get(k) != theirs.get(k)]  # the hash differs with any other field
    return StateDifference(original.seq, original.type, "event", tuple(keys) or ("hash",),
                           {k: mine.get(k) for k in keys} or original.hash,
                           {k: theirs.get(k) for k in keys} or again.hash)
