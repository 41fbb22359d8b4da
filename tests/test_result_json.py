"""A result's JSON belongs to its caller: what one caller does to it changes no other result.

`Result.to_json` builds what is the same for every case (a trace step's span and words, a
recommendation's provenance, the reasons of a finding) from parts made once per knowledge base
and kept: each call must still hand out containers of its own. Checked as a caller would: change
everything a JSON holds, then serialise the same and other cases again.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from casegen import random_case
from conftest import ROOT


def _vandalise(node) -> None:
    """Change every dict and list inside `node` (and the values they hold)."""
    if isinstance(node, dict):
        for key in list(node):
            _vandalise(node[key])
            node[key] = "changed"
        node["added"] = ["changed"]
    elif isinstance(node, list):
        for item in node:
            _vandalise(item)
        node.append("changed")


def test_changing_a_result_json_changes_no_other_result(bundled_kb):
    rng = random.Random(11)
    cases = [random_case(bundled_kb.facts, rng) for _ in range(150)]
    examples = sorted(Path(ROOT, "examples").glob("*.yaml"))
    results = [bundled_kb.evaluate(case, validated=True) for case in cases]
    results += [bundled_kb.evaluate_file(path) for path in examples]
    assert any(r.findings for r in results) and any(r.contradictions for r in results)
    assert any(r.options for r in results) and any(r.needs for r in results)
    before = [json.dumps(r.to_json()) for r in results]
    for result in results:
        _vandalise(result.to_json())
    # the same results again, and fresh results of the same cases, say what they said before
    assert [json.dumps(r.to_json()) for r in results] == before
    again = [bundled_kb.evaluate(case, validated=True) for case in cases]
    again += [bundled_kb.evaluate_file(path) for path in examples]
    assert [json.dumps(r.to_json()) for r in again] == before
