"""A result's JSON: the same text as ever, its shared parts read-only, the rest its caller's own.

`Result.to_json` makes what is the same for many results (a recommendation with its provenance,
a trace step for the values it read, a site's view, a need's answers, a finding with its
reasons) once, and shares it between results as read-only dicts and lists
(engine/evaluation/shared.py); the top-level dict and its lists are fresh for each call. Held
here as a caller sees it:
- the JSON serialises byte for byte as the plain JSON the result's records write one by one
  (`_reference`: every container fresh, nothing kept; what `Result.to_json` wrote before it
  shared parts), for thousands of random cases of the bundled knowledge base and every test
  knowledge base, and for values that are equal but not written alike (0 and 0.0, -0.0 and
  0.0, True and 1, Decimal("7") and Decimal("7.00"));
- every container inside is either read-only (each mutating method raises a `TypeError` that
  says so and what to do) or fresh (no other JSON holds it), and a later result's JSON is
  unchanged after any attempted mutation;
- the top level is a plain dict a caller may add to; `copy.deepcopy` gives plain containers,
  one per place; `copy.copy` a plain one; pickle round-trips; the result schema validates it.
"""

from __future__ import annotations

import copy
import json
import pickle
import random
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest

import consilium
from casegen import as_written, random_case
from conftest import DATA, KB, ROOT
from consilium.engine.evaluation.result import SCHEMA_VERSION, Result
from consilium.engine.evaluation.shared import SharedDict, SharedList
from consilium.engine.inputs.schema import result_schema
from consilium.engine.lang import ir
from consilium.engine.lang.values import to_json_value

KNOWLEDGE_BASES = [KB, DATA / "plans", DATA / "concordance", ROOT / "bench" / "decision", DATA / "render",
                   DATA / "walk", DATA / "codegen", DATA / "cases", DATA / "scenarios", DATA / "verify",
                   DATA / "fhir" / "mcode.rules", ROOT / "bench" / "hepatic_slice", DATA / "names", DATA / "needs",
                   DATA / "scenarios_advice", DATA / "decimals"]


