"""FHIR R4 / mCODE input: bundles read through the bindings the knowledge base declares.

The mCODE examples (../shared/external/mcode-examples/*.fsh, translated by hand into
tests/data/fhir/*.json with their codes and profiles) are read by a small knowledge base bound
to their shapes and by the bundled one; each example case's bundle (examples/fhir/) gives the
same result as its flat case; bad FHIR gets diagnostics naming the resource and the element.
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
import subprocess
import sys
from pathlib import Path

import pytest

import consilium
from consilium.engine.inputs.fhir import prefetch_templates, read_bundle

from fhir_examples import flat_cases, load_flat, team_facts

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "fhir"
JOHN = DATA / "mcode-john-anyperson.json"


@pytest.fixture(scope="module")
def mcode_kb():
    return consilium.load_kb(DATA / "mcode.rules")


def bundle_of(*resources, patient="p"):
    entries = [{"resource": {"resourceType": "Patient", "id": patient}}]
    entries += [{"resource": r} for r in resources]
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def kras_variant(id, value="LA9633-4", gene="HGNC:6407", patient="p"):
    return {"resourceType": "Observation", "id": id, "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "69548-6"}]},
            "subject": {"reference": f"Patient/{patient}"},
            "valueCodeableConcept": {"coding": [{"system": "http://loinc.org", "code": value}]},
            "component": [{"code": {"coding": [{"system": "http://loinc.org", "code": "48018-6"}]},
                           "valueCodeableConcept": {"coding": [{"system": "http://www.genenames.org", "code": gene}]}}]}


# ---- the mCODE examples -------------------------------------------------------------------------

def test_mcode_examples_are_read_through_their_bindings(mcode_kb):
    result = mcode_kb.evaluate_file(JOHN)
    assert result.case["ecog"] == 0
    assert result.case["stage_group"] == "IIIC"
    assert result.case["distant_metastases"] == "M0"
    assert result.case["egfr_antigen"] == "positive"
    assert result.case["stk11"] == "present"
    assert result.case["cisplatin_ordered"] is True
    assert str(result.case["lung_surgery"]) == "2019-03-01"
    ecog = result.origins["ecog"][0]
    assert (ecog.resource_type, ecog.id, ecog.element) == ("Observation", "ecog-performance-status-fully-active",
                                                           "valueInteger")
    adam = mcode_kb.evaluate_file(DATA / "mcode-genomex-adam-anyperson.json")
    # the pertinent negative, and a bare Quantity (exact)
    assert adam.case == {"braf": "absent", "tmb": Decimal("57.1")}
    jenny = mcode_kb.evaluate_file(DATA / "mcode-jenny-m.json")
    assert str(jenny.case["chemotherapy_given"]) == "2018-04-22"
    assert [d.code for d in jenny.input_warnings] == ["fhir-unresolved-reference"]  # its primary is not in the bundle


def test_the_bundled_kb_reads_john_anyperson(bundled_kb):
    result = bundled_kb.evaluate_file(JOHN)
    # A brain metastasis (SCT 94225005, no body site) is 'other'; its onset is after the primary's.
    assert result.case == {"metastatic_sites": frozenset({"other"}), "metastases_timing": "metachronous"}
    assert "kras" not in result.case   # the variant is STK11's
    data = result.to_json()
    assert data["origins"]["metastatic_sites"] == [{"resource": "Condition/secondary-cancer-condition-brain-mets",
                                                    "resourceType": "Condition",
                                                    "id": "secondary-cancer-condition-brain-mets", "element": "code"}]
    read = [step for step in data["trace"] if "metastatic_sites" in step["read"]]
    assert read and all(step["origins"]["metastatic_sites"][0]["id"] == "secondary-cancer-condition-brain-mets"
                        for step in read)


def test_a_pertinent_negative_for_kras_is_wild_type(bundled_kb):
    data = json.loads((DATA / "mcode-genomex-adam-anyperson.json").read_text())
    assert "kras" not in bundled_kb.read_bundle(data).values   # NRAS, KIT, BRAF: not KRAS
    negative = next(e["resource"] for e in data["entry"] if e["resource"]["id"].startswith("gx-genomic-variant"))
    negative["component"].append({"code": negative["component"][0]["code"],
                                  "valueCodeableConcept": {"coding": [{"system": "http://www.genenames.org",
                                                                       "code": "HGNC:6407", "display": "KRAS"}]}})
    read = bundled_kb.read_bundle(data)
    assert read.values["kras"] == "wild_type"
    assert read.origins["kras"][0].id == "gx-genomic-variant-pertinent-negative-nras-kit-braf"


# ---- every example case, as a bundle -------------------------------------------------------------

@pytest.mark.parametrize("flat", flat_cases(), ids=lambda p: p.stem)
def test_each_example_bundle_gives_its_flat_case_result(bundled_kb, flat):
    case = bundled_kb.validate_case(load_flat(flat))
    read = bundled_kb.read_bundle(json.loads((ROOT / "examples" / "fhir" / f"{flat.stem}.json").read_text()))
    assert not read.warnings
    bound = {f.id for f in bundled_kb.facts.values() if f.bindings}
    # every value the bundle gives is the flat case's, and every bound fact FHIR can say is given
    assert {k: v for k, v in read.values.items() if k in case} == {k: v for k, v in case.items() if k in read.values}
    unsaid = {k: v for k, v in case.items() if k in bound and k not in read.values}
    # FHIR has no code here for "no symptoms" or for an obstruction that is only imminent
    assert all(v in (frozenset(), frozenset({"imminent_obstruction"})) for v in unsaid.values()), unsaid
    assert set(read.values) - set(case) == set()
    # the bundle and the team's answers (what FHIR does not carry) together: the flat case's result
    together = {**{k: v for k, v in case.items() if k not in read.values}, **read.values}
    expected = bundled_kb.evaluate(case, validated=True).to_json()
    got = bundled_kb.evaluate(together, validated=True).to_json()
    expected.pop("case"), got.pop("case")
    assert got == expected
    assert bundled_kb.evaluate_bundle(read).recommendation_ids() == \
        bundled_kb.evaluate({k: v for k, v in case.items() if k in read.values}, validated=True).recommendation_ids()
    # ...as a user gives them: the bundle, and the team's answers in a file beside it
    folder = ROOT / "examples" / "fhir"
    bundle, team = folder / f"{flat.stem}.json", folder / "team" / f"{flat.stem}.yaml"
    assert team_facts(load_flat(flat), json.loads(bundle.read_text()), bundled_kb) == load_flat(team)  # up to date
    given = bundled_kb.evaluate_file(bundle, facts=team).to_json()
    for key in ("case", "origins", "input_warnings"):
        given.pop(key, None)
    # where each fact came from: the one thing a flat case cannot say (a step's JSON is read-only: shared)
    given["trace"] = [{k: v for k, v in step.items() if k != "origins"} for step in given["trace"]]
    assert given == expected


def test_facts_given_beside_a_bundle_that_contradict_it_stay_unknown(bundled_kb, tmp_path):
    """The team's answers never silently override the record, nor the record them."""
    team = tmp_path / "team.yaml"
    team.write_text("kras: wild_type\nrecurrent_disease: true\n")
    bundle = ROOT / "examples" / "fhir" / "errors_to_avoid.json"
    result = bundled_kb.evaluate_file(bundle, facts=team)
    assert "kras" not in result.case and result.case["recurrent_disease"] is True
    (warning,) = [w for w in result.input_warnings if w.code == "fhir-conflict"]
    assert "'kras' is 'mutant' in Observation/kras" in warning.message and "'wild_type' in " in warning.message
    assert warning.span.file == str(team) and warning.span.line == 1
    bad = tmp_path / "bad.yaml"
    bad.write_text("kras: maybe\n")
    with pytest.raises(consilium.CaseError) as caught:
        bundled_kb.evaluate_file(bundle, facts=bad)
    assert caught.value.diagnostics[0].code == "case-unknown-value"
    with pytest.raises(consilium.CaseError) as caught:
        bundled_kb.evaluate_file(ROOT / "examples" / "errors_to_avoid.yaml", facts=team)
    assert caught.value.diagnostics[0].code == "facts-without-bundle"


