"""The compiled evaluators agree with a straightforward interpreter of the IR on every case.

Both compiled paths (the generated values-only `decide`, and the generated walk behind
`evaluate`) are held to tests/interpreter.py, which shares nothing with them but the IR and
the value helpers: the same values, and for the full result the same walk (every node
visited, what it did, the facts it read with their values, each recommendation's path, the
nodes each need leaves open, the safety rules left unchecked)."""

from __future__ import annotations

import random

import pytest

import consilium
from casegen import as_written, random_case
from conftest import DATA, KB, ROOT
from interpreter import answers, walk

KNOWLEDGE_BASES = [KB, DATA / "plans", DATA / "concordance", ROOT / "bench" / "decision", DATA / "render",
                   DATA / "walk", DATA / "codegen", DATA / "cases", DATA / "scenarios", DATA / "verify",
                   DATA / "fhir" / "mcode.rules", ROOT / "bench" / "hepatic_slice", DATA / "names", DATA / "needs",
                   DATA / "flat"]


_CODES = {"undecided": "undecided", "no-branch": "no branch", "fires": "fires", "does-not-apply": "does not apply",
          "continues": "continues", "schedules": "schedule", "not-checked": "not checked", "raises": "raises",
          "clear": "clear"}
_WORDS = {"undecided": "undecided", "no-branch": "no branch holds", "does-not-apply": "does not apply",
          "continues": "continues", "schedules": "lays out", "not-checked": "not checked", "raises": "raises",
          "clear": "clear", "branch": "branch", "otherwise": "otherwise"}


_NEEDS = {"undecided": "undecided: needs ", "not-checked": "not checked: needs "}


def _what(step) -> str:
    """A trace step's outcome, in the interpreter's words (from its code, which its words agree
    with); an open node's as it is when it names the facts that could decide it (else, when none
    could, the code's word: the interpreter has not the reason's words)."""
    assert step.outcome.startswith(_WORDS.get(step.code, "recommends" if step.kind == "recommend" else "warns")), step
    if step.code in ("branch", "otherwise"):
        return f"branch {step.branch}"
    needs = _NEEDS.get(step.code)
    if needs is not None and step.outcome.startswith(needs) and step.outcome != needs:
        return step.outcome
    return _CODES[step.code]


def _still(outcome: str) -> str:
    """An answer's outcome in the interpreter's words: one that leaves its node open with no
    fact that could decide it says only so (the interpreter has not the reason's words)."""
    if outcome.startswith("still undecided") and not outcome.startswith("still undecided: needs "):
        assert outcome == "still undecided" or outcome.startswith("still undecided: a condition has no value"), outcome
        return "still undecided"
    return outcome


@pytest.mark.parametrize("path", KNOWLEDGE_BASES, ids=lambda p: p.stem)
def test_compiled_evaluators_agree_with_the_interpreter(path):
    kb = consilium.load_kb(path)
    rng = random.Random(20261121)
    for i in range(3000):
        case = random_case(kb.facts, rng)
        valid = kb.validate_case({k: as_written(v) for k, v in case.items()})  # every generated value is valid
        full = kb.evaluate(valid, validated=True)
        if i % 10 == 0:  # the trace's JSON, written from what the walk recorded, is each step's own
            written = full.to_json()
            assert written["trace"] == [s.to_json() for s in full.trace], case
            assert written["undecided"] == [u.to_json() for u in full.undecided], case
            # each need's answers, worked out by the interpreter trying each value on the node: an
            # answer that leaves it open names the facts that could then decide it, as a need does
            for n in full.needs:
                for d in n.decides:
                    assert [(a.answer, a.leads_to, _still(a.outcome)) for a in d.answers] == \
                        answers(kb, valid, d.pathway, d.node, n.fact), (case, n.fact, d.node)
        fast = kb.decide(valid, validated=True)
        seen = walk(kb, valid)
        assert (list(fast.recommendations), list(fast.warnings), list(fast.needs)) == seen.values(), case
        assert (full.recommendation_ids(), full.warning_ids(), full.needed_facts()) == seen.values(), case
        assert [(s.pathway, s.node, tuple(f for f, _ in s.read), _what(s)) for s in full.trace] == seen.steps, case
        assert all(v == valid.get(f) for s in full.trace for f, v in s.read), case
        assert [(r.id, r.path) for r in full.recommendations] == seen.paths, case
        assert {n.fact: [(u.pathway, u.node) for u in n.decides] for n in full.needs} == seen.decides, case
        assert [(u.rule, u.needs) for u in full.unchecked] == seen.unchecked, case
        # left open with no fact that could decide it (1 / 0...): among the result's `undecided`
        assert [(u.pathway, u.node) for u in full.undecided] == \
            [(p, n) for p, n, _, what in seen.steps if what == "undecided"], case
    written_out = full.to_json()  # parts of the JSON are written out for speed: the same as each part's own
    assert written_out["trace"] == [s.to_json() for s in full.trace]
    assert written_out["recommendations"] == [r.to_json() for r in full.recommendations]
    assert written_out["warnings"] == [w.to_json() for w in full.all_warnings]  # contradictions last
    assert [a for n in written_out["needs"] for d in n["decides"] for a in d["answers"]] == \
        [a.to_json() for n in full.needs for d in n.decides for a in d.answers]
    assert written_out["by_site"] == {v.site: {"label": v.label, "present": v.present,
                                               "sources": {s.source: s.to_json() for s in v.sources},
                                               "relations": [r.to_json() for r in v.relations]}
                                      for v in full.by_site}


