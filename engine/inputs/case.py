"""Cases: read a JSON or YAML case file and validate it against the fact schema.

A case maps fact names to values. `read_case` turns a file into a raw mapping plus the
position of each key; `validate_case` turns a raw mapping into typed values (bool, int,
float, enum str, frozenset, date, Duration), or diagnostics naming the fact, the value and
what is allowed. Nothing is coerced silently: "3" is not 3, 3.5 is not an integer, and a
unit that differs from the fact's is an error. A fact absent from the case, or given as
null, is unknown. Scenario tests validate their `given` values through the same function.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from decimal import Decimal
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import yaml

from ..lang import ir
from ..lang.diagnostics import CaseError, Diagnostic, Span, suggest
from .jsonpos import key_positions
from ..lang.values import (DURATION_UNITS, MAX_EXPONENT, Duration, exact, format_number, in_bounds,
                           parse_duration, parse_quantity)

Case = dict[str, Any]


@dataclass(frozen=True, slots=True)
class _Unreadable:
    """A value the file holds but YAML cannot construct."""

    reason: str
    span: Span


class _Invalid(Exception):
    def __init__(self, code: str, message: str, hint: str | None = None):
        super().__init__(message)
        self.code, self.message, self.hint = code, message, hint


def read_case(path: str | Path) -> tuple[dict, dict[str, Span]]:
    """A case file's raw mapping and where each fact name stands in it; raises CaseError."""
    name = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise CaseError([Diagnostic("file-not-found", f"cannot read the case file: {exc.strerror}",
                                    Span(name, 1, 1, 1, 1))]) from None
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise CaseError([Diagnostic("not-utf8", "the case file is not UTF-8 text", Span(name, 1, 1, 1, 1))]) \
            from None
    return parse_case_text(name, text, as_json=name.lower().endswith(".json"))


