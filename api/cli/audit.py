"""The auditor's commands: explain-event, trace, statement, compliance and report."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from api.cli.console import Console
from api.cli.errors import user_errors
from api.cli.options import DEFAULT_DB, Db
from engine import TempologError
from sim import open_store
from sim.audit.compliance import DEFAULT_MAX_MODIFICATIONS, compliance
from sim.audit.explain import explain_event, format_trace, trace
from sim.audit.statement import statement
from sim.audit.summary import summarize


class StatementFormat(StrEnum):
    text = "text"
    csv = "csv"
    json = "json"


class FindingsFormat(StrEnum):
    csv = "csv"
    json = "json"


def register(app: typer.Typer) -> None:
    app.command("explain-event")(explain_event_command)
    app.command("trace")(trace_command)
    app.command("statement")(statement_command)
    app.command("compliance")(compliance_command)
    app.command("report")(report_command)


Json = Annotated[bool, typer.Option("--json", help="JSON instead of text.")]


def explain_event_command(
    event: Annotated[str, typer.Argument(help="The event's seq or event id.")],
    db: Db = DEFAULT_DB,
    json_output: Json = False,
) -> None:
    """Explain one decision: the event, its payload, its causes back to the first one (and a
    risk check's values against its limits)."""
    with user_errors(), open_store(db) as store:
        explanation = explain_event(store, event)
    typer.echo(json.dumps(explanation.to_dict(), indent=2) if json_output
               else explanation.format())


def trace_command(
    ref: Annotated[str, typer.Argument(help="An order (O000123), a trade (T000045), or a "
                                            "correlation or event id.")],
    db: Db = DEFAULT_DB,
    json_output: Json = False,
) -> None:
    """Every event of an order's, a trade's or a correlation's flow, in seq order, numbered."""
    with user_errors(), open_store(db) as store:
        title, events = trace(store, ref)
    if json_output:
        typer.echo(json.dumps({"traced": title, "events": [
            {"n": n, "seq": e.seq, "type": e.type, "time": e.time, "event_id": e.event_id,
             "causation_id": e.causation_id, "summary": summarize(e.type, e.payload)}
            for n, e in enumerate(events, 1)]}, indent=2))
    else:
        typer.echo(format_trace(title, events))


def statement_command(
    client: Annotated[str, typer.Option(help="The client, e.g. client-1.")],
    db: Db = DEFAULT_DB,
    from_time: Annotated[int, typer.Option("--from", help="First tick of the period.")] = 0,
    to_time: Annotated[int | None, typer.Option(
        "--to", help="Last tick of the period (default: the last event's).")] = None,
    output: Annotated[StatementFormat, typer.Option("--format", help="text, csv or json.")]
    = StatementFormat.text,
) -> None:
    """An account statement from the event history: opening and closing positions and cash,
    every trade in the period, realized P&L."""
    with user_errors():
        if from_time < 0 or (to_time is not None and to_time < from_time):
            raise TempologError("the period is empty: --from must be >= 0 and <= --to",
                                code="usage")
        with open_store(db) as store:
            found = statement(store, client, from_time, to_time)
    text = {"text": found.to_text, "csv": found.to_csv, "json": found.to_json}[output.value]()
    typer.echo(text.rstrip("\n"))


def compliance_command(
    db: Db = DEFAULT_DB,
    output: Annotated[FindingsFormat, typer.Option("--format", help="csv or json.")]
    = FindingsFormat.csv,
    max_modifications: Annotated[int, typer.Option(
        help="More modifications of one order than this is a finding.")]
    = DEFAULT_MAX_MODIFICATIONS,
    out: Annotated[Path | None, typer.Option(help="Write to this file, not stdout.")] = None,
) -> None:
    """Compliance findings with the seqs of their events: wash trades, limit breaches and
    overrides, excessive modifications."""
    with user_errors():
        if max_modifications < 0:
            raise TempologError("--max-modifications must not be negative", code="usage")
        with open_store(db) as store:
            found = compliance(store, max_modifications=max_modifications)
        text = found.to_csv() if output is FindingsFormat.csv else found.to_json() + "\n"
        if out is None:
            typer.echo(text, nl=False)
        else:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text)
    counts = ", ".join(f"{n:,} {kind}" for kind, n in found.counts().items())
    typer.echo(f"{len(found.findings):,} findings: {counts}", err=True)


def report_command(
    db: Db = DEFAULT_DB,
    out: Annotated[Path, typer.Option(help="The folder for report.html and the charts.")]
    = Path("var/report"),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Five charts (PNG) and one self-contained report.html: prices, order volume, the top
    client's positions, risk breaches, execution latency; the events; the findings."""
    from api.report import build_report

    console = Console(stderr=True, quiet=quiet)
    with user_errors(), open_store(db) as store, Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), console=console, transient=True) as progress:
        tasks: dict[str, int] = {}

        def step(what: str, done: int, total: int) -> None:
            if what not in tasks:
                tasks[what] = progress.add_task(what, total=total)
            progress.update(tasks[what], completed=done, total=total)
        report = build_report(store, out, step=step)
    typer.echo(f"{report.html} ({report.events:,} events; charts: "
               f"{', '.join(path.name for path in report.charts.values())})")
