"""tempolog's engine: parse -> analyse -> compile -> backend, behind one Python API."""

from engine.analysis.check import Query, analyse, analyse_query, load_program, program_from_source
from engine.analysis.program import Program, Relation
from engine.backends.factory import BACKENDS, engine_from_files, open_engine
from engine.engine import Engine, Result
from engine.errors import (
    BackendUnavailable,
    Diagnostic,
    DiagnosticError,
    EventRejected,
    QueryCancelled,
    QueryError,
    QueryTimeout,
    RowRejected,
    RuleAnalysisError,
    RuleSyntaxError,
    SnapshotRejected,
    SnapshotUnsupported,
    TempologError,
)
from engine.evaluate import evaluate
from engine.lang.parser import parse

__all__ = [
    "BACKENDS", "BackendUnavailable", "Diagnostic", "DiagnosticError",
    "Engine", "EventRejected", "Program", "Query", "QueryCancelled", "QueryError",
    "QueryTimeout", "Relation", "Result", "RuleAnalysisError", "RuleSyntaxError",
    "SnapshotRejected", "SnapshotUnsupported", "TempologError",
    "analyse", "analyse_query", "engine_from_files", "evaluate", "load_program", "open_engine",
    "parse", "program_from_source", "RowRejected",
]
