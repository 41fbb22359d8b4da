"""Checking a case at the speed of evaluating it: a fact schema -> one checker per knowledge base.

`CaseChecker(facts)` writes, once, one function for the schema that takes the values a case
file or an application usually gives (true/false, a whole number or a number within range,
an enum value, a list of set values, an ISO date, a duration in words), fact by fact, and
returns the typed case. Anything else (an unknown fact, a null, a unit written in a string,
a float for an integer, a wrong value) sends the case to `case.validate_case`, which gives
the same typed values or the diagnostics. So the fast path decides nothing `validate_case`
would decide differently: it only accepts what `validate_case` accepts, and converts a list
to a frozenset, a date string to a date and a duration's words to a Duration as it does.
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


def _duration(t: ir.DurationType) -> Check:
    interval = t.range

    def check(value: Any) -> Any:
        if value.__class__ is not str:
            return _BAD
        try:
            duration = parse_duration(value)
        except ValueError:
            return _BAD
        return duration if interval is None or interval.contains(duration) is True else _BAD
    return check


def _number(t: ir.NumberType) -> Check:
    """A number fact's value, exact: a float is the decimal it was written as (0.1 is one tenth)."""
    interval = t.range

    def check(value: Any) -> Any:
        kind = value.__class__
        if kind is float and math.isfinite(value):
            value = exact(value)
        elif not (kind is int or kind is Decimal and value.is_finite()):
            return _BAD
        if not in_bounds(value):
            return _BAD
        return value if interval is None or interval.contains(value) is True else _BAD
    return check


class CaseChecker:
    """`checker(raw)`: the typed case, or CaseError with every diagnostic (as `check_case`).

    The fast path is one function written for the schema: per fact, its value fetched once
    and tested inline (true/false, an enum value, a number in range, a list of set values,
    an ISO date), through the fact's check for a duration; any value it does not take, a
    null, and any name that is not a fact, send the whole case to `validate_case`."""

    def __init__(self, facts: Mapping[str, ir.Fact]):
        self.facts = facts
        # written on the first call: a command that reads its case from a file (check_case) never calls it
        self._fast: Callable[[dict[str, Any]], Case | None] = self._first

    def _first(self, raw: dict[str, Any]) -> Case | None:
        self._fast = self._write(self.facts)
        return self._fast(raw)

    @staticmethod
    def _write(facts: Mapping[str, ir.Fact]) -> Callable[[dict[str, Any]], Case | None]:
        namespace: dict[str, Any] = {"BAD": _BAD, "date": _dt.date}
        lines = ["def fast(raw):", "    get = raw.get", "    case = {}"]
        for i, (name, fact) in enumerate(facts.items()):
            lines.append(f"    v = get({name!r})")
            test = _test(fact, i, namespace)
            if test is not None:  # tested first: a value given, as it should be, costs one test
                lines += [f"    if {test}:", f"        case[{name!r}] = v", "    elif v is not None:",
                          "        return None"]
                continue
            lines.append("    if v is not None:")
            lines += ["        " + line for line in _inline(fact, i, namespace)]
        # every name a fact, none null: else validate_case says (an unknown name, or a null, is rare)
        lines += ["    return case if len(case) == len(raw) else None"]
        source = "\n".join(lines) + "\n"  # fact names only as literals (repr): nothing from a rule file runs
        exec(compile(source, "<consilium case checker>", "exec"), namespace)  # noqa: S102
        fast: Callable[[dict[str, Any]], Case | None] = namespace["fast"]
        return fast

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


def _test(fact: ir.Fact, i: int, namespace: dict[str, Any]) -> str | None:
    """The test that `v` is a value of `fact` as it is (false for None), for the types whose
    values are taken as they are; None for the others (see `_inline`)."""
    match fact.type:
        case ir.BoolType():
            return "v is True or v is False"
        case ir.EnumType(values=values):
            namespace[f"values{i}"] = frozenset(values)
            return f"v.__class__ is str and v in values{i}"
        case ir.NumberType(integer=True, range=interval):  # an int, in range (bounds by name: exact)
            test = "v.__class__ is int"
            if interval is not None:
                low, high = interval.low, interval.high
                namespace[f"low{i}"], namespace[f"high{i}"] = low.value, high.value
                test += f" and low{i} {'<=' if low.closed else '<'} v {'<=' if high.closed else '<'} high{i}"
            return test
    return None


def _inline(fact: ir.Fact, i: int, namespace: dict[str, Any]) -> list[str]:
    """The statements that take the value `v` (not None) of `fact` into `case`, or return
    None, for the types whose values are converted (those `_test` does not take)."""
    key = repr(fact.id)
    match fact.type:
        case ir.NumberType():  # made exact (a float is the decimal it was written as)
            namespace[f"number{i}"] = _number(fact.type)
            return [f"v = number{i}(v)", "if v is BAD:", "    return None", f"case[{key}] = v"]
        case ir.SetType(values=values):  # each item one of the values (so a string), none twice
            namespace[f"values{i}"] = frozenset(values)
            return ["if v.__class__ is not list and v.__class__ is not tuple:", "    return None",
                    "try:", "    f = frozenset(v)", "except TypeError:", "    return None",
                    f"if len(f) != len(v) or not f <= values{i}:", "    return None", f"case[{key}] = f"]
        case ir.DateType():
            return ["if v.__class__ is str:", "    try:", "        v = date.fromisoformat(v)",
                    "    except ValueError:", "        return None",
                    "elif v.__class__ is not date:", "    return None", f"case[{key}] = v"]
        case ir.DurationType():  # in words: the same parser as validate_case
            namespace[f"check{i}"] = _duration(fact.type)
            return [f"v = check{i}(v)", "if v is BAD:", "    return None", f"case[{key}] = v"]
    raise AssertionError(f"the case checker misses {type(fact.type).__name__}")


__all__ = ["CaseChecker"]
