"""`tempolog replay`, `snapshot` and `validate`: state rebuilt from the log, proved repeatable."""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from api.cli.console import Console
from api.cli.errors import FAILED, show_warnings, user_errors
from api.cli.explain import rule_files
from api.cli.options import DEFAULT_DB, Db
from engine import TempologError, engine_from_files
from sim import open_store, resolve_type
from sim.audit.summary import money
from sim.engine_snapshots import engine_snapshots, take_engine_snapshots
from sim.replayer import Selection, replay_engine, replay_models
from sim.runs import recorded_config
from sim.snapshots import snapshots, take_snapshots
from sim.validate import validate_replay, validate_resimulate

PROGRESS_FROM = 20_000  # replays shorter than this show no progress bar


def register(app: typer.Typer) -> None:
    app.command("replay")(replay)
    app.command("snapshot")(snapshot)
    app.command("validate")(validate)


@contextmanager
def progress_bar(what: str, total: int, quiet: bool = False):
    """A transient bar on stderr; yields `advance(done)`."""
    console = Console(stderr=True, quiet=quiet or total < PROGRESS_FROM)
    with Progress(TextColumn(what), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task(what, total=total)
        yield lambda done: progress.update(task, completed=done)


def _types(names: list[str] | None) -> tuple[str, ...] | None:
    if not names:
        return None
    try:
        return tuple(resolve_type(name).name for name in names)
    except KeyError as error:
        raise TempologError(f"unknown event type {error.args[0]!r}", code="usage") from None


def replay(
    db: Db = DEFAULT_DB,
    from_seq: Annotated[int | None, typer.Option(help="First seq (resumes from a snapshot).")]
    = None,
    to_seq: Annotated[int | None, typer.Option(help="Last seq.")] = None,
    from_time: Annotated[int | None, typer.Option("--from", help="First tick.")] = None,
    to_time: Annotated[int | None, typer.Option("--to", help="Last tick.")] = None,
    type: Annotated[list[str] | None, typer.Option(
        "--type", help="Only this event type (OrderFilled or order_filled); repeatable.")]
    = None,
    symbol: Annotated[list[str] | None, typer.Option(help="Only this symbol; repeatable.")]
    = None,
    client: Annotated[list[str] | None, typer.Option(help="Only this client; repeatable.")]
    = None,
    speed: Annotated[float, typer.Option(
        help="0: as fast as possible; 1: the simulated pace; 10: ten times faster.")] = 0,
    rules: Annotated[list[Path] | None, typer.Option(
        help="Replay into an engine of these rule files or folders (every .dl) instead of "
        "the read models.")] = None,
    query: Annotated[list[str] | None, typer.Option(
        help="A query to answer after the replay (with --rules); repeatable.")] = None,
    no_snapshot: Annotated[bool, typer.Option(
        "--no-snapshot", help="Rebuild from seq 1 even if a snapshot (of the read models, or "
        "of an engine of the rules) would do.")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="JSON instead of tables.")]
    = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Replay events in seq order into the read models (positions, trades, balances) or an
    engine, and print what was rebuilt."""
    with user_errors():
        if query and not rules:
            raise TempologError("--query needs --rules FILE.dl to answer it", code="usage")
        selection = Selection(from_seq, to_seq, from_time, to_time, _types(type),
                              tuple(symbol) if symbol else None,
                              tuple(client) if client else None)
        with open_store(db) as store:
            total = store.head()[0]
            with progress_bar("replaying", total, quiet or json_output) as advance:
                if rules:
                    with engine_from_files(rule_files(rules)) as engine:
                        show_warnings(engine.program)
                        result = replay_engine(store, engine, selection, speed=speed,
                                               progress=advance,
                                               use_snapshots=not no_snapshot)
                        answers = {q: engine.query(q) for q in query or []}
                    _print_engine(result, answers, json_output)
                    return
                result = replay_models(store, selection, speed=speed,
                                       use_snapshots=not no_snapshot, progress=advance)
        _print_models(result, selection, json_output)


def _print_engine(result, answers, json_output: bool) -> None:
    snapshot = result.engine_snapshot
    if json_output:
        typer.echo(json.dumps({"events": result.events, "facts": result.facts,
                               "first_seq": result.first_seq, "last_seq": result.last_seq,
                               "engine_snapshot": snapshot.to_dict() if snapshot else None,
                               "warnings": result.notes,
                               "answers": {q: r.as_dicts() for q, r in answers.items()}}))
        return
    for note in result.notes:
        typer.echo(f"warning: {note}", err=True)
    out = Console()
    start = f"from the engine snapshot at seq {snapshot.seq}, then " if snapshot else ""
    span = (f"seq {result.first_seq}..{result.last_seq}" if result.events
            else "none after it")
    out.print(f"{start}replayed {result.events:,} events ({span}) as {result.facts:,} facts "
              f"in {result.elapsed:.2f} s")
    for text, answer in answers.items():
        table = Table(title=f"{text}: {len(answer):,} answers", title_justify="left")
        for column in answer.columns:
            table.add_column(column)
        for row in answer.rows[:20]:
            table.add_row(*(str(v) for v in row))
        if len(answer) > 20:
            table.add_row(*(["…"] * len(answer.columns)))
        out.print(table)


def _print_models(result, selection: Selection, json_output: bool) -> None:
    models = result.models
    positions = models.positions
    if json_output:
        typer.echo(json.dumps({
            "events": result.events, "applied": result.applied, "first_seq": result.first_seq,
            "last_seq": result.last_seq,
            "snapshot": result.snapshot.to_dict() if result.snapshot else None,
            "digest": models.digest(), "state": models.state()}))
        return
    out = Console()
    start = (f"from the snapshot at seq {result.snapshot.seq}, then " if result.snapshot
             else "")
    out.print(f"{start}replayed {result.events:,} events (seq {result.first_seq}.."
              f"{result.last_seq}), {result.applied:,} into the read models, in "
              f"{result.elapsed:.2f} s" + (f" ({result.waited:.1f} s paced)" if result.waited
                                            else ""))
    if selection.filtered:
        out.print("a filtered replay: the state holds the selected events only")
    table = Table(title="positions", title_justify="left")
    for column in ("client", "symbol", "qty", "avg price", "mark", "market value",
                   "unrealized", "realized"):
        table.add_column(column, justify="left" if column in ("client", "symbol") else "right")
    for h in positions.open_positions():
        mark = positions.mark(h.symbol, h.avg_price)
        table.add_row(h.client, h.symbol, f"{h.qty:+,}", money(h.avg_price), money(mark),
                      money(h.market_value(mark)), money(h.unrealized(mark)),
                      money(h.realized))
    out.print(table)
    table = Table(title="balances", title_justify="left")
    for column in ("client", "opening", "cash", "settled cash", "bought", "sold", "fills"):
        table.add_column(column, justify="left" if column == "client" else "right")
    for a in sorted(models.balances.accounts.values(), key=lambda a: a.client):
        table.add_row(a.client, money(a.opening) if a.opened else "?", money(a.cash),
                      money(a.settled_cash) if a.opened else "?", money(a.bought),
                      money(a.sold), f"{a.fills:,}")
    out.print(table)
    out.print(f"trades: {len(models.trades):,} ({models.trades.settled():,} settled); "
              f"state digest {models.digest()}")


def snapshot(
    db: Db = DEFAULT_DB,
    every: Annotated[int | None, typer.Option(
        help="Snapshot every N seqs (default: once, at the head).")] = None,
    list_only: Annotated[bool, typer.Option("--list", help="List the stored snapshots.")]
    = False,
    rules: Annotated[list[Path] | None, typer.Option(
        help="Also snapshot an engine of these rule files or folders (its facts, indexes and "
        "materialised relations), for `replay --rules` and `check`.")] = None,
    query: Annotated[list[str] | None, typer.Option(
        help="With --rules: ask this query about now before each snapshot, so that the "
        "relations it reads are kept materialised; repeatable.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Store the read models' state at seqs (with the event hash each stands for), and with
    --rules an engine's, so that `replay --from-seq` resumes from the latest one at or
    before it."""
    with user_errors():
        if every is not None and every < 1:
            raise TempologError("--every must be at least 1", code="usage")
        if query and not rules:
            raise TempologError("--query needs --rules FILE.dl to answer it", code="usage")
        engine_taken = None
        with open_store(db) as store:
            if list_only:
                taken = snapshots(store)
                if rules:
                    with engine_from_files(rule_files(rules)) as engine:
                        engine_taken = engine_snapshots(store, engine.program_hash())
            else:
                with progress_bar("snapshotting", store.head()[0], quiet) as advance:
                    taken = take_snapshots(store, every, progress=advance)
                if rules:
                    with engine_from_files(rule_files(rules)) as engine, progress_bar(
                            "snapshotting the engine", store.head()[0], quiet) as advance:
                        engine_taken = take_engine_snapshots(
                            store, engine, every, queries=tuple(query or ()),
                            progress=advance)
    verb = "stored" if list_only else "took"
    typer.echo(f"{db}: {verb} {len(taken)} snapshot{'s' if len(taken) != 1 else ''}")
    for s in taken:
        typer.echo(f"  seq {s.seq:>8}  event hash {s.event_hash[:16]}…  state {s.state_hash[:16]}…"
                   f"  {s.size:,} bytes")
    if engine_taken is not None:
        names = ", ".join(str(path) for path in rules)
        typer.echo(f"{verb} {len(engine_taken)} engine snapshot"
                   f"{'s' if len(engine_taken) != 1 else ''} of {names}")
        for s in engine_taken:
            typer.echo(f"  seq {s.seq:>8}  event hash {s.event_hash[:16]}…  program "
                       f"{s.program[:16]}…  {s.size:,} bytes")


def validate(
    db: Db = DEFAULT_DB,
    from_seq: Annotated[int | None, typer.Option(help="First seq of the range.")] = None,
    to_seq: Annotated[int | None, typer.Option(help="Last seq of the range.")] = None,
    resimulate: Annotated[bool, typer.Option(
        "--resimulate", help="Re-run the simulator with the run's seed and config and "
        "compare every event.")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="The outcome as JSON.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Prove the log replays deterministically; exit 1 naming the first differing seq."""
    with user_errors(), open_store(db) as store:
        head = store.head()[0]
        if resimulate:
            config = recorded_config(store)
            with progress_bar("re-simulating", head, quiet or json_output) as advance:
                result = validate_resimulate(store, config, progress=advance)
            names = ("stored", "re-simulated")
        else:
            with progress_bar("replaying twice", head, quiet or json_output) as advance:
                result = validate_replay(store, from_seq, to_seq, progress=advance)
            names = ("first replay", "second replay")
    if json_output:
        typer.echo(json.dumps(result.to_dict()))
    elif result.ok:
        what = ("the simulator reproduced" if resimulate else "two replays agree on")
        extra = (f", state digest {result.digest}" if result.digest else "")
        checked = (f"; {len(result.checked_snapshots)} snapshots match"
                   if result.checked_snapshots else "")
        typer.echo(f"{db}: ok — {what} {result.events:,} events (seq {result.first_seq}.."
                   f"{result.last_seq}){extra}{checked}")
    if not result.ok:
        if not json_output:
            typer.echo(result.difference.format(*names), err=True)
        raise typer.Exit(FAILED)
