"""The simulator's and the event store's commands: sim, verify, stats, events, import."""

from __future__ import annotations

import sqlite3
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from engine.errors import TempologError

DEFAULT_DB = Path("var/events.db")
DESIGN_TOTAL = 150_000  # the design's estimate of facts for the default run
DEMO_QUERIES = (
    "current_position(client, symbol, qty, avg_price, realized)",
    "pending_order(order, client, symbol, side, qty, price)",
    "wash_trade(trade, client, symbol, qty, price, t)",
)

Db = Annotated[Path, typer.Option("--db", help="The event store (an SQLite file).")]


def _fail(message: str, code: int = 2) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(code)


@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn the mistakes a user can make into one line and a non-zero exit."""
    try:
        yield
    except TempologError as error:
        _fail(error.user_message())
    except FileNotFoundError as error:
        _fail(f"error: {error}")
    except (sqlite3.Error, OSError) as error:
        _fail(f"error: {error}")


def _open(db: Path):
    from sim.store.sqlite import open_store

    if not db.exists():
        raise FileNotFoundError(f"no event store at {db} (run `tempolog sim --db {db}` first)")
    return open_store(db)


def register(app: typer.Typer) -> None:
    """Add the sim and store commands to the `tempolog` app."""
    app.command("sim")(sim)
    app.command("verify")(verify)
    app.command("stats")(stats)
    app.command("events")(events)
    app.command("import")(import_events)


# ---- sim --------------------------------------------------------------------------

def sim(
    ticks: Annotated[int | None, typer.Option(help="Ticks to simulate (default 10000).")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed: same seed, same log (default 1).")]
    = None,
    db: Db = DEFAULT_DB,
    config: Annotated[Path | None, typer.Option(
        help="A TOML file of settings (see docs/sim.md); options override it.")] = None,
    orders_per_tick: Annotated[int | None, typer.Option(help="New orders per tick (default 5).")]
    = None,
    day_ticks: Annotated[int | None, typer.Option(help="Ticks per trading day (default 1000).")]
    = None,
    price_interval: Annotated[int | None, typer.Option(
        help="Ticks between price updates (default 10).")] = None,
    self_match: Annotated[bool | None, typer.Option(
        "--self-match/--no-self-match", help="Let a client trade with itself (default yes).")]
    = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace a store at --db.")]
    = False,
    no_store: Annotated[bool, typer.Option("--no-store", help="Keep no event store.")] = False,
    engine: Annotated[list[Path] | None, typer.Option(
        help="Stream the events as facts into an engine of these rule files.")] = None,
    query: Annotated[list[str] | None, typer.Option(
        help="A query to answer after the run (with --engine); repeatable.")] = None,
    stream_every: Annotated[int, typer.Option(help="Assert facts every N ticks (default 1).")] = 1,
    backend: Annotated[str | None, typer.Option(help="swipl or pydatalog.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Simulate the exchange into an event store, optionally streaming facts to an engine."""
    from sim.config import load_config
    from sim.exchange.simulator import Simulation
    from sim.sinks import EngineSink, StoreSink
    from sim.store.sqlite import EventStore

    console = Console(stderr=True, quiet=quiet)
    with _user_errors():
        settings = load_config(config, ticks=ticks, seed=seed, orders_per_tick=orders_per_tick,
                               day_ticks=day_ticks, price_interval=price_interval,
                               self_match=self_match)
        if stream_every < 1:
            raise TempologError("--stream-every must be at least 1", code="usage")
        if query and not engine:
            raise TempologError("--query needs --engine RULES.dl to answer it", code="usage")
        sinks, store, facts = [], None, None
        if not no_store:
            _prepare(db, overwrite)
            store = EventStore(db)
            sinks.append(StoreSink(store, process=True))
        if engine:
            from engine import engine_from_files

            facts = engine_from_files(engine, backend)
            sinks.append(EngineSink(facts, every=stream_every, background=True))
        simulation = Simulation(settings)
        started = time.perf_counter()
        with _progress(console, settings.ticks) as advance:
            summary = simulation.run(sinks, advance)
        elapsed = time.perf_counter() - started
        out = Console()
        out.print(_summary_table(summary.counts, settings))
        rate = summary.events / elapsed if elapsed else 0
        where = f"into {db}" if store else "without a store"
        out.print(f"{summary.events:,} events in {elapsed:.1f} s ({rate:,.0f} events/s) {where}"
                  + (f", streamed into {facts.__class__.__name__}" if facts else ""))
        if store is not None:
            seq, last_hash = store.head()
            out.print(f"last seq {seq}, last hash {last_hash}")
            store.close()
        if facts is not None:
            with facts:
                _answer(out, facts, query or [q for q in DEMO_QUERIES
                                              if q.split("(")[0] in facts.relations()])


