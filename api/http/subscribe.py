"""Server-Sent Events: a standing query's (or the invariants') new answers as events arrive."""

from __future__ import annotations

import asyncio
import json
import threading
from collections import OrderedDict, deque
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from api.http.errors import ApiError, body, responses
from api.http.security import require_read
from api.query import money_columns
from engine import TempologError

router = APIRouter(tags=["subscribe"])
POLL_SECONDS = 0.1  # how often a stream looks for newly applied events
KEEPALIVE_SECONDS = 15.0
HISTORY = 1000  # changes a channel remembers for reconnecting clients
MAX_CHANNELS = 64


class Channel:
    """One standing query's answers, advanced as the engine applies events. Each change
    is kept with the seq it was seen at, so a client that reconnects with the last seq it
    saw (Last-Event-ID) gets every change after it."""

    def __init__(self, live, query: str | None):
        self.live, self.query = live, query
        self._lock = threading.Lock()
        self.rows: dict[str, list] | None = None  # answer key -> answer
        self.columns: list[str] = []
        self.seq = self.floor = 0  # answers are current to seq; history covers seqs > floor
        self.history: deque[tuple[int, list, list]] = deque()
        self.subscribers = 0

    def _answers(self, as_of: int | None = None) -> dict[str, list]:
        engine = self.live.engine
        if self.query is None:  # each violating answer an invariant shows (up to its cap)
            report = engine.check(as_of=as_of).to_json()
            self.columns = ["invariant", "answer"]
            found = [[result["name"], answer] for result in report["results"]
                     if not result["holds"] for answer in result["answers"]]
            return {json.dumps(v, sort_keys=True): v for v in found}
        result, _ = self.live.query(self.query, as_of=as_of, timeout=10.0)
        self.columns = list(result.columns)
        return {json.dumps(row): list(row) for row in result.rows}

    def advance(self) -> None:
        """Bring the answers up to the applied seq, keeping what changed."""
        with self._lock:
            seq = self.live.applied_seq  # read first: the answers include at least this
            if self.rows is None:
                self.rows, self.seq, self.floor = self._answers(), seq, seq
                return
            if seq <= self.seq:
                return
            rows = self._answers()
            added = [rows[k] for k in sorted(rows.keys() - self.rows.keys())]
            removed = [self.rows[k] for k in sorted(self.rows.keys() - rows.keys())]
            if added or removed:
                if len(self.history) == HISTORY:
                    self.floor = self.history.popleft()[0]
                self.history.append((seq, added, removed))
            self.rows, self.seq = rows, seq

    def changes_after(self, seq: int) -> list[tuple[int, list, list]] | None:
        """Every change after `seq`, or None when the history no longer reaches back."""
        with self._lock:
            if seq < self.floor:
                return None
            return [change for change in self.history if change[0] > seq]

    def change_since_time(self, seq: int) -> tuple[int, list, list]:
        """For a reconnect the history cannot serve: the answers now against those as of
        the valid time of event `seq` (exact while times follow seqs, as the simulator's do)."""
        event = self.live.store_event(seq)
        then = self._answers(as_of=event.time) if event is not None else {}
        with self._lock:
            now, current = dict(self.rows or {}), self.seq
        return (current, [now[k] for k in sorted(now.keys() - then.keys())],
                [then[k] for k in sorted(then.keys() - now.keys())])


class Channels:
    """The channels of a server, one per query text (and one for the invariants)."""

    def __init__(self, live):
        self.live = live
        self._channels: OrderedDict[str | None, Channel] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, query: str | None) -> Channel:
        with self._lock:
            channel = self._channels.get(query)
            if channel is None:
                channel = self._channels[query] = Channel(self.live, query)
                idle = [k for k, c in self._channels.items() if not c.subscribers]
                for key in idle[:max(0, len(self._channels) - MAX_CHANNELS)]:
                    del self._channels[key]
            self._channels.move_to_end(query)
            return channel

    def discard(self, query: str | None) -> None:
        with self._lock:
            channel = self._channels.get(query)
            if channel is not None and channel.rows is None:
                del self._channels[query]


def _sse(seq: int, event: str, data: dict) -> str:
    return f"id: {seq}\nevent: {event}\ndata: {json.dumps(data)}\n\n"


def _change(channel: Channel, change: tuple[int, list, list]) -> str:
    seq, added, removed = change
    return _sse(seq, "answers", {"seq": seq, "columns": channel.columns, "added": added,
                                 "removed": removed})


async def _stream(request: Request, channel: Channel, last_id: int | None, money: list[str]):
    channel.subscribers += 1
    try:
        if last_id is None:
            sent = channel.seq
            yield _sse(sent, "snapshot", {"seq": sent, "columns": channel.columns,
                                          "rows": list(channel.rows.values()),
                                          "money_columns": money})
        else:
            changes = channel.changes_after(last_id)
            if changes is None:
                changes = [await run_in_threadpool(channel.change_since_time, last_id)]
            sent = last_id
            for change in changes:
                if change[1] or change[2]:
                    yield _change(channel, change)
                sent = max(sent, change[0])
        quiet = 0.0
        while not await request.is_disconnected():
            await asyncio.sleep(POLL_SECONDS)
            quiet += POLL_SECONDS
            if request.app.state.live.applied_seq > channel.seq:
                try:
                    await run_in_threadpool(channel.advance)
                except TempologError as error:  # e.g. new rules no longer define the query
                    yield _sse(channel.seq, "error", body(error.code, str(error)))
                    return
            for change in channel.changes_after(sent) or []:
                yield _change(channel, change)
                sent, quiet = change[0], 0.0
            if quiet >= KEEPALIVE_SECONDS:
                yield ": keep-alive\n\n"
                quiet = 0.0
    finally:
        channel.subscribers -= 1


@router.get("/subscribe", dependencies=[Depends(require_read)],
            responses={**responses(400, 401, 501, 504), 200: {
                "description": "text/event-stream: a `snapshot` event, then `answers` events "
                               "({seq, columns, added, removed}); each id is a store seq.",
                "content": {"text/event-stream": {"schema": {"type": "string"}}}}})
async def subscribe(request: Request,
                    query: Annotated[str | None, Query(
                        description="A rule body whose answers to follow.",
                        min_length=1, max_length=10_000)] = None,
                    invariants: Annotated[bool, Query(
                        description="Follow the `.never` invariants' violations.")] = False,
                    last_event_id: Annotated[str | None, Header(
                        description="The last id seen: resume after it.", max_length=20)] = None,
                    ):
    """Follow a query's answers (`?query=…`) or the invariants' violations
    (`?invariants=1`) as events arrive; reconnect with Last-Event-ID to miss nothing."""
    if (query is None) == (not invariants):
        raise ApiError(400, "bad-request", "give exactly one of ?query=… and ?invariants=1")
    live = request.app.state.live
    if invariants and not hasattr(live.engine, "check"):
        raise ApiError(501, "not-implemented", "this engine cannot check invariants yet (it "
                       "comes with the check and explain work); ?query= subscriptions work")
    if query is not None:
        query = query.strip().removesuffix(".").strip()
    resume = None
    if last_event_id is not None:
        if not last_event_id.strip().isdigit():
            raise ApiError(400, "bad-request", "Last-Event-ID must be a store seq (digits)")
        resume = int(last_event_id)
    channel = request.app.state.channels.get(query)
    try:
        await run_in_threadpool(channel.advance)  # a bad query fails here, as JSON
    except Exception:
        request.app.state.channels.discard(query)
        raise
    money = sorted(money_columns(live.engine, query)) if query else []
    return StreamingResponse(_stream(request, channel, resume, money),
                             media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
