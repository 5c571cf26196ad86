"""Event validation: the envelope and the payload checked, the first bad field named."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine import EventRejected
from sim.events.types import (
    ENVELOPE,
    EVENT_TYPES,
    KINDS,
    MAX_FIELD_TEXT,
    MAX_INT,
    MAX_PAYLOAD_BYTES,
    Event,
    EventType,
    is_unicode,
)

MAX_TEXT = 200


def payload_problem(event_type: EventType, payload: Any) -> tuple[str, str] | None:
    """(field, what is wrong) for the first bad field of a payload, or None if it is valid."""
    if not isinstance(payload, dict):
        return "payload", "must be a JSON object"
    for name, kind_name in event_type.fields:
        if name not in payload:
            return name, "is missing"
        kind = KINDS[kind_name]
        value = payload[name]
        if kind.python is int:
            if type(value) is not int:
                return name, f"must be an integer, not {_json_type(value)}"
            if kind.minimum is not None and value < kind.minimum:
                return name, f"must not be negative (got {value})"
            if abs(value) > MAX_INT:
                return name, "is out of the 64-bit range"
        elif type(value) is not str or not value:
            return name, f"must be a non-empty string, not {_json_type(value)}"
        elif len(value) > MAX_FIELD_TEXT:
            return name, f"is longer than {MAX_FIELD_TEXT} characters ({len(value)})"
        elif not is_unicode(value):
            return name, "holds a lone surrogate: not Unicode text"
    if len(payload) != len(event_type.fields):
        extra = sorted(set(payload) - set(event_type.field_names))
        return extra[0], f"is not a field of {event_type.name}"
    return None


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "an empty string" if not value else "a string"
    if isinstance(value, float):
        return "a float (money and quantities are integers)"
    return type(value).__name__


def as_event(value: Event | Mapping[str, Any], index: int) -> Event:
    if isinstance(value, Event):
        return value
    if not isinstance(value, Mapping):
        raise EventRejected(f"event {index} is not an object but {type(value).__name__}")
    unknown = set(value) - set(ENVELOPE)
    if unknown:
        raise rejected(index, None, sorted(map(str, unknown))[0], "is not a field of an event "
                        f"(fields: {', '.join(ENVELOPE)})")
    for required in ("type", "time", "stream_id", "payload"):
        if required not in value:
            raise rejected(index, None, required, "is missing")
    return Event(**value)


_OPTIONAL_TEXT = ("event_id", "causation_id", "correlation_id", "idempotency_key")


def check_event(event: Event, index: int, size: int, what: str | None = None) -> str:
    """The event's canonical payload JSON; EventRejected for the first thing wrong with it.
    `size` is the batch's length (0: not a batch), `what` names the event instead of its index."""
    event_type = EVENT_TYPES.get(event.type) if type(event.type) is str else None
    payload = event_type.encode(event.payload) if event_type is not None else None
    valid = (payload is not None and len(payload) <= MAX_PAYLOAD_BYTES
             and type(event.time) is int and 0 <= event.time <= MAX_INT
             and _is_text(event.stream_id)
             and (event.ts is None or type(event.ts) is int and 0 <= event.ts <= MAX_INT)
             and (event.version is None or type(event.version) is int
                  and 0 < event.version <= MAX_INT))
    if valid:
        for text in (event.event_id, event.causation_id, event.correlation_id,
                     event.idempotency_key):
            if text is not None and not _is_text(text):
                valid = False
                break
    if valid:
        return payload
    raise _diagnose(event, event_type, index, size, what)


def _diagnose(event: Event, event_type, index: int, size: int, what: str | None):
    """Name the first thing wrong with an event that failed check_event's fast test."""
    def fail(field: str, problem: str):
        return rejected(index, event, field, problem, size, what)

    if event_type is None:
        return fail("type", f"{event.type!r} is not an event type")
    if not _is_int(event.time) or not 0 <= event.time <= MAX_INT:
        return fail("time", "must be a non-negative 64-bit integer (the tick)")
    if not _is_text(event.stream_id):
        return fail("stream_id", f"must be Unicode text of 1 to {MAX_TEXT} characters")
    if event.ts is not None and (not _is_int(event.ts) or not 0 <= event.ts <= MAX_INT):
        return fail("ts", "must be a non-negative 64-bit integer (microseconds)")
    if event.version is not None and (not _is_int(event.version)
                                      or not 0 < event.version <= MAX_INT):
        return fail("version", "must be a positive 64-bit integer")
    for name in _OPTIONAL_TEXT:
        if getattr(event, name) is not None and not _is_text(getattr(event, name)):
            return fail(name, f"must be Unicode text of 1 to {MAX_TEXT} characters, or null")
    problem = payload_problem(event_type, event.payload)
    if problem is None:
        return fail("payload", f"is larger than {MAX_PAYLOAD_BYTES} bytes as JSON")
    field, trouble = problem
    return fail("payload" if field == "payload" else f"payload.{field}", trouble)


def _is_text(value: Any) -> bool:
    return type(value) is str and 0 < len(value) <= MAX_TEXT and is_unicode(value)


def _is_int(value: Any) -> bool:
    return type(value) is int


def rejected(index: int, event: Event | None, field: str, problem: str, size: int = 0,
              what: str | None = None) -> EventRejected:
    name = what or f"event {index}"
    if event is not None:
        name += f" ({event.type}" + (f" {event.event_id}" if event.event_id else "") + ")"
    tail = f"; nothing of the batch of {size} was written" if size else ""
    error = EventRejected(f"{name}: {field} {problem}{tail}")
    error.index, error.field = index, field
    return error
