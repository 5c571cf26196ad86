"""Provenance over any backend: proofs (explain), invariants (check), why-not and diff."""

from engine.explain.checking import CheckReport, InvariantResult, check
from engine.explain.diffing import Change, Diff, diff
from engine.explain.explaining import Explanation, explain
from engine.explain.proof import Node
from engine.explain.prover import Prover
from engine.explain.why_not import Attempt, WhyNot, why_not

__all__ = ["Attempt", "Change", "CheckReport", "Diff", "Explanation", "InvariantResult", "Node",
           "Prover", "WhyNot", "check", "diff", "explain", "why_not"]