def _prepare(db: Path, overwrite: bool) -> None:
    """A fresh store at `db`: an existing one is replaced only when asked to."""
    if db.exists() and db.stat().st_size:
        if not overwrite:
            raise TempologError(f"{db} already exists; choose another --db or pass --overwrite",
                                code="store-exists")
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)


@contextmanager
def _progress(console: Console, ticks: int):
    every = max(1, ticks // 200)
    with Progress(TextColumn("simulating"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("ticks  {task.fields[events]:,} events"), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task("sim", total=ticks, events=0)

        def advance(tick: int, events: int) -> None:
            if tick % every == 0 or tick == ticks:
                progress.update(task, completed=tick, events=events)

        yield advance


def expected_counts(config, counts) -> dict[str, str]:
    """Beside each type, what the design fixes (orders, prices, sessions) or what the
    other counts imply: a summary that checks itself."""
    days = -(-config.ticks // config.day_ticks)
    closes = 0
    if config.ticks >= config.session_ticks:
        closes = (config.ticks - config.session_ticks) // config.day_ticks + 1
    submitted = config.ticks * config.orders_per_tick
    updates = -(-config.ticks // config.price_interval) * len(config.symbols)
    trades, validated = counts.get("TradeExecuted", 0), counts.get("OrderValidated", 0)
    return {
        "OrderSubmitted": f"{submitted:,}",
        "OrderValidated": f"<= {submitted:,}",
        "OrderRejected": f"<= {submitted:,}",
        "OrderAccepted": f"<= {validated:,} validated",
        "OrderFilled": f"+ partial = {2 * trades:,} (2/trade)",
        "TradeReported": f"= {trades:,} trades",
        "TradeSettled": f"<= {trades:,} trades",
        "PositionIncreased": f"4 kinds >= {2 * trades:,}",
        "RiskChecked": f"= {validated:,} validated",
        "LimitOverridden": "<= breaches",
        "PriceUpdated": f"{updates:,}",
        "VolumeUpdated": f"<= {updates:,}",
        "MarketOpened": f"{days:,}",
        "MarketClosed": f"{closes:,}",
    }


def _summary_table(counts, config) -> Table:
    from sim.events.types import EVENT_TYPES

    expected = expected_counts(config, counts)
    table = Table(title=f"{config.ticks:,} ticks, seed {config.seed}")
    table.add_column("event type")
    table.add_column("relation")
    table.add_column("events", justify="right")
    table.add_column("expected", justify="right")
    for name, event_type in EVENT_TYPES.items():
        table.add_row(name, event_type.relation, f"{counts.get(name, 0):,}",
                      expected.get(name, ""))
    total = sum(counts.values())
    is_default = (config.ticks, config.orders_per_tick) == (10_000, 5)
    table.add_row("total", "", f"{total:,}",
                  f"~{DESIGN_TOTAL:,} (design)" if is_default else "", style="bold")
    return table


def _answer(out: Console, engine, queries: list[str], shown: int = 5) -> None:
    for text in queries:
        result = engine.query(text)
        table = Table(title=f"{text}: {len(result):,} answers", title_justify="left")
        for column in result.columns:
            table.add_column(column)
        for row in result.rows[:shown]:
            table.add_row(*(str(value) for value in row))
        if len(result) > shown:
            table.add_row(*(["…"] * len(result.columns)))
        out.print(table)


# ---- the store --------------------------------------------------------------------

def verify(db: Db = DEFAULT_DB) -> None:
    """Walk the hash chain; exit 1 naming the first bad seq."""
    with _user_errors(), _open(db) as store:
        result = store.verify()
    if not result.ok:
        _fail(f"{db}: corrupted at seq {result.bad_seq}: {result.reason} "
              f"({result.events:,} events verify before it)", 1)
    typer.echo(f"{db}: ok, {result.events:,} events, last seq {result.last_seq}, "
               f"last hash {result.last_hash}")


def stats(db: Db = DEFAULT_DB,
          json_output: Annotated[bool, typer.Option("--json", help="JSON lines.")] = False,
          ) -> None:
    """Per event type: count, first and last time (tick) and seq."""
    import json

    with _user_errors(), _open(db) as store:
        rows = store.stats()
    if json_output:
        for row in rows:
            typer.echo(json.dumps(row.__dict__))
        return
    table = Table(title=str(db))
    for column in ("type", "count", "first time", "last time", "first seq", "last seq"):
        table.add_column(column, justify="left" if column == "type" else "right")
    for row in rows:
        table.add_row(row.type, f"{row.count:,}", str(row.first_time), str(row.last_time),
                      str(row.first_seq), str(row.last_seq))
    table.add_row("total", f"{sum(r.count for r in rows):,}", "", "", "", "", style="bold")
    Console().print(table)


def events(
    db: Db = DEFAULT_DB,
    from_seq: Annotated[int | None, typer.Option(help="First seq.")] = None,
    to_seq: Annotated[int | None, typer.Option(help="Last seq.")] = None,
    from_time: Annotated[int | None, typer.Option(help="First tick.")] = None,
    to_time: Annotated[int | None, typer.Option(help="Last tick.")] = None,
    type: Annotated[list[str] | None, typer.Option(
        "--type", help="An event type (OrderFilled) or relation (order_filled); repeatable.")]
    = None,
    stream: Annotated[str | None, typer.Option(help="One stream, e.g. order-O000042.")]
    = None,
    correlation: Annotated[str | None, typer.Option(help="A correlation id.")] = None,
    chain: Annotated[str | None, typer.Option(
        help="An event id: print its causation chain, root first.")] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many.")] = None,
) -> None:
    """Events as JSON lines (the store's export format; `tempolog import` reads it back)."""
    from sim.events.types import resolve_type

    with _user_errors():
        try:
            types = [resolve_type(name).name for name in type] if type else None
        except KeyError as error:
            raise TempologError(f"unknown event type {error.args[0]!r}", code="usage") from None
        _write_events(_open(db), types, chain, dict(
            from_seq=from_seq, to_seq=to_seq, from_time=from_time, to_time=to_time,
            stream_id=stream, correlation_id=correlation, limit=limit))


def _write_events(store, types, chain, filters) -> None:
    with store:
        if chain is not None:
            found = store.causation_chain(chain)
            if not found:
                raise TempologError(f"no event with id {chain}", code="not-found")
            selected = iter(found)
        else:
            selected = store.read(types=types, **filters)
        write = sys.stdout.write
        try:
            for event in selected:
                write(event.to_json() + "\n")
        except BrokenPipeError:  # `tempolog events | head`
            sys.stderr.close()


def import_events(
    file: Annotated[Path, typer.Argument(help="JSON lines from `tempolog events`.")],
    db: Db = DEFAULT_DB,
) -> None:
    """Append exported events to a store as they were, re-verifying the hash chain."""
    from sim.store.sqlite import EventStore

    with _user_errors():
        if not file.exists():
            raise FileNotFoundError(f"no file {file}")
        with EventStore(db) as store, file.open() as lines:
            count = store.import_jsonl(lines)
            seq, last_hash = store.head()
    typer.echo(f"{db}: imported {count:,} events, last seq {seq}, last hash {last_hash}")
