"""The FastAPI application: queries, relations, rules, proofs, stats and health."""

from __future__ import annotations

import asyncio
import time
from functools import partial
from typing import Any

from fastapi import Depends, FastAPI, Response
from starlette.concurrency import run_in_threadpool

from api.http import events, subscribe
from api.http.errors import ApiError, RulesInvalid, install, responses
from api.http.models import (
    CheckRequest,
    ExplainRequest,
    HealthResponse,
    QueryRequest,
    QueryResponse,
    RelationInfo,
    RelationsResponse,
    RulesRequest,
    RulesResponse,
    StatsResponse,
    WhyNotRequest,
)
from api.http.security import BodyLimit, JsonBodies, Settings, require_read, require_write
from api.http.timing import ServerTiming, json_response
from api.live import END_OF_TIME, LiveEngine
from api.query import relation_counts
from engine import RuleAnalysisError, RuleSyntaxError

DESCRIPTION = """Temporal Datalog over an event log: ask rule queries now or as of a time,
append and read events, swap rule sets, and subscribe to answers as events arrive.
Errors are `{"error": {"code", "message", "diagnostics"?}}`; money is integer cents."""

READ = [Depends(require_read)]
WRITE = [Depends(require_write)]


def create_app(live: LiveEngine, settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(title="tempolog", version="0.1.0", description=DESCRIPTION)
    app.state.live, app.state.settings = live, settings
    app.state.started, app.state.requests = time.monotonic(), 0
    app.state.channels = subscribe.Channels(live)
    install(app)
    app.add_middleware(JsonBodies)
    app.add_middleware(BodyLimit, limit=settings.max_body, state=app.state)
    app.add_middleware(ServerTiming)  # added last: outermost, it times the body limit too

    app.include_router(events.router)
    app.include_router(subscribe.router)
    _queries(app, live, settings)
    _rules(app, live)
    _proofs(app, live, settings)
    _status(app, live)
    return app


def _text(text: str, settings: Settings, what: str = "query") -> str:
    if len(text) > settings.max_query:
        raise ApiError(400, f"{what}-too-long", f"the {what} is {len(text):,} characters; the "
                       f"limit is {settings.max_query:,}")
    return text


async def _computed(live: LiveEngine, text: str, after_seq: int | None, timeout: float,
                    asked: dict) -> tuple[tuple[Any, int], float]:
    """The engine's answer and seq, and how long it waited for a worker thread (ms). A query
    the engine can ask at once goes straight to its thread, and its answer comes back to
    the event loop (two thread hops, not four: under load each one waits for a core and
    the GIL); any other through a worker thread, which may wait (compiling, `after_seq`)."""
    if after_seq is None or after_seq <= live.applied_seq:
        loop = asyncio.get_running_loop()
        answered = loop.create_future()

        def done(found, error) -> None:  # on the Prolog thread
            loop.call_soon_threadsafe(_settle, answered, found, error)

        if live.submit(text, timeout=timeout, done=done, **asked):
            return await answered, 0.0
    handed = time.perf_counter()
    taken, found = await run_in_threadpool(_taken_up, partial(
        live.query, text, after_seq=after_seq, look_up=False, timeout=timeout, **asked))
    return found, (taken - handed) * 1000


def _settle(future: asyncio.Future, found, error: BaseException | None) -> None:
    if future.cancelled():  # the client went away
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(found)


def _taken_up(work) -> tuple[float, Any]:
    """(when a worker thread took `work` up, what it gave): the wait for a free worker."""
    return time.perf_counter(), work()


def _timeout(asked: float | None, settings: Settings) -> float:
    return min(asked or settings.default_timeout, settings.max_timeout)


def _queries(app: FastAPI, live: LiveEngine, settings: Settings) -> None:
    @app.post("/query", response_model=QueryResponse, dependencies=READ, tags=["query"],
              responses=responses(400, 401, 413, 504))
    async def query(request: QueryRequest) -> Response:
        """Answer a rule body now, or as of a time; a query past its time limit gets 504.
        With `after_seq` (an append's `head_seq`), the answer includes that event."""
        text = _text(request.query, settings)
        asked = {"as_of": request.as_of, "limit": request.limit}
        # A kept answer is given on the event loop; only the engine's work leaves it.
        found = live.cached(text, after_seq=request.after_seq, **asked)
        pool_ms = 0.0
        if found is None:
            found, pool_ms = await _computed(live, text, request.after_seq,
                                             _timeout(request.timeout, settings), asked)
        answer, seq = found
        # Where a miss's time went: waiting for a worker thread (pool), for the one Prolog
        # thread behind other requests (queue), and all of the engine's part (engine).
        metrics = ("cache;desc=hit",) if answer.cached else (
            f"engine;dur={answer.elapsed_ms:.3f}", f"queue;dur={answer.waited_ms:.3f}",
            f"pool;dur={pool_ms:.3f}", "cache;desc=miss")
        return json_response({**answer.to_json(), "seq": seq, "cached": answer.cached},
                             *metrics)

    counted: dict[tuple[int, int], dict[str, int | None]] = {}

    @app.get("/relations", response_model=RelationsResponse, dependencies=READ,
             tags=["query"], responses=responses(401))
    def relations() -> dict:
        """Every relation of the rules: its columns, types and how many facts it has now."""
        engine, seq = live.engine, live.applied_seq
        key = (id(engine), seq)
        if key not in counted:
            counted.clear()
            counted[key] = relation_counts(engine, as_of=END_OF_TIME)
        counts = counted[key]
        return {"seq": seq, "relations": [RelationInfo(
            name=name, columns=list(r.fields), types=list(r.types), is_event=r.is_event,
            count=counts.get(name)) for name, r in sorted(engine.relations().items())]}


def _rules(app: FastAPI, live: LiveEngine) -> None:
    def listing() -> dict:
        program = live.engine.program
        return {"files": [{"path": p, "text": t} for p, t in live.rule_sources],
                "summary": program.summary(), "relations": len(program.relations),
                "invariants": [i.name for i in program.invariants],
                "warnings": [d.to_dict() for d in program.warnings]}

    @app.get("/rules", response_model=RulesResponse, dependencies=READ, tags=["rules"],
             responses=responses(401))
    def rules() -> dict:
        """The rule set in service: its files and a summary."""
        return listing()

    @app.post("/rules", response_model=RulesResponse, dependencies=WRITE, tags=["rules"],
              responses=responses(400, 401, 413, 422))
    def load_rules(request: RulesRequest) -> dict:
        """Replace the rule set; on any error, 422 with every diagnostic and the old rules
        keep serving. The new rules answer once every stored event is a fact of them."""
        try:
            program = live.program_from_text(request.text, request.path)
        except (RuleSyntaxError, RuleAnalysisError) as error:
            raise RulesInvalid(error) from None
        live.replace_rules(program, [(request.path or "posted.dl", request.text)])
        return listing()


def _needs(live: LiveEngine, name: str):
    method = getattr(live.engine, name, None)
    if method is None:
        raise ApiError(501, "not-implemented", f"this engine has no {name} yet (it comes with "
                       "the check and explain work); queries and subscriptions work")
    return method


def _proofs(app: FastAPI, live: LiveEngine, settings: Settings) -> None:
    proof_errors = responses(400, 401, 413, 501, 504)

    @app.post("/check", response_model=dict[str, Any], dependencies=READ, tags=["proofs"],
              responses=proof_errors)
    def check(request: CheckRequest) -> dict:
        """Run every `.never` invariant; violations with bindings, first time and proof."""
        return _needs(live, "check")(as_of=request.as_of, since=request.since,
                                     events=live.store_event).to_json()

    @app.post("/explain", response_model=dict[str, Any], dependencies=READ, tags=["proofs"],
              responses=proof_errors)
    def explain(request: ExplainRequest) -> dict:
        """Proof trees of a query's answers (or of one fact): rules at each node, events at
        the leaves."""
        return _needs(live, "explain")(_text(request.query, settings), as_of=request.as_of,
                                       depth=request.depth,
                                       max_proofs=request.max_proofs,
                                       events=live.store_event).to_json()

    @app.post("/why-not", response_model=dict[str, Any], dependencies=READ, tags=["proofs"],
              responses=proof_errors)
    def why_not(request: WhyNotRequest) -> dict:
        """Why a fact does not hold: the closest derivations and what each lacks."""
        return _needs(live, "why_not")(_text(request.fact, settings, "fact"),
                                       as_of=request.as_of, events=live.store_event).to_json()


def _status(app: FastAPI, live: LiveEngine) -> None:
    @app.get("/stats", response_model=StatsResponse, dependencies=READ, tags=["status"],
             responses=responses(401))
    def stats() -> dict:
        """Events per type in the store, and what the engine holds."""
        with live.store_lock:
            types = [t.__dict__ for t in live.store.stats()]
        return {"head_seq": live.head()[0], "applied_seq": live.applied_seq, "types": types,
                "backend": type(live.engine).__name__, "summary": live.engine.program.summary(),
                "uptime_s": round(time.monotonic() - app.state.started, 3),
                "requests": app.state.requests,
                "answers": {"kept": len(live.answers), "hits": live.answers.hits,
                            "misses": live.answers.misses},
                "writes": live.fact_writes.to_json()}

    @app.get("/health", response_model=HealthResponse, tags=["status"])
    def health() -> dict:
        """Always open: the store's head seq and hash, and how far the engine lags behind."""
        seq, head_hash = live.head()
        lag = max(0, seq - live.applied_seq)
        return {"status": "ok" if lag == 0 and live.error is None else "lagging",
                "head_seq": seq, "head_hash": head_hash, "applied_seq": live.applied_seq,
                "lag": lag, "tail_error": live.error}
