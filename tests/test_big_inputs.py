"""Big inputs work (their cost is measured in bench/bench_big.py, not here): long and/or chains,
a number of 400 digits, one of 5,000, a case of 100,000 unknown keys, a rule file of thousands
of facts with a finding for each."""

from __future__ import annotations

import json

import pytest

import consilium
from conftest import run_cli

RULES = '''source S "s"
fact x : integer
{facts}
define many = {condition}
pathway p "P" source S
    decide q "Q?"
        when many -> yes
        otherwise -> no
    recommend yes "Yes"
        modality option
        quote "yes"
    recommend no "No"
        modality option
        quote "no"
'''


def _kb(tmp_path, condition: str, facts: str = ""):
    (tmp_path / "main.rules").write_text(RULES.format(condition=condition, facts=facts), encoding="utf-8")
    return consilium.load_kb(tmp_path, use_cache=False)


@pytest.mark.parametrize("word", ["or", "and"])
def test_chains_of_a_thousand_terms_load_and_evaluate(tmp_path, word):
    # x = 500: `or` holds through the term x = 500; `and` of x != i fails at i = 500
    term = "x = {}" if word == "or" else "x != {}"
    kb = _kb(tmp_path, f" {word} ".join(term.format(i) for i in range(1000)))
    for x, expected in ((500, "yes" if word == "or" else "no"), (5000, "no" if word == "or" else "yes")):
        assert kb.evaluate({"x": x}).recommendation_ids() == [expected]
        assert list(kb.decide({"x": x}).recommendations) == [expected]
    assert kb.evaluate({}).needed_facts() == ["x"]


def test_nested_chains_load(tmp_path):
    inner = " or ".join(f"x = {i}" for i in range(200))
    kb = _kb(tmp_path, " and ".join(f"({inner})" for _ in range(5)))
    assert kb.evaluate({"x": 150}).recommendation_ids() == ["yes"]


def test_a_number_of_400_digits_is_exact(tmp_path):
    big = "1" + "0" * 399
    kb = _kb(tmp_path, f"x > {big} - 1")
    assert kb.evaluate({"x": 10 ** 399}).recommendation_ids() == ["yes"]
    assert kb.evaluate({"x": 10 ** 399 - 1}).recommendation_ids() == ["no"]
    run = run_cli("check", tmp_path, "--format", "json")  # verify (Z3) reads it too
    assert run.code == 0, run.err


def test_a_number_of_5000_digits_is_a_clear_error(tmp_path):
    with pytest.raises(consilium.KnowledgeBaseError) as caught:
        _kb(tmp_path, "x > " + "9" * 5000)
    [d] = caught.value.diagnostics
    assert (d.code, d.span.line) == ("invalid-value", 4) and "digits" in d.message


def test_a_case_number_or_duration_of_5000_digits_is_a_clear_error(tmp_path):
    """Past 4,300 digits Python reads no int from text; its own words (and its advice to call
    `sys.set_int_max_str_digits`) reached the user."""
    (tmp_path / "main.rules").write_text('source S "s"\nfact d : duration\nfact n : integer\n', encoding="utf-8")
    number, duration = tmp_path / "number.json", tmp_path / "duration.json"
    number.write_text('{"n": ' + "9" * 5000 + "}", encoding="utf-8")
    duration.write_text('{"d": "' + "9" * 5000 + ' days"}', encoding="utf-8")
    run = run_cli("eval", tmp_path, number)
    assert run.code == 2 and "the case is not valid JSON: a whole number has more than 4,300 digits" in run.err
    kb = consilium.load_kb(tmp_path)
    with pytest.raises(consilium.CaseError) as caught:
        kb.evaluate({"d": "P" + "9" * 5000 + "D"})
    [d] = caught.value.diagnostics
    assert d.code == "case-wrong-type" and "'d': 'P999" in d.message
    for run in (run_cli("eval", tmp_path, number), run_cli("eval", tmp_path, duration)):
        assert "Exceeds the limit" not in run.err and "set_int_max_str_digits" not in run.err and run.code == 2


def test_a_case_of_100000_unknown_keys_is_answered_with_a_capped_list_and_a_count(tmp_path):
    path = tmp_path / "case.json"
    path.write_text(json.dumps({**{f"key_{i}": i for i in range(100_000)}, "kras": "mutant"}))
    run = run_cli("eval", path)
    assert run.code == 2
    assert run.err.count("[case-unknown-fact]") == 21
    assert "and 99,980 more facts the knowledge base does not declare (100,000 in all" in run.err
    assert f"{path}:1:2: error: the knowledge base declares no fact 'key_0'" in run.err


def test_a_rule_file_of_thousands_of_facts_is_checked(tmp_path):
    facts = "\n".join(f"fact f{i} : integer in 0..10" for i in range(3000))
    _kb(tmp_path, "x > 3", facts)
    run = run_cli("check", tmp_path, "--format", "json")
    assert run.code == 0
    findings = json.loads(run.out)["findings"]
    assert sum(1 for f in findings if f["code"] == "unused-fact") == 3000
    text = run_cli("check", tmp_path)
    assert text.out.count("[unused-fact]") + text.err.count("[unused-fact]") == 3000
