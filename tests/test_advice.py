"""Advice beyond recommendations: findings with reasons, conditional options, contradictions, why not.

Each test gives the bundled knowledge base a patient and checks what a clinician would read:
the criterion that failed with the value read, the option with the team's judgement it
waits for, the facts that contradict each other, where the path to a rule turned away.
"""

from __future__ import annotations

import json

import pytest

from consilium.engine.evaluation.advice import Advisor

RESECTABLE = {"metastatic_sites": ["liver"], "complete_resection_feasible": True, "primary_status": "in_place",
              "primary_r0_resectable": True, "future_liver_remnant": 45, "hepatectomy_segments": 2}


@pytest.fixture(scope="module")
def advisor(bundled_kb):
    return Advisor(bundled_kb.checked, bundled_kb.evaluator.value)


def _case(kb, **facts):
    return kb.validate_case(facts)


def test_a_negative_finding_gives_each_failed_criterion_with_the_value_read(bundled_kb, advisor):
    case = _case(bundled_kb, **{**RESECTABLE, "future_liver_remnant": 25, "complete_resection_feasible": False})
    [finding] = [f for f in advisor.findings(case) if f.id == "unresectable_liver"]
    assert [r.text for r in finding.reasons] == ["Complete resection feasible: no",
                                                 "Future liver remnant volume 25 % ≤ 30 %"]
    assert finding.source == "SUMMARY" and finding.quote == "Resectable disease criteria include:"
    assert dict(finding.reasons[1].facts) == {"future_liver_remnant": 25}


def test_an_unknown_criterion_is_never_a_reason(bundled_kb, advisor):
    case = _case(bundled_kb, metastatic_sites=["liver"], future_liver_remnant=30)
    [finding] = [f for f in advisor.findings(case) if f.id == "unresectable_liver"]
    assert [r.text for r in finding.reasons] == ["Future liver remnant volume 30 % ≤ 30 %"]
    assert not any(f.id == "resectable_liver" for f in advisor.findings(case))


def test_lung_disease_unresectable_is_the_reason_the_liver_is_not_resectable(bundled_kb, advisor):
    case = _case(bundled_kb, **{**RESECTABLE, "metastatic_sites": ["liver", "lung"],
                                "lung_metastases_resectable": False})
    [finding] = [f for f in advisor.findings(case) if f.id == "unresectable_liver"]
    [reason] = finding.reasons
    assert reason.text.startswith("Unresectable extrahepatic disease present: yes")
    assert "Lung metastases resectable: no" in reason.text


def test_a_finding_outside_its_patients_is_not_concluded(bundled_kb, advisor):
    case = _case(bundled_kb, metastatic_sites=["lung"], complete_resection_feasible=False)
    assert [f.id for f in advisor.findings(case)] == []


def test_a_positive_finding_lists_the_criteria_that_held(bundled_kb, advisor):
    [finding] = [f for f in advisor.findings(_case(bundled_kb, **RESECTABLE)) if f.id == "resectable_liver"]
    texts = [r.text for r in finding.reasons]
    assert "Future liver remnant volume 45 % > 30 %" in texts and "Complete resection feasible: yes" in texts


def _undecided(kb, case):
    return [d.node for n in kb.evaluate(case, validated=True).needs for d in n.decides]


def test_a_recommendation_waiting_only_for_a_judgement_is_a_conditional_option(bundled_kb, advisor):
    case = _case(bundled_kb, metastatic_sites=["peritoneum"], peritoneal_pci=8, systemic_disease=False,
                 peritoneal_p_category="P1", primary_symptoms=[])
    result = bundled_kb.evaluate(case, validated=True)
    options = {o.id: o for o in advisor.options(case, _undecided(bundled_kb, case))}
    assert options["nccn_crs_hipec"].qualifier == "in appropriate cases: the team decides"
    assert options["nccn_crs_hipec"].judgements == ("crs_hipec_appropriate",)
    assert "nccn_crs_hipec" not in result.recommendation_ids()
    assert "crs_hipec_appropriate" in result.needed_facts()


def test_missing_data_beside_a_judgement_keeps_it_a_need_not_an_option(bundled_kb, advisor):
    case = _case(bundled_kb, metastatic_sites=["liver"], selected_for_re_resection=True)
    assert "re_resection" not in {o.id for o in advisor.options(case, _undecided(bundled_kb, case))}
    case = _case(bundled_kb, metastatic_sites=["liver"], recurrent_disease=True)
    [option] = [o for o in advisor.options(case, _undecided(bundled_kb, case)) if o.id == "re_resection"]
    assert option.qualifier == "in select patients: the team selects"


