"""Exact numbers and the operators guideline authors ask for: coalesce, min, max, abs, round and
months_between, in the language, in cases and in both evaluation paths; durations compared by
the rule of engine/lang/values.py; dates that leave the calendar are unknown, with the reason."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

import consilium
from consilium.engine.lang.values import Duration, compare, month_span, parse_duration

FACTS = ("fact x : number mg\nfact y : number mg\nfact n : integer\nfact a : date\nfact b : date\n"
         "fact g : duration\nfact flag : bool\n")


def value(tmp_path, expression, case=None):
    """The value of `expression` as a definition, by the evaluator, for a case of raw values."""
    (tmp_path / "main.rules").write_text(FACTS + f"define v = {expression}\n", encoding="utf-8")
    kb = consilium.load_kb(tmp_path, use_cache=False)
    return kb.evaluator.value(kb.checked.defines["v"].expr, kb.validate_case(case or {}))


def decided(tmp_path, condition, case):
    """What `decide` and `evaluate` both answer for a decision on `condition`: yes, no or undecided."""
    (tmp_path / "main.rules").write_text(FACTS + f'''source S "s"
pathway p "P" source S
    decide q "Q?"
        when {condition} -> yes
        otherwise -> no
    recommend yes "Yes"
        modality option
        quote "yes"
    recommend no "No"
        modality option
        quote "no"
''', encoding="utf-8")
    kb = consilium.load_kb(tmp_path, use_cache=False)
    fast, full = list(kb.decide(case).recommendations), kb.evaluate(case)
    assert fast == full.recommendation_ids()
    return (fast or ["undecided"])[0], full


@pytest.mark.parametrize("expression,case,expected", [
    ("x + y > 0.3 mg", {"x": "0.1 mg", "y": "0.2 mg"}, False),
    ("x + y = 0.3 mg", {"x": 0.1, "y": 0.2}, True),          # JSON numbers: 0.1 is one tenth
    ("2 - 1.1 = 0.9", {}, True),
    ("n = 9007199254740993", {"n": 9007199254740993}, True),  # 2^53 + 1: no float in between
    ("n + 1 > n", {"n": 10 ** 300}, True),
    ("1 / 3 * 3 < 1", {}, True),                               # a quotient that does not end is rounded
    ("6 / 4 = 1.5", {}, True),
])
def test_numbers_are_exact(tmp_path, expression, case, expected):
    assert decided(tmp_path, expression, case)[0] == ("yes" if expected else "no")


@pytest.mark.parametrize("expression,case,expected", [
    ("coalesce(x, y)", {"y": "2 mg"}, 2),
    ("coalesce(x, y, 5 mg)", {}, 5),
    ("coalesce(x, y)", {}, None),
    ("min(x, y, 3 mg)", {"x": "4 mg", "y": "3.5 mg"}, 3),
    ("max(x, y)", {"x": "4 mg", "y": "3.5 mg"}, 4),
    ("max(x, y)", {"x": "4 mg"}, None),
    ("abs(n - 10)", {"n": 3}, 7),
    ("round(x)", {"x": "2.5 mg"}, 3),
    ("round(x)", {"x": "-2.5 mg"}, -3),                        # halves away from zero, as CQL
    ("round(x, 2)", {"x": "3.14159 mg"}, Decimal("3.14")),
    ("months_between(a, b)", {"a": "2024-01-31", "b": "2024-02-29"}, Duration(months=1)),
    ("months_between(a, b)", {"a": "2024-01-31", "b": "2024-02-28"}, Duration(months=0)),
    ("months_between(a, b)", {"a": "2024-03-15", "b": "2023-12-16"}, Duration(months=-2)),
    ("min(a, b)", {"a": "2024-03-15", "b": "2023-12-16"}, dt.date(2023, 12, 16)),
    ("max(g, 6 weeks)", {"g": "40 days"}, Duration(days=42)),
    ("max(g, 1 month)", {"g": "30 days"}, None),               # which is longer depends on the month
])
def test_operators(tmp_path, expression, case, expected):
    assert value(tmp_path, expression, case) == expected


def test_months_between_a_date_and_itself_plus_months(tmp_path):
    for start in ("2024-01-31", "2023-05-31", "2024-02-29", "0001-01-01"):
        assert value(tmp_path, "a + months_between(a, b) <= b", {"a": start, "b": "2025-03-01"}) is True


@pytest.mark.parametrize("a,op,b,expected", [
    (Duration(months=16), ">=", Duration(days=487), None),   # 485 to 489 days: unknown for every operator
    (Duration(months=16), "<=", Duration(days=487), None),
    (Duration(months=16), "!=", Duration(days=487), None),
    (Duration(months=16), "=", Duration(days=487), None),
    (Duration(months=1), "<=", Duration(days=31), True),
    (Duration(months=1), "<", Duration(days=31), None),
    (Duration(months=1), ">=", Duration(days=28), True),
    (Duration(months=6), "<", Duration(days=200), True),
    (Duration(months=12), "=", Duration(months=12), True),
    (Duration(months=12), "=", parse_duration("1 year"), True),
    (Duration(days=42), "=", parse_duration("6 weeks"), True),
    (Duration(months=1, days=10), ">", Duration(days=37), True),
    (Duration(months=1, days=10), ">", Duration(days=38), None),  # 28 + 10 days in February
])
def test_durations_compare_by_the_written_rule(a, op, b, expected):
    assert compare(op, a, b) is expected


def test_never_both_at_least_and_at_most_of_two_different_durations():
    durations = [Duration(months=m, days=d) for m in range(0, 30, 3) for d in range(0, 500, 37)]
    for a in durations:
        for b in durations:
            le, ge, eq, ne = (compare(op, a, b) for op in ("<=", ">=", "=", "!="))
            assert not (le is True and ge is True) or a == b
            assert eq is None and ne is None or eq is (not ne)


def test_month_spans_follow_the_calendar():
    assert month_span(1) == (28, 31)
    assert month_span(12) == (365, 366)
    assert month_span(4800) == (146097, 146097)              # 400 years, exactly
    assert month_span(-1) == (-31, -28)


@pytest.mark.parametrize("text,expected", [
    ("P1Y", Duration(months=12)), ("P1Y2M10D", Duration(months=14, days=10)), ("PT48H", Duration(days=2)),
    ("P2W", Duration(days=14)), ("P1DT24H", Duration(days=2)), ("PT86400S", Duration(days=1)),
    ("2 years", Duration(months=24)), ("1 year 2 months", Duration(months=14)),
])
def test_iso_8601_durations_and_years(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["PT1H", "P0.5Y", "P", "PT", "6 fortnights", "P1Y2Q"])
def test_durations_that_are_not_whole_days_are_refused(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_years_in_rules_and_cases(tmp_path):
    assert decided(tmp_path, "g >= 2 years", {"g": "P2Y"})[0] == "yes"
    assert decided(tmp_path, "a + 1 year = 2025-02-28", {"a": "2024-02-29"})[0] == "yes"


@pytest.mark.parametrize("condition,case", [
    ("a + 1 day > 2024-01-01", {"a": "9999-12-31"}),
    ("a - 3 months < 2024-01-01", {"a": "0001-02-15"}),
    ("a + 3 months > 2024-01-01", {"a": "9999-11-15"}),
    ("a + 100000 years > b", {"a": "2000-01-01", "b": "2001-01-01"}),
])
def test_a_date_beyond_the_calendar_is_unknown_with_the_reason(tmp_path, condition, case):
    answer, full = decided(tmp_path, condition, case)
    assert answer == "undecided" and full.needs == ()
    [step] = [s for s in full.trace if s.node == "q"]
    assert step.outcome == "undecided: a condition has no value for this case (a date outside 0001-01-01 .. " \
                           "9999-12-31)"
    full.to_json()


def test_edge_dates_are_valid_everywhere(tmp_path):
    assert decided(tmp_path, "b - a > 3000000 days", {"a": "0001-01-01", "b": "9999-12-31"})[0] == "yes"


@pytest.mark.parametrize("interval", ["[5 .. 3]", "[5 .. 5)", "(5 .. 5]", "(5 .. 5)", "[2 months .. 1 month]",
                                      "[6 weeks .. 42 days)"])
def test_every_empty_range_is_an_error(tmp_path, interval):
    operand = "g" if "week" in interval or "month" in interval else "n"
    with pytest.raises(consilium.KnowledgeBaseError) as caught:
        value(tmp_path, f"{operand} in {interval}")
    assert [d.code for d in caught.value.diagnostics] == ["invalid-range"]


def test_a_range_of_one_value_is_fine(tmp_path):
    assert value(tmp_path, "n in [5 .. 5]", {"n": 5}) is True


def test_a_fact_may_be_called_like_an_operator(tmp_path):
    (tmp_path / "main.rules").write_text("fact min : integer\nfact round : integer\n"
                                         "define v = min(min, round) + round\n", encoding="utf-8")
    kb = consilium.load_kb(tmp_path, use_cache=False)
    assert kb.evaluator.value(kb.checked.defines["v"].expr, {"min": 2, "round": 5}) == 7


@pytest.mark.parametrize("expression,code", [
    ("min(a, n)", "type-mismatch"), ("abs(a)", "type-mismatch"), ("round(g)", "type-mismatch"),
    ("months_between(a, n)", "type-mismatch"), ("coalesce(x, n * 1 mg, flag)", "type-mismatch"),
    ("round(x, 1.5)", "invalid-value"), ("min(flag, flag)", "type-mismatch"), ("x + n", "unit-mismatch"),
])
def test_operator_type_errors(tmp_path, expression, code):
    with pytest.raises(consilium.KnowledgeBaseError) as caught:
        value(tmp_path, expression)
    assert code in [d.code for d in caught.value.diagnostics]


def test_exact_values_in_json(tmp_path):
    _, full = decided(tmp_path, "x > 0 mg", {"x": "0.1000000000000000000001 mg"})
    read = full.to_json()["trace"][0]["read"]
    assert "0.1000000000000000000001" in str(read)


def test_a_condition_of_constants_without_value_is_undecided_with_the_reason(tmp_path):
    """Found by the fuzzer: a node that reads no fact and divides by zero."""
    answer, full = decided(tmp_path, "1 / 0 > 1", {})
    assert answer == "undecided" and full.needs == ()
    [step] = [s for s in full.trace if s.node == "q"]
    assert step.outcome == "undecided: a condition has no value for this case (a division by zero)"
