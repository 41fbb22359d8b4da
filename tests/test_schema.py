"""The published JSON Schemas (issue #12, part 10): every example case and every scenario's result
validates against them, and what the case validator refuses for type, name or value the schema refuses too."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

import consilium
from conftest import DATA, ROOT, run_cli, run_process
from consilium.engine.inputs.case import core_loader
from consilium.engine.inputs.schema import case_schema, result_schema

EXAMPLES = sorted(p for p in (ROOT / "examples").iterdir() if p.suffix in (".json", ".yaml"))
CASES = DATA / "cases"


def read(path: Path):
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if path.suffix == ".json" else yaml.load(text, Loader=core_loader())


def validator(schema):
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


@pytest.fixture(scope="module")
def case_validator(bundled_kb):
    return validator(case_schema(bundled_kb.facts))


@pytest.fixture(scope="module")
def result_validator():
    return validator(result_schema())


def errors(v, instance) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in v.iter_errors(instance)]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_every_example_case_and_its_result_validate(example, bundled_kb, case_validator, result_validator):
    assert errors(case_validator, read(example)) == []
    result = bundled_kb.evaluate_file(example).to_json()
    assert errors(result_validator, json.loads(json.dumps(result))) == []


def test_every_scenario_result_validates(bundled_kb, result_validator):
    outcomes = consilium.run_scenarios(bundled_kb)
    assert len(outcomes) > 50
    for outcome in outcomes:
        assert errors(result_validator, json.loads(json.dumps(outcome.result.to_json()))) == [], outcome.scenario.id


def test_the_schema_refuses_what_the_validator_refuses(bundled_kb, case_validator):
    refused = [{"kras": "maybe"}, {"hepatectomy_segments": 12}, {"hepatectomy_segments": 2.5},
               {"hepatectomy_segments": "3"}, {"hepatectomy_segments": True}, {"future_liver_remnant": "31 Gy"},
               {"metastatic_sites": ["liver", "liver"]}, {"metastatic_sites": "liver"}, {"krass": "mutant"},
               {"recurrent_disease": "yes"}, {"recurrent_disease": 1}, {"scrt_end": "2024-02-30"},
               {"scrt_end": "01/03/2024"}]
    for case in refused:
        with pytest.raises(consilium.CaseError):
            bundled_kb.validate_case(case)
        assert errors(case_validator, case), case
    accepted = [{}, {"kras": None}, {"future_liver_remnant": "45 %"}, {"future_liver_remnant": 45.5},
                {"hepatectomy_segments": 3.0}, {"metastatic_sites": []}, {"scrt_end": "2024-02-29"}]
    for case in accepted:
        bundled_kb.validate_case(case)
        assert errors(case_validator, case) == [], case


def test_the_case_fixtures_agree_with_the_validator():
    kb = consilium.load_kb(CASES)
    v = validator(case_schema(kb.facts))
    for path in sorted(CASES.glob("valid.*")):
        assert errors(v, read(path)) == [], path.name
    for name in ("bool_as_text.yaml", "not_whole.yaml", "out_of_range.json", "unknown_enum_value.yaml",
                 "unknown_fact.json", "wrong_type.yaml", "wrong_unit.yaml", "yaml_yes_is_text.yaml",
                 "json_exponents.json", "list_at_top.json"):
        assert errors(v, read(CASES / name)), name


def test_the_commands_print_the_schemas(tmp_path):
    run = run_cli("schema", "case", CASES)
    assert run.code == 0
    schema = json.loads(run.out)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["hepatectomy_segments"]["anyOf"][0]["anyOf"][0] == {
        "type": "integer", "minimum": 1, "maximum": 8}
    assert schema["additionalProperties"] is False
    result = run_cli("schema", "result", "-o", tmp_path / "result.schema.json")
    assert result.code == 0 and json.loads((tmp_path / "result.schema.json").read_text())["title"] == "Consilium result"
    assert run_cli("schema", "case", tmp_path / "missing").code == 2
    assert run_process("schema", "nonsense").code == 2
