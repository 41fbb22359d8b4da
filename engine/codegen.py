"""Generated Python for the fast path: a knowledge base's `decide(case)` as one function.

Takes checked pathways and safety rules; returns a function of the case that gives the ids
of the recommendations and warnings that fire and the facts still needed, exactly as
`Evaluator.evaluate` would, with no provenance and no trace. The function is straight-line
Python written from the IR: each fact is read once, each definition computed once, Kleene
logic spelled out with `is None` tests, each pathway's nodes visited in the evaluator's
order behind a reached-flag. Nothing from a rule file becomes code: names and values are
held in a constants tuple and the generated text refers to them by position.
"""

from __future__ import annotations

from typing import Any, Callable

from . import cache, ir
from .check import Checked
from .compile import facts_read
from .plans import Timetable
from .values import add_duration, days_between

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
                t = self.fresh()
                self.emit(indent, f"{t} = None if {a} is None else not {a}")
                return t
            case ir.And(operands=ops) | ir.Or(operands=ops):
                return self._kleene(e, ops, indent)
            case ir.Compare(op=op, left=left, right=right):
                return self._binary(left, right, indent, lambda a, b: f"{a} {_OPS[op]} {b}")
            case ir.InRange(operand=op, interval=interval):
                v = self.expr(op, indent)
                lo, hi = self.const(interval.low.value), self.const(interval.high.value)
                test = (f"{lo} {'<=' if interval.low.closed else '<'} {v} "
                        f"{'<=' if interval.high.closed else '<'} {hi}")
                t = self.fresh()
                self.emit(indent, f"{t} = None if {v} is None else ({test})")
                return t
            case ir.Member(element=element, collection=collection):
                return self._binary(element, collection, indent, lambda a, b: f"{a} in {b}")
            case ir.IsKnown(operand=op, negated=negated):
                v = self.expr(op, indent)
                t = self.fresh()
                self.emit(indent, f"{t} = {v} is {'' if negated else 'not '}None")
                return t
            case ir.Arith(op=op, kind=kind, left=left, right=right):
                function = {"date_plus": add_duration, "date_diff": days_between,
                            "date_minus": lambda day, d: add_duration(day, -d)}.get(kind)
                if function is not None:
                    f = self.const(function)
                    return self._binary(left, right, indent, lambda a, b: f"{f}({a}, {b})")
                if op == "/":
                    return self._binary(left, right, indent, lambda a, b: f"(None if {b} == 0 else {a} / {b})")
                return self._binary(left, right, indent, lambda a, b: f"{a} {op} {b}")
            case ir.Negate(operand=op):
                v = self.expr(op, indent)
                t = self.fresh()
                self.emit(indent, f"{t} = None if {v} is None else -{v}")
                return t
        raise AssertionError(f"codegen misses {type(e).__name__}")

    def _binary(self, left, right, indent: int, combine: Callable[[str, str], str]) -> str:
        a = self.expr(left, indent)
        b = self.expr(right, indent)
        unknown = " or ".join(f"{x} is None" for x in (a, b) if not x.startswith("k"))
        t = self.fresh()
        self.emit(indent, f"{t} = None if {unknown} else ({combine(a, b)})" if unknown else f"{t} = {combine(a, b)}")
        return t

    def _kleene(self, e, ops, indent: int) -> str:
        """and: false wins, then unknown; or: true wins, then unknown. Later operands only when needed."""
        decisive = "False" if isinstance(e, ir.And) else "True"
        t, unknown = self.fresh(), self.fresh()
        self.emit(indent, f"{t} = {'True' if decisive == 'False' else 'False'}")
        self.emit(indent, f"{unknown} = False")
        depth = indent
        for op in ops:
            v = self.expr(op, depth)
            self.emit(depth, f"if {v} is {decisive}:")
            self.emit(depth + 1, f"{t} = {decisive}")
            self.emit(depth, "else:")
            depth += 1
            self.emit(depth, f"if {v} is None:")
            self.emit(depth + 1, f"{unknown} = True")
        self.emit(depth, f"if {unknown}:")
        self.emit(depth + 1, f"{t} = None")
        return t

    # ---- pathways ------------------------------------------------------------------------------
    def needs(self, facts: tuple[str, ...], indent: int) -> None:
        for name in facts:
            self.emit(indent, f"if {self.fact_vars[name]} is None:")
            self.emit(indent + 1, f"needs[{self.const(name)}] = None")

    def pathway(self, pathway: ir.Pathway, order: tuple[str, ...], defines) -> None:
        nodes = {n.id: n for n in pathway.nodes}
        flag = {node_id: f"r{i}_{self.temp}" for i, node_id in enumerate(order)}
        self.temp += 1
        for node_id in order:
            self.emit(1, f"{flag[node_id]} = {'True' if node_id == pathway.nodes[0].id else 'False'}")
        for node_id in order:
            node = nodes[node_id]
            self.emit(1, f"if {flag[node_id]}:")
            if isinstance(node, ir.Decide):
                reads = reads_of(node, defines)
                depth = 2
                for branch in node.branches:
                    if branch.condition is None:
                        if branch.target:
                            self.emit(depth, f"{flag[branch.target]} = True")
                        else:
                            self.emit(depth, "pass")
                        break
                    v = self.expr(branch.condition, depth)
                    self.emit(depth, f"if {v} is True:")
                    self.emit(depth + 1, f"{flag[branch.target]} = True" if branch.target else "pass")
                    self.emit(depth, f"elif {v} is None:")
                    self.needs(reads, depth + 1)
                    if not reads:
                        self.emit(depth + 1, "pass")
                    self.emit(depth, "else:")
                    depth += 1
                else:
                    self.emit(depth, "pass")
            elif isinstance(node, (ir.Recommend, ir.Warn)):
                target = "recs" if isinstance(node, ir.Recommend) else "warns"
                depth = 2
                if node.guard is not None:
                    v = self.expr(node.guard, depth)
                    self.emit(depth, f"if {v} is None:")
                    self.needs(reads_of(node, defines), depth + 1)
                    if not reads_of(node, defines):
                        self.emit(depth + 1, "pass")
                    self.emit(depth, f"if {v} is True:")
                    depth += 1
                self.emit(depth, f"{target}.append({self.const(node.id)})")
                for t in node.then:
                    if t is not None:
                        self.emit(depth, f"{flag[t]} = True")
            elif isinstance(node, ir.Step):
                self.emit(2, "pass")
                for t in node.then:
                    if t is not None:
                        self.emit(2, f"{flag[t]} = True")
            elif isinstance(node, ir.Schedule):
                timetable = self.const(Timetable(self.checked.plans[node.id], self.labels))
                self.emit(2, f"warns.extend(w.id for w in {timetable}.lay_out(case)[1])")


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