def test_a_decision_on_a_judgement_offers_what_its_branch_recommends(bundled_kb, advisor):
    case = _case(bundled_kb, metastatic_sites=["lung"], lung_metastases_resectable=True)
    options = {o.id: o for o in advisor.options(case, _undecided(bundled_kb, case))}
    assert options["esmo_lung_ablation"].judgements == ("lung_resection_limited",)


def test_a_case_breaking_a_constraint_names_the_facts(bundled_kb, advisor):
    case = _case(bundled_kb, metastatic_sites=["liver"], primary_status="resected", primary_symptoms=["obstruction"])
    [c] = advisor.contradictions(case)
    assert c.id == "symptoms_of_a_resected_primary"
    assert dict(c.facts) == {"primary_status": "resected", "primary_symptoms": frozenset({"obstruction"})}
    assert advisor.contradictions(_case(bundled_kb, metastatic_sites=["liver"], primary_status="in_place",
                                        primary_symptoms=["obstruction"])) == ()


def _why(kb, advisor, rule, **facts):
    case = _case(kb, **facts)
    result = kb.evaluate(case, validated=True)
    given = list(result.recommendation_ids()) + [w.id for w in result.warnings]
    return advisor.why_not(rule, case, given)


def test_why_not_names_the_decision_that_turned_away_and_its_reasons(bundled_kb, advisor):
    why = _why(bundled_kb, advisor, "simultaneous_surgery", **{**RESECTABLE, "future_liver_remnant": 25})
    assert (why.status, why.at) == ("not reached", "resectability")
    assert [r.text for r in why.reasons] == ["Future liver remnant volume 25 % ≤ 30 %"]


def test_why_not_for_a_primary_already_resected(bundled_kb, advisor):
    why = _why(bundled_kb, advisor, "simultaneous_surgery",
               **{**RESECTABLE, "primary_status": "resected"})
    assert (why.status, why.at) == ("not reached", "primary_in_place")
    assert [r.text for r in why.reasons] == ["Primary rectal tumour (in place or resected): resected, not in_place"]


def test_why_not_an_unknown_is_a_need_not_a_reason(bundled_kb, advisor):
    why = _why(bundled_kb, advisor, "nccn_stenting", metastatic_sites=["peritoneum"], primary_symptoms=["obstruction"])
    assert why.status == "open" and why.reasons == () and why.needs == ("upper_rectal_lesion",)


def test_why_not_a_rule_the_case_got(bundled_kb, advisor):
    assert _why(bundled_kb, advisor, "simultaneous_surgery", **RESECTABLE).status == "given"


def test_why_not_a_safety_rule(bundled_kb, advisor):
    why = _why(bundled_kb, advisor, "anti_egfr_with_kras_mutant", kras="wild_type", proposed_treatment=["anti_egfr"])
    assert why.status == "not applicable"
    assert "KRAS mutation status: wild_type, not mutant" in [r.text for r in why.reasons]


def test_why_not_an_unknown_rule(bundled_kb, advisor):
    with pytest.raises(KeyError):
        advisor.why_not("no_such_rule", {}, [])


def test_alternatives_are_one_choice(bundled_kb, advisor):
    result = bundled_kb.evaluate({**RESECTABLE, "hepatectomy_segments": 3, "primary_symptoms": []})
    choices = {c.id: c.alternatives for c in advisor.choices(result.recommendations)}
    assert choices["standard_approach"] == ("simultaneous_surgery", "staged_hepatectomy", "liver_first")
    assert choices["chemotherapy_backbone"] == ("folfox", "folfiri")
    assert choices["esmo_resectable_liver"] == ("esmo_upfront_resection", "esmo_perioperative_folfox")
    assert "bevacizumab" not in {a for alts in choices.values() for a in alts}


# ---- the result and the command line -------------------------------------------------------------

def test_the_result_carries_findings_options_and_why_not(bundled_kb):
    result = bundled_kb.evaluate({**RESECTABLE, "future_liver_remnant": 25})
    assert [f.id for f in result.findings] == ["unresectable_liver"]
    assert result.why_not("simultaneous_surgery").at == "resectability"
    payload = result.to_json()
    assert payload["findings"][0]["reasons"][0] == {"text": "Future liver remnant volume 25 % ≤ 30 %",
                                                    "facts": {"future_liver_remnant": 25}}
    assert "esmo_omd_systemic_therapy" in [o["id"] for o in payload["options"]]
    assert "esmo_omd_systemic_therapy" not in result.recommendation_ids()
    with pytest.raises(KeyError, match="'no_such_rule' is no rule, decision or step of this knowledge base"):
        result.why_not("no_such_rule")
    with pytest.raises(KeyError, match=r"'nope' is no site of this result \(its sites: liver, "):
        result.site("nope")
    with pytest.raises(KeyError, match=r"'nope' is no source of this result \(its sources: "):
        result.source("nope")


