"""The pathway walker: one pathway (or the safety rules, or the sites) -> one generated function.

One walker writes both kinds of function, switched by `record`:

- `decide_<pathway>` (record off) appends the ids of the recommendations and warnings that
  fire, and the facts an undecided node still needs, and nothing else: the values only;
- `walk_<pathway>` (record on) appends what a `Result` is made of: each recommendation with
  its provenance and its path from the entry, each warning, a trace step per node visited
  (the facts it read, with their values, and what it did, in words and as a code), the
  nodes a missing fact leaves open, the plans laid out.

Nodes run in the pathway's order (`PathwayShape.order`): a decision takes the first branch
whose condition is true, stops when one is unknown, takes `otherwise` when all are false; a
guarded rule fires when its guard is true. A node with one way in is written inside the
node that leads to it where that keeps the order (layout.py); the others run behind a
flag (`reached_x`, or in a walk its path `path_x`). What is the same for every case (a
trace step, a warning, a recommendation with one path) is made once, at load, and held by
a global of the generated module: a trace step that reads facts is a `StepPlan`, whose
values `result.Trace` fills in from the case when the trace is read, and the words of an
open one from the facts that could decide it (those the walk's open nodes give the result's
needs: `relevant`), so the walk appends a constant per node.
"""

from __future__ import annotations

from collections import Counter
from functools import partial
from typing import Callable, NamedTuple

from ...lang import ir
from ...lang.checked import Checked
from ...lang.reads import conditions_of, facts_read, reads_of
from ...lang.shape import PathwayShape
from ...lang.unknowns import why_unknown
from ..needs import missing_facts_decide, open_key
from ..plans import Timetable
from ..result import NOT_CHECKED_NEEDS, UNDECIDED_NEEDS, Recommendation, RuleWarning, StepPlan, TraceStep
from .layout import holders
from .writer import Flat, Function, Module

NO_BRANCH = "no branch holds; the pathway ends here"


class OpenNode(NamedTuple):
    """A node a missing fact leaves open: the walk records its `open_key` (needs.py), which
    `open_nodes` turns back into this."""

    pathway: str | None
    node: str
    question: str  # what the node asks, in words


def question_of(node: ir.Node) -> str:
    """What an open node asks, in words: a decision's question, a rule's label."""
    return node.question if isinstance(node, ir.Decide) else str(getattr(node, "label", node.id))


def open_nodes(checked: Checked) -> dict[str, OpenNode]:
    """Every node the walk may record as open, by its `open_key`."""
    found = {open_key(p.id, n.id): OpenNode(p.id, n.id, question_of(n)) for p in checked.pathways for n in p.nodes}
    found.update({open_key(None, s.id): OpenNode(None, s.id, s.label) for s in checked.safeties})
    return found


def branch_words(branch: ir.Branch, index: int) -> str:
    """What the trace says when a branch is taken: `branch 2 (label) -> target`."""
    where = branch.target or "end"
    if branch.condition is None:
        return f"otherwise -> {where}"
    return f"branch {index}" + (f" ({branch.label})" if branch.label else "") + f" -> {where}"


def rule_warning(n: ir.Warn | ir.Safety, kind: str, pathway: str | None) -> RuleWarning:
    p = n.provenance
    return RuleWarning(id=n.id, label=n.label, severity=n.severity, kind=kind, source=p.source,
                       section=p.section, quote=p.quote, refs=p.refs, note=p.note, instead=n.instead,
                       pathway=pathway)


def describe(node: ir.Node | ir.Safety) -> str:
    """A node in the words of its rule file, for the comment above its code."""
    kind = type(node).__name__.lower()
    words = getattr(node, "question", None) or getattr(node, "label", None)
    text = f"{kind} {node.id}" + (f' "{words}"' if words and kind != "schedule" else "")
    return text.replace("\n", " ")[:100]


def parameters_of(pathway: ir.Pathway, record: bool) -> list[str]:
    """What a pathway's function is given: only what its nodes use (each costs every call)."""
    kinds = {type(n) for n in pathway.nodes}
    conditional = any(conditions_of(n) for n in pathway.nodes)
    wanted = {"case": conditional or ir.Schedule in kinds,
              "recs": ir.Recommend in kinds, "warns": bool(kinds & {ir.Warn, ir.Schedule}),
              "needs": conditional and not record, "trace": record, "undecided": conditional and record,
              "plans": ir.Schedule in kinds and record}
    return [name for name, used in wanted.items() if used]



