"""Phase 6, compile: resolved expressions -> Python closures, built once per knowledge base.

Each expression becomes a function of the case (a dict of fact name -> value) that returns
its value, or None for unknown. Logic is three-valued as in CQL (Kleene): `false and x` is
false, `true or x` is true, anything else with an unknown is unknown; a comparison or an
arithmetic operation with an unknown operand is unknown. Nothing from a rule file is ever
handed to Python's `eval`: the closures are assembled from the IR alone.

Also here: `facts_read`, the facts an expression depends on (through definitions), and
`thresholds`, the constants a fact is compared with, which `needs` uses to say what each
answer would lead to.
"""

from __future__ import annotations

import operator
from typing import Any, Callable, Mapping

from ..lang import ir
from ..lang import values as runtime
from ..lang.values import Duration, add_duration, days_between, subtract_duration

Fn = Callable[[Mapping[str, Any]], Any]

_COMPARE = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
            ">": operator.gt, ">=": operator.ge}


class Compiler:
    """Compiles expressions against one knowledge base's definitions (each compiled once)."""

    def __init__(self, defines: Mapping[str, ir.Define]):
        self.defines = defines
        self._compiled_defines: dict[str, Fn] = {}

    def define(self, name: str) -> Fn:
        fn = self._compiled_defines.get(name)
        if fn is None:
            # A placeholder first lets a definition used twice share one compiled body.
            cell: list[Fn] = []
            self._compiled_defines[name] = lambda case: cell[0](case)
            cell.append(self.expr(self.defines[name].expr))
            self._compiled_defines[name] = fn = cell[0]
        return fn

    def expr(self, e: ir.Expr) -> Fn:
        match e:
            case ir.BoolLit(value=v) | ir.NumberLit(value=v) | ir.DurationLit(value=v) | ir.DateLit(value=v) \
                    | ir.EnumLit(value=v):
                return lambda case, v=v: v
            case ir.SetLit(values=values):
                frozen = frozenset(values)
                return lambda case: frozen
            case ir.FactRef(id=name):
                return lambda case: case.get(name)
            case ir.DefineRef(id=name):
                return self.define(name)
            case ir.And(operands=ops):
                return _kleene_and([self.expr(op) for op in ops])
            case ir.Or(operands=ops):
                return _kleene_or([self.expr(op) for op in ops])
            case ir.Not(operand=op):
                f = self.expr(op)

                def not_(case):
                    v = f(case)
                    return None if v is None else not v
                return not_
            case ir.Compare(op=op, left=left, right=right, kind=kind):
                if kind == "duration":  # by the rule of lang/values.py: may be unknown
                    return _binary(lambda a, b, op=op: runtime.compare_durations(op, a, b),
                                   self.expr(left), self.expr(right))
                return _binary(_COMPARE[op], self.expr(left), self.expr(right))
            case ir.InRange(operand=op, interval=interval):
                f = self.expr(op)
                contains = interval.contains

                def in_range(case):
                    v = f(case)
                    return None if v is None else contains(v)
                return in_range
            case ir.Member(element=element, collection=collection):
                return _binary(lambda a, b: a in b, self.expr(element), self.expr(collection))
            case ir.IsKnown(operand=op, negated=negated):
                f = self.expr(op)
                if negated:
                    return lambda case: f(case) is None
                return lambda case: f(case) is not None
            case ir.Arith(op=op, left=left, right=right, kind=kind):
                return _binary(_arith_function(op, kind), self.expr(left), self.expr(right))
            case ir.Negate(operand=op) | ir.Absolute(operand=op):
                return _unary(runtime.negate if isinstance(e, ir.Negate) else runtime.absolute, self.expr(op))
            case ir.Round(operand=op, places=places):
                return _unary(lambda v, places=places: runtime.round_to(v, places), self.expr(op))
            case ir.MonthsBetween(start=start, end=end):
                return _binary(runtime.months_between, self.expr(start), self.expr(end))
            case ir.Coalesce(operands=ops):
                fs = [self.expr(op) for op in ops]
                return lambda case: runtime.coalesce(tuple([f(case) for f in fs]))
            case ir.Extreme(op=op, operands=ops):
                fs = [self.expr(x) for x in ops]
                return lambda case, op=op: runtime.extreme(op, tuple([f(case) for f in fs]))
            case ir.Name():
                raise AssertionError(f"unresolved name '{e.id}' reached the compiler")
        raise AssertionError(f"compile misses {type(e).__name__}")