def test_why_not_a_decision_the_case_reaches_says_reached_not_given(bundled_kb):
    result = bundled_kb.evaluate(RESECTABLE)
    assert result.why_not("resectability").text().endswith("\n  reached by this case")
    assert result.why_not("simultaneous_surgery").status == "given"
    assert result.why_not("simultaneous_surgery").text().endswith("\n  given to this case")


def test_eval_text_shows_findings_options_and_choices(tmp_path):
    from conftest import KB, run_cli
    case = tmp_path / "case.yaml"
    case.write_text("metastatic_sites: [peritoneum]\nperitoneal_pci: 8\nsystemic_disease: false\n"
                    "peritoneal_p_category: P1\nprimary_symptoms: [obstruction]\nupper_rectal_lesion: true\n")
    out = run_cli("eval", KB, case).out
    assert "Findings\n  * Primary tumour symptomatic  [SUMMARY]\n" in out
    assert ("  * Obstructed or imminent obstruction  [NCCN]\n"
            "     - Symptoms of the primary rectal tumour: includes obstruction\n") in out
    assert "  * Low-volume peritoneal disease (PCI < 12) without systemic disease  [ESMO]\n" \
           "     - Peritoneal carcinomatosis index (PCI) 8 points < 12\n" in out
    assert "? Complete cytoreductive surgery and HIPEC (appropriate cases)  [recommended · NCCN] — " \
           "in appropriate cases: the team decides" in out
    assert "Obstructed or imminent obstruction: resection, diverting ostomy, bypass or stenting [NCCN]: " \
           "Resection, diverting ostomy or bypass | Stenting (upper rectal lesions only)" in out
    assert out.index("Findings") < out.index("Recommendations") < out.index("Conditional options")


def test_explain_a_rule_and_every_rule_not_given(tmp_path):
    from conftest import KB, run_cli
    case = tmp_path / "case.yaml"
    case.write_text("metastatic_sites: [liver]\ncomplete_resection_feasible: false\nprimary_status: in_place\n"
                    "primary_r0_resectable: true\nfuture_liver_remnant: 28 %\n")
    run = run_cli("explain", KB, case, "simultaneous_surgery")
    assert run.code == 0
    assert ("  simultaneous_surgery: Simultaneous rectal and hepatic surgery (standard approach)\n"
            "    not reached at 'resectability' (Are the hepatic metastases resectable?)\n"
            "    - Complete resection feasible: no\n"
            "    - Future liver remnant volume 28 % ≤ 30 %\n") in run.out
    every = run_cli("explain", KB, case)
    assert "    · jsccr_liver_resection:" in every.out and "nccn_peritoneal_systemic_therapy" not in every.out
    wrong = run_cli("explain", KB, case, "simultanous_surgery")
    assert wrong.code == 2 and "did you mean 'simultaneous_surgery'?" in wrong.err


def test_eval_strict_makes_a_contradiction_an_error(tmp_path):
    from conftest import KB, run_cli
    case = tmp_path / "case.yaml"
    case.write_text("metastatic_sites: [liver]\nprimary_status: resected\nprimary_symptoms: [hemorrhage]\n")
    loose = run_cli("eval", KB, case)
    assert loose.code == 0
    warnings = loose.out[loose.out.index("\nWarnings\n"):]  # among the result's warnings, naming the facts
    assert ("  ! WARNING  Symptoms of the primary tumour are given, yet the primary has been resected\n"
            "     from the consistency check of the case: Primary rectal tumour (in place or resected): resected; "
            "Symptoms of the primary rectal tumour: includes hemorrhage\n") in warnings
    as_json = json.loads(run_cli("eval", KB, case, "--format", "json").out)
    [said] = [w for w in as_json["warnings"] if w["kind"] == "contradiction"]
    assert (said["id"], said["severity"]) == ("symptoms_of_a_resected_primary", "warning")
    assert "resected" in said["note"] and "hemorrhage" in said["note"]
    strict = run_cli("eval", KB, case, "--strict")
    assert strict.code == 2
    assert f"{case}:2:1: error: Symptoms of the primary tumour are given" in strict.err
    assert "hint: correct one of 'primary_status', 'primary_symptoms'" in strict.err


