"""Needs: a decision left open by missing data names the facts, and what each answer leads to."""

from __future__ import annotations



def need(result, fact):
    [found] = [n for n in result.needs if n.fact == fact]
    return found


def answers(result, fact):
    [decides] = need(result, fact).decides
    return [(a.answer, a.leads_to) for a in decides.answers]


def test_percent_threshold_splits_at_30(bundled_kb):
    result = bundled_kb.evaluate({"metastatic_sites": ["liver"], "complete_resection_feasible": True,
                                  "primary_status": "in_place", "primary_r0_resectable": True})
    decides = {d.node: [(a.answer, a.leads_to) for a in d.answers]
               for d in need(result, "future_liver_remnant").decides}
    assert decides["resectability"] == [("≤ 30 %", "unresectable_disease"), ("> 30 %", "resectable_disease")]
    assert decides["nccn_liver_resectability"] == [("≤ 30 %", "nccn_liver_unresectable"),
                                                   ("> 30 %", "nccn_liver_resectable")]
    assert need(result, "future_liver_remnant").question.startswith("What liver remnant volume")


def test_integer_threshold_splits_at_3_segments(bundled_kb):
    result = bundled_kb.evaluate({"metastatic_sites": ["liver"], "complete_resection_feasible": True,
                                  "primary_status": "in_place", "primary_r0_resectable": True,
                                  "future_liver_remnant": 40})
    assert answers(result, "hepatectomy_segments") == [("≤ 3 segments", "standard_approach"),
                                                       ("> 3 segments", "staged_approaches")]


def test_set_fact_lists_each_value(bundled_kb):
    result = bundled_kb.evaluate({"metastatic_sites": ["liver"], "complete_resection_feasible": True,
                                  "primary_status": "in_place", "primary_r0_resectable": True,
                                  "future_liver_remnant": 40, "hepatectomy_segments": 5})
    assert answers(result, "primary_symptoms") == [
        ("includes hemorrhage", "liver_first_contraindicated"),
        ("includes obstruction", "liver_first_contraindicated"),
        ("includes imminent_obstruction", "liver_first"), ("includes other", "liver_first"),
        ("none of them", "liver_first")]


def test_each_missing_criterion_is_a_need_with_its_answers(bundled_kb):
    result = bundled_kb.evaluate({"metastatic_sites": ["liver"]})
    facts = [n.fact for n in result.needs]
    assert facts[:3] == ["complete_resection_feasible", "primary_status", "primary_r0_resectable"]
    assert "future_liver_remnant" in facts
    # one missing answer alone does not decide: the outcome says what else is needed
    decides = next(d for d in need(result, "complete_resection_feasible").decides if d.node == "resectability")
    outcomes = {a.answer: a.outcome for a in decides.answers}
    assert outcomes["no"] == "-> Initially unresectable hepatic metastases"
    assert outcomes["yes"].startswith("still undecided: needs primary_status, primary_r0_resectable, ")


def test_a_false_criterion_decides_despite_unknowns(bundled_kb):
    result = bundled_kb.evaluate({"metastatic_sites": ["liver", "other"],
                                  "unresectable_other_extrahepatic_disease": True})
    assert "conversion_chemotherapy" in result.recommendation_ids()
    assert not {"complete_resection_feasible", "primary_r0_resectable", "future_liver_remnant"} & set(
        result.needed_facts())


def test_safety_rules_that_cannot_be_checked_are_listed_not_needed(bundled_kb):
    result = bundled_kb.evaluate({"primary_symptoms": ["hemorrhage"]})
    assert "proposed_treatment" not in result.needed_facts()
    [unchecked] = [u for u in result.unchecked if u.rule == "liver_first_with_symptomatic_primary"]
    assert unchecked.needs == ("proposed_treatment",)


def test_answers_are_worked_out_from_the_case_as_evaluated(bundled_kb):
    """The answers are worked out when first read: changing the caller's dict afterwards
    changes neither them nor the result's case."""
    case = bundled_kb.validate_case({"metastatic_sites": ["liver"], "complete_resection_feasible": True,
                                     "primary_status": "in_place", "primary_r0_resectable": True})
    result = bundled_kb.evaluate(case, validated=True)
    case["complete_resection_feasible"] = False
    decides = {d.node: [(a.answer, a.leads_to) for a in d.answers]
               for d in need(result, "future_liver_remnant").decides}
    assert decides["resectability"] == [("≤ 30 %", "unresectable_disease"), ("> 30 %", "resectable_disease")]
    assert result.case["complete_resection_feasible"] is True
