"""The parse cache: a second load skips parsing; changing any rule file invalidates it."""

from __future__ import annotations

import shutil

import pytest

import consilium
import consilium.engine.kb
from conftest import DATA


@pytest.fixture()
def kb_copy(tmp_path, monkeypatch):
    monkeypatch.setenv("CONSILIUM_CACHE_DIR", str(tmp_path / "cache"))
    shutil.copytree(DATA / "plans", tmp_path / "kb")
    return tmp_path / "kb"


def _no_parsing(*args, **kwargs):
    raise AssertionError("parsed although the cache holds the knowledge base")


def test_second_load_comes_from_the_cache(kb_copy, monkeypatch):
    first = consilium.load_kb(kb_copy)
    monkeypatch.setattr(consilium.engine.kb, "load", _no_parsing)
    second = consilium.load_kb(kb_copy)
    assert second.facts == first.facts
    case = {"resectable_synchronous": True, "scrt_start": "2024-01-31"}
    assert second.evaluate(case).to_json() == first.evaluate(case).to_json()
    assert set(second.graphs) == set(first.graphs)  # built on demand


def test_a_changed_file_is_parsed_again(kb_copy, monkeypatch):
    consilium.load_kb(kb_copy)
    rules = kb_copy / "main.rules"
    rules.write_text(rules.read_text().replace('"Perioperative care"', '"Perioperative care, v2"'))
    calls = []
    real = consilium.engine.kb.load
    monkeypatch.setattr(consilium.engine.kb, "load", lambda root: calls.append(root) or real(root))
    kb = consilium.load_kb(kb_copy)
    assert calls and kb.pathways[0].label == "Perioperative care, v2"


def test_a_broken_change_is_reported_not_hidden_by_the_cache(kb_copy):
    consilium.load_kb(kb_copy)
    rules = kb_copy / "main.rules"
    rules.write_text(rules.read_text() + "\nfact broken : bool bool\n")
    with pytest.raises(consilium.KnowledgeBaseError):
        consilium.load_kb(kb_copy)


def test_the_cache_can_be_turned_off(kb_copy, monkeypatch):
    monkeypatch.setenv("CONSILIUM_CACHE", "off")
    consilium.load_kb(kb_copy)
    calls = []
    real = consilium.engine.kb.load
    monkeypatch.setattr(consilium.engine.kb, "load", lambda root: calls.append(root) or real(root))
    consilium.load_kb(kb_copy)
    assert calls
