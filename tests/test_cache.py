"""The parse cache: a second load skips parsing; changing any rule file invalidates it."""

from __future__ import annotations

import json
import marshal
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import consilium
import consilium.engine.cache
import consilium.engine.kb
from conftest import DATA, ROOT


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
    monkeypatch.setattr(consilium.engine.kb, "load", lambda root, *more: calls.append(root) or real(root, *more))
    kb = consilium.load_kb(kb_copy)
    assert calls and kb.pathways[0].label == "Perioperative care, v2"


def test_a_broken_change_is_reported_not_hidden_by_the_cache(kb_copy):
    consilium.load_kb(kb_copy)
    rules = kb_copy / "main.rules"
    rules.write_text(rules.read_text() + "\nfact broken : bool bool\n")
    with pytest.raises(consilium.KnowledgeBaseError):
        consilium.load_kb(kb_copy)


def test_a_cached_load_neither_parses_nor_checks_and_loses_nothing(tmp_path, monkeypatch):
    """The entry holds the knowledge base checked: a second load runs neither the parser nor the
    checker, and gives the same declarations, shapes, results and scenarios (spans included:
    `consilium test` names each scenario's line), the scenarios decoded only when asked for."""
    import dataclasses
    monkeypatch.setenv("CONSILIUM_CACHE_DIR", str(tmp_path / "cache"))
    shutil.copytree(consilium.bundled_kb_path(), tmp_path / "kb")
    first = consilium.load_kb(tmp_path / "kb")
    monkeypatch.setattr(consilium.engine.kb, "load", _no_parsing)
    monkeypatch.setattr("consilium.engine.lang.check.check", _no_parsing)
    decoded = []
    real = consilium.engine.cache.scenarios
    monkeypatch.setattr(consilium.engine.cache, "scenarios", lambda data: decoded.append(1) or real(data))
    second = consilium.load_kb(tmp_path / "kb")
    assert dataclasses.replace(second.checked, scenarios=()) == dataclasses.replace(first.checked, scenarios=())
    assert second.shapes == first.shapes and second.texts == first.texts and second.files == first.files
    case = ROOT / "examples" / "liver_resectable_three_segments.yaml"
    assert second.evaluate_file(case).to_json() == first.evaluate_file(case).to_json()
    assert not decoded  # evaluating reads no scenario
    assert len(first.scenarios) > 100 and second.scenarios == first.scenarios
    assert [s.span for s in second.scenarios] == [s.span for s in first.scenarios]
    assert [o.passed for o in consilium.run_scenarios(second)] == [o.passed for o in consilium.run_scenarios(first)]
    assert decoded == [1]  # once


def test_scenarios_that_will_not_decode_are_read_again(tmp_path, monkeypatch):
    monkeypatch.setenv("CONSILIUM_CACHE_DIR", str(tmp_path / "cache"))
    shutil.copytree(DATA / "scenarios", tmp_path / "kb")
    first = consilium.load_kb(tmp_path / "kb")
    monkeypatch.setattr(consilium.engine.cache, "scenarios", lambda data: None)
    second = consilium.load_kb(tmp_path / "kb")
    assert second.scenarios == first.scenarios and second.scenarios


def test_the_cache_can_be_turned_off(kb_copy, monkeypatch):
    monkeypatch.setenv("CONSILIUM_CACHE", "off")
    consilium.load_kb(kb_copy)
    calls = []
    real = consilium.engine.kb.load
    monkeypatch.setattr(consilium.engine.kb, "load", lambda root, *more: calls.append(root) or real(root, *more))
    consilium.load_kb(kb_copy)
    assert calls


# ---- a cache that cannot lie or run code (issue #12, campaign D8, D9) -------------------------------

QUOTE = "Perioperative care"


def _entries(kb_copy):
    return sorted((kb_copy.parent / "cache" / "consilium").glob("parse-*.json"))


def _parsed(monkeypatch) -> list:
    calls = []
    real = consilium.engine.kb.load
    monkeypatch.setattr(consilium.engine.kb, "load", lambda root, *more: calls.append(root) or real(root, *more))
    return calls


def test_entries_are_json_data_not_pickles(kb_copy):
    consilium.load_kb(kb_copy)
    [entry] = _entries(kb_copy)
    mac, _, body = entry.read_bytes().partition(b"\n")
    assert len(mac) == 64 and list(json.loads(body)["loaded"]) == ["load:Loaded"]


def test_an_edited_entry_is_refused_and_rebuilt(kb_copy, monkeypatch):
    consilium.load_kb(kb_copy)
    [entry] = _entries(kb_copy)
    data = entry.read_bytes()
    assert QUOTE.encode() in data
    entry.write_bytes(data.replace(QUOTE.encode(), b"Liver-first is good"[:len(QUOTE)]))  # same length
    calls = _parsed(monkeypatch)
    kb = consilium.load_kb(kb_copy)
    assert calls and kb.pathways[0].label == QUOTE  # parsed again: the edit is not shown
    assert QUOTE.encode() in entry.read_bytes()       # and the entry rebuilt


def test_a_forged_entry_runs_nothing(kb_copy, monkeypatch, tmp_path):
    consilium.load_kb(kb_copy)
    [entry] = _entries(kb_copy)
    marker = tmp_path / "PWNED"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    for forged in (pickle.dumps(Evil()),                                     # the campaign's crafted pickle
                   b"0" * 64 + b"\n" + json.dumps({"loaded": {"@": "os:system"}}).encode(),  # a class outside the IR
                   entry.read_bytes()[:100]):                                 # truncated
        entry.write_bytes(forged)
        calls = _parsed(monkeypatch)
        assert consilium.load_kb(kb_copy).pathways[0].label == QUOTE
        assert calls and not marker.exists()


