"""Checking a case at the speed of evaluating it: a fact schema -> one checker per knowledge base.

`CaseChecker(facts)` writes, once, one function for the schema that takes the values a case
file or an application usually gives (true/false, a whole number or a number within range,
an enum value, a list of set values, a date written YYYY-MM-DD, a duration in words), fact by
fact, and returns the typed case (the raw dict's keys in their order, as validate_case gives
them). Anything else (an unknown fact, a null, a unit written in a string, a float for an
integer, a wrong value) sends the case to `case.validate_case`, which gives the same typed
values or the diagnostics. So the fast path decides nothing `validate_case` would decide
differently: it only accepts what `validate_case` accepts, and converts a list to a
frozenset, a date string to a date and a duration's words to a Duration as it does.
"""

from __future__ import annotations

import datetime as _dt
import math
from decimal import Decimal
from operator import itemgetter
from typing import Any, Callable, Mapping

from ..lang import ir
from ..lang.diagnostics import CaseError, Span
from ..lang.fact_values import _ISO_DATE
from ..lang.values import MAX_EXPONENT, in_bounds, parse_duration
from .case import Case, validate_case

_BAD = object()  # "not for the fast path": validate_case decides
_INT_LIMIT = 10 ** (MAX_EXPONENT + 1)  # `in_bounds` for an int
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


def _read_date(text: str, dates: dict[str, _dt.date]) -> _dt.date | None:
    """The date a text gives, as validate_case reads it (YYYY-MM-DD alone: `fromisoformat`
    also takes 20240301 and 2024-W10-5), kept in `dates`; None: validate_case says why not."""
    if not _ISO_DATE.fullmatch(text):
        return None
    try:
        found = _dt.date.fromisoformat(text)
    except ValueError:
        return None
    if len(dates) >= 4096:
        dates.clear()  # bounded: a cohort of distinct dates does not grow it without end
    dates[text] = found
    return found


class CaseChecker:
    """`checker(raw)`: the typed case, or CaseError with every diagnostic (as `check_case`).

    The fast path is one function written for the schema: per fact, its value fetched once
    and tested inline (true/false, an enum value, a number in range, a list of set values,
    an ISO date), through the fact's check for a duration; any value it does not take, a
    null, any name that is not a fact, and a mapping that is not a dict, send the case to
    `validate_case`, from inside the function."""

    def __init__(self, facts: Mapping[str, ir.Fact]):
        self.facts = facts
        self._written: Callable[[Mapping[str, Any]], Case] | None = None

    def function(self) -> Callable[[Mapping[str, Any]], Case]:
        """The checker as one function, `check(raw)` (the typed case, or CaseError), for the
        per-case path: no frame of this class around it (generated `decide` calls it). Written on
        first use: a command that reads its case from a file (check_case) never writes it."""
        if self._written is None:
            self._written = self._write(self.facts, self._slow)
        return self._written

    def __call__(self, raw: Mapping[str, Any], *, name: str = "<case>",
                 positions: Mapping[str, Span] | None = None) -> Case:
        if positions is None and name == "<case>":
            return self.function()(raw)
        return self._slow(raw, name, positions)  # a named file: its diagnostics say where

    def _slow(self, raw: Mapping[str, Any], name: str = "<case>",
              positions: Mapping[str, Span] | None = None) -> Case:
        case, diagnostics = validate_case(raw, self.facts, name=name, positions=positions)
        if diagnostics:
            raise CaseError(diagnostics)
        return case

    @staticmethod
    def _write(facts: Mapping[str, ir.Fact], slow: Callable[[Mapping[str, Any]], Case]
               ) -> Callable[[Mapping[str, Any]], Case]:
        names = tuple(facts)
        namespace: dict[str, Any] = {"BAD": _BAD, "date": _dt.date, "NONE": dict.fromkeys(names), "slow": slow,
                                     "values_of": itemgetter(*names) if names else lambda _: ()}
        # Every fact's value fetched at once, in C (the facts unknown when the case lacks them); the
        # typed case is the raw dict copied (a value taken as it is needs no store), each converted
        # value set over its raw one. Every name a fact and none null (else validate_case says:
        # an unknown name, or a null, is rare) is when the facts given and missing add up.
        lines = ["def check(raw):", "    if raw.__class__ is not dict:", "        return slow(raw)",
                 "    given = values_of({**NONE, **raw})" + ("," if len(names) == 1 else ""),
                 f"    if len(raw) + given.count(None) != {len(names)}:", "        return slow(raw)"]
        if names:
            lines.append("    " + "".join(f"v{i}, " for i in range(len(names))) + "= given")
        lines.append("    case = raw.copy()")
        for i, fact in enumerate(facts.values()):
            v = f"v{i}"
            test = _test(fact, i, v, namespace)
            if test is not None:  # a value given, as it should be, costs one test and no store
                lines += [f"    if {v} is not None and not ({test}):", "        return slow(raw)"]
                continue
            lines.append(f"    if {v} is not None:")
            lines += ["        " + line for line in _inline(fact, i, v, namespace)]
        lines.append("    return case")
        source = "\n".join(lines) + "\n"  # fact names only as literals (repr): nothing from a rule file runs
        exec(compile(source, "<consilium case checker>", "exec"), namespace)  # noqa: S102
        check: Callable[[Mapping[str, Any]], Case] = namespace["check"]
        return check