def test_every_standard_code_of_the_bundled_kb_says_where_it_was_checked(bundled_kb):
    """No code is guessed silently: a binding naming a code of a standard terminology carries a
    note saying against what it was checked, or that it could not be."""
    for fact in bundled_kb.facts.values():
        for b in fact.bindings:
            codes = list(b.codes) + [c for c, _ in b.map]
            if any(c.system != "CONSILIUM" for c in codes) or "mcode" in (b.profile or ""):
                assert b.note and "checked" in b.note.lower(), (fact.id, b.resource)


def test_the_bundled_kb_binds_every_fact_fhir_carries(bundled_kb):
    bound = {f.id for f in bundled_kb.facts.values() if f.bindings}
    assert {"metastatic_sites", "metastases_timing", "kras", "primary_symptoms", "future_liver_remnant",
            "peritoneal_pci", "proposed_treatment", "scrt_end", "chemotherapy_start", "surgery_date",
            "last_bevacizumab_dose", "primary_surgery_date"} <= bound
    templates = prefetch_templates(bundled_kb.facts)
    assert templates["patient"] == "Patient/{{context.patientId}}"
    assert templates["condition"] == "Condition?patient={{context.patientId}}"
    assert "medicationAdministration" in templates


# ---- bad FHIR --------------------------------------------------------------------------------

