"""Phase 7, evaluate: a compiled knowledge base and a validated case -> a `Result`.

`Evaluator` is built once per knowledge base. A case is walked by Python generated from
the rules (engine/walkgen.py): each pathway from its entry, a decision taking the first
branch whose condition is true, stopping when a condition is unknown (the facts it lacks
go to `needs`) and taking `otherwise` when all are false; a guarded recommendation or
warning fires when its guard is true; safety rules are checked after the pathways. This
module turns what the walk records into a `Result`: needs with what each answer would
lead to (worked out from closures of the conditions, only when read), the view per source
and per site. `decide` is the values-only walk (engine/codegen.py).
Evaluation is pure and deterministic: no I/O, no clock, no `eval` of rule text.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, Mapping, NamedTuple

from . import codegen
from ..lang import ir
from . import walkgen
from ..lang.check import Checked
from .compile import Compiler, Fn, thresholds
from .advice import Advice, Advisor
from .concordance import Concordance
from .needs import answers
from .result import Answers, Need, Result, SourceView, Undecided


_new = tuple.__new__  # makes a named tuple from its fields without the Python-level __new__


@dataclass(frozen=True, slots=True)
class _Branch:
    test: Fn | None       # None: otherwise
    target: str | None    # None: end


@dataclass(frozen=True, slots=True)
class _Node:
    """A node's conditions as closures: to work out what each answer to a need leads to."""

    ir: ir.Node
    branches: tuple[_Branch, ...]     # decisions
    guard: Fn | None                  # recommendations and warnings
    reads: tuple[str, ...]            # facts its conditions depend on


class Decision(NamedTuple):
    """The values of a result alone: what `Evaluator.decide` returns (a tuple: cheap to make)."""

    recommendations: tuple[str, ...]
    warnings: tuple[str, ...]
    needs: tuple[str, ...]


class Evaluator:
    """The compiled form of one checked knowledge base."""

    def __init__(self, checked: Checked, name: str):
        self.checked = checked
        self.name = name
        self._defines = checked.defines
        self.orders = {p.id: topological_order(p) for p in checked.pathways}
        self.node_labels = {n.id: getattr(n, "label", None) or getattr(n, "question", None) or n.id
                            for p in checked.pathways for n in p.nodes}
        self._compiler = Compiler(checked.defines)
        self._nodes: dict[str, _Node] = {}  # compiled when a need first asks
        self._cuts: dict[tuple[str, str], tuple] = {}
        self._needs = {name: (fact.label, fact.question, ir.describe_type(fact.type))
                       for name, fact in checked.facts.items()}
        self._sources = tuple((sid, source.title) for sid, source in checked.sources.items())
        rules = {n.id: n for p in checked.pathways for n in p.nodes if isinstance(n, ir.Recommend)}
        self._concordance = Concordance({s.id: s.label for s in checked.sites.values()}, tuple(checked.sources),
                                        rules, checked.pathways)
        layouts = {p.id: codegen.layout(p, self.orders[p.id]) for p in checked.pathways}
        self._walk = walkgen.build(checked, self.orders, layouts)
        self._decide = codegen.build(checked, self.orders, layouts, Decision)
        self._advisor = Advisor(checked, self.value)

    # ---- evaluation -----------------------------------------------------------------
    def decide(self, case: Mapping[str, Any]) -> Decision:
        """Only the answer: ids of recommendations and warnings, and the facts needed.

        The same walk as `evaluate`, without provenance, trace or the answers of needs: the
        path for callers that evaluate many cases and want the values alone.
        """
        return self._decide(case)

    def evaluate(self, case: Mapping[str, Any]) -> Result:
        case = dict(case)  # the result's own: what its needs' answers are worked out from, later
        recommendations, warnings, trace, undecided, plans, unchecked, present = self._walk(case)
        needs, pending = self._needs_of(case, undecided)
        advice = Advice(self._advisor, case, recommendations, [r.id for r in recommendations]
                        + [w.id for w in warnings], [d.node for n in needs for d in n.decides])
        return _new(Result, (self.name, case, tuple(recommendations), tuple(warnings), needs,
                             self._by_source(recommendations, warnings),
                             self._concordance.views(recommendations, present, pending),
                             tuple(plans), tuple(unchecked), tuple(trace), advice))

    def _by_source(self, recommendations, warnings) -> tuple[SourceView, ...]:
        found: dict[str | None, tuple[dict, dict]] = {sid: ({}, {}) for sid, _ in self._sources}
        for r in recommendations:
            found[r.source][0][r.id] = None
        for w in warnings:
            if w.source in found:
                found[w.source][1][w.id] = None
        return tuple([_new(SourceView, (sid, title, tuple(found[sid][0]), tuple(found[sid][1])))
                      for sid, title in self._sources])

    def _needs_of(self, case: Mapping[str, Any], undecided) -> tuple[tuple[Need, ...], dict[str, tuple[str, ...]]]:
        """The needs, fact by fact in the order first met, and per pathway the facts it waits for."""
        decides: dict[str, list[Undecided]] = {}
        pending: dict[str, dict[str, None]] = {}
        answers_of = self._answers
        for (pathway, node, question), read in undecided:
            for fact, value in read:
                if value is None:
                    if pathway is not None:
                        pending.setdefault(pathway, {})[fact] = None
                    found = Answers(partial(answers_of, node, fact, case))
                    decides.setdefault(fact, []).append(_new(Undecided, (pathway, node.id, question, found)))
        needs = tuple([_new(Need, (fact, *self._needs[fact], tuple(nodes))) for fact, nodes in decides.items()])
        return needs, {pathway: tuple(facts) for pathway, facts in pending.items()}

    def value(self, expr: ir.Expr, case: Mapping[str, Any]) -> Any:
        """The value of one expression (resolved against this knowledge base) for a case; None: unknown."""
        return self._compiler.expr(expr)(case)

    # ---- what each answer would lead to ------------------------------------------------
    def _answers(self, node: ir.Node, fact: str, case: Mapping[str, Any]):
        compiled = self._compiled(node)
        describe = _describe_decision if isinstance(node, ir.Decide) else _describe_guard

        def probe(value):
            return describe(compiled, {**case, fact: value}, self)
        return answers(self.checked.facts[fact], probe, self.cuts(node, fact))

    def _compiled(self, node: ir.Node) -> _Node:
        compiled = self._nodes.get(node.id)
        if compiled is None:
            expr = self._compiler.expr
            match node:
                case ir.Decide():
                    branches = tuple(_Branch(expr(b.condition) if b.condition is not None else None, b.target)
                                     for b in node.branches)
                    compiled = _Node(node, branches, None, codegen.reads_of(node, self._defines))
                case _:
                    compiled = _Node(node, (), expr(node.guard), codegen.reads_of(node, self._defines))
            self._nodes[node.id] = compiled
        return compiled

    def cuts(self, node: ir.Node, fact: str) -> tuple:
        """The constants `fact` is compared with in the node's conditions: where its answers change."""
        key = (node.id, fact)
        if key not in self._cuts:
            conditions = ([b.condition for b in node.branches if b.condition is not None]
                          if isinstance(node, ir.Decide) else [node.guard])
            found: set = set()
            for condition in conditions:
                found.update(thresholds(condition, fact, self._defines))
            self._cuts[key] = tuple(found)
        return self._cuts[key]

