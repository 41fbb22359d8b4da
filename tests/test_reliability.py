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
    assert "Undecided, and no missing fact could decide them" in run.out
    assert "p/q" in run.out and "division by zero" in run.out
    # in JSON, beside the needs (which are empty: no fact would decide it), not only in the trace
    result = json.loads(run_cli("eval", folder, tmp_path / "case.json", "--json").out)
    assert result["needs"] == [] and result["recommendations"] == []
    assert [(u["pathway"], u["node"], u["kind"], u["span"]["line"], u["reason"]) for u in result["undecided"]] == [
        ("p", "q", "decide", 4, "a condition has no value for this case (a division by zero)")]
    (tmp_path / "empty.json").write_text("{}")
    needs = run_cli("eval", folder, tmp_path / "empty.json")  # a missing fact is a need, not this
    assert "Undecided although" not in needs.out and "Still to find out" in needs.out
    assert json.loads(run_cli("eval", folder, tmp_path / "empty.json", "--json").out)["undecided"] == []


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


WHOLE = ["3.0", "3e0", "30e-1", "3.000"]   # the number three, written as JSON writes numbers
NOT_WHOLE = ["3.5", "3.01", "35e-1"]


def test_a_whole_number_fits_an_integer_fact_in_every_input_alike(tmp_path):
    """The README's "nothing is coerced" is about kinds (text is not a number, 1 is not true,
    3.5 is not an integer), not about how a number is spelled: JSON, YAML and JSON Schema have
    one kind of number, and 3.0 is three. So every input takes 3.0 for an integer fact and
    refuses 3.5, the same way: a case file (JSON, YAML), the API, a JSON Lines, CSV or Parquet
    cohort, and the published case schema."""
    import jsonschema

    import consilium
    from consilium.engine.inputs.schema import case_schema
    cases = ROOT / "tests" / "data" / "cases"
    facts = consilium.load_kb(cases)
    schema = jsonschema.Draft202012Validator(case_schema(facts.facts))
    for text, whole in [*((t, True) for t in WHOLE), *((t, False) for t in NOT_WHOLE)]:
        (tmp_path / "c.json").write_text('{"hepatectomy_segments": %s}' % text)
        (tmp_path / "c.yaml").write_text("hepatectomy_segments: %s\n" % text)
        (tmp_path / "c.jsonl").write_text('{"hepatectomy_segments": %s}\n' % text)
        (tmp_path / "c.csv").write_text("hepatectomy_segments\n%s\n" % text)
        seen = {}
        for name in ("c.json", "c.yaml"):
            run = run_cli("eval", cases, tmp_path / name, "--json")
            seen[name] = run.code == 0 and json.loads(run.out)["case"]["hepatectomy_segments"] == 3
        for name in ("c.jsonl", "c.csv"):
            run = run_cli("eval", cases, "--cohort", tmp_path / name, "--jobs", "1")
            seen[name] = run.code == 0 and "error" not in json.loads(run.out)
        seen["schema"] = schema.is_valid(json.loads('{"hepatectomy_segments": %s}' % text))
        assert seen == dict.fromkeys(seen, whole), (text, seen)
        if not whole:
            assert "is a whole number, not" in run_cli("eval", cases, tmp_path / "c.yaml").err
    for value, whole in [(3.0, True), (3.5, False)]:
        try:
            facts.evaluate({"hepatectomy_segments": value})
            accepted = True
        except consilium.CaseError:
            accepted = False
        assert accepted is whole
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq
    pq.write_table(pa.table({"hepatectomy_segments": [3.0, 3.5]}), tmp_path / "c.parquet")
    run = run_cli("eval", cases, "--cohort", tmp_path / "c.parquet", "--jobs", "1")
    rows = [json.loads(line) for line in run.out.splitlines()]
    assert "error" not in rows[0] and "is a whole number, not 3.5" in rows[1]["error"]


