"""The rule language in Z3: three-valued conditions over a knowledge base's facts.

Every fact becomes a `known` flag and a value of its type (bool, Int, Real, an enum's
index, one flag per value of a set, a date as a day number, a duration as months and
days). A condition becomes two formulas, `true` and `false`; where neither holds, it is
unknown, which is Kleene's logic exactly. A value becomes (known, term).

Approximations, each only widening what the solver may propose, so that "no case exists"
stays exact (every case it does propose is checked by the real evaluator before it is
reported, see `verify`): adding months to a date, and the whole months between two dates,
are calendar operations, encoded as day numbers within a few days of the average month; a
duration in months compared with days (true, false or unknown by the rule of
engine/lang/values.py, through `month_span`) uses a span the solver may choose within
`SPAN_SLACK` days of the average; `round` lies within half a unit of what it rounds; min
and max of durations are one of their operands; and numbers have no largest value.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import z3

from ...lang import ir
from ...lang.values import Duration, month_span

MAX_ORDINAL = 3_652_059  # 9999-12-31
AVERAGE_MONTH = z3.Q(146097, 4800)  # days: a 400-year cycle has 4800 months
SPAN_SLACK = 5  # k months span within 5 days of k average months (4.39 at most: values.month_span)


@dataclass(frozen=True)
class Truth:
    """A three-valued condition: `true` and `false` are never both satisfied."""

    true: z3.BoolRef
    false: z3.BoolRef

    @property
    def unknown(self) -> z3.BoolRef:
        return z3.And(z3.Not(self.true), z3.Not(self.false))


@dataclass(frozen=True)
class Value:
    known: z3.BoolRef
    term: Any           # z3 term, (months, days) for durations, {value: BoolRef} for sets
    kind: str           # bool | number | enum | set | date | duration

    def terms(self) -> list[Any]:
        """The Z3 terms of the value, without its `known` flag."""
        if isinstance(self.term, dict):
            return list(self.term.values())
        if isinstance(self.term, tuple):
            return list(self.term)
        return [self.term]


class Encoder:
    """Z3 variables for one knowledge base's facts, and encodings of its expressions."""

    def __init__(self, facts: dict[str, ir.Fact], defines: dict[str, ir.Define], prefix: str = "",
                 enum_ids: dict[str, int] | None = None):
        self.facts = facts
        self.defines = defines
        self.prefix = prefix
        self.values: dict[str, Value] = {}
        self.domain: list[z3.BoolRef] = []   # what every case satisfies (ranges, enum values)
        # the same, by the symbol it constrains (a fact's, or a fresh date's): a solver call needs
        # only the constraints of what its formula mentions, and stays as fast in a large base
        self.domain_of: dict[str, list[z3.BoolRef]] = {}
        self.symbols: dict[int, tuple[Any, frozenset[str]]] = {}  # solve.symbols' memo
        # shared between two encoders that must agree on enum values (a diff of two versions)
        self.enum_ids: dict[str, int] = enum_ids if enum_ids is not None else {}
        self._define_cache: dict[str, Any] = {}
        self._fresh = 0
        self.fact_of: dict[str, str] = {}     # a Z3 symbol's name -> the fact it belongs to
        for name, fact in facts.items():
            before = len(self.domain)
            value = self.values[name] = self._declare(name, fact)
            for term in [value.known, *value.terms()]:
                self.fact_of[term.decl().name()] = name
                self.domain_of[term.decl().name()] = self.domain[before:]

    def enum_id(self, value: str) -> int:
        return self.enum_ids.setdefault(value, len(self.enum_ids))

    def _var(self, maker, name: str):
        return maker(f"{self.prefix}{name}")

    def _declare(self, name: str, fact: ir.Fact) -> Value:
        known = self._var(z3.Bool, f"{name}?")
        match fact.type:
            case ir.BoolType():
                return Value(known, self._var(z3.Bool, name), "bool")
            case ir.NumberType(integer=integer, range=interval):
                term = self._var(z3.Int if integer else z3.Real, name)
                if interval is not None:
                    self.domain.append(self._in(term, interval))
                return Value(known, term, "number")
            case ir.EnumType(values=values):
                term = self._var(z3.Int, name)
                self.domain.append(z3.Or([term == self.enum_id(v) for v in values]))
                return Value(known, term, "enum")
            case ir.SetType(values=values):
                return Value(known, {v: self._var(z3.Bool, f"{name}[{v}]") for v in values}, "set")
            case ir.DateType():
                term = self._var(z3.Int, name)
                self.domain.append(z3.And(term >= 1, term <= MAX_ORDINAL))
                return Value(known, term, "date")
            case ir.DurationType(range=interval):
                months, days = self._var(z3.Int, f"{name}.months"), self._var(z3.Int, f"{name}.days")
                # a case gives one unit: days (or weeks), or months
                self.domain.append(z3.And(months >= 0, days >= 0, z3.Or(months == 0, days == 0)))
                term = (months, days)
                if interval is not None:
                    low = self._duration_cmp(">=" if interval.low.closed else ">", term, _dur(interval.low.value))
                    high = self._duration_cmp("<=" if interval.high.closed else "<", term, _dur(interval.high.value))
                    self.domain.append(z3.And(low[0], high[0]))  # a case's value is in range for sure
                return Value(known, term, "duration")
        raise AssertionError(fact.type)

    @staticmethod
    def _in(term, interval: ir.Interval) -> z3.BoolRef:
        lo, hi = interval.low, interval.high
        low, high = _number(lo.value), _number(hi.value)
        if term.is_int() and (low.is_real() or high.is_real()):
            term = z3.ToReal(term)
        return z3.And(term >= low if lo.closed else term > low, term <= high if hi.closed else term < high)

    # ---- conditions -----------------------------------------------------------------------
    def truth(self, e: ir.Expr) -> Truth:
        match e:
            case ir.BoolLit(value=v):
                return Truth(z3.BoolVal(v), z3.BoolVal(not v))
            case ir.FactRef() | ir.DefineRef():
                value = self.value(e)
                if isinstance(value, Truth):
                    return value
                return Truth(z3.And(value.known, value.term), z3.And(value.known, z3.Not(value.term)))
            case ir.And(operands=ops):
                parts = [self.truth(op) for op in ops]
                return Truth(z3.And([p.true for p in parts]), z3.Or([p.false for p in parts]))
            case ir.Or(operands=ops):
                parts = [self.truth(op) for op in ops]
                return Truth(z3.Or([p.true for p in parts]), z3.And([p.false for p in parts]))
            case ir.Not(operand=op):
                inner = self.truth(op)
                return Truth(inner.false, inner.true)
            case ir.Compare(op=op, left=left, right=right):
                a, b = self.value(left), self.value(right)
                known = z3.And(_known(a), _known(b))
                if a.kind == "duration" or b.kind == "duration":
                    true, false = self._duration_cmp(op, a.term, b.term)
                    return Truth(z3.And(known, true), z3.And(known, false))
                holds = self._compare(op, a, b)
                return Truth(z3.And(known, holds), z3.And(known, z3.Not(holds)))
            case ir.InRange(operand=op, interval=interval):
                v = self.value(op)
                if v.kind == "duration":
                    lo, hi = interval.low, interval.high
                    above = self._duration_cmp(">=" if lo.closed else ">", v.term, _dur(lo.value))
                    below = self._duration_cmp("<=" if hi.closed else "<", v.term, _dur(hi.value))
                    return Truth(z3.And(v.known, above[0], below[0]), z3.And(v.known, z3.Or(above[1], below[1])))
                holds = self._in(v.term, interval)
                return Truth(z3.And(v.known, holds), z3.And(v.known, z3.Not(holds)))
            case ir.Coalesce():
                v = self.value(e)
                return Truth(z3.And(v.known, v.term), z3.And(v.known, z3.Not(v.term)))
            case ir.Member(element=element, collection=collection):
                return self._member(element, collection)
            case ir.IsKnown(operand=op, negated=negated):
                known = _known(self.value(op))
                holds = z3.Not(known) if negated else known
                return Truth(holds, z3.Not(holds))
        raise AssertionError(f"verify cannot encode {type(e).__name__} as a condition")

    def _member(self, element, collection) -> Truth:
        if isinstance(collection, ir.SetLit):
            v = self.value(element)
            holds = z3.Or([v.term == self.enum_id(x) for x in collection.values])
            return Truth(z3.And(v.known, holds), z3.And(v.known, z3.Not(holds)))
        s = self.value(collection)
        if isinstance(element, ir.EnumLit):
            flag = s.term.get(element.value, z3.BoolVal(False))
            return Truth(z3.And(s.known, flag), z3.And(s.known, z3.Not(flag)))
        v = self.value(element)
        holds = z3.Or([z3.And(v.term == self.enum_id(x), flag) for x, flag in s.term.items()])
        known = z3.And(v.known, s.known)
        return Truth(z3.And(known, holds), z3.And(known, z3.Not(holds)))

    def _compare(self, op: str, a: Value, b: Value) -> z3.BoolRef:
        x, y = a.term, b.term
        if a.kind == "number" and b.kind == "number" and (x.is_real() or y.is_real()):
            x, y = z3.ToReal(x) if x.is_int() else x, z3.ToReal(y) if y.is_int() else y
        return _OPS[op](x, y)

    # ---- values ---------------------------------------------------------------------------
    def value(self, e: ir.Expr):
        """A Value, or a Truth for a definition that is a condition."""
        match e:
            case ir.FactRef(id=name):
                return self.values[name]
            case ir.DefineRef(id=name):
                if name not in self._define_cache:
                    expr = self.defines[name].expr
                    self._define_cache[name] = (self.truth(expr) if _is_condition(expr, self)
                                                else self.value(expr))
                return self._define_cache[name]
            case ir.NumberLit(value=v):
                return Value(z3.BoolVal(True), _number(v), "number")
            case ir.DurationLit(value=d):
                return Value(z3.BoolVal(True), _dur(d), "duration")
            case ir.DateLit(value=day):
                return Value(z3.BoolVal(True), z3.IntVal(day.toordinal()), "date")
            case ir.EnumLit(value=v):
                return Value(z3.BoolVal(True), z3.IntVal(self.enum_id(v)), "enum")
            case ir.BoolLit(value=v):
                return Value(z3.BoolVal(True), z3.BoolVal(v), "bool")
            case ir.Negate(operand=op):
                v = self.value(op)
                term = (-v.term[0], -v.term[1]) if v.kind == "duration" else -v.term
                return Value(v.known, term, v.kind)
            case ir.Arith():
                return self._arith(e)
            case ir.Coalesce(operands=ops):
                parts = [_as_value(self.value(op)) for op in ops]
                kind = parts[0].kind
                if kind in ("duration", "set"):
                    return self._one_of(parts, z3.Or([p.known for p in parts]))
                terms = _alike_terms([p.term for p in parts]) if kind == "number" else [p.term for p in parts]
                term = terms[-1]
                for p, t in zip(reversed(parts[:-1]), reversed(terms[:-1]), strict=True):
                    term = z3.If(p.known, t, term)
                return Value(z3.Or([p.known for p in parts]), term, kind)
            case ir.Extreme(op=op, operands=ops):
                parts = [_as_value(self.value(x)) for x in ops]
                known = z3.And([p.known for p in parts])
                if parts[0].kind == "duration":
                    return self._one_of(parts, z3.And(known, z3.Bool(self._name("decided"))))
                terms = _alike_terms([p.term for p in parts])
                term = terms[0]
                for t in terms[1:]:
                    term = z3.If(t < term, t, term) if op == "min" else z3.If(t > term, t, term)
                return Value(known, term, parts[0].kind)
            case ir.Absolute(operand=op):
                v = self.value(op)
                if v.kind == "duration":
                    return self._one_of([v, Value(v.known, (-v.term[0], -v.term[1]), "duration")],
                                        z3.And(v.known, z3.Bool(self._name("decided"))))
                return Value(v.known, z3.If(v.term < 0, -v.term, v.term), "number")
            case ir.Round(operand=op, places=places):
                v = self.value(op)
                result = z3.Real(self._name("round"))
                half = z3.Q(1, 2 * 10 ** places)
                x = z3.ToReal(v.term) if v.term.is_int() else v.term
                self.domain.append(z3.And(result >= x - half, result <= x + half))
                return Value(v.known, result, "number")
            case ir.MonthsBetween(start=start, end=end):
                a, b = self.value(start), self.value(end)
                months = z3.Int(self._name("months"))
                days = z3.ToReal(b.term - a.term)
                self.domain.append(z3.And(days >= AVERAGE_MONTH * months - 40, days <= AVERAGE_MONTH * months + 40))
                return Value(z3.And(a.known, b.known), (months, z3.IntVal(0)), "duration")
        truth = self.truth(e)  # a condition used as a value (e.g. `flag = (a and b)`)
        return Value(z3.Or(truth.true, truth.false), truth.true, "bool")

    def _arith(self, e: ir.Arith) -> Value:
        a, b = self.value(e.left), self.value(e.right)
        known = z3.And(a.known, b.known)
        match e.kind:
            case "number":
                x, y = a.term, b.term
                if e.op == "/":
                    x, y = (z3.ToReal(t) if t.is_int() else t for t in (x, y))
                    return Value(z3.And(known, y != 0), x / y, "number")
                if x.is_real() or y.is_real():
                    x, y = (z3.ToReal(t) if t.is_int() else t for t in (x, y))
                return Value(known, _OPS[e.op](x, y), "number")
            case "duration":
                (m1, d1), (m2, d2) = a.term, b.term
                sign = 1 if e.op == "+" else -1
                return Value(known, (m1 + sign * m2, d1 + sign * d2), "duration")
            case "date_diff":
                return Value(known, (z3.IntVal(0), a.term - b.term), "duration")
            case "date_plus" | "date_minus":
                months, days = b.term
                if e.kind == "date_minus":
                    months, days = -months, -days
                day = self._add_months(a.term, months) + days
                # a date that leaves 0001-01-01 .. 9999-12-31 is unknown
                return Value(z3.And(known, day >= 1, day <= MAX_ORDINAL), day, "date")
        raise AssertionError(e.kind)

    def _name(self, what: str) -> str:
        self._fresh += 1
        return f"{self.prefix}__{what}{self._fresh}"

    def _one_of(self, parts: list[Value], known) -> Value:
        """A value known to be one of `parts` (which one, the solver may choose)."""
        if parts[0].kind == "duration":
            term = (z3.Int(self._name("months")), z3.Int(self._name("days")))
            self.domain.append(z3.Or([z3.And(term[0] == p.term[0], term[1] == p.term[1]) for p in parts]))
            return Value(known, term, "duration")
        members = {v: z3.Bool(self._name("member")) for v in parts[0].term}
        self.domain.append(z3.Or([z3.And([members[v] == p.term.get(v, False) for v in members]) for p in parts]))
        return Value(known, members, parts[0].kind)

    def _duration_cmp(self, op: str, a, b) -> tuple[z3.BoolRef, z3.BoolRef]:
        """(holds, fails) for a op b by the rule of engine/lang/values.py; neither: unknown.

        k = a.months - b.months months span between `low` and `high` days from a date; with
        k a constant they are `month_span(k)`, otherwise the solver picks them within
        SPAN_SLACK days of the average (a superset of the truth)."""
        (m1, d1), (m2, d2) = a, b
        k, delta = z3.simplify(m1 - m2), d2 - d1
        if z3.is_int_value(k):
            low, high = (z3.IntVal(n) for n in month_span(k.as_long()))
        else:
            low, high = z3.Int(self._name("span_low")), z3.Int(self._name("span_high"))
            average = AVERAGE_MONTH * z3.ToReal(k)
            self.domain.append(z3.And(low <= high, z3.ToReal(low) >= average - SPAN_SLACK,
                                      z3.ToReal(high) <= average + SPAN_SLACK,
                                      z3.Implies(k == 0, z3.And(low == 0, high == 0))))
        match op:
            case "<":
                return high < delta, low >= delta
            case "<=":
                return high <= delta, low > delta
            case ">":
                return low > delta, high <= delta
            case ">=":
                return low >= delta, high < delta
        same = z3.And(low == high, high == delta)
        differ = z3.Or(delta < low, delta > high)
        return (same, differ) if op == "=" else (differ, same)

    def _add_months(self, day, months):
        """A calendar month added to a day number: bounded, exact when no month is added."""
        self._fresh += 1
        result = z3.Int(f"{self.prefix}__date{self._fresh}")
        self.domain.append(z3.If(months == 0, result == day,
                                 z3.And(result >= day + 28 * months - 3, result <= day + 31 * months + 3)))
        self.domain_of[result.decl().name()] = self.domain[-1:]
        return result


