"""`tempolog repl`: read a query or a dot-command, answer it, print it; Ctrl-C stops a query."""

from __future__ import annotations

import concurrent.futures
import json
import shlex
import time
from pathlib import Path

from prompt_toolkit import PromptSession
from prompt_toolkit.history import FileHistory
from prompt_toolkit.key_binding import KeyBindings
from rich.console import Console
from rich.table import Table
from rich.text import Text

from api.query import Format, relation_counts, render, run_query
from api.repl.commands import BY_NAME, COMMANDS, EVENT_FILTERS
from api.repl.completion import ReplCompleter
from engine import DiagnosticError, TempologError
from engine.errors import format_diagnostics
from sim import resolve_type

PROMPT = "tempolog> "
CONTINUATION = "     ...> "
DEFAULT_HISTORY = Path.home() / ".tempolog_history"
INTERRUPT_WAIT = 5.0  # seconds Ctrl-C waits for a query still compiling to reach the engine


class Quit(Exception):
    pass


def is_complete(text: str) -> bool:
    """Enter runs the input once it is a command or a clause ended by '.'."""
    stripped = text.strip()
    return not stripped or stripped.startswith(".") or stripped.endswith(".")


class Repl:
    """The state of one session (as-of time, format, timing) over a live engine."""

    def __init__(self, live, console: Console | None = None, *, timeout: float = 30.0):
        self.live = live
        self.console = console or Console(highlight=False)
        self.timeout = timeout
        self.as_of: int | None = None
        self.format = Format.table
        self.timing = True
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=4,
                                                           thread_name_prefix="repl-query")

    # ---- one input -----------------------------------------------------------------

    def execute(self, text: str) -> None:
        """Run one input; every mistake is printed, never raised (Quit leaves)."""
        stripped = text.strip()
        if not stripped:
            return
        try:
            if stripped.startswith("."):
                self._command(stripped)
            else:
                self._query(text)
        except DiagnosticError as error:
            self._diagnostics(text, error)
        except TempologError as error:
            self.console.print(Text(error.user_message(), style="red"))
        except (OSError, ValueError) as error:
            self.console.print(Text(f"error: {error}", style="red"))

    def _wait(self, call, *args, **kwargs):
        """Run `call` on a worker; Ctrl-C abandons it and returns to the prompt."""
        future = self._pool.submit(call, *args, **kwargs)
        try:
            while True:
                try:
                    return future.result(timeout=0.1)
                except concurrent.futures.TimeoutError:
                    continue
        except KeyboardInterrupt:
            if not future.cancel():
                self._interrupt(future)
            raise

    def _interrupt(self, future) -> None:
        """Stop the query in the engine too, or it would hold the engine until its time
        limit; it may still be compiling, a moment away from the engine."""
        deadline = time.monotonic() + INTERRUPT_WAIT
        while not self.live.engine.interrupt() and time.monotonic() < deadline:
            try:
                future.result(timeout=0.05)
                return
            except concurrent.futures.TimeoutError:
                continue
            except Exception:  # noqa: BLE001 - the abandoned query's own outcome is not shown
                return

    def _query(self, text: str) -> None:
        answer = self._wait(run_query, self.live.engine, text, as_of=self.as_of,
                            timeout=self.timeout)
        render(answer, self.format, self.console, timing=self.timing)

    def _diagnostics(self, text: str, error: DiagnosticError) -> None:
        """A one-line input gets its caret under what was typed; longer ones the listing."""
        first = error.errors[0]
        if "\n" not in text.strip() and first.line == 1 and first.path == "<query>":
            self.console.print(" " * (len(PROMPT) + first.column - 1) + "[red]^[/red]")
            for d in error.diagnostics:
                self.console.print(Text(f"{d.severity}[{d.code}]: {d.message}",
                                        style="red" if d.is_error else "yellow"))
                if d.hint:
                    self.console.print(Text(f"  hint: {d.hint}"))
            return
        self.console.print(error.format(), highlight=False, markup=False)

    # ---- dot-commands --------------------------------------------------------------

    def _command(self, text: str) -> None:
        name, _, rest = text.partition(" ")
        rest = rest.strip()
        if name not in BY_NAME:
            close = [c.name for c in COMMANDS if c.name.startswith(name[:3])]
            raise TempologError(f"unknown command {name}; " + (
                f"did you mean {close[0]}? " if close else "") + "`.help` lists them",
                code="usage")
        command = BY_NAME[name]
        if command.args and not command.args.startswith("[") and not rest:
            raise TempologError(f"{name} needs {command.args}", code="usage")
        getattr(self, "_do_" + name[1:])(rest)

    def _do_help(self, rest: str) -> None:
        self.console.print(help_table())

    def _do_quit(self, rest: str) -> None:
        raise Quit

    def _do_asof(self, rest: str) -> None:
        if rest == "now":
            self.as_of = None
            self.console.print("answering over every event")
            return
        if not rest.lstrip("-").isdigit():
            raise TempologError(".asof takes an integer time or `now`", code="usage")
        self.as_of = int(rest)
        self.console.print(f"answering as of t={self.as_of}")

    def _do_timing(self, rest: str) -> None:
        if rest not in ("on", "off"):
            raise TempologError(".timing takes on or off", code="usage")
        self.timing = rest == "on"
        self.console.print(f"timing {rest}")

    def _do_format(self, rest: str) -> None:
        try:
            self.format = Format(rest)
        except ValueError:
            raise TempologError(".format takes table, json or csv", code="usage") from None
        self.console.print(f"answers as {rest}")

    def _do_relations(self, rest: str) -> None:
        table = Table(caption=f"{len(self.live.engine.relations())} relations",
                      caption_justify="left")
        for column in ("relation", "columns", "kind", "facts"):
            table.add_column(column, justify="right" if column == "facts" else "left")
        engine = self.live.engine
        counts = relation_counts(engine)
        for name, relation in sorted(engine.relations().items()):
            count = counts[name]
            table.add_row(name, ", ".join(relation.fields), "event" if relation.is_event
                          else "derived", "?" if count is None else f"{count:,}")
        self.console.print(table)

    def _do_schema(self, rest: str) -> None:
        relation = self.live.engine.relations().get(rest)
        if relation is None:
            raise TempologError(f"no relation {rest}; `.relations` lists them", code="usage")
        table = Table(title=f"{'.event' if relation.is_event else '.decl'} {relation.name}")
        table.add_column("column")
        table.add_column("type")
        for field, kind in zip(relation.fields, relation.types):
            table.add_row(field, kind or "?")
        self.console.print(table)

    def _do_load(self, rest: str) -> None:
        paths = [Path(p) for p, _ in self.live.rule_sources]
        new = Path(rest)
        if not new.exists():
            raise OSError(f"no file {new}")
        self._wait(self.live.reload_files, [p for p in paths if p != new] + [new])
        program = self.live.engine.program
        if program.warnings:  # the rule set loads all the same
            self.console.print(Text(format_diagnostics(list(program.warnings)), style="yellow"))
        self.console.print(f"loaded {new}: {program.summary()}")

    def _do_events(self, rest: str) -> None:
        filters = {"limit": 20}
        for item in shlex.split(rest):
            key, eq, value = item.partition("=")
            if not eq or key not in EVENT_FILTERS:
                raise TempologError(f"{item!r}: filters are key=value with keys "
                                    f"{', '.join(EVENT_FILTERS)}", code="usage")
            filters[key] = EVENT_FILTERS[key](value)
        names = {"type": "types", "stream": "stream_id", "correlation": "correlation_id"}
        args = {names.get(k, k): ([v] if k == "type" else v) for k, v in filters.items()}
        if "types" in args:
            try:
                args["types"] = [resolve_type(args["types"][0]).name]
            except KeyError:
                raise TempologError(f"unknown event type {filters['type']!r}",
                                    code="usage") from None
        with self.live.store_lock:
            events = list(self.live.store.read(**args))
        table = Table(caption=f"{len(events)} events", caption_justify="left")
        for column in ("seq", "time", "type", "stream", "payload"):
            table.add_column(column, justify="right" if column in ("seq", "time") else "left")
        for e in events:
            table.add_row(str(e.seq), str(e.time), e.type, e.stream_id,
                          json.dumps(e.payload, sort_keys=True))
        self.console.print(table)

    def _proof(self, name: str, *args, **kwargs) -> None:
        method = getattr(self.live.engine, name, None)
        if method is None:
            raise TempologError(f"this engine has no {name} yet (it comes with the check and "
                                "explain work)", code="not-implemented")
        result = self._wait(method, *args, events=self.live.store_event, **kwargs)
        self.console.print(result.render(), highlight=False, markup=False)

    def _do_explain(self, rest: str) -> None:
        self._proof("explain", rest.rstrip(". "), as_of=self.as_of)

    def _do_whynot(self, rest: str) -> None:
        self._proof("why_not", rest.rstrip(". "), as_of=self.as_of)

    def _do_check(self, rest: str) -> None:
        self._proof("check", as_of=self.as_of)

    # ---- the loop ------------------------------------------------------------------

    def run(self, history: Path | None = DEFAULT_HISTORY) -> None:
        session = PromptSession(
            history=FileHistory(str(history)) if history else None,
            completer=ReplCompleter(self.live.engine.relations),
            complete_while_typing=False, multiline=True, key_bindings=_keys(),
            prompt_continuation=lambda width, line, soft: CONTINUATION)
        self.console.print(f"tempolog repl: {self.live.applied_seq:,} events, "
                           f"{self.live.engine.program.summary()}. "
                           "End a query with '.', `.help` for commands.", highlight=False)
        while True:
            try:
                text = session.prompt(PROMPT)
            except KeyboardInterrupt:
                continue  # Ctrl-C at the prompt clears the line
            except EOFError:
                break
            try:
                self.execute(text)
            except KeyboardInterrupt:
                self.console.print("[yellow]cancelled[/yellow]")
            except Quit:
                break
        self._pool.shutdown(wait=False, cancel_futures=True)


def help_table() -> Table:
    table = Table(title="Queries end with '.', e.g. current_position(c, s, q, a, r). "
                        "Commands:", title_justify="left")
    table.add_column("command")
    table.add_column("does")
    for command in COMMANDS:
        table.add_row(Text(f"{command.name} {command.args}".strip()), Text(command.help))
    return table


def _keys() -> KeyBindings:
    keys = KeyBindings()

    @keys.add("enter")
    def _enter(event) -> None:
        buffer = event.current_buffer
        if is_complete(buffer.text):
            buffer.validate_and_handle()
        else:
            buffer.insert_text("\n")

    return keys