def test_the_findings_chart_draws_the_case_s_findings_with_their_reasons(bundled_kb):
    from consilium.render.flowchart import chart, chart_specs
    spec = next(s for s in chart_specs(bundled_kb) if s.name == "findings")
    result = bundled_kb.evaluate({**RESECTABLE, "future_liver_remnant": 25})
    dot = chart(bundled_kb, spec, result).source
    [line] = [x for x in dot.splitlines() if x.strip().startswith("unresectable_liver [")]
    assert "Future liver remnant volume 25 % ≤ 30 %" in line.replace("\\n", " ") and "penwidth=3" in line
    [other] = [x for x in dot.splitlines() if x.strip().startswith("resectable_liver [")]
    assert "penwidth=3" not in other


def test_choice_steps_are_drawn_as_one_choice(bundled_kb):
    from consilium.render.flowchart import chart, chart_specs
    spec = next(s for s in chart_specs(bundled_kb) if s.name == "pathway-nccn_peritoneal")
    dot = chart(bundled_kb, spec).source
    [step] = [x for x in dot.splitlines() if x.strip().startswith("nccn_obstruction_relief [")]
    assert "choose one" in step
    [edge] = [x for x in dot.splitlines() if "nccn_obstruction_relief -> nccn_stenting" in x]
    assert "label=or" in edge and "dashed" in edge


def test_the_report_shows_the_case_s_findings_options_and_alternatives(bundled_kb, tmp_path):
    import consilium.render as render
    result = bundled_kb.evaluate({"metastatic_sites": ["peritoneum"], "peritoneal_pci": 8, "systemic_disease": False,
                                  "peritoneal_p_category": "P1", "primary_symptoms": ["obstruction"],
                                  "upper_rectal_lesion": True})
    page = render.write_report(bundled_kb, tmp_path, result, "case.yaml").read_text()
    assert "<h3>Findings</h3>" in page and "Peritoneal carcinomatosis index (PCI) 8 points &lt; 12" in page
    assert "concluded in the pathway “ESMO: peritoneal metastases: Cytoreductive surgery" in page
    # drawn on its pathway's chart, in the box of the node that concludes it
    assert page.count("→ finding:") >= 3 and "Finding: Low&#45;volume peritoneal disease (PCI &lt; 12)" in page
    assert "Conditional options (the team decides)" in page and "in appropriate cases: the team decides" in page
    assert "Alternatives: one choice each" in page and "nccn_resection_ostomy_bypass or nccn_stenting" in page
    assert 'id="case-node-unresectable_liver"' not in page


def test_explain_json_gives_findings_and_why_not(tmp_path):
    import json
    from conftest import KB, run_cli
    case = tmp_path / "case.json"
    case.write_text(json.dumps({"metastatic_sites": ["liver"], "primary_status": "resected",
                                "primary_resection_radical": True, "complete_resection_feasible": True,
                                "future_liver_remnant": 50}))
    run = run_cli("explain", KB, case, "simultaneous_surgery", "--format", "json")
    assert run.code == 0
    payload = json.loads(run.out)
    assert [f["id"] for f in payload["findings"]] == ["resectable_liver"]
    [why] = payload["why_not"]
    assert (why["rule"], why["status"], why["at"]) == ("simultaneous_surgery", "not reached", "primary_in_place")
    assert why["reasons"][0]["facts"] == {"primary_status": "resected"}


# ---- a pathway concludes a finding (`concluded at`) -----------------------------------------------

def test_the_pathway_chart_draws_the_finding_it_concludes_with_the_case_s_reasons(bundled_kb):
    from consilium.render.flowchart import chart, chart_specs
    spec = next(s for s in chart_specs(bundled_kb) if s.name == "pathway-hepatic_metastases")
    result = bundled_kb.evaluate({**RESECTABLE, "future_liver_remnant": 25})
    dot = chart(bundled_kb, spec, result).source
    [box] = [x.replace("\\n", " ") for x in dot.splitlines() if x.strip().startswith("unresectable_disease [")]
    assert "→ finding: Hepatic metastases not resectable" in box and "penwidth=3" in box  # on the case's path
    assert "Finding: Hepatic metastases not resectable — Future liver remnant volume 25 % ≤ 30 %" in box  # on hover
    [other] = [x.replace("\\n", " ") for x in dot.splitlines() if x.strip().startswith("resectable_disease [")]
    assert "→ finding: Hepatic metastases resectable" in other and "Finding:" not in other  # not this case's