def topological_order(pathway: ir.Pathway) -> tuple[str, ...]:
    """The nodes so that each comes after every node leading to it; ties in declaration order."""
    import heapq
    successors = ir.successors
    index = {n.id: i for i, n in enumerate(pathway.nodes)}
    waiting = {n.id: 0 for n in pathway.nodes}
    for node in pathway.nodes:
        for target in {t for t, _ in successors(node) if t is not None}:
            waiting[target] += 1
    ready = [index[n] for n, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        node = pathway.nodes[heapq.heappop(ready)]
        order.append(node.id)
        for target in {t for t, _ in successors(node) if t is not None}:
            waiting[target] -= 1
            if waiting[target] == 0:
                heapq.heappush(ready, index[target])
    return tuple(order)


def _decide(node: _Node, case: Mapping[str, Any]) -> _Branch | None:
    """The branch taken; None when a condition is unknown; _NO_BRANCH when none holds."""
    for branch in node.branches:
        if branch.test is None:
            return branch
        value = branch.test(case)
        if value is True:
            return branch
        if value is None:
            return None
    return _NO_BRANCH


_NO_BRANCH = _Branch(None, None)


def _node_label(ev: Evaluator, node_id: str | None) -> str:
    if node_id is None:
        return "the pathway ends"
    return ev.node_labels.get(node_id, node_id)


def _describe_decision(node: _Node, case: Mapping[str, Any], ev: Evaluator) -> tuple[str | None, str]:
    taken = _decide(node, case)
    if taken is None:
        missing = [f for f in node.reads if case.get(f) is None]
        return None, "still undecided: needs " + ", ".join(missing)
    if taken is _NO_BRANCH:
        return None, "no branch holds"
    return taken.target, "-> " + _node_label(ev, taken.target)


def _describe_guard(node: _Node, case: Mapping[str, Any], ev: Evaluator) -> tuple[str | None, str]:
    value = node.guard(case)
    n = node.ir
    verb = "recommend" if isinstance(n, ir.Recommend) else "warn"
    if value is None:
        missing = [f for f in node.reads if case.get(f) is None]
        return None, "still undecided: needs " + ", ".join(missing)
    if value:
        return n.id, f"{verb}: {n.label}"
    return None, "does not apply"


__all__ = ["Evaluator", "Decision"]
