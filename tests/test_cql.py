"""CQL conformance: every HL7 CQL engine test the rule language can express, through `decide`
and through `evaluate` (tests/cql.py translates them). Each file's test prints how many of
its tests are expressible and how many pass, and fails on any failure."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

import consilium
from cql import expected_answer, read_tests, translate

CQL = Path(__file__).resolve().parents[2] / "shared" / "external" / "cql-tests"
FILES = ["CqlArithmeticFunctionsTest", "CqlComparisonOperatorsTest", "CqlDateTimeOperatorsTest",
         "CqlIntervalOperatorsTest", "CqlLogicalOperatorsTest", "CqlNullologicalOperatorsTest"]


def run(test) -> str | None:
    """What went wrong with one expressible test, or None when both paths give the expected answer."""
    text = translate(test)
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "main.rules").write_text(text, encoding="utf-8")
        try:
            kb = consilium.load_kb(folder, use_cache=False)
        except consilium.KnowledgeBaseError as error:
            return f"rejected: {error}\n{text}"
    expected = [expected_answer(test)]
    fast = list(kb.decide({}).recommendations)
    full = kb.evaluate({}).recommendation_ids()
    if fast != expected or full != expected:
        return f"decide {fast}, evaluate {full}, expected {expected} (output {test.output})\n{text}"
    return None


@pytest.mark.skipif(not CQL.exists(), reason="../shared/external/cql-tests is not beside this checkout")
@pytest.mark.parametrize("name", FILES)
def test_cql_conformance(name, capsys):
    tests = read_tests(CQL / f"{name}.xml")
    expressible = [t for t in tests if translate(t) is not None]
    failures = {t.name: problem for t in expressible if (problem := run(t)) is not None}
    with capsys.disabled():
        print(f"\n{name}: {len(tests)} tests, {len(expressible)} expressible, "
              f"{len(expressible) - len(failures)} pass through decide and evaluate")
    assert not failures, "\n".join(f"{n}: {p}" for n, p in failures.items())
