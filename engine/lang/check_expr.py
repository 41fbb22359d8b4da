"""Type checking of expressions: the part of `check` every condition and definition goes through.

`ExpressionChecker` resolves bare names (a fact, a definition, or an enum value typed by
what it is compared with) and types each expression against the fact schema: comparisons,
units, ranges, membership, arithmetic on numbers, dates and durations. It keeps no state of
its own: what it reads of the knowledge base being checked (its facts and definitions, a
definition's type) and where it reports a problem come from a `Scope`, which `check._Checker`
is; it returns each expression resolved (`FactRef`, `DefineRef`, `EnumLit`), with its type.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Protocol

from . import ir
from .diagnostics import Span, suggest
from .values import DURATION_UNITS, NUMBER_UNITS

ANY = object()  # the type of an expression that already failed to check


class Scope(Protocol):
    """What typing an expression needs of the knowledge base being checked."""

    facts: dict[str, ir.Fact]
    defines: dict[str, ir.Define]

    def define_type(self, name: str) -> tuple[ir.Expr, object]:
        """A definition's resolved expression and type (ANY when it failed)."""
        ...

    def error(self, code: str, message: str, span: Span | None, hint: str | None = None,
              related: tuple[tuple[str, Span], ...] = ()) -> None:
        """Record a diagnostic."""
        ...