# `decide` keeps the facts a case needs, each once, in the order first met. A list, each name
# tested with `not in`, costs least for a knowledge base of a few dozen facts (a dict and its
# table cost 8 % of the bench decision's row); but `not in` reads the whole list, so for many
# facts a case can need hundreds and the test grows with them: `decide` on 60 copies of the
# bundled knowledge base cost 10.8 times its 10 copies' (bench_scale.py), against 7.2 with a dict.
NEEDS_IN_A_LIST = 64  # facts at most


def needs_in_a_dict(checked: Checked) -> bool:
    """Whether `decide` keeps its needs in a dict (a knowledge base of many facts) or a list."""
    return len(checked.facts) > NEEDS_IN_A_LIST


class PathwayWriter:
    """Writes one pathway's function into a module; `record` switches the trace on."""

    def __init__(self, module: Module, checked: Checked, shape: PathwayShape, *, record: bool,
                 timetables: dict[str, Timetable], given: dict[str, str]):
        """`given`: the definitions its caller computes and passes, and the parameter of each."""
        self.checked, self.shape, self.record, self.timetables, self.given = checked, shape, record, timetables, given
        self.pid: str | None = shape.id
        self.holder = holders(shape)
        name = f"{'walk' if record else 'decide'}_{shape.id}"
        parameters = ", ".join([*parameters_of(shape.pathway, record), *given.values()])
        self.f = module.function(module.names.take(name), parameters, checked.defines)
        self.flags: dict[str, str] = {}
        self.reads: dict[str, tuple[str, ...]] = {n.id: reads_of(n, checked.defines) for n in shape.pathway.nodes}

    def write(self) -> Function:
        f, shape = self.f, self.shape
        nodes = shape.pathway.nodes
        # What each node reads: a fact or definition that one node alone uses is read or computed
        # there, only when the case reaches it; the others once, at the top of the function.
        self.here: dict[str, set[str]] = {}  # the facts each node read where it runs
        self.uses = {n.id: (conditions_of(n), self.schedule_facts(n)) for n in nodes}
        f.given = dict(self.given)
        f.opaque = not self.record  # decide needs no fact of a definition it is given: the needs read them
        counts: Counter[str] = Counter()
        for exprs, facts in self.uses.values():
            found, read = f.reach(exprs)
            counts.update(found | set(read) | set(facts))
        shared = [name for name, n in counts.items() if n > 1]
        f.prepare([ir.DefineRef(id=name) for name in shared if name in self.checked.defines],
                  [name for name in shared if name not in self.checked.defines],
                  given=f.given)
        for node_id in shape.order:
            flag = "path_" if self.record else "reached_"
            self.flags[node_id] = f.locals.take(flag + node_id)
        for node_id in shape.order:
            if self.holder[node_id] is None and node_id != shape.entry:
                f.emit(0, f"{self.flags[node_id]} = {'None' if self.record else 'False'}")
        for node_id in shape.order:
            node = shape.nodes[node_id]
            if node_id == shape.entry:
                if self.record and self.path_read(node_id):
                    f.emit(0, f"{self.flags[node_id]} = {f.const((node_id,))}")
                self.node(node, 0)
            elif self.holder[node_id] is None:
                f.emit(0, f"if {self.flags[node_id]}{' is not None' if self.record else ''}:")
                self.block(1, partial(self.node, node, 1))
        return f

    # ---- what reaching a node does ------------------------------------------------------------
    def lead(self, indent: int, source: ir.Node, target: str | None) -> None:
        """Reach `target` from `source`: set its flag (or path), and write it here when `source` holds it."""
        if target is None:
            return
        f, flag = self.f, self.flags[target]
        held = self.holder[target] == source.id
        if self.record:
            fixed = self.shape.fixed_paths[target]
            if fixed is not None:
                if not held or self.path_read(target):  # else its path is a constant wherever it is needed
                    f.emit(indent, f"{flag} = {f.const(fixed)}")
            elif held:
                f.emit(indent, f"{flag} = {self.flags[source.id]} + ({target!r},)")
            else:  # the first way in, in the pathway's order, gives the path
                f.emit(indent, f"if {flag} is None:")
                f.emit(indent + 1, f"{flag} = {self.flags[source.id]} + ({target!r},)")
        elif not held:
            f.emit(indent, f"{flag} = True")
        if held:
            self.node(self.shape.nodes[target], indent)

    def path_read(self, node_id: str) -> bool:
        """Does the code read the node's path variable (beyond a constant path)? Its flag, a
        recommendation's path, or a target's path made from it do."""
        fixed = self.shape.fixed_paths
        node = self.shape.nodes[node_id]
        return ((self.holder[node_id] is None and node_id != self.shape.entry)
                or (isinstance(node, ir.Recommend) and fixed[node_id] is None)
                or any(fixed[t] is None for t in self.shape.edges[node_id]))

    def block(self, indent: int, write: Callable[[], None]) -> None:
        """Write a block's body; `pass` when it comes out empty."""
        before = len(self.f.body)
        write()
        if all(line.lstrip().startswith("#") for line, _ in self.f.body[before:]):
            self.f.emit(indent, "pass")

    # ---- nodes ------------------------------------------------------------------------------
    def schedule_facts(self, node: ir.Node) -> list[str]:
        """The facts a schedule reads: its plan's anchor in a walk (for the trace); in decide, the
        actual dates of its steps, which alone can make one late."""
        if not isinstance(node, ir.Schedule):
            return []
        plan = self.checked.plans[node.id]
        return [plan.anchor] if self.record else [s.actual for s in plan.steps if s.actual]

    def node(self, node: ir.Node, indent: int) -> None:
        exprs, facts = self.uses[node.id]
        f = self.f
        f.comment(indent, node.span, describe(node))
        before = len(f.body)
        self.here[node.id] = f.load(indent, exprs, facts)  # what this node alone reads
        if any(line.lstrip().startswith("#") for line, _ in f.body[before:]):  # a definition's code came between
            f.comment(indent, node.span, describe(node))
        match node:
            case ir.Decide():
                self.decision(node, indent)
            case ir.Recommend() | ir.Warn():
                self.rule(node, indent)
            case ir.Step():
                if self.record:
                    self.step(indent, node, "step", (), "continues", "continues", following=_targets(node))
                for target in node.then:
                    self.lead(indent, node, target)
            case ir.Schedule():
                self.schedule(node, indent)

    def read(self, node: ir.Node | ir.Safety, names: tuple[str, ...], indent: int) -> tuple[str, ...]:
        """The facts a node reads, for its trace step (none in decide)."""
        return names if self.record else ()

    def step(self, indent: int, node: ir.Node | ir.Safety, kind: str, read: tuple[str, ...], words: str, code: str,
             *, following: tuple[str, ...] = (), branch: int | None = None, needs: str | None = None,
             otherwise: str | None = None) -> None:
        """Append a trace step, made once, at load: the facts it read and, with `needs`, its
        words (`needs` and the missing facts that could decide the node, or `otherwise` when
        none could) are filled in from the case when the trace is read (result.Trace), not by
        the walk."""
        made = TraceStep(self.pid, node.id, kind, node.span, (), words, following, branch, code)
        if read or needs is not None:
            made = StepPlan(made, read, needs, otherwise)  # type: ignore[assignment]
        self.f.emit(indent, f"trace.append({self.f.const(made, 'STEP_' + node.id)})")

    def open(self, indent: int, node: ir.Decide | ir.Recommend | ir.Warn, kind: str, read: tuple[str, ...],
             unknown: str | None, condition: ir.Expr) -> None:
        """A missing fact leaves the node open: its needs (values), or its undecided step (walk).
        Which missing facts it needs, `relevant` (evaluation/needs.py) says from the node and the
        values it read: only those whose answers could still decide it. `unknown`: a local known to be
        None here (a bare fact needs no second test), if any; `condition`: the one left open (a
        decision's branch, a rule's guard)."""
        f = self.f
        # (the node, then the values it read, flat: what its needs are worked out and kept by)
        key = [f.const(open_key(self.pid, node.id))]
        if not self.record:
            if not self.reads[node.id]:  # constants alone are unknown only when they divide by 0
                f.emit(indent, "pass")
                return
            exprs, facts = self.uses[node.id]
            own = set(f.reach(exprs)[1]) | set(facts)  # what this node read, where it runs
            values = []
            for name in self.reads[node.id]:  # a fact only a given definition reads is read here
                # a fact read where another node runs may be unread on this path: read it here
                at_hand = name in f.top_facts or name in own
                var = f.facts.get(name) if at_hand else None
                values.append(var or f"{f.reader}({name!r})")
            if missing_facts_decide(condition, self.checked.defines):  # no call needed
                before = len(f.body)
                wanted = set(facts_read(condition, self.checked.defines))
                for name, value in zip(self.reads[node.id], values, strict=True):
                    if name not in wanted or value in f.sure:  # another branch's; or tested above: given
                        continue
                    if needs_in_a_dict(self.checked):  # (see needs_in_a_dict)
                        if value == unknown:
                            f.emit(indent, f"needs[{name!r}] = None")
                        else:
                            f.emit(indent, f"if {value} is None:")
                            f.emit(indent + 1, f"needs[{name!r}] = None")
                        continue
                    if value == unknown:
                        f.emit(indent, f"if {name!r} not in needs:")
                    else:
                        f.emit(indent, f"if {value} is None and {name!r} not in needs:")
                    f.emit(indent + 1, f"needs.append({name!r})")
                if len(f.body) == before:  # nothing it reads can be missing here (a fact tested above is given)
                    f.emit(indent, "pass")
                return
            if needs_in_a_dict(self.checked):
                f.emit(indent, f"needs.update(dict.fromkeys(relevant({_tuple(key + values)})))")
                return
            # (`relevant` names each fact once; `n` is the comprehension's own, whatever the ids)
            f.emit(indent, f"needs.extend([n for n in relevant({_tuple(key + values)}) if n not in needs])")
            return
        names = self.reads[node.id]
        conditions = [b.condition for b in node.branches] if isinstance(node, ir.Decide) else [node.guard]
        why = why_unknown(conditions, self.checked.defines)
        # no missing fact could decide it and still no value: the words say why (a division by zero, a date...)
        reason = f"undecided: a condition has no value for this case ({why})" if why else None
        self.step(indent, node, kind, read, "", "undecided", needs=UNDECIDED_NEEDS, otherwise=reason)
        # (the node and the values it read, flat: what the evaluator's `relevant` works out and keeps
        # its needs by)
        key += [f.facts[name] for name in names]
        f.emit(indent, f"undecided.append({_tuple(key)})")  # a tuple even when the node reads no fact (1 / 0)

    def decision(self, node: ir.Decide, indent: int) -> None:
        f = self.f
        read = self.read(node, self.reads[node.id], indent)
        given: list[str] = []  # the locals known not to be None in the code below a test for it
        for index, branch in enumerate(node.branches, start=1):
            following = (branch.target,) if branch.target else ()
            if branch.condition is None:
                if self.record:
                    self.step(indent, node, "decide", read, branch_words(branch, index), "otherwise",
                              following=following, branch=index)
                self.lead(indent, node, branch.target)
                break

            def taken(indent: int, branch: ir.Branch = branch, index: int = index,
                      following: tuple[str, ...] = following) -> None:
                if self.record:
                    self.step(indent, node, "decide", read, branch_words(branch, index), "branch",
                              following=following, branch=index)
                self.lead(indent, node, branch.target)
            flat = f.flat(branch.condition, indent)
            if flat is not None:
                given += self.flat(indent, node, "decide", read, flat, branch.condition, taken)
                indent += 1
                continue
            unknowns, test = self.condition(branch.condition, indent)
            if unknowns:  # tested first: a missing fact leaves the node open
                given += self.missing(indent, node, "decide", read, unknowns, branch.condition)
                f.emit(indent, f"elif {test}:")
            else:
                f.emit(indent, f"if {test}:")
            self.block(indent + 1, partial(taken, indent + 1))
            f.emit(indent, "else:")
            indent += 1
        else:
            if self.record:
                self.step(indent, node, "decide", read, NO_BRANCH, "no-branch")
        if f.body[-1][0].endswith("else:"):  # nothing left to do when no branch holds
            f.body.pop()
        f.sure.difference_update(given)

    def condition(self, e: ir.Expr, indent: int, negated: bool = False) -> tuple[tuple[str, ...], str]:
        """A node's condition computed: (the locals whose being None leaves it unknown, none
        when nothing can; the test that it holds, or with `negated` that it does not). A
        comparison is tested where it is used, not stored."""
        f = self.f
        parts = f.test(e, indent)
        if parts is not None:
            unknowns, test, negation = parts
            return unknowns, negation if negated else test
        v = f.expr(e, indent)
        return (() if f.known(v) else (v,)), f"{v} is not True" if negated else f"{v} is True"

    def flat(self, indent: int, node: ir.Decide | ir.Recommend | ir.Warn, kind: str, read: tuple[str, ...],
             flat: Flat, condition: ir.Expr, holds: Callable[[int], None]) -> list[str]:
        """A condition that is an `and` or `or` of plain tests (`Function.flat`): `holds(indent)`
        writes what its being true does, the node left open when it is unknown, then an `else:`
        for the caller to write, one level in, what its being false does. An `and`, false as
        soon as one part is, is tested for not being false first (`if a is not False and ...`),
        an `or` for being true. Returns the locals sure (not None) under that `else:`, for the
        caller to forget at the end of the node."""
        f = self.f

        def added(names: tuple[str, ...]) -> list[str]:
            new = [x for x in names if x not in f.sure]
            f.sure.update(new)
            return new

        missing = [x for x in flat.unknowns if x not in flat.present]
        unknown = missing[0] if len(missing) == 1 else None  # None here: needs no second test

        def leave_open(indent: int) -> None:
            present = added(flat.present)
            self.open(indent, node, kind, read, unknown, condition)
            f.sure.difference_update(present)

        if flat.decisive:  # or: true when one part is
            f.emit(indent, f"if {flat.decisive_test}:")
            self.block(indent + 1, partial(holds, indent + 1))
            if flat.unknown is not None:
                f.emit(indent, f"elif {flat.unknown}:")
                leave_open(indent + 1)
            f.emit(indent, "else:")
            return added(flat.unknowns + flat.present)  # every part known, and false
        f.emit(indent, f"if {flat.open_test}:")  # and: not false
        present = added(flat.present)
        inner = indent + 1
        if flat.unknown is not None:
            f.emit(inner, f"if {flat.unknown}:")
            self.open(inner + 1, node, kind, read, unknown, condition)
            f.emit(inner, "else:")
            inner += 1
        known = added(flat.unknowns)
        self.block(inner, partial(holds, inner))
        f.sure.difference_update(known + present)
        f.emit(indent, "else:")
        return []

    def missing(self, indent: int, node: ir.Decide | ir.Recommend | ir.Warn, kind: str, read: tuple[str, ...],
                unknowns: tuple[str, ...], condition: ir.Expr) -> list[str]:
        """`if <one of unknowns is None>:` and the node left open under it. Below that test (its
        elif and else) none of them is None, so no code there tests one again: they are taken
        as sure, and returned for the caller to forget at the end of the node."""
        f = self.f
        f.emit(indent, "if " + " or ".join(f"{x} is None" for x in unknowns) + ":")
        self.open(indent + 1, node, kind, read, unknowns[0] if len(unknowns) == 1 else None, condition)
        added = [x for x in unknowns if x not in f.sure]
        f.sure.update(added)
        return added

    def rule(self, node: ir.Recommend | ir.Warn, indent: int) -> None:
        f = self.f
        given: list[str] = []  # the locals known not to be None below the guard's test
        kind = type(node).__name__.lower()
        read = self.read(node, self.reads[node.id], indent)
        guard = node.guard
        flat = f.flat(guard, indent) if guard is not None else None
        if flat is not None and guard is not None:
            given = self.flat(indent, node, kind, read, flat, guard, partial(self.fire, node, kind, read))
            if self.record:
                self.step(indent + 1, node, kind, read, "does not apply: its condition is false", "does-not-apply")
            elif f.body[-1][0].endswith("else:"):  # nothing to do when it does not hold
                f.body.pop()
            f.sure.difference_update(given)
            return
        if node.guard is not None:
            unknowns, test = self.condition(node.guard, indent, negated=self.record)
            opening = "if"
            if unknowns:  # a value that is never unknown leaves nothing open
                given = self.missing(indent, node, kind, read, unknowns, node.guard)
                opening = "elif"
            f.emit(indent, f"{opening} {test}:")
            if self.record:  # `test` is that it does not hold
                self.step(indent + 1, node, kind, read, "does not apply: its condition is false", "does-not-apply")
                f.emit(indent, "else:")
            indent += 1
        self.fire(node, kind, read, indent)
        f.sure.difference_update(given)

    def fire(self, node: ir.Recommend | ir.Warn, kind: str, read: tuple[str, ...], indent: int) -> None:
        """What a recommendation or warning does when it applies."""
        f = self.f
        if not self.record:
            f.emit(indent, f"{'recs' if isinstance(node, ir.Recommend) else 'warns'}.append({node.id!r})")
        elif isinstance(node, ir.Recommend):
            p = node.provenance
            head = (node.id, node.label, node.modality, p.source, p.section, p.quote, p.refs, p.note, node.actions,
                    self.shape.id)
            fixed = self.shape.fixed_paths[node.id]
            if fixed is not None:
                f.emit(indent, f"recs.append({f.const(Recommendation(*head, fixed), 'REC_' + node.id)})")
            else:
                f.emit(indent, f"recs.append(new(Recommendation, {f.const(head, 'REC_' + node.id)} + "
                               f"({self.flags[node.id]},)))")
            self.step(indent, node, kind, read, f"recommends ({node.modality.replace('_', ' ')})", "fires",
                      following=_targets(node))
        else:
            f.emit(indent, f"warns.append({f.const(rule_warning(node, 'pathway', self.pid), 'WARN_' + node.id)})")
            self.step(indent, node, kind, read, f"warns ({node.severity})", "fires", following=_targets(node))
        for target in node.then:
            self.lead(indent, node, target)

    def schedule(self, node: ir.Schedule, indent: int) -> None:
        f = self.f
        plan = self.checked.plans[node.id]
        timetable = f.const(self.timetables[plan.id], "PLAN_" + node.id)
        if not self.record:
            actuals = [f.facts[s.actual] for s in plan.steps if s.actual]
            if actuals:  # without an actual date, no step is late
                f.emit(indent, f"if {' or '.join(f'{a} is not None' for a in actuals)}:")
                f.emit(indent + 1, f"warns.extend([w.id for w in {timetable}.lay_out(case)[1]])")
            return
        laid = f.locals.take("laid")
        late = f.locals.take("late")
        f.emit(indent, f"{laid}, {late} = {timetable}.lay_out(case)")
        f.emit(indent, f"plans.append({laid})")
        f.emit(indent, f"warns.extend({late})")
        self.step(indent, node, "schedule", self.read(node, (plan.anchor,), indent), f"lays out the plan '{plan.id}'",
                  "schedules")