def test_the_result_says_where_a_pathway_concluded_the_finding(bundled_kb):
    result = bundled_kb.evaluate({**RESECTABLE, "future_liver_remnant": 25})
    [finding] = [f for f in result.to_json()["findings"] if f["id"] == "unresectable_liver"]
    assert [(c["pathway"], c["node"]) for c in finding["concluded_at"]] == [("hepatic_metastases",
                                                                            "unresectable_disease")]
    assert finding["concluded_at"][0]["label"].endswith(": Initially unresectable hepatic metastases")


def test_a_case_reaching_a_concluding_node_has_the_finding(bundled_kb):
    """`concluded at` says the pathway reaches the finding's own conclusion: on the audit's cases
    and random ones, every case that reaches such a node has the finding."""
    import random
    from casegen import as_written, random_case
    from consilium.engine.analysis.scenarios import run_scenarios
    at = {node: f.id for f in bundled_kb.checked.findings for node in f.concluded_at}
    assert len(at) >= 5
    rng = random.Random(11)
    cases = [o.result.case for o in run_scenarios(bundled_kb)]
    cases += [bundled_kb.validate_case({k: as_written(v) for k, v in random_case(bundled_kb.facts, rng).items()})
              for _ in range(400)]
    reached_some = 0
    for case in cases:
        result = bundled_kb.evaluate(case, validated=True)
        held = {f.id for f in result.findings}
        for step in result.trace:
            if step.node in at:
                reached_some += 1
                assert at[step.node] in held, (step.node, case)
    assert reached_some > 50


def test_concluded_at_a_node_no_pathway_has_is_an_error(tmp_path):
    from conftest import DATA, run_cli
    text = (DATA / "scenarios_advice" / "main.rules").read_text()
    text = text.replace('finding f "F"\n    when x\n', 'finding f "F"\n    when x\n    concluded at rr\n')
    (tmp_path / "main.rules").write_text(text)
    run = run_cli("check", tmp_path / "main.rules")
    assert run.code != 0
    assert "no pathway node 'rr' to conclude the finding 'f' at" in run.out + run.err
    assert "did you mean 'r'?" in run.out + run.err


def test_where_a_finding_is_concluded_is_the_same_worked_out_once_or_per_case(bundled_kb):
    """Whether the case reaches a node that concludes a finding is written into the generated
    function of the conditions' values (the ways in found once, at load); it must say what the
    walk over the ways in says case by case, for every finding of every knowledge base that has
    them, over random cases that leave facts open."""
    import random

    import consilium
    from casegen import random_case
    from conftest import DATA, ROOT

    checked = 0
    for kb in (bundled_kb, consilium.load_kb(DATA / "scenarios_advice"),
               consilium.load_kb(ROOT / "bench" / "hepatic_slice")):
        advisor = kb.evaluator._advisor
        rng = random.Random(7)
        for _ in range(800):
            case = random_case(kb.facts, rng)
            held = advisor._held(case)
            assert held is not None
            for finding in kb.checked.findings:
                once = advisor.concluded_at(finding, case, held, {})
                assert once == advisor.concluded_at(finding, case, None, {}), (finding.id, case)
                checked += bool(once)
        assert advisor._reach_at or not any(f.concluded_at for f in kb.checked.findings)  # (generated: used)
    assert checked > 300


def test_the_words_kept_per_criterion_are_the_words_worked_out_afresh(bundled_kb):
    """A criterion's words are kept per the values it read: a finding's and a contradiction's
    reasons are the same as an explainer that keeps nothing gives, case after case."""
    import random

    from casegen import random_case
    from consilium.engine.evaluation.explain import Explainer

    explainer = bundled_kb.evaluator._advisor.explain
    rng = random.Random(9)
    compared = 0
    for _ in range(600):
        case = random_case(bundled_kb.facts, rng)
        conditions = [f.condition for f in bundled_kb.checked.findings] + \
                     [c.condition for c in bundled_kb.checked.constraints]
        fresh = Explainer(bundled_kb.checked.facts, bundled_kb.checked.defines, bundled_kb.evaluator.value)
        for condition in conditions:
            kept = explainer.reasons(condition, case)
            assert kept == fresh.reasons(condition, case)
            compared += bool(kept)
    assert compared > 1000