class ExpressionChecker:
    """Resolves and types the expressions of one knowledge base, by what its `scope` declares."""

    def __init__(self, scope: Scope):
        self.scope = scope

    # ---- expressions ----------------------------------------------------------------
    def condition(self, expr: ir.Expr) -> ir.Expr:
        """`expr` resolved; a problem if it is not true or false."""
        resolved, typ = self.expr(expr)
        self._expect_bool(typ, expr, "a condition")
        return resolved

    def _expect_bool(self, typ, expr, what: str) -> None:
        if typ is not ANY and not isinstance(typ, ir.BoolType):
            self.scope.error("type-mismatch", f"{what} must be true or false, but this is {_describe(typ)}",
                             getattr(expr, "span", None), hint="compare it with something, e.g. 'x = value'")

    def expr(self, expr: ir.Expr, expected: object = None) -> tuple[ir.Expr, object]:
        """The resolved expression and its type; `expected` types a bare enum value."""
        match expr:
            case ir.BoolLit():
                return expr, ir.BoolType()
            case ir.NumberLit(value=value, unit=unit):
                if unit is not None and unit not in NUMBER_UNITS:
                    self.scope.error("unknown-unit", f"'{unit}' is not a unit the language knows", expr.span,
                                     hint=suggest(unit, NUMBER_UNITS | set(DURATION_UNITS)))
                    return expr, ANY
                return expr, _Literal(ir.NumberType(integer=isinstance(value, int), unit=unit))
            case ir.DurationLit():
                return expr, ir.DurationType()
            case ir.DateLit():
                return expr, ir.DateType()
            case ir.SetLit():
                return expr, _SetLiteral(expr.values)
            case ir.Name(id=name):
                return self._name(expr, name, expected)
            case ir.FactRef(id=name):
                return expr, self.scope.facts[name].type
            case ir.DefineRef(id=name):
                return expr, self.scope.define_type(name)[1]
            case ir.EnumLit():
                return expr, expected or ANY
            case ir.And(operands=ops) | ir.Or(operands=ops):
                resolved = []
                for op in ops:
                    r, t = self.expr(op)
                    self._expect_bool(t, op, f"each side of '{'and' if isinstance(expr, ir.And) else 'or'}'")
                    resolved.append(r)
                return dataclasses.replace(expr, operands=tuple(resolved)), ir.BoolType()
            case ir.Not(operand=op):
                r, t = self.expr(op)
                self._expect_bool(t, op, "what 'not' negates")
                return dataclasses.replace(expr, operand=r), ir.BoolType()
            case ir.Compare():
                return self._compare(expr)
            case ir.InRange(operand=op, interval=interval):
                r, t = self.expr(op)
                self._check_range_operand(t, interval, expr)
                return dataclasses.replace(expr, operand=r), ir.BoolType()
            case ir.Member():
                return self._member(expr)
            case ir.IsKnown(operand=op):
                r, _ = self.expr(op)
                if not isinstance(r, (ir.FactRef, ir.DefineRef)) and not _reads_any(r):
                    self.scope.error("type-mismatch", "'is known' asks about a fact or definition, not a constant",
                                     expr.span)
                return dataclasses.replace(expr, operand=r), ir.BoolType()
            case ir.Arith():
                return self._arith(expr)
            case ir.Coalesce(operands=ops) | ir.Extreme(operands=ops):
                return self._alike(expr, ops)
            case ir.Absolute(operand=op) | ir.Round(operand=op):
                r, t = self.expr(op)
                base = _base(t)
                allowed = (ir.NumberType,) if isinstance(expr, ir.Round) else (ir.NumberType, ir.DurationType)
                if t is not ANY and not isinstance(base, allowed):
                    what = "round" if isinstance(expr, ir.Round) else "abs"
                    takes = "a number" if what == "round" else "a number or a duration"
                    self.scope.error("type-mismatch", f"'{what}' takes {takes}, "
                                     f"not {_describe(t)}", expr.span)
                    return dataclasses.replace(expr, operand=r), ANY
                if isinstance(expr, ir.Round) and t is not ANY:
                    typ = ir.NumberType(integer=base.integer or expr.places == 0, unit=base.unit)
                    t = _Literal(typ) if isinstance(t, _Literal) else typ
                return dataclasses.replace(expr, operand=r), t
            case ir.MonthsBetween(start=start, end=end):
                resolved = []
                for op in (start, end):
                    r, t = self.expr(op)
                    if t is not ANY and not isinstance(_base(t), ir.DateType):
                        self.scope.error("type-mismatch", f"'months_between' counts the months between two "
                                         f"dates, not {_describe(t)}", op.span,
                                         hint="write it like 'months_between(start, end)'")
                    resolved.append(r)
                return dataclasses.replace(expr, start=resolved[0], end=resolved[1]), ir.DurationType()
            case ir.Negate(operand=op):
                r, t = self.expr(op)
                base = _base(t)
                if t is not ANY and not isinstance(base, (ir.NumberType, ir.DurationType)):
                    self.scope.error("type-mismatch", f"only numbers and durations can be negated, not {_describe(t)}",
                                     expr.span)
                    return dataclasses.replace(expr, operand=r), ANY
                return dataclasses.replace(expr, operand=r), t
        raise AssertionError(f"check misses {type(expr).__name__}")

    def _name(self, expr: ir.Name, name: str, expected):
        if name in self.scope.facts:
            return ir.FactRef(id=name, span=expr.span), self.scope.facts[name].type
        if name in self.scope.defines:
            return ir.DefineRef(id=name, span=expr.span), self.scope.define_type(name)[1]
        if expected is ANY:
            return expr, ANY  # the other side is already in error; one message is enough
        values = _enum_values(expected)
        if values is not None:
            if name in values:
                return ir.EnumLit(value=name, span=expr.span), expected
            self.scope.error("unknown-enum-value", f"'{name}' is not one of the values {{{', '.join(values)}}}",
                             expr.span, hint=suggest(name, values))
            return expr, ANY
        self.scope.error("unknown-fact", f"no fact or definition '{name}' is declared", expr.span,
                         hint=suggest(name, list(self.scope.facts) + list(self.scope.defines))
                         or "declare it with 'fact " + name + " : <type>'")
        return expr, ANY

    def _compare(self, expr: ir.Compare):
        left, right = expr.left, expr.right
        # Resolve the side that is not a bare enum value first, so the other can be typed by it.
        def bare(e) -> bool:
            return isinstance(e, ir.Name) and e.id not in self.scope.facts and e.id not in self.scope.defines
        if bare(left) and not bare(right):
            r_right, t_right = self.expr(right)
            r_left, t_left = self.expr(left, expected=_base(t_right))
        else:
            r_left, t_left = self.expr(left)
            r_right, t_right = self.expr(right, expected=_base(t_left))
        resolved = dataclasses.replace(expr, left=r_left, right=r_right)
        if ANY in (t_left, t_right):
            return resolved, ir.BoolType()
        a, b = _base(t_left), _base(t_right)
        ordered = expr.op in ("<", "<=", ">", ">=")
        if {type(a), type(b)} == {ir.NumberType, ir.DurationType}:
            self.scope.error("unit-mismatch", f"cannot compare {_describe(t_left)} with {_describe(t_right)}",
                             expr.span, hint=_compare_hint(t_left, t_right))
        elif type(a) is not type(b):
            self.scope.error("type-mismatch", f"cannot compare {_describe(t_left)} with {_describe(t_right)}",
                             expr.span, hint=_compare_hint(t_left, t_right))
        elif isinstance(a, ir.DurationType):
            resolved = dataclasses.replace(resolved, kind="duration")
        elif isinstance(a, ir.NumberType):
            self._units(t_left, t_right, expr, "compare")
        elif ordered and isinstance(a, (ir.BoolType, ir.EnumType, ir.SetType)):
            self.scope.error("type-mismatch", f"'{expr.op}' orders numbers, dates and durations, "
                             f"not {_describe(t_left)}", expr.span, hint="use '=' or '!='")
        elif isinstance(a, ir.EnumType) and not set(a.values) & set(b.values):
            self.scope.error("type-mismatch", f"cannot compare {_describe(t_left)} with {_describe(t_right)}: "
                             "they share no value", expr.span)
        return resolved, ir.BoolType()

    def _units(self, t_left, t_right, expr, verb: str) -> None:
        a, b = _base(t_left), _base(t_right)
        # A bare number takes the unit of the other side; two units must agree.
        if a.unit == b.unit:
            return
        if (isinstance(t_left, _Literal) and a.unit is None) or (isinstance(t_right, _Literal) and b.unit is None):
            return
        self.scope.error("unit-mismatch", f"cannot {verb} {_describe_unit(a)} with {_describe_unit(b)}", expr.span,
                         hint="give both sides the same unit")

    def _check_range_operand(self, t, interval: ir.Interval, expr) -> None:
        if t is ANY:
            return
        base = _base(t)
        if isinstance(base, ir.NumberType):
            if interval.unit in DURATION_UNITS:
                self.scope.error("unit-mismatch", f"cannot compare {_describe_unit(base)} with a range of durations",
                                 expr.span)
            elif interval.unit is not None and base.unit != interval.unit:
                self.scope.error("unit-mismatch", f"cannot compare {_describe_unit(base)} with a range in "
                                 f"'{interval.unit}'", expr.span, hint="give both sides the same unit")
        elif isinstance(base, ir.DurationType):
            if interval.unit not in DURATION_UNITS:
                self.scope.error("unit-mismatch", "a duration is compared with a range that is not of durations",
                                 expr.span, hint="write the bounds like '11 days'")
        else:
            self.scope.error("type-mismatch", f"a range holds numbers or durations, not {_describe(t)}", expr.span)

    def _member(self, expr: ir.Member):
        collection, t_coll = self.expr(expr.collection)
        if t_coll is not ANY and not isinstance(_base(t_coll), (ir.SetType, _SetLiteral)):
            self.scope.error("type-mismatch", f"'in' needs a set on its right, not {_describe(t_coll)}",
                             expr.collection.span)
            element, _ = self.expr(expr.element)
            return dataclasses.replace(expr, element=element, collection=collection), ir.BoolType()
        if isinstance(t_coll, ir.SetType):
            element, t_el = self.expr(expr.element, expected=ir.EnumType(values=t_coll.values))
            if t_el is not ANY and not isinstance(_base(t_el), ir.EnumType):
                self.scope.error("type-mismatch", f"a set of values holds values, not {_describe(t_el)}",
                                 expr.element.span)
        else:
            element, t_el = self.expr(expr.element)
            base = _base(t_el)
            if t_el is not ANY:
                if not isinstance(base, ir.EnumType):
                    self.scope.error("type-mismatch", f"'in {{...}}' tests an enum value, not {_describe(t_el)}",
                                     expr.span)
                elif isinstance(collection, ir.SetLit):  # not a name that failed to resolve
                    for value in collection.values:
                        if value not in base.values:
                            self.scope.error("unknown-enum-value", f"'{value}' is not one of the values "
                                             f"{{{', '.join(base.values)}}}", collection.span,
                                             hint=suggest(value, base.values))
        return dataclasses.replace(expr, element=element, collection=collection), ir.BoolType()

    def _arith(self, expr: ir.Arith):
        r_left, t_left = self.expr(expr.left)
        r_right, t_right = self.expr(expr.right)
        resolved = dataclasses.replace(expr, left=r_left, right=r_right)
        if ANY in (t_left, t_right):
            return resolved, ANY
        a, b = _base(t_left), _base(t_right)
        op = expr.op
        match a, b:
            case ir.NumberType(), ir.NumberType():
                if op in "+-":
                    self._units(t_left, t_right, expr, "add" if op == "+" else "subtract")
                    unit = a.unit or b.unit
                elif op == "*":
                    unit = a.unit if b.unit is None else (b.unit if a.unit is None else None)
                else:
                    unit = a.unit if b.unit is None else (None if a.unit == b.unit else None)
                integer = a.integer and b.integer and op != "/"
                typ = ir.NumberType(integer=integer, unit=unit)
                if isinstance(t_left, _Literal) and isinstance(t_right, _Literal):
                    return dataclasses.replace(resolved, kind="number"), _Literal(typ)
                return dataclasses.replace(resolved, kind="number"), typ
            case ir.DateType(), ir.DurationType() if op in "+-":
                return dataclasses.replace(resolved, kind="date_plus" if op == "+" else "date_minus"), ir.DateType()
            case ir.DurationType(), ir.DateType() if op == "+":
                return dataclasses.replace(resolved, kind="date_plus", left=r_right, right=r_left), ir.DateType()
            case ir.DateType(), ir.DateType() if op == "-":
                return dataclasses.replace(resolved, kind="date_diff"), ir.DurationType()
            case ir.DurationType(), ir.DurationType() if op in "+-":
                return dataclasses.replace(resolved, kind="duration"), ir.DurationType()
            case ir.NumberType(), ir.DurationType() | ir.DateType() if op in "+-":
                self.scope.error("unit-mismatch", f"cannot {'add' if op == '+' else 'subtract'} "
                                 f"{_describe_unit(a)} and {_describe(t_right)}", expr.span,
                                 hint="write the number with a unit of time, e.g. '6 weeks'")
                return resolved, ANY
            case ir.DurationType() | ir.DateType(), ir.NumberType() if op in "+-":
                self.scope.error("unit-mismatch", f"cannot {'add' if op == '+' else 'subtract'} "
                                 f"{_describe(t_left)} and {_describe_unit(b)}", expr.span,
                                 hint="write the number with a unit of time, e.g. '6 weeks'")
                return resolved, ANY
        self.scope.error("type-mismatch", f"cannot apply '{op}' to {_describe(t_left)} and {_describe(t_right)}",
                         expr.span)
        return resolved, ANY


    def _alike(self, expr, ops):
        """coalesce, min, max: operands of one type (numbers of one unit); the result has it.
        min and max order numbers, dates and durations only."""
        resolved, types = [], []
        for op in ops:
            r, t = self.expr(op)
            resolved.append(r)
            types.append(t)
        expr = dataclasses.replace(expr, operands=tuple(resolved))
        known = [(op, t) for op, t in zip(ops, types, strict=True) if t is not ANY]
        if len(known) < len(types) or not known:
            return expr, ANY
        name = "coalesce" if isinstance(expr, ir.Coalesce) else expr.op
        first_op, first = known[0]
        for op, t in known[1:]:
            a, b = _base(first), _base(t)
            if type(a) is not type(b) or (isinstance(a, (ir.EnumType, ir.SetType)) and a != b):
                self.scope.error("type-mismatch", f"'{name}' takes values of one type, but this is {_describe(t)} "
                                 f"and the first is {_describe(first)}", op.span)
                return expr, ANY
            if isinstance(a, ir.NumberType):
                self._units(first, t, op, name)
        base = _base(first)
        if isinstance(expr, ir.Extreme) and not isinstance(base, (ir.NumberType, ir.DateType, ir.DurationType)):
            self.scope.error("type-mismatch", f"'{name}' orders numbers, dates and durations, not {_describe(first)}",
                             expr.span)
            return expr, ANY
        if isinstance(base, ir.NumberType):
            unit = next((_base(t).unit for t in types if _base(t).unit), None)
            typ = ir.NumberType(integer=all(_base(t).integer for t in types), unit=unit)
            return expr, (_Literal(typ) if all(isinstance(t, _Literal) for t in types) else typ)
        return expr, first


