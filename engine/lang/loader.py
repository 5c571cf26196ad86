"""Reads rule files and the files they `.include`, once each, rejecting include cycles."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from engine.errors import Diagnostic, RuleAnalysisError, RuleSyntaxError, line_at
from engine.lang import ast
from engine.lang.parser import parse

MAX_RULE_FILE_BYTES = 8 * 1024 * 1024  # a rule file larger than this is surely a mistake


class _Unreadable(Exception):
    """Why a rule file cannot be read; `line` > 0 when a byte of the file is to blame."""

    def __init__(self, code: str, reason: str, hint: str, line: int = 0, column: int = 0,
                 source_line: str = ""):
        super().__init__(reason)
        self.code, self.reason, self.hint = code, reason, hint
        self.line, self.column, self.source_line = line, column, source_line


def read_rule_text(path: Path) -> str:
    """A rule file's text: a regular file of at most MAX_RULE_FILE_BYTES of UTF-8."""
    if "\0" in str(path):
        raise _Unreadable("file-not-found", "the path holds a NUL character",
                          "remove the \\0 from the path")
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # never open a device or a FIFO
            raise _Unreadable("file-not-found", "not a regular file", "name a .dl file")
        with open(path, "rb") as file:
            data = file.read(MAX_RULE_FILE_BYTES + 1)
    except OSError as error:
        reason = f"no file at {path}" if isinstance(error, FileNotFoundError) else error.strerror
        raise _Unreadable("file-not-found", reason or str(error), "check the path") from None
    if len(data) > MAX_RULE_FILE_BYTES:
        raise _Unreadable("file-too-large", f"larger than {MAX_RULE_FILE_BYTES} bytes",
                          "split the rules into files that .include each other")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line_start = data.rfind(b"\n", 0, error.start) + 1
        line = data.count(b"\n", 0, error.start) + 1
        column = len(data[line_start:error.start].decode("utf-8", "replace")) + 1
        line_end = data.find(b"\n", error.start)
        shown = data[line_start:line_end if line_end >= 0 else len(data)]
        raise _Unreadable("encoding", f"byte 0x{data[error.start]:02x} is not UTF-8 text",
                          "save the file as UTF-8", line, column,
                          shown.decode("utf-8", "replace")) from None


def load_files(paths: list[str | Path], root: ast.RuleFile | None = None
               ) -> list[ast.RuleFile]:
    """Parse every file and, depth first, what it includes; report all errors together.
    `root`, already parsed, has its includes loaded (relative to its path) but is not listed."""
    loaded: dict[Path, ast.RuleFile] = {}
    order: list[ast.RuleFile] = []
    diagnostics: list[Diagnostic] = []

    # chain: (resolved path, the .include line, the including file) from the root down
    def visit(path: Path, chain: list[tuple[Path, ast.Include, ast.RuleFile]]) -> None:
        resolved = path.resolve() if "\0" not in str(path) else path
        if any(resolved == seen for seen, _, _ in chain):
            _, include, parent = chain[-1]
            cycle = [f.path for _, _, f in chain] + [str(path)]
            start = next(i for i, (p, _, _) in enumerate(chain) if p == resolved)
            diagnostics.append(Diagnostic(
                "include-cycle", "include cycle: " + " -> ".join(cycle[start:]),
                parent.path, include.pos.line, include.pos.column,
                "remove one of the .include lines of the cycle",
                line_at(parent.source, include.pos.line)))
            return
        if resolved in loaded:
            return
        try:
            text = read_rule_text(path)
        except _Unreadable as problem:
            if problem.line or not chain:  # the file's own bytes, or a file named by the user
                diagnostics.append(Diagnostic(
                    problem.code, f"cannot read {path}: {problem.reason}", str(path),
                    problem.line, problem.column, problem.hint, problem.source_line))
                return
            _, include, parent = chain[-1]
            diagnostics.append(Diagnostic(
                "include-not-found", f"cannot include {include.path!r}: {problem.reason}",
                parent.path, include.pos.line, include.pos.column,
                "paths are relative to the including file" if problem.hint == "check the path"
                else problem.hint, line_at(parent.source, include.pos.line)))
            return
        try:
            rule_file = parse(text, str(path))
        except RuleSyntaxError as error:
            diagnostics.extend(error.diagnostics)
            loaded[resolved] = ast.RuleFile(str(path), (), text)
            return
        loaded[resolved] = rule_file
        for include in rule_file.of_type(ast.Include):
            visit(path.parent / include.path, chain + [(resolved, include, rule_file)])
        order.append(rule_file)

    if root is not None:
        at = Path(root.path).resolve()
        loaded[at] = root
        for include in root.of_type(ast.Include):
            visit(Path(root.path).parent / include.path, [(at, include, root)])
    for path in paths:
        visit(Path(path), [])
    if diagnostics:
        syntax_only = all(d.code == "syntax" for d in diagnostics)
        raise (RuleSyntaxError if syntax_only else RuleAnalysisError)(diagnostics)
    return order