def test_one_walk_step_by_step():
    """One case whose walk is known by hand: the interpreter and `evaluate` both give it."""
    kb = consilium.load_kb(ROOT / "bench" / "decision")
    case = {"liver_resectable": True, "extrahepatic_unresectable": False, "future_liver_remnant_pct": 40,
            "kras": "mutant", "days_since_last_bevacizumab": 20}
    resectable = ("liver_resectable", "extrahepatic_unresectable", "future_liver_remnant_pct")
    expected = [("surgery", "resectability", resectable, "branch 1"),
                # waits on its first branch: the primary's symptoms, read by the second, cannot decide it yet
                ("surgery", "approach", ("hepatectomy_segments", "primary_symptomatic"),
                 "undecided: needs hepatectomy_segments"),
                ("regimen", "kras_status", ("kras",), "branch 2"),
                ("regimen", "bevacizumab", (), "fires"),
                ("checks", "check_all", (), "continues"),
                ("checks", "bevacizumab_interval", resectable + ("days_since_last_bevacizumab",), "fires"),
                ("checks", "crs_hipec", ("peritoneal_pci",), "does not apply")]
    full = kb.evaluate(case)
    assert [(s.pathway, s.node, tuple(f for f, _ in s.read), _what(s)) for s in full.trace] == expected
    assert walk(kb, case).steps == expected
    assert [(r.id, r.path) for r in full.recommendations] == [("bevacizumab", ("kras_status", "bevacizumab"))]
    assert full.trace[0].read == (("liver_resectable", True), ("extrahepatic_unresectable", False),
                                  ("future_liver_remnant_pct", 40))


def test_nodes_are_written_inline_only_where_the_order_allows():
    """`holders` writes a node inside the one that leads to it, except where it would then run
    before a node the evaluator visits first; the answers keep the evaluator's order."""
    from consilium.engine.evaluation.codegen.layout import holders
    kb = consilium.load_kb(DATA / "walk")
    held = holders(kb.shapes["siblings"])
    assert held == {"both": None, "first_check": "both", "second": "both", "first_result": None}
    full = kb.evaluate({"a": True})
    assert [r.id for r in full.recommendations if r.pathway == "siblings"] == ["second", "first_result"]
    assert list(kb.decide({"a": True}).recommendations)[-2:] == ["second", "first_result"]


def test_a_need_for_a_fact_read_in_another_branch_is_looked_up(tmp_path):
    """A fact one node reads inside a branch, also read by a given definition: the need for it
    beside that branch must not use the branch's local (an unbound local would raise)."""
    kb = consilium.load_kb(ROOT / "tests" / "data" / "codegen_scope")
    for case in ({"status": "resected"}, {"a": True}, {"a": True, "status": "in_place", "ok": False}, {}):
        full, fast = kb.evaluate(case), kb.decide(case)
        assert list(fast.needs) == full.needed_facts(), case
        assert list(fast.recommendations) == full.recommendation_ids(), case


@pytest.mark.parametrize("path", [KB, DATA / "plans", ROOT / "bench" / "decision"], ids=lambda p: p.stem)
def test_decide_with_its_needs_in_a_dict_agrees_with_the_interpreter(path, monkeypatch):
    """A knowledge base of more facts than `NEEDS_IN_A_LIST` has `decide` keep its needs in a dict
    (a list's `not in` grows with them): the same values, in the same order."""
    from consilium.engine.evaluation.codegen import walk as codegen_walk
    monkeypatch.setattr(codegen_walk, "NEEDS_IN_A_LIST", 0)
    kb = consilium.load_kb(path, use_cache=False)  # (the code written now, not a cached one)
    assert "    needs = {}" in kb.generated_source() and "needs.append(" not in kb.generated_source()
    rng = random.Random(20261130)
    for _ in range(1500):
        case = random_case(kb.facts, rng)
        valid = kb.validate_case({k: as_written(v) for k, v in case.items()})
        fast = kb.decide(valid, validated=True)
        assert (list(fast.recommendations), list(fast.warnings), list(fast.needs)) == walk(kb, valid).values(), case