def test_the_irjson_codec_refuses_classes_outside_the_ir():
    from consilium.engine.lang.irjson import from_data
    for data in ({"@": "os:system"}, {"@": "consilium.engine.lang.ir:__class__"}, {"@dict": 3}, {"@float": "1"},
                 {"os:system": []}, {"ir:__class__": []}, {"..ir:Fact": []}, {"ir:Fact": ["too few"]},
                 {"ir:Fact": {"id": "x"}}, {"@date": 5}, {"@set": "abc"}):
        with pytest.raises((ValueError, TypeError)):
            from_data(data)


def test_the_whole_bundled_kb_round_trips_through_the_codec():
    from pathlib import Path
    from consilium.engine.lang.irjson import from_data, to_data
    from consilium.engine.lang.load import load
    loaded, problems = load(Path(consilium.bundled_kb_path()) / "main.rules")
    data = json.loads(json.dumps(to_data(loaded)))
    back = from_data(data)
    assert back == loaded and to_data(back) == data  # spans too (they are not part of equality)


def test_a_change_to_the_engine_code_is_a_miss(kb_copy, monkeypatch):
    consilium.load_kb(kb_copy)
    monkeypatch.setattr(consilium.engine.cache, "engine_digest", lambda: "another engine")
    calls = _parsed(monkeypatch)
    consilium.load_kb(kb_copy)
    assert calls


def test_the_engine_digest_covers_every_engine_module():
    from consilium.engine import cache
    cache.engine_digest.cache_clear()
    source = Path(cache.__file__).resolve().parent / "lang" / "lower.py"
    original = source.read_bytes()
    before = cache.engine_digest()
    try:
        source.write_bytes(original + b"\n# an edit\n")
        cache.engine_digest.cache_clear()
        assert cache.engine_digest() != before
    finally:
        source.write_bytes(original)
        cache.engine_digest.cache_clear()


def test_a_cache_folder_others_may_write_is_not_used(kb_copy, monkeypatch):
    folder = kb_copy.parent / "cache" / "consilium"
    folder.mkdir(parents=True)
    folder.chmod(0o777)
    consilium.load_kb(kb_copy)
    assert not _entries(kb_copy)
    folder.chmod(0o700)
    (folder / "key").write_bytes(os.urandom(32))
    (folder / "key").chmod(0o644)  # a key others can read cannot seal anything
    consilium.load_kb(kb_copy)
    assert not _entries(kb_copy)


def test_the_cache_is_bounded(kb_copy, monkeypatch, tmp_path):
    consilium.load_kb(kb_copy)
    folder = kb_copy.parent / "cache" / "consilium"
    one = sum(p.stat().st_size for p in folder.iterdir())  # one knowledge base's entries and the key
    monkeypatch.setenv("CONSILIUM_CACHE_MAX_MB", str(2.5 * one / 1024 / 1024))
    for i in range(4):
        copy = tmp_path / f"kb{i}"
        shutil.copytree(kb_copy, copy)
        consilium.load_kb(copy)
    assert sum(p.stat().st_size for p in folder.iterdir()) <= 2.5 * one
    kept = list(folder.glob("parse-*.json"))
    assert 1 <= len(kept) < 5
    # the entries used least recently went first: the last knowledge base loaded is still cached
    assert consilium.engine.cache.get((tmp_path / "kb3" / "main.rules")) is not None


def test_compiled_code_entries_are_sealed_too(kb_copy, monkeypatch):
    from consilium.engine.evaluation import bytecode
    store = consilium.engine.cache  # the store kb.py gives the bytecode cache
    code = bytecode.compiled("x = 1 + 1\n", "<test>", store)
    [entry] = (kb_copy.parent / "cache" / "consilium").glob("code-*.marshal")
    substitute = compile("import os\nx = 'substituted'\n", "<evil>", "exec")
    mac, _, _ = entry.read_bytes().partition(b"\n")
    entry.write_bytes(mac + b"\n" + marshal.dumps(substitute))
    namespace: dict = {}
    exec(bytecode.compiled("x = 1 + 1\n", "<test>", store), namespace)  # noqa: S102 - the test's own source
    assert namespace["x"] == 2 and code.co_filename == "<test>"


def test_concurrent_cold_loads_agree(kb_copy, tmp_path):
    script = ("import json, sys, consilium; kb = consilium.load_kb(sys.argv[1]); "
              "print(json.dumps(kb.evaluate({'resectable_synchronous': True, 'scrt_start': '2024-01-31'}).to_json(),"
              " sort_keys=True))")
    env = {**os.environ, "CONSILIUM_CACHE_DIR": str(kb_copy.parent / "cache")}
    for _ in range(2):
        runs = [subprocess.Popen([sys.executable, "-c", script, str(kb_copy)], stdout=subprocess.PIPE, env=env)
                for _ in range(4)]
        outputs = {run.communicate(timeout=120)[0] for run in runs}
        assert len(outputs) == 1 and all(run.returncode == 0 for run in runs)
    assert not list((kb_copy.parent / "cache" / "consilium").glob(".tmp-*"))
