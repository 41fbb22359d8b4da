"""The README stays true: its Python example runs, and its rule examples parse."""

from __future__ import annotations

import re

import pytest

from conftest import ROOT
from consilium.engine.lang.parse import parse_text

README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```(\w*)\n(.*?)```", README, flags=re.S)
RULE_BLOCKS = [text for lang, text in BLOCKS if not lang and re.match(
    r"(include|source|site|fact|define|pathway|safety|plan|scenario)\b", text)]


def test_python_example_runs(capsys, monkeypatch):
    [example] = [text for lang, text in BLOCKS if lang == "python"]
    monkeypatch.chdir(ROOT)
    exec(compile(example, "README.md", "exec"), {})  # noqa: S102 - the README's own example, run as a reader would
    out = capsys.readouterr().out
    assert "Simultaneous rectal and hepatic surgery (standard approach) recommended SUMMARY" in out
    assert "case-out-of-range 'hepatectomy_segments' is 12 segments" in out


@pytest.mark.parametrize("text", RULE_BLOCKS, ids=lambda t: t.split()[0] + ":" + t.split()[1])
def test_rule_examples_parse(text):
    tree, problems = parse_text("README.md", text)
    assert problems == [] and tree is not None


def test_every_construct_has_an_example():
    kinds = {text.split()[0] for text in RULE_BLOCKS}
    assert kinds == {"include", "source", "site", "fact", "define", "pathway", "safety", "plan", "scenario"}


def test_quick_start_has_exactly_two_commands():
    quick = README.split("## Quick start", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    assert [line.split("#")[0].strip() for line in quick.strip().splitlines()] == [
        "python3 dev.py demo", "python3 dev.py test"]
    assert "python3 dev.py test" in (ROOT / ".ci" / "run").read_text()


def test_the_demo_reads_a_case_given_from_another_folder(tmp_path, monkeypatch):
    # `python3 path/to/dev.py demo mycase.json` from the folder holding mycase.json: the commands
    # run in the project's folder, so the case must reach them as that folder's file.
    import importlib.util
    spec = importlib.util.spec_from_file_location("dev", ROOT / "dev.py")
    dev = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(dev)
    (tmp_path / "mycase.json").write_text("{}")
    monkeypatch.chdir(tmp_path)
    assert dev.case_path("mycase.json") == str((tmp_path / "mycase.json").resolve())
    assert dev.shown(ROOT / "out" / "demo") == str(ROOT / "out" / "demo")   # where its charts are, from here
    monkeypatch.chdir(ROOT)
    assert dev.case_path("examples/liver_workup_incomplete.json") == "examples/liver_workup_incomplete.json"
    assert dev.shown(ROOT / "out" / "demo") == "out/demo"
