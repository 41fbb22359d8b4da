"""Dates and durations: literals, calendar arithmetic, and comparisons with units."""

from __future__ import annotations

import datetime as dt

import pytest

import consilium
from consilium.engine.lang.values import Duration, add_duration, parse_duration


def evaluate(tmp_path, expression, case):
    (tmp_path / "main.rules").write_text(
        "fact start : date\nfact surgery : date\nfact gap : duration\n"
        f"define x = {expression}\n", encoding="utf-8")
    kb = consilium.load_kb(tmp_path)
    return kb.value(kb.defines["x"].expr, kb.validate_case(case))


@pytest.mark.parametrize("expression,expected", [
    ("start + 6 weeks = 2024-04-12", True),
    ("start + 11 days = 2024-03-12", True),
    ("start + 3 months = 2024-06-01", True),
    ("start - 1 month = 2024-02-01", True),
    ("surgery - start = 42 days", True),
    ("surgery - start = 6 weeks", True),
    ("surgery - start >= 6 weeks", True),
    ("surgery - start > 6 weeks", False),
    ("surgery - start in [5 weeks .. 10 weeks]", True),
    ("surgery - start < 2 months", True),
    ("surgery > start", True),
    ("6 weeks + start = 2024-04-12", True),
    ("gap + 1 week = 7 weeks", True),
    ("gap > 41 days", True),
    ("gap is known", True),
])
def test_date_and_duration_arithmetic(tmp_path, expression, expected):
    case = {"start": "2024-03-01", "surgery": "2024-04-12", "gap": "6 weeks"}
    assert evaluate(tmp_path, expression, case) is expected


def test_unknown_date_makes_arithmetic_unknown(tmp_path):
    assert evaluate(tmp_path, "surgery - start >= 6 weeks", {"start": "2024-03-01"}) is None


@pytest.mark.parametrize("day,months,expected", [
    (dt.date(2024, 1, 31), 1, dt.date(2024, 2, 29)),   # leap year, month end clamps
    (dt.date(2023, 1, 31), 1, dt.date(2023, 2, 28)),
    (dt.date(2024, 11, 15), 3, dt.date(2025, 2, 15)),  # across a year
    (dt.date(2024, 3, 31), -1, dt.date(2024, 2, 29)),
])
def test_calendar_months(day, months, expected):
    assert add_duration(day, Duration(months=months)) == expected


@pytest.mark.parametrize("text,expected", [
    ("6 weeks", Duration(days=42)), ("1 week", Duration(days=7)), ("42 days", Duration(days=42)),
    ("2 months", Duration(months=2)), ("P6W", Duration(days=42)), ("P2M", Duration(months=2)),
    ("P1M10D", Duration(months=1, days=10)),
])
def test_parse_duration(text, expected):
    assert parse_duration(text) == expected


def test_months_and_days_compare_by_average_length():
    assert Duration(months=5) < Duration(days=160) < Duration(months=6)
    assert Duration(days=42) == Duration(days=6 * 7)
    assert Duration(months=2) > Duration(months=1)


def test_date_arithmetic_type_errors(tmp_path):
    (tmp_path / "main.rules").write_text(
        "fact start : date\nfact n : integer\ndefine a = start + 6 > start\ndefine b = start + start > start\n")
    with pytest.raises(consilium.KnowledgeBaseError) as caught:
        consilium.load_kb(tmp_path)
    assert [(d.span.line, d.code) for d in caught.value.diagnostics] == [(3, "unit-mismatch"), (4, "type-mismatch")]
