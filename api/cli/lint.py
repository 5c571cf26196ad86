"""`tempolog lint`: check rule files, every mistake at once, as text or JSON for tools."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from api.cli.errors import exit_code
from engine import DiagnosticError, load_program
from engine.analysis.planner import explain_program
from engine.errors import format_diagnostics


class Format(StrEnum):
    text = "text"
    json = "json"


def register(app: typer.Typer) -> None:
    app.command("lint")(lint)


# Warnings (a rule that has a meaning, likely not the one meant) go to stderr, as errors do;
# only errors fail the command.
def lint(
    files: Annotated[list[Path], typer.Argument(help="Rule files (.dl) to check together.")],
    output: Annotated[Format, typer.Option("--format", help="text, or json for tools.")] = (
        Format.text),
    explain_plan: Annotated[bool, typer.Option(
        "--explain-plan", help="Show each rule's body in the order the join planner runs it "
        "(without facts; the engine plans again from statistics as facts arrive).")] = False,
) -> None:
    """Check rule files: syntax, declarations, safety, types and stratification; warnings
    are shown and do not fail."""
    try:
        program = load_program(files)
    except DiagnosticError as error:
        if output is Format.json:
            typer.echo(json.dumps({"ok": False,
                                   "errors": [d.to_dict() for d in error.errors],
                                   "warnings": [d.to_dict() for d in error.warnings]},
                                  indent=2))
        else:
            typer.echo(error.format(), err=True)
        raise typer.Exit(exit_code(error)) from None
    strata = len(program.strata)
    if output is Format.json:
        typer.echo(json.dumps({
            "ok": True,
            "relations": len(program.relations),
            "rules": sum(1 for r in program.rules if not r.is_fact),
            "facts": sum(1 for r in program.rules if r.is_fact),
            "invariants": len(program.invariants),
            "strata": strata,
            "warnings": [d.to_dict() for d in program.warnings],
        }, indent=2))
    else:
        if program.warnings:
            typer.echo(format_diagnostics(list(program.warnings)), err=True)
        names = ", ".join(str(f) for f in files)
        typer.echo(f"{names}: ok — {program.summary()}")
        if explain_plan:
            typer.echo(explain_program(program))
