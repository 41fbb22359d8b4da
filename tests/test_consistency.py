"""`consilium check` on constraints and modality: a constraint that can never hold, constraints
that exclude every case, a recommendation firmer than its quote's permissive verb."""

from __future__ import annotations

import json

from conftest import DATA, run_cli

from consilium.engine.analysis.consistency import PERMISSIVE, consistency


def test_check_reports_constraints_and_modality():
    run = run_cli("check", DATA / "consistency", "--format", "json")
    assert run.code == 1
    found = {(f["code"], f["subject"]) for f in json.loads(run.out)["findings"]}
    assert ("constraint-never-holds", "never") in found
    assert ("constraints-exclude-every-case", "never") in found
    assert ("modality-firmer-than-quote", "r") in found
    assert not any(code == "constraint-never-holds" and s in ("all_x", "all_not_x") for code, s in found)


def test_the_bundled_constraints_can_each_hold_and_admit_cases(bundled_kb):
    assert [f for f in consistency(bundled_kb) if not f.waived] == []
    assert len(bundled_kb.checked.constraints) >= 5


def test_every_permissive_quote_is_an_option_unless_its_reading_is_written_down(bundled_kb):
    from consilium.engine.lang import ir
    firm = [n for p in bundled_kb.pathways for n in p.nodes if isinstance(n, ir.Recommend)
            and n.modality in ("recommended", "strongly_recommended") and PERMISSIVE.search(n.provenance.quote or "")]
    assert [n.id for n in firm] == ["esmo_omd_systemic_therapy"]
    [waiver] = firm[0].waivers
    assert "INT-13" in waiver.reason


def test_the_verbs_the_issue_names_are_permissive():
    for quote in ("Re-resection can be considered in select patients", "Ablative techniques may be considered",
                  "locoregional treatment followed by palliative chemotherapy is an option",
                  "metachronous resection is also performed"):
        assert PERMISSIVE.search(quote)
    assert not PERMISSIVE.search("Simultaneous rectal and hepatic surgery is recommended")
