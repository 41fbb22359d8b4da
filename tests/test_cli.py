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
    assert "SUMMARY  recommends nos. 1–15 above" in out
    assert "Liver metastases: what each source says" in out
    assert "  NCCN and JSCCR: agree (concordant): simultaneous resection, staged resection" in out
    assert "Peritoneal metastases" not in out  # a site the case does not have


def test_eval_text_reads_in_a_clinicians_words():
    out = run_cli("eval", KB, EXAMPLE).out
    body = out.split("\nTrace", 1)[0]
    # no rule or fact id where a clinician reads: the answers that led to a recommendation instead
    assert "via:" not in body and "hepatic_metastases_present" not in body and "staged_hepatectomy" not in body
    assert "     because: hepatic metastases → all four criteria met → in place → more than 3 segments" in body
    # the pathway's warning and the safety rule quote the same sentence: said once, with both origins
    assert body.count("Liver-first approach contraindicated: the primary tumour is bleeding or obstructing") == 2
    assert body.count("! CRITICAL") == 1
    assert ("said by both the pathway “Rectal cancer with hepatic metastases (clinical summary)” (SUMMARY) and "
            "the safety rule “Liver-first approach proposed although the primary tumour is bleeding or obstructing”"
            in body)
    # needs: what settles the most first; two facts that only lead to each other are one question
    needs = body.split("Still to find out", 1)[1].split("\n\n", 1)[0]
    assert needs.index("KRAS mutation status") < needs.index("All original sites amenable")
    assert "settles 2 open decisions" in needs.splitlines()[1]
    assert "  - Together: Recurrent disease and Selected for re-resection (they decide only together" in needs
    assert "still undecided" not in needs and "selected_for_re_resection" not in needs
    assert "if wild type: recommends: Addition of cetuximab or panitumumab" in needs
    # the plan's missing anchor, in words
    assert "not dated: the case does not give the end of short-course radiotherapy" in body
    assert ": unknown" not in body
    assert "proposed_resection_margin" not in body and "needs: Resection margin the proposed surgery aims at" in body


def test_eval_with_one_path_uses_the_bundled_kb():
    assert run_cli("eval", EXAMPLE).out == run_cli("eval", KB, EXAMPLE).out


def test_eval_trace_lists_every_step_with_spans_and_values():
    run = run_cli("eval", KB, EXAMPLE, "--trace")
    trace = run.out.split("Trace\n", 1)[1].splitlines()
    first = _line_of("decide hepatic_metastases_present ")
    assert trace[0].strip() == (f"1. kb/liver.rules:{first}:12  decide 'hepatic_metastases_present' read "
                                "metastatic_sites = {liver}: branch 1 (hepatic metastases) -> hepatic_management")
    resectability = next(line for line in trace if "decide 'resectability'" in line)
    assert "complete_resection_feasible = yes" in resectability and "future_liver_remnant = 38 %" in resectability
    approach = next(line for line in trace if "decide 'surgical_approach'" in line)
    assert approach.endswith("read hepatectomy_segments = 5 segments: otherwise -> staged_approaches")


def test_eval_json_says_each_warning_once_as_the_text_does():
    # the pathway's warning and the safety rule quote the same sentence: the text shows one
    # warning naming both; the JSON's merged_warnings says the same, its warnings one per rule
    text = run_cli("eval", KB, EXAMPLE).out.split("\nTrace", 1)[0]
    result = json.loads(run_cli("eval", KB, EXAMPLE, "--json").out)
    shown = [line.removeprefix("  ! ") for line in text.split("\nWarnings\n", 1)[1].split("\n\n", 1)[0].splitlines()
             if line.startswith("  ! ")]
    assert [(m["severity"].upper(), m["label"]) for m in result["merged_warnings"]] == \
        [tuple(line.split("  ", 1)) for line in shown]
    [merged] = result["merged_warnings"]
    assert merged["rules"] == ["liver_first_contraindicated", "liver_first_with_symptomatic_primary"]
    assert merged["sources"] == ["SUMMARY"]
    assert [(o["id"], o["kind"], o["source"]) for o in merged["origins"]] == [
        ("liver_first_contraindicated", "pathway", "SUMMARY"),
        ("liver_first_with_symptomatic_primary", "safety", "SUMMARY")]
    assert merged["quote"] in text and merged["severity"] == "critical"
    assert len(result["warnings"]) == 2  # one per rule, as before: the addition breaks no reader


def test_warnings_said_differently_stay_apart_and_the_most_severe_comes_first():
    from consilium.engine.evaluation.merged import merge_warnings
    from consilium.engine.evaluation.result import RuleWarning
    said = [RuleWarning("a", "Plan late", "info", "plan", None),
            RuleWarning("b", "Stop", "warning", "pathway", "NCCN", quote="Do  not do it."),
            RuleWarning("c", "Stop now", "critical", "safety", "NCCN", quote="do not do it."),
            RuleWarning("d", "Stop", "warning", "pathway", "ESMO", quote="Do not do it.")]
    merged = merge_warnings(said)
    assert [(m.severity, m.label, m.rules, m.sources) for m in merged] == [
        ("critical", "Stop now", ("b", "c"), ("NCCN",)),  # the same sentence of one source, the most severe's words
        ("warning", "Stop", ("d",), ("ESMO",)),           # another source saying it is another warning
        ("info", "Plan late", ("a",), ())]


