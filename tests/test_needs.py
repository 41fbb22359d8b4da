"""Needs: a decision left open by missing data names the facts, and what each answer leads to."""

from __future__ import annotations

import re

import consilium
from conftest import DATA, KB, run_cli


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
    assert outcomes["yes"] == "still undecided: needs primary_status, primary_r0_resectable, future_liver_remnant"


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


# ---- needs that three-valued logic makes irrelevant are not needs -------------------------------

def test_a_liver_only_patient_is_not_asked_about_lung_resectability(bundled_kb):
    """No lung metastases: 'unresectable extrahepatic disease' is already false for the lung part
    whatever the lung's resectability, so it is never asked; the four criteria still are."""
    case = {"metastatic_sites": ["liver"]}
    result, values = bundled_kb.evaluate(case), bundled_kb.decide(case)
    for needs in (result.needed_facts(), list(values.needs)):
        assert "lung_metastases_resectable" not in needs
        assert "unresectable_other_extrahepatic_disease" not in needs
        assert {"complete_resection_feasible", "future_liver_remnant", "primary_status"} <= set(needs)
    assert "lung_metastases_resectable" not in [n["fact"] for n in result.to_json()["needs"]]


def test_with_lung_metastases_their_resectability_stays_a_need(bundled_kb):
    """Unknown is not false: with lung metastases, the lung's resectability is asked."""
    case = {"metastatic_sites": ["liver", "lung"], "complete_resection_feasible": True,
            "primary_status": "in_place", "primary_r0_resectable": True, "future_liver_remnant": 45}
    result = bundled_kb.evaluate(case)
    assert "lung_metastases_resectable" in result.needed_facts()
    assert "resectability" in [d.node for d in need(result, "lung_metastases_resectable").decides]
    assert "lung_metastases_resectable" in bundled_kb.decide(case).needs


def test_a_decision_waits_only_on_its_first_open_branch(bundled_kb):
    """NCCN's lung pathway with liver disease: 'no liver metastases' is false, so the decision
    waits on 'liver metastases resectable' alone (its criteria), not on later branches."""
    case = {"metastatic_sites": ["liver", "lung"], "lung_metastases_resectable": True,
            "complete_resection_feasible": True, "primary_status": "in_place", "primary_r0_resectable": True}
    result = bundled_kb.evaluate(case)
    [remnant] = [n for n in result.needs if n.fact == "future_liver_remnant"]
    assert "nccn_lung_with_liver" in [d.node for d in remnant.decides]
    # no peritoneal or other metastases: their resectability cannot decide anything here
    assert "unresectable_other_extrahepatic_disease" not in result.needed_facts()
    assert result.needed_facts() == list(bundled_kb.decide(case).needs)


def test_decide_names_the_missing_facts_itself_where_each_one_could_decide():
    """Where every missing fact of a condition left open is a need (one kind of join, `is known`
    showing the value is there), the values-only code tests them itself; elsewhere it asks
    `relevant`. (That both give the interpreter's needs, tests/test_fast_path.py holds.)"""
    source = consilium.load_kb(DATA / "needs").generated_source()
    decide = source[source.index("def decide_joins"):source.index("def decide(")]
    assert set(re.findall(r"relevant\(\('joins/(\w+)'", decide)) == {"not_known_and", "mixed", "negated_and"}
    assert "needs.append('c')" in decide  # a and not (b or c): c tested inline


# ---- a trace step left open names the facts that could decide it, as the needs do ---------------

LUNG = {"lung_metastases_resectable", "unresectable_other_extrahepatic_disease"}
CRITERIA = "complete_resection_feasible, primary_status, primary_r0_resectable, future_liver_remnant"
LIVER_RESECTABILITY = ("resectability", "nccn_liver_resectability", "esmo_liver_resectability",
                       "jsccr_liver_resectability")


def open_outcomes(steps) -> dict[str, str]:
    """Each step left open (a `TraceStep` or its JSON), by node: what it says."""
    return {(s["node"] if isinstance(s, dict) else s.node): (s["outcome"] if isinstance(s, dict) else s.outcome)
            for s in steps if (s["code"] if isinstance(s, dict) else s.code) == "undecided"}


def named(outcome: str) -> list[str]:
    assert outcome.startswith("undecided: needs "), outcome
    return outcome.removeprefix("undecided: needs ").split(", ")


