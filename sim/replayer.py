"""Replay: a selection of stored events, in seq order, into the read models or an engine."""

from __future__ import annotations

import time as wall
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

from engine import TempologError
from sim.engine_snapshots import EngineSnapshot, restore_latest
from sim.events.types import StoredEvent
from sim.facts import FactBatch, envelope_of
from sim.projections import ReadModels
from sim.snapshots import Snapshot, latest_snapshot, scan

Progress = Callable[[int], None]  # called with how many events were read so far
ENGINE_BATCH = 50_000


class ReplayError(TempologError):
    """A replay that cannot be done as asked (bad range, speed or filter)."""

    code = "replay"


@dataclass(frozen=True)
class Selection:
    """Which events to replay; every bound inclusive, every filter optional. A symbol or
    client filter keeps the events about it: by payload, or by the order or trade they
    belong to."""

    from_seq: int | None = None
    to_seq: int | None = None
    from_time: int | None = None
    to_time: int | None = None
    types: tuple[str, ...] | None = None
    symbols: tuple[str, ...] | None = None
    clients: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        for low, high, what in ((self.from_seq, self.to_seq, "seq"),
                                (self.from_time, self.to_time, "time")):
            if low is not None and high is not None and low > high:
                raise ReplayError(f"the {what} range is empty: from {low} is after to {high}")
            for value in (low, high):
                if value is not None and value < 0:
                    raise ReplayError(f"a {what} bound must not be negative (got {value})")

    @property
    def filtered(self) -> bool:
        """Whether it picks events by anything but a seq range."""
        return any(value is not None for value in (self.from_time, self.to_time, self.types,
                                                   self.symbols, self.clients))


@dataclass
class ReplayResult:
    events: int  # events replayed: read, and applied if a model (or the engine) reads them
    first_seq: int
    last_seq: int
    elapsed: float
    snapshot: Snapshot | None = None  # the snapshot the state started from
    engine_snapshot: EngineSnapshot | None = None  # the engine snapshot it started from
    models: ReadModels | None = None
    applied: int = 0  # events that changed a read model
    facts: int = 0  # facts new to the engine
    waited: float = 0.0  # seconds slept to keep to --speed
    notes: list[str] = field(default_factory=list)


class Pacer:
    """Keeps a replay to `speed` times the events' simulated pace (their `ts`, in
    microseconds); speed 0 is as fast as possible."""

    def __init__(self, speed: float, clock: Callable[[], float] = wall.monotonic,
                 sleep: Callable[[float], None] = wall.sleep):
        if speed < 0:
            raise ReplayError(f"--speed must be 0 (as fast as possible) or positive, not {speed}")
        self.speed, self.clock, self.sleep = speed, clock, sleep
        self.origin: tuple[int, float] | None = None
        self.waited = 0.0

    def wait_for(self, ts: int) -> None:
        if not self.speed:
            return
        if self.origin is None:
            self.origin = (ts, self.clock())
            return
        first_ts, started = self.origin
        due = started + (ts - first_ts) / 1e6 / self.speed
        ahead = due - self.clock()
        if ahead > 0:
            self.sleep(ahead)
            self.waited += ahead


class EventFilter:
    """Keeps the events a Selection's symbols and clients name. Events that carry only an
    order or trade id are placed by that order's submission or that trade's execution."""

    def __init__(self, store, selection: Selection):
        self.store = store
        self.types = set(selection.types) if selection.types else None
        self.symbols = set(selection.symbols) if selection.symbols else None
        self.clients = set(selection.clients) if selection.clients else None
        self._owners: dict[str, tuple[frozenset[str], str | None]] = {}

    def keeps(self, event: StoredEvent) -> bool:
        clients, symbol = self._about(event)
        if self.types is not None and event.type not in self.types:
            return False
        if self.symbols is not None and symbol is not None and symbol not in self.symbols:
            return False
        return self.clients is None or bool(clients & self.clients)

    def _about(self, event: StoredEvent) -> tuple[frozenset[str], str | None]:
        """The clients and the symbol an event is about (None: every symbol)."""
        p = event.payload
        if event.type == "OrderSubmitted":
            found = self._owners[p["order"]] = (frozenset((p["client"],)), p["symbol"])
            return found
        if event.type == "TradeExecuted":
            found = self._owners[p["trade"]] = (frozenset((p["buyer"], p["seller"])),
                                                p["symbol"])
            return found
        clients = frozenset(p[name] for name in ("client", "buyer", "seller") if name in p)
        symbol = p.get("symbol")
        if not clients or symbol is None:
            owner = p.get("order") or p.get("trade")
            if owner is not None:
                owner_clients, owner_symbol = self._owner(owner, event)
                clients = clients or owner_clients
                symbol = symbol or owner_symbol
        return clients, symbol

    def _owner(self, entity: str, event: StoredEvent) -> tuple[frozenset[str], str | None]:
        found = self._owners.get(entity)
        if found is None:  # submitted before the replayed range: ask the store once
            first = next(self.store.read(stream_id=event.stream_id, limit=1), None)
            found = self._about(first) if first is not None and first.seq < event.seq else (
                frozenset(), None)
            self._owners[entity] = found
        return found