def generate(checked: Checked, orders: dict[str, tuple[str, ...]]) -> tuple[str, list[Any]]:
    """The source of `make(K)`, which returns `decide(case)`, and the constants K it needs."""
    w = Writer(checked)
    w.emit(1, "get = case.get")
    w.emit(1, "recs = []")
    w.emit(1, "warns = []")
    w.emit(1, "needs = {}")
    for i, name in enumerate(checked.facts):
        w.fact_vars[name] = f"f{i}"
        w.emit(1, f"f{i} = get({w.const(name)})")
    for i, name in enumerate(define_order(checked)):
        w.define_vars[name] = v = w.expr(checked.defines[name].expr, 1)
    for pathway in checked.pathways:
        w.pathway(pathway, orders[pathway.id], checked.defines)
    for safety in checked.safeties:
        v = w.expr(safety.condition, 1)
        w.emit(1, f"if {v} is True:")
        w.emit(2, f"warns.append({w.const(safety.id)})")
    w.emit(1, "return new(Decision, (tuple(recs), tuple(warns), tuple(needs)))")
    header = ["def make(K, Decision, new):"]
    header += [f"    k{i} = K[{i}]" for i in range(len(w.constants))]
    header += ["    def decide(case):"]
    body = ["    " + line for line in w.lines]
    return "\n".join(header + body + ["    return decide", ""]), w.constants


def build(checked: Checked, orders: dict[str, tuple[str, ...]], decision: type):
    """The generated `decide(case) -> decision(recommendation ids, warning ids, needs)`."""
    source, constants = generate(checked, orders)
    namespace: dict[str, Any] = {}
    exec(cache.compiled(source, "<consilium generated decide>"), namespace)  # noqa: S102 - our own IR, not rule text
    return namespace["make"](tuple(constants), decision, tuple.__new__), source


__all__ = ["Writer", "build", "define_order", "generate", "reads_of"]
