"""The service's request and response bodies, each documented with an example for /docs."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

Value = str | int | float

# An event as the simulator writes it, for the examples.
_PRICE_EVENT = {"type": "PriceUpdated", "time": 10_001, "stream_id": "market-AAPL",
                "payload": {"symbol": "AAPL", "price": 18_250}}


def _example(value: Any) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": [value]})


class Diagnostic(BaseModel):
    """One positioned mistake in a query, a rule file or a request (an error), or a rule
    that has a meaning but likely not the one meant (a warning)."""

    model_config = _example({"code": "undefined-relation", "severity": "error",
                             "message": "relation pending_ordr is not defined",
                             "path": "<query>", "line": 1, "column": 1,
                             "hint": "did you mean pending_order?", "notes": []})
    code: str
    severity: str = Field("error", description="error, or warning")
    message: str
    path: str = "<input>"
    line: int = 0
    column: int = 0
    hint: str = ""
    notes: list[str] = []


class ErrorDetail(BaseModel):
    code: str = Field(description="A stable, documented code (docs/service.md).")
    message: str
    diagnostics: list[Diagnostic] | None = None


class ErrorBody(BaseModel):
    """Every error the service returns: a code, a message and any positioned diagnostics."""

    model_config = _example({"error": {"code": "query-timeout",
                                       "message": "the query ran past its time limit of 2s"}})
    error: ErrorDetail


class QueryRequest(BaseModel):
    model_config = _example({"query": 'pending_order(o, c, "AAPL", s, q, p), q > 10',
                             "as_of": 5000, "limit": 100, "timeout": 2.0})
    query: str = Field(description="A rule body; a final '.' is optional.", min_length=1)
    as_of: int | None = Field(None, description="Answer over the events with time <= as_of.")
    limit: int | None = Field(None, ge=0, description="At most this many rows (sorted).")
    timeout: float | None = Field(None, gt=0, description="Seconds; capped by the server.")
    after_seq: int | None = Field(
        None, ge=0, description="Answer once every event up to this store seq is a fact (an "
        "append's head_seq: read your writes); 504 if the engine is not there in time.")


class QueryResponse(BaseModel):
    model_config = _example({
        "columns": ["o", "c", "s", "q", "p"], "rows": [["O000042", "C03", "buy", 60, 18_210]],
        "count": 1, "elapsed_ms": 1.8, "as_of": 5000, "money_columns": ["p"], "seq": 151_022,
        "cached": False})
    columns: list[str]
    rows: list[list[Value]]
    count: int
    elapsed_ms: float
    as_of: int | None = None
    money_columns: list[str] = Field(description="Columns holding integer cents.")
    seq: int = Field(description="Every event up to this store seq was a fact.")
    cached: bool = Field(False, description="Given from the answer cache: no event applied "
                         "since it was computed can change it.")


class RelationInfo(BaseModel):
    name: str
    columns: list[str]
    types: list[str | None]
    is_event: bool
    count: int | None = Field(None, description="Facts or answers now (null: not counted).")


class RelationsResponse(BaseModel):
    model_config = _example({"relations": [{
        "name": "price_updated", "columns": ["symbol", "price", "t"],
        "types": ["symbol", "number", "time"], "is_event": True, "count": 5000}], "seq": 151_022})
    relations: list[RelationInfo]
    seq: int


class EventIn(BaseModel):
    """An event to append; the store assigns seq, hash, version and any id left out."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_PRICE_EVENT]})
    type: str = Field(description="An event type, e.g. PriceUpdated.")
    time: int = Field(description="Valid time: the simulator tick.")
    stream_id: str
    payload: dict[str, Any]
    event_id: str | None = None
    ts: int | None = None
    version: int | None = Field(None, description="The stream's next version, if known.")
    causation_id: str | None = None
    correlation_id: str | None = None
    idempotency_key: str | None = None


class AppendRequest(BaseModel):
    model_config = _example({"events": [_PRICE_EVENT],
                             "expected_versions": {"market-AAPL": 1000}})
    events: list[EventIn] = Field(min_length=1)
    expected_versions: dict[str, int] | None = Field(
        None, description="stream -> the version the caller last saw (0: a new stream); "
                          "409 when the stream has moved on.")


