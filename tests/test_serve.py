"""The CDS Hooks 2.0 service, started for real (`consilium serve`) on the loopback.

Its discovery, patient-view and order cards are held to the shapes of the specification's
examples (../shared/external/cds-hooks-examples/); data comes from the prefetch or from a
real FHIR read server on the loopback (tests/fhir_server.py) with the request's access
token; client JWTs are verified; malformed requests get JSON errors, never a 500 or a
traceback; the knowledge base reloads (--watch, SIGHUP) without a request dropped.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from fhir_server import FhirServer

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT.parent / "shared" / "external" / "cds-hooks-examples"
if not SPEC.is_dir():  # CI's clone has shared/ beside it too; a lone checkout does not
    SPEC = Path(os.environ.get("CONSILIUM_SHARED", "/work/shared")) / "external" / "cds-hooks-examples"
ISSUER, OTHER_ISSUER = "https://ehr.example.org", "https://other-ehr.example.org"
FHIR_TOKEN = "some-opaque-fhir-access-token"  # the spec example's
PATIENT = "1288992"                             # the spec example's


def spec(name: str) -> dict:
    return json.loads((SPEC / name).read_text(encoding="utf-8"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def example_resources(name: str = "errors_to_avoid", patient: str = PATIENT) -> list[dict]:
    """An example case's resources, made the spec example patient's."""
    text = (ROOT / "examples" / "fhir" / f"{name}.json").read_text(encoding="utf-8")
    bundle = json.loads(text.replace('"Patient/patient"', f'"Patient/{patient}"'))
    resources = [e["resource"] for e in bundle["entry"]]
    resources[0]["id"] = patient
    return resources


def as_bundle(resources: list[dict]) -> dict:
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}


class Service:
    def __init__(self, *args: str, kb: Path | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "consilium", "serve", *([str(kb)] if kb else []), "--port", str(self.port),
                   *args]
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 60
        while True:
            try:
                if httpx.get(self.url + "/cds-services", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.time() > deadline:
                raise RuntimeError("the service did not start: " + self.process.stderr.read())
            time.sleep(0.2)

    def stop(self) -> str:
        self.process.send_signal(signal.SIGTERM)
        try:
            _, err = self.process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, err = self.process.communicate()
        return err


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    folder = tmp_path_factory.mktemp("keys")
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP384R1())
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(key, kid, alg):
        data = json.loads(jwt.algorithms.get_default_algorithms()[alg].to_jwk(key.public_key()))
        return {**data, "kid": kid, "alg": alg, "use": "sig"}

    (folder / "ehr.jwks").write_text(json.dumps({"keys": [jwk(rsa_key, "ehr-1", "RS384")]}))
    return {"folder": folder, "rsa": rsa_key, "ec": ec_key, "stranger": stranger,
            "ec_jwks": {"keys": [jwk(ec_key, "other-1", "ES384")]}}


@pytest.fixture(scope="module")
def fhir(keys):
    with FhirServer(example_resources(), FHIR_TOKEN, jwks=keys["ec_jwks"]) as server:
        yield server


@pytest.fixture(scope="module")
def service(keys, fhir):
    issuers = keys["folder"] / "trusted.json"
    issuers.write_text(json.dumps({"issuers": [{"iss": ISSUER, "jwks_file": "ehr.jwks"},
                                               {"iss": OTHER_ISSUER, "jwks_url": fhir.url + "/jwks.json"}]}))
    running = Service("--trusted-issuers", str(issuers), "--max-request-bytes", "200000")
    yield running
    err = running.stop()
    assert "Traceback" not in err


def token(keys, service, path: str, **changes) -> str:
    claims = {"iss": ISSUER, "aud": service.url + path, "exp": int(time.time()) + 300, "iat": int(time.time()),
              "jti": str(uuid.uuid4())}
    key, kid, alg = changes.pop("key", keys["rsa"]), changes.pop("kid", "ehr-1"), changes.pop("alg", "RS384")
    claims.update(changes)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})


def post(keys, service, sid: str, body, *, raw: bytes | None = None, **claims) -> httpx.Response:
    path = f"/cds-services/{sid}"
    headers = {"Authorization": "Bearer " + token(keys, service, path, **claims), "Content-Type": "application/json"}
    return httpx.post(service.url + path, content=raw if raw is not None else json.dumps(body), headers=headers,
                      timeout=60)


def patient_view(prefetch_resources=None, **extra) -> dict:
    request = {"hookInstance": str(uuid.uuid4()), "hook": "patient-view",
               "context": {"userId": "Practitioner/example", "patientId": PATIENT}}
    if prefetch_resources is not None:
        request["prefetch"] = {"patient": prefetch_resources[0], "condition": as_bundle(prefetch_resources[1:])}
    request.update(extra)
    return request


# ---- discovery ------------------------------------------------------------------------------------

def test_discovery_lists_the_hooks_with_prefetch_from_the_bindings(service):
    answer = httpx.get(service.url + "/cds-services").json()
    example = spec("discovery-response.json")
    assert set(answer) == set(example)
    hooks = {s["hook"]: s for s in answer["services"]}
    assert set(hooks) == {"patient-view", "order-select", "order-sign"}
    for s in answer["services"]:
        assert {"hook", "title", "description", "id", "prefetch"} <= set(s)
        assert s["prefetch"]["patient"] == "Patient/{{context.patientId}}"
        assert s["prefetch"]["observation"] == "Observation?patient={{context.patientId}}"
        assert "medicationAdministration" in s["prefetch"] and "serviceRequest" in s["prefetch"]
        # what FHIR does not carry, a client may send beside the record
        facts = s["extension"]["consilium.facts"]["facts"]
        assert "complete_resection_feasible" in facts and "kras" not in facts


# ---- patient-view ---------------------------------------------------------------------------------

def test_patient_view_cards(keys, service):
    answer = post(keys, service, "consilium-patient-view", patient_view(example_resources()))
    assert answer.status_code == 200, answer.text
    cards = answer.json()["cards"]
    example_keys = {k for card in spec("response-cards.json")["cards"] for k in card}
    for card in cards:
        assert set(card) <= example_keys | {"suggestions", "selectionBehavior"}
        assert len(card["summary"]) < 140 and card["indicator"] in ("info", "warning", "critical")
        assert card["source"]["label"]
    critical = [c for c in cards if c["indicator"] == "critical"]
    assert {c["summary"] for c in critical} >= {"EGFR inhibitor proposed for a KRAS-mutant tumour",
                                                 "Debulking resection (less than R0) proposed"}
    egfr = next(c for c in critical if c["summary"].startswith("EGFR"))
    assert egfr["source"]["label"] == "Treatment of Rectal Cancer with Hepatic Metastases"
    assert "ineffective in KRAS mutant tumors" in egfr["detail"]
    summary = next(c for c in cards if c["summary"].startswith("SUMMARY:"))   # recommendations of one source
    assert "multidisciplinary team" in summary["detail"] and summary["indicator"] == "info"
    questions = next(c for c in cards if "still open" in c["summary"])
    assert "Complete resection feasible" in questions["detail"]
    # the service's own cards are signed with the knowledge base's name, not a path on the server
    assert questions["source"]["label"] == "Consilium: Management of metastatic rectal cancer"
    report, chart = (link["url"] for link in questions["links"])
    assert all(link["type"] == "absolute" for link in questions["links"])
    page = httpx.get(report, timeout=120)
    assert page.status_code == 200 and "Read from FHIR" in page.text and "Observation/kras" in page.text
    svg = httpx.get(chart, timeout=60)
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml") and b"<svg" in svg.content
    assert httpx.get(report.replace("/cases/", "/cases/0"), timeout=10).status_code == 404


def test_a_bare_record_gets_the_questions_that_stay_open_in_words(keys, service):
    """A record that says nothing (the Patient alone): one card, every question by its label,
    and the safety checks it could not complete with the facts they need, in words."""
    answer = post(keys, service, "consilium-patient-view", patient_view(example_resources()[:1]))
    (card,) = answer.json()["cards"]
    assert card["summary"] == "1 question still open for the team" and card["indicator"] == "info"
    assert "- **Sites of metastases**: Where are the metastases" in card["detail"]
    assert ("- Safety check not completed: EGFR inhibitor proposed for a KRAS-mutant tumour — needs: Treatment "
            "proposed by the team; KRAS mutation status") in card["detail"]


def recommendation_cards(answer: httpx.Response) -> set[str]:
    """The recommendations of the per-source cards (each in bold in its card's detail)."""
    import re
    assert answer.status_code == 200, answer.text
    return {label for c in answer.json()["cards"] if c["indicator"] == "info" and "still open" not in c["summary"]
            for label in re.findall(r"\*\*(.+?)\*\* \(", c.get("detail", ""))}


def test_the_teams_answers_travel_beside_the_record_in_the_requests_extension(keys, service):
    """A bundle alone says less than its flat case (the team's judgements are not FHIR); given in
    the request's extension, they complete it; one that contradicts the record stays unknown."""
    import yaml
    name = "liver_resectable_three_segments"
    team = yaml.safe_load((ROOT / "examples" / "fhir" / "team" / f"{name}.yaml").read_text())
    record = example_resources(name)
    alone = recommendation_cards(post(keys, service, "consilium-patient-view", patient_view(record)))
    answer = post(keys, service, "consilium-patient-view",
                  patient_view(record, extension={"consilium.facts": team}))
    together = recommendation_cards(answer)
    assert alone < together and any("Simultaneous rectal and hepatic surgery" in s for s in together - alone)
    contradicting = post(keys, service, "consilium-patient-view", patient_view(
        record, extension={"consilium.facts": {**team, "metastatic_sites": ["lung"]}}))
    read = next(c for c in contradicting.json()["cards"] if "could not be read in full" in c["summary"])
    assert "'metastatic_sites'" in read["detail"] and "stays unknown" in read["detail"]
    bad = post(keys, service, "consilium-patient-view", patient_view(
        record, extension={"consilium.facts": {"complete_resection_feasible": "yes"}}))
    assert bad.status_code == 200
    (card,) = bad.json()["cards"]
    assert "could not be read" in card["summary"] and "complete_resection_feasible" in card["detail"]
    wrong = post(keys, service, "consilium-patient-view", patient_view(record, extension={"consilium.facts": [1]}))
    assert wrong.status_code == 400 and "consilium.facts" in wrong.json()["error"]


def test_the_spec_request_fetches_from_the_fhir_server_with_its_token(keys, service, fhir):
    request = spec("request-patient-view.json")
    request["fhirServer"] = fhir.url          # the loopback server instead of the example's host
    fhir.requests.clear()
    answer = post(keys, service, "consilium-patient-view", request)
    assert answer.status_code == 200, answer.text
    summaries = {c["summary"] for c in answer.json()["cards"]}
    assert "EGFR inhibitor proposed for a KRAS-mutant tumour" in summaries   # read from the server's Observation
    fetched = [path for path, _ in fhir.requests]
    assert any(p.startswith("/Condition?patient=1288992") for p in fetched)
    assert any("_offset=2" in p for p in fetched)                            # a search's next page was followed
    assert all(auth == f"Bearer {FHIR_TOKEN}" for p, auth in fhir.requests if not p.startswith("/jwks"))
    assert "Patient/{{" not in json.dumps(fetched)
    request["fhirAuthorization"]["access_token"] = "wrong"
    answer = post(keys, service, "consilium-patient-view", request)
    assert answer.status_code == 200
    (warning, *_) = answer.json()["cards"]
    assert warning["indicator"] == "warning" and "could not be fetched" in warning["summary"]
    assert "HTTP 401" in warning["detail"]


def test_a_record_that_cannot_be_read_is_a_card_not_an_error(keys, service):
    resources = example_resources()
    resources[3] = {**resources[3], "valueCodeableConcept": "mutant"}   # the KRAS Observation, broken
    answer = post(keys, service, "consilium-patient-view", patient_view(resources))
    assert answer.status_code == 200
    (card,) = answer.json()["cards"]
    assert "could not be read" in card["summary"]
    assert "Observation/kras: element 'valueCodeableConcept'" in card["detail"]


# ---- order-select, order-sign ---------------------------------------------------------------------

def order_request(hook: str, record: list[dict], drafts: list[dict]) -> dict:
    context = copy.deepcopy(spec("order-select-context-r4.json")["context"])
    context["draftOrders"]["entry"] += [{"resource": d} for d in drafts]
    if hook == "order-sign":
        context.pop("selections")
    return {"hookInstance": str(uuid.uuid4()), "hook": hook, "context": context,
            "prefetch": {"patient": record[0], "condition": as_bundle(record[1:])}}


def draft(kind: str, id: str, **fields) -> dict:
    return {"resourceType": kind, "id": id, "status": "draft", "intent": "proposal",
            "subject": {"reference": f"Patient/{PATIENT}"}, **fields}


def consilium_code(code: str) -> dict:
    return {"coding": [{"system": "urn:consilium:codes", "code": code}]}


def record_without_proposals(name: str) -> list[dict]:
    return [r for r in example_resources(name) if r.get("status") != "draft"]


CETUXIMAB = draft("MedicationRequest", "cetuximab", medicationCodeableConcept={
    "coding": [{"system": "http://www.whocc.no/atc", "code": "L01FE01", "display": "cetuximab"}]})
SAFETY = [
    ("anti_egfr_with_kras_mutant", "errors_to_avoid", CETUXIMAB),
    ("anti_egfr_without_kras_test", "liver_five_segments_bleeding", CETUXIMAB),
    ("bevacizumab_before_surgery", "synchronous_plan_late_chemotherapy", draft(
        "ServiceRequest", "hepatectomy", status="draft", intent="order", occurrenceDateTime="2025-03-20",
        category=[{"coding": [{"system": "http://snomed.info/sct", "code": "387713003"}]}],
        code={"text": "Hepatectomy"})),
    ("long_course_chemoradiotherapy_upfront", "errors_to_avoid", draft(
        "ServiceRequest", "crt", code=consilium_code("long-course-chemoradiotherapy-upfront"))),
    ("liver_first_with_symptomatic_primary", "liver_five_segments_bleeding", draft(
        "ServiceRequest", "liver-first", code=consilium_code("liver-first"))),
    ("resection_below_r0", "errors_to_avoid", draft("ServiceRequest", "debulking",
                                                    code=consilium_code("debulking-resection"))),
]
# What each rule's source names in place of the order, as the card's replacing suggestion does it
# (the liver-first contraindication and the debulking rule name no order to give instead).
REPLACED = {
    "anti_egfr_with_kras_mutant": ("update", "medicationCodeableConcept",
                                   {"system": "http://www.whocc.no/atc", "code": "L01FG01"}, "bevacizumab"),
    "anti_egfr_without_kras_test": ("create", "code", {"system": "http://loinc.org", "code": "21702-6"},
                                    "KRAS mutation testing"),
    "bevacizumab_before_surgery": ("update", "occurrenceDateTime", "2025-04-21",
                                   "6 weeks after the last bevacizumab dose"),
    "long_course_chemoradiotherapy_upfront": ("update", "code", {"system": "urn:consilium:codes",
                                                                  "code": "short-course-radiotherapy"},
                                              "short course radiotherapy"),
}


def order_select(keys, service, hook: str, record: list[dict], drafts: list[dict]) -> list[dict]:
    answer = post(keys, service, f"consilium-{hook}", order_request(hook, record, drafts))
    assert answer.status_code == 200, answer.text
    return answer.json()["cards"]


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
def test_the_spec_draft_orders_trip_no_safety_rule(keys, service, hook):
    request = order_request(hook, record_without_proposals("errors_to_avoid"), [])
    answer = post(keys, service, f"consilium-{hook}", request)
    assert answer.status_code == 200 and answer.json() == {"cards": []}


@pytest.mark.parametrize("rule, case, order", SAFETY, ids=[s[0] for s in SAFETY])
def test_a_draft_order_that_trips_a_safety_rule_gets_a_critical_card_removing_or_replacing_it(
        keys, service, rule, case, order):
    hook = "order-sign" if rule == "bevacizumab_before_surgery" else "order-select"
    record = [r for r in record_without_proposals(case) if r.get("id") != "elective-surgery"]
    cards = order_select(keys, service, hook, record, [order])
    assert len(cards) == 1, cards
    (card,) = cards
    assert card["indicator"] == "critical" and card["source"]["label"]
    reference = f"{order['resourceType']}/{order['id']}"
    remove, *replace = card["suggestions"]
    assert remove["actions"] == [{"type": "delete", "description": f"Remove {reference} from the orders being "
                                  "written", "resourceId": [reference]}]
    assert card["selectionBehavior"] == "at-most-one"   # remove it or replace it, not both
    # what to do instead, where the source says it (the liver-first contraindication says none)
    assert ("Instead:" in card["detail"]) == (rule != "liver_first_with_symptomatic_primary")
    if rule not in REPLACED:
        assert replace == []
        return
    kind, element, value, words = REPLACED[rule]
    (swap,) = replace
    assert words in swap["label"]
    if kind == "update":   # the same draft (same id), its code or date changed
        (action,) = swap["actions"]
        assert action["type"] == "update" and action["resource"]["id"] == order["id"]
        got = action["resource"][element]
        assert (got["coding"] == [value] and got["text"] == words) if isinstance(value, dict) else got == value
        drafts = [action["resource"]]
    else:                  # the draft removed, and an order of what to do first created
        delete, create = swap["actions"]
        assert delete["type"] == "delete" and delete["resourceId"] == [reference]
        assert create["type"] == "create" and create["resource"]["resourceType"] == "ServiceRequest"
        assert create["resource"]["code"]["coding"] == [value]
        assert create["resource"]["subject"] == order["subject"]
        drafts = [create["resource"]]
    # The EHR applies the suggestion and asks again: the orders now trip nothing.
    assert order_select(keys, service, hook, record, drafts) == []


def test_with_several_drafts_each_card_offers_to_remove_only_the_draft_that_trips_it(keys, service):
    """Every proposed treatment feeds one fact; a card must not offer to delete an unrelated order."""
    orders = [order for rule, case, order in SAFETY if case == "errors_to_avoid"]
    record = [r for r in record_without_proposals("errors_to_avoid") if r.get("id") != "elective-surgery"]
    answer = post(keys, service, "consilium-order-select", order_request("order-select", record, orders))
    assert answer.status_code == 200, answer.text
    cards = answer.json()["cards"]
    assert len(cards) == len(orders)
    removed = sorted(tuple(s["actions"][0]["resourceId"]) for card in cards for s in card["suggestions"]
                     if s["actions"][0]["type"] == "delete")
    assert removed == sorted((f"{o['resourceType']}/{o['id']}",) for o in orders)  # one each, its own


# ---- warnings as the product shows them; contradictions in the case -------------------------------

def team_answers(name: str, **changes) -> dict:
    import yaml
    return {**yaml.safe_load((ROOT / "examples" / "fhir" / "team" / f"{name}.yaml").read_text()), **changes}


def warning_cards(answer: httpx.Response) -> list[dict]:
    assert answer.status_code == 200, answer.text
    return [c for c in answer.json()["cards"] if c["indicator"] != "info"]


def test_a_warning_two_rules_give_is_one_card_naming_both_as_the_text_output_says_it(keys, service):
    """The liver-first contraindication is said by the hepatic pathway and by a safety rule, quoting
    the same sentence: the clinician gets one card naming both, the warnings of `consilium eval`."""
    name = "liver_five_segments_bleeding"
    answer = post(keys, service, "consilium-patient-view", patient_view(
        example_resources(name), extension={"consilium.facts": team_answers(name)}))
    cards = warning_cards(answer)
    import yaml
    flat = consilium_kb().evaluate(yaml.safe_load((ROOT / "examples" / f"{name}.yaml").read_text(encoding="utf-8")))
    assert [c["summary"] for c in cards] == [m.label for m in flat.merged_warnings]
    (liver_first,) = [c for c in cards if "Liver-first" in c["summary"]]
    assert liver_first["indicator"] == "critical"
    assert "contraindicated if the primary rectal tumor is symptomatic" in liver_first["detail"]
    assert "Said by both the pathway" in liver_first["detail"] and "the safety rule" in liver_first["detail"]


def with_pci(resources: list[dict], pci: int) -> list[dict]:
    return resources + [{"resourceType": "Observation", "id": "pci", "status": "final",
                         "subject": {"reference": f"Patient/{PATIENT}"}, "valueInteger": pci,
                         "code": {"coding": [{"system": "urn:consilium:codes", "code": "peritoneal-cancer-index"}]}}]


def test_a_contradiction_in_the_record_is_a_card_saying_what_contradicts_what_and_what_to_check(keys, service):
    # a PCI measured while the record's metastases are in the liver only: a warning, naming the
    # two resources to look at
    record = with_pci(example_resources("liver_resectable_three_segments"), 12)
    (card,) = [c for c in warning_cards(post(keys, service, "consilium-patient-view", patient_view(record)))
               if c["summary"].startswith("Contradiction")]
    assert card["summary"] == ("Contradiction in the record: A PCI or a JSCCR category is given, yet the peritoneum "
                               "is not among the sites")
    assert card["indicator"] == "warning" and "consistency check" in card["source"]["label"]
    assert "- **Peritoneal carcinomatosis index (PCI)**: 12 points (read from Observation/pci valueInteger)" \
        in card["detail"]
    assert "- **Sites of metastases**: {liver} (read from Condition/metastasis-liver bodySite)" in card["detail"]
    assert card["links"][0]["label"] == "Review report of this case"
    # the team says the primary is resected, the record that it bleeds: a safety rule reads the
    # symptoms (liver-first), so the contradiction is critical
    name = "liver_five_segments_bleeding"
    answer = post(keys, service, "consilium-patient-view", patient_view(
        record_without_proposals(name), extension={"consilium.facts": team_answers(name, primary_status="resected")}))
    (card,) = [c for c in warning_cards(answer) if c["summary"].startswith("Contradiction")]
    assert card["summary"].endswith("Symptoms of the primary tumour are given, yet the primary has been resected")
    assert card["indicator"] == "critical"
    assert "resected (given beside the record, in the team's answers)" in card["detail"]
    assert "{hemorrhage} (read from Condition/symptom-hemorrhage code)" in card["detail"]


def test_order_hooks_show_a_contradiction_only_when_a_draft_order_makes_it(keys, service):
    """Ordering liver-first for a patient whose primary the team says is resected: the order
    contradicts the record, a card the one signing must see, offering (not recommending) to remove
    it. The record's own contradiction (symptoms of a resected primary) stays patient-view's."""
    name = "liver_five_segments_bleeding"
    record = record_without_proposals(name)
    team = {"consilium.facts": team_answers(name, primary_status="resected")}
    liver_first = draft("ServiceRequest", "liver-first", code=consilium_code("liver-first"))
    for hook in ("order-select", "order-sign"):
        request = order_request(hook, record, [liver_first])
        request["extension"] = team
        cards = post(keys, service, f"consilium-{hook}", request).json()["cards"]
        contradictions = [c for c in cards if c["summary"].startswith("Contradiction")]
        (card,) = contradictions
        assert card["summary"].endswith("A liver-first approach is proposed, yet the primary has been resected")
        assert card["indicator"] == "critical"
        assert "{liver_first} (read from the draft order ServiceRequest/liver-first code)" in card["detail"]
        (remove,) = card["suggestions"]
        assert remove["actions"] == [{"type": "delete", "description": "Remove ServiceRequest/liver-first from the "
                                      "orders being written", "resourceId": ["ServiceRequest/liver-first"]}]
        assert not remove.get("isRecommended")   # the record may be what is wrong
    staged = draft("ServiceRequest", "staged", code=consilium_code("staged-resection"))
    request = order_request("order-sign", record, [staged])
    request["extension"] = team
    assert not [c for c in post(keys, service, "consilium-order-sign", request).json()["cards"]
                if c["summary"].startswith("Contradiction")]


# ---- authentication -------------------------------------------------------------------------------

@pytest.mark.parametrize("claims, words", [
    ({"exp": int(time.time()) - 3600}, "expired"),
    ({"aud": "https://somewhere.else/cds-services/consilium-patient-view"}, "audience"),
    ({"iss": "https://unknown.example.org"}, "not trusted"),
    ({"jti": None}, "jti"),
    ({"key": "stranger"}, "not valid"),
    ({"kid": "nope"}, "no key 'nope'"),
])
def test_bad_tokens_are_401(keys, service, claims, words):
    if claims.get("key") == "stranger":
        claims["key"] = keys["stranger"]
    answer = post(keys, service, "consilium-patient-view", patient_view(example_resources()), **claims)
    assert answer.status_code == 401 and words in answer.json()["error"], answer.text
    assert answer.headers["www-authenticate"].startswith("Bearer")


def test_missing_garbled_and_replayed_tokens_are_401_a_jwks_url_works(keys, service):
    url = service.url + "/cds-services/consilium-patient-view"
    body = json.dumps(patient_view(example_resources()))
    assert httpx.post(url, content=body).status_code == 401
    assert httpx.post(url, content=body, headers={"Authorization": "Bearer not.a.jwt"}).status_code == 401
    assert httpx.post(url, content=body, headers={"Authorization": "Basic abc"}).status_code == 401
    once = token(keys, service, "/cds-services/consilium-patient-view")
    assert httpx.post(url, content=body, headers={"Authorization": f"Bearer {once}"}, timeout=60).status_code == 200
    again = httpx.post(url, content=body, headers={"Authorization": f"Bearer {once}"})
    assert again.status_code == 401 and "replay" in again.json()["error"]
    answer = post(keys, service, "consilium-patient-view", patient_view(example_resources()), iss=OTHER_ISSUER,
                  key=keys["ec"], kid="other-1", alg="ES384")
    assert answer.status_code == 200, answer.text


# ---- malformed requests ---------------------------------------------------------------------------

def body(**fields) -> bytes:
    """A patient-view request for patient 1, with these fields changed (None removes one)."""
    request = {"hook": "patient-view", "hookInstance": "x", "context": {"patientId": "1"}}
    request.update(fields)
    return json.dumps({k: v for k, v in request.items() if v is not None}).encode()


MALFORMED = [
    ("not JSON", b'{"hook": ', 400, "not valid JSON"),
    ("not UTF-8", b'\xff\xfe{}', 400, "not UTF-8"),
    ("a list", b"[]", 400, "a JSON object"),
    ("deep", b"[" * 99000 + b"]" * 99000, 400, "nests too deeply"),
    ("no hook", body(hook=None), 400, "names no 'hook'"),
    ("unknown hook", body(hook="encounter-start"), 400, "unknown hook 'encounter-start'"),
    ("another service's hook", body(hook="order-sign"), 400,
     "this service answers 'patient-view', not 'order-sign': POST it to /cds-services/consilium-order-sign"),
    ("empty", b"", 400, "the request body is empty"),
    ("no hookInstance", body(hookInstance=None), 400, "hookInstance"),
    ("no context", body(context=None), 400, "no 'context'"),
    ("no patientId", body(context={}), 400, "patientId"),
    ("prefetch a list", body(prefetch=[]), 400, "'prefetch' is an object"),
    ("prefetch value", body(prefetch={"patient": 3}), 400, "a FHIR resource, a Bundle or null"),
    ("nothing to read", body(), 400, "neither prefetch nor fhirServer"),
    ("fhirServer", body(fhirServer="ftp://x"), 400, "fhirServer"),
    ("fhirAuthorization", body(fhirServer="http://127.0.0.1:9", fhirAuthorization="x"), 400, "access_token"),
    ("too large", b"{" + b" " * 300000 + b"}", 413, "larger than"),
]


@pytest.mark.parametrize("name, raw, status, words", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_requests_get_a_json_error(keys, service, name, raw, status, words):
    answer = post(keys, service, "consilium-patient-view", None, raw=raw)
    assert answer.status_code == status and words in answer.json()["error"], answer.text
    assert "Traceback" not in answer.text


def test_mangled_requests_never_get_a_500(keys, service):
    """Requests mangled at random (seeded), each element dropped or replaced by an odd value: a
    JSON answer every time (cards, or a 400), never a 500 or a traceback."""
    import random
    rnd = random.Random(14)
    odd = [None, True, 0, -1, 1.5, "", "x", [], {}, [None], {"a": 1}, {"resourceType": "Bundle", "entry": 3},
           {"resourceType": "Patient"}, {"reference": 5}, {"coding": 3}, "2024-13-45"]

    def mangle(x, depth=0):
        if isinstance(x, dict):
            out = {}
            for k, v in x.items():
                r = rnd.random()
                if r < 0.06:
                    continue
                out[k] = rnd.choice(odd) if r < 0.12 else (mangle(v, depth + 1) if depth < 8 else v)
            return out
        if isinstance(x, list):
            return [rnd.choice(odd) if rnd.random() < 0.08 else mangle(v, depth + 1) for v in x]
        return x

    resources = example_resources()
    base = order_request("order-sign", resources, [draft("MedicationRequest", "cetuximab", medicationCodeableConcept={
        "coding": [{"system": "http://www.whocc.no/atc", "code": "L01FE01"}]})])
    statuses = set()
    for _ in range(100):
        answer = post(keys, service, "consilium-order-sign", mangle(base))
        statuses.add(answer.status_code)
        assert answer.status_code in (200, 400), answer.text
        assert "Traceback" not in answer.text and ("cards" in answer.json() or "error" in answer.json())
    assert statuses == {200, 400}


def test_browser_clients_may_call_from_another_origin(service):
    answer = httpx.options(service.url + "/cds-services/consilium-patient-view", headers={
        "Origin": "https://sandbox.cds-hooks.org", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert answer.status_code == 200 and answer.headers["access-control-allow-origin"] == "*"
    assert "authorization" in answer.headers["access-control-allow-headers"].lower()


def test_order_hooks_need_their_draft_orders_and_unknown_things_are_404(keys, service):
    request = {"hook": "order-sign", "hookInstance": "x", "context": {"patientId": PATIENT}}
    answer = post(keys, service, "consilium-order-sign", request)
    assert answer.status_code == 400 and answer.json()["error"] == (
        "an order-sign request's context needs 'draftOrders', a Bundle of the orders being written")
    assert post(keys, service, "consilium-nothing", request).status_code == 404
    assert httpx.get(service.url + "/nowhere").json()["status"] == 404
    assert httpx.put(service.url + "/cds-services").status_code == 405
    wrong = httpx.get(service.url + "/cds-services/consilium-patient-view")   # a service is POSTed to
    assert wrong.status_code == 405 and wrong.json()["error"] == (
        "GET is not allowed on /cds-services/consilium-patient-view: use POST")


# ---- reloading, and starting ----------------------------------------------------------------------

class Hammer:
    """Clients sending patient-view without pause, in threads, keeping every status they get."""

    def __init__(self, service: Service, clients: int = 3):
        self.url = service.url + "/cds-services/consilium-patient-view"
        self.body = json.dumps(patient_view(example_resources()))
        self.statuses: list[int] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.run) for _ in range(clients)]

    def run(self) -> None:
        with httpx.Client(timeout=60) as client:
            while not self.stop.is_set():
                self.statuses.append(client.post(self.url, content=self.body).status_code)

    def __enter__(self) -> "Hammer":
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for t in self.threads:
            t.join()


def prefetch_keys(service: Service) -> set[str]:
    return set(httpx.get(service.url + "/cds-services").json()["services"][0]["prefetch"])


def wait_for(condition, seconds: float = 30) -> None:
    deadline = time.time() + seconds
    while not condition():
        assert time.time() < deadline, "not within the time"
        time.sleep(0.2)


def bind_recurrence(text: str, resource: str) -> str:
    return text.replace('    label "Recurrent disease"\n',
                        f'    label "Recurrent disease"\n    fhir {resource} code LNC#1-8\n')


@pytest.mark.parametrize("how", ["watch", "sighup"])
def test_the_kb_reloads_without_dropping_requests(tmp_path, how):
    kb = tmp_path / "kb"
    shutil.copytree(ROOT / "kb", kb)
    running = Service("--insecure-no-auth", *(["--watch"] if how == "watch" else []), kb=kb)
    facts = kb / "facts.rules"
    text = facts.read_text(encoding="utf-8")
    try:
        banner = "".join(running.process.stderr.readline() for _ in range(4))
        assert "INSECURE" in banner and "never with real patients' data" in banner
        assert banner.splitlines()[0] == "!" * 78, banner   # no "consilium serve: " alone on a line first
        with Hammer(running) as hammer:
            facts.write_text(bind_recurrence(text, "DiagnosticReport"), encoding="utf-8")
            if how == "sighup":
                time.sleep(1.5)
                assert "diagnosticReport" not in prefetch_keys(running)   # nothing reloads by itself
                running.process.send_signal(signal.SIGHUP)
            wait_for(lambda: "diagnosticReport" in prefetch_keys(running))
            facts.write_text(text + "\nfact broken : \n", encoding="utf-8")   # a broken knowledge base...
            if how == "sighup":
                running.process.send_signal(signal.SIGHUP)
            time.sleep(2.5)
            assert "diagnosticReport" in prefetch_keys(running)               # ...leaves the last good one serving
        assert len(hammer.statuses) > 10 and set(hammer.statuses) == {200}, set(hammer.statuses)
    finally:
        err = running.stop()
    assert "knowledge base reloaded" in err and "did not reload" in err and "Traceback" not in err


def test_serve_asks_whom_to_trust():
    done = subprocess.run([sys.executable, "-m", "consilium", "serve", "--port", str(free_port())], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--trusted-issuers" in done.stderr


@pytest.mark.parametrize("options, words", [
    (["--port", "99999"], "--port 99999: a port is a whole number from 1 to 65535"),
    (["--port", "0"], "--port 0: a port is a whole number from 1 to 65535"),
    (["--port", "eighty"], "invalid int value: 'eighty'"),
    (["--max-request-bytes", "10"], "--max-request-bytes 10: give at least 1024 bytes"),
    (["--host", "no-such-host.invalid"], "--host 'no-such-host.invalid': not an address"),
    (["--public-url", "cds.example.org"], "--public-url 'cds.example.org': the service's base URL"),
    (["--audience", "ehr"], "--audience 'ehr': a URL"),
])
def test_bad_serve_options_are_one_clear_line_and_exit_2(options, words):
    """Never a port taken modulo 65536, a traceback, or a service that starts half-configured."""
    done = subprocess.run([sys.executable, "-m", "consilium", "serve", "--insecure-no-auth", *options], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and words in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and "INSECURE" not in done.stderr   # refused before anything starts


def test_a_missing_issuers_file_keys_file_or_knowledge_base_is_said_in_words_before_starting(tmp_path):
    issuers = tmp_path / "issuers.json"
    issuers.write_text(json.dumps({"issuers": [{"iss": ISSUER, "jwks_file": "missing.jwks"}]}))
    for options, words in [
            (["--trusted-issuers", str(tmp_path / "none.json")],
             f"cannot read the trusted issuers '{tmp_path / 'none.json'}': No such file or directory"),
            (["--trusted-issuers", str(issuers)],
             f"issuers[0]: cannot read its keys '{tmp_path / 'missing.jwks'}': No such file or directory"),
            ([str(tmp_path / "nokb"), "--insecure-no-auth"], "the knowledge base did not load")]:
        done = subprocess.run([sys.executable, "-m", "consilium", "serve", *options, "--port", str(free_port())],
                              cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert done.returncode == 2 and words in done.stderr, done.stderr
        assert "Errno" not in done.stderr and "Traceback" not in done.stderr and "INSECURE" not in done.stderr


def test_a_port_already_taken_is_said_before_starting():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "consilium", "serve", "--insecure-no-auth", "--port", str(port)],
                              cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and f"cannot listen on 127.0.0.1:{port}" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_the_readmes_curl_request_is_what_discovery_asks_and_gets_the_flat_cases_recommendations(keys, service):
    """The README's commands, as a new user types them: `consilium cds-request` writes a request
    whose prefetch has discovery's keys (patient: a Patient; the others: searchsets of their type)
    and the team's answers in the extension; posted, it gets the recommendations of the flat case."""
    import shlex
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("Call it with curl.", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    line = next(x for x in block.replace("\\\n", " ").splitlines() if x.startswith("consilium cds-request"))
    words = shlex.split(line.split(">", 1)[0])
    done = subprocess.run([sys.executable, "-m", "consilium", *words[1:]], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    request = json.loads(done.stdout)
    templates = httpx.get(service.url + "/cds-services").json()["services"][0]["prefetch"]
    assert set(request["prefetch"]) == set(templates)
    assert request["prefetch"]["patient"]["resourceType"] == "Patient"
    for key, value in request["prefetch"].items():
        kind = templates[key].split("?")[0].split("/")[0]
        if key != "patient":
            assert value["type"] == "searchset" and {e["resource"]["resourceType"] for e in value["entry"]} <= {kind}
    assert request["extension"]["consilium.facts"]["complete_resection_feasible"] is True
    assert "-H 'Content-Type: application/json' -d @request.json" in block
    got = recommendation_cards(post(keys, service, "consilium-patient-view", request))
    import yaml
    flat = consilium_kb().evaluate(yaml.safe_load((ROOT / "examples" / "liver_resectable_three_segments.yaml")
                                                  .read_text(encoding="utf-8")))
    assert got == {r.label for r in flat.recommendations}


def readme_block(after: str) -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme.split(after, 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]


def test_the_readmes_order_sign_request_gets_a_critical_card_per_draft_order(keys, service):
    import shlex
    block = readme_block("The order hooks, with the bundle's draft orders")
    line = next(x for x in block.splitlines() if x.startswith("consilium cds-request"))
    done = subprocess.run([sys.executable, "-m", "consilium", *shlex.split(line.split(">", 1)[0])[1:]], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    cards = post(keys, service, "consilium-order-sign", json.loads(done.stdout)).json()["cards"]
    assert [c["indicator"] for c in cards] == ["critical"] * 3
    egfr = next(c for c in cards if c["summary"] == "EGFR inhibitor proposed for a KRAS-mutant tumour")
    assert [s["label"] for s in egfr["suggestions"]] == [
        "Remove the draft order 'cetuximab' (MedicationRequest/proposed-anti-egfr)",
        "Replace 'cetuximab' (MedicationRequest/proposed-anti-egfr) by bevacizumab"]


def test_the_readmes_jwt_recipe_makes_a_key_the_service_trusts_and_a_token_good_for_one_call(tmp_path):
    """The README's recipe, run as written: its Python makes the key, the JWKS and issuers.json;
    the service started with them accepts its token once, then refuses it as a replay."""
    import re
    block = readme_block("To try it locally, make an issuer's key")
    script = block.split("python - <<'EOF'\n", 1)[1].split("\nEOF\n", 1)[0]
    subprocess.run([sys.executable, "-c", script], cwd=tmp_path, check=True, timeout=60)
    assert {p.name for p in tmp_path.iterdir()} == {"keys.jwks", "issuers.json", "key.pem"}
    running = Service("--trusted-issuers", str(tmp_path / "issuers.json"))
    try:
        maker = re.search(r"python -c '(.+?)'\)", block, flags=re.S).group(1)
        maker = maker.replace("http://localhost:8080", running.url)     # the port this test's service has
        jwt_text = subprocess.run([sys.executable, "-c", maker], cwd=tmp_path, capture_output=True, text=True,
                                  check=True, timeout=60).stdout.strip()
        url = running.url + "/cds-services/consilium-patient-view"
        headers = {"Authorization": f"Bearer {jwt_text}", "Content-Type": "application/json"}
        request = json.dumps(patient_view(example_resources()))
        first = httpx.post(url, content=request, headers=headers, timeout=60)
        assert first.status_code == 200 and first.json()["cards"], first.text
        again = httpx.post(url, content=request, headers=headers, timeout=60)
        assert again.status_code == 401 and "replay" in again.json()["error"]
    finally:
        assert "Traceback" not in running.stop()


def consilium_kb():
    import consilium
    return consilium.load_kb()


def test_cds_request_puts_the_bundles_draft_orders_into_the_order_hooks_context(keys, service):
    done = subprocess.run([sys.executable, "-m", "consilium", "cds-request", "examples/fhir/errors_to_avoid.json",
                           "--hook", "order-select"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    request = json.loads(done.stdout)
    drafts = [e["resource"] for e in request["context"]["draftOrders"]["entry"]]
    assert drafts and all(d["status"] == "draft" for d in drafts)
    assert request["context"]["selections"] == [f"{d['resourceType']}/{d['id']}" for d in drafts]
    cards = post(keys, service, "consilium-order-select", request).json()["cards"]
    assert {c["summary"] for c in cards} >= {"EGFR inhibitor proposed for a KRAS-mutant tumour"}


def test_a_stent_for_a_lesion_the_team_places_below_the_upper_rectum_is_replaced_by_the_other_three_ways(keys, service):
    """Where the lesion sits is the team's answer, not FHIR's: given in the request's extension, it
    lets the order card fire, and the card offers NCCN's three other ways to relieve the obstruction."""
    import yaml
    name = "peritoneal_p3_obstruction"
    team = yaml.safe_load((ROOT / "examples" / "fhir" / "team" / f"{name}.yaml").read_text())
    stent = draft("ServiceRequest", "stent", code=consilium_code("stenting"))
    request = order_request("order-select", record_without_proposals(name), [stent])
    assert post(keys, service, "consilium-order-select", request).json() == {"cards": []}   # level unknown: silent
    request["extension"] = {"consilium.facts": {**team, "upper_rectal_lesion": True}}
    assert post(keys, service, "consilium-order-select", request).json() == {"cards": []}   # upper rectum: fine
    request["extension"] = {"consilium.facts": {**team, "upper_rectal_lesion": False}}
    (card,) = post(keys, service, "consilium-order-select", request).json()["cards"]
    assert card["indicator"] == "warning" and card["selectionBehavior"] == "at-most-one"
    remove, *replace = card["suggestions"]
    assert remove["actions"][0] == {"type": "delete", "description": "Remove ServiceRequest/stent from the orders "
                                    "being written", "resourceId": ["ServiceRequest/stent"]}
    codes = [s["actions"][0]["resource"]["code"]["coding"][0]["code"] for s in replace]
    assert codes == ["resection-for-obstruction", "diverting-ostomy", "bypass"]
    for suggestion in replace:   # each applied, the orders trip nothing
        request["context"]["draftOrders"]["entry"][-1] = {"resource": suggestion["actions"][0]["resource"]}
        assert post(keys, service, "consilium-order-select", request).json() == {"cards": []}


def test_an_internal_error_is_a_json_500_and_one_line_in_the_log_never_a_traceback(capfd):
    """A fault of Consilium itself (here: a knowledge base that fails as the request reads it)
    answers 500 with a JSON error; the service's log gets one line, not uvicorn's traceback."""
    import uvicorn

    from consilium.engine.service.serve import Holder, create_app

    class Broken(Holder):
        def __init__(self):
            pass

        @property
        def kb(self):
            raise RuntimeError("the knowledge base broke")

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(Broken(), verifier=None), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started)
        request = patient_view(example_resources())
        answer = httpx.post(f"http://127.0.0.1:{port}/cds-services/consilium-patient-view", json=request, timeout=30)
        assert answer.status_code == 500 and "internal error" in answer.json()["error"]
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    err = capfd.readouterr().err
    assert "the knowledge base broke" in err and "Traceback" not in err
