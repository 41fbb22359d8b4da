"""Scenario tests: the bundled knowledge base's pass, and a failing one explains itself."""

from __future__ import annotations

import json

from conftest import DATA, KB, run_cli


def test_bundled_scenarios_all_pass():
    run = run_cli("test", KB)
    assert run.code == 0, run.out
    assert run.out.strip().endswith(" passed, 0 failed")
    assert "FAIL" not in run.out


def test_bundled_scenarios_json(bundled_kb):
    run = run_cli("test", KB, "--format", "json")
    report = json.loads(run.out)
    assert report["failed"] == 0
    assert report["passed"] == len(bundled_kb.scenarios) >= 15


def test_failing_scenario_shows_expected_actual_and_the_diverging_step():
    run = run_cli("test", DATA / "scenarios")
    assert run.code == 1
    lines = run.out.splitlines()
    assert lines[0].endswith(
        "scenario 'wrong_expectation': Four segments, but the scenario expects simultaneous surgery")
    assert "main.rules:18:5: expected recommend simultaneous" in lines[1]
    assert lines[2].strip() == "actual: recommendations: staged"
    assert lines[3].strip() == ("diverged at tests/data/scenarios/main.rules:5:12: decide 'approach' "
                                "read segments = 4 segments; otherwise -> staged")
    assert lines[-1] == "0 passed, 1 failed"


def test_failing_finding_and_option_expectations_show_what_the_result_has():
    run = run_cli("test", DATA / "scenarios_advice")
    assert run.code == 1
    assert "expected finding f" in run.out and "actual: findings: none" in run.out
    assert "expected option r" in run.out and "actual: options: none" in run.out
