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
