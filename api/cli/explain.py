"""The provenance commands: check (invariants for CI), explain, why-not and diff."""

from __future__ import annotations

import json
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from engine.errors import TempologError

USAGE = 2  # exit code of a usage mistake: a missing file, a bad option


class Output(StrEnum):
    text = "text"
    json = "json"


class CheckOutput(StrEnum):
    text = "text"
    json = "json"
    junit = "junit"


Db = Annotated[Path, typer.Option("--db", help="The event store (an SQLite file).")]
Rules = Annotated[list[Path] | None, typer.Option(
    "--rules", help="A rule file or folder; repeatable.")]
AsOf = Annotated[int | None, typer.Option("--as-of", help="Answer as of this time (tick).")]
Backend = Annotated[str | None, typer.Option(help="swipl or pydatalog.")]


def register(app: typer.Typer) -> None:
    app.command("check")(check)
    app.command("explain")(explain)
    app.command("why-not")(why_not)
    app.command("diff")(diff)


# ---- loading ----------------------------------------------------------------------

def usage_error(message: str) -> None:
    typer.echo(f"error[usage]: {message}", err=True)
    raise typer.Exit(USAGE)


def rule_files(paths: list[Path] | None) -> list[Path]:
    """The .dl files named, a folder standing for every .dl file under it."""
    if not paths:
        usage_error("give at least one rule file (--rules FILE)")
    files = []
    for path in paths:
        if path.is_dir():
            found = sorted(path.rglob("*.dl"))
            if not found:
                usage_error(f"no .dl files under {path}")
            files += found
        elif path.exists():
            files.append(path)
        else:
            usage_error(f"no rule file at {path}")
    return files


def open_store(db: Path):
    from sim.store.sqlite import open_store as open_sqlite

    if not db.exists():
        usage_error(f"no event store at {db} (run `tempolog sim --db {db}` first)")
    return open_sqlite(db)


def loaded_engine(rules: list[Path], store, backend: str | None):
    """An engine of the rules holding every event of the store as facts."""
    from engine import engine_from_files
    from sim.facts import replay

    engine = engine_from_files(rule_files(rules), backend)
    try:
        replay(store, engine)
    except BaseException:
        engine.close()
        raise
    return engine


def user_errors(run):
    """Run a command body; a TempologError is printed (never a traceback) and exits 1."""
    try:
        return run()
    except TempologError as error:
        typer.echo(error.user_message(), err=True)
        raise typer.Exit(1) from None


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
    db: Db = Path("var/events.db"),
    as_of: AsOf = None,
    since: Annotated[int | None, typer.Option(
        "--since", help="Only answers that became true after this time.")] = None,
    output_format: Annotated[CheckOutput, typer.Option(
        "--format", help="text, json or junit (JUnit XML for CI).")] = CheckOutput.text,
    output: Annotated[Path | None, typer.Option(
        "--output", help="Write the report to this file.")] = None,
    depth: Annotated[int | None, typer.Option(help="Cut proofs below this depth.")] = None,
    backend: Backend = None,
) -> None:
    """Run every .never invariant of the rules over the store's events: exit 0 when all
    hold, 1 when one is violated (with its first time and a proof), 2 on a usage mistake."""
    files = rule_files(rules)

    def run() -> bool:
        from engine.explain.junit import junit_xml

        with open_store(db) as store, loaded_engine(files, store, backend) as engine:
            report = engine.check(as_of=as_of, since=since, depth=depth,
                                  events=store.get_seq)
        text = {CheckOutput.text: report.render, CheckOutput.json: lambda: as_json(report),
                CheckOutput.junit: lambda: junit_xml(report)}[output_format]()
        emit(text, output)
        return report.ok

    if not user_errors(run):
        raise typer.Exit(1)


def explain(
    query: Annotated[str, typer.Argument(help='A fact or query, e.g. \'current_position('
                                              '"client-1", "AAPL", q, a, r)\'.')],
    rules: Rules = None,
    db: Db = Path("var/events.db"),
    as_of: AsOf = None,
    depth: Annotated[int | None, typer.Option(help="Cut proofs below this depth.")] = None,
    max_proofs: Annotated[int, typer.Option(help="Answers (or proofs of a fact) shown.")] = 1,
    events: Annotated[bool, typer.Option(
        "--events", help="Print each event leaf's causation chain from the store.")] = False,
    output_format: Annotated[Output, typer.Option("--format", help="text or json.")] = Output.text,
    backend: Backend = None,
) -> None:
    """Prove a fact or a query's answers, down to the events they rest on."""
    files = rule_files(rules)

    def run() -> None:
        with open_store(db) as store, loaded_engine(files, store, backend) as engine:
            found = engine.explain(query, as_of=as_of, depth=depth, max_proofs=max_proofs,
                                   events=store.get_seq)
            if events:
                found = replace(found, proofs=tuple(with_causes(found.proofs, store)))
        emit(as_json(found) if output_format is Output.json else found.render(), None)

    user_errors(run)


def why_not(
    fact: Annotated[str, typer.Argument(help="A fact, e.g. 'wash_trade(\"T1\", _, _, _, _, _)'.")],
    rules: Rules = None,
    db: Db = Path("var/events.db"),
    as_of: AsOf = None,
    output_format: Annotated[Output, typer.Option("--format", help="text or json.")] = Output.text,
    backend: Backend = None,
) -> None:
    """Why a fact is not an answer: each rule's first failing literal and the nearest miss."""
    files = rule_files(rules)

    def run() -> None:
        with open_store(db) as store, loaded_engine(files, store, backend) as engine:
            found = engine.why_not(fact, as_of=as_of, events=store.get_seq)
        emit(as_json(found) if output_format is Output.json else found.render(), None)

    user_errors(run)


def diff(
    query: Annotated[str, typer.Argument(help="A query, e.g. 'pending_order(o, c, s, d, q, p)'.")],
    from_time: Annotated[int, typer.Option("--from", help="The earlier time.")],
    to_time: Annotated[int | None, typer.Option("--to", help="The later time (default now).")]
    = None,
    rules: Rules = None,
    db: Db = Path("var/events.db"),
    output_format: Annotated[Output, typer.Option("--format", help="text or json.")] = Output.text,
    backend: Backend = None,
) -> None:
    """Answers added and removed between two times, with the proof or the absence of each."""
    files = rule_files(rules)

    def run() -> None:
        with open_store(db) as store, loaded_engine(files, store, backend) as engine:
            found = engine.diff(query, from_time, to_time, events=store.get_seq)
        emit(as_json(found) if output_format is Output.json else found.render(), None)

    user_errors(run)


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
