"""The rule language in Z3: three-valued conditions over a knowledge base's facts.

Every fact becomes a `known` flag and a value of its type (bool, Int, Real, an enum's
index, one flag per value of a set, a date as a day number, a duration as months and
days). A condition becomes two formulas, `true` and `false`; where neither holds, it is
unknown, which is Kleene's logic exactly. A value becomes (known, term).

One approximation: adding months to a date is a calendar operation; it is encoded as a
day number between 28 and 31 days a month away. That only widens what the solver may
propose, so "no case exists" stays exact, and every case it does propose is checked by
the real evaluator before it is reported (see `verify`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import z3

from ...lang import ir
from ...lang.values import DAYS_PER_MONTH, Duration

MAX_ORDINAL = 3_000_000


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
                    low = _duration_cmp(">=" if interval.low.closed else ">", term, _dur(interval.low.value))
                    high = _duration_cmp("<=" if interval.high.closed else "<", term, _dur(interval.high.value))
                    self.domain.append(z3.And(low, high))
                return Value(known, term, "duration")
        raise AssertionError(fact.type)

    @staticmethod
    def _in(term, interval: ir.Interval) -> z3.BoolRef:
        lo, hi = interval.low, interval.high
        return z3.And(term >= lo.value if lo.closed else term > lo.value,
                      term <= hi.value if hi.closed else term < hi.value)

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
                holds = self._compare(op, a, b)
                return Truth(z3.And(known, holds), z3.And(known, z3.Not(holds)))
            case ir.InRange(operand=op, interval=interval):
                v = self.value(op)
                if v.kind == "duration":
                    lo, hi = interval.low, interval.high
                    holds = z3.And(_duration_cmp(">=" if lo.closed else ">", v.term, _dur(lo.value)),
                                   _duration_cmp("<=" if hi.closed else "<", v.term, _dur(hi.value)))
                else:
                    holds = self._in(v.term, interval)
                return Truth(z3.And(v.known, holds), z3.And(v.known, z3.Not(holds)))
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
        if a.kind == "duration" or b.kind == "duration":
            return _duration_cmp(op, a.term, b.term)
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
                return Value(z3.BoolVal(True), z3.IntVal(v) if isinstance(v, int) else z3.RealVal(v), "number")
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
                return Value(known, self._add_months(a.term, months) + days, "date")
        raise AssertionError(e.kind)

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


def _dur(d: float | Duration):
    assert isinstance(d, Duration), d  # a duration's bounds and literals are durations: check saw to it
    return (z3.IntVal(d.months), z3.IntVal(d.days))


def _duration_cmp(op: str, a, b) -> z3.BoolRef:
    """Duration comparison as `values.Duration` does it: exact in days or in months, else by average."""
    (m1, d1), (m2, d2) = a, b
    if op in ("=", "!="):
        same = z3.And(m1 == m2, d1 == d2)
        return same if op == "=" else z3.Not(same)
    compare = _OPS[op]
    average = compare(z3.ToReal(m1) * DAYS_PER_MONTH + z3.ToReal(d1), z3.ToReal(m2) * DAYS_PER_MONTH + z3.ToReal(d2))
    return z3.If(z3.And(m1 == 0, m2 == 0), compare(d1, d2),
                 z3.If(z3.And(d1 == 0, d2 == 0), compare(m1, m2), average))