@pytest.mark.parametrize("data, code, words", [
    ([1, 2], "fhir-malformed", "not a FHIR resource"),
    ({"entry": []}, "fhir-malformed", "no 'resourceType'"),
    ({"resourceType": "Patient", "id": "p"}, "fhir-malformed", "not a Bundle"),
    ({"resourceType": "Bundle", "entry": [{"resource": {"id": "x"}}]}, "fhir-malformed", "entry[0].resource has no"),
    ({"resourceType": "Bundle", "entry": "x"}, "fhir-malformed", "'entry' is not a list"),
    ({"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Observaton", "id": "o"}}]},
     "fhir-invalid-resource", "Observaton/o: 'Observaton' is not a FHIR R4 resource type"),
    (bundle_of({"resourceType": "Observation", "id": "o", "status": "final", "code": {"coding": [
        {"system": "urn:consilium:codes", "code": "peritoneal-cancer-index"}]}, "valueInteger": "zero"}),
     "fhir-invalid-resource", "Observation/o: element 'valueInteger'"),
    (bundle_of({"resourceType": "Patient", "id": "q"}), "fhir-malformed", "2 patients"),
])
def test_bad_fhir_is_a_diagnostic_naming_resource_and_element(bundled_kb, data, code, words):
    with pytest.raises(consilium.CaseError) as caught:
        bundled_kb.read_bundle(data)
    assert code in [d.code for d in caught.value.diagnostics]
    assert any(words in d.message for d in caught.value.diagnostics), caught.value.diagnostics


def test_an_invalid_resource_no_binding_reads_is_skipped_with_a_warning(bundled_kb):
    # The CDS Hooks specification's own draft orders do not fit R4 (a NutritionOrder without its
    # intent); a record holds much the knowledge base never reads.
    read = bundled_kb.read_bundle(bundle_of({"resourceType": "NutritionOrder", "id": "n", "status": "draft",
                                             "patient": {"reference": "Patient/p"}, "dateTime": "2014-09-17"},
                                            kras_variant("k")))
    assert read.values == {"kras": "mutant"}
    (warning,) = read.warnings
    assert warning.code == "fhir-invalid-resource" and warning.severity == "warning"
    assert "NutritionOrder/n: element 'intent'" in warning.message and "skipped" in warning.message


def test_a_value_outside_its_fact_is_an_error_naming_the_resource(bundled_kb):
    pci = {"resourceType": "Observation", "id": "pci", "status": "final", "subject": {"reference": "Patient/p"},
           "code": {"coding": [{"system": "urn:consilium:codes", "code": "peritoneal-cancer-index"}]},
           "valueInteger": 45}
    with pytest.raises(consilium.CaseError) as caught:
        bundled_kb.read_bundle(bundle_of(pci))
    assert caught.value.diagnostics[0].message.startswith("Observation/pci valueInteger: 'peritoneal_pci' is 45")
    flr = {**pci, "id": "flr", "code": {"coding": [{"system": "urn:consilium:codes", "code": "future-liver-remnant"}]},
           "valueInteger": None, "valueQuantity": {"value": 40, "unit": "mL", "code": "mL"}}
    del flr["valueInteger"]
    with pytest.raises(consilium.CaseError) as caught:
        bundled_kb.read_bundle(bundle_of(flr))
    assert "measured in '%', the Quantity in 'mL'" in caught.value.diagnostics[0].message


def test_an_unknown_code_leaves_the_fact_unknown_with_a_warning(bundled_kb):
    read = bundled_kb.read_bundle(bundle_of(kras_variant("k", value="LA11884-6")))
    assert "kras" not in read.values
    (warning,) = read.warnings
    assert warning.code == "fhir-unknown-code" and warning.severity == "warning"
    assert "Observation/k valueCodeableConcept" in warning.message and "LA11884-6" in warning.message


