"""Analysis: parsed files to a checked, typed, stratified Program, or every mistake in them."""

from engine.analysis.check import Query, analyse, analyse_query, load_program, program_from_source
from engine.analysis.program import Program, Relation

__all__ = ["Program", "Query", "Relation", "analyse", "analyse_query", "load_program",
           "program_from_source"]
