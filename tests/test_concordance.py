"""The per-site view: each source's actions at a site, and the relation between two sources."""

from __future__ import annotations

import pytest

import consilium
from conftest import DATA


@pytest.fixture(scope="module")
def kb():
    return consilium.load_kb(DATA / "concordance")


def relations(result):
    liver = result.site("liver")
    return {(r.first, r.second): (r.relation, r.actions) for r in liver.relations}


def test_shared_action_is_concordant_and_a_different_one_complementary(kb):
    result = kb.evaluate({"sites": ["liver"], "kras": "wild_type", "pci": 5})
    assert relations(result) == {
        ("A", "B"): ("concordant", ("liver_resection",)),
        ("A", "C"): ("complementary", ()),
        ("B", "C"): ("complementary", ()),
    }


def test_an_action_advised_against_is_listed_apart(kb):
    result = kb.evaluate({"sites": ["liver"], "kras": "mutant", "pci": 5})
    assert relations(result)[("A", "B")] == ("concordant", ("liver_resection",))
    assert result.site("liver").source("B").advises_against == ("anti_egfr",)


def test_recommending_what_another_avoids_is_a_conflict(tmp_path):
    (tmp_path / "main.rules").write_text((DATA / "concordance" / "main.rules").read_text().replace(
        "when kras = mutant", "when kras = wild_type"))
    result = consilium.load_kb(tmp_path).evaluate({"sites": ["liver"], "kras": "wild_type", "pci": 20})
    assert relations(result)[("A", "B")] == ("conflicting", ("anti_egfr",))
    assert relations(result)[("A", "C")] == ("silent", ())


def test_silent_source_and_pending_facts(kb):
    result = kb.evaluate({"sites": ["liver"], "kras": "wild_type"})
    c = result.site("liver").source("C")
    assert c.silent and c.pending == ("pci",)
    assert relations(result)[("A", "C")] == ("silent", ())


def test_a_site_the_case_does_not_have_is_silent_everywhere(kb):
    result = kb.evaluate({"sites": [], "kras": "wild_type", "pci": 5})
    liver = result.site("liver")
    assert liver.present is False
    assert all(s.silent for s in liver.sources)
    assert {r.relation for r in liver.relations} == {"silent"}
