"""What every backend's append does first: check a batch, then number, stamp and chain it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from engine import EventRejected
from sim.events.ids import event_id, seed_bits
from sim.events.types import MAX_INT, Event, is_unicode
from sim.events.validate import check_event, rejected
from sim.store.chain import GENESIS_HASH, chained_hash, row_template
from sim.store.errors import ConcurrencyConflict

DEFAULT_EPOCH_US = 1_767_623_400_000_000  # 2026-01-05T14:30:00Z, the simulator's default
DEFAULT_TICK_US = 1_000_000
_STORE_BITS = seed_bits("store", "events")  # the run part of ids the store makes itself


class Heads:
    """What an append must know about the log: its last seq and hash, each stream's version
    and time, and every idempotency key. A backend loads it once and, when another writer
    has appended, absorbs the rows after `seq`: they are all that can be new."""

    def __init__(self) -> None:
        self.seq, self.hash = 0, GENESIS_HASH
        self.streams: dict[str, tuple[int, int]] = {}
        self.keys: dict[str, int] = {}

    def absorb(self, rows: Iterable[tuple]) -> None:
        """Rows of (seq, stream_id, version, time, idempotency_key, hash), in seq order."""
        streams, keys = self.streams, self.keys
        for seq, stream, version, time, key, hash in rows:
            streams[stream] = (version, time)
            if key is not None:
                keys[key] = seq
            self.seq, self.hash = seq, hash


# A stored event's (type, stream_id, payload JSON) by seq: what a repeated key is checked against.
StoredRequest = Callable[[int], tuple[str, str, str]]


# An event checked and encoded before an append takes the log's lock: (event, canonical
# payload JSON, ts, *the three pieces of its row bytes that do not depend on the log). A
# plain tuple: one allocation per event, which the append's throughput notices.
Checked = tuple


def check_batch(batch: list[Event]) -> list[Checked]:
    """Check and encode every event of a batch: all the work of an append that needs no
    lock, so that writers do it side by side. EventRejected names the first bad event."""
    size, checked = len(batch), []
    for index, event in enumerate(batch):
        payload = check_event(event, index, size)
        ts = event.ts if event.ts is not None else (
            DEFAULT_EPOCH_US + event.time * DEFAULT_TICK_US)
        if ts > MAX_INT:
            raise rejected(index, event, "time", "is too late: with no ts given, its ts "
                           "(the default epoch + time seconds) is past 64 bits", size)
        checked.append((event, payload, ts, *row_template(
            event.type, event.time, ts, event.stream_id, event.causation_id,
            event.idempotency_key, payload)))
    return checked


class Plan:
    """A checked batch numbered against the log, under its lock: the rows to insert (the
    stored columns, payload JSON, hash) and each event's seq; `commit` updates the heads
    once the rows are written. A repeated idempotency key is the same request again only
    with the same type, stream and payload: `stored_request` fetches what the original was
    when it is already stored."""

    def __init__(self, batch: list[Checked], heads: Heads, expected: Mapping[str, int],
                 stored_request: StoredRequest):
        self.heads = heads
        self.stored_request = stored_request
        self.rows: list[tuple] = []
        self.seqs: list[int] = []
        self.streams: dict[str, tuple[int, int]] = {}  # this batch's changes until commit
        self.keys: dict[str, int] = {}
        for stream, version in expected.items():
            actual = heads.streams.get(stream, (0, 0))[0]
            if actual != version:
                raise ConcurrencyConflict(
                    f"stream {stream} is at version {actual}, not the expected {version}; "
                    "nothing was written: re-read the stream and retry")
        self._number(batch)

    def _number(self, batch: list[Checked]) -> None:
        heads, streams, keys, rows, seqs = self.heads, self.streams, self.keys, self.rows, self.seqs
        seq, previous = heads.seq, heads.hash
        for index, (event, payload, ts, middle, causation, tail) in enumerate(batch):
            key = event.idempotency_key
            if key is not None:
                original = keys.get(key) or heads.keys.get(key)
                if original is not None:
                    self._same_request(index, event, payload, original, len(batch))
                    seqs.append(original)
                    continue
            version, last_time = streams.get(event.stream_id) or heads.streams.get(
                event.stream_id, (0, 0))
            if event.version is not None and event.version != version + 1:
                raise ConcurrencyConflict(
                    f"event {index} ({event.type}) expects stream {event.stream_id} at "
                    f"version {event.version - 1}, but it is at {version}; nothing of the "
                    f"batch of {len(batch)} was written")
            if version and event.time < last_time:
                raise rejected(index, event, "time", f"goes backwards in stream "
                               f"{event.stream_id} ({event.time} < {last_time})", len(batch))
            seq += 1
            version += 1
            eid = event.event_id or event_id(ts // 1000, seq, _STORE_BITS)
            correlation = event.correlation_id or eid
            previous = chained_hash(previous, seq, eid, version, correlation, middle,
                                    causation, tail)
            rows.append((seq, eid, event.type, event.time, ts, event.stream_id, version,
                         event.causation_id, correlation, key, payload, previous))
            streams[event.stream_id] = (version, event.time)
            if key is not None:
                keys[key] = seq
            seqs.append(seq)

    def _same_request(self, index: int, event: Event, payload: str, original: int,
                      size: int) -> None:
        """Refuse a repeated key whose event is not the original's (as payment APIs do): a
        different request under a used key would otherwise be dropped without a word."""
        if original > self.heads.seq:  # earlier in this batch
            row = self.rows[original - self.heads.seq - 1]
            before = (row[2], row[5], row[10])
        else:
            before = tuple(self.stored_request(original))
        for field, was, now in zip(("type", "stream_id", "payload"), before,
                                   (event.type, event.stream_id, payload)):
            if was != now:
                raise rejected(index, event, "idempotency_key",
                               f"{event.idempotency_key!r} was used by seq {original} with "
                               f"another {field} ({was[:80]}, not {now[:80]}): a repeated key "
                               "must repeat its request; a new request needs a new key", size)

    def commit(self) -> None:
        if self.rows:
            self.heads.seq, self.heads.hash = self.rows[-1][0], self.rows[-1][-1]
            self.heads.streams.update(self.streams)
            self.heads.keys.update(self.keys)


def check_expected(expected_versions) -> Mapping[str, int]:
    """`expected_versions` of an append: a mapping of stream ids to versions, or None."""
    if expected_versions is None:
        return {}
    if not isinstance(expected_versions, Mapping):
        raise EventRejected("expected_versions must map stream ids to versions, not "
                            f"{type(expected_versions).__name__}; nothing was written")
    for stream, version in expected_versions.items():
        if (type(stream) is not str or not is_unicode(stream) or type(version) is not int
                or not 0 <= version <= MAX_INT):
            raise EventRejected(f"expected_versions[{stream!r}] must be a stream id's version "
                                f"(an integer from 0), not {version!r}; nothing was written")
    return expected_versions


def duplicate_id(batch: list[Event], stored: set[str]) -> EventRejected | None:
    """The error for a batch that repeats an event id, its own or one of `stored`."""
    seen: set[str] = set()
    for index, event in enumerate(batch):
        if event.event_id is not None and event.event_id in seen:
            return rejected(index, event, "event_id", "repeats an earlier event's id",
                            len(batch))
        seen.add(event.event_id)
    for index, event in enumerate(batch):
        if event.event_id in stored:
            return rejected(index, event, "event_id", "is already in the store", len(batch))
    return None
