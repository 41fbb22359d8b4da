"""Case input: JSON and YAML, validated against the fact schema before any evaluation.

Fixtures in tests/data/cases/: `NAME.json|yaml` with `NAME.expect` listing `LINE:COL code`
per expected diagnostic; `valid.*` must pass. The knowledge base is tests/data/cases/main.rules.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

import consilium
from conftest import DATA, run_cli, run_process
from consilium.engine.lang.values import Duration

CASES = DATA / "cases"
BAD = sorted(p for p in CASES.iterdir() if p.suffix in (".json", ".yaml") and not p.stem.startswith("valid"))


@pytest.fixture(scope="module")
def kb():
    return consilium.load_kb(CASES)


def expectations(case: Path) -> list[tuple[int, int, str]]:
    lines = case.with_suffix(".expect").read_text().split("\n")
    return sorted((int(line.split()[0].split(":")[0]), int(line.split()[0].split(":")[1]), line.split()[1])
                  for line in lines if line.strip())


@pytest.mark.parametrize("case", BAD, ids=lambda p: p.name)
def test_bad_case_gets_exact_diagnostics(kb, case):
    with pytest.raises(consilium.CaseError) as caught:
        kb.evaluate_file(case)
    found = sorted((d.span.line, d.span.column, d.code) for d in caught.value.diagnostics)
    assert found == expectations(case)
    for d in caught.value.diagnostics:
        assert d.span.file.endswith(case.name)


@pytest.mark.parametrize("case", BAD, ids=lambda p: p.name)
def test_bad_case_in_the_cli_exits_2_without_traceback(case):
    run = run_cli("eval", CASES, case)
    assert run.code == 2
    assert "Traceback" not in run.out + run.err
    assert f"{case.name}:" in run.err and "error:" in run.err


def test_messages_name_the_fact_the_value_and_what_is_allowed(kb):
    with pytest.raises(consilium.CaseError) as caught:
        kb.evaluate_file(CASES / "unknown_enum_value.yaml")
    messages = [d.message for d in caught.value.diagnostics]
    assert messages[0] == "'wildtype' is not a value of 'kras'; expected one of {wild_type, mutant}"
    assert caught.value.diagnostics[0].hint == "did you mean 'wild_type'?"
    with pytest.raises(consilium.CaseError) as caught:
        kb.evaluate_file(CASES / "out_of_range.json")
    assert caught.value.diagnostics[0].message == \
        "'hepatectomy_segments' is 9 segments, outside its range [1 .. 8] segments"


def test_valid_yaml_case_is_typed(kb):
    result = kb.evaluate_file(CASES / "valid.yaml")
    assert result.case == {
        "kras": "mutant", "hepatectomy_segments": 3, "future_liver_remnant": 31, "dose": 25,
        "primary_symptoms": frozenset({"hemorrhage", "other"}), "bleeding": True,
        "scrt_start": dt.date(2024, 3, 1), "interval": Duration(days=42)}


def test_valid_json_case_with_null_is_unknown(kb):
    result = kb.evaluate_file(CASES / "valid.json")
    assert "bleeding" not in result.case  # null means unknown
    assert result.case["interval"] == Duration(months=2)
    assert result.case["hepatectomy_segments"] == 4  # 4.0 is a whole number


@pytest.mark.parametrize("raw,code", [
    ({"hepatectomy_segments": "3"}, "case-wrong-type"),      # text is not a number
    ({"hepatectomy_segments": True}, "case-wrong-type"),     # nor is a boolean
    ({"bleeding": 1}, "case-wrong-type"),                    # 1 is not true
    ({"kras": ["mutant"]}, "case-wrong-type"),
    ({"primary_symptoms": "hemorrhage"}, "case-wrong-type"),  # a set is a list
    ({"primary_symptoms": ["other", "other"]}, "case-wrong-type"),
    ({"future_liver_remnant": "31"}, "case-wrong-type"),
    ({"scrt_start": "01/03/2024"}, "case-wrong-type"),
    ({"interval": 42}, "case-wrong-type"),
    ({"interval": "25 months"}, "case-out-of-range"),
    ({"future_liver_remnant": -1}, "case-out-of-range"),
    ({"dose": float("nan")}, "case-wrong-type"),
], ids=lambda v: str(v))
def test_nothing_is_coerced_silently(kb, raw, code):
    with pytest.raises(consilium.CaseError) as caught:
        kb.evaluate(raw)
    assert [d.code for d in caught.value.diagnostics] == [code]


def test_api_accepts_units_and_iso_durations(kb):
    result = kb.evaluate({"future_liver_remnant": "31%", "interval": "P6W", "dose": "25 Gy"})
    assert result.case["future_liver_remnant"] == 31
    assert result.case["interval"] == Duration(days=42)


def test_top_level_list_through_a_subprocess(tmp_path):
    case = tmp_path / "case.json"
    case.write_text(json.dumps([1, 2]))
    run = run_process("eval", CASES, case)
    assert run.code == 2 and "Traceback" not in run.err and "[case-not-mapping]" in run.err


@pytest.mark.parametrize("name,text", [("e.json", ""), ("e.yaml", ""), ("e.yml", "# nothing yet\n"),
                                       ("e.json", " \n"), ("e.yaml", "---\n")])
def test_an_empty_case_file_is_an_error_in_json_and_yaml_alike(tmp_path, name, text):
    case = tmp_path / name
    case.write_text(text)
    run = run_cli("eval", CASES, case)
    assert run.code == 2 and "the case is empty" in run.err and "written {}" in run.err, run.err
    case.write_text("{}")  # a case that gives no fact
    assert run_cli("eval", CASES, case).code == 0


def test_an_empty_standard_input_is_an_error():
    done = subprocess.run([sys.executable, "-m", "consilium", "eval", str(CASES), "-"], input="",
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "<stdin>:1:1: error: the case is empty" in done.stderr


def test_many_unknown_facts_on_standard_input_are_all_placed_in_stdin(monkeypatch):
    # the count of those not shown named '-' as its file where every other line says <stdin>
    import io
    case = json.dumps({f"colour_{i}": 1 for i in range(25)}).encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(case)))
    run = run_cli("eval", CASES, "-")
    errors = [line for line in run.err.splitlines() if ": error: " in line]
    assert run.code == 2 and len(errors) == 21, run.err
    assert all(line.startswith("<stdin>:1:") for line in errors), errors[-1]
    assert "and 5 more facts the knowledge base does not declare" in errors[-1]


def test_missing_case_file():
    run = run_cli("eval", CASES, "no/such/case.json")
    assert run.code == 2 and "[file-not-found]" in run.err


@pytest.mark.parametrize("name,text", [
    ("deep.json", '{"kras": ' + "[" * 5000 + "]" * 5000 + "}"),
    ("deep.yaml", "kras: " + "[" * 5000 + "]" * 5000),
])
def test_absurdly_nested_case_is_a_clear_error(tmp_path, name, text):
    case = tmp_path / name
    case.write_text(text)
    run = run_cli("eval", CASES, case)
    assert run.code == 2 and "[case-malformed]" in run.err and "too deeply" in run.err
    assert max(len(line) for line in run.err.splitlines()) < 200  # a long line is shown as a window
