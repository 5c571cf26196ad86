"""Events become facts: each event type's relation row, streamed into an engine or replayed."""

from __future__ import annotations

from engine import TempologError
from sim.events.types import ENVELOPE_RELATION, EVENT_TYPES, EventType, envelope_row
from sim.store.base import EventStore

REPLAY_BATCH = 50_000


def fact_of(type: str, payload: dict, time: int) -> tuple[str, tuple]:
    """The event's relation and row: the payload's fields in table order, then the time."""
    event_type = EVENT_TYPES[type]
    return event_type.relation, event_type.fact_row(payload, time)


def event_relations(engine) -> dict[str, EventType]:
    """The event types whose relation the engine's program declares, by type name. A
    relation declared with other columns than the table's is an error: regenerate
    rules/events.dl (`python -m sim.events > rules/events.dl`)."""
    declared = engine.relations()
    found = {}
    for event_type in EVENT_TYPES.values():
        relation = declared.get(event_type.relation)
        if relation is None:
            continue
        expected = (*event_type.field_names, "t")
        if relation.arity != len(expected) or not relation.is_event:
            raise TempologError(
                f"the rules declare {event_type.relation} as {relation.name}"
                f"({', '.join(relation.fields)}), but its events carry ({', '.join(expected)})"
                "; include rules/events.dl rather than declaring event relations by hand",
                code="event-schema")
        found[event_type.name] = event_type
    return found


def wants_envelope(engine) -> bool:
    """Does the engine's program declare the envelope relation `event` (rules/events.dl)?"""
    relation = engine.relations().get(ENVELOPE_RELATION)
    if relation is None:
        return False
    if relation.arity != 8 or not relation.is_event:
        raise TempologError(
            f"the rules declare {ENVELOPE_RELATION} as {relation.name}"
            f"({', '.join(relation.fields)}), but an event's envelope is (seq, id, type, "
            "stream, version, t, causation, correlation); include rules/events.dl",
            code="event-schema")
    return True


def envelope_of(event) -> tuple:
    """An Event's or StoredEvent's (event_id, stream, version, causation, correlation)."""
    return (event.event_id, event.stream_id, event.version, event.causation_id,
            event.correlation_id)


class FactBatch:
    """Rows and seqs per relation, gathered until flushed into an engine in one call each."""

    def __init__(self, engine):
        self.engine = engine
        self.types = event_relations(engine)
        self.envelope = wants_envelope(engine)
        self.rows: dict[str, list[tuple]] = {}
        self.seqs: dict[str, list[int]] = {}
        self.size = 0

    def add(self, type: str, payload: dict, time: int, seq: int, envelope: tuple = ()) -> None:
        """One event's facts; `envelope` is its (event_id, stream, version, causation,
        correlation), needed when the rules read the envelope relation."""
        if self.envelope:
            self._append(ENVELOPE_RELATION, envelope_row(seq, type, time, *envelope), seq)
        event_type = self.types.get(type)
        if event_type is None:  # the rules do not use this event type
            return
        self._append(event_type.relation, event_type.fact_row(payload, time), seq)

    def _append(self, relation: str, row: tuple, seq: int) -> None:
        rows = self.rows.get(relation)
        if rows is None:
            rows = self.rows[relation] = []
            self.seqs[relation] = []
        rows.append(row)
        self.seqs[relation].append(seq)
        self.size += 1

    def full(self, size: int, time: int, last: int | None) -> bool:
        """Whether to flush before an event at `time` (the one before was at `last`): past
        `size` facts, at the start of a tick, so that no tick is split between two calls
        (the engine then looks up no fact of a call against the ones stored before it:
        they are all later); past twice `size` in any case."""
        return self.size >= size and (time != last or self.size >= 2 * size)

    def take(self) -> list[tuple[str, list[tuple], list[int]]]:
        """Everything gathered, as (relation, rows, seqs), and start afresh."""
        taken = [(relation, rows, self.seqs[relation]) for relation, rows in self.rows.items()]
        self.rows, self.seqs, self.size = {}, {}, 0
        return taken

    def flush(self) -> int:
        """Assert everything gathered; returns how many facts were new."""
        return sum(self.engine.assert_facts(relation, rows, seqs=seqs)
                   for relation, rows, seqs in self.take())


def replay(store: EventStore, engine, *, to_time: int | None = None,
           from_seq: int | None = None, batch_size: int = REPLAY_BATCH) -> int:
    """Load a store's events into an engine as facts, in seq order; returns how many events
    were read. The same facts, with the same seqs, as streaming them during the run."""
    batch = FactBatch(engine)
    count, last = 0, None
    add = batch.add
    if batch.envelope:  # whole events: the envelope's columns too
        for event in store.read(from_seq=from_seq, to_time=to_time):
            if batch.full(batch_size, event.time, last):
                batch.flush()
            add(event.type, event.payload, event.time, event.seq, envelope_of(event))
            count, last = count + 1, event.time
        batch.flush()
        return count
    for seq, type, time, payload in store.read_facts(from_seq=from_seq, to_time=to_time):
        if batch.full(batch_size, time, last):
            batch.flush()
        add(type, payload, time, seq)
        count, last = count + 1, time
    batch.flush()
    return count
