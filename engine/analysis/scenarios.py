"""Scenario tests: run the `scenario` blocks of a knowledge base and explain each failure.

Each scenario's `given` facts are validated like a case and evaluated; each `expect` is
checked against the result. A failure says what was expected, what the result holds, and
where the trace turned away: the last node on the way to the expected rule that the case
visited, with the facts it read and what it decided.
"""

from __future__ import annotations


from ..lang.records import record
from ..lang import ir
from ..lang.fact_values import validate_case
from ..kb import KnowledgeBase
from ..evaluation.result import Result, TraceStep
from ..lang.values import format_value


@record
class Failure:
    expectation: ir.Expectation
    expected: str
    actual: str
    diverged: TraceStep | None


@record
class ScenarioOutcome:
    scenario: ir.Scenario
    failures: tuple[Failure, ...]
    result: Result

    @property
    def passed(self) -> bool:
        return not self.failures


def format_fact_value(kb: KnowledgeBase, fact_id: str, value) -> str:
    """A fact's value with its unit, as a clinician writes it."""
    fact = kb.facts.get(fact_id)
    return format_value(value, getattr(fact.type, "unit", None) if fact else None)


def run_scenarios(kb: KnowledgeBase) -> list[ScenarioOutcome]:
    return [run_scenario(kb, s) for s in kb.scenarios]


def run_scenario(kb: KnowledgeBase, scenario: ir.Scenario) -> ScenarioOutcome:
    raw = {g.fact: g.value for g in scenario.given}
    case, problems = validate_case(raw, kb.facts)
    assert not problems, "check() validates every scenario's given facts"
    result = kb.evaluate(case, validated=True)
    failures = tuple(f for f in (_check(kb, result, e) for e in scenario.expectations) if f is not None)
    return ScenarioOutcome(scenario, failures, result)


def _check(kb: KnowledgeBase, result: Result, e: ir.Expectation) -> Failure | None:
    no = "no " if e.negated else ""
    source, site = e.source or "", e.site or ""  # set for the kinds that read them (check saw to it)
    match e.kind:
        case "recommend":
            present = e.target in result.recommendation_ids()
            actual = "recommendations: " + (", ".join(result.recommendation_ids()) or "none")
            expected = f"{no}recommend {e.target}"
        case "warning":
            present = e.target in result.warning_ids()
            actual = "warnings: " + (", ".join(result.warning_ids()) or "none")
            expected = f"{no}warning {e.target}"
        case "finding" | "option" | "contradiction":
            found = {"finding": result.findings, "option": result.options,
                     "contradiction": result.contradictions}[e.kind]
            present = e.target in [x.id for x in found]
            actual = f"{e.kind}s: " + (", ".join(x.id for x in found) or "none")
            expected = f"{no}{e.kind} {e.target}"
        case "needs":
            present = e.target in result.needed_facts()
            actual = "needs: " + (", ".join(result.needed_facts()) or "none")
            expected = f"{no}needs {e.target}"
        case "source_recommends":
            view = result.source(source)
            present = e.target in view.recommendations
            actual = f"{e.source} recommends: " + (", ".join(view.recommendations) or "nothing")
            expected = f"{no}source {e.source} recommends {e.target}"
        case "source_silent" if e.site is not None:
            at_site = result.site(site).source(source)
            present = at_site.silent
            actual = f"{e.source} on {e.site}: " + (", ".join(at_site.rules) or "nothing")
            expected = f"{no}source {e.source} silent on {e.site}"
        case "source_silent":
            view = result.source(source)
            present = view.silent
            actual = f"{e.source} recommends: " + (", ".join(view.recommendations) or "nothing") \
                + "; warns: " + (", ".join(view.warnings) or "nothing")
            expected = f"{no}source {e.source} silent"
        case "relation":
            relation = result.site(site).relation(source, e.other or "")
            present = relation.relation == e.target
            actual = f"{e.source} and {e.other} {relation.relation} on {e.site}" + (
                f" ({', '.join(relation.actions)})" if relation.actions else "")
            expected = f"{no}{e.source} and {e.other} {e.target} on {e.site}"
        case _:
            raise AssertionError(e.kind)
    if present != e.negated:
        return None
    return Failure(e, expected, actual, _diverging_step(kb, result, e))


def _diverging_step(kb: KnowledgeBase, result: Result, e: ir.Expectation) -> TraceStep | None:
    """The last visited node on the way to the rule the expectation names."""
    target = e.target
    if target is None:
        return None
    if e.kind == "needs":
        steps = [s for s in result.trace if any(name == target for name, _ in s.read)]
        return steps[-1] if steps else None
    import networkx as nx  # only when a scenario fails: keeps start-up light
    for pathway_id, graph in kb.graphs.items():
        if target in graph:
            on_the_way = nx.ancestors(graph, target) | {target}
            steps = [s for s in result.trace if s.pathway == pathway_id and s.node in on_the_way]
            return steps[-1] if steps else None
    steps = [s for s in result.trace if s.node == target]
    return steps[-1] if steps else None


def format_outcomes(outcomes: list[ScenarioOutcome], kb: KnowledgeBase) -> str:
    lines = []
    for outcome in outcomes:
        s = outcome.scenario
        if outcome.passed:
            continue
        lines.append(f"FAIL {s.span}: scenario '{s.id}': {s.label}")
        for f in outcome.failures:
            lines.append(f"  {f.expectation.span}: expected {f.expected}")
            lines.append(f"    actual: {f.actual}")
            if f.diverged is not None:
                d = f.diverged
                read = ", ".join(f"{k} = {format_fact_value(kb, k, v)}" for k, v in d.read) or "no facts"
                lines.append(f"    diverged at {d.span}: {d.kind} '{d.node}' read {read}; {d.outcome}")
    passed = sum(o.passed for o in outcomes)
    failed = len(outcomes) - passed
    lines.append(f"{passed} passed, {failed} failed")
    return "\n".join(lines)