def test_eval_json_is_the_documented_form():
    run = run_cli("eval", KB, EXAMPLE, "--json")
    result = json.loads(run.out)
    assert result["schema_version"] == "1.5"
    assert list(result) == ["schema_version", "knowledge_base", "case", "recommendations", "warnings",
                            "needs", "undecided", "by_source", "by_site", "plans", "unchecked", "trace", "identity",
                            "findings", "options", "contradictions", "choices", "merged_warnings"]
    [rec] = [r for r in result["recommendations"] if r["id"] == "staged_hepatectomy"]
    assert rec == {
        "id": "staged_hepatectomy",
        "label": "Staged approach: hepatectomy 3 months after rectal surgery (depending on disease progression)",
        "actions": ["staged_resection"], "modality": "option", "source": "SUMMARY",
        "section": "Treatment Strategy for Resectable Hepatic Metastases: Surgical Approach Options",
        "quote": "Hepatectomy 3 months after rectal surgery (depending on disease progression)",
        "references": [1], "note": None, "pathway": "hepatic_metastases",
        "path": ["hepatic_metastases_present", "hepatic_management", "resectability", "resectable_disease",
                 "primary_in_place", "both_sites", "surgical_approach", "staged_approaches", "staged_hepatectomy"]}
    assert [w["id"] for w in result["warnings"]] == ["liver_first_contraindicated",
                                                     "liver_first_with_symptomatic_primary"]
    assert result["warnings"][0]["severity"] == "critical"
    assert result["by_source"]["NCCN"] == {
        "title": "NCCN Clinical Practice Guidelines in Oncology: Rectal Cancer",
        "recommendations": ["nccn_liver_resectable"], "warnings": [], "silent": False}
    step = next(s for s in result["trace"] if s["node"] == "resectability")
    line = next(n for n, text in enumerate((KB / "liver.rules").read_text().splitlines(), 1)
                if text.strip().startswith("decide resectability "))
    assert step["span"]["file"].endswith("liver.rules") and step["span"]["line"] == line
    assert step["read"]["future_liver_remnant"] == 38
    liver = result["by_site"]["liver"]
    assert liver["present"] is True and liver["label"] == "Liver metastases"
    assert liver["sources"]["JSCCR"]["recommends"] == ["simultaneous_resection", "staged_resection"]
    assert {"sources": ["SUMMARY", "NCCN"], "relation": "concordant",
            "actions": ["liver_resection", "staged_resection"]} in liver["relations"]
    assert result["by_site"]["lung"]["present"] is False
    [plan] = result["plans"]
    assert plan["id"] == "perioperative" and plan["anchor_date"] is None
    assert result["case"]["primary_symptoms"] == ["hemorrhage"]


def test_evaluation_is_deterministic():
    once = run_cli("eval", KB, EXAMPLE, "--json", "--no-timestamp").out
    assert once == run_cli("eval", KB, EXAMPLE, "--json", "--no-timestamp").out
    assert json.loads(once)["identity"]["generated_at"] is None


def test_the_json_says_what_it_was_evaluated_with(monkeypatch):
    import consilium
    identity = json.loads(run_cli("eval", KB, EXAMPLE, "--json").out)["identity"]
    assert identity["name"] == "Management of metastatic rectal cancer"
    assert identity["consilium_version"] == consilium.__version__
    kb = consilium.load_kb(KB)
    assert identity["digest"] == kb.identity.digest and identity["files"] == len(kb.files)
    assert identity["generated_at"].endswith("Z")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    assert json.loads(run_cli("eval", KB, EXAMPLE, "--json").out)["identity"]["generated_at"] == "2026-01-01T00:00:00Z"


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


def test_a_result_made_by_the_evaluator_alone_has_no_identity():
    import consilium
    kb = consilium.load_kb(KB)
    raw = kb.evaluator.evaluate(kb.validate_case({"hepatectomy_segments": 2}))  # the evaluator alone
    assert raw.identity is None and raw.to_json()["identity"] is None
    assert kb.evaluate({"hepatectomy_segments": 2}).identity["digest"] == kb.identity.digest


def _line_of(start: str) -> int:
    """The line of kb/liver.rules that starts with these words (after its indentation)."""
    return next(n for n, text in enumerate((KB / "liver.rules").read_text().splitlines(), 1)
                if text.strip().startswith(start))


def test_each_command_parses_alone_as_among_all():
    """`consilium COMMAND ...` builds only that command's parser (start-up): its help, and what it
    makes of its arguments, are those of the parser with every command, which lists them all."""
    from contextlib import redirect_stdout
    from io import StringIO

    from consilium.engine import cli

    def shown(parser, args) -> str:
        out = StringIO()
        with redirect_stdout(out), pytest.raises(SystemExit):
            parser.parse_args(args)
        return out.getvalue()

    everything = cli._parser()
    listed = shown(everything, ["--help"])
    for command in cli.COMMANDS:
        assert f"    {command} " in listed or f"    {command}\n" in listed, command
        alone = cli._parser(command)
        assert shown(alone, [command, "--help"]) == shown(everything, [command, "--help"]), command
    args = ["eval", "kb", "case.yaml", "--json", "--trace"]
    assert vars(cli._parser("eval").parse_args(args)) == vars(everything.parse_args(args))
    assert cli._command_of(["frobnicate"]) is None and cli._command_of(["--help"]) is None


def test_version_says_which_consilium_this_is():
    import consilium
    run = run_process("--version")
    assert run.code == 0 and run.out.strip() == f"consilium {consilium.__version__}", run


def test_preview_on_a_port_already_taken_says_so_before_it_starts():
    # it printed its address, then uvicorn's "ERROR: [Errno 98] ...", and exited 3 (an internal error)
    import socket
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = run_process("preview", KB, "--port", port, "--no-browser")
    assert run.code == 2, run
    assert f"consilium preview: cannot listen on 127.0.0.1:{port}: Address already in use" in run.err, run.err
    assert "http://" not in run.err and "ERROR" not in run.err
