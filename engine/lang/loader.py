"""Reads rule files and the files they `.include`, once each, rejecting include cycles."""

from __future__ import annotations

from pathlib import Path

from engine.errors import Diagnostic, RuleAnalysisError, RuleSyntaxError, line_at
from engine.lang import ast
from engine.lang.parser import parse


def load_files(paths: list[str | Path]) -> list[ast.RuleFile]:
    """Parse every file and, depth first, what it includes; report all errors together."""
    loaded: dict[Path, ast.RuleFile] = {}
    order: list[ast.RuleFile] = []
    diagnostics: list[Diagnostic] = []

    # chain: (resolved path, the .include line, the including file) from the root down
    def visit(path: Path, chain: list[tuple[Path, ast.Include, ast.RuleFile]]) -> None:
        resolved = path.resolve()
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
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as problem:
            if not chain:
                reason = problem.strerror if isinstance(problem, OSError) else "not UTF-8 text"
                diagnostics.append(Diagnostic("file-not-found", f"cannot read {path}: {reason}",
                                              str(path), hint="check the path"))
                return
            _, include, parent = chain[-1]
            diagnostics.append(Diagnostic(
                "include-not-found", f"cannot include {include.path!r}: no file at {path}",
                parent.path, include.pos.line, include.pos.column,
                "paths are relative to the including file",
                line_at(parent.source, include.pos.line)))
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

    for path in paths:
        visit(Path(path), [])
    if diagnostics:
        syntax_only = all(d.code == "syntax" for d in diagnostics)
        raise (RuleSyntaxError if syntax_only else RuleAnalysisError)(diagnostics)
    return order
