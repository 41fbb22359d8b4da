"""Paths: includes stay inside the knowledge base's folder, and excerpts show only rule files (issue #12, part 7)."""

from __future__ import annotations

import os
import shutil

import pytest

import consilium
from conftest import DATA, run_cli

MINIMAL = 'source S "s"\nfact x : bool\n'


def kb_with(tmp_path, include: str, extra: dict[str, str] | None = None):
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "main.rules").write_text(f'include "{include}"\n' + MINIMAL)
    for name, text in (extra or {}).items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return folder


def codes(error) -> list[str]:
    return [d.code for d in error.value.diagnostics]


@pytest.mark.parametrize("include", ["../outside.rules", "./../outside.rules"])
def test_an_include_may_not_leave_the_folder(tmp_path, include):
    folder = kb_with(tmp_path, include, {"outside.rules": "fact y : bool\n"})
    with pytest.raises(consilium.KnowledgeBaseError) as error:
        consilium.load_kb(folder)
    assert codes(error) == ["include-outside"]
    assert "--allow-outside-includes" in error.value.diagnostics[0].hint
    kb = consilium.load_kb(folder, allow_outside_includes=True)  # unless the user allows it
    assert "y" in kb.facts


def test_an_absolute_include_of_a_system_file_is_refused_and_never_printed(tmp_path):
    folder = kb_with(tmp_path, "/etc/passwd")
    run = run_cli("check", folder)
    assert run.code == 1 and "include-outside" in run.err
    assert "root:" not in run.err + run.out
    allowed = run_cli("check", folder, "--allow-outside-includes")  # allowed, it is still not a rule file
    assert allowed.code == 1 and "not-rules" in allowed.err and "root:" not in allowed.err


def test_a_symlink_leading_out_of_the_folder_is_refused(tmp_path):
    folder = kb_with(tmp_path, "link.rules", {"secret.rules": "this is secret\n"})
    (folder / "link.rules").symlink_to(tmp_path / "secret.rules")
    run = run_cli("check", folder)
    assert run.code == 1 and "include-outside" in run.err and "this is secret" not in run.err


def test_a_symlink_loop_is_a_clear_error(tmp_path):
    folder = kb_with(tmp_path, "a.rules")
    (folder / "a.rules").symlink_to(folder / "b.rules")
    (folder / "b.rules").symlink_to(folder / "a.rules")
    run = run_cli("check", folder)
    assert run.code == 1 and "loop" in run.err and "internal error" not in run.err


def test_a_fifo_or_folder_is_not_a_rule_file(tmp_path):
    folder = kb_with(tmp_path, "pipe.rules")
    os.mkfifo(folder / "pipe.rules")
    with pytest.raises(consilium.KnowledgeBaseError) as error:
        consilium.load_kb(folder)
    assert "not a regular file" in error.value.diagnostics[0].message


def test_every_command_takes_the_option(tmp_path):
    folder = kb_with(tmp_path, "../outside.rules", {"outside.rules": "fact y : bool\n"})
    (tmp_path / "case.json").write_text('{"y": true}')
    assert run_cli("eval", folder, tmp_path / "case.json").code == 2
    assert run_cli("eval", folder, tmp_path / "case.json", "--allow-outside-includes").code == 0
    assert run_cli("test", folder, "--allow-outside-includes").code == 0


def test_the_bundled_kb_and_the_fixtures_stay_inside(tmp_path):
    shutil.copytree(DATA / "plans", tmp_path / "plans")
    assert consilium.load_kb(tmp_path / "plans").facts
    assert consilium.load_kb().facts


def test_a_root_that_is_not_a_rule_file_is_refused(tmp_path):
    (tmp_path / "case.json").write_text('{"kras": "mutant"}')
    (tmp_path / "cohort.jsonl").write_text('{"kras": "mutant"}\n')
    run = run_cli("eval", "--cohort", tmp_path / "cohort.jsonl", tmp_path / "case.json")  # the case where the KB goes
    assert run.code == 2 and "is not a rule file (*.rules)" in run.err and "syntax" not in run.err
    assert run_cli("check", "/etc/passwd").code == 2 and "root:" not in run_cli("check", "/etc/passwd").err


def test_names_that_cannot_be_looked_up_are_clear_errors(tmp_path):
    long = "a" * 5000
    for include in (long + ".rules", "a\\u0000b.rules"):
        folder = tmp_path / f"kb{len(include)}"
        folder.mkdir()
        text = f'include "{include}"\n' + MINIMAL
        (folder / "main.rules").write_text(text.replace("\\u0000", "\0"))
        run = run_cli("check", folder)
        expected = "include-not-found" if include.startswith("a" * 10) else "invisible character U+0000"
        assert run.code == 1 and expected in run.err and "internal error" not in run.err
    (tmp_path / "c.jsonl").write_text("{}\n")
    for args in (["check", long], ["eval", long + ".json"], ["eval", "--cohort", long + ".jsonl"],
                 ["eval", "--cohort", tmp_path / "c.jsonl", "-o", tmp_path / (long + ".jsonl")],
                 ["render", "-o", tmp_path / long], ["report", "-o", tmp_path / long],
                 ["schema", "result", "-o", tmp_path / long]):
        run = run_cli(*args)
        assert run.code == 2 and "internal error" not in run.err, args
