"""Lowering of expressions and fact types: the part of `lower` every declaration shares.

`LoweringBase` turns the expression and type rules of the grammar into IR (quantities
become number or duration literals, chains of `and`/`or` flat operand tuples, intervals
explicit bounds) and holds the helpers for spans and diagnostics. It is whole on its own:
its state (the file's path, the diagnostics) is its own and every method it calls is here.
`lower._Lowering` extends it with the declarations' rules: a Lark `Transformer` finds the
method for a grammar rule by its name on one object, so the two halves are one class.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Callable

from lark import Token, Transformer, v_args

from . import ir
from .diagnostics import Diagnostic, Span
from .values import (DURATION_UNITS, MAX_DIGITS, Duration, Number, compare, format_number, make_duration,
                     number as read_number)

_COMPARATOR_ASCII = {"≤": "<=", "≥": ">=", "≠": "!="}


@dataclass(frozen=True, slots=True)
class Quantity:
    value: Number
    unit: str | None
    span: Span


class LoweringBase(Transformer):
    def __init__(self, path: str):
        super().__init__()
        self.path = path
        self.diagnostics: list[Diagnostic] = []

    # ---- helpers --------------------------------------------------------------------
    def span(self, meta) -> Span:
        if getattr(meta, "empty", True):
            return Span(self.path, 1, 1, 1, 1)
        return Span(self.path, meta.line, meta.column, meta.end_line, meta.end_column)

    def token_span(self, token: Token) -> Span:
        # the lexer gives every token its place; Lark types them as optional for hand-made tokens
        return Span(self.path, token.line or 1, token.column or 1, token.end_line or 1, token.end_column or 1)

    def error(self, code: str, message: str, span: Span, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, message, span, hint=hint))

    def _duration(self, q: Quantity) -> Duration:
        if q.unit not in DURATION_UNITS:
            self.error("unit-mismatch", f"a plan step's time must be a duration in days, weeks or months, "
                       f"not '{q.unit or 'a bare number'}'", q.span, hint="write it like '11 days'")
            return Duration()
        try:
            return make_duration(q.value, q.unit)
        except ValueError as exc:
            self.error("invalid-value", str(exc), q.span)
            return Duration()

    def _check_not_empty(self, low, high, low_closed: bool, high_closed: bool, span: Span) -> None:
        """A range that holds no value is an error, whether its bounds are crossed ([5 .. 3])
        or equal with an open end ([5 .. 5), (5 .. 5]): one rule for every empty range."""
        if compare("<", high, low) is True:
            self.error("invalid-range", f"the range {_show(low)} .. {_show(high)} is empty: its upper bound "
                       "is below its lower bound", span, hint="write the lower bound first")
        elif compare("=", low, high) is True and not (low_closed and high_closed):
            self.error("invalid-range", f"the range {_show(low)} .. {_show(high)} is empty: its bounds are "
                       "equal and one of them is open", span,
                       hint=f"write [{_show(low)} .. {_show(high)}] for that one value, or '= {_show(low)}'")

    # ---- fact types -----------------------------------------------------------------
    def bool_type(self, children):
        return ir.BoolType()

    def _number_type(self, children, integer: bool, unit: str | None = None):
        bounds = None
        for child in children:
            if isinstance(child, str):
                unit = child
            elif isinstance(child, tuple):
                bounds = child
        interval = self._interval(bounds, unit, integer) if bounds else None
        return ir.NumberType(integer=integer, unit=unit, range=interval)

    def integer_type(self, children):
        return self._number_type(children, integer=True)

    def number_type(self, children):
        return self._number_type(children, integer=False)

    def percent_type(self, children):
        return self._number_type(children, integer=False, unit="%")

    def enum_type(self, children):
        return ir.EnumType(values=children[0].values)

    def set_type(self, children):
        return ir.SetType(values=children[0].values)

    def date_type(self, children):
        return ir.DateType()

    def duration_type(self, children):
        if not children:
            return ir.DurationType()
        low, high, low_closed, high_closed = children[0]
        bounds = []
        for q in (low, high):
            bounds.append(self._duration(q) if q.unit is not None else Duration(days=int(q.value)))
        self._check_not_empty(bounds[0], bounds[1], low_closed, high_closed, low.span)
        interval = ir.Interval(low=ir.Bound(value=bounds[0], closed=low_closed),
                               high=ir.Bound(value=bounds[1], closed=high_closed), span=low.span)
        return ir.DurationType(range=interval)

    def unit(self, children):
        return str(children[0])

    def closed_bounds(self, children):
        return (children[0], children[1], True, True)

    def bounds(self, children):
        return children[0]

    def _interval(self, bounds, unit: str | None, integer: bool) -> ir.Interval:
        low, high, low_closed, high_closed = bounds
        for q in (low, high):
            if q.unit is not None and q.unit != unit:
                self.error("unit-mismatch", f"the range is written in '{q.unit}' but the fact is in "
                           f"'{unit or 'no unit'}'", q.span)
        self._check_not_empty(low.value, high.value, low_closed, high_closed, low.span)
        return ir.Interval(low=ir.Bound(value=low.value, closed=low_closed),
                           high=ir.Bound(value=high.value, closed=high_closed), unit=unit, span=low.span)

    # ---- expressions ----------------------------------------------------------------
    @v_args(meta=True)
    def quantity(self, meta, children):
        try:
            value = read_number(str(children[0]))  # exact: 0.1 is one tenth, 10**400 is 10**400
        except ValueError as exc:
            self.error("invalid-value", str(exc), self.token_span(children[0]),
                       hint=f"numbers in rules have at most {MAX_DIGITS} digits")
            value = 0
        unit = children[1] if len(children) > 1 else None
        return Quantity(value, unit, self.span(meta))

    def _expr_of(self, item):
        """A quantity becomes a number or duration literal once it stands in an expression."""
        if isinstance(item, Quantity):
            if item.unit in DURATION_UNITS:
                return ir.DurationLit(value=self._duration(item), span=item.span)
            return ir.NumberLit(value=item.value, unit=item.unit, span=item.span)
        return item

    @v_args(meta=True)
    def or_chain(self, meta, children):
        return ir.Or(operands=tuple(self._expr_of(c) for c in children), span=self.span(meta))

    @v_args(meta=True)
    def and_chain(self, meta, children):
        return ir.And(operands=tuple(self._expr_of(c) for c in children), span=self.span(meta))

    @v_args(meta=True)
    def not_expr(self, meta, children):
        return ir.Not(operand=self._expr_of(children[0]), span=self.span(meta))

    @v_args(meta=True)
    def compare(self, meta, children):
        left, op, right = children
        op = _COMPARATOR_ASCII.get(str(op), str(op))
        return ir.Compare(op=op, left=self._expr_of(left), right=self._expr_of(right), span=self.span(meta))

    @v_args(meta=True)
    def in_range(self, meta, children):
        operand, bounds = children
        low, high, low_closed, high_closed = bounds
        unit = low.unit or high.unit
        if unit in DURATION_UNITS:
            values = [self._duration(low), self._duration(high)]
        else:
            values = [low.value, high.value]
            if low.unit != high.unit and low.unit and high.unit:
                self.error("unit-mismatch", f"the range mixes '{low.unit}' and '{high.unit}'", high.span)
        self._check_not_empty(values[0], values[1], low_closed, high_closed, low.span)
        interval = ir.Interval(low=ir.Bound(value=values[0], closed=low_closed),
                               high=ir.Bound(value=values[1], closed=high_closed), unit=unit,
                               span=low.span)
        return ir.InRange(operand=self._expr_of(operand), interval=interval, span=self.span(meta))

    def interval(self, children):
        opener, low, high, closer = children
        return (low, high, str(opener) == "[", str(closer) == "]")

    @v_args(meta=True)
    def member(self, meta, children):
        element, values = children
        return ir.Member(element=self._expr_of(element), collection=values, span=self.span(meta))

    @v_args(meta=True)
    def member_of_fact(self, meta, children):
        element, name = children
        return ir.Member(element=self._expr_of(element),
                         collection=ir.Name(id=str(name), span=self.token_span(name)),
                         span=self.span(meta))

    @v_args(meta=True)
    def value_set(self, meta, children):
        names = [c for c in children if isinstance(c, Token) and c.type == "NAME"]
        return ir.SetLit(values=tuple(str(n) for n in names), span=self.span(meta))

    @v_args(meta=True)
    def is_known(self, meta, children):
        return ir.IsKnown(operand=self._expr_of(children[0]), negated=False, span=self.span(meta))

    @v_args(meta=True)
    def is_unknown(self, meta, children):
        return ir.IsKnown(operand=self._expr_of(children[0]), negated=True, span=self.span(meta))

    @staticmethod  # a factory of handlers, used in the class body
    def _arith(op: str) -> Callable[..., ir.Arith]:
        @v_args(meta=True)
        def handler(self, meta, children):
            left, right = (self._expr_of(c) for c in children)
            return ir.Arith(op=op, left=left, right=right, span=self.span(meta))
        return handler

    add = _arith("+")
    subtract = _arith("-")
    multiply = _arith("*")
    divide = _arith("/")

    @v_args(meta=True)
    def negate(self, meta, children):
        return ir.Negate(operand=self._expr_of(children[0]), span=self.span(meta))

    # ---- operators written like functions: coalesce, min, max, abs, round, months_between ----
    @v_args(meta=True)
    def coalesce(self, meta, children):
        return ir.Coalesce(operands=self._operands(children), span=self.span(meta))

    @v_args(meta=True)
    def minimum(self, meta, children):
        return ir.Extreme(op="min", operands=self._operands(children), span=self.span(meta))

    @v_args(meta=True)
    def maximum(self, meta, children):
        return ir.Extreme(op="max", operands=self._operands(children), span=self.span(meta))

    @v_args(meta=True)
    def absolute(self, meta, children):
        return ir.Absolute(operand=self._operands(children)[0], span=self.span(meta))

    @v_args(meta=True)
    def round(self, meta, children):
        operand, *places = [c for c in children if not isinstance(c, Token)]
        digits = 0
        if places:
            q = places[0]
            if q.unit is not None or not isinstance(q.value, int) or q.value > 100:
                self.error("invalid-value", "round's second operand is how many decimals to keep: "
                           "a whole number from 0 to 100", q.span, hint="write it like 'round(x, 1)'")
            else:
                digits = q.value
        return ir.Round(operand=self._expr_of(operand), places=digits, span=self.span(meta))

    @v_args(meta=True)
    def months_between(self, meta, children):
        start, end = self._operands(children)
        return ir.MonthsBetween(start=start, end=end, span=self.span(meta))

    def _operands(self, children) -> tuple:
        """The expressions between an operator's brackets (the bracket tokens left out)."""
        return tuple(self._expr_of(c) for c in children if not isinstance(c, Token))

    @v_args(meta=True)
    def date_literal(self, meta, children):
        token = children[0]
        try:
            day = _dt.date.fromisoformat(str(token))
        except ValueError:
            self.error("invalid-value", f"'{token}' is not a calendar date", self.token_span(token),
                       hint="write dates as YYYY-MM-DD")
            day = _dt.date(1970, 1, 1)
        return ir.DateLit(value=day, span=self.token_span(token))

    @v_args(meta=True)
    def true(self, meta, children):
        return ir.BoolLit(value=True, span=self.span(meta))

    @v_args(meta=True)
    def false(self, meta, children):
        return ir.BoolLit(value=False, span=self.span(meta))

    @v_args(meta=True)
    def name(self, meta, children):
        return ir.Name(id=str(children[0]), span=self.token_span(children[0]))

    def parenthesised(self, children):
        return self._expr_of(children[1])

    # Expressions that stand alone (a define, a guard, a branch) may be bare quantities.
    def __default__(self, data, children, meta):  # pragma: no cover - grammar and lowering agree
        raise AssertionError(f"no lowering for grammar rule '{data}'")


number_text = format_number


def _show(value) -> str:
    return str(value) if isinstance(value, Duration) else format_number(value)
