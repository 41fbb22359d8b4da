"""Evaluate: a checked knowledge base and the shapes of its pathways -> an `Evaluator`, and a
validated case -> a `Result` (or, values only, a `Decision`).

`Evaluator` is built once per knowledge base: it has the code generator (codegen/) write
the knowledge base as Python and runs it. A case is walked by that code: each pathway from
its entry, a decision taking the first branch whose condition is true, stopping when a
condition is unknown (the facts it lacks are the needs) and taking `otherwise` when all are
false; a guarded recommendation or warning fires when its guard is true; safety rules are
checked after the pathways. This module turns what the walk records into a `Result`: each
need with what each answer would lead to (the node's generated test re-run with that
answer), the view per source and per site. `decide` is the values-only function.
Evaluation is pure and deterministic: no I/O, no clock, no `eval` of rule text. An error
raised inside generated code is reported at the rule it came from (`EvaluationError`).
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from ..lang import ir
from ..lang.check import Checked
from ..lang.reads import reads_of, thresholds
from ..lang.shape import PathwayShape
from . import codegen
from .codegen.runtime import Loaded
from .concordance import Concordance
from .needs import answers
from .result import Answer, Decision, Need, Result, SourceView, Undecided

_new = tuple.__new__  # makes a named tuple from its fields without the Python-level __new__
_KEPT = 8192          # answers kept per evaluator, for the cases of a cohort that repeat


class Evaluator:
    """The generated form of one checked knowledge base."""

    def __init__(self, checked: Checked, shapes: Mapping[str, PathwayShape], name: str):
        self.checked = checked
        self.shapes = shapes
        self.name = name
        self._defines = checked.defines
        self.node_labels = {n.id: getattr(n, "label", None) or getattr(n, "question", None) or n.id
                            for p in checked.pathways for n in p.nodes}
        self._needs = {name: (fact.label, fact.question, ir.describe_type(fact.type))
                       for name, fact in checked.facts.items()}
        self._sources = tuple((sid, source.title) for sid, source in checked.sources.items())
        rules = {n.id: n for p in checked.pathways for n in p.nodes if isinstance(n, ir.Recommend)}
        self._concordance = Concordance({s.id: s.label for s in checked.sites.values()}, tuple(checked.sources),
                                        rules, checked.pathways)
        self.code: Loaded = codegen.build(codegen.generate(checked, shapes, name), f"<consilium {name}>")
        self._walk = self.code["walk"]
        self._decide = self.code["decide"]
        self._probes: dict[str, tuple[Callable[..., Any], tuple[str, ...], Loaded]] = {}
        self._values: dict[ir.Expr, Loaded] = {}
        self._answers_kept: dict[tuple[Any, ...], tuple[Answer, ...]] = {}

    def generated_source(self, pathways: tuple[str, ...] | None = None) -> str:
        """The Python this knowledge base is evaluated by (only `pathways`' functions, when given)."""
        if pathways is None:
            return self.code.source
        return codegen.generate(self.checked, self.shapes, self.name, pathways).source()[0]

    # ---- evaluation -----------------------------------------------------------------
    def decide(self, case: Mapping[str, Any]) -> Decision:
        """Only the answer: ids of recommendations and warnings, and the facts needed.

        The same walk as `evaluate`, without provenance, trace or the answers of needs: the
        path for callers that evaluate many cases and want the values alone.
        """
        try:
            decision: Decision = self._decide(case)
            return decision
        except Exception as exc:
            raise self._error(exc, self.code) from None

    def evaluate(self, case: Mapping[str, Any]) -> Result:
        case = dict(case)  # the result's own copy
        try:
            recommendations, warnings, trace, undecided, plans, unchecked, present = self._walk(case)
            needs, pending = self._needs_of(case, undecided)
        except Exception as exc:
            raise self._error(exc, self.code) from None
        return _new(Result, (self.name, case, tuple(recommendations), tuple(warnings), needs,
                             self._by_source(recommendations, warnings),
                             self._concordance.views(recommendations, present, pending),
                             tuple(plans), tuple(unchecked), tuple(trace)))

    def _error(self, exc: Exception, code: Loaded) -> Exception:
        """An exception from generated code, reported at its rule; any other, as it is."""
        for loaded in (code, *(probe[2] for probe in self._probes.values())):
            error = loaded.rule_error(exc)
            if error is not None:
                return error
        return exc

    def _by_source(self, recommendations: list[Any], warnings: list[Any]) -> tuple[SourceView, ...]:
        found: dict[str | None, tuple[dict[str, None], dict[str, None]]] = {sid: ({}, {}) for sid, _ in self._sources}
        for r in recommendations:
            found[r.source][0][r.id] = None
        for w in warnings:
            if w.source in found:
                found[w.source][1][w.id] = None
        return tuple([_new(SourceView, (sid, title, tuple(found[sid][0]), tuple(found[sid][1])))
                      for sid, title in self._sources])

    def _needs_of(self, case: Mapping[str, Any], undecided: list[Any]) \
            -> tuple[tuple[Need, ...], dict[str, tuple[str, ...]]]:
        """The needs, fact by fact in the order first met, and per pathway the facts it waits for."""
        decides: dict[str, list[Undecided]] = {}
        pending: dict[str, dict[str, None]] = {}
        kept = self._answers_kept
        for (pathway, node, question), read in undecided:
            for fact, value in read:
                if value is None:
                    if pathway is not None:
                        pending.setdefault(pathway, {})[fact] = None
                    try:
                        found = kept.get((node.id, fact, read))
                    except TypeError:  # a value that cannot be hashed: nothing is kept
                        found = None
                    if found is None:
                        found = self.answers(node, fact, case, read)
                    decides.setdefault(fact, []).append(_new(Undecided, (pathway, node.id, question, found)))
        needs = tuple([_new(Need, (fact, *self._needs[fact], tuple(nodes))) for fact, nodes in decides.items()])
        return needs, {pathway: tuple(facts) for pathway, facts in pending.items()}

    # ---- what each answer would lead to ------------------------------------------------
    def answers(self, node: ir.Node, fact: str, case: Mapping[str, Any],
                read: tuple[tuple[str, Any], ...] | None = None) -> tuple[Answer, ...]:
        """What each answer to `fact` would make `node` do, the rest of the case as it is.

        They depend only on the values the node reads (`read`, as the walk records them): kept
        for the combinations seen, up to a bound, for the cases of a cohort that repeat."""
        test, reads, _ = self._probe(node)
        describe = _describe_decision if isinstance(node, ir.Decide) else _describe_guard

        def probe(value: Any) -> tuple[str | None, str]:
            values = {**case, fact: value}
            return describe(node, test(values.get), values, reads, self.node_labels)
        found = answers(self.checked.facts[fact], probe, self._cuts(node, fact))
        if read is not None:
            kept = self._answers_kept
            if len(kept) >= _KEPT:
                kept.clear()  # bounded: a cohort of distinct cases does not grow it without end
            try:
                kept[(node.id, fact, read)] = found
            except TypeError:
                pass
        return found

    def _probe(self, node: ir.Node) -> tuple[Callable[..., Any], tuple[str, ...], Loaded]:
        found = self._probes.get(node.id)
        if found is None:
            loaded = codegen.build(codegen.probe(self.checked, node), f"<consilium {self.name} {node.id}>")
            found = self._probes[node.id] = (loaded["test"], reads_of(node, self._defines), loaded)
        return found

    def test(self, node: ir.Node, case: Mapping[str, Any]) -> Any:
        """What one node does for a case: the branch a decision takes (1 = the first, 0: none
        holds), or whether a rule's guard holds; None while a fact it reads is unknown."""
        test, _, code = self._probe(node)
        try:
            return test(case.get)
        except Exception as exc:
            raise self._error(exc, code) from None

    def value(self, expr: ir.Expr, case: Mapping[str, Any]) -> Any:
        """The value of one expression (resolved against this knowledge base) for a case; None: unknown."""
        found = self._values.get(expr)
        if found is None:
            found = self._values[expr] = codegen.build(codegen.expression(self.checked, expr),
                                                       f"<consilium {self.name} expression>")
        try:
            return found["value"](case.get)
        except Exception as exc:
            raise self._error(exc, found) from None

    def _cuts(self, node: ir.Node, fact: str) -> tuple[Any, ...]:
        """The constants `fact` is compared with in the node's conditions: where its answers change."""
        conditions = ([b.condition for b in node.branches if b.condition is not None]
                      if isinstance(node, ir.Decide) else [getattr(node, "guard", None)])
        found: set[Any] = set()
        for condition in conditions:
            found.update(thresholds(condition, fact, self._defines))
        return tuple(found)


def _missing(values: Mapping[str, Any], reads: tuple[str, ...]) -> str:
    return "still undecided: needs " + ", ".join([f for f in reads if values.get(f) is None])


def _describe_decision(node: ir.Node, taken: int | None, values: Mapping[str, Any], reads: tuple[str, ...],
                       labels: Mapping[str, str]) -> tuple[str | None, str]:
    if taken is None:
        return None, _missing(values, reads)
    if taken == 0:
        return None, "no branch holds"
    assert isinstance(node, ir.Decide)
    target = node.branches[taken - 1].target
    return target, "-> " + (labels.get(target, target) if target is not None else "the pathway ends")


def _describe_guard(node: ir.Node, holds: bool | None, values: Mapping[str, Any], reads: tuple[str, ...],
                    labels: Mapping[str, str]) -> tuple[str | None, str]:
    if holds is None:
        return None, _missing(values, reads)
    if holds:
        verb = "recommend" if isinstance(node, ir.Recommend) else "warn"
        return node.id, f"{verb}: {getattr(node, 'label', node.id)}"
    return None, "does not apply"


__all__ = ["Decision", "Evaluator"]
