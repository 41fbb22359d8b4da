"""Start-up: a short command imports only what it uses (no Z3, networkx, graphviz, Lark, or the
service's and editors' libraries on a cached load)."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import KB, ROOT

HEAVY = ("z3", "networkx", "graphviz", "lark", "yaml", "starlette", "pygls", "httpx", "fhirpathpy", "jwt")

_SHOW = """
import json, sys
{code}
print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))
"""


def _imported(code: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", _SHOW.format(code=code, heavy=HEAVY)], capture_output=True,
                          text=True, cwd=ROOT, timeout=60, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def test_importing_the_api_imports_no_heavy_library():
    assert _imported("import consilium") == []


def test_evaluating_a_case_from_the_cache_parses_nothing_and_proves_nothing():
    load = f"import consilium; consilium.load_kb({str(KB)!r})"
    _imported(load)  # fills the cache (the tests' own, see conftest)
    case = ROOT / "examples" / "liver_resectable_three_segments.yaml"
    evaluate = f"{load}.evaluate_file({str(case)!r})"
    assert _imported(evaluate) == ["yaml"]  # a YAML case is read with PyYAML, and that is all



def test_the_eval_command_loads_no_more_than_the_api():
    load = f"import consilium; consilium.load_kb({str(KB)!r})"
    _imported(load)  # fills the cache
    case = ROOT / "examples" / "liver_resectable_three_segments.yaml"
    run = f"import consilium.engine.cli as cli; cli.main(['eval', {str(KB)!r}, {str(case)!r}])"
    assert _imported(run) == ["yaml"]


# What `consilium eval` of one JSON case imports no longer, the cache warm: the other commands'
# modules, the service's (uuid), the checker (a cached knowledge base is checked already), the
# parser, YAML, and the libraries of the analyses, charts, services and SQL engines.
NOT_FOR_A_JSON_CASE = (
    "yaml", "lark", "z3", "networkx", "graphviz", "starlette", "uvicorn", "httpx", "pygls", "jwt", "fhirpathpy",
    "duckdb", "pyarrow", "pyspark", "uuid", "consilium.engine.cli_cds", "consilium.engine.cli_codegen",
    "consilium.engine.cli_editors", "consilium.engine.cli_fmt", "consilium.engine.cli_schema",
    "consilium.engine.cli_review", "consilium.engine.cli_sql", "consilium.engine.cli_render",
    "consilium.engine.service.request", "consilium.engine.service.serve", "consilium.engine.lang.check",
    "consilium.engine.lang.check_expr", "consilium.engine.lang.parse", "consilium.engine.lang.lower",
    "consilium.engine.lang.graph", "consilium.engine.evaluation.sql", "consilium.engine.analysis.verify")


def test_eval_of_a_json_case_imports_only_what_it_uses():
    """`consilium eval` of a JSON case, as a process (`python -m consilium`), the cache warm: none of
    the modules above is imported, and the result is printed."""
    case = ROOT / "examples" / "liver_workup_incomplete.json"
    code = _SHOW.format(code=f"import runpy, sys; sys.argv = ['consilium', 'eval', {str(KB)!r}, {str(case)!r}]\n"
                             "try:\n    runpy.run_module('consilium', run_name='__main__')\n"
                             "except SystemExit as stop:\n    assert stop.code == 0, stop.code",
                        heavy=NOT_FOR_A_JSON_CASE)
    subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60, check=True)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60,
                          check=True)
    assert "recommend" in done.stdout.lower()  # it did evaluate the case
    assert json.loads(done.stdout.splitlines()[-1]) == []


def test_a_repeated_eval_runs_no_process_and_writes_nothing():
    """Once the parse and what a result's identity needs are kept, `consilium eval` neither runs git
    (subprocess) nor writes a cache entry (tempfile), nor makes a hint (difflib)."""
    case = ROOT / "examples" / "liver_resectable_three_segments.yaml"
    run = f"import consilium.engine.cli as cli; cli.main(['eval', {str(KB)!r}, {str(case)!r}])"
    code = _SHOW.format(code=run, heavy=("subprocess", "tempfile", "difflib"))
    for _ in range(2):  # the first fills the caches; git may refresh its index the first time it looks
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60, check=True)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60,
                          check=True)
    assert json.loads(done.stdout.splitlines()[-1]) == []


def test_a_repeated_duckdb_cohort_builds_no_query(tmp_path):
    """The query `eval --cohort --engine duckdb` builds is kept in the cache: a second run neither
    imports sqlglot nor builds, and writes the rows the first wrote (and a run without the cache)."""
    cohort = tmp_path / "cohort.jsonl"
    cohort.write_text('{"kras": "mutant", "peritoneal_pci": 3}\n{broken\n{"liver_resectable": true, "kras": 7}\n')
    decision = ROOT / "bench" / "decision"

    def run(out, env=None) -> list[str]:
        code = _SHOW.format(code="import runpy, sys; sys.argv = ['consilium', 'eval', "
                                 f"{str(decision)!r}, '--cohort', {str(cohort)!r}, '-o', {str(out)!r}, "
                                 "'--engine', 'duckdb']\ntry:\n    runpy.run_module('consilium', run_name='__main__')\n"
                                 "except SystemExit as stop:\n    assert stop.code == 1, stop.code",
                            heavy=("sqlglot", "consilium.engine.evaluation.sql", "consilium.engine.inputs.sql_stage"))
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120,
                              check=True, env=env)
        return json.loads(done.stdout.splitlines()[-1])

    import os
    fresh = {**os.environ, "CONSILIUM_CACHE_DIR": str(tmp_path / "cache")}  # other tests may have kept this query
    assert run(tmp_path / "first.jsonl", env=fresh) != []  # built, and kept
    assert run(tmp_path / "second.jsonl", env=fresh) == []
    assert run(tmp_path / "off.jsonl", env={**fresh, "CONSILIUM_CACHE": "off"}) != []
    first = (tmp_path / "first.jsonl").read_text()
    rows = [json.loads(line) for line in first.splitlines()]
    assert rows[0]["recommendations"] == ["bevacizumab", "crs_hipec"] and rows[1]["error"].startswith("not valid JSON")
    assert rows[2]["error"].startswith("'kras' is one of")
    assert (tmp_path / "second.jsonl").read_text() == first == (tmp_path / "off.jsonl").read_text()
