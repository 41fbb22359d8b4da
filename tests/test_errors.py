"""Bad rule files: each gets its exact diagnostic (code, line, column), never a traceback.

Fixtures live in one folder per phase (tests/data/parse, load, check, graph): each file, or
folder with a main.rules, says what it expects on `# expect: LINE:COL code` lines. Inputs that
cannot carry such a comment (an empty file, bytes that are not UTF-8, absurd nesting) are
generated here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import consilium
from conftest import DATA, KB, expected_diagnostics, run_cli, run_process
from consilium.engine.lang.load import display_path

PHASES = ("parse", "load", "check", "graph")
FIXTURES = [p for phase in PHASES for p in sorted((DATA / phase).iterdir()) if p.suffix == ".rules" or p.is_dir()]


def diagnostics_of(path: Path) -> list[tuple[str, int, int, str]]:
    with pytest.raises(consilium.KnowledgeBaseError) as caught:
        consilium.load_kb(path)
    return sorted((Path(d.span.file).name, d.span.line, d.span.column, d.code)
                  for d in caught.value.diagnostics if d.span)


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_fixture_reports_exactly_what_it_expects(fixture: Path):
    files = sorted(fixture.glob("*.rules")) if fixture.is_dir() else [fixture]
    expected = expected_diagnostics(*files)
    assert expected, f"{fixture.name} states no expectation"
    assert diagnostics_of(fixture) == expected


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_check_prints_diagnostics_with_caret_and_no_traceback(fixture: Path):
    run = run_cli("check", fixture)
    assert run.code == 1
    assert "Traceback" not in run.out + run.err
    first = run.err.splitlines()[0]
    assert ": error: " in first and first.rstrip().endswith("]")
    assert "^" in run.err


def test_json_format_gives_codes_and_positions():
    run = run_cli("check", DATA / "check" / "unknown_fact.rules", "--format", "json")
    import json
    report = json.loads(run.out)
    assert report["ok"] is False
    [diagnostic] = report["diagnostics"]
    assert diagnostic["code"] == "unknown-fact"
    assert (diagnostic["span"]["line"], diagnostic["span"]["column"]) == (7, 14)
    assert diagnostic["hint"] == "did you mean 'kras'?"


def test_unknown_keyword_suggests_the_keyword():
    run = run_cli("check", DATA / "parse" / "unknown_keyword.rules")
    assert "did you mean 'recommend'?" in run.err


def test_a_keyword_glued_to_more_letters_is_reported_as_the_whole_word():
    # `modality optional`: the lexer reads the modality 'option', then 'al'; the editor must
    # hear of 'optional', at its first letter, and of the modalities it could have written.
    run = run_cli("check", DATA / "parse" / "keyword_glued_to_a_longer_word.rules")
    first, _line, caret, hint = run.err.splitlines()[:4]
    assert first.endswith(":11:18: error: unknown keyword 'optional'; expected one of: 'avoid', 'consider', "
                          "'not', 'option', 'recommended', 'strongly', the end of the line [unknown-keyword]"), first
    assert caret.strip() == "^" * len("optional")
    assert hint.strip() == "hint: did you mean 'option'?"


def test_a_triple_quoted_string_left_open_is_reported_where_it_opens():
    run = run_cli("check", DATA / "parse" / "triple_quote_left_open.rules")
    first, _line, caret, hint = run.err.splitlines()[:4]
    assert first.endswith(':11:15: error: this """ string has no closing """: it runs on to line 13, '
                          'where the """ after \'note\' was meant to open another [unterminated-string]'), first
    assert caret.strip().startswith('^^^') and "did you mean" not in run.err
    assert hint.strip() == 'hint: close it with """ where its text ends'


def test_a_branch_without_its_arrow_gets_a_hint_showing_how_a_branch_is_written():
    run = run_cli("check", DATA / "parse" / "branch_without_arrow.rules")
    assert ":8:41: error: unexpected '\"3 or fewer\"'" in run.err, run.err
    assert "hint: a branch reads: when CONDITION -> TARGET \"label\" (is '->' missing?)" in run.err, run.err


def test_a_closed_triple_quoted_string_followed_by_a_stray_word_is_not_said_to_be_left_open(tmp_path):
    # the string's last line is one word ('resection"""'), which is no keyword: the string was closed
    path = tmp_path / "main.rules"
    path.write_text('source S "S"\nfact r : bool\npathway p "P" source S\n    recommend r1 "R"\n'
                    '        modality recommended\n        quote """Resection of both sites,\n'
                    '            resection""" junk\n')
    run = run_cli("check", path)
    assert ":7:26: error: unknown keyword 'junk'" in run.err and "no closing" not in run.err, run.err


