"""Evaluation golden cases: every backend, and the naive evaluator, give the expected answers."""

from __future__ import annotations

import itertools

import naive
import pytest
from cases_io import CASES, evaluation_cases, load_case, relation_query

NAMES = evaluation_cases()


@pytest.mark.parametrize("name", NAMES)
def test_backend_answers_golden_case(name, engine_factory):
    case = load_case(name)
    engine = engine_factory(case.program)
    seqs = itertools.count(1)  # event rows get seq in file order
    for relation, rows in case.inputs.items():
        engine.assert_facts(relation, rows, seqs=[next(seqs) for _ in rows])
    for as_of, answers in case.expected.items():
        for relation, rows in answers.items():
            result = engine.query(relation_query(case.program.relations[relation]),
                                  as_of=as_of)
            assert list(result.rows) == rows, f"{relation} as of {as_of}"


@pytest.mark.parametrize("name", NAMES)
def test_naive_evaluator_answers_golden_case(name):
    case = load_case(name)
    for as_of, answers in case.expected.items():
        db = naive.evaluate(case.program, case.inputs, as_of)
        for relation, rows in answers.items():
            query = relation_query(case.program.relations[relation])
            assert naive.query(case.program, db, query) == rows, f"{relation} as of {as_of}"


def test_cases_are_many_and_well_formed():
    assert len(NAMES) >= 30
    for name in NAMES:
        folder = CASES / name
        assert (folder / f"{name}.dl").exists(), name
        assert not (folder / f"{name}.err").exists(), f"{name} has both expected/ and .err"
        case = load_case(name)
        assert case.expected[None], f"{name} checks no relation"
        for answers in case.expected.values():
            for relation, rows in answers.items():
                assert rows == sorted(set(rows), key=_row_key), f"{name}/{relation} unsorted"


def _row_key(row):
    return tuple((isinstance(v, str), v) for v in row)
