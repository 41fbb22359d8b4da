"""The fast case checker accepts exactly what validate_case accepts, with the same values.

`KnowledgeBase.validate_case` (and so `evaluate` and `decide` on a raw case) goes through
engine/inputs/fastcheck.py, which takes the common values on a fast path and leaves the
rest to `validate_case`. On random cases of every test knowledge base, as a case file
writes them, and on the same cases with values spoilt (wrong types, out of range, unknown
names, duplicates in a set, floats for integers), both give the same typed case or the same
diagnostics."""

from __future__ import annotations

import datetime as dt
import random

import pytest

import consilium
from casegen import as_written, random_case
from conftest import DATA, KB, ROOT
from consilium.engine.inputs.case import validate_case
from consilium.engine.inputs.fastcheck import CaseChecker
from consilium.engine.lang.diagnostics import CaseError

KNOWLEDGE_BASES = [KB, DATA / "plans", DATA / "concordance", ROOT / "bench" / "decision", DATA / "codegen"]
SPOILERS = [None, True, False, 0, 1, 3, 3.0, 3.5, -1, 1e9, float("nan"), "", "x", "31 %", "2024-02-30",
            "2024-02-03", dt.date(2024, 1, 1), dt.datetime(2024, 1, 1, 10), [], ["x"], ["liver", "liver"],
            ("liver",), {"a": 1}, "6 weeks", frozenset({"liver"}), {"liver"}, {"liver", "nowhere"},
            frozenset({1}), set(),
            # dates `date.fromisoformat` reads but a case file may not give; numbers past the bounds
            "20240301", "2024-W10-5", "2024-03-01T10:00", 10 ** 1002, -(10 ** 1002), float("inf"), 1e-300]


def _spoil(case: dict, rng: random.Random, names: list[str]) -> dict:
    spoilt = dict(case)
    for _ in range(rng.randint(1, 3)):
        spoilt[rng.choice(names + ["no_such_fact"])] = rng.choice(SPOILERS)
    return spoilt


def _outcome(check, raw):
    try:
        return "ok", check(raw)
    except CaseError as error:
        return "error", [(d.code, d.message) for d in error.diagnostics]


@pytest.mark.parametrize("path", KNOWLEDGE_BASES, ids=lambda p: p.name)
def test_the_fast_checker_agrees_with_validate_case(path):
    kb = consilium.load_kb(path)
    checker = CaseChecker(kb.facts)

    def slow(raw):
        case, diagnostics = validate_case(raw, kb.facts)
        if diagnostics:
            raise CaseError(diagnostics)
        return case
    rng = random.Random(20261129)
    names = list(kb.facts)
    fast_paths = 0
    for _ in range(1500):
        raw = {k: as_written(v) for k, v in random_case(kb.facts, rng).items()}
        for candidate in (raw, _spoil(raw, rng, names)):
            expected = _outcome(slow, candidate)
            assert _outcome(checker, candidate) == expected, candidate
            fast_paths += expected[0] == "ok"
    assert fast_paths > 1000  # the valid cases did come through


@pytest.mark.parametrize("path", KNOWLEDGE_BASES, ids=lambda p: p.name)
def test_a_validated_case_validates_as_itself(path):
    """A developer may validate a case once and pass it on: validating it again (as `evaluate`
    without `validated=True` does) gives the same case, sets and dates included."""
    kb = consilium.load_kb(path)
    rng = random.Random(20261130)
    for _ in range(300):
        case = kb.validate_case({k: as_written(v) for k, v in random_case(kb.facts, rng).items()})
        assert kb.validate_case(case) == case
        assert kb.decide(case) == kb.decide(case, validated=True)


def test_the_knowledge_base_checks_cases_through_it():
    kb = consilium.load_kb(ROOT / "bench" / "decision")
    assert isinstance(kb.case_checker, CaseChecker)
    assert kb.decide({"kras": "mutant", "peritoneal_pci": 5}).recommendations == ("bevacizumab", "crs_hipec")
    with pytest.raises(CaseError) as caught:
        kb.decide({"kras": "mutnt"})
    assert caught.value.diagnostics[0].code == "case-unknown-value"