def parse_case_text(name: str, text: str, *, as_json: bool) -> tuple[dict, dict[str, Span]]:
    if as_json:
        try:
            value = json.loads(text, parse_float=Decimal, object_pairs_hook=_unique)  # 0.1 is one tenth
        except RecursionError:
            raise CaseError([_too_deep(name)]) from None
        except json.JSONDecodeError as exc:
            span = Span(name, exc.lineno, exc.colno, exc.lineno, exc.colno + 1)
            raise CaseError([Diagnostic("case-malformed", f"the case is not valid JSON: {exc.msg}", span,
                                        hint="check the quotes, commas and braces around this place")]) from None
        except ValueError:
            value = None  # a key given twice, an integer too long to read: reported below, with its place
        if isinstance(value, dict):  # read by JSON's rules, each key's place found in one pass
            return value, key_positions(name, text)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError:
        raise CaseError([_too_deep(name)]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = getattr(exc, "problem", None) or str(exc)
        raise CaseError([Diagnostic("case-malformed", f"the case is not valid YAML: {problem}",
                                    Span(name, line, column, line, column + 1),
                                    hint="a case is a mapping of 'fact: value' lines")]) from None
    if node is None:
        return {}, {}
    if not isinstance(node, yaml.MappingNode):
        kind = {yaml.SequenceNode: "a list", yaml.ScalarNode: "a single value"}.get(type(node), "not a mapping")
        span = _node_span(name, node)
        raise CaseError([Diagnostic("case-not-mapping", f"the case is {kind}, not a mapping of fact names "
                                    "to values", span, hint="write it like {\"kras\": \"mutant\", "
                                    "\"hepatectomy_segments\": 3}")])
    positions: dict[str, Span] = {}
    raw: dict[str, Any] = {}
    diagnostics = []
    loader = _ExactLoader("")
    for key_node, value_node in node.value:
        span = _node_span(name, key_node)
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        if not isinstance(key, str):
            diagnostics.append(Diagnostic("case-not-mapping", "a case's keys are fact names", span))
            continue
        if key in raw:
            diagnostics.append(Diagnostic("case-duplicate-fact", f"the fact '{key}' is given twice", span,
                                          related=(("first given here", positions[key]),)))
            continue
        try:
            raw[key] = loader.construct_object(value_node, deep=True)
        except RecursionError:
            raise CaseError([_too_deep(name)]) from None
        except (yaml.YAMLError, ValueError) as exc:
            # e.g. an unquoted 2024-02-30, which YAML reads as an impossible date; validation
            # reports it with the other facts' problems.
            raw[key] = _Unreadable(str(exc), _node_span(name, value_node))
        positions[key] = span
    loader.dispose()
    if diagnostics:
        raise CaseError(diagnostics)
    return raw, positions


class _ExactLoader(yaml.SafeLoader):
    """YAML's SafeLoader, but a number with a point or an exponent is the exact decimal it
    is written as (0.1 is one tenth), as the rule language's numbers are."""


def _exact_float(loader: yaml.SafeLoader, node: yaml.ScalarNode):
    text = loader.construct_scalar(node).replace("_", "")
    try:
        value = Decimal(text)
    except ArithmeticError:
        return loader.construct_yaml_float(node)  # .inf, .nan: refused later with the rest
    return value if value.is_finite() else float(text)


_ExactLoader.add_constructor("tag:yaml.org,2002:float", _exact_float)


def _unique(pairs: list[tuple[str, Any]]) -> dict:
    found = dict(pairs)
    if len(found) != len(pairs):
        raise ValueError("a key is given twice")
    return found


def _too_deep(name: str) -> Diagnostic:
    return Diagnostic("case-malformed", "the case nests lists or mappings too deeply to read",
                      Span(name, 1, 1, 1, 1), hint="a case is a flat mapping of fact names to values")


def _node_span(name: str, node) -> Span:
    start, end = node.start_mark, node.end_mark
    return Span(name, start.line + 1, start.column + 1, end.line + 1, end.column + 1)


def validate_case(raw: Mapping[str, Any], facts: Mapping[str, ir.Fact], *, name: str = "<case>",
                  positions: Mapping[str, Span] | None = None) -> tuple[Case, list[Diagnostic]]:
    """Typed values for a raw case, or diagnostics for every fact that does not fit."""
    if not isinstance(raw, Mapping):
        return {}, [Diagnostic("case-not-mapping", "the case is not a mapping of fact names to values",
                               Span(name, 1, 1, 1, 1))]
    positions = positions if positions is not None else {}
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
        if fact is None:
            unknown += 1
            if unknown <= MAX_UNKNOWN_SHOWN:
                diagnostics.append(Diagnostic("case-unknown-fact", f"the knowledge base declares no fact '{key}'",
                                              _where(positions, key, name), hint=suggest(str(key), facts)))
            continue
        if value is None:
            continue  # an explicit null: the fact is unknown
        if isinstance(value, _Unreadable):
            diagnostics.append(Diagnostic("case-wrong-type", f"the value of '{key}' cannot be read: "
                                          f"{value.reason}", value.span, hint="dates are written YYYY-MM-DD"))
            continue
        try:
            case[key] = convert(fact, value)
        except _Invalid as problem:
            diagnostics.append(Diagnostic(problem.code, problem.message, _where(positions, key, name),
                                          hint=problem.hint))
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


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_show(v) for v in value) + "]"
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
            if not isinstance(value, (list, tuple)):
                raise _Invalid("case-wrong-type", f"{who} is a list of values from {_choices(values)}, "
                               f"not {_show(value)}", hint=f"write it like [{values[0]}]")
            result = set()
            for item in value:
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
            if isinstance(value, str):
                try:
                    return _dt.date.fromisoformat(value)
                except ValueError:
                    pass
            raise _Invalid("case-wrong-type", f"{who} is a date (YYYY-MM-DD), not {_show(value)}",
                           hint="write it like 2024-03-01")
        case ir.DurationType(range=interval):
            if not isinstance(value, str):
                raise _Invalid("case-wrong-type", f"{who} is a duration, not {_show(value)}",
                               hint="write it like \"6 weeks\", \"42 days\" or \"2 months\"")
            try:
                duration = parse_duration(value)
            except ValueError as exc:
                raise _Invalid("case-wrong-type", f"{who}: {exc}") from None
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
                           hint=f"give it as {format_number(number)}" + (f" {t.unit}" if t.unit else ""))
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
                raise _Invalid("case-wrong-type", f"{who} is a whole number, not {format_number(value)}")
            value = int(value)
    if t.range is not None and t.range.contains(value) is not True:
        raise _Invalid("case-out-of-range", f"{who} is {format_number(value)}"
                       + (f" {t.unit}" if t.unit else "") + f", outside its range {_describe_interval(t.range)}")
    return value


def _describe_interval(interval: ir.Interval) -> str:
    lo, hi = interval.low, interval.high
    unit = f" {interval.unit}" if interval.unit else ""
    left = "[" if lo.closed else "("
    right = "]" if hi.closed else ")"
    show = lambda v: str(v) if isinstance(v, Duration) else format_number(v)  # noqa: E731
    return f"{left}{show(lo.value)} .. {show(hi.value)}{right}{unit}"


def case_to_json(case: Case) -> dict:
    from ..lang.values import to_json_value
    return {k: to_json_value(v) for k, v in sorted(case.items())}


__all__ = ["Case", "read_case", "parse_case_text", "validate_case", "check_case", "convert",
           "case_to_json", "DURATION_UNITS"]
