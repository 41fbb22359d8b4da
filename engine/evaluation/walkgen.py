"""Generated Python for the full evaluation: one function that walks every pathway of a case
and records what `Result` is made of.

`build` returns `walk(case)`, which gives, in the order the rules are visited:

- the recommendations (with their path from the pathway's entry) and warnings that fire;
- the trace, one `TraceStep` per node visited and per safety rule, with the facts read;
- the undecided nodes, each with the facts its conditions read (the missing ones are the
  needs; `Evaluator` works out what each answer would lead to, only when asked);
- the plans laid out, the safety rules left unchecked, and whether the case has each site.

It is written from the IR like the values-only `decide` (engine/codegen.py), by the same
expression writer and with the same layout of each pathway (`codegen.layout`): each fact
read once, each definition computed once, each pathway's nodes in the evaluator's order,
a node with one way in written inside the node that leads to it. What is the same
for every case (a trace step's pathway, node, span and outcome words, a warning, the
provenance of a recommendation) is made once, when the knowledge base is loaded, and the
generated code refers to it by position: per case it only builds what depends on the case.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

from ..lang import ir
from ..lang.check import Checked
from .codegen import Writer, make, reads_of
from .compile import facts_read
from .plans import Timetable
from .result import Recommendation, TraceStep, Unchecked, Warning


class OpenNode(NamedTuple):
    """What the walk records for a node a missing fact leaves open (see `Evaluator._needs_of`)."""

    pathway: str | None
    node: ir.Node
    question: str  # what the node asks, in words


def branch_words(branch: ir.Branch, index: int) -> str:
    """What the trace says when a branch is taken: `branch 2 (label) -> target`."""
    where = branch.target or "end"
    if branch.condition is None:
        return f"otherwise -> {where}"
    return f"branch {index}" + (f" ({branch.label})" if branch.label else "") + f" -> {where}"


NO_BRANCH = "no branch holds; the pathway ends here"


def _undecided_words(read: tuple[tuple[str, Any], ...]) -> str:
    return "undecided: needs " + ", ".join([name for name, value in read if value is None])


def _missing(read: tuple[tuple[str, Any], ...]) -> tuple[str, ...]:
    return tuple([name for name, value in read if value is None])


def warning(n: ir.Warn | ir.Safety, kind: str, pathway: str | None) -> Warning:
    p = n.provenance
    return Warning(id=n.id, label=n.label, severity=n.severity, kind=kind, source=p.source,
                   section=p.section, quote=p.quote, refs=p.refs, note=p.note, instead=n.instead,
                   pathway=pathway)


class _WalkWriter(Writer):
    """Emits the body of `walk`; `self.paths` names each node's path variable (None: not
    reached), `self.pairs` each fact's (name, value) pair as trace steps read it."""

    def __init__(self, checked: Checked):
        super().__init__(checked)
        self.pairs: dict[str, str] = {}

    def read(self, names: tuple[str, ...], indent: int) -> str | None:
        """A tuple of (fact, value) for the trace; None when the node reads nothing."""
        if not names:
            return None
        t = self.fresh()
        self.emit(indent, f"{t} = ({''.join(self.pairs[name] + ', ' for name in names)})")
        return t

    def step(self, indent: int, pathway: str | None, node, kind: str, read: str | None, words: str = "", *,
             following: tuple[str, ...] = (), branch: int | None = None, outcome_code: str | None = None) -> None:
        """Append a trace step. Its outcome is `words`, or what `outcome_code` computes per case."""
        if read is None and outcome_code is None:  # the same for every case: made once
            self.emit(indent, f"trace({self.const(TraceStep(pathway, node.id, kind, node.span, (), words, following, branch))})")
            return
        fields = (self.const(pathway), self.const(node.id), self.const(kind), self.const(node.span),
                  read or self.const(()), outcome_code or self.const(words), self.const(following), self.const(branch))
        self.emit(indent, f"trace(new(TraceStep, ({', '.join(fields)})))")

    def undecided(self, indent: int, pathway: str | None, node, kind: str, read: str | None) -> None:
        read = read or self.const(())  # a condition of constants alone is unknown only when it divides by 0
        self.step(indent, pathway, node, kind, read, outcome_code=f"undecided_words({read})")
        open_node = OpenNode(pathway, node, getattr(node, "question", None) or node.label)
        self.emit(indent, f"undecided(({self.const(open_node)}, {read}))")

    def reach(self, indent: int, source: ir.Node, targets) -> None:
        """What reaching each target from `source` does: set its path, and run it here when
        `source` holds it (see codegen.layout)."""
        for target in targets:
            if target is None:
                continue
            var = self.paths[target]
            held = self.holder[target] == source.id
            if self.fixed[target] is not None:  # one way in: the same path every time
                self.emit(indent, f"{var} = {self.const(self.fixed[target])}")
            elif held:
                self.emit(indent, f"{var} = {self.paths[source.id]} + ({self.const(target)},)")
            else:  # the first way in, in the evaluator's order, gives the path
                self.emit(indent, f"if {var} is None:")
                self.emit(indent + 1, f"{var} = {self.paths[source.id]} + ({self.const(target)},)")
            if held:
                self.node(self.nodes[target], indent)

    def pathway(self, pathway: ir.Pathway, order: tuple[str, ...], holder: dict[str, str | None], defines) -> None:
        self.pid, self.defines = pathway.id, defines
        self.nodes = {n.id: n for n in pathway.nodes}
        self.paths = {node_id: f"p{i}_{self.temp}" for i, node_id in enumerate(order)}
        self.fixed = fixed_paths(pathway, order)
        self.holder = holder
        self.temp += 1
        entry = pathway.nodes[0].id
        for node_id in order:
            if self.holder[node_id] is None:
                self.emit(1, f"{self.paths[node_id]} = {self.const((entry,)) if node_id == entry else 'None'}")
        for node_id in order:
            if node_id == entry:
                self.node(self.nodes[node_id], 1)
            elif self.holder[node_id] is None:
                self.emit(1, f"if {self.paths[node_id]} is not None:")
                self.node(self.nodes[node_id], 2)

    def node(self, node: ir.Node, depth: int) -> None:
        match node:
            case ir.Decide():
                self.decision(node, depth)
            case ir.Recommend() | ir.Warn():
                self.rule(node, depth)
            case ir.Step():
                self.step(depth, self.pid, node, "step", None, "continues", following=_targets(node))
                self.reach(depth, node, node.then)
            case ir.Schedule():
                plan = self.checked.plans[node.id]
                laid = self.fresh()
                self.emit(depth, f"{laid}, late = {self.const(Timetable(plan, self.labels))}.lay_out(case)")
                self.emit(depth, f"plans({laid})")
                self.emit(depth, "warns.extend(late)")
                self.step(depth, self.pid, node, "schedule", self.read((plan.anchor,), depth),
                          f"lays out the plan '{plan.id}'")

    def decision(self, node: ir.Decide, depth: int) -> None:
        pid = self.pid
        read = self.read(reads_of(node, self.defines), depth)
        for index, branch in enumerate(node.branches, start=1):
            taken = {"following": (branch.target,) if branch.target else (), "branch": index}
            if branch.condition is None:
                self.step(depth, pid, node, "decide", read, branch_words(branch, index), **taken)
                self.reach(depth, node, (branch.target,))
                return
            v = self.expr(branch.condition, depth)
            self.emit(depth, f"if {v} is True:")
            self.step(depth + 1, pid, node, "decide", read, branch_words(branch, index), **taken)
            self.reach(depth + 1, node, (branch.target,))
            self.emit(depth, f"elif {v} is None:")
            self.undecided(depth + 1, pid, node, "decide", read)
            self.emit(depth, "else:")
            depth += 1
        self.step(depth, pid, node, "decide", read, NO_BRANCH)

    def rule(self, node: ir.Recommend | ir.Warn, depth: int) -> None:
        pid = self.pid
        kind = type(node).__name__.lower()
        read = self.read(reads_of(node, self.defines) if node.guard is not None else (), depth)
        if node.guard is not None:
            v = self.expr(node.guard, depth)
            self.emit(depth, f"if {v} is None:")
            self.undecided(depth + 1, pid, node, kind, read)
            self.emit(depth, f"elif {v} is not True:")
            self.step(depth + 1, pid, node, kind, read, "does not apply: its condition is false")
            self.emit(depth, "else:")
            depth += 1
        if isinstance(node, ir.Recommend):
            p = node.provenance
            head = (node.id, node.label, node.modality, p.source, p.section, p.quote, p.refs, p.note, node.actions, pid)
            if self.fixed[node.id] is not None:
                self.emit(depth, f"recs({self.const(Recommendation(*head, self.fixed[node.id]))})")
            else:
                self.emit(depth, f"recs(new(Recommendation, {self.const(head)} + ({self.paths[node.id]},)))")
            outcome = f"recommends ({node.modality.replace('_', ' ')})"
        else:
            self.emit(depth, f"warns.append({self.const(warning(node, 'pathway', pid))})")
            outcome = f"warns ({node.severity})"
        self.step(depth, pid, node, kind, read, outcome, following=_targets(node))
        self.reach(depth, node, node.then)

    def safety(self, safety: ir.Safety, reads: tuple[str, ...]) -> None:
        read = self.read(reads, 1) or self.const(())
        v = self.expr(safety.condition, 1)
        self.emit(1, f"if {v} is None:")
        missing = self.fresh()
        self.emit(2, f"{missing} = missing({read})")
        self.step(2, None, safety, "safety", read,
                  outcome_code=f"{self.const('not checked: needs ')} + ', '.join({missing})")
        self.emit(2, f"unchecked({self.const(Unchecked)}({self.const(safety.id)}, {self.const(safety.label)}, "
                     f"{self.const(safety.severity)}, {missing}))")
        self.emit(1, f"elif {v}:")
        self.emit(2, f"warns.append({self.const(warning(safety, 'safety', None))})")
        self.step(2, None, safety, "safety", read, f"raises a {safety.severity} warning")
        self.emit(1, "else:")
        self.step(2, None, safety, "safety", read, "clear")