def test_a_folder_named_consilium_that_shadows_the_package_is_named(tmp_path, monkeypatch):
    """`python -m consilium` in a folder holding a `consilium` folder: with an editable install
    that folder is imported instead, and the LSP used to blame a missing extra."""
    import types

    from consilium.engine import cli
    assert cli.shadowing_folder() is None  # the package these tests run
    (tmp_path / "consilium").mkdir()
    fake = types.ModuleType("consilium")
    fake.__path__ = [str(tmp_path / "consilium")]
    monkeypatch.setitem(sys.modules, "consilium", fake)
    assert cli.shadowing_folder() == str(tmp_path / "consilium")
    assert "run it from another folder" in cli.shadow_message()
    monkeypatch.undo()
    for command in (["lsp"], ["check"]):  # for real: what happens depends on how Consilium is installed
        done = subprocess.run([sys.executable, "-m", "consilium", *command], cwd=tmp_path, input="",
                              capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            assert done.returncode == 2 and f"'{tmp_path / 'consilium'}' was imported" in done.stderr, done.stderr
        assert "internal error" not in done.stderr and "is not installed" not in done.stderr


def test_a_huge_number_is_shown_short_in_messages(tmp_path):
    (tmp_path / "c.json").write_text('{"future_liver_remnant": 1e400, "hepatectomy_segments": %s.5}' % ("7" * 200))
    run = run_cli("eval", KB, tmp_path / "c.json")
    assert run.code == 2 and "'future_liver_remnant' is 1E+400 %, outside its range" in run.err
    assert "is a whole number, not 777777777777777777777777… (202 characters)" in run.err
    assert max(len(line) for line in run.err.splitlines()) < 200


def test_a_digit_of_another_script_is_not_a_number(tmp_path):
    folder = kb(tmp_path, PATHWAY.replace("CONDITION", "d <= ３"))
    run = run_cli("check", folder)
    assert run.code == 1 and "main.rules:5:19: error: unexpected character '３': a digit of another script" in run.err
    assert "0-9" in run.err


def test_an_unclosed_triple_quote_says_so(tmp_path):
    folder = kb(tmp_path, PATHWAY.replace("CONDITION", "d > 1").replace('quote "q"', 'quote """q'))
    run = run_cli("check", folder)
    assert run.code == 1 and 'main.rules:9:15: error: this """ string has no closing """' in run.err
    assert 'close it with """' in run.err and "on the same line" not in run.err


def test_a_csv_row_against_a_header_of_one_column_says_column(tmp_path):
    (tmp_path / "c.csv").write_text("kras\nmutant,3\n")
    run = run_cli("eval", KB, "--cohort", tmp_path / "c.csv", "--jobs", "1")
    assert run.code == 1 and "the row has 2 cells where the header has 1 column: a cell too many" in run.out


@pytest.mark.parametrize("character, name", [("\u202e", "U+202E (right-to-left override)"),
                                             ("\u2066", "U+2066 (left-to-right isolate)"),
                                             ("\x00", "U+0000"), ("\x1b", "U+001B")])
@pytest.mark.parametrize("where", ["quote", "comment"])
def test_invisible_characters_in_a_rule_file_are_an_error_shown_visibly(tmp_path, character, name, where):
    """Trojan Source: a text-direction control in a quote or a comment makes the line show other
    text than it holds; a NUL or an escape in a quote hides or rewrites what a terminal shows."""
    text = PATHWAY.replace("CONDITION", "d > 1")
    text = text.replace('quote "q"', f'quote "a{character}b"') if where == "quote" else \
        text.replace("fact d : number", f"fact d : number  # a{character}b")
    folder = kb(tmp_path, text)
    run = run_cli("check", folder)
    line, column = (9, 17) if where == "quote" else (2, 21)
    assert run.code == 1 and f"main.rules:{line}:{column}: error: an invisible character {name}" in run.err, run.err
    assert character not in run.err and "a\ufffdb" in run.err  # the excerpt shows a mark in its place


@pytest.mark.parametrize("rule", [[], ["simultaneous_surgery"]])
def test_explain_with_a_mistyped_knowledge_base_says_so_as_eval_does(tmp_path, rule):
    """`consilium explain kbx case.yaml` (kbx mistyped): the missing knowledge base is named, as by `eval`,
    rather than `kbx` read as the case and the case as a rule."""
    case = tmp_path / "case.yaml"
    case.write_text((ROOT / "examples" / "liver_five_segments_bleeding.yaml").read_text())
    missing = tmp_path / "kbx"
    evaluated = run_cli("eval", missing, case)
    explained = run_cli("explain", missing, case, *rule)
    assert evaluated.code == explained.code == 2
    assert f"no such file or folder: '{missing}'" in explained.err and "cannot read the case" not in explained.err
    assert explained.err == evaluated.err
    # a case and a rule, without a knowledge base, are still read as such
    assert run_cli("explain", case, "simultaneous_surgery").code == 0
    assert run_cli("explain", KB, case, "simultaneous_surgery").code == 0
