"""Static verification: every seeded finding at its line, with a case that really shows it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import consilium
from conftest import DATA, KB, expected_diagnostics, run_cli
from consilium.engine.analysis.verify import verify

SEEDED = DATA / "verify" / "main.rules"


@pytest.fixture(scope="module")
def kb():
    return consilium.load_kb(SEEDED)


@pytest.fixture(scope="module")
def findings(kb):
    return {f.code + ":" + f.subject: f for f in verify(kb)}


def test_each_seeded_finding_is_found_at_its_line(kb):
    found = sorted((Path(f.span.file).name, f.span.line, f.span.column, f.code) for f in verify(kb))
    assert found == expected_diagnostics(SEEDED)


def test_the_gap_case_falls_through(kb, findings):
    gap = findings["gap:approach"]
    assert gap.severity == "error" and gap.case == {"segments": 4}
    step = next(s for s in kb.evaluate(gap.case).trace if s.node == "approach")
    assert step.outcome.startswith("no branch holds")


def test_the_overlap_case_satisfies_both_branches(kb, findings):
    overlap = findings["overlap:remnant_check"]
    values = kb.validate_case(overlap.case)
    decision = next(n for n in kb.pathways[0].nodes if n.id == "remnant_check")
    assert [kb.value(b.condition, values) for b in decision.branches[:2]] == [True, True]


def test_conflict_and_discordance_cases_fire_both_rules(kb, findings):
    conflict, discordance = findings["conflict:no_egfr"], findings["discordance:b_no_egfr"]
    assert conflict.severity == "error" and discordance.severity == "info"
    assert {"egfr", "no_egfr"} <= set(kb.evaluate(conflict.case).recommendation_ids())
    assert {"egfr", "b_no_egfr"} <= set(kb.evaluate(discordance.case).recommendation_ids())


def test_unreachable_rules_have_no_case(findings):
    assert findings["unreachable:never"].case is None


def test_the_case_in_the_output_is_accepted_by_eval(tmp_path):
    run = run_cli("check", SEEDED, "--format", "json")
    assert run.code == 1
    report = json.loads(run.out)
    assert report["ok"] is False
    for finding in report["findings"]:
        if finding["case"] is not None:
            case = tmp_path / f"{finding['subject']}.json"
            case.write_text(json.dumps(finding["case"]))
            assert run_cli("eval", SEEDED, case).code == 0


def test_check_text_shows_the_case_and_exits_1():
    run = run_cli("check", SEEDED)
    assert run.code == 1
    assert 'main.rules:18:12: error: the decision \'approach\' has no branch for some cases' in run.err
    assert 'hint: a case that shows it: {"segments": 4}' in run.err
    assert "static checks: 2 errors, 5 warnings, 2 infos" in run.out


def test_waived_findings_are_shown_with_their_reason_and_do_not_fail(tmp_path):
    text = SEEDED.read_text()
    text = text.replace('decide approach "How many segments?"',
                        'decide approach "How many segments?"\n        waive gap "4 segments is left to the team"')
    text = text.replace('        when kras = mutant\n        quote "x"',
                        '        when kras = mutant\n        quote "x"\n        waive conflict "a test of waivers"')
    (tmp_path / "main.rules").write_text(text)
    run = run_cli("check", tmp_path)
    assert run.code == 0, run.err
    assert "error (waived): the decision 'approach'" in run.err
    assert "waived: 4 segments is left to the team" in run.err
    assert "2 waived" in run.out


def test_first_declares_an_overlap_intended(tmp_path):
    text = SEEDED.read_text().replace('decide remnant_check "Remnant?"', 'decide remnant_check "Remnant?" first')
    (tmp_path / "main.rules").write_text(text)
    codes = {f.code + ":" + f.subject for f in verify(consilium.load_kb(tmp_path))}
    assert "overlap:remnant_check" not in codes and "unreachable:remnant_check" in codes


def test_the_bundled_knowledge_base_is_clean(bundled_kb):
    assert [f for f in verify(bundled_kb) if not f.waived and f.severity != "info"] == []


def test_a_finding_in_a_copy_of_the_bundled_kb(tmp_path):
    import shutil
    shutil.copytree(KB, tmp_path / "kb")
    liver = tmp_path / "kb" / "liver.rules"
    liver.write_text(liver.read_text().replace(
        "        otherwise -> staged_approaches \"more than 3 segments\"",
        "        when hepatectomy_segments >= 3 -> staged_approaches \"3 or more segments\""))
    found = {(f.code, f.subject): f for f in verify(consilium.load_kb(tmp_path / "kb"))}
    overlap = found[("overlap", "surgical_approach")]
    assert overlap.case["hepatectomy_segments"] == 3
    assert ("gap", "surgical_approach") not in found  # 1-8 segments: every value is covered