def fixed_paths(pathway: ir.Pathway, order: tuple[str, ...]) -> dict[str, tuple[str, ...] | None]:
    """Each node's path from the entry when only one exists (None when it depends on the case)."""
    parents: dict[str, set[str]] = {n.id: set() for n in pathway.nodes}
    for node in pathway.nodes:
        for target, _ in ir.successors(node):
            if target is not None:
                parents[target].add(node.id)
    fixed: dict[str, tuple[str, ...] | None] = {}
    for node_id in order:  # parents first
        if node_id == pathway.nodes[0].id:
            fixed[node_id] = (node_id,)
        elif len(parents[node_id]) == 1 and (above := fixed[next(iter(parents[node_id]))]) is not None:
            fixed[node_id] = above + (node_id,)
        else:
            fixed[node_id] = None
    return fixed


def _targets(node) -> tuple[str, ...]:
    return tuple(t for t in node.then if t is not None)


def generate(checked: Checked, orders: dict[str, tuple[str, ...]],
             layouts: dict[str, dict[str, str | None]]) -> tuple[str, list[Any]]:
    """The source of `make(K, ...)`, which returns `walk(case)`, and the constants K it needs
    (`orders` and `layouts` as for `codegen.generate`)."""
    w = _WalkWriter(checked)
    w.facts_and_definitions()
    for i, name in enumerate(checked.facts):  # each fact and its value, as every trace step reads it
        w.pairs[name] = f"q{i}"
        w.emit(1, f"q{i} = ({w.const(name)}, {w.fact_vars[name]})")
    w.emit(1, "recs_list, warns, trace_list, undecided_list, plans_list, unchecked_list = [], [], [], [], [], []")
    w.emit(1, "recs, trace, undecided = recs_list.append, trace_list.append, undecided_list.append")
    w.emit(1, "plans, unchecked = plans_list.append, unchecked_list.append")
    for pathway in checked.pathways:
        w.pathway(pathway, orders[pathway.id], layouts[pathway.id], checked.defines)
    for safety in checked.safeties:
        w.safety(safety, tuple(dict.fromkeys(facts_read(safety.condition, checked.defines))))
    present = [w.expr(site.condition, 1) for site in checked.sites.values()]
    w.emit(1, f"return (recs_list, warns, trace_list, undecided_list, plans_list, unchecked_list, "
              f"({''.join(p + ', ' for p in present)}))")
    return w.source("walk", ("new", "TraceStep", "Recommendation", "undecided_words", "missing")), w.constants


def build(checked: Checked, orders: dict[str, tuple[str, ...]], layouts: dict[str, dict[str, str | None]]) -> Callable:
    """The generated `walk(case)`; see the module's docstring for what it returns."""
    source, constants = generate(checked, orders, layouts)
    return make(source, constants, "<consilium generated walk>", tuple.__new__, TraceStep, Recommendation,
                _undecided_words, _missing)


__all__ = ["build", "generate", "OpenNode"]