def _kleene_and(fs: list[Fn]) -> Fn:
    if len(fs) == 2:
        a, b = fs

        def and2(case):
            x = a(case)
            if x is False:
                return False
            y = b(case)
            if y is False:
                return False
            return None if x is None or y is None else True
        return and2

    def and_(case):
        unknown = False
        for f in fs:
            v = f(case)
            if v is False:
                return False
            if v is None:
                unknown = True
        return None if unknown else True
    return and_


def _kleene_or(fs: list[Fn]) -> Fn:
    def or_(case):
        unknown = False
        for f in fs:
            v = f(case)
            if v is True:
                return True
            if v is None:
                unknown = True
        return None if unknown else False
    return or_


def _binary(op: Callable[[Any, Any], Any], a: Fn, b: Fn) -> Fn:
    def binary(case):
        x = a(case)
        if x is None:
            return None
        y = b(case)
        if y is None:
            return None
        return op(x, y)
    return binary


def _unary(op: Callable[[Any], Any], f: Fn) -> Fn:
    def unary(case):
        v = f(case)
        return None if v is None else op(v)
    return unary


def _arith_function(op: str, kind: str) -> Callable[[Any, Any], Any]:
    match kind, op:
        case "date_plus", _:
            return add_duration
        case "date_minus", _:
            return subtract_duration
        case "date_diff", _:
            return days_between
        case "duration", "+":
            return operator.add
        case "duration", "-":
            return operator.sub
        # Numbers are exact (lang/values.py); division by zero has no value: unknown.
        case "number", "+":
            return runtime.add
        case "number", "-":
            return runtime.subtract
        case "number", "*":
            return runtime.multiply
        case "number", "/":
            return runtime.divide
    raise AssertionError((kind, op))


# ---- static facts about expressions ------------------------------------------------------

def facts_read(e: ir.Expr | None, defines: Mapping[str, ir.Define]) -> tuple[str, ...]:
    """The facts an expression depends on, through definitions, in first-seen order."""
    seen: dict[str, None] = {}
    visited_defines: set[str] = set()
    stack = [e] if e is not None else []
    while stack:
        node = stack.pop()
        match node:
            case ir.FactRef(id=name):
                seen.setdefault(name)
            case ir.DefineRef(id=name) if name not in visited_defines:
                visited_defines.add(name)
                stack.append(defines[name].expr)
            case _:
                stack.extend(reversed(ir.children(node)))
    return tuple(seen)


def thresholds(e: ir.Expr | None, fact: str, defines: Mapping[str, ir.Define]) -> tuple:
    """The constants `fact` is compared with in `e` (directly, or through definitions)."""
    found: set = set()
    visited: set[str] = set()
    stack = [e] if e is not None else []
    while stack:
        node = stack.pop()
        match node:
            case ir.Compare(left=ir.FactRef(id=f), right=ir.NumberLit(value=v) | ir.DurationLit(value=v)) \
                    if f == fact:
                found.add(v)
            case ir.Compare(left=ir.NumberLit(value=v) | ir.DurationLit(value=v), right=ir.FactRef(id=f)) \
                    if f == fact:
                found.add(v)
            case ir.InRange(operand=ir.FactRef(id=f), interval=interval) if f == fact:
                found.update((interval.low.value, interval.high.value))
            case ir.DefineRef(id=name) if name not in visited:
                visited.add(name)
                stack.append(defines[name].expr)
            case _:
                stack.extend(ir.children(node))
    numbers = [v for v in found if not isinstance(v, Duration)]
    durations = [v for v in found if isinstance(v, Duration)]
    if durations:
        return tuple(sorted(durations, key=lambda d: (d.approx_days, d.months)))
    return tuple(sorted(numbers))
