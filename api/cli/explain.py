"""The provenance commands: check (invariants for CI), explain, why-not and diff."""

from __future__ import annotations

import json
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from api.cli.errors import FAILED, show_warnings, user_errors
from api.cli.options import DEFAULT_DB, Db
from engine import Engine, SnapshotUnsupported, TempologError, engine_from_files
from sim import EventStore, open_store, replay
from sim.engine_snapshots import restore_latest

Rules = Annotated[list[Path] | None, typer.Option(
    "--rules", help="A rule file or folder; repeatable.")]
AsOf = Annotated[int | None, typer.Option("--as-of", help="Answer as of this time (tick).")]
Backend = Annotated[str | None, typer.Option(help="swipl or pydatalog.")]


class Output(StrEnum):
    text = "text"
    json = "json"


class CheckOutput(StrEnum):
    text = "text"
    json = "json"
    junit = "junit"


def register(app: typer.Typer) -> None:
    app.command("check")(check)
    app.command("explain")(explain)
    app.command("why-not")(why_not)
    app.command("diff")(diff)


# ---- loading ----------------------------------------------------------------------
# A rule file or store that is not there exits 2 (api/cli/errors.py), a broken invariant 1.

def rule_files(paths: list[Path] | None) -> list[Path]:
    """The .dl files named, a folder standing for every .dl file under it."""
    if not paths:
        raise TempologError("give at least one rule file (--rules FILE)", code="usage")
    files = []
    for path in paths:
        if path.is_dir():
            found = sorted(path.rglob("*.dl"))
            if not found:
                raise TempologError(f"no .dl files under {path}", code="file-not-found")
            files += found
        elif path.exists():
            files.append(path)
        else:
            raise TempologError(f"no rule file at {path}", code="file-not-found")
    return files


def loaded_engine(files: list[Path], store: EventStore, backend: str | None, *,
                  use_snapshots: bool = True) -> Engine:
    """An engine of the rules holding every event of the store as facts: resumed from the
    latest engine snapshot of these rules in the store (`tempolog snapshot --rules`) when
    there is one, so that a check of a growing log loads only the events after it."""
    engine = engine_from_files(files, backend)
    show_warnings(engine.program)
    try:
        notes: list[str] = []
        start = None
        if use_snapshots and _can_snapshot(engine):
            start = restore_latest(store, engine, store.head()[0], notes)
        for note in notes:
            typer.echo(f"warning: {note}", err=True)
        if start is not None:
            typer.echo(f"resumed from the engine snapshot at seq {start.seq:,}", err=True)
        replay(store, engine, from_seq=None if start is None else start.seq + 1)
    except BaseException:
        engine.close()
        raise
    return engine


def _can_snapshot(engine: Engine) -> bool:
    try:
        engine.program_hash()
    except SnapshotUnsupported:  # pyDatalog: every event from seq 1
        return False
    return True


def event_at(store: EventStore):
    """seq -> the stored event: how proofs give their event leaves an event id."""
    return lambda seq: next(iter(store.read(from_seq=seq, to_seq=seq)), None)


def emit(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text.rstrip("\n"))
    else:
        output.write_text(text + ("" if text.endswith("\n") else "\n"), encoding="utf-8")


def as_json(result) -> str:
    return json.dumps(result.to_json(), indent=2, ensure_ascii=False)


# ---- commands ---------------------------------------------------------------------

