"""Golden proofs: `tests/cases/<case>/proofs.txt` holds requests and the trees they print,
on every backend (TEMPOLOG_UPDATE_GOLDEN=1 rewrites the files from the SWI-Prolog output)."""

from __future__ import annotations

import itertools
import os
import re

import pytest
from cases_io import CASES, load_case

from engine.analysis import load_program

GOLDEN = sorted(p.parent.name for p in CASES.glob("*/proofs.txt"))
REQUEST = re.compile(r"^== (explain|why-not) (.+?)(?: as of (\d+))?$")


def read_golden(name: str) -> list[tuple[str, str, int | None, str]]:
    """(command, text, as_of, expected output) per block of the case's proofs.txt."""
    blocks = []
    for chunk in (CASES / name / "proofs.txt").read_text().split("\n== ")[0:]:
        head, _, body = chunk.removeprefix("== ").partition("\n")
        command, text, as_of = REQUEST.match("== " + head).groups()
        blocks.append((command, text, None if as_of is None else int(as_of), body.strip("\n")))
    return blocks


def run(engine, command: str, text: str, as_of: int | None) -> str:
    if command == "explain":
        return engine.explain(text, as_of=as_of, max_proofs=2).render()
    return engine.why_not(text, as_of=as_of).render()


def test_golden_proof_cases_cover_the_issue():
    assert {"recursion_left", "negation_simple", "aggregate_sum", "time_order_lifecycle"} \
        <= set(GOLDEN)


@pytest.mark.parametrize("name", GOLDEN)
def test_golden_proofs(name, engine_factory, monkeypatch):
    monkeypatch.chdir(CASES / name)  # rule positions print as a user in the folder sees them
    case = load_case(name)
    engine = engine_factory(load_program([f"{name}.dl"]))
    seqs = itertools.count(1)
    for relation, rows in case.inputs.items():
        engine.assert_facts(relation, rows, seqs=[next(seqs) for _ in rows])
    blocks = read_golden(name)
    actual = [(command, text, as_of, run(engine, command, text, as_of))
              for command, text, as_of, _ in blocks]
    if os.environ.get("TEMPOLOG_UPDATE_GOLDEN") and engine_factory.backend == "swipl":
        (CASES / name / "proofs.txt").write_text("".join(
            f"== {c} {t}{'' if a is None else f' as of {a}'}\n{out}\n\n"
            for c, t, a, out in actual).rstrip("\n") + "\n")
        return
    for (command, text, as_of, expected), (*_, got) in zip(blocks, actual):
        assert got == expected, f"{command} {text} as of {as_of}"


def test_event_seqs_gives_each_held_event_row_its_seq(engine_factory):
    engine = engine_factory(".event e(x: symbol, n: number, t: time)\n.decl p(x: symbol)\n"
                            "p(x) :- e(x, _, _).\np(\"written\").")
    engine.assert_facts("e", [("a", 1, 5), ("b", 2, 6)], seqs=[41, 42])
    assert engine.event_seqs("e", [("a", 1, 5), ("b", 2, 6), ("a", 1, 6)]) == {
        ("a", 1, 5): 41, ("b", 2, 6): 42}
    assert engine.event_seqs("p", [("a",)]) == {}  # not an event relation
    proof = engine.explain('p("b")').proofs[0]
    assert proof.children[0].seq == 42 and proof.children[0].time == 6
    cut = engine.explain('p(x)', depth=1, max_proofs=3)
    assert [p.text for p in cut.proofs] == ['p("a")', 'p("b")', 'p("written")']
    assert engine.explain('p("written")').proofs[0].kind == "fact"
