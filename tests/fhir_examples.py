"""Write examples/fhir/*.json: one mCODE-shaped FHIR R4 bundle per example case of examples/.

Each bundle carries, as an EHR would, the facts of its flat case that FHIR can carry (those
with a binding in the bundled knowledge base): the cancer conditions with their body sites
and onset dates, the KRAS variant or its pertinent negative, symptoms, measured values,
proposed and given treatment, radiotherapy and surgery. What FHIR cannot say (the team's
judgements, "no symptoms", an imminent obstruction) stays in the flat case.
tests/test_fhir.py holds each bundle and its flat case to the same result.

Run `python tests/fhir_examples.py` to write them again after changing an example.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
MCODE = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-"
# mCODE STU4 relates a secondary cancer condition to its primary with the core extension
# condition-related (SD_Condition.fsh: "extension contains condition-related named relatedPrimaryCancerCondition")
RELATED = "http://hl7.org/fhir/StructureDefinition/condition-related"
SCT, LNC, ATC = "http://snomed.info/sct", "http://loinc.org", "http://www.whocc.no/atc"
CONSILIUM = "urn:consilium:codes"
PATIENT = {"reference": "Patient/patient"}
DIAGNOSIS = "2024-11-04"  # the primary's diagnosis in every example

SITES = {"liver": ("10200004", "Liver structure"), "lung": ("39607008", "Lung structure"),
         "peritoneum": ("15425007", "Peritoneum structure"), "other": ("272673000", "Bone structure")}
SYMPTOMS = {"hemorrhage": ("12063002", "Rectal hemorrhage"), "obstruction": ("81060008", "Intestinal obstruction")}
STRATEGIES = {"simultaneous_resection": "simultaneous-resection", "staged_resection": "staged-resection",
              "liver_first": "liver-first", "short_course_radiotherapy": "short-course-radiotherapy",
              "long_course_chemoradiotherapy_upfront": "long-course-chemoradiotherapy-upfront",
              "debulking_resection": "debulking-resection", "stenting": "stenting",
              "resection_for_obstruction": "resection-for-obstruction", "diverting_ostomy": "diverting-ostomy",
              "bypass": "bypass"}
DRUGS = {"anti_egfr": ("L01FE01", "cetuximab"), "bevacizumab": ("L01FG01", "bevacizumab")}


def concept(system: str, code: str, display: str | None = None) -> dict:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding]}


def bundle_for(case: dict, name: str) -> dict:
    resources: list[dict] = [{
        "resourceType": "Patient", "id": "patient", "meta": {"profile": [MCODE + "cancer-patient"]},
        "name": [{"family": "Example", "given": [name]}], "gender": "unknown"}]

    def add(resource: dict) -> None:
        resource.setdefault("id", f"{resource['resourceType'].lower()}-{len(resources)}")
        resources.append(resource)

    add({"resourceType": "Condition", "id": "primary", "meta": {"profile": [MCODE + "primary-cancer-condition"]},
         "clinicalStatus": concept("http://terminology.hl7.org/CodeSystem/condition-clinical", "active"),
         "code": concept(SCT, "363351006", "Malignant tumor of rectum"),
         "bodySite": [concept(SCT, "34402009", "Rectum structure")], "subject": PATIENT, "onsetDateTime": DIAGNOSIS})
    timing = case.get("metastases_timing")
    for site in case.get("metastatic_sites") or ():
        code, display = SITES[site]
        condition = {"resourceType": "Condition", "id": f"metastasis-{site}",
                     "meta": {"profile": [MCODE + "secondary-cancer-condition"]},
                     "extension": [{"url": RELATED,
                                    "valueReference": {"reference": "Condition/primary"}}],
                     "clinicalStatus": concept("http://terminology.hl7.org/CodeSystem/condition-clinical", "active"),
                     "code": concept(SCT, "128462008", "Secondary malignant neoplastic disease"),
                     "bodySite": [concept(SCT, code, display)], "subject": PATIENT}
        if timing:
            condition["onsetDateTime"] = DIAGNOSIS if timing == "synchronous" else "2025-09-15"
        add(condition)
    if case.get("kras"):
        present = case["kras"] == "mutant"
        add({"resourceType": "Observation", "id": "kras", "meta": {"profile": [MCODE + "genomic-variant"]},
             "status": "final", "category": [concept("http://terminology.hl7.org/CodeSystem/observation-category",
                                                      "laboratory")],
             "code": concept(LNC, "69548-6", "Genetic variant assessment"), "subject": PATIENT,
             "effectiveDateTime": "2024-11-20",
             "valueCodeableConcept": concept(LNC, "LA9633-4" if present else "LA9634-2",
                                             "Present" if present else "Absent"),
             "component": [{"code": concept(LNC, "48018-6", "Gene studied [ID]"),
                            "valueCodeableConcept": concept("http://www.genenames.org", "HGNC:6407", "KRAS")}]})
    for symptom in case.get("primary_symptoms") or ():
        if symptom in SYMPTOMS:
            add({"resourceType": "Condition", "id": f"symptom-{symptom}", "code": concept(SCT, *SYMPTOMS[symptom]),
                 "subject": PATIENT})
    if case.get("future_liver_remnant") is not None:
        value = float(str(case["future_liver_remnant"]).split()[0])
        add({"resourceType": "Observation", "id": "future-liver-remnant", "status": "final",
             "code": concept(CONSILIUM, "future-liver-remnant", "Future liver remnant volume"), "subject": PATIENT,
             "valueQuantity": {"value": value, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%"}})
    if case.get("peritoneal_pci") is not None:
        add({"resourceType": "Observation", "id": "pci", "status": "final",
             "code": concept(CONSILIUM, "peritoneal-cancer-index", "Peritoneal carcinomatosis index"),
             "subject": PATIENT, "valueInteger": case["peritoneal_pci"]})
    if case.get("hepatectomy_segments") is not None:
        add({"resourceType": "Observation", "id": "hepatectomy-segments", "status": "final",
             "code": concept(CONSILIUM, "hepatectomy-segments", "Segments the planned hepatectomy involves"),
             "subject": PATIENT, "valueInteger": case["hepatectomy_segments"]})
    if case.get("peritoneal_p_category"):
        add({"resourceType": "Observation", "id": "peritoneal-category", "status": "final",
             "code": concept(CONSILIUM, "jsccr-peritoneal-category", "JSCCR peritoneal category"), "subject": PATIENT,
             "valueCodeableConcept": concept(CONSILIUM, case["peritoneal_p_category"])})
    for treatment in case.get("proposed_treatment") or ():
        if treatment in DRUGS:
            code, display = DRUGS[treatment]
            add({"resourceType": "MedicationRequest", "id": f"proposed-{treatment.replace('_', '-')}",
                 "meta": {"profile": [MCODE + "cancer-related-medication-request"]}, "status": "draft",
                 "intent": "proposal", "medicationCodeableConcept": concept(ATC, code, display), "subject": PATIENT})
        else:
            add({"resourceType": "ServiceRequest", "id": f"proposed-{STRATEGIES[treatment]}", "status": "draft",
                 "intent": "proposal", "code": concept(CONSILIUM, STRATEGIES[treatment]), "subject": PATIENT})
    if case.get("scrt_end"):
        add({"resourceType": "Procedure", "id": "scrt", "meta": {"profile": [MCODE + "radiotherapy-course-summary"]},
             "extension": [{"url": MCODE + "radiotherapy-sessions", "valueUnsignedInt": 5}],
             "status": "completed", "code": concept(SCT, "1217123003", "Radiotherapy course of treatment"),
             "bodySite": [concept(SCT, "34402009", "Rectum structure")], "subject": PATIENT,
             "performedPeriod": {"start": str(case["scrt_end"] - dt.timedelta(days=4)),
                                 "end": str(case["scrt_end"])}})
    if case.get("chemotherapy_start"):
        add({"resourceType": "MedicationAdministration", "id": "chemotherapy-first-dose",
             "meta": {"profile": [MCODE + "cancer-related-medication-administration"]}, "status": "completed",
             "medicationCodeableConcept": concept(ATC, "L01XA03", "oxaliplatin"), "subject": PATIENT,
             "effectiveDateTime": str(case["chemotherapy_start"])})
    if case.get("last_bevacizumab_dose"):
        add({"resourceType": "MedicationAdministration", "id": "bevacizumab-last-dose",
             "meta": {"profile": [MCODE + "cancer-related-medication-administration"]}, "status": "completed",
             "medicationCodeableConcept": concept(ATC, "L01FG01", "bevacizumab"), "subject": PATIENT,
             "effectiveDateTime": str(case["last_bevacizumab_dose"])})
    if case.get("surgery_date"):
        add({"resourceType": "ServiceRequest", "id": "elective-surgery", "status": "active", "intent": "order",
             "category": [concept(SCT, "387713003", "Surgical procedure")], "code": {"text": "Elective surgery"},
             "subject": PATIENT, "occurrenceDateTime": str(case["surgery_date"])})
    if case.get("primary_surgery_date"):
        add({"resourceType": "Procedure", "id": "primary-resection",
             "meta": {"profile": [MCODE + "cancer-related-surgical-procedure"]}, "status": "completed",
             "code": {"text": "Resection of the rectal primary"},
             "bodySite": [concept(SCT, "34402009", "Rectum structure")], "subject": PATIENT,
             "performedDateTime": str(case["primary_surgery_date"])})
    return {"resourceType": "Bundle", "id": name, "type": "collection",
            "entry": [{"fullUrl": f"urn:uuid:{name}-{r['id']}", "resource": r} for r in resources]}


def flat_cases() -> list[Path]:
    return sorted(p for p in (ROOT / "examples").iterdir() if p.suffix in (".yaml", ".json"))


def load_flat(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def team_facts(flat: dict, bundle: dict, kb) -> dict:
    """The flat case's facts the bundle does not carry: what the team answers beside the record."""
    read = kb.read_bundle(bundle)
    return {k: v for k, v in flat.items() if k not in read.values}


def main() -> int:
    import consilium
    kb = consilium.load_kb()
    out = ROOT / "examples" / "fhir"
    (out / "team").mkdir(parents=True, exist_ok=True)
    for path in flat_cases():
        flat = load_flat(path)
        bundle = bundle_for(flat, path.stem)
        (out / f"{path.stem}.json").write_text(json.dumps(bundle, indent=2) + "\n", encoding="utf-8")
        team = team_facts(flat, bundle, kb)
        (out / "team" / f"{path.stem}.yaml").write_text(
            f"# The team's answers beside ../{path.stem}.json: the facts of\n# examples/{path.name} that FHIR "
            "does not carry (judgements, what no code names).\n# consilium eval BUNDLE --facts THIS_FILE\n"
            + yaml.safe_dump(team, sort_keys=False, allow_unicode=True), encoding="utf-8")
    print(f"wrote {len(flat_cases())} bundles, and the team's answers beside each, to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