def check(
    rules: Annotated[list[Path], typer.Argument(help="Rule files or folders (every .dl).")],
    db: Db = DEFAULT_DB,
    as_of: AsOf = None,
    since: Annotated[int | None, typer.Option(
        "--since", help="Only answers that became true after this time.")] = None,
    output_format: Annotated[CheckOutput, typer.Option(
        "--format", help="text, json or junit (JUnit XML for CI).")] = CheckOutput.text,
    output: Annotated[Path | None, typer.Option(
        "--output", help="Write the report to this file.")] = None,
    depth: Annotated[int | None, typer.Option(help="Cut proofs below this depth.")] = None,
    backend: Backend = None,
    no_snapshot: Annotated[bool, typer.Option(
        "--no-snapshot", help="Load every event, even if an engine snapshot would do.")] = False,
) -> None:
    """Run every .never invariant of the rules over the store's events: exit 0 when all
    hold, 1 when one is violated (with its first time and a proof), 2 on a usage mistake."""
    from engine.explain.junit import junit_xml

    with user_errors():
        files = rule_files(rules)
        with open_store(db) as store, \
                loaded_engine(files, store, backend, use_snapshots=not no_snapshot) as engine:
            report = engine.check(as_of=as_of, since=since, depth=depth,
                                  events=event_at(store))
        text = {CheckOutput.text: report.render, CheckOutput.json: lambda: as_json(report),
                CheckOutput.junit: lambda: junit_xml(report)}[output_format]()
        emit(text, output)
    if not report.ok:
        raise typer.Exit(FAILED)


def explain(
    query: Annotated[str, typer.Argument(help='A fact or query, e.g. \'current_position('
                                              '"client-1", "AAPL", q, a, r)\'.')],
    rules: Rules = None,
    db: Db = DEFAULT_DB,
    as_of: AsOf = None,
    depth: Annotated[int | None, typer.Option(help="Cut proofs below this depth.")] = None,
    max_proofs: Annotated[int, typer.Option(help="Answers (or proofs of a fact) shown.")] = 1,
    events: Annotated[bool, typer.Option(
        "--events", help="Print each event leaf's causation chain from the store.")] = False,
    output_format: Annotated[Output, typer.Option("--format", help="text or json.")] = Output.text,
    backend: Backend = None,
) -> None:
    """Prove a fact or a query's answers, down to the events they rest on."""
    with user_errors():
        files = rule_files(rules)
        with open_store(db) as store, loaded_engine(files, store, backend) as engine:
            found = engine.explain(query, as_of=as_of, depth=depth, max_proofs=max_proofs,
                                   events=event_at(store))
            if events:
                found = replace(found, proofs=tuple(with_causes(found.proofs, store)))
        emit(as_json(found) if output_format is Output.json else found.render(), None)


def why_not(
    fact: Annotated[str, typer.Argument(help="A fact, e.g. 'wash_trade(\"T1\", _, _, _, _, _)'.")],
    rules: Rules = None,
    db: Db = DEFAULT_DB,
    as_of: AsOf = None,
    output_format: Annotated[Output, typer.Option("--format", help="text or json.")] = Output.text,
    backend: Backend = None,
) -> None:
    """Why a fact is not an answer: each rule's first failing literal and the nearest miss."""
    with user_errors():
        files = rule_files(rules)
        with open_store(db) as store, loaded_engine(files, store, backend) as engine:
            found = engine.why_not(fact, as_of=as_of, events=event_at(store))
        emit(as_json(found) if output_format is Output.json else found.render(), None)


def diff(
    query: Annotated[str, typer.Argument(help="A query, e.g. 'pending_order(o, c, s, d, q, p)'.")],
    from_time: Annotated[int, typer.Option("--from", help="The earlier time.")],
    to_time: Annotated[int | None, typer.Option("--to", help="The later time (default now).")]
    = None,
    rules: Rules = None,
    db: Db = DEFAULT_DB,
    output_format: Annotated[Output, typer.Option("--format", help="text or json.")] = Output.text,
    backend: Backend = None,
) -> None:
    """Answers added and removed between two times, with the proof or the absence of each."""
    with user_errors():
        files = rule_files(rules)
        with open_store(db) as store, loaded_engine(files, store, backend) as engine:
            found = engine.diff(query, from_time, to_time, events=event_at(store))
        emit(as_json(found) if output_format is Output.json else found.render(), None)


def with_causes(proofs, store):
    """The proofs with each event leaf carrying its causation chain, root cause first."""
    from engine.explain.proof import map_events

    def causes(leaf):
        if leaf.event_id is None:
            return leaf
        chain = [{"seq": e.seq, "event_id": e.event_id, "type": e.type, "time": e.time}
                 for e in store.causation_chain(leaf.event_id)[:-1]]
        return replace(leaf, extra={**leaf.extra, "causation": chain})

    return map_events(proofs, causes)
