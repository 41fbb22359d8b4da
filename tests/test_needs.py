"""Needs: a decision left open by missing data names the facts, and what each answer leads to."""

from __future__ import annotations

import engine


def need(result, fact):
    [found] = [n for n in result.needs if n.fact == fact]
    return found


def answers(result, fact):
    [decides] = need(result, fact).decides
    return [(a.answer, a.leads_to) for a in decides.answers]


def test_percent_threshold_splits_at_30(bundled_kb):
    result = bundled_kb.evaluate({"complete_resection_feasible": True, "primary_r0_resectable": True,
                                  "unresectable_extrahepatic_disease": False})
    assert answers(result, "future_liver_remnant") == [("≤ 30 %", "conversion_chemotherapy"),
                                                       ("> 30 %", "surgical_approach")]
    assert need(result, "future_liver_remnant").question.startswith("What liver remnant volume")


def test_integer_threshold_splits_at_3_segments(bundled_kb):
    result = bundled_kb.evaluate({"complete_resection_feasible": True, "primary_r0_resectable": True,
                                  "unresectable_extrahepatic_disease": False, "future_liver_remnant": 40})
    assert answers(result, "hepatectomy_segments") == [("≤ 3 segments", "simultaneous_surgery"),
                                                       ("> 3 segments", "staged_approaches")]


def test_set_fact_lists_each_value(bundled_kb):
    result = bundled_kb.evaluate({"complete_resection_feasible": True, "primary_r0_resectable": True,
                                  "unresectable_extrahepatic_disease": False, "future_liver_remnant": 40,
                                  "hepatectomy_segments": 5})
    assert answers(result, "primary_symptoms") == [
        ("includes hemorrhage", "liver_first_contraindicated"),
        ("includes obstruction", "liver_first_contraindicated"),
        ("includes other", "liver_first"), ("none of them", "liver_first")]


def test_each_missing_criterion_is_a_need_with_its_answers(bundled_kb):
    result = bundled_kb.evaluate({})
    facts = [n.fact for n in result.needs]
    assert facts == ["complete_resection_feasible", "primary_r0_resectable",
                     "unresectable_extrahepatic_disease", "future_liver_remnant"]
    # one missing answer alone does not decide: the outcome says what else is needed
    [decides] = need(result, "complete_resection_feasible").decides
    outcomes = {a.answer: a.outcome for a in decides.answers}
    assert outcomes["no"].startswith("-> Start systemic chemotherapy")
    assert outcomes["yes"] == ("still undecided: needs primary_r0_resectable, "
                               "unresectable_extrahepatic_disease, future_liver_remnant")


def test_a_false_criterion_decides_despite_unknowns(bundled_kb):
    result = bundled_kb.evaluate({"unresectable_extrahepatic_disease": True})
    assert result.needs == ()
    assert result.recommendation_ids() == ["conversion_chemotherapy"]


def test_safety_rules_that_cannot_be_checked_are_listed_not_needed(bundled_kb):
    result = bundled_kb.evaluate({"primary_symptoms": ["hemorrhage"]})
    assert "proposed_treatment" not in result.needed_facts()
    [unchecked] = [u for u in result.unchecked if u.rule == "liver_first_with_symptomatic_primary"]
    assert unchecked.needs == ("proposed_treatment",)
