"""Fact values: a raw case (as read from JSON, YAML or a scenario's `given`) -> typed values.

`validate_case` turns a raw mapping into typed values (bool, int, float, enum str, frozenset,
date, Duration), or diagnostics naming the fact, the value and what is allowed; `check_case`
raises them as one `CaseError`. Nothing is coerced silently: "3" is not 3, 3.5 is not an
integer, and a unit that differs from the fact's is an error. A fact absent from the case, or
given as null, is unknown. It lives in lang/ because checking a knowledge base validates its
scenarios' `given` values with it; reading case files is inputs/case.py's job.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from decimal import Decimal
from typing import Any, Mapping

from .records import record
from . import ir
from .diagnostics import CaseError, Diagnostic, Span, suggest
from .values import MAX_EXPONENT, Duration, exact, format_number, in_bounds, parse_duration, parse_quantity

Case = dict[str, Any]


@record
class Unreadable:
    """A value a case file holds but its reader cannot construct (validation reports it)."""

    reason: str
    span: Span


class _Invalid(Exception):
    def __init__(self, code: str, message: str, hint: str | None = None, line: int = 1, column: int = 1):
        super().__init__(message)
        self.code, self.message, self.hint = code, message, hint
        self.line, self.column = line, column  # where in the text, when the reader knows


def validate_case(raw: Mapping[str, Any], facts: Mapping[str, ir.Fact], *, name: str = "<case>",
                  positions: Mapping[str, Span] | None = None) -> tuple[Case, list[Diagnostic]]:
    """Typed values for a raw case, or diagnostics for every fact that does not fit."""
    if not isinstance(raw, Mapping):
        return {}, [Diagnostic("case-not-mapping", "the case is not a mapping of fact names to values",
                               Span(name, 1, 1, 1, 1))]
    positions = positions if positions is not None else {}  # (a lazy mapping: its length is not asked)
    case: Case = {}
    diagnostics = []
    unknown = 0  # facts the knowledge base does not declare: the first few in full, then a count
    for key, value in raw.items():
        fact = facts.get(key)
        if fact is not None and value is not None:
            fast = _FAST.get(type(value))  # the common, already-typed values: no diagnostics needed
            if fast is not None and fast(fact.type, value):
                case[key] = value
                continue
        if fact is None and isinstance(key, str) and not key.isascii() and _has_surrogate(key):
            diagnostics.append(Diagnostic("case-malformed", f"the fact name {_show(key)} holds a lone UTF-16 "
                                          "surrogate, which is not a character", _where(positions, key, name),
                                          hint="the file's \\u escapes must pair a high and a low surrogate"))
            continue
        if fact is None:
            unknown += 1
            if unknown <= MAX_UNKNOWN_SHOWN:
                diagnostics.append(Diagnostic("case-unknown-fact", f"the knowledge base declares no fact {_show(key)}",
                                              _where(positions, key, name), hint=suggest(str(key), facts)))
            continue
        if value is None:
            continue  # an explicit null: the fact is unknown
        if isinstance(value, Unreadable):
            diagnostics.append(Diagnostic("case-wrong-type", f"the value of '{key}' cannot be read: "
                                          f"{value.reason}", value.span, hint="dates are written YYYY-MM-DD"))
            continue
        try:
            case[key] = convert(fact, value)
        except _Invalid as problem:
            if _holds_surrogate(value):  # looked for only here: no text with one is a valid value
                diagnostics.append(Diagnostic("case-malformed", f"the value of '{key}' holds a lone UTF-16 "
                                              "surrogate, which is not a character", _where(positions, key, name),
                                              hint="the file's \\u escapes must pair a high and a low surrogate"))
                continue
            diagnostics.append(Diagnostic(problem.code, problem.message, _where(positions, key, name),
                                          hint=problem.hint))
        except (ValueError, TypeError, OverflowError, ArithmeticError) as exc:
            # a value no rule foresaw (an integer of 10,000 digits, an object of a foreign type,
            # given through the API): still this fact's error, never a crash
            diagnostics.append(Diagnostic("case-wrong-type", f"the value of '{key}' cannot be read: "
                                          f"{_printable(str(exc))}", _where(positions, key, name)))
    if unknown > MAX_UNKNOWN_SHOWN:
        diagnostics.append(_more_unknown(unknown, raw, name))
    return case, diagnostics


# Facts named in full when a case gives some the knowledge base does not declare; the rest
# are counted in one more diagnostic (a case of 100,000 wrong keys is answered at once).
MAX_UNKNOWN_SHOWN = 20


def _more_unknown(unknown: int, raw: Mapping[str, Any], name: str) -> Diagnostic:
    return Diagnostic("case-unknown-fact", f"and {unknown - MAX_UNKNOWN_SHOWN:,} more facts the knowledge base does "
                      f"not declare ({unknown:,} in all; {len(raw) - unknown:,} of the case's keys are declared "
                      "facts)", Span(name, 1, 1, 1, 1),
                      hint="check that the case is meant for this knowledge base" if unknown == len(raw) else None)


def check_case(raw: Mapping[str, Any], facts: Mapping[str, ir.Fact], *, name: str = "<case>",
               positions: Mapping[str, Span] | None = None) -> Case:
    case, diagnostics = validate_case(raw, facts, name=name, positions=positions)
    if diagnostics:
        raise CaseError(diagnostics)
    return case


def _where(positions: Mapping[str, Span], key: str, name: str) -> Span:
    return positions.get(key) or Span(name, 1, 1, 1, 1)


def _fast_bool(t, value) -> bool:
    return type(t) is ir.BoolType


def _fast_str(t, value) -> bool:
    return type(t) is ir.EnumType and value in t.values


def _fast_number(t, value) -> bool:
    # an int within range for an integer or number fact (a float is made exact first, in _number)
    if type(t) is not ir.NumberType or not in_bounds(value):
        return False
    return t.range is None or t.range.contains(value) is True


_FAST = {bool: _fast_bool, str: _fast_str, int: _fast_number}


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _holds_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return not value.isascii() and _has_surrogate(value)
    if isinstance(value, (list, tuple)):
        return any(_holds_surrogate(v) for v in value)
    return False


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SHOWN = 80  # characters of a value a message repeats: a 1 MB string is not echoed whole


def _printable(text: str) -> str:
    """Text safe to print: lone surrogates and control characters escaped, long text cut."""
    if len(text) > _SHOWN:
        text = text[:_SHOWN] + f"… ({len(text):,} characters)"
    if not text.isprintable() or (not text.isascii() and _has_surrogate(text)):
        text = "".join(c if c.isprintable() and not 0xD800 <= ord(c) <= 0xDFFF
                       else c.encode("unicode_escape", "backslashreplace").decode("ascii") for c in text)
    return text


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f"'{_printable(value)}'"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, (set, frozenset)):
        return "{" + ", ".join(sorted(_show(v) for v in value)) + "}"
    if isinstance(value, dict):
        return "a mapping"
    return str(value)


def convert(fact: ir.Fact, value: Any) -> Any:
    """One raw value as the typed value of `fact`, or _Invalid."""
    t = fact.type
    who = f"'{fact.id}'"
    match t:
        case ir.BoolType():
            if isinstance(value, bool):
                return value
            raise _Invalid("case-wrong-type", f"{who} is true or false, not {_show(value)}",
                           hint="write true or false, without quotes")
        case ir.NumberType():
            return _number(fact, t, value)
        case ir.EnumType(values=values):
            if not isinstance(value, str):
                raise _Invalid("case-wrong-type", f"{who} is one of {_choices(values)}, not {_show(value)}")
            if value not in values:
                raise _Invalid("case-unknown-value", f"{_show(value)} is not a value of {who}; "
                               f"expected one of {_choices(values)}", hint=suggest(value, values))
            return value
        case ir.SetType(values=values):
            if not isinstance(value, (list, tuple, set, frozenset)):  # a set: what validating gives
                raise _Invalid("case-wrong-type", f"{who} is a list of values from {_choices(values)}, "
                               f"not {_show(value)}", hint=f"write it like [{values[0]}]")
            result = set()
            for item in sorted(value, key=str) if isinstance(value, (set, frozenset)) else value:
                if not isinstance(item, str) or item not in values:
                    raise _Invalid("case-unknown-value", f"{_show(item)} is not a value of {who}; "
                                   f"expected values from {_choices(values)}",
                                   hint=suggest(str(item), values))
                if item in result:
                    raise _Invalid("case-wrong-type", f"{_show(item)} is listed twice in {who}")
                result.add(item)
            return frozenset(result)
        case ir.DateType():
            if isinstance(value, _dt.datetime):
                raise _Invalid("case-wrong-type", f"{who} is a date, not a date and time",
                               hint="write it as YYYY-MM-DD")
            if isinstance(value, _dt.date):
                return value
            if isinstance(value, str) and _ISO_DATE.fullmatch(value):  # not 20240301 nor 2024-W10-5
                try:
                    return _dt.date.fromisoformat(value)
                except ValueError:  # 2024-02-30: written as a date, but no day of the calendar
                    raise _Invalid("case-wrong-type", f"{who}: {_show(value)} is not a calendar date",
                                   hint="write it like 2024-03-01") from None
            raise _Invalid("case-wrong-type", f"{who} is a date (YYYY-MM-DD), not {_show(value)}",
                           hint="write it like 2024-03-01")
        case ir.DurationType(range=interval):
            if not isinstance(value, str):
                raise _Invalid("case-wrong-type", f"{who} is a duration, not {_show(value)}",
                               hint="write it like \"6 weeks\", \"42 days\" or \"2 months\"")
            try:
                duration = parse_duration(value)
            except ValueError as exc:
                raise _Invalid("case-wrong-type", f"{who}: {_printable(str(exc))}") from None
            if interval is not None and interval.contains(duration) is not True:
                raise _Invalid("case-out-of-range", f"{who} is {duration}, outside its range "
                               f"{_describe_interval(interval)}")
            return duration
    raise AssertionError(t)


def _choices(values) -> str:
    return "{" + ", ".join(values) + "}"


def _number(fact: ir.Fact, t: ir.NumberType, value: Any):
    """An exact number (int, or Decimal as written) for a number fact, or _Invalid."""
    who = f"'{fact.id}'"
    kind = "a whole number" if t.integer else "a number"
    unit_text = "%" if t.unit == "%" else t.unit
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
        raise _Invalid("case-wrong-type", f"{who} is {kind}" + (f" in {unit_text}" if unit_text else "")
                       + f", not {_show(value)}")
    if isinstance(value, str):
        try:
            number, unit = parse_quantity(value)
        except ValueError:
            raise _Invalid("case-wrong-type", f"{who} is {kind}" + (f" in {unit_text}" if unit_text else "")
                           + f", not {_show(value)}") from None
        if unit is None:
            raise _Invalid("case-wrong-type", f"{who} is {kind}, not the text {_show(value)}",
                           hint=f"write {value.strip()} without quotes")
        if unit != t.unit:
            expected = f"'{t.unit}'" if t.unit else "no unit"
            raise _Invalid("case-wrong-type", f"{who} is measured in {expected}, not '{unit}'",
                           hint=f"give it as {_short_number(number)}" + (f" {t.unit}" if t.unit else ""))
        value = number
    if isinstance(value, float) and not math.isfinite(value):
        raise _Invalid("case-wrong-type", f"{who} is {kind}, not {value}")
    if isinstance(value, Decimal) and not value.is_finite():
        raise _Invalid("case-wrong-type", f"{who} is {kind}, not {value}")
    value = exact(value)  # 0.1 is one tenth, not the binary float nearest to it
    if not in_bounds(value):
        raise _Invalid("case-out-of-range", f"{who} is {kind} between -10^{MAX_EXPONENT + 1} and "
                       f"10^{MAX_EXPONENT + 1}, and not finer than 10^-{MAX_EXPONENT}")
    if t.integer:
        if isinstance(value, Decimal):
            if value != value.to_integral_value():
                raise _Invalid("case-wrong-type", f"{who} is a whole number, not {_short_number(value)}")
            value = int(value)
    if t.range is not None and t.range.contains(value) is not True:
        raise _Invalid("case-out-of-range", f"{who} is {_short_number(value)}"
                       + (f" {t.unit}" if t.unit else "") + f", outside its range {_describe_interval(t.range)}")
    return value


def _short_number(value) -> str:
    """A number as written; beyond 30 characters, in scientific notation when that is exact
    (1E+400, not 401 digits) and cut otherwise: a message shows what is wrong with a value,
    not the whole of it."""
    text = format_number(value)
    if len(text) <= 30:
        return text
    normal = Decimal(value).normalize()
    if len(normal.as_tuple().digits) <= 12:
        return format(normal, "E")
    return f"{text[:24]}… ({len(text):,} characters)"


def _describe_interval(interval: ir.Interval) -> str:
    lo, hi = interval.low, interval.high
    unit = f" {interval.unit}" if interval.unit else ""
    left = "[" if lo.closed else "("
    right = "]" if hi.closed else ")"
    show = lambda v: str(v) if isinstance(v, Duration) else format_number(v)  # noqa: E731
    return f"{left}{show(lo.value)} .. {show(hi.value)}{right}{unit}"


__all__ = ["Case", "Unreadable", "validate_case", "check_case", "convert"]
