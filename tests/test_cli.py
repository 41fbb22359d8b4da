"""The `consilium` command as a user meets it: output, JSON form, exit codes, no tracebacks."""

from __future__ import annotations

import json

import pytest

from conftest import KB, ROOT, run_cli, run_process

EXAMPLE = ROOT / "examples" / "liver_five_segments_bleeding.yaml"


def test_check_bundled_kb_without_arguments():
    run = run_cli("check")
    assert run.code == 0
    assert "main.rules: ok" in run.out


def test_eval_text_shows_recommendations_with_sources_and_quotes():
    run = run_cli("eval", KB, EXAMPLE)
    assert run.code == 0
    out = run.out
    assert "2. Staged approach: hepatectomy 3 months after rectal surgery (depending on disease progression)  " \
           "[option · SUMMARY]" in out
    assert "“Hepatectomy 3 months after rectal surgery (depending on disease progression)”" in out
    assert "! CRITICAL  Liver-first approach contraindicated" in out
    assert "SUMMARY  recommends: curative_resection, staged_hepatectomy" in out
    assert "Liver metastases: what each source says" in out
    assert "  NCCN / JSCCR: concordant (liver_resection, simultaneous_resection, staged_resection)" in out
    assert "Peritoneal metastases" not in out  # a site the case does not have


def test_eval_with_one_path_uses_the_bundled_kb():
    assert run_cli("eval", EXAMPLE).out == run_cli("eval", KB, EXAMPLE).out


def test_eval_trace_lists_every_step_with_spans_and_values():
    run = run_cli("eval", KB, EXAMPLE, "--trace")
    trace = run.out.split("Trace\n", 1)[1].splitlines()
    assert trace[0].strip() == ("1. kb/liver.rules:33:12  decide 'hepatic_metastases_present' read "
                                "metastatic_sites = {liver}: branch 1 (hepatic metastases) -> hepatic_management")
    resectability = next(line for line in trace if "decide 'resectability'" in line)
    assert "complete_resection_feasible = yes" in resectability and "future_liver_remnant = 38 %" in resectability
    approach = next(line for line in trace if "decide 'surgical_approach'" in line)
    assert approach.endswith("read hepatectomy_segments = 5 segments: otherwise -> staged_approaches")


def test_eval_json_is_the_documented_form():
    run = run_cli("eval", KB, EXAMPLE, "--json")
    result = json.loads(run.out)
    assert result["schema_version"] == "1.1"
    assert list(result) == ["schema_version", "knowledge_base", "case", "recommendations", "warnings",
                            "needs", "by_source", "by_site", "plans", "unchecked", "trace"]
    [rec] = [r for r in result["recommendations"] if r["id"] == "staged_hepatectomy"]
    assert rec == {
        "id": "staged_hepatectomy",
        "label": "Staged approach: hepatectomy 3 months after rectal surgery (depending on disease progression)",
        "actions": ["staged_resection"], "modality": "option", "source": "SUMMARY",
        "section": "Treatment Strategy for Resectable Hepatic Metastases: Surgical Approach Options",
        "quote": "Hepatectomy 3 months after rectal surgery (depending on disease progression)",
        "references": [1], "note": None, "pathway": "hepatic_metastases",
        "path": ["hepatic_metastases_present", "hepatic_management", "resectability", "resectable_disease",
                 "surgical_approach", "staged_approaches", "staged_hepatectomy"]}
    assert [w["id"] for w in result["warnings"]] == ["liver_first_contraindicated",
                                                     "liver_first_with_symptomatic_primary"]
    assert result["warnings"][0]["severity"] == "critical"
    assert result["by_source"]["NCCN"] == {"title": "NCCN Clinical Practice Guidelines in Oncology: Rectal Cancer",
                                           "recommendations": ["nccn_liver_resectable"], "warnings": [], "silent": False}
    step = next(s for s in result["trace"] if s["node"] == "resectability")
    assert step["span"]["file"].endswith("liver.rules") and step["span"]["line"] == 40
    assert step["read"]["future_liver_remnant"] == 38
    liver = result["by_site"]["liver"]
    assert liver["present"] is True and liver["label"] == "Liver metastases"
    assert liver["sources"]["JSCCR"]["recommends"] == ["liver_resection", "simultaneous_resection", "staged_resection"]
    assert {"sources": ["SUMMARY", "NCCN"], "relation": "concordant",
            "actions": ["liver_resection", "staged_resection"]} in liver["relations"]
    assert result["by_site"]["lung"]["present"] is False
    [plan] = result["plans"]
    assert plan["id"] == "perioperative" and plan["anchor_date"] is None
    assert result["case"]["primary_symptoms"] == ["hemorrhage"]


def test_evaluation_is_deterministic():
    assert run_cli("eval", KB, EXAMPLE, "--json").out == run_cli("eval", KB, EXAMPLE, "--json").out


def test_help_documents_exit_codes():
    run = run_process("--help")
    assert run.code == 0
    for line in ("0  success", "1  findings", "2  usage or input errors"):
        assert line in run.out


def test_usage_errors_exit_2():
    assert run_process().code == 2
    assert run_process("frobnicate").code == 2
    run = run_cli("eval", KB, EXAMPLE, EXAMPLE)
    assert run.code == 2


def test_eval_of_a_broken_kb_is_an_input_error(tmp_path):
    (tmp_path / "main.rules").write_text("fact a : bool bool\n")
    run = run_cli("eval", tmp_path, EXAMPLE)
    assert run.code == 2 and "[syntax]" in run.err


@pytest.mark.parametrize("args", [
    ("check", "kb/liver.rules"),                       # a file out of its context: unknown names
    ("eval", "kb", "README.md"),                       # prose is not a case
    ("eval", "kb", "pyproject.toml"),
    ("test", "tests/data/graph/cycle.rules"),
    ("check", "examples"),
])
def test_odd_inputs_never_show_a_traceback(args):
    run = run_process(*args)
    assert run.code in (1, 2)
    assert "Traceback" not in run.out + run.err
    assert "internal error" not in run.err
