"""The bundled knowledge base against its sources: provenance, the statement map, scenarios.

- every recommendation, warning and safety rule carries a quote, and every quote stands
  verbatim in the source documents (shared/seeds/, skipped where that folder is absent);
- kb/SOURCES.md lists every statement with rules that exist, and every rule of kb/ is in it;
- every rule fires in some scenario and is expected silent in another;
- every example case evaluates, and has its one-line description.
"""

from __future__ import annotations

import re

import pytest

from conftest import KB, ROOT
from consilium.engine.lang import ir

SEEDS = ROOT.parent / "shared" / "seeds"
SOURCES_MD = KB / "SOURCES.md"


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def seeds_text() -> str:
    if not SEEDS.is_dir():
        pytest.skip(f"the source documents are not beside this checkout ({SEEDS} is absent)")
    return _normalise(" ".join(p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))))


def _rules(kb):
    """Every recommendation, warning and safety rule of the knowledge base."""
    for pathway in kb.pathways:
        for node in pathway.nodes:
            if isinstance(node, (ir.Recommend, ir.Warn)):
                yield node
    yield from kb.safeties


def _quoted(kb):
    """Everything that carries a quote: rules, decisions, definitions, plans."""
    yield from _rules(kb)
    for pathway in kb.pathways:
        for node in pathway.nodes:
            if isinstance(node, ir.Decide) and node.provenance and node.provenance.quote:
                yield node
    for define in kb.defines.values():
        if define.provenance:
            yield define
    yield from kb.plans.values()


def _rows() -> list[tuple[str, str, list[str], str]]:
    """The statement map's rows: id, quote, the rules that encode it, its verdict."""
    rows = []
    for line in SOURCES_MD.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\| (T8-\w+|HM-\d+) \| (.+?) \| (\w+) \| [\d, ]+ \| (.+) \| ([^|]+) \|$", line)
        if match:
            rows.append((match.group(1), match.group(2), re.findall(r"`(\w+)`", match.group(4)), match.group(5)))
    return rows


def _statements() -> list[tuple[str, str, list[str]]]:
    return [(sid, quote, rules) for sid, quote, rules, _ in _rows()]


def test_every_rule_has_a_quote(bundled_kb):
    missing = [rule.id for rule in _rules(bundled_kb) if not rule.provenance.quote]
    assert missing == []


def test_every_quote_is_verbatim_in_the_sources(bundled_kb, seeds_text):
    wrong = [(thing.id, thing.provenance.quote) for thing in _quoted(bundled_kb)
             if _normalise(thing.provenance.quote) not in seeds_text]
    assert wrong == []


def test_every_statement_quote_is_verbatim_in_the_sources(seeds_text):
    wrong = [(sid, quote) for sid, quote, _ in _statements() if _normalise(quote) not in seeds_text]
    assert wrong == []


def test_the_statement_map_covers_both_documents():
    statements = _statements()
    assert len([s for s in statements if s[0].startswith("T8-")]) == 21
    assert len([s for s in statements if s[0].startswith("HM-")]) == 48
    assert all(rules for _, _, rules in statements), "a statement without a rule"


def test_every_statement_is_faithful_or_its_interpretation_is_written_down():
    text = SOURCES_MD.read_text(encoding="utf-8")
    written = set(re.findall(r"^- \*\*(INT-\d+)", text, flags=re.MULTILINE))
    wrong = []
    for sid, _, _, verdict in _rows():
        if verdict == "faithful":
            continue
        cited = re.fullmatch(r"interpretation ((?:INT-\d+)(?:, INT-\d+)*)", verdict)
        if cited is None or not set(cited.group(1).split(", ")) <= written:
            wrong.append((sid, verdict))
    assert wrong == []
    assert len(_rows()) == 69 and len(written) >= 20


def test_every_rule_in_the_map_exists(bundled_kb):
    known = {r.id for r in _rules(bundled_kb)}
    known |= {n.id for p in bundled_kb.pathways for n in p.nodes}
    known |= set(bundled_kb.defines) | set(bundled_kb.plans)
    known |= {f.id for f in bundled_kb.checked.findings}
    mapped = {rule for _, _, rules in _statements() for rule in rules}
    assert sorted(mapped - known) == []


