"""Event routes: append a batch (all or nothing), read by filters, one event, its causes."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from api.http.errors import ApiError, responses
from api.http.models import AppendRequest, AppendResponse, EventOut, EventPage
from api.http.security import require_read, require_write
from api.http.timing import json_response
from sim import resolve_type

router = APIRouter(tags=["events"])
MAX_PAGE = 1000


@router.post("/events", response_model=AppendResponse, dependencies=[Depends(require_write)],
             responses=responses(400, 401, 409, 413, 422))
def append(request: Request, batch: AppendRequest,
           idempotency_key: Annotated[str | None, Header(
               description="Makes the whole batch idempotent: a repeat returns the "
                           "original seqs and writes nothing.", max_length=150)] = None,
           ) -> Response:
    """Append events in one transaction: an invalid event (422, naming the event and the
    field) or a stream past its expected version (409) writes nothing of the batch. This
    returns once the events are stored; the engine asserts them moments later, off this
    request (a query with `after_seq` = `head_seq` waits for them)."""
    live = request.app.state.live
    events = [event.model_dump() for event in batch.events]
    if idempotency_key is not None:
        for index, event in enumerate(events):
            event["idempotency_key"] = event["idempotency_key"] or f"{idempotency_key}/{index}"
    started = time.perf_counter()
    with live.store_lock:
        seqs = live.store.append(events, expected_versions=batch.expected_versions)
        head = live.store.head()[0]
    stored = (time.perf_counter() - started) * 1000
    live.appended()  # the tailer asserts them: an append never waits for the engine
    return json_response({"seqs": seqs, "head_seq": head}, f"store;dur={stored:.3f}")


def _type_names(types: list[str] | None) -> list[str] | None:
    if not types:
        return None
    try:
        return [resolve_type(name).name for name in types]
    except KeyError as error:
        raise ApiError(400, "unknown-event-type",
                       f"{error.args[0]!r} is neither an event type nor its relation") from None


@router.get("/events", response_model=EventPage, dependencies=[Depends(require_read)],
            responses=responses(400, 401))
def read(request: Request,
         from_seq: Annotated[int | None, Query(ge=0)] = None,
         to_seq: Annotated[int | None, Query(ge=0)] = None,
         from_time: Annotated[int | None, Query(ge=0)] = None,
         to_time: Annotated[int | None, Query(ge=0)] = None,
         type: Annotated[list[str] | None, Query(
             description="Event types (OrderFilled) or relations (order_filled).")] = None,
         stream: Annotated[str | None, Query(max_length=200)] = None,
         correlation: Annotated[str | None, Query(max_length=200)] = None,
         limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100) -> dict:
    """Events in seq order; every bound inclusive; a page at a time (follow next_from_seq)."""
    live = request.app.state.live
    with live.store_lock:
        found = list(live.store.read(from_seq=from_seq, to_seq=to_seq, from_time=from_time,
                                     to_time=to_time, types=_type_names(type), stream_id=stream,
                                     correlation_id=correlation, limit=limit + 1))
    more = len(found) > limit
    page = found[:limit]
    return {"events": [e._asdict() for e in page],
            "next_from_seq": page[-1].seq + 1 if more else None}


def _find(live, ref: str):
    with live.store_lock:
        event = (live.store_event(int(ref)) if ref.isdigit() and len(ref) < 19
                 else live.store.get(ref))
    if event is None:
        raise ApiError(404, "not-found", f"no event with seq or id {ref!r}")
    return event


@router.get("/events/{ref}", response_model=EventOut, dependencies=[Depends(require_read)],
            responses=responses(401, 404))
def one(request: Request, ref: str) -> dict:
    """One event, by its seq (digits) or its event id."""
    return _find(request.app.state.live, ref)._asdict()


@router.get("/events/{ref}/causation", response_model=list[EventOut],
            dependencies=[Depends(require_read)], responses=responses(401, 404))
def causation(request: Request, ref: str) -> list[dict]:
    """The event and the events that caused it, root cause first."""
    live = request.app.state.live
    event = _find(live, ref)
    with live.store_lock:
        return [e._asdict() for e in live.store.causation_chain(event.event_id)]
