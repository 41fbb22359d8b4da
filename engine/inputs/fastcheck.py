"""Checking a case at the speed of evaluating it: a fact schema -> one checker per knowledge base.

`CaseChecker(facts)` builds, once, a small function per fact that accepts the values a case
file or an application usually gives (true/false, a whole number or a number within range,
an enum value, a list of set values, an ISO date, a duration in words) and returns the
typed value. A case all of
whose values pass is checked with one dictionary walk; anything else (an unknown fact, a
unit written in a string, a duration, a wrong value) goes to `case.validate_case`, which
gives the same typed values or the diagnostics. So the fast path decides nothing
`validate_case` would decide differently: it only accepts what `validate_case` accepts
unchanged, and converts a list to a frozenset and a date string to a date as it does.
"""

from __future__ import annotations

import datetime as _dt
import math
from decimal import Decimal
from typing import Any, Callable, Mapping

from ..lang import ir
from ..lang.diagnostics import CaseError, Span
from ..lang.values import exact, in_bounds, parse_duration
from .case import Case, validate_case

_BAD = object()  # "not for the fast path": validate_case decides
Check = Callable[[Any], Any]


def _bool(value: Any) -> Any:
    return value if value is True or value is False else _BAD


def _enum(values: tuple[str, ...]) -> Check:
    allowed = frozenset(values)

    def check(value: Any) -> Any:
        return value if value.__class__ is str and value in allowed else _BAD
    return check


def _number(t: ir.NumberType) -> Check:
    interval = t.range
    integer = t.integer

    def check(value: Any) -> Any:
        kind = value.__class__
        if kind is float and not integer and math.isfinite(value):
            value = exact(value)  # the decimal it was written as (0.1 is one tenth), as validate_case does
        elif kind is Decimal and not integer and value.is_finite():
            pass
        elif kind is not int:
            return _BAD
        if not in_bounds(value):
            return _BAD
        return value if interval is None or interval.contains(value) is True else _BAD
    return check


def _set(values: tuple[str, ...]) -> Check:
    allowed = frozenset(values)

    def check(value: Any) -> Any:
        if value.__class__ is not list and value.__class__ is not tuple:
            return _BAD
        try:
            found = frozenset(value)
        except TypeError:  # an item that is a list or a mapping
            return _BAD
        # every item one of the values (so a string), none twice
        return found if len(found) == len(value) and found <= allowed else _BAD
    return check


def _date(value: Any) -> Any:
    if value.__class__ is _dt.date:
        return value
    if value.__class__ is str:
        try:
            return _dt.date.fromisoformat(value)
        except ValueError:
            return _BAD
    return _BAD


def _duration(t: ir.DurationType) -> Check:
    interval = t.range

    def check(value: Any) -> Any:
        if value.__class__ is not str:
            return _BAD
        try:
            duration = parse_duration(value)
        except ValueError:
            return _BAD
        return duration if interval is None or interval.contains(duration) else _BAD
    return check


def _check_of(t: ir.FactType) -> Check | None:
    match t:
        case ir.BoolType():
            return _bool
        case ir.EnumType(values=values):
            return _enum(values)
        case ir.NumberType():
            return _number(t)
        case ir.SetType(values=values):
            return _set(values)
        case ir.DateType():
            return _date
        case ir.DurationType():
            return _duration(t)
    return None


class CaseChecker:
    """`checker(raw)`: the typed case, or CaseError with every diagnostic (as `check_case`).

    The fast path is one function written for the schema: per fact, its value fetched once
    and tested inline for the plain types (true/false, an enum value, a number in range),
    through the fact's check otherwise; any value it does not take, and any name that is
    not a fact, sends the whole case to `validate_case`."""

    def __init__(self, facts: Mapping[str, ir.Fact]):
        self.facts = facts
        namespace: dict[str, Any] = {"BAD": _BAD}
        lines = ["def fast(raw):", "    get = raw.get", "    case = {}", "    given = 0"]
        for i, (name, fact) in enumerate(facts.items()):
            check = _check_of(fact.type)
            if check is None:
                continue
            test = _inline(fact.type, f"v{i}", namespace, i)
            if test is None:
                namespace[f"check{i}"] = check
            lines += [f"    v{i} = get({name!r})",
                      f"    if v{i} is not None:",
                      "        given += 1"]
            if test is not None:
                lines += [f"        if not ({test}):", "            return None", f"        case[{name!r}] = v{i}"]
            else:
                lines += [f"        t = check{i}(v{i})", "        if t is BAD:", "            return None",
                          f"        case[{name!r}] = t"]
        # every name a fact, none null: else validate_case says (an unknown name, or a null, is rare)
        lines += ["    return case if given == len(raw) else None"]
        source = "\n".join(lines) + "\n"  # fact names only as literals (repr): nothing from a rule file runs
        exec(compile(source, "<consilium case checker>", "exec"), namespace)  # noqa: S102
        self._fast: Callable[[dict[str, Any]], Case | None] = namespace["fast"]

    def __call__(self, raw: Mapping[str, Any], *, name: str = "<case>",
                 positions: Mapping[str, Span] | None = None) -> Case:
        if raw.__class__ is dict:
            case = self._fast(raw)
            if case is not None:
                return case
        case, diagnostics = validate_case(raw, self.facts, name=name, positions=positions)
        if diagnostics:
            raise CaseError(diagnostics)
        return case


def _inline(t: ir.FactType, v: str, namespace: dict[str, Any], i: int) -> str | None:
    """A Python test that `v` is a value of type `t` taken as it is, or None (use the fact's check)."""
    match t:
        case ir.BoolType():
            return f"{v} is True or {v} is False"
        case ir.EnumType(values=values):
            namespace[f"values{i}"] = frozenset(values)
            return f"{v}.__class__ is str and {v} in values{i}"
        case ir.NumberType(range=interval) if interval is not None:
            # a whole number in range, inline; a float is made exact and anything else checked by _number
            low, high = interval.low, interval.high
            namespace[f"low{i}"], namespace[f"high{i}"] = low.value, high.value
            return (f"{v}.__class__ is int and low{i} {'<=' if low.closed else '<'} {v} "
                    f"{'<=' if high.closed else '<'} high{i}")
    return None


__all__ = ["CaseChecker"]
