"""Coverage of the scenario tests: per file and in total, what no scenario reaches, --fail-under."""

from __future__ import annotations

import json

from conftest import KB, run_cli

SMALL = '''source S "S"
fact segments : integer segments in 1..8
fact kras : enum {wild_type, mutant}
pathway p "P" source S
    decide approach "How many segments?"
        when segments <= 3 -> simultaneous
        otherwise -> staged
    recommend simultaneous "Simultaneous"
        modality recommended
        quote "s"
    recommend staged "Staged"
        modality option
        when kras = wild_type
        quote "t"
scenario three "Three segments"
    given
        segments = 3
    expect recommend simultaneous
'''


def test_the_bundled_scenarios_reach_every_branch_and_rule():
    run = run_cli("test", KB, "--coverage", "--format", "json", "--fail-under", "100")
    assert run.code == 0
    total = json.loads(run.out)["coverage"]["total"]
    assert total["branches"]["percent"] == 100.0 and total["rules"]["percent"] == 100.0
    assert total["nodes"]["percent"] == 100.0


def test_what_no_scenario_reaches_is_listed_per_file(tmp_path):
    (tmp_path / "main.rules").write_text(SMALL)
    run = run_cli("test", tmp_path, "--coverage")
    assert run.code == 0
    lines = run.out.splitlines()
    assert lines[2].split()[1:] == ["2/3", "66.7%", "1/2", "50.0%", "1/2", "50.0%"]
    assert "main.rules:7:9: branch 2 of 'approach' (otherwise)" in run.out
    assert "main.rules:11:15: recommend 'staged'" in run.out


def test_fail_under_fails_below_the_threshold(tmp_path):
    (tmp_path / "main.rules").write_text(SMALL)
    run = run_cli("test", tmp_path, "--fail-under", "80")
    assert run.code == 1
    assert "coverage 57.1% is below --fail-under 80%" in run.out
    assert run_cli("test", tmp_path, "--fail-under", "50").code == 0
