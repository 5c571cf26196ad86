"""The one error tree of tempolog, and diagnostics that point into source text."""

from __future__ import annotations

from dataclasses import dataclass


def line_at(text: str, number: int) -> str:
    """Line `number` (from 1) of `text`, as a diagnostic shows it; "" past the end."""
    lines = text.splitlines()
    return lines[number - 1] if 0 < number <= len(lines) else ""


ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class Diagnostic:
    """One mistake in a user's text (an error), or a likely one that still has a meaning
    (a warning): where it is, what it is and how to fix it."""

    code: str
    message: str
    path: str = "<input>"
    line: int = 0
    column: int = 0
    hint: str = ""
    source_line: str = ""
    notes: tuple[str, ...] = ()
    severity: str = ERROR  # error | warning

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def sort_key(self) -> tuple:
        return (self.path, self.line, self.column, self.code, self.message)

    def format(self) -> str:
        """`path:line:col: error[code]: message` (or `warning[code]`), the source line, a
        caret, the hint."""
        where = f"{self.path}:{self.line}:{self.column}" if self.line else self.path
        lines = [f"{where}: {self.severity}[{self.code}]: {self.message}"]
        if self.source_line:
            gutter = f"{self.line} | "
            lines.append(gutter + self.source_line.rstrip("\n"))
            caret_at = max(self.column - 1, 0)
            # Keep tabs so the caret lines up under tab-indented source.
            pad = "".join(c if c == "\t" else " " for c in self.source_line[:caret_at])
            lines.append(" " * (len(gutter) - 2) + "| " + pad + "^")
        lines.extend(f"  note: {note}" for note in self.notes)
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "hint": self.hint,
            "notes": list(self.notes),
        }


class TempologError(Exception):
    """Base of every error tempolog raises on purpose. `code` is stable and documented."""

    code = "error"

    def __init__(self, message: str = "", *, code: str | None = None):
        super().__init__(message)
        if code is not None:
            self.code = code

    def user_message(self) -> str:
        """The error as a command line shows it to a user."""
        return f"error[{self.code}]: {self}"


def _counted(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


def format_diagnostics(diagnostics: list[Diagnostic]) -> str:
    """Each diagnostic in turn, then `N errors generated` (`… and M warnings` if any)."""
    errors = sum(1 for d in diagnostics if d.is_error)
    warnings = len(diagnostics) - errors
    counts = [_counted(errors, "error")] if errors else []
    counts += [_counted(warnings, "warning")] if warnings else []
    body = "\n\n".join(d.format() for d in diagnostics)
    return f"{body}\n\n{' and '.join(counts)} generated"


class DiagnosticError(TempologError):
    """An error about user-written text, carrying every diagnostic found, in order: its
    errors (at least one) and the warnings found with them."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = sorted(diagnostics, key=Diagnostic.sort_key)
        first = next((d for d in self.diagnostics if d.is_error), self.diagnostics[0])
        super().__init__(self.format(), code=first.code)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if not d.is_error]

    def user_message(self) -> str:
        return self.format()  # every diagnostic already names its code and position

    def format(self) -> str:
        return format_diagnostics(self.diagnostics)


class RuleSyntaxError(DiagnosticError):
    """A rule file or query text that does not parse."""


class RuleAnalysisError(DiagnosticError):
    """A rule program that parses but is not a valid program (unsafe, unstratified …)."""


class CompileError(TempologError):
    """A construct a backend's compiler cannot translate (analysis should have rejected it)."""

    code = "compile"


class QueryError(TempologError):
    """A query that cannot be answered: bad text, unknown relation, backend failure."""

    code = "query"


class QueryTimeout(QueryError):
    """A query that ran past its time limit; the engine stays usable."""

    code = "query-timeout"


class QueryCancelled(QueryError):
    """A query stopped by `Engine.interrupt` (Ctrl-C in the REPL); the engine stays usable."""

    code = "query-cancelled"


class BackendUnavailable(TempologError):
    """The requested evaluation backend cannot run on this machine."""

    code = "backend-unavailable"


class EventRejected(TempologError):
    """An event that fails validation; nothing of its batch is written."""

    code = "event-rejected"


class RowRejected(EventRejected, QueryError):
    """A fact row that does not fit its relation; nothing of its batch is written.

    Rows come from events, so it is an EventRejected; it is also the QueryError that a
    caller of `Engine.assert_facts` gets for any bad argument."""

    code = "row-rejected"


class SnapshotUnsupported(TempologError):
    """An engine whose backend cannot dump or restore its state (pyDatalog)."""

    code = "snapshot-unsupported"


class SnapshotRejected(TempologError):
    """An engine snapshot that must not be restored: of another program, another format or
    SWI-Prolog version, or damaged. The engine's state is left as it was."""

    code = "snapshot-rejected"