def test_a_liver_only_patients_trace_asks_nothing_of_the_lungs(bundled_kb):
    """The auditor's trace (the steps, and the JSON's `trace`) of a patient whose metastases are in
    the liver alone: each decision left open names the facts that could decide it, the four
    resectability criteria, never the lungs' resectability or other extrahepatic disease. The node
    reads those, and the step still shows them read (unknown), but no answer to them could change
    what it does: the result's needs leave them out, and so does the step."""
    result = bundled_kb.evaluate({"metastatic_sites": ["liver"]})
    for steps in (result.trace, result.to_json()["trace"]):
        outcomes = open_outcomes(steps)
        for node in LIVER_RESECTABILITY:
            assert outcomes[node] == "undecided: needs " + CRITERIA
        assert named(outcomes["total_mesorectal_excision"]) == [
            "primary_status", "complete_resection_feasible", "primary_r0_resectable", "future_liver_remnant"]
        assert not any(LUNG & set(named(o)) for o in outcomes.values())
    [step] = [s for s in result.trace if s.node == "resectability"]
    assert ("lung_metastases_resectable", None) in step.read
    assert not LUNG & set(result.needed_facts())


def test_with_lung_metastases_the_trace_names_their_resectability(bundled_kb):
    """Unknown is not false: with lung metastases, the lungs' resectability could decide the
    liver's resectability decisions, and the trace names it (other extrahepatic disease still
    not: there is none); with the liver criteria given, it is all they wait for."""
    result = bundled_kb.evaluate({"metastatic_sites": ["liver", "lung"]})
    for steps in (result.trace, result.to_json()["trace"]):
        outcomes = open_outcomes(steps)
        for node in LIVER_RESECTABILITY:
            assert named(outcomes[node]) == ["complete_resection_feasible", "primary_status", "primary_r0_resectable",
                                             "lung_metastases_resectable", "future_liver_remnant"]
        assert outcomes["nccn_lung_resectability"] == "undecided: needs lung_metastases_resectable"
    given = bundled_kb.evaluate({"metastatic_sites": ["liver", "lung"], "complete_resection_feasible": True,
                                 "primary_status": "in_place", "primary_r0_resectable": True,
                                 "future_liver_remnant": 45})
    for steps in (given.trace, given.to_json()["trace"]):
        outcomes = open_outcomes(steps)
        for node in LIVER_RESECTABILITY + ("total_mesorectal_excision",):
            assert outcomes[node] == "undecided: needs lung_metastases_resectable"


def test_each_open_step_names_exactly_the_facts_whose_needs_name_its_node(bundled_kb):
    """What a step left open names and what the result's needs say it decides are one answer, in
    the order the node reads the facts, for cases with a fact given or missing in turn."""
    full = {"metastatic_sites": ["liver", "lung", "peritoneum"], "complete_resection_feasible": True,
            "primary_status": "in_place", "primary_r0_resectable": True, "future_liver_remnant": 45}
    for case in [{"metastatic_sites": ["liver"]}, full, *({k: v for k, v in full.items() if k != f} for f in full)]:
        result = bundled_kb.evaluate(case)
        by_node: dict[tuple, list[str]] = {}
        for n in result.needs:
            for d in n.decides:
                by_node.setdefault((d.pathway, d.node), []).append(n.fact)
        for step in result.trace:
            if step.code == "undecided":
                decides = by_node[step.pathway, step.node]
                assert named(step.outcome) == [f for f, _ in step.read if f in decides], (case, step)


def test_eval_text_trace_names_only_what_could_decide(tmp_path):
    """`consilium eval --trace`, the editors' view: the lungs' resectability is read, and not asked."""
    case = tmp_path / "liver.json"
    case.write_text('{"metastatic_sites": ["liver"]}', encoding="utf-8")
    out = run_cli("eval", KB, case, "--trace").out
    [line] = [line for line in out.splitlines() if "decide 'resectability'" in line]
    assert "lung_metastases_resectable = unknown" in line
    assert line.endswith(": undecided: needs " + CRITERIA)