def select(store, selection: Selection) -> Iterator[StoredEvent]:
    """The selected events, in seq order."""
    types = list(selection.types) if selection.types and not (
        selection.symbols or selection.clients) else None
    events = store.read(from_seq=selection.from_seq, to_seq=selection.to_seq,
                        from_time=selection.from_time, to_time=selection.to_time, types=types)
    if not (selection.symbols or selection.clients):
        yield from events
        return
    keeps = EventFilter(store, selection).keeps
    for event in events:
        if keeps(event):
            yield event


def models_at(store, seq: int, *, use_snapshots: bool = True,
              progress: Progress | None = None) -> tuple[ReadModels, Snapshot | None]:
    """The read models as of `seq`: the latest snapshot at or before it, then the rest."""
    models, snapshot = ReadModels(), None
    if use_snapshots and seq > 0:
        snapshot = latest_snapshot(store, seq)
        if snapshot is not None:
            models.restore(snapshot.state)
    advance(store, models, seq, progress=progress)
    return models, snapshot


def advance(store, models: ReadModels, to_seq: int, *, progress: Progress | None = None) -> int:
    """Apply the events after the models' last seq through `to_seq`; returns how many of
    them changed a model."""
    if to_seq <= models.last_seq:
        return 0
    rows = scan(store, models.last_seq + 1, to_seq, models.event_types, progress=progress)
    applied = models.apply_rows(rows)
    models.last_seq = to_seq
    return applied


def replay_models(store, selection: Selection = Selection(), *, speed: float = 0,
                  use_snapshots: bool = True, progress: Progress | None = None,
                  pacer: Pacer | None = None) -> ReplayResult:
    """Rebuild the read models. An unfiltered replay gives the whole state as of `to_seq`:
    it starts from the latest snapshot at or before `from_seq` (else from seq 1) and
    replays only the rest. A filtered one feeds only the selected events to fresh models."""
    started = wall.perf_counter()
    pacer = pacer or Pacer(speed)
    head = store.head()[0]
    to_seq = head if selection.to_seq is None else min(selection.to_seq, head)
    result = ReplayResult(0, 0, 0, 0.0)
    if selection.filtered or speed:
        models = ReadModels()
        if not selection.filtered and selection.from_seq and use_snapshots:
            models, result.snapshot = models_at(store, selection.from_seq - 1)
        chosen = Selection(max(selection.from_seq or 1, models.last_seq + 1), to_seq,
                           selection.from_time, selection.to_time, selection.types,
                           selection.symbols, selection.clients)
        result.first_seq = chosen.from_seq
        for event in select(store, chosen):
            pacer.wait_for(event.ts)
            result.applied += bool(models.apply(event.seq, event.type, event.time,
                                                event.payload))
            result.events += 1
            if progress is not None and result.events % 1000 == 0:
                progress(result.events)
    else:
        start = min(selection.from_seq or 0, to_seq)
        models, result.snapshot = ReadModels(), None
        if start and use_snapshots:
            result.snapshot = latest_snapshot(store, start)
            if result.snapshot is not None:
                models.restore(result.snapshot.state)
        result.first_seq = models.last_seq + 1
        result.applied = advance(store, models, to_seq, progress=progress)
        result.events = max(to_seq - result.first_seq + 1, 0)
    result.models, result.last_seq = models, models.last_seq
    result.waited, result.elapsed = pacer.waited, wall.perf_counter() - started
    return result


def replay_engine(store, engine, selection: Selection = Selection(), *, speed: float = 0,
                  progress: Progress | None = None, pacer: Pacer | None = None,
                  use_snapshots: bool = True) -> ReplayResult:
    """Assert events into a new engine as facts, with their seqs, as the simulator streams
    them. At a speed, each event's facts are asserted when it is due.

    An unfiltered replay gives the whole state as of `to_seq`: it restores the latest engine
    snapshot of the engine's program at or before `from_seq` (else at or before `to_seq`;
    paced, before `from_seq` only) and asserts only the events after it, else every event
    from seq 1. A filtered one asserts only the selected events."""
    started = wall.perf_counter()
    pacer = pacer or Pacer(speed)
    result = ReplayResult(0, 0, 0, 0.0)
    if not selection.filtered:
        head = store.head()[0]
        to_seq = head if selection.to_seq is None else min(selection.to_seq, head)
        anchor = min(selection.from_seq or to_seq, to_seq)
        if speed:
            anchor = max(selection.from_seq or 1, 1) - 1
        if use_snapshots and anchor > 0:
            result.engine_snapshot = restore_latest(store, engine, anchor, result.notes)
        first = result.engine_snapshot.seq + 1 if result.engine_snapshot else 1
        result.first_seq, result.last_seq = first, first - 1
        if first > to_seq:  # the snapshot is the state asked for
            result.elapsed = wall.perf_counter() - started
            return result
        selection = replace(selection, from_seq=first, to_seq=to_seq)
    batch = FactBatch(engine)
    last = None
    for event in select(store, selection):
        if speed:
            pacer.wait_for(event.ts)
        elif batch.full(ENGINE_BATCH, event.time, last):
            result.facts += batch.flush()
        batch.add(event.type, event.payload, event.time, event.seq, envelope_of(event))
        result.first_seq = result.first_seq if result.events else event.seq
        result.last_seq, last = event.seq, event.time
        result.events += 1
        if speed:
            result.facts += batch.flush()
        if progress is not None and result.events % 1000 == 0:
            progress(result.events)
    result.facts += batch.flush()
    result.waited, result.elapsed = pacer.waited, wall.perf_counter() - started
    return result
