"""Plans in time: steps dated from their anchor, and actual dates held to their windows."""

from __future__ import annotations

import datetime as dt

import pytest

import consilium
from conftest import DATA

D = dt.date


@pytest.fixture(scope="module")
def kb():
    return consilium.load_kb(DATA / "plans")


def test_plan_is_laid_out_with_dated_windows(kb):
    result = kb.evaluate({"resectable_synchronous": True, "scrt_start": "2024-01-31"})
    [plan] = result.plans
    assert plan.anchor_date == D(2024, 1, 31)
    steps = {s.id: (s.timing, s.earliest, s.latest) for s in plan.steps}
    assert steps == {
        "scrt": ("at day 0", D(2024, 1, 31), D(2024, 1, 31)),
        "chemotherapy": ("from day 11 to day 18", D(2024, 2, 11), D(2024, 2, 18)),
        "evaluation": ("from 6 weeks to 8 weeks", D(2024, 3, 13), D(2024, 3, 27)),
        "surgery": ("at about 3 months", D(2024, 4, 30), D(2024, 4, 30)),
        "total": ("at about 6 months", D(2024, 7, 31), D(2024, 7, 31)),
    }
    assert result.warnings == ()


def test_without_the_anchor_the_plan_is_relative(kb):
    [plan] = kb.evaluate({"resectable_synchronous": True}).plans
    assert plan.anchor_date is None
    assert all(s.earliest is None for s in plan.steps)


def test_an_actual_date_outside_its_window_warns(kb):
    result = kb.evaluate({"resectable_synchronous": True, "scrt_start": "2024-01-31",
                          "chemotherapy_start": "2024-02-25"})
    [warning] = result.warnings
    assert warning.kind == "plan" and warning.id == "sequence.chemotherapy"
    assert "2024-02-25" in warning.label and "2024-02-11 to 2024-02-18" in warning.label
    [plan] = result.plans
    assert {s.id: s.on_time for s in plan.steps}["chemotherapy"] is False


@pytest.mark.parametrize("day,on_time", [("2024-02-10", False), ("2024-02-11", True), ("2024-02-18", True),
                                         ("2024-02-19", False)])
def test_window_bounds_are_inclusive(kb, day, on_time):
    result = kb.evaluate({"resectable_synchronous": True, "scrt_start": "2024-01-31", "chemotherapy_start": day})
    [plan] = result.plans
    assert {s.id: s.on_time for s in plan.steps}["chemotherapy"] is on_time


def test_an_approximate_step_is_not_held_to_a_date(kb):
    result = kb.evaluate({"resectable_synchronous": True, "scrt_start": "2024-01-31",
                          "surgery_date": "2024-05-20"})
    assert result.warnings == ()


def test_plan_not_scheduled_when_the_pathway_does_not_reach_it(kb):
    assert kb.evaluate({"resectable_synchronous": False, "scrt_start": "2024-01-31"}).plans == ()


def test_plan_errors(tmp_path):
    (tmp_path / "main.rules").write_text(
        'source S "S"\nfact n : integer\npathway p "P" source S\n    schedule sequenc\n'
        'plan sequence "Sequence" anchor n\n    source S\n    step a "A" at 3 days\n')
    with pytest.raises(consilium.KnowledgeBaseError) as caught:
        consilium.load_kb(tmp_path)
    assert sorted((d.span.line, d.code) for d in caught.value.diagnostics) == [
        (4, "unknown-plan"), (5, "type-mismatch")]


def test_plan_offset_must_be_a_duration(tmp_path):
    (tmp_path / "main.rules").write_text(
        'source S "S"\nfact d : date\nplan sequence "Sequence" anchor d\n    source S\n'
        '    step a "A" at 3 segments\n')
    with pytest.raises(consilium.KnowledgeBaseError) as caught:
        consilium.load_kb(tmp_path)
    assert [(d.span.line, d.span.column, d.code) for d in caught.value.diagnostics] == [(5, 19, "unit-mismatch")]