def test_a_step_no_missing_fact_could_decide_says_why_and_is_among_the_undecided():
    """A decision whose first branch has no value (x / y, y = 0) waits on it, whatever the second
    branch's missing `b` would say: `b` is no need of it, its step names none and says why, as
    when every fact is given, and the result lists it among `undecided`."""
    kb = consilium.load_kb(DATA / "needs")
    reason = "a condition has no value for this case (a division by zero)"
    for case in ({"x": 3, "y": 0}, {"x": 3, "y": 0, "b": True}):
        result = kb.evaluate(case)
        written = result.to_json()
        for steps in (result.trace, written["trace"]):
            assert open_outcomes(steps)["ratio"] == "undecided: " + reason, case
        assert [(u.node, u.reason) for u in result.undecided] == [("ratio", reason)]
        assert [(u["node"], u["reason"]) for u in written["undecided"]] == [("ratio", reason)]
        assert "ratio" not in [d.node for n in result.needs for d in n.decides]
    result = kb.evaluate({"x": 3})  # y missing: it could decide, and is named
    assert open_outcomes(result.trace)["ratio"] == "undecided: needs y"
    assert result.undecided == ()


def test_a_safety_rule_left_unchecked_names_what_could_check_it_or_says_why():
    """A safety rule `x / y > 5 or (c and a)`: with `a` false, `c` cannot change it, and with
    y = 0 nothing can: its step says why, as a decision's does; with `a` true, `c` could."""
    kb = consilium.load_kb(DATA / "needs")
    cases = {("not checked: a condition has no value for this case (a division by zero)", ()):
             {"x": 3, "y": 0, "a": False},
             ("not checked: needs c", ("c",)): {"x": 3, "y": 0, "a": True},
             ("not checked: needs y", ("y",)): {"x": 3, "a": False}}
    for (words, needs), case in cases.items():
        result = kb.evaluate(case)
        for steps in (result.trace, result.to_json()["trace"]):
            [outcome] = [s["outcome"] if isinstance(s, dict) else s.outcome for s in steps
                         if (s["node"] if isinstance(s, dict) else s.node) == "ratio_high"]
            assert outcome == words, case
        assert [(u.rule, u.needs) for u in result.unchecked] == [("ratio_high", needs)]


# ---- a need's answer that leaves its node open names the facts that could then decide it --------

LUNG_LABELS = ("Lung metastases resectable", "Unresectable extrahepatic disease other than lung metastases")


def still_named(outcome: str) -> list[str]:
    """The facts an answer's outcome says its node then still needs ([] when it decides)."""
    still = "still undecided: needs "
    return outcome.removeprefix(still).split(", ") if outcome.startswith(still) else []


def answer_outcomes(result, fact: str) -> dict[str, dict[str, str]]:
    """Per node a need for `fact` leaves open, each answer's outcome, from the result and its JSON
    (asserted the same)."""
    found = {d.node: {a.answer: a.outcome for a in d.answers} for d in need(result, fact).decides}
    [written] = [n for n in result.to_json()["needs"] if n["fact"] == fact]
    assert {d["node"]: {a["answer"]: a["outcome"] for a in d["answers"]} for d in written["decides"]} == found
    return found


def test_a_liver_only_patients_answers_ask_nothing_of_the_lungs(bundled_kb):
    """The reproducer of issue #10: liver metastases alone, each criterion missing. Answering
    'yes' to complete resection leaves the resectability decisions open, and what they then need
    is the other criteria, never the lungs' resectability or other extrahepatic disease, which
    could not change them (and the result's needs leave out). In no answer's words, JSON too."""
    result = bundled_kb.evaluate({"metastatic_sites": ["liver"]})
    outcomes = answer_outcomes(result, "complete_resection_feasible")
    for node in LIVER_RESECTABILITY:
        assert outcomes[node]["yes"] == "still undecided: needs primary_status, primary_r0_resectable, " \
                                        "future_liver_remnant"
    named = {f for n in result.to_json()["needs"] for d in n["decides"] for a in d["answers"]
             for f in still_named(a["outcome"])}
    assert named and not LUNG & named
    assert named <= set(result.needed_facts())  # what an answer then needs is a need itself


