"""The wheel: built, installed into a fresh virtualenv, and run from another folder.

This proves the grammar and the bundled knowledge base ship inside the wheel. It needs the
package index (for the dependencies), so it takes a while; it is marked slow.
"""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

import consilium

from conftest import ROOT


@pytest.mark.slow
def test_wheel_installs_and_runs_from_anywhere(tmp_path: Path):
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(dist), str(ROOT)],
                   check=True, capture_output=True)
    [wheel] = dist.glob("consilium-*.whl")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    bin_dir = env_dir / "bin"
    subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "--quiet", str(wheel)],
                   check=True, capture_output=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    check = subprocess.run([str(bin_dir / "consilium"), "check"], cwd=elsewhere, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    assert "main.rules: ok" in check.stdout and "consilium/kb" in check.stdout
    scenarios = subprocess.run([str(bin_dir / "consilium"), "test"], cwd=elsewhere, capture_output=True, text=True)
    assert scenarios.returncode == 0 and scenarios.stdout.strip().endswith("0 failed")
    case = elsewhere / "case.json"
    case.write_text('{"metastatic_sites": ["liver"], "complete_resection_feasible": false}')
    result = subprocess.run([str(bin_dir / "consilium"), "eval", "case.json", "--json"], cwd=elsewhere,
                            capture_output=True, text=True)
    assert result.returncode == 0 and '"conversion_chemotherapy"' in result.stdout
    grammar = subprocess.run([str(bin_dir / "python"), "-c",
                              "import consilium.engine.lang.parse as p; print(p.grammar_path())"],
                             cwd=elsewhere, capture_output=True, text=True)
    assert "site-packages" in grammar.stdout
    # one import package: nothing generic such as `engine` or `render` at the top level
    top = subprocess.run([str(bin_dir / "python"), "-c", "import engine"], cwd=elsewhere, capture_output=True,
                         text=True)
    assert top.returncode != 0 and "No module named 'engine'" in top.stderr
    version = subprocess.run([str(bin_dir / "python"), "-c", "import consilium; print(consilium.__version__)"],
                             cwd=elsewhere, capture_output=True, text=True)
    assert version.stdout.strip() == consilium.__version__
    # an auditor signing the installed bundled knowledge base is sent to a copy of their own
    signed = subprocess.run([str(bin_dir / "consilium"), "review", "sign", "staged_hepatectomy", "--by", "A",
                             "--verdict", "approved"], cwd=elsewhere, capture_output=True, text=True)
    assert signed.returncode == 2 and "installed inside Consilium" in signed.stderr and "--kb FOLDER" in signed.stderr
    assert not list((tmp_path / "venv").rglob("REVIEWS.toml"))
