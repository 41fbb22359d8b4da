"""Shared helpers: where the test data lives, and running the CLI as a user would."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
KB = ROOT / "kb"
EXPECT = re.compile(r"#\s*expect:\s*(\d+):(\d+)\s+([a-z0-9-]+)")


@dataclass
class Run:
    code: int
    out: str
    err: str


def run_cli(*args: str) -> Run:
    """Run `consilium ARGS` in this process (fast), capturing what a user would see."""
    from consilium.engine.cli import main
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main([str(a) for a in args])
    return Run(code, out.getvalue(), err.getvalue())


def run_process(*args: str, cwd: Path | None = None) -> Run:
    """Run `python -m consilium ARGS` as a separate process, exactly as a shell would."""
    done = subprocess.run([sys.executable, "-m", "consilium", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd or ROOT, timeout=120)
    return Run(done.returncode, done.stdout, done.stderr)


def expected_diagnostics(*files: Path) -> list[tuple[str, int, int, str]]:
    """The `# expect: LINE:COL code` lines written in fixture files."""
    found = []
    for path in files:
        for match in EXPECT.finditer(path.read_text(encoding="utf-8")):
            found.append((path.name, int(match.group(1)), int(match.group(2)), match.group(3)))
    return sorted(found)


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    """Tests never read or write the user's cache of parsed knowledge bases."""
    import os
    os.environ["CONSILIUM_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    yield


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite the golden files: the DOT of tests/data/render/golden from the bundled "
                     "knowledge base, and the generated code of tests/data/codegen")


@pytest.fixture(scope="session")
def update_golden(request) -> bool:
    return request.config.getoption("--update-golden")


@pytest.fixture(scope="session")
def bundled_kb():
    import consilium
    return consilium.load_kb(KB)


@pytest.fixture(scope="module")
def spark():
    """A Spark session on local[2] for the SQL engines' tests, one per test module."""
    from consilium.engine.inputs.cohort_sql import spark_session
    session = spark_session("local[2]")
    yield session
    session.stop()


def cohort_rows(path: Path) -> list[dict]:
    """The rows of a cohort's JSON Lines output, each without its null columns."""
    with path.open() as handle:
        return [{k: v for k, v in json.loads(line).items() if v is not None} for line in handle]