def test_with_lung_metastases_the_answers_name_their_resectability(bundled_kb):
    """Unknown is not false: with lung metastases, the lungs' resectability could decide the
    liver's resectability once complete resection is known feasible, and the answer names it
    (other extrahepatic disease still not: there is none)."""
    result = bundled_kb.evaluate({"metastatic_sites": ["liver", "lung"]})
    outcomes = answer_outcomes(result, "complete_resection_feasible")
    for node in LIVER_RESECTABILITY:
        assert still_named(outcomes[node]["yes"]) == ["primary_status", "primary_r0_resectable",
                                                      "lung_metastases_resectable", "future_liver_remnant"]
    outcomes = answer_outcomes(result, "lung_metastases_resectable")
    assert still_named(outcomes["resectability"]["yes"]) == [
        "complete_resection_feasible", "primary_status", "primary_r0_resectable", "future_liver_remnant"]
    assert "unresectable_other_extrahepatic_disease" not in {
        f for n in result.needs for d in n.decides for a in d.answers for f in still_named(a.outcome)}


def _to_find_out(out: str) -> str:
    return out[out.index("Still to find out"):out.index("\nBy source")]


def test_eval_text_answers_name_only_what_could_decide(tmp_path):
    """`consilium eval`, the clinician's text: with liver metastases alone, the primary's status,
    asked on its own, 'if in place' then also needs the other criteria by label, and no lung
    question appears anywhere in what is still to find out; with lung metastases, the lungs'
    resectability is among what a 'yes' then needs."""
    liver = tmp_path / "liver.json"
    liver.write_text('{"metastatic_sites": ["liver"], "primary_resection_radical": true}', encoding="utf-8")
    asked = _to_find_out(run_cli("eval", KB, liver).out)
    assert "        if in place: then also needs: Complete resection feasible; Primary tumour resectable for " \
           "cure (R0); Future liver remnant volume\n" in asked
    assert "        if resected: then also needs: Complete resection feasible; Future liver remnant volume\n" in asked
    assert not any(label in asked for label in LUNG_LABELS)
    lung = tmp_path / "lung.json"
    lung.write_text('{"metastatic_sites": ["liver", "lung"]}', encoding="utf-8")
    asked = _to_find_out(run_cli("eval", KB, lung).out)
    assert "        if yes: then also needs: Complete resection feasible; Primary rectal tumour (in place or " \
           "resected); Primary tumour resectable for cure (R0); Future liver remnant volume\n" in asked
    assert "Lung metastases resectable" in asked and LUNG_LABELS[1] not in asked


def test_an_answer_after_which_nothing_could_decide_says_why(tmp_path):
    """`c and x / y > 1` with y = 0: c is a need ('no' decides), but 'yes' leaves it open with no
    missing fact that could decide it: the answer says why, as the trace does, and names no
    fact; with y missing, y is what 'yes' then needs. The text says the same, and a safety rule
    no missing fact could check says why in the text (was 'needs:' and nothing)."""
    kb = consilium.load_kb(DATA / "needs")
    reason = "a condition has no value for this case (a division by zero)"
    outcomes = answer_outcomes(kb.evaluate({"x": 3, "y": 0}), "c")["c_and_ratio"]
    assert outcomes == {"yes": "still undecided: " + reason, "no": "does not apply"}
    assert answer_outcomes(kb.evaluate({"x": 3}), "c")["c_and_ratio"]["yes"] == "still undecided: needs y"
    case = tmp_path / "stuck.json"
    case.write_text('{"x": 3, "y": 0, "a": false}', encoding="utf-8")
    out = run_cli("eval", DATA / "needs", case).out
    assert "      c and x / y > 1  [S]\n        if yes: still undecided: " + reason + "\n" in out
    assert "Safety checks not completed (the case does not say enough)\n  - A ratio above 5 — " + reason + "\n" in out
    assert "needs: \n" not in out and not out.rstrip().endswith("needs:")


def test_a_cds_card_says_why_a_safety_check_could_not_be_completed():
    """The CDS Hooks card of questions: a safety rule no missing fact could check says why, as
    the text does (was '(needs: )'); one a missing fact could check names it by label."""
    from consilium.engine.service.cards import patient_view_cards
    kb = consilium.load_kb(DATA / "needs")
    reason = "a condition has no value for this case (a division by zero)"
    for case, said in (({"x": 3, "y": 0, "a": False}, reason), ({"x": 3, "y": 0, "a": True}, "needs: c")):
        details = "\n".join(c["detail"] or "" for c in patient_view_cards(kb, kb.evaluate(case), []))
        assert f"- Safety check not completed: A ratio above 5 — {said}\n" in details + "\n", details