def test_two_resources_that_disagree_make_the_fact_unknown_naming_both(bundled_kb):
    read = bundled_kb.read_bundle(bundle_of(kras_variant("k1"), kras_variant("k2", value="LA9634-2")))
    assert "kras" not in read.values
    (warning,) = read.warnings
    assert warning.code == "fhir-conflict"
    assert "Observation/k1" in warning.message and "Observation/k2" in warning.message
    agree = bundled_kb.read_bundle(bundle_of(kras_variant("k1"), kras_variant("k2")))
    assert agree.values["kras"] == "mutant" and [o.id for o in agree.origins["kras"]] == ["k1", "k2"]


def test_references_that_do_not_resolve_and_other_patients_are_warned(bundled_kb):
    variant = kras_variant("k")
    variant["focus"] = [{"reference": "Condition/nowhere"}]
    other = kras_variant("someone-else", value="LA9634-2", patient="q")
    read = bundled_kb.read_bundle(bundle_of(variant, other))
    assert read.values["kras"] == "mutant"   # the other patient's result is not read
    messages = sorted(d.message for d in read.warnings)
    assert any("'focus' refers to 'Condition/nowhere'" in m for m in messages)
    assert any("Observation/someone-else: its subject 'Patient/q' is not the bundle's patient" in m for m in messages)


def test_the_command_line_reads_a_bundle_and_reports_bad_ones(tmp_path):
    run = lambda *args: subprocess.run([sys.executable, "-m", "consilium", *args], capture_output=True,  # noqa: E731
                                       text=True, cwd=ROOT)
    done = run("eval", "examples/fhir/errors_to_avoid.json", "--trace")
    assert done.returncode == 0
    assert "Read from FHIR" in done.stdout
    assert "KRAS mutation status = mutant  from Observation/kras valueCodeableConcept" in done.stdout
    assert "(from Condition/metastasis-liver)" in done.stdout
    bad = tmp_path / "bad.json"
    bad.write_text('{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Observation", "id": "o",'
                   ' "status": "final", "code": {"coding": [{"system": "urn:consilium:codes", "code": '
                   '"future-liver-remnant"}]}, "valueQuantity": {"value": "high"}}}]}')
    done = run("eval", str(bad))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "Observation/o: element 'valueQuantity.value'" in done.stderr and f"{bad}:1:" in done.stderr
    broken = tmp_path / "broken.json"
    broken.write_text('{"resourceType": "Bundle", "entry": [')
    done = run("eval", str(broken))
    assert done.returncode == 2 and "not valid JSON" in done.stderr and "Traceback" not in done.stderr
    # cds-request takes a bundle: a flat YAML case, or no file, is said in words
    done = run("cds-request", "examples/liver_resectable_three_segments.yaml")
    assert done.returncode == 2 and "a FHIR bundle is JSON; a flat case in YAML is read by 'consilium eval'" \
        in done.stderr
    done = run("cds-request", str(tmp_path / "none.json"))
    assert done.returncode == 2 and "cannot read the bundle: No such file or directory" in done.stderr
    assert "Errno" not in done.stderr


