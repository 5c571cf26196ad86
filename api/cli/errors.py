"""The one map from an error to what a user sees: a message on stderr and an exit code."""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import typer

from engine import DiagnosticError, TempologError
from engine.errors import format_diagnostics

OK, FAILED, USAGE = 0, 1, 2  # a user's mistake or a failed check is FAILED; bad options USAGE
INTERNAL = 3  # a bug in tempolog: CI must tell it from a failed check
INTERRUPTED = 130
# The command line is wrong: a bad option, or a file or store it names is not there. CI must
# tell a misconfigured job (2) from input that is wrong or a check that failed (1).
USAGE_CODES = frozenset({"usage", "store-not-found", "file-not-found"})


def show_warnings(program) -> None:
    """The rules' warnings on stderr, as `tempolog lint` shows them; they fail nothing."""
    if program.warnings:
        typer.echo(format_diagnostics(list(program.warnings)), err=True)


def exit_code(error: BaseException) -> int:
    if isinstance(error, DiagnosticError):
        usage = all(d.code in USAGE_CODES for d in error.errors)
        return USAGE if usage else FAILED
    if isinstance(error, TempologError) and error.code in USAGE_CODES:
        return USAGE
    if isinstance(error, FileNotFoundError):
        return USAGE
    if isinstance(error, KeyboardInterrupt):
        return INTERRUPTED
    return FAILED


def message(error: BaseException) -> str:
    if isinstance(error, TempologError):
        if error.code == "store-not-found":
            return f"{error.user_message()} (`tempolog sim --db ...` creates one)"
        return error.user_message()
    if isinstance(error, KeyboardInterrupt):
        return "interrupted"
    return f"error: {error}"


def fail(text: str, code: int = FAILED) -> None:
    """Print a user-facing error (never a traceback) and exit."""
    typer.echo(text, err=True)
    raise typer.Exit(code)


# What a user's mistake can raise: tempolog's own errors, and a file or database that is
# not there or not readable (or a database server that went away or refused a statement).
USER_ERRORS = (TempologError, OSError, sqlite3.Error, psycopg.Error, KeyboardInterrupt)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the mistakes a user can make into one message and its exit code."""
    try:
        yield
    except USER_ERRORS as error:
        fail(message(error), exit_code(error))


def report_internal(error: BaseException) -> int:
    """A bug: save the traceback to a file, print one line asking to report it; INTERNAL."""
    summary = " ".join(f"{type(error).__name__}: {error}".split())[:200]
    details = _save_traceback(error)
    where = f"the details are in {details}" if details else "the details could not be saved"
    typer.echo(f"internal error (a bug in tempolog, please report it): {summary}; {where}",
               err=True)
    return INTERNAL


def _save_traceback(error: BaseException) -> Path | None:
    """The traceback in TEMPOLOG_CRASH_DIR (default: the temporary directory)."""
    folder = Path(os.environ.get("TEMPOLOG_CRASH_DIR") or tempfile.gettempdir())
    path = folder / f"tempolog-crash-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.txt"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(traceback.format_exception(error)), encoding="utf-8")
    except OSError:
        return None
    return path
