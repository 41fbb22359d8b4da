"""Generated Python for the fast path: a knowledge base's `decide(case)` as one function.

Takes checked pathways and safety rules; returns a function of the case that gives the ids
of the recommendations and warnings that fire and the facts still needed, exactly as
`Evaluator.evaluate` would, with no provenance and no trace. The function is straight-line
Python written from the IR: each fact is read once, each definition computed once, Kleene
logic spelled out with `is None` tests (none for values that cannot be unknown), each
pathway's nodes in the evaluator's order: a node with one way in written inside the node
that leads to it where that keeps the order (`layout`), the others behind a reached-flag.
Nothing from a rule file becomes code: names and values are held in a constants tuple and
the generated text refers to them by position.

Also here, shared with the full walk (engine/walkgen.py): `Writer`, which writes
expressions, and `layout`.
"""

from __future__ import annotations

from typing import Any, Callable

from .. import cache
from ..lang import ir
from ..lang.check import Checked
from .compile import facts_read
from .plans import Timetable
from ..lang import values as runtime
from ..lang.values import add_duration, days_between, subtract_duration

_OPS = {"=": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


class Writer:
    """Straight-line Python for expressions; constants kept aside and named by position."""

    def __init__(self, checked: Checked):
        self.checked = checked
        self.constants: list[Any] = []
        self._index: dict[tuple[type, Any], str] = {}
        self.lines: list[str] = []
        self.fact_vars: dict[str, str] = {}
        self.define_vars: dict[str, str] = {}
        self.temp = 0
        self.labels = {name: fact.label for name, fact in checked.facts.items()}  # for plans' warnings
        self.sure: set[str] = set()  # atoms that are never None: no test for unknown is written for them

    def const(self, value: Any) -> str:
        key = (type(value), value)
        name = self._index.get(key)
        if name is None:
            self.constants.append(value)
            name = self._index[key] = f"k{len(self.constants) - 1}"
        return name

    def fresh(self) -> str:
        self.temp += 1
        return f"t{self.temp}"

    def facts_and_definitions(self) -> None:
        """The top of the function: each fact read once, each definition computed once."""
        self.emit(1, "get = case.get")
        for i, name in enumerate(self.checked.facts):
            self.fact_vars[name] = f"f{i}"
            self.emit(1, f"f{i} = get({self.const(name)})")
        for name in define_order(self.checked):
            self.define_vars[name] = self.expr(self.checked.defines[name].expr, 1)

    def source(self, function: str, helpers: tuple[str, ...]) -> str:
        """The text of `make(K, *helpers)`, which returns `function(case)` with the body written."""
        header = [f"def make(K, {', '.join(helpers)}):"]
        header += [f"    k{i} = K[{i}]" for i in range(len(self.constants))]
        header += [f"    def {function}(case):"]
        return "\n".join(header + ["    " + line for line in self.lines] + [f"    return {function}", ""])

    def known(self, atom: str) -> bool:
        """Is this atom never None (a literal, or a value computed from such)?"""
        return atom.startswith("k") or atom in self.sure

    def assign(self, indent: int, operands: tuple[str, ...], value: str, *, sure: bool = True) -> str:
        """A new atom: None when an operand is, `value` otherwise; known when every operand is
        and `sure` (the value itself is never None)."""
        t = self.fresh()
        unknown = " or ".join(f"{x} is None" for x in operands if not self.known(x))
        self.emit(indent, f"{t} = None if {unknown} else ({value})" if unknown else f"{t} = {value}")
        if not unknown and sure:
            self.sure.add(t)
        return t

    def emit(self, indent: int, text: str) -> None:
        self.lines.append("    " * indent + text)

    # ---- expressions: emit statements, return an atom (a name or a constant) -----------------
    def expr(self, e: ir.Expr, indent: int) -> str:
        match e:
            case ir.BoolLit(value=v) | ir.NumberLit(value=v) | ir.DurationLit(value=v) | ir.DateLit(value=v) \
                    | ir.EnumLit(value=v):
                return self.const(v)
            case ir.SetLit(values=values):
                return self.const(frozenset(values))
            case ir.FactRef(id=name):
                return self.fact_vars[name]
            case ir.DefineRef(id=name):
                return self.define_vars[name]
            case ir.Not(operand=op):
                a = self.expr(op, indent)
                return self.assign(indent, (a,), f"not {a}")
            case ir.And(operands=ops) | ir.Or(operands=ops):
                return self._kleene(e, ops, indent)
            case ir.Compare(op=op, left=left, right=right, kind=kind):
                if kind == "duration":  # by the rule of lang/values.py: may be unknown
                    f, o = self.const(runtime.compare_durations), self.const(op)
                    return self._binary(left, right, indent, lambda a, b: f"{f}({o}, {a}, {b})", sure=False)
                return self._binary(left, right, indent, lambda a, b: f"{a} {_OPS[op]} {b}")
            case ir.InRange(operand=op, interval=interval):
                v = self.expr(op, indent)
                lo, hi = self.const(interval.low.value), self.const(interval.high.value)
                if isinstance(interval.low.value, runtime.Duration):  # may be unknown
                    return self.assign(indent, (v,), f"{self.const(interval.contains)}({v})", sure=False)
                test = (f"{lo} {'<=' if interval.low.closed else '<'} {v} "
                        f"{'<=' if interval.high.closed else '<'} {hi}")
                return self.assign(indent, (v,), test)
            case ir.Member(element=element, collection=collection):
                return self._binary(element, collection, indent, lambda a, b: f"{a} in {b}")
            case ir.IsKnown(operand=op, negated=negated):
                v = self.expr(op, indent)
                return self.assign(indent, (), f"{v} is {'' if negated else 'not '}None")
            case ir.Arith(op=op, kind=kind, left=left, right=right):
                if kind == "duration":
                    return self._binary(left, right, indent, lambda a, b: f"{a} {op} {b}")
                # Dates may leave the calendar and numbers are exact (lang/values.py): helpers
                # that give None (unknown) for a date out of range or a division by zero.
                function = {"date_plus": add_duration, "date_diff": days_between, "date_minus": subtract_duration,
                            "+": runtime.add, "-": runtime.subtract, "*": runtime.multiply,
                            "/": runtime.divide}.get(kind if kind != "number" else op)
                f = self.const(function)
                return self._binary(left, right, indent, lambda a, b: f"{f}({a}, {b})", sure=kind == "date_diff")
            case ir.Negate(operand=op) | ir.Absolute(operand=op):
                v = self.expr(op, indent)
                f = self.const(runtime.negate if isinstance(e, ir.Negate) else runtime.absolute)
                return self.assign(indent, (v,), f"{f}({v})", sure=isinstance(e, ir.Negate))
            case ir.Round(operand=op, places=places):
                v = self.expr(op, indent)
                return self.assign(indent, (v,), f"{self.const(runtime.round_to)}({v}, {self.const(places)})",
                                   sure=False)
            case ir.MonthsBetween(start=start, end=end):
                f = self.const(runtime.months_between)
                return self._binary(start, end, indent, lambda a, b: f"{f}({a}, {b})")
            case ir.Coalesce(operands=ops) | ir.Extreme(operands=ops):
                atoms = [self.expr(x, indent) for x in ops]
                items = "(" + "".join(a + ", " for a in atoms) + ")"
                if isinstance(e, ir.Coalesce):
                    return self.assign(indent, (), f"{self.const(runtime.coalesce)}({items})",
                                       sure=any(self.known(a) for a in atoms))
                return self.assign(indent, (), f"{self.const(runtime.extreme)}({self.const(e.op)}, {items})",
                                   sure=False)
        raise AssertionError(f"codegen misses {type(e).__name__}")

    def _binary(self, left, right, indent: int, combine: Callable[[str, str], str], sure: bool = True) -> str:
        a = self.expr(left, indent)
        b = self.expr(right, indent)
        return self.assign(indent, (a, b), combine(a, b), sure=sure)

    def _kleene(self, e, ops, indent: int) -> str:
        """and: false wins, then unknown; or: true wins, then unknown. Later operands only when
        needed, each under one `if` at the same depth, so a chain of any length nests one level
        (Python allows 100)."""
        decisive = "False" if isinstance(e, ir.And) else "True"
        t, unknown = self.fresh(), self.fresh()
        self.emit(indent, f"{t} = {'True' if decisive == 'False' else 'False'}")
        self.emit(indent, f"{unknown} = False")
        maybe_unknown = False
        for i, op in enumerate(ops):
            depth = indent
            if i:
                self.emit(indent, f"if {t} is not {decisive}:")
                depth = indent + 1
            v = self.expr(op, depth)
            self.emit(depth, f"if {v} is {decisive}:")
            self.emit(depth + 1, f"{t} = {decisive}")
            if not self.known(v):
                maybe_unknown = True
                self.emit(depth, f"elif {v} is None:")
                self.emit(depth + 1, f"{unknown} = True")
        if maybe_unknown:
            self.emit(indent, f"if {unknown} and {t} is not {decisive}:")
            self.emit(indent + 1, f"{t} = None")
        else:
            self.sure.add(t)
        return t


class _DecideWriter(Writer):
    """Emits the body of `decide`: ids of what fires, and the facts needed, nothing else."""

    def needs(self, facts: tuple[str, ...], indent: int) -> None:
        for name in facts:
            self.emit(indent, f"if {self.fact_vars[name]} is None:")
            self.emit(indent + 1, f"needs[{self.const(name)}] = None")

    def pathway(self, pathway: ir.Pathway, order: tuple[str, ...], holder: dict[str, str | None], defines) -> None:
        """A node with one way in is written inside the node that leads to it, where the order
        allows (`holder`, see `layout`); the others run behind a reached-flag, in `order`."""
        self.nodes = {n.id: n for n in pathway.nodes}
        self.holder = holder
        self.defines = defines
        self.flag = {node_id: f"r{i}_{self.temp}" for i, node_id in enumerate(order)}
        self.temp += 1
        entry = pathway.nodes[0].id
        for node_id in order:
            if self.holder[node_id] is None and node_id != entry:
                self.emit(1, f"{self.flag[node_id]} = False")
        for node_id in order:
            if node_id == entry:
                self.node(self.nodes[node_id], 1)
            elif self.holder[node_id] is None:
                self.emit(1, f"if {self.flag[node_id]}:")
                self.node(self.nodes[node_id], 2)

    def lead(self, indent: int, source: ir.Node, target: str | None) -> None:
        """What reaching `target` from `source` does: run it here, or raise its flag."""
        if target is None:
            self.emit(indent, "pass")
        elif self.holder[target] == source.id:
            self.node(self.nodes[target], indent)
        else:
            self.emit(indent, f"{self.flag[target]} = True")

    def node(self, node: ir.Node, depth: int) -> None:
        if isinstance(node, ir.Decide):
            reads = reads_of(node, self.defines)
            for branch in node.branches:
                if branch.condition is None:
                    self.lead(depth, node, branch.target)
                    return
                v = self.expr(branch.condition, depth)
                self.emit(depth, f"if {v} is True:")
                self.lead(depth + 1, node, branch.target)
                self.emit(depth, f"elif {v} is None:")
                self.needs(reads, depth + 1)
                if not reads:
                    self.emit(depth + 1, "pass")
                self.emit(depth, "else:")
                depth += 1
            self.emit(depth, "pass")
        elif isinstance(node, (ir.Recommend, ir.Warn)):
            target = "recs" if isinstance(node, ir.Recommend) else "warns"
            if node.guard is not None:
                reads = reads_of(node, self.defines)
                v = self.expr(node.guard, depth)
                self.emit(depth, f"if {v} is None:")
                self.needs(reads, depth + 1)
                if not reads:
                    self.emit(depth + 1, "pass")
                self.emit(depth, f"elif {v} is True:")
                depth += 1
            self.emit(depth, f"{target}.append({self.const(node.id)})")
            for t in node.then:
                if t is not None:
                    self.lead(depth, node, t)
        elif isinstance(node, ir.Step):
            self.emit(depth, "pass")
            for t in node.then:
                if t is not None:
                    self.lead(depth, node, t)
        elif isinstance(node, ir.Schedule):
            timetable = self.const(Timetable(self.checked.plans[node.id], self.labels))
            self.emit(depth, f"warns.extend(w.id for w in {timetable}.lay_out(case)[1])")


def layout(pathway: ir.Pathway, order: tuple[str, ...]) -> dict[str, str | None]:
    """For each node, the node whose code holds it (None: it runs on its own, behind a flag).

    A node can be held by the node that leads to it when that is its only way in: it then
    runs right after it, as written, instead of at its place in the evaluator's order. That
    must not change the order of anything a case sees: every two nodes that can both be
    reached must run in the evaluator's order (two nodes under different branches of one
    decision never both are). A held node that would run out of order is let go, one at a
    time, until none does.
    """
    ways_in: dict[str, list[str]] = {n.id: [] for n in pathway.nodes}
    for node in pathway.nodes:
        for target, _ in ir.successors(node):
            if target is not None:
                ways_in[target].append(node.id)
    entry = pathway.nodes[0].id
    holder = {node_id: ways[0] if len(ways) == 1 and node_id != entry else None
              for node_id, ways in ways_in.items()}
    nodes = {n.id: n for n in pathway.nodes}
    rank = {node_id: i for i, node_id in enumerate(order)}

    def written() -> list[tuple[str, tuple[tuple[str, int], ...]]]:
        """The nodes in the order of the code, each with the (decision, branch) pairs above it."""
        found: list[tuple[str, tuple[tuple[str, int], ...]]] = []

        def write(node_id: str, above: tuple[tuple[str, int], ...]) -> None:
            found.append((node_id, above))
            node = nodes[node_id]
            for index, (target, _) in enumerate(ir.successors(node)):
                if target is not None and holder[target] == node_id:
                    write(target, above + ((node_id, index),) if isinstance(node, ir.Decide) else above)
        for node_id in order:
            if holder[node_id] is None:
                write(node_id, ())
        return found

    def out_of_order() -> str | None:
        code = written()
        for i, (first, first_above) in enumerate(code):
            for second, second_above in code[i + 1:]:
                if rank[first] > rank[second] and not _exclusive(first_above, second_above):
                    return first if holder[first] is not None else second
        return None

    while (node_id := out_of_order()) is not None:
        holder[node_id] = None
    return holder


def _exclusive(a: tuple[tuple[str, int], ...], b: tuple[tuple[str, int], ...]) -> bool:
    """Do two chains of (decision, branch) from the same top part apart at one decision?"""
    for (decision_a, branch_a), (decision_b, branch_b) in zip(a, b):
        if decision_a != decision_b:
            return False
        if branch_a != branch_b:
            return True
    return False


def reads_of(node, defines) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    conditions = [b.condition for b in node.branches if b.condition is not None] if isinstance(node, ir.Decide) \
        else [node.guard]
    for condition in conditions:
        seen.update(dict.fromkeys(facts_read(condition, defines)))
    return tuple(seen)


def define_order(checked: Checked) -> list[str]:
    """Definitions in an order where each comes after those it uses."""
    order: list[str] = []
    done: set[str] = set()

    def visit(name: str) -> None:
        if name in done:
            return
        done.add(name)
        for e in ir.walk(checked.defines[name].expr):
            if isinstance(e, ir.DefineRef):
                visit(e.id)
        order.append(name)

    for name in checked.defines:
        visit(name)
    return order


def generate(checked: Checked, orders: dict[str, tuple[str, ...]],
             layouts: dict[str, dict[str, str | None]]) -> tuple[str, list[Any]]:
    """The source of `make(K, Decision, new)`, which returns `decide(case)`, and the constants K.

    `orders` and `layouts`: per pathway, the evaluator's order of its nodes and `layout`'s answer."""
    w = _DecideWriter(checked)
    w.facts_and_definitions()
    w.emit(1, "recs = []")
    w.emit(1, "warns = []")
    w.emit(1, "needs = {}")
    for pathway in checked.pathways:
        w.pathway(pathway, orders[pathway.id], layouts[pathway.id], checked.defines)
    for safety in checked.safeties:
        v = w.expr(safety.condition, 1)
        w.emit(1, f"if {v} is True:")
        w.emit(2, f"warns.append({w.const(safety.id)})")
    w.emit(1, "return new(Decision, (tuple(recs), tuple(warns), tuple(needs)))")
    return w.source("decide", ("Decision", "new")), w.constants


def make(source: str, constants: list[Any], name: str, *helpers: Any) -> Callable:
    """Compile generated source (from the cache when seen before) and make its function."""
    namespace: dict[str, Any] = {}
    exec(cache.compiled(source, name), namespace)  # noqa: S102 - written from our own IR, not from rule text
    return namespace["make"](tuple(constants), *helpers)


def build(checked: Checked, orders: dict[str, tuple[str, ...]], layouts: dict[str, dict[str, str | None]],
          decision: type) -> Callable:
    """The generated `decide(case) -> decision(recommendation ids, warning ids, needs)`."""
    source, constants = generate(checked, orders, layouts)
    return make(source, constants, "<consilium generated decide>", decision, tuple.__new__)


__all__ = ["Writer", "build", "define_order", "generate", "layout", "make", "reads_of"]
