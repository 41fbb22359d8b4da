"""Generated code a person can read: golden files, the `codegen` command, and errors at the rule.

The Python a knowledge base is evaluated by is pinned, for tests/data/codegen/main.rules,
by golden files beside it (refreshed only with `pytest --update-golden`), so a change to
the code writer shows as a readable diff. An error raised inside generated code is
reported at the rule it was written for, never at a line of generated code.
"""

from __future__ import annotations

import re

import pytest

import consilium
from consilium.engine.lang.diagnostics import EvaluationError
from conftest import DATA, ROOT, run_cli

KB = DATA / "codegen"


@pytest.fixture
def codegen_kb(monkeypatch):
    monkeypatch.chdir(ROOT)  # spans, and so the comments, show paths from the checkout
    return consilium.load_kb("tests/data/codegen")


@pytest.mark.parametrize("pathway", [None, "surgery"], ids=["all", "surgery"])
def test_golden_generated_code(codegen_kb, pathway, update_golden):
    source = codegen_kb.generated_source(pathway)
    golden = KB / f"{pathway or 'main'}.py.txt"
    if update_golden:
        golden.write_text(source, encoding="utf-8")
    assert golden.exists(), f"no golden file {golden.name}: run pytest --update-golden"
    assert source == golden.read_text(encoding="utf-8"), f"the generated code changed: run pytest --update-golden " \
        f"and read the diff of {golden.relative_to(ROOT)}"


def test_generated_code_reads_like_the_rules(codegen_kb):
    source = codegen_kb.generated_source()
    # `operable` is used by two pathways: computed once, by decide and walk, and passed on
    assert "def decide_surgery(case, recs, warns, needs, operable):" in source
    assert "def walk_surgery(case, recs, warns, trace, undecided, plans, operable):" in source
    assert "    decide_surgery(case, recs, warns, needs, operable)" in source
    assert "# tests/data/codegen/main.rules:25  decide approach \"How many segments?\"" in source
    assert "    operable = " in source and "    segments = case.get('segments')" in source
    assert not re.search(r"\b[kfqr]\d+\b", source), "no positional names"
    compile(source, "generated", "exec")


def test_every_node_has_its_place_above_its_code(codegen_kb):
    source = codegen_kb.generated_source()
    for pathway in codegen_kb.pathways:
        for node in pathway.nodes:
            assert f"main.rules:{node.span.line}  {type(node).__name__.lower()} {node.id}" in source, node.id


def test_the_codegen_command_prints_one_pathway_or_all(monkeypatch):
    monkeypatch.chdir(ROOT)
    run = run_cli("codegen", "tests/data/codegen", "--pathway", "regimen")
    assert run.code == 0
    assert "def decide_regimen(" in run.out and "def walk_regimen(" in run.out
    assert "def decide_surgery(" not in run.out
    everything = run_cli("codegen", "tests/data/codegen")
    assert "def decide(case, *, validated=False):" in everything.out and "def walk(case):" in everything.out
    unknown = run_cli("codegen", "tests/data/codegen", "--pathway", "nope")
    assert unknown.code == 2 and "no pathway 'nope'" in unknown.err and "surgery, regimen" in unknown.err


def test_an_error_inside_generated_code_names_the_rule(tmp_path, monkeypatch):
    """An exception inside generated code (here from a date helper made to fail: a date that
    leaves the calendar is unknown, not an error, see test_dates.py) points at the `schedule`
    line of the rule file, for evaluate and decide alike, and the command line prints it as a
    diagnostic, without a traceback."""
    import datetime as dt

    from consilium.engine.evaluation.codegen import writer
    from consilium.engine.evaluation import plans

    def overflow(day, duration):
        if day > dt.date(9000, 1, 1):
            raise OverflowError("date value out of range")
        return writer.add_duration(day, duration)
    monkeypatch.setattr(plans, "add_duration", overflow)
    codegen_kb = consilium.load_kb("tests/data/codegen", use_cache=False)
    case = {"resectable": True, "remnant": 50, "segments": 5, "symptoms": [], "start": "9999-12-30",
            "second_date": "2024-01-01"}  # decide lays a plan out only to see whether an actual date is late
    schedule = next(n for n in codegen_kb.pathways[0].nodes if n.id == "sequence")
    for run in (codegen_kb.evaluate, codegen_kb.decide):
        with pytest.raises(EvaluationError) as caught:
            run(case)
        (diagnostic,) = caught.value.diagnostics
        assert diagnostic.code == "evaluation-failed"
        assert (diagnostic.span.file, diagnostic.span.line) == ("tests/data/codegen/main.rules", schedule.span.line)
        assert "<consilium" not in str(caught.value)
    path = tmp_path / "case.json"
    path.write_text('{"resectable": true, "remnant": 50, "segments": 5, "symptoms": [], "start": "9999-12-30"}')
    run = run_cli("eval", "tests/data/codegen", path)
    assert run.code == 2
    assert f"tests/data/codegen/main.rules:{schedule.span.line}:" in run.err and "evaluation-failed" in run.err
    assert "Traceback" not in run.err and "internal error" not in run.err


def test_the_readme_shows_generated_code_as_it_is():
    """The README's excerpt of generated code is the golden file's, line for line ('...' skips)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    [excerpt] = re.findall(r"```py\n(.*?)```", readme, flags=re.S)
    golden = (KB / "main.py.txt").read_text(encoding="utf-8").splitlines()
    at = 0
    for line in excerpt.splitlines():
        if line.strip() == "...":
            continue
        at = golden.index(line, at) + 1  # ValueError: the README shows a line the code does not have


def test_compiled_code_is_kept_in_the_store_it_is_given(tmp_path, monkeypatch):
    """The code objects of generated code go to the store the loader passes (the user's cache);
    a second load takes them from there; without a store nothing is kept."""
    from consilium.engine.evaluation.bytecode import compiled

    class Store(dict):
        reads = 0

        def read_entry(self, name):
            self.reads += 1
            return self.get(name)

        def write_entry(self, name, data):
            self[name] = data

    store = Store()
    first = compiled("x = 1\n", "<test>", store)
    assert len(store) == 1 and first.co_filename == "<test>"
    again = compiled("x = 1\n", "<test>", store)
    assert store.reads == 2 and again == first
    monkeypatch.setenv("CONSILIUM_CACHE_DIR", str(tmp_path))
    consilium.load_kb(KB)
    assert list(tmp_path.glob("consilium/code-*.marshal"))
    for entry in tmp_path.glob("consilium/code-*.marshal"):
        entry.unlink()
    consilium.load_kb(KB, use_cache=False)
    assert not list(tmp_path.glob("consilium/code-*.marshal"))
