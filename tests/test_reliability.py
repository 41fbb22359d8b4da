"""The rest of the reliability campaign (issue #12, part 8), each as a user meets it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from conftest import KB, ROOT, run_cli, run_process

PATHWAY = '''source S "s"
fact d : number
pathway p "P" source S
    decide q "Q?"
        when CONDITION -> r
        otherwise -> end
    recommend r "R"
        modality recommended
        quote "q"
'''


def kb(tmp_path, text, name="kb"):
    folder = tmp_path / name
    folder.mkdir()
    (folder / "main.rules").write_text(text)
    return folder


def test_a_decision_stuck_on_division_by_zero_is_shown_with_the_reason(tmp_path):
    folder = kb(tmp_path, PATHWAY.replace("CONDITION", "d / 0 > 1"))
    (tmp_path / "case.json").write_text('{"d": 3}')
    run = run_cli("eval", folder, tmp_path / "case.json")
    assert run.code == 0
    assert "Undecided although the case gives every fact they read" in run.out
    assert "p/q" in run.out and "division by zero" in run.out
    (tmp_path / "empty.json").write_text("{}")
    needs = run_cli("eval", folder, tmp_path / "empty.json")  # a missing fact is a need, not this
    assert "Undecided although" not in needs.out and "Still to find out" in needs.out


def test_an_unknown_waive_code_is_an_error(tmp_path):
    folder = kb(tmp_path, 'source S "s"\nfact x : bool\n    waive unused_fakt "never read"\n')
    run = run_cli("check", folder)
    assert run.code == 1 and "'unused_fakt' is not a finding that can be waived" in run.err
    assert "did you mean 'unused_fact'?" in run.err


def test_cr_only_line_endings_read_like_lf(tmp_path):
    text = PATHWAY.replace("CONDITION", "d > 1")
    folder = kb(tmp_path, text)
    (folder / "main.rules").write_bytes(text.encode().replace(b"\n", b"\r"))
    run = run_cli("check", folder)
    assert run.code == 0 and "\r" not in run.out + run.err
    (folder / "main.rules").write_bytes(text.replace("when d", "when dd").encode().replace(b"\n", b"\r"))
    broken = run_cli("check", folder)
    assert "main.rules:5:14: error: no fact or definition 'dd'" in broken.err and "\r" not in broken.err


def test_one_is_singular():
    run = run_cli("render", KB, "--chart", "safety-1", "--format", "dot", "-o", tempfile.mkdtemp())
    assert "wrote 1 file to" in run.out
    folder = Path(tempfile.mkdtemp())
    (folder / "main.rules").write_text('source S "s"\nfact x : bool\n')
    assert "— 1 file, 1 source, 1 fact, 0 definitions" in run_cli("check", folder).out


def test_diff_of_git_revisions_leaves_no_temporary_folder(tmp_path):
    private = tmp_path / "tmp"  # its own temporary folder: other runs on the machine use /tmp too
    private.mkdir()
    done = subprocess.run([sys.executable, "-m", "consilium", "diff", "HEAD", "HEAD"], capture_output=True,
                          text=True, cwd=ROOT, env={**os.environ, "TMPDIR": str(private)}, timeout=300)
    if "neither a path nor a git revision" in done.stderr:
        pytest.skip("not a git checkout")
    assert done.returncode == 0, done.stderr
    assert list(private.glob("consilium-diff-*")) == []


def test_eval_reads_the_case_from_standard_input():
    def run(text, *args):
        return subprocess.run([sys.executable, "-m", "consilium", "eval", str(KB), "-", *args], input=text,
                              capture_output=True, text=True, cwd=ROOT)
    done = run(json.dumps({"kras": "mutant"}), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["case"] == {"kras": "mutant"}
    yaml_case = run("kras: no\n")  # YAML, by the 1.2 core schema: 'no' is text
    assert yaml_case.returncode == 2 and "<stdin>:1:1" in yaml_case.stderr and "'no' is not a value" in yaml_case.stderr


def test_a_long_value_is_not_echoed_whole(tmp_path):
    (tmp_path / "case.json").write_text(json.dumps({"kras": "x" * 1_000_000}))
    run = run_cli("eval", KB, tmp_path / "case.json")
    assert run.code == 2 and len(run.err) < 2000 and "(1,000,000 characters)" in run.err


def test_a_finding_with_a_hyphen_can_be_waived(tmp_path):
    folder = kb(tmp_path, 'source S "s"\nfact x : bool\n    waive unused_fact "kept for the next version"\n')
    run = run_cli("check", folder)
    assert run.code == 0 and "waived: kept for the next version" in run.err


@pytest.mark.parametrize("percent", ["101", "-1", "nan", "lots"])
def test_fail_under_is_a_percentage(percent):
    run = run_process("test", "--coverage", "--fail-under", percent)
    assert run.code == 2 and "from 0 to 100" in run.err


@pytest.mark.parametrize("text", ['{"kras": "\\ud800"}', '{"\\ud800": 1}',
                                  '{"metastatic_sites": ["liver", "\\udfff"]}'])
def test_a_lone_surrogate_is_a_clear_error_in_text_and_json(tmp_path, text):
    (tmp_path / "s.json").write_text(text)
    for args in ((), ("--json",)):
        run = run_process("eval", tmp_path / "s.json", *args)
        assert run.code == 2 and "internal error" not in run.err
        shown = run.out if args else run.err
        assert "lone UTF-16 surrogate" in shown
    assert json.loads(run_process("eval", tmp_path / "s.json", "--json").out)["ok"] is False
