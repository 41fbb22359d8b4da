"""The VS Code extension: its grammar is the language's, colours sample files right, and it packages.

The TextMate grammar is generated from grammar/consilium.lark (editors/vscode/generate_grammar.py);
a keyword added to the language and not to the grammar fails here. The grammar is tested on the
sample files with vscode-tmgrammar-test and the extension built into a .vsix with vsce, both
from npm (`npm ci` in editors/vscode; `.ci/run` provides node and npm). Without npm those two
tests are skipped, saying so.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT

VSCODE = ROOT / "editors" / "vscode"
NPM = shutil.which("npm")
needs_npm = pytest.mark.skipif(NPM is None, reason="npm is not installed (apt-get install npm)")


def _generator():
    spec = importlib.util.spec_from_file_location("generate_grammar", VSCODE / "generate_grammar.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_grammar_is_generated_from_the_language():
    committed = (VSCODE / "syntaxes" / "consilium.tmLanguage.json").read_text(encoding="utf-8")
    assert committed == _generator().text(), "run: python editors/vscode/generate_grammar.py"


def test_the_extension_declares_the_language_and_starts_the_server():
    package = json.loads((VSCODE / "package.json").read_text())
    [language] = package["contributes"]["languages"]
    assert language["extensions"] == [".rules"]
    assert package["contributes"]["configuration"]["properties"]["consilium.args"]["default"] == ["lsp"]
    assert "consilium.args" in (VSCODE / "extension.js").read_text()
    configuration = json.loads((VSCODE / "language-configuration.json").read_text())
    assert configuration["comments"]["lineComment"] == "#"


@pytest.fixture(scope="module")
def node_modules():
    if not (VSCODE / "node_modules" / ".package-lock.json").exists():
        subprocess.run([NPM, "ci", "--no-audit", "--no-fund"], cwd=VSCODE, check=True, capture_output=True,
                       timeout=600)
    return VSCODE / "node_modules"


@needs_npm
def test_the_grammar_colours_the_sample_files(node_modules):
    run = subprocess.run([NPM, "run", "--silent", "test:grammar"], cwd=VSCODE, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count("run successfuly") == len(list((VSCODE / "tests").glob("*.rules")))


@needs_npm
def test_the_extension_packages_into_a_vsix(node_modules, tmp_path: Path):
    vsix = tmp_path / "consilium-rules.vsix"
    run = subprocess.run(["npx", "vsce", "package", "--allow-missing-repository", "--out", str(vsix)],
                         cwd=VSCODE, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    names = zipfile.ZipFile(vsix).namelist()
    for wanted in ("extension/package.json", "extension/extension.js", "extension/language-configuration.json",
                   "extension/syntaxes/consilium.tmLanguage.json", "extension/LICENSE.txt"):
        assert wanted in names or wanted.replace("LICENSE.txt", "LICENSE") in names
    assert any(n.startswith("extension/node_modules/vscode-languageclient/") for n in names)
    assert not any(n.startswith("extension/tests/") for n in names)