def test_a_line_that_ends_too_soon_says_so_in_plain_words(tmp_path):
    rules = tmp_path / "main.rules"
    rules.write_text("fact broken : bool label\n")
    run = run_cli("check", rules)
    assert "1:25: error: unexpected end of the line; expected a quoted string [syntax]" in run.err


def generated(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "main.rules"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("data", [b"", b"\n\n   \n", b"# only a comment\n"], ids=["empty", "blank", "comment"])
def test_empty_file(tmp_path, data):
    assert diagnostics_of(generated(tmp_path, data)) == [("main.rules", 1, 1, "empty-file")]


def test_file_that_is_not_utf8(tmp_path):
    path = generated(tmp_path, b'fact a : bool\nfact b : bool\n    label "caf\xe9"\n')
    assert diagnostics_of(path) == [("main.rules", 3, 15, "not-utf8")]


@pytest.mark.parametrize("expression", [
    "(" * 1000 + "a" + ")" * 1000,
    " + ".join(["n"] * 1000) + " > 3",
    "not " * 1000 + "a",
], ids=["brackets", "long-sum", "nots"])
def test_expression_nested_1000_levels_is_a_clear_error(tmp_path, expression):
    path = generated(tmp_path, f"fact a : bool\nfact n : integer\ndefine x = {expression}\n".encode())
    [(name, line, column, code)] = diagnostics_of(path)
    assert (name, line, code) == ("main.rules", 3, "too-deep")
    run = run_process("check", path)
    assert run.code == 1 and "Traceback" not in run.err and "too-deep" in run.err


def test_checking_an_included_file_alone_names_the_knowledge_base_that_includes_it(tmp_path):
    # `consilium check kb/liver.rules`: its facts live in kb/facts.rules, so 96 errors; the last
    # line says which knowledge base the file belongs to, and how to check that instead.
    run = run_cli("check", KB / "liver.rules")
    assert run.code == 1 and "unknown-fact" in run.err
    assert run.err.rstrip().splitlines()[-1] == (
        f"note: {display_path(KB / 'liver.rules')} is a part of the knowledge base "
        f"{display_path(KB / 'main.rules')}, which includes it: check that (consilium check {display_path(KB)})")
    (tmp_path / "alone.rules").write_text("fact a : bool\ndefine b = c\n")
    assert "note:" not in run_cli("check", tmp_path / "alone.rules").err   # a file no main.rules includes


def test_missing_path_is_a_usage_error():
    run = run_cli("check", "no/such/folder")
    assert run.code == 2
    assert "no such file or folder" in run.err


def test_folder_without_main_rules(tmp_path):
    (tmp_path / "liver.rules").write_text("fact a : bool\n")
    run = run_cli("check", tmp_path)
    assert run.code == 1
    assert "[no-root]" in run.err and "liver.rules" in run.err


@pytest.mark.parametrize("fixture", ["clause_indented_too_little", "clause_indented_between_blocks",
                                     "clause_indented_too_deep", "clause_indented_with_tab"])
def test_indentation_hint_names_the_indentation_of_the_clauses_around(fixture: str):
    # The other clauses of the misindented line's rule are at 8 spaces: that is what to use.
    run = run_cli("check", DATA / "parse" / f"{fixture}.rules")
    assert run.code == 1
    [hint] = [line.strip() for line in run.err.splitlines() if line.strip().startswith("hint:")]
    assert hint in ("hint: indent it by 8 spaces, like the lines of its block",
                    "hint: indent it with spaces only: 8 spaces, like the lines of its block")


def test_a_file_indented_only_with_tabs_is_not_mixed(tmp_path: Path):
    spaced = (DATA / "parse" / "clause_indented_with_tab.rules").read_text(encoding="utf-8")
    tabbed = "\n".join("\t" + line if line.startswith("\tmodality") else line.replace("        ", "\t\t")
                       .replace("    ", "\t") for line in spaced.splitlines())
    (tmp_path / "tabs.rules").write_text(tabbed + "\n", encoding="utf-8")
    run = run_cli("check", tmp_path / "tabs.rules")
    assert "mixed-indentation" not in run.err
    assert "[missing-clause]" in run.err  # read as the author laid it out; the next phase speaks
