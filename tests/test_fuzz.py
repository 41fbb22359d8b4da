"""Fuzzing as a test: generated rule files and cases (tests/strategies.py), a fixed budget.

Properties: nothing but a `ConsiliumError` escapes loading (parse, lower, check, graphs,
code generation) or reading a case; every valid case gives the same answers through
`decide`, `evaluate` and the reference interpreter, and its `to_json` is JSON. The examples
are derandomized so that CI sees the same inputs every run (about two minutes on
one core); bench/fuzz.py runs the same properties for as long as it is given, on new inputs.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import consilium
from conftest import KB
from fuzzing import load, run_case
from strategies import cases, rule_files, valid_rule_files

BUDGET = settings(max_examples=700, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def folder():
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def test_rule_files_load_or_fail_cleanly_and_their_cases_agree(folder):
    @BUDGET
    @given(rule_files(), st.data())
    def run(text, data):
        kb = load(text, folder, verify=data.draw(st.integers(0, 40)) == 0)
        if kb is not None:
            for _ in range(data.draw(st.integers(1, 8))):
                run_case(kb, data.draw(cases(kb.facts)))
    run()


def test_cases_of_the_bundled_knowledge_base():
    kb = consilium.load_kb(KB)

    @settings(BUDGET, max_examples=2500)
    @given(cases(kb.facts))
    def run(raw):
        run_case(kb, raw)
    run()


def test_most_generated_rule_files_are_valid(folder):
    """The generator exercises evaluation, not only the checker: most files it draws load."""
    loaded = []

    @settings(BUDGET, max_examples=60)
    @given(valid_rule_files())
    def run(text):
        loaded.append(load(text, folder) is not None)
    run()
    assert sum(loaded) >= len(loaded) * 0.6, f"{sum(loaded)} of {len(loaded)} generated rule files load"


@pytest.mark.parametrize("name,case", [
    ("fact_read_in_a_sibling", {"kras": "9999-12-01", "sites": 115}),
    ("constant_condition", {}),
])
def test_what_the_fuzzer_found(name, case):
    """Rule files the long run (bench/fuzz.py) crashed on, kept as regression tests."""
    from conftest import DATA
    kb = consilium.load_kb(DATA / "fuzz" / name, use_cache=False)
    assert run_case(kb, case)


def test_the_long_run_runs_and_prints_its_row(tmp_path):
    """bench/fuzz.py, for a few inputs: it counts, finds nothing here, and prints the commit and
    the row docs/reliability.md's table of runs takes."""
    import json
    import subprocess
    import sys
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, str(root / "bench" / "fuzz.py"), "--inputs", "40", "--cases", "5",
                           "--round", "4", "--seed", "3", "--findings", str(tmp_path / "found.txt"),
                           "--summary", str(tmp_path / "summary.json")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["inputs"] >= 40 and summary["crashes"] == 0 and summary["code_changed_during_run"] is False
    assert summary["inputs"] == summary["rule_files"] + summary["cases"] and summary["commit"]
    row = done.stdout.strip().splitlines()[-1]
    assert row.startswith(f"| N | {summary['commit']} | `--inputs 40") and f"| {summary['inputs']:,} |" in row
