"""The three evaluators agree on every case: the generated `decide`, the closures of `evaluate`,
and a straightforward interpreter of the IR written for the tests (tests/interpreter.py)."""

from __future__ import annotations

import random

import pytest

import engine
from casegen import as_written, random_case
from conftest import DATA, KB, ROOT
from interpreter import interpret


@pytest.mark.parametrize("path", [KB, DATA / "plans", DATA / "concordance", ROOT / "bench" / "decision",
                                  DATA / "render"], ids=lambda p: p.name)
def test_fast_path_agrees_with_the_full_result(path):
    kb = engine.load_kb(path)
    rng = random.Random(20261121)
    for _ in range(3000):
        case = random_case(kb.facts, rng)
        valid = kb.validate_case({k: as_written(v) for k, v in case.items()})  # every generated value is valid
        full = kb.evaluate(valid, validated=True)
        fast = kb.decide(valid, validated=True)
        assert (list(fast.recommendations), list(fast.warnings), list(fast.needs)) == (
            full.recommendation_ids(), full.warning_ids(), full.needed_facts()), case
        assert interpret(kb, valid) == (full.recommendation_ids(), full.warning_ids(), full.needed_facts()), case