def test_every_rule_of_the_kb_is_in_the_map(bundled_kb):
    text = SOURCES_MD.read_text(encoding="utf-8")
    mentioned = set(re.findall(r"`(\w+)`", text))
    things = [r.id for r in _rules(bundled_kb)]
    things += [n.id for p in bundled_kb.pathways for n in p.nodes if isinstance(n, ir.Decide)]
    things += list(bundled_kb.defines) + list(bundled_kb.plans)
    assert sorted(t for t in things if t not in mentioned) == []


def test_every_rule_fires_in_a_scenario_and_is_silent_in_another(bundled_kb):
    fired, silent = set(), set()
    for scenario in bundled_kb.scenarios:
        for e in scenario.expectations:
            if e.kind in ("recommend", "warning", "source_recommends"):
                (silent if e.negated else fired).add(e.target)
    rules = [r.id for r in _rules(bundled_kb)]
    assert [r for r in rules if r not in fired] == []
    assert [r for r in rules if r not in silent] == []


def _never_unknown(condition, kb) -> bool:
    """Whether no case leaves `condition` unknown (proved with Z3 on the three-valued encoding)."""
    import z3
    from consilium.engine.analysis.verify.encode import Encoder
    encoder = Encoder(dict(kb.facts), dict(kb.checked.defines))
    solver = z3.Solver()
    solver.add(*encoder.domain, encoder.truth(condition).unknown)
    return solver.check() == z3.unsat


def test_every_decision_has_a_scenario_with_its_data_missing(bundled_kb):
    from consilium.engine.lang.reads import facts_read
    asked = {e.target for s in bundled_kb.scenarios for e in s.expectations if e.kind == "needs" and not e.negated}
    never_asked = []
    for pathway in bundled_kb.pathways:
        for node in pathway.nodes:
            if isinstance(node, ir.Decide):
                conditions = [b.condition for b in node.branches if b.condition is not None]
            elif isinstance(node, (ir.Recommend, ir.Warn)) and node.guard is not None:
                conditions = [node.guard]
            else:
                continue
            if all(_never_unknown(c, bundled_kb) for c in conditions):
                continue  # `x is unknown` (and what is built on it) is never itself unknown
            facts = {f for c in conditions for f in facts_read(c, bundled_kb.defines)}
            if not facts & asked:
                never_asked.append(node.id)
    assert never_asked == []


def test_every_source_is_silent_somewhere_and_speaks_somewhere(bundled_kb):
    spoken, quiet = set(), set()
    for scenario in bundled_kb.scenarios:
        for e in scenario.expectations:
            if e.kind == "source_recommends":
                spoken.add(e.source)
            if e.kind == "source_silent" and not e.negated:
                quiet.add(e.source)
    assert spoken == quiet == set(bundled_kb.sources)


EXAMPLES = sorted(p for p in (ROOT / "examples").iterdir() if p.suffix in (".yaml", ".json"))


def test_there_are_at_least_ten_examples_covering_every_site(bundled_kb):
    assert len(EXAMPLES) >= 10
    sites = set()
    for path in EXAMPLES:
        sites |= bundled_kb.evaluate_file(path).case.get("metastatic_sites", frozenset())
    assert {"liver", "lung", "peritoneum"} <= sites


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_evaluates_and_is_described(bundled_kb, example):
    result = bundled_kb.evaluate_file(example)
    assert result.recommendations or result.warnings
    index = (ROOT / "examples" / "README.md").read_text(encoding="utf-8")
    assert f"`{example.name}`" in index
    if example.suffix == ".yaml":
        assert example.read_text(encoding="utf-8").startswith("# ")


def test_every_finding_and_constraint_holds_in_a_scenario_and_not_in_another(bundled_kb):
    seen, absent = set(), set()
    for scenario in bundled_kb.scenarios:
        for e in scenario.expectations:
            if e.kind in ("finding", "contradiction"):
                (absent if e.negated else seen).add(e.target)
    declared = [f.id for f in bundled_kb.checked.findings] + [c.id for c in bundled_kb.checked.constraints]
    assert [d for d in declared if d not in seen] == []
    assert [d for d in declared if d not in absent] == []


def test_every_judgement_fact_qualifies_an_option_in_words(bundled_kb):
    judged = {name: f.judgement for name, f in bundled_kb.facts.items() if f.judgement}
    assert {"crs_hipec_appropriate", "peritoneal_easily_resectable", "selected_for_re_resection",
            "hepatic_metastases_greatest_threat", "lung_resection_limited"} <= set(judged)
    assert judged["crs_hipec_appropriate"] == "in appropriate cases: the team decides"
