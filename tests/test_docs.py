"""The contributor's documents stay true: the changelog names the result schema the code writes,
and the architecture page names only files that exist."""

from __future__ import annotations

import re

from conftest import ROOT

import consilium

FENCED = re.compile(r"```.*?```", re.S)
PATH = re.compile(r"`((?:engine|render|tests|bench|grammar|kb|docs|consilium)/[\w./-]*)`")


def test_the_newest_changelog_entry_names_the_schema_the_code_writes():
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", text, re.M)
    assert headings, "CHANGELOG.md has no release heading"
    assert headings[0].endswith(f"result schema {consilium.SCHEMA_VERSION}"), headings[0]
    released = [h.split(" ")[0] for h in headings if not h.startswith("Unreleased")]
    assert released[0] == consilium.__version__  # the version this code says it is has its entry


def test_every_file_the_architecture_page_names_exists():
    text = FENCED.sub("", (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8"))
    named = sorted(set(PATH.findall(text)))
    assert len(named) > 30
    assert [p for p in named if not (ROOT / p).exists()] == []


def test_the_licence_is_the_one_pyproject_declares():
    assert "Apache-2.0" in (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    licence = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in licence and "Version 2.0, January 2004" in licence
    assert "END OF TERMS AND CONDITIONS" in licence  # the full text, not a pointer to it


def test_the_readme_documents_every_field_of_the_result_json_and_its_version(bundled_kb):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## The result's JSON form", 1)[1].split("\n## ", 1)[0]
    documented = re.findall(r"^\| `(\w+)` \|", section, re.M)
    result = bundled_kb.evaluate_file(ROOT / "examples" / "liver_five_segments_bleeding.yaml").to_json()
    assert documented == list(result)
    assert f"schema_version `{consilium.SCHEMA_VERSION}`" in section
    assert f'| `schema_version` | `"{consilium.SCHEMA_VERSION}"`' in section