def _reference(result: Result) -> dict:
    """The JSON as each record writes it, every container fresh (nothing kept between results)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "knowledge_base": result.knowledge_base,
        "case": {k: to_json_value(v) for k, v in sorted(result.case.items())},
        "recommendations": [r.to_json() for r in result.recommendations],
        "warnings": [w.to_json() for w in result.all_warnings],
        "needs": [n.to_json() for n in result.needs],
        "undecided": [u.to_json() for u in result.undecided],
        "by_source": {v.source: v.to_json() for v in result.by_source},
        "by_site": {v.site: v.to_json() for v in result.by_site},
        "plans": [p.to_json() for p in result.plans],
        "unchecked": [u.to_json() for u in result.unchecked],
        "trace": [s.to_json() for s in result.trace],
        "identity": dict(result.identity) if result.identity is not None else None,
        "findings": [f.to_json() for f in result.findings],
        "options": [o.to_json() for o in result.options],
        "contradictions": [c.to_json() for c in result.contradictions],
        "choices": [c.to_json() for c in result.choices],
        "merged_warnings": [m.to_json() for m in result.merged_warnings],
    }


def _text(data) -> str:
    return json.dumps(data, ensure_ascii=False)


def _results(kb, count: int, seed: int) -> list[Result]:
    """Random cases as typed values, and as a file writes them (checked), each evaluated."""
    rng = random.Random(seed)
    results = []
    for _ in range(count):
        case = random_case(kb.facts, rng)
        for given, validated in ((case, True), ({k: as_written(v) for k, v in case.items()}, False)):
            try:
                results.append(kb.evaluate(given, validated=validated))
            except consilium.ConsiliumError:  # a case the rules cannot take (a float for an exact number)
                pass
    return results


@pytest.mark.parametrize("path", KNOWLEDGE_BASES, ids=lambda p: p.stem)
def test_the_json_is_the_records_json_byte_for_byte(path):
    kb = consilium.load_kb(path)
    count = 1500 if path == KB else 300
    results = _results(kb, count, 20261130)
    assert len(results) > count
    if path == KB:
        results += [kb.evaluate_file(example) for example in sorted(Path(ROOT, "examples").glob("*.yaml"))]
    written = [_text(r.to_json()) for r in results]  # each made while the parts kept fill up...
    for result, text in zip(results, written, strict=True):
        assert text == _text(_reference(result))
        assert _text(result.to_json()) == text  # ...and again, from the parts kept
    assert json.dumps(results[0].to_json(), indent=2, sort_keys=True) == \
        json.dumps(_reference(results[0]), indent=2, sort_keys=True)


def _variants(value):
    """Values equal to `value` and written otherwise, for a number."""
    if isinstance(value, bool):
        return [int(value)]
    if isinstance(value, (int, Decimal)) and value == int(value):
        whole = int(value)
        return [whole, float(whole), Decimal(whole), Decimal(f"{whole}.00"), -0.0 if whole == 0 else -whole]
    if isinstance(value, (float, Decimal)):
        return [float(value), Decimal(repr(float(value))), Decimal(repr(float(value))) + Decimal("0.000")]
    return []


def test_equal_values_written_otherwise_keep_their_own_text(bundled_kb):
    """A step's JSON is kept per the values it read: 7, 7.0 and Decimal("7.00") are equal and
    are not written alike, nor are 0.0 and -0.0, nor True and 1. Each keeps its own text."""
    numbers = [name for name, fact in bundled_kb.facts.items()
               if isinstance(fact.type, (ir.NumberType, ir.BoolType))]
    rng = random.Random(3)
    checked = 0
    for _ in range(60):
        case = random_case(bundled_kb.facts, rng, missing=0.1)
        for name in numbers:
            if name not in case:
                continue
            for value in [case[name], *_variants(case[name]), case[name]]:
                result = bundled_kb.evaluate({**case, name: value}, validated=True)
                assert _text(result.to_json()) == _text(_reference(result)), (name, value)
                checked += 1
    assert checked > 500


def _containers(node, top=True):
    """Every dict and list inside `node` (not `node` itself)."""
    if isinstance(node, dict):
        items = list(node.values())
    elif isinstance(node, list):
        items = list(node)
    else:
        return
    if not top:
        yield node
    for item in items:
        yield from _containers(item, False)


def _mutations(container):
    """Each way of changing a dict or a list in place."""
    if isinstance(container, dict):
        key = next(iter(container), "key")
        return [lambda: container.__setitem__("added", 1), lambda: container.__delitem__(key),
                container.clear, lambda: container.pop(key), container.popitem,
                lambda: container.setdefault("added", 1), lambda: container.update(added=1),
                lambda: container.__ior__({"added": 1}), lambda: container.__init__({"added": 1})]
    return [lambda: container.__setitem__(0, "changed"), lambda: container.__delitem__(0),
            lambda: container.append("changed"), lambda: container.extend(["changed"]),
            lambda: container.insert(0, "changed"), container.pop, lambda: container.remove("changed"),
            container.clear, container.sort, container.reverse, lambda: container.__iadd__(["changed"]),
            lambda: container.__imul__(2), lambda: container.__init__(["changed"])]


@pytest.fixture(scope="module")
def results(bundled_kb):
    rng = random.Random(11)
    cases = [random_case(bundled_kb.facts, rng) for _ in range(150)]
    made = [bundled_kb.evaluate(case, validated=True) for case in cases]
    made += [bundled_kb.evaluate_file(path) for path in sorted(Path(ROOT, "examples").glob("*.yaml"))]
    assert any(r.findings for r in made) and any(r.contradictions for r in made)
    assert any(r.options for r in made) and any(r.needs for r in made) and any(r.by_site for r in made)
    return cases, made


def test_shared_parts_are_read_only_and_the_rest_is_the_callers_own(bundled_kb, results):
    cases, made = results
    before = [_text(r.to_json()) for r in made]
    shared = fresh = 0
    held = [r.to_json() for r in made] + [r.to_json() for r in made]  # all alive at once: ids unique
    owners: dict[int, int] = {}
    tried: set[int] = set()  # (each shared part tried once)
    for i, data in enumerate(held):
        assert type(data) is dict
        for container in _containers(data):
            if isinstance(container, (SharedDict, SharedList)):
                shared += 1
                if id(container) in tried:
                    continue
                tried.add(id(container))
                for mutate in _mutations(container):
                    with pytest.raises(TypeError, match=r"shared with other results and read-only; "
                                                        r"take copy\.deepcopy\(\.\.\.\) for a copy you can change"):
                        mutate()
            else:
                assert type(container) in (dict, list)
                fresh += 1
                assert owners.setdefault(id(container), i) == i, "a plain container in two results' JSON"
    assert shared > 20 * len(held) and fresh > len(held)  # most of it shared; the lists at the top fresh
    # the fresh ones are the caller's to change: change them all; nothing else changes
    for data in held:
        for container in list(_containers(data)):
            if isinstance(container, dict) and not isinstance(container, SharedDict):
                container["added"] = ["changed"]
            elif isinstance(container, list) and not isinstance(container, SharedList):
                container.append("changed")
        data["added"] = "a caller's own key"  # (the top level: `consilium eval` adds to it)
    assert [_text(r.to_json()) for r in made] == before
    again = [bundled_kb.evaluate(case, validated=True) for case in cases]
    again += [bundled_kb.evaluate_file(path) for path in sorted(Path(ROOT, "examples").glob("*.yaml"))]
    assert [_text(r.to_json()) for r in again] == before


def test_copies_are_plain_and_pickles_round_trip(results):
    _, made = results
    for result in made[:40]:
        data = result.to_json()
        text = _text(data)
        deep = copy.deepcopy(data)
        inside = list(_containers(deep))
        assert all(type(c) in (dict, list) for c in inside)
        assert len({id(c) for c in inside}) == len(inside)  # a shared part met twice: two copies
        assert _text(deep) == text
        for container in inside:  # a deep copy is the caller's own throughout
            if isinstance(container, dict):
                container["added"] = 1
            else:
                container.append(1)
        assert _text(result.to_json()) == text
        for container in _containers(data):
            assert type(copy.copy(container)) in (dict, list)
            assert copy.copy(container) == container
        back = pickle.loads(pickle.dumps(data))
        assert back == data and _text(back) == text
        assert [type(c) for c in _containers(back)] == [type(c) for c in _containers(data)]


def test_the_result_schema_validates_the_json(results):
    schema = result_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    _, made = results
    for result in made:
        validator.validate(result.to_json())