def _known(value) -> z3.BoolRef:
    return value.known if isinstance(value, Value) else z3.Or(value.true, value.false)


def _is_condition(expr: ir.Expr, encoder: Encoder) -> bool:
    match expr:
        case ir.And() | ir.Or() | ir.Not() | ir.Compare() | ir.InRange() | ir.Member() | ir.IsKnown() | ir.BoolLit():
            return True
        case ir.FactRef(id=name):
            return isinstance(encoder.facts[name].type, ir.BoolType)
        case ir.DefineRef(id=name):
            return _is_condition(encoder.defines[name].expr, encoder)
    return False


_OPS = {"=": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
        "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b}


def _dur(d: int | Decimal | Duration) -> tuple[z3.ArithRef, z3.ArithRef]:
    assert isinstance(d, Duration), d  # a duration's bounds and literals are durations: check saw to it
    return (z3.IntVal(d.months), z3.IntVal(d.days))


def _as_value(v) -> Value:
    """A condition (a Truth, from a definition) as a bool Value."""
    return Value(z3.Or(v.true, v.false), v.true, "bool") if isinstance(v, Truth) else v


def _number(v):
    """An exact number (int or Decimal) as a Z3 numeral: Int when whole and written so, else Real."""
    return z3.IntVal(v) if isinstance(v, int) else z3.RealVal(format(v, "f"))


def _alike_terms(terms: list) -> list:
    """Numbers of one expression as one sort: all real when any is."""
    if any(t.is_real() for t in terms if hasattr(t, "is_real")):
        return [z3.ToReal(t) if t.is_int() else t for t in terms]
    return terms