def _test(fact: ir.Fact, i: int, v: str, namespace: dict[str, Any]) -> str | None:
    """The test that the value `v` (not None) is a value of `fact` as it is, for the types whose
    values are taken as they are; None for the others (see `_inline`)."""
    match fact.type:
        case ir.BoolType():
            return f"{v} is True or {v} is False"
        case ir.EnumType(values=values):
            namespace[f"values{i}"] = frozenset(values)
            return f"{v}.__class__ is str and {v} in values{i}"
        case ir.NumberType(integer=True, range=interval):  # an int, in range (bounds by name: exact)
            test = f"{v}.__class__ is int"
            if interval is not None:
                low, high = interval.low, interval.high
                namespace[f"low{i}"], namespace[f"high{i}"] = low.value, high.value
                test += f" and low{i} {'<=' if low.closed else '<'} {v} {'<=' if high.closed else '<'} high{i}"
            else:
                namespace["INT_LIMIT"] = _INT_LIMIT
                test += f" and -INT_LIMIT < {v} < INT_LIMIT"
            return test
    return None


_COLLECTIONS = frozenset({list, tuple, set, frozenset})  # what a set fact's value may come as


def _inline(fact: ir.Fact, i: int, v: str, namespace: dict[str, Any]) -> list[str]:
    """The statements that set the value `v` (not None) of `fact` into `case` converted, or hand
    the case to `slow` (validate_case decides), for the types whose values are converted (those
    `_test` does not take)."""
    key = repr(fact.id)
    match fact.type:
        case ir.NumberType(range=interval):  # made exact (a float is the decimal it was written as)
            # validate_case's rules (`exact`, `in_bounds`, `Interval.contains`) written out: calling
            # them cost more than the rest of a case's facts together. A finite float's exact
            # value is always within `in_bounds` (its exponent is between -324 and 308).
            namespace |= {"isfinite": math.isfinite, "in_bounds": in_bounds, "Decimal": Decimal,
                          "INT_LIMIT": _INT_LIMIT}
            lines = [f"if {v}.__class__ is float:", f"    if not isfinite({v}):", "        return slow(raw)",
                     f"    {v} = Decimal(repr({v}))",  # `exact`: the decimal it was written as
                     f"elif {v}.__class__ is int:", f"    if not -INT_LIMIT < {v} < INT_LIMIT:",
                     "        return slow(raw)",
                     f"elif {v}.__class__ is not Decimal or not in_bounds({v}):", "    return slow(raw)"]
            if interval is not None:
                low, high = interval.low, interval.high
                namespace[f"low{i}"], namespace[f"high{i}"] = low.value, high.value
                lines += [f"if not low{i} {'<=' if low.closed else '<'} {v} {'<=' if high.closed else '<'} high{i}:",
                          "    return slow(raw)"]
            return lines + [f"case[{key}] = {v}"]
        case ir.SetType(values=values):  # each item one of the values (so a string), none twice
            # a list or tuple as a case file gives it, or a set as validating gives it (the same again)
            namespace[f"values{i}"], namespace["COLLECTIONS"] = frozenset(values), _COLLECTIONS
            return [f"if {v}.__class__ not in COLLECTIONS:", "    return slow(raw)",
                    "try:", f"    f = frozenset({v})", "except TypeError:", "    return slow(raw)",
                    f"if len(f) != len({v}) or not f <= values{i}:", "    return slow(raw)", f"case[{key}] = f"]
        case ir.DateType():  # a text's date kept per text (a cohort's dates repeat), read as validate_case reads it
            namespace["dates"], namespace["read_date"] = {}, _read_date
            return [f"if {v}.__class__ is str:", f"    d = dates.get({v})", "    if d is None:",
                    f"        d = read_date({v}, dates)", "        if d is None:", "            return slow(raw)",
                    f"    case[{key}] = d", f"elif {v}.__class__ is not date:", "    return slow(raw)"]
        case ir.DurationType():  # in words: the same parser as validate_case
            namespace[f"check{i}"] = _duration(fact.type)
            return [f"{v} = check{i}({v})", f"if {v} is BAD:", "    return slow(raw)", f"case[{key}] = {v}"]
    raise AssertionError(f"the case checker misses {type(fact.type).__name__}")


__all__ = ["CaseChecker"]
