"""Phase 7, evaluate: a compiled knowledge base and a validated case -> a `Result`.

`Evaluator` is built once per knowledge base: every condition is compiled to a closure and
every pathway to a table of compiled nodes. `evaluate(case)` then walks each pathway from
its entry: a decision takes the first branch whose condition is true, stops when a
condition is unknown (the facts it lacks go to `needs`, with what each answer would lead
to), and takes `otherwise` when all are false; a guarded recommendation or warning fires
when its guard is true. Safety rules are checked against the case after the pathways.
Evaluation is pure and deterministic: no I/O, no clock, no `eval`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, NamedTuple

from . import ir
from .check import Checked
from .compile import Compiler, Fn, facts_read, thresholds
from .concordance import by_site
from .needs import answers
from .codegen import build
from .plans import lay_out
from .result import (Answers, Need, PlannedSequence, Recommendation, Result, SourceView, TraceStep, Unchecked,
                     Undecided, Warning)


@dataclass(frozen=True, slots=True)
class _Branch:
    test: Fn | None       # None: otherwise
    target: str | None    # None: end
    label: str | None
    index: int = 0        # 1 = the first
    outcome: str = ""     # what the trace says when it is taken


@dataclass(frozen=True, slots=True)
class _Node:
    ir: ir.Node
    kind: str
    branches: tuple[_Branch, ...]     # decisions
    guard: Fn | None                  # recommendations and warnings
    then: tuple[str | None, ...]
    reads: tuple[str, ...]            # facts its conditions depend on
    targets: tuple[str, ...] = ()     # `then` without `end`


@dataclass(frozen=True, slots=True)
class _Pathway:
    ir: ir.Pathway
    entry: str
    nodes: dict[str, _Node]
    order: tuple[str, ...]  # every node after all that lead to it, ties in declaration order


class Decision(NamedTuple):
    """The values of a result alone: what `Evaluator.decide` returns (a tuple: cheap to make)."""

    recommendations: tuple[str, ...]
    warnings: tuple[str, ...]
    needs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Safety:
    ir: ir.Safety
    test: Fn
    reads: tuple[str, ...]


class Evaluator:
    """The compiled form of one checked knowledge base."""

    def __init__(self, checked: Checked, name: str):
        self.checked = checked
        self.name = name
        compiler = Compiler(checked.defines)
        self._defines = checked.defines
        self._pathways = tuple(self._compile_pathway(p, compiler) for p in checked.pathways)
        self.orders = {p.ir.id: p.order for p in self._pathways}
        self._safeties = tuple(_Safety(s, compiler.expr(s.condition), facts_read(s.condition, checked.defines))
                               for s in checked.safeties)
        self._cuts: dict[tuple[str, str], tuple] = {}
        self._pathway_sites = {p.id: p.sites for p in checked.pathways}
        self._pathway_source = {p.id: p.source for p in checked.pathways}
        self._sites = tuple((s.id, s.label, compiler.expr(s.condition)) for s in checked.sites.values())
        self._source_ids = tuple(checked.sources)
        self.fact_labels = {name: fact.label for name, fact in checked.facts.items()}
        self.node_labels = {n.id: getattr(n, "label", None) or getattr(n, "question", None) or n.id
                            for p in checked.pathways for n in p.nodes}
        self._decide, self.generated_source = build(checked, self.orders, self.fact_labels, Decision)

    def _compile_pathway(self, pathway: ir.Pathway, compiler: Compiler) -> _Pathway:
        nodes = {}
        for node in pathway.nodes:
            branches: tuple[_Branch, ...] = ()
            guard = None
            then: tuple = ()
            conditions: list[ir.Expr] = []
            match node:
                case ir.Decide():
                    branches = tuple(_Branch(compiler.expr(b.condition) if b.condition is not None else None,
                                             b.target, b.label, i, _branch_words(b, i))
                                     for i, b in enumerate(node.branches, start=1))
                    conditions = [b.condition for b in node.branches if b.condition is not None]
                case ir.Recommend() | ir.Warn():
                    guard = compiler.expr(node.guard) if node.guard is not None else None
                    conditions = [node.guard] if node.guard is not None else []
                    then = node.then
                case ir.Step():
                    then = node.then
            reads: dict[str, None] = {}
            for condition in conditions:
                reads.update(dict.fromkeys(facts_read(condition, self._defines)))
            nodes[node.id] = _Node(node, type(node).__name__.lower(), branches, guard, then, tuple(reads),
                                   tuple(t for t in then if t is not None))
        return _Pathway(pathway, pathway.nodes[0].id, nodes, topological_order(pathway))

    # ---- evaluation -----------------------------------------------------------------
    def decide(self, case: Mapping[str, Any]) -> Decision:
        """Only the answer: ids of recommendations and warnings, and the facts needed.

        The same walk as `evaluate`, without provenance, trace or the answers of needs, run
        by Python generated from the rules (engine/codegen.py): the path for callers that
        evaluate many cases and want the values alone.
        """
        return self._decide(case)

    def evaluate(self, case: Mapping[str, Any]) -> Result:
        run = _Run(self, case)
        for pathway in self._pathways:
            run.pathway(pathway)
        for safety in self._safeties:
            run.safety(safety)
        by_source: dict[str, tuple[dict, dict]] = {sid: ({}, {}) for sid in self.checked.sources}
        for r in run.recommendations:
            by_source[r.source][0].setdefault(r.id)
        for w in run.warnings:
            if w.source in by_source:
                by_source[w.source][1].setdefault(w.id)
        views = [SourceView(source=sid, title=source.title, recommendations=tuple(by_source[sid][0]),
                            warnings=tuple(by_source[sid][1])) for sid, source in self.checked.sources.items()]
        pending: dict[tuple[str, str], dict[str, None]] = {}
        for pathway_id, facts in run.pending.items():
            for site in self._pathway_sites[pathway_id]:
                pending.setdefault((site, self._pathway_source[pathway_id] or ""), {}).update(facts)
        present = {site: (label, test(case)) for site, label, test in self._sites}
        sites = by_site(run.recommendations, self._pathway_sites, present, self._source_ids,
                        {key: tuple(facts) for key, facts in pending.items()})
        return Result(knowledge_base=self.name, case=dict(case), recommendations=tuple(run.recommendations),
                      warnings=tuple(run.warnings), needs=run.needs(), by_source=tuple(views), by_site=sites,
                      plans=tuple(run.plans), unchecked=tuple(run.unchecked), trace=tuple(run.trace))

    def cuts(self, node: _Node | _Safety, fact: str) -> tuple:
        key = (node.ir.id, fact)
        if key not in self._cuts:
            match node.ir:
                case ir.Decide(branches=branches):
                    conditions = [b.condition for b in branches if b.condition is not None]
                case ir.Safety(condition=condition):
                    conditions = [condition]
                case _:
                    conditions = [node.ir.guard]
            found: set = set()
            for condition in conditions:
                found.update(thresholds(condition, fact, self._defines))
            self._cuts[key] = tuple(found)
        return self._cuts[key]


class _Run:
    """The state of one evaluation; thrown away when the result is built."""

    def __init__(self, evaluator: Evaluator, case: Mapping[str, Any]):
        self.ev = evaluator
        self.case = case
        self.recommendations: list[Recommendation] = []
        self.warnings: list[Warning] = []
        self.plans: list[PlannedSequence] = []
        self.trace: list[TraceStep] = []
        self.unchecked: list[Unchecked] = []
        self.pending: dict[str, dict[str, None]] = {}  # pathway -> facts its undecided nodes need
        self._needs: dict[str, list[Undecided]] = {}

    def read(self, names: tuple[str, ...]) -> tuple[tuple[str, Any], ...]:
        return tuple(zip(names, map(self.case.get, names)))

    def step(self, pathway: str | None, node, kind: str, reads: tuple[str, ...], outcome: str,
             next_nodes: tuple[str, ...] = (), branch: int | None = None) -> None:
        self.trace.append(TraceStep(pathway, node.id, kind, node.span, self.read(reads), outcome, next_nodes,
                                    branch))

    # ---- pathways -------------------------------------------------------------------
    def pathway(self, pathway: _Pathway) -> None:
        pid = pathway.ir.id
        paths: dict[str, tuple[str, ...]] = {pathway.entry: (pathway.entry,)}  # reached nodes, by first path
        for node_id in pathway.order:
            path = paths.get(node_id)
            if path is None:
                continue
            for target in self.node(pid, pathway.nodes[node_id], path):
                if target is not None and target not in paths:
                    paths[target] = path + (target,)

    def node(self, pid: str, node: _Node, path: tuple[str, ...]) -> list[str | None]:
        n = node.ir
        match n:
            case ir.Decide():
                taken = _decide(node, self.case)
                if taken is None:
                    self.step(pid, n, "decide", node.reads, "undecided: needs "
                              + ", ".join(f for f in node.reads if self.case.get(f) is None))
                    self.undecided(pid, node, lambda c: _describe_decision(node, c, self.ev))
                    return []
                if taken is _NO_BRANCH:
                    self.step(pid, n, "decide", node.reads, "no branch holds; the pathway ends here")
                    return []
                self.step(pid, n, "decide", node.reads, taken.outcome,
                          (taken.target,) if taken.target else (), taken.index)
                return [taken.target]
            case ir.Recommend() | ir.Warn():
                kind = node.kind
                holds = True if node.guard is None else node.guard(self.case)
                if holds is None:
                    self.step(pid, n, kind, node.reads, "undecided: needs "
                              + ", ".join(f for f in node.reads if self.case.get(f) is None))
                    self.undecided(pid, node, lambda c: _describe_guard(node, c))
                    return []
                if not holds:
                    self.step(pid, n, kind, node.reads, "does not apply: its condition is false")
                    return []
                if isinstance(n, ir.Recommend):
                    self.recommendations.append(_recommendation(n, pid, path))
                    self.step(pid, n, kind, node.reads, f"recommends ({n.modality.replace('_', ' ')})",
                              node.targets)
                else:
                    self.warnings.append(_warning(n, "pathway", pid))
                    self.step(pid, n, kind, node.reads, f"warns ({n.severity})", node.targets)
                return list(node.then)
            case ir.Step():
                self.step(pid, n, "step", (), "continues", node.targets)
                return list(node.then)
            case ir.Schedule():
                plan = self.ev.checked.plans[n.id]
                laid_out, late = lay_out(plan, self.case, self.ev.fact_labels)
                self.plans.append(laid_out)
                self.warnings.extend(late)
                self.step(pid, n, "schedule", (plan.anchor,), f"lays out the plan '{plan.id}'")
                return []
        raise AssertionError(n)

    def safety(self, safety: _Safety) -> None:
        s = safety.ir
        holds = safety.test(self.case)
        if holds is None:
            # Not a need: a safety rule inspects a proposal, and decides no recommendation.
            missing = tuple(f for f in safety.reads if self.case.get(f) is None)
            self.step(None, s, "safety", safety.reads, "not checked: needs " + ", ".join(missing))
            self.unchecked.append(Unchecked(s.id, s.label, s.severity, missing))
        elif holds:
            self.warnings.append(_warning(s, "safety", None))
            self.step(None, s, "safety", safety.reads, f"raises a {s.severity} warning")
        else:
            self.step(None, s, "safety", safety.reads, "clear")

    # ---- needs ----------------------------------------------------------------------
    def undecided(self, pid: str | None, node: _Node | _Safety,
                  describe: Callable[[Mapping[str, Any]], tuple[str | None, str]]) -> None:
        facts = self.ev.checked.facts
        n = node.ir
        question = getattr(n, "question", None) or n.label
        for fact_id in node.reads:
            if self.case.get(fact_id) is not None:
                continue
            if pid is not None:
                self.pending.setdefault(pid, {})[fact_id] = None
            fact = facts[fact_id]

            def probe(value, fact_id=fact_id):
                return describe({**self.case, fact_id: value})
            found = Answers(lambda fact=fact, probe=probe, fact_id=fact_id: answers(
                fact, probe, self.ev.cuts(node, fact_id)))
            self._needs.setdefault(fact_id, []).append(Undecided(pid, n.id, question, found))

    def needs(self) -> tuple[Need, ...]:
        facts = self.ev.checked.facts
        return tuple(Need(fact=f, label=facts[f].label, question=facts[f].question,
                          type=ir.describe_type(facts[f].type), decides=tuple(decides))
                     for f, decides in self._needs.items())

_NO_BRANCH = _Branch(None, None, "no branch holds")


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


def _node_label(ev: Evaluator, node_id: str | None) -> str:
    if node_id is None:
        return "the pathway ends"
    return ev.node_labels.get(node_id, node_id)


def _branch_words(branch: ir.Branch, index: int) -> str:
    """What the trace says when a branch is taken: `branch 2 (label) -> target`."""
    where = branch.target or "end"
    if branch.condition is None:
        return f"otherwise -> {where}"
    return f"branch {index}" + (f" ({branch.label})" if branch.label else "") + f" -> {where}"


def _describe_decision(node: _Node, case: Mapping[str, Any], ev: Evaluator) -> tuple[str | None, str]:
    taken = _decide(node, case)
    if taken is None:
        missing = [f for f in node.reads if case.get(f) is None]
        return None, "still undecided: needs " + ", ".join(missing)
    if taken is _NO_BRANCH:
        return None, "no branch holds"
    return taken.target, "-> " + _node_label(ev, taken.target)


def _describe_guard(node: _Node, case: Mapping[str, Any]) -> tuple[str | None, str]:
    value = node.guard(case)
    n = node.ir
    verb = "recommend" if isinstance(n, ir.Recommend) else "warn"
    if value is None:
        missing = [f for f in node.reads if case.get(f) is None]
        return None, "still undecided: needs " + ", ".join(missing)
    if value:
        return n.id, f"{verb}: {n.label}"
    return None, "does not apply"


def _recommendation(n: ir.Recommend, pathway: str, path: tuple[str, ...]) -> Recommendation:
    p = n.provenance
    return Recommendation(id=n.id, label=n.label, modality=n.modality, source=p.source, section=p.section,
                          quote=p.quote, refs=p.refs, note=p.note, actions=n.actions, pathway=pathway, path=path)


def _warning(n: ir.Warn | ir.Safety, kind: str, pathway: str | None) -> Warning:
    p = n.provenance
    return Warning(id=n.id, label=n.label, severity=n.severity, kind=kind, source=p.source,
                   section=p.section, quote=p.quote, refs=p.refs, note=p.note, instead=n.instead,
                   pathway=pathway)


__all__ = ["Evaluator", "Decision"]