class AppendResponse(BaseModel):
    model_config = _example({"seqs": [151_023], "head_seq": 151_023})
    seqs: list[int] = Field(description="Each event's seq (an idempotent repeat: the original's).")
    head_seq: int


class EventOut(BaseModel):
    model_config = _example({**_PRICE_EVENT, "seq": 151_023,
                             "event_id": "019b8e5a-2f40-7000-8000-00000024db3f",
                             "ts": 1_767_633_401_000_000, "version": 1001, "causation_id": None,
                             "correlation_id": "019b8e5a-2f40-7000-8000-00000024db3f",
                             "idempotency_key": None, "hash": "5d41…"})
    seq: int
    event_id: str
    type: str
    time: int
    ts: int
    stream_id: str
    version: int
    causation_id: str | None
    correlation_id: str | None
    idempotency_key: str | None
    payload: dict[str, Any]
    hash: str


class EventPage(BaseModel):
    events: list[EventOut]
    next_from_seq: int | None = Field(description="Pass as from_seq for the next page; null "
                                                  "at the end.")


class RuleFileOut(BaseModel):
    path: str
    text: str


class RulesResponse(BaseModel):
    model_config = _example({"files": [{"path": "rules/trading.dl", "text": "…"}],
                             "summary": "52 relations (24 event), 14 rules, 0 facts, "
                                        "0 invariants, 5 strata",
                             "relations": 52, "invariants": [], "warnings": []})
    files: list[RuleFileOut]
    summary: str
    relations: int
    invariants: list[str]
    warnings: list[Diagnostic] = Field([], description="What lint warns about in these "
                                                       "rules; they are served all the same.")


class RulesRequest(BaseModel):
    model_config = _example({"text": '.include "trading.dl"\n'
                                     '.never crossed: wash_trade(_, _, _, _, _, _).\n',
                             "path": "desk.dl"})
    text: str = Field(description="The new rule set; its .include paths resolve beside the "
                                  "served rule files.")
    path: str | None = Field(None, description="The name diagnostics use for this text.")


class CheckRequest(BaseModel):
    model_config = _example({"as_of": 5000})
    as_of: int | None = None
    since: int | None = None


class ExplainRequest(BaseModel):
    model_config = _example({"query": 'wash_trade("T000007", c, s, q, p, t)', "depth": 4})
    query: str = Field(min_length=1)
    as_of: int | None = None
    depth: int | None = Field(None, ge=1)
    max_proofs: int = Field(1, ge=1, le=100)


class WhyNotRequest(BaseModel):
    model_config = _example({"fact": 'order_filled("O000042", "T000007", 60, 18210, 120)'})
    fact: str = Field(min_length=1)
    as_of: int | None = None


class TypeCount(BaseModel):
    type: str
    count: int
    first_time: int
    last_time: int
    first_seq: int
    last_seq: int


class AnswerStats(BaseModel):
    kept: int = Field(description="Answers in the answer cache now.")
    hits: int = Field(description="Queries given a kept answer, since the rules were loaded.")
    misses: int = Field(description="Queries the engine answered, since the rules were loaded.")


class WriteStats(BaseModel):
    batches: int = Field(description="Batches of events the tailer wrote into the engine.")
    events: int
    ms: float = Field(description="Milliseconds the writes took in all (queries wait behind "
                      "a write that is running).")


class StatsResponse(BaseModel):
    model_config = _example({"head_seq": 151_022, "applied_seq": 151_022, "types": [],
                             "backend": "SwiplEngine", "summary": "…", "uptime_s": 12.5,
                             "requests": 40, "answers": {"kept": 12, "hits": 30,
                                                         "misses": 10},
                             "writes": {"batches": 3, "events": 30, "ms": 4.2}})
    head_seq: int
    applied_seq: int
    types: list[TypeCount]
    backend: str
    summary: str
    uptime_s: float
    requests: int
    answers: AnswerStats
    writes: WriteStats = Field(description="Since the service started (the replay included).")


class HealthResponse(BaseModel):
    model_config = _example({"status": "ok", "head_seq": 151_022, "head_hash": "5d41…",
                             "applied_seq": 151_022, "lag": 0, "tail_error": None})
    status: str = Field(description="ok, or lagging when the engine is behind the store.")
    head_seq: int
    head_hash: str
    applied_seq: int
    lag: int = Field(description="Events in the store not yet facts.")
    tail_error: str | None = None