def test_cohorts_of_bundles(tmp_path):
    lines = [json.dumps(json.loads(p.read_text())) for p in sorted((ROOT / "examples" / "fhir").glob("*.json"))]
    cohort = tmp_path / "bundles.ndjson"
    cohort.write_text("\n".join(lines + ['{"resourceType": "Bundle", "entry": [{"resource": {}}]}']) + "\n")
    done = subprocess.run([sys.executable, "-m", "consilium", "eval", "--cohort", str(cohort), "--jobs", "1"],
                          capture_output=True, text=True, cwd=ROOT)
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(rows) == len(lines) + 1 and done.returncode == 1
    assert "anti_egfr_with_kras_mutant" in rows[0]["warnings"]      # errors_to_avoid, sorted first
    assert rows[-1]["error"] == "entry[0].resource has no 'resourceType'"
    folder = subprocess.run([sys.executable, "-m", "consilium", "eval", "--cohort", "examples/fhir", "--jobs", "1"],
                            capture_output=True, text=True, cwd=ROOT)
    assert folder.returncode == 0 and [json.loads(x)["warnings"] for x in folder.stdout.splitlines()] == \
        [row["warnings"] for row in rows[:-1]]
    # in a folder, a bad bundle's error names its file (its row is the file's place in name order)
    bundles = tmp_path / "bundles"
    bundles.mkdir()
    (bundles / "a.json").write_text(lines[0])
    (bundles / "b.json").write_text('{"resourceType": "Patient"}')
    done = subprocess.run([sys.executable, "-m", "consilium", "eval", "--cohort", str(bundles), "--jobs", "1"],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 1 and f"{bundles / 'b.json'}: error: the input is a 'Patient', not a Bundle" \
        in done.stderr
    assert [json.loads(x).get("error") for x in done.stdout.splitlines()] == \
        [None, "the input is a 'Patient', not a Bundle"]


@pytest.fixture(scope="module")
def report_html(bundled_kb, tmp_path_factory) -> str:
    from consilium import render
    result = bundled_kb.evaluate_file(ROOT / "examples" / "fhir" / "errors_to_avoid.json")
    index = render.write_report(bundled_kb, tmp_path_factory.mktemp("report"), result, "errors_to_avoid.json")
    return Path(index).read_text(encoding="utf-8")


def test_the_report_shows_where_each_fact_came_from(report_html):
    assert "Read from FHIR" in report_html and "MedicationAdministration/bevacizumab-last-dose" in report_html
    # each fact read links to how it is read
    assert '<a href="#fhir-kras">KRAS mutation status</a>' in report_html


def test_the_report_shows_each_facts_binding_beside_it_with_its_note(bundled_kb, report_html):
    """An auditor sees, for every fact FHIR carries, how it is read (resources, codes, FHIRPath,
    map) and where its codes were checked, in one row per fact; the others are listed as questions."""
    from html import escape
    assert '<a href="#fhir">Facts read from FHIR, and how</a>' in report_html
    section = report_html.split('<section id="fhir">', 1)[1].split("</section>", 1)[0]
    bound = [f for f in bundled_kb.facts.values() if f.bindings]
    assert len(bound) >= 10
    for fact in bound:
        row = section.split(f'<tr id="fhir-{fact.id}">', 1)[1].split("</tr>", 1)[0]
        assert escape(fact.label) in row and f"facts.rules:{fact.span.line}" in row
        for b in fact.bindings:
            assert f"<code>{b.resource}</code>" in row
            for text in [*(str(c) for c in b.codes), b.where, b.value, b.profile]:
                assert text is None or escape(text) in row, (fact.id, text)
            note = b.note or bundled_kb.code_systems["CONSILIUM"].note   # codes of our own: the system's note
            assert escape(" ".join(note.split())) in row, fact.id
    kras = section.split('<tr id="fhir-kras">', 1)[1].split("</tr>", 1)[0]
    assert "LNC#LA9633-4</code> → mutant" in kras and "not checked against HGNC itself" in kras
    assert "the Observation's <code>value[x]</code>" in kras
    assert "<code>SCT</code> http://snomed.info/sct" in section           # the code systems' URLs
    unbound = section.split('<ul class="unbound">', 1)[1]
    assert '<li id="fhir-complete_resection_feasible">' in unbound and 'id="fhir-complete_resection_feasible"' \
        not in section.split('<ul class="unbound">', 1)[0]


def test_the_report_of_a_bundle_takes_the_teams_answers_beside_it(tmp_path):
    """`consilium report --case BUNDLE --facts TEAM` shows the full case, as `eval` does with them."""
    run = lambda *args: subprocess.run([sys.executable, "-m", "consilium", *args], capture_output=True,  # noqa: E731
                                       text=True, cwd=ROOT, timeout=600)
    name = "liver_resectable_three_segments"
    done = run("report", "-o", str(tmp_path / "report"), "--no-timestamp", "--case", f"examples/fhir/{name}.json",
               "--facts", f"examples/fhir/team/{name}.yaml")
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    case = page.split('<section id="case">', 1)[1].split("</section>", 1)[0]
    assert "Simultaneous rectal and hepatic surgery (standard approach)" in case and "Read from FHIR" in case
    alone = run("report", "-o", str(tmp_path / "other"), "--facts", f"examples/fhir/team/{name}.yaml")
    assert alone.returncode == 2 and "--facts goes with --case" in alone.stderr
    flat = run("report", "-o", str(tmp_path / "other"), "--case", f"examples/{name}.yaml",
               "--facts", f"examples/fhir/team/{name}.yaml")
    assert flat.returncode == 2 and "[facts-without-bundle]" in flat.stderr and "Traceback" not in flat.stderr


# ---- the binding language ------------------------------------------------------------------------

@pytest.mark.parametrize("binding, code", [
    ('fhir Observaton code LNC#1 map LNC#2 -> mutant', "invalid-binding"),
    ('fhir Observation code LNX#1 map LNC#2 -> mutant', "unknown-code-system"),
    ('fhir Observation map LNC#2 -> mutnt', "unknown-enum-value"),
    ('fhir Observation value "component.where(" map LNC#2 -> mutant', "fhirpath-syntax"),
    ('fhir Observation map LNC#2 -> mutant pick latest', "invalid-binding"),
    ('fhir Condition', "invalid-binding"),
])
def test_a_broken_binding_is_a_knowledge_base_error(tmp_path, binding, code):
    rules = tmp_path / "kb.rules"
    rules.write_text(f'source S "s"\nfact kras : enum {{wild_type, mutant}}\n    {binding}\n')
    with pytest.raises(consilium.KnowledgeBaseError) as caught:
        consilium.load_kb(rules, use_cache=False)
    assert code in [d.code for d in caught.value.diagnostics]
    assert all(d.span and d.span.line == 3 for d in caught.value.diagnostics)


REPLACING = """source S "s"
fact proposed : set of {a, b, c}
    fhir MedicationRequest map ATC#A -> a, ATC#B -> b
fact kras : enum {wild_type, mutant}
safety no_a "A with a mutant tumour"
    when a in proposed and kras = mutant
    severity critical
    source S
    quote "q"
    replace %s
"""


@pytest.mark.parametrize("clause, words", [
    ('a with b, LNC#21702-6 "KRAS test"', None),
    ("b with a", "does not test 'b in'"),
    ("a with d", "'d' is not a value of 'proposed'"),
    ("a with c", "no FHIR binding of 'proposed' maps a code onto 'c'"),
    ("a with a", "cannot replace itself"),
    ("a with LNX#1", "no code system 'LNX'"),
])
def test_a_safety_rules_replacement_is_checked(tmp_path, clause, words):
    """`replace V with ...` names an order the service can write: another coded value of the fact
    the rule tests V in, or a code of a known system."""
    rules = tmp_path / "kb.rules"
    rules.write_text(REPLACING % clause)
    if words is None:
        (rule,) = consilium.load_kb(rules, use_cache=False).safeties
        assert rule.replace.fact == "proposed" and rule.replace.values == ("b",)
        assert [(c.url, c.code, t) for c, t in rule.replace.codings] == [("http://loinc.org", "21702-6", "KRAS test")]
        return
    with pytest.raises(consilium.KnowledgeBaseError) as caught:
        consilium.load_kb(rules, use_cache=False)
    (problem,) = caught.value.diagnostics
    assert words in problem.message and problem.span.line == 10


def test_bindings_do_not_change_a_flat_case(bundled_kb):
    flat = load_flat(ROOT / "examples" / "errors_to_avoid.yaml")
    assert bundled_kb.evaluate(flat).to_json().get("origins") is None


def test_read_bundle_does_not_change_its_input(bundled_kb):
    data = json.loads(JOHN.read_text())
    before = copy.deepcopy(data)
    read_bundle(data, bundled_kb.facts)
    assert data == before


def test_cached_readings_follow_the_content(bundled_kb):
    """Validations and FHIRPath results are kept by content: a changed resource, or a changed
    resource another one resolves, is read afresh."""
    data = json.loads((ROOT / "examples" / "fhir" / "errors_to_avoid.json").read_text())
    assert bundled_kb.read_bundle(data).values["metastases_timing"] == "synchronous"
    later = copy.deepcopy(data)
    primary = next(e["resource"] for e in later["entry"] if e["resource"]["id"] == "primary")
    primary["onsetDateTime"] = "2020-01-01"   # the metastasis, unchanged, now came years after its primary
    assert bundled_kb.read_bundle(later).values["metastases_timing"] == "metachronous"
    kras = next(e["resource"] for e in later["entry"] if e["resource"]["id"] == "kras")
    kras["valueCodeableConcept"]["coding"][0]["code"] = "LA9634-2"
    assert bundled_kb.read_bundle(later).values["kras"] == "wild_type"
    assert bundled_kb.read_bundle(data).values["kras"] == "mutant"


def test_a_patient_view_card_gives_each_finding_and_its_reasons(bundled_kb):
    from consilium.engine.service.cards import patient_view_cards
    result = bundled_kb.evaluate(load_flat(ROOT / "examples" / "liver_resectable_three_segments.yaml"))
    cards = {c["summary"]: c for c in patient_view_cards(bundled_kb, result, [])}
    for finding in result.findings:
        card = cards[finding.label]
        assert card["indicator"] == "info" and card["detail"].startswith("Because:")
        assert all(reason.text in card["detail"] for reason in finding.reasons)
    assert result.findings