@dataclass(frozen=True, slots=True)
class _Literal:
    """The type of a literal number: it may take the unit of what it is compared with."""

    type: ir.NumberType


@dataclass(frozen=True, slots=True)
class _SetLiteral:
    values: tuple[str, ...]


def _base(t):
    return t.type if isinstance(t, _Literal) else t


def _enum_values(t) -> tuple[str, ...] | None:
    match t:
        case ir.EnumType(values=values) | ir.SetType(values=values):
            return values
    return None


def _describe(t) -> str:
    if t is ANY:
        return "an erroneous expression"
    if isinstance(t, _SetLiteral):
        return "a set of values"
    base = _base(t)
    if isinstance(base, ir.NumberType):
        return "a number" + (f" in '{base.unit}'" if base.unit else "")
    if isinstance(base, ir.DurationType):
        return "a duration (days, weeks or months)"
    if isinstance(base, ir.EnumType):
        return "a value of " + ir.describe_type(base)
    if isinstance(base, ir.BoolType):
        return "a true/false value"
    if isinstance(base, ir.SetType):
        return "a " + ir.describe_type(base)
    return "a " + ir.describe_type(base)


def _describe_unit(t: ir.NumberType) -> str:
    return f"a number in '{t.unit}'" if t.unit else "a number without unit"


def _compare_hint(t_left, t_right) -> str | None:
    a, b = _base(t_left), _base(t_right)
    if isinstance(a, ir.EnumType) or isinstance(b, ir.EnumType):
        enum = a if isinstance(a, ir.EnumType) else b
        return "compare it with one of its values: " + ", ".join(enum.values)
    if {type(a), type(b)} == {ir.NumberType, ir.DurationType}:
        return "a duration compares only with a duration, and a number only with a number of the same unit"
    return None


def _reads_any(expr) -> bool:
    return any(isinstance(node, (ir.FactRef, ir.DefineRef)) for node in ir.walk(expr))