def _tuple(items: list[str]) -> str:
    """A tuple of these expressions, as Python writes it."""
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def _targets(node: ir.Step | ir.Recommend | ir.Warn) -> tuple[str, ...]:
    return tuple(t for t in node.then if t is not None)


class SafetyWriter(PathwayWriter):
    """The safety rules of one rule file, checked after the pathways, as one function."""

    def __init__(self, module: Module, checked: Checked, safeties: list[ir.Safety], name: str, *, record: bool,
                 given: dict[str, str]):
        self.checked, self.record, self.pid, self.given = checked, record, None, given
        self.safeties = safeties
        parameters = ", ".join(["case, warns, trace, unchecked" if record else "case, warns", *given.values()])
        self.f = module.function(module.names.take(f"{'walk' if record else 'decide'}_{name}"), parameters,
                                 checked.defines)

    def write(self) -> Function:
        f = self.f
        f.opaque = not self.record
        f.prepare([s.condition for s in self.safeties], given=self.given)
        for safety in self.safeties:
            f.comment(0, safety.span, describe(safety))
            v = f.expr(safety.condition, 0)
            if not self.record:
                f.emit(0, f"if {v} is True:")
                f.emit(1, f"warns.append({safety.id!r})")
                continue
            names = tuple(dict.fromkeys(facts_read(safety.condition, self.checked.defines)))
            read = self.read(safety, names, 0)
            opening = "if"
            if not f.known(v):
                f.emit(0, f"if {v} is None:")
                missing = f.locals.take(f"missing_{safety.id}")
                key = _tuple([f.const(open_key(None, safety.id)),
                              *[f.facts[n] for n in names]])
                f.emit(1, f"{missing} = relevant({key})  # the facts that could still decide it")
                why = why_unknown([safety.condition], self.checked.defines)  # when none could
                reason = f"not checked: a condition has no value for this case ({why})" if why else None
                self.step(1, safety, "safety", read, "", "not-checked", needs=NOT_CHECKED_NEEDS, otherwise=reason)
                f.emit(1, f"unchecked.append(Unchecked({safety.id!r}, {safety.label!r}, {safety.severity!r}, "
                          f"{missing}))")
                opening = "elif"
            f.emit(0, f"{opening} {v}:")
            f.emit(1, f"warns.append({f.const(rule_warning(safety, 'safety', None), 'WARN_' + safety.id)})")
            self.step(1, safety, "safety", read, f"raises a {safety.severity} warning", "raises")
            f.emit(0, "else:")
            self.step(1, safety, "safety", read, "clear", "clear")
        return f
