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
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import yaml

from ..lang import ir
from ..lang.diagnostics import CaseError, Diagnostic, Span, suggest
from ..lang.values import DURATION_UNITS, Duration, format_number, parse_duration, parse_quantity

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


class CoreLoader(yaml.SafeLoader):
    """PyYAML read by the YAML 1.2 core schema: nothing is coerced that a person did not write.

    PyYAML resolves plain scalars by YAML 1.1, where `yes`, `no`, `on` and `off` are booleans,
    `2024-03-01` a date, `010` octal and `1_000` a thousand. Under the 1.2 core schema (the one
    JSON is a subset of) only `true`/`false`, `null`/`~`, decimal, `0o` and `0x` integers and
    decimal floats (exponents included, `.inf`, `.nan`) are typed; everything else, dates
    included, stays a string, and the case's validation reads it by the fact's type."""

    yaml_implicit_resolvers: dict = {}


def _core_int(loader, node) -> int:
    text = loader.construct_scalar(node)
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    if digits.startswith("0o"):
        return int(digits[2:], 8)
    if digits.startswith("0x"):
        return int(digits[2:], 16)
    return sign * int(digits)


def _core_float(loader, node) -> float:
    text = loader.construct_scalar(node)
    lowered = text.lower()
    if lowered.endswith(".inf"):
        return -math.inf if lowered.startswith("-") else math.inf
    if lowered == ".nan":
        return math.nan
    return float(text)


for _tag, _pattern, _first in (
        ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
        ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
        ("int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
        ("float", r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
                  r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$", "-+0123456789.")):
    CoreLoader.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", re.compile(_pattern), list(_first))
CoreLoader.add_constructor("tag:yaml.org,2002:int", _core_int)
CoreLoader.add_constructor("tag:yaml.org,2002:float", _core_float)


STDIN = "-"


def read_case(path: str | Path) -> tuple[dict, dict[str, Span]]:
    """A case file's raw mapping and where each fact name stands in it; raises CaseError.

    `-` reads standard input: JSON when it starts with '{', YAML otherwise."""
    name = str(path)
    try:
        if name == STDIN:
            name = "<stdin>"
            data = sys.stdin.buffer.read()
        else:
            data = Path(path).read_bytes()
    except OSError as exc:
        raise CaseError([Diagnostic("file-not-found", f"cannot read the case file: {exc.strerror or exc}",
                                    Span(name, 1, 1, 1, 1))]) from None
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise CaseError([Diagnostic("not-utf8", f"the case file is not UTF-8 text (byte 0x{data[exc.start]:02x} "
                                    f"at offset {exc.start})", Span(name, 1, 1, 1, 1))]) from None
    as_json = name.lower().endswith(".json") or (name == "<stdin>" and text.lstrip().startswith("{"))
    return parse_case_text(name, text, as_json=as_json)


class _Duplicate(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Duplicate(key)
            seen.add(key)
    return found


_KEY_COLON = re.compile(r'"\s*:')


def _not_json(constant: str):
    raise ValueError(f"{constant} is not a JSON number")


def parse_json(text: str) -> Any:
    """JSON text as Python values, by the rules every case follows (a case file, a JSON Lines row).

    RFC 8259 JSON: numbers with exponents are numbers, NaN and Infinity are not JSON, a key given
    twice in one object is an error. Raises `_Invalid` with the problem and, for a syntax error,
    where it is (`.line`, `.column`)."""
    try:
        value = json.loads(text, parse_constant=_not_json)
        # A key given twice vanishes in a dict: look for it only when the text holds more
        # "key": than the mapping has keys (a nested object, or '":' inside a string); the
        # usual flat case pays for one regular expression, not a Python call per object.
        if isinstance(value, dict) and len(_KEY_COLON.findall(text)) == len(value):
            return value
        if not isinstance(value, dict) and not _KEY_COLON.search(text):
            return value
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_not_json)
    except RecursionError:
        raise _Invalid("case-malformed", "the case nests lists or mappings too deeply to read",
                       hint="a case is a flat mapping of fact names to values") from None
    except json.JSONDecodeError as exc:
        problem = _Invalid("case-malformed", f"the case is not valid JSON: {exc.msg}",
                           hint="check the quotes, commas and braces around this place")
        problem.line, problem.column = exc.lineno, exc.colno
        raise problem from None
    except _Duplicate as exc:
        raise _Invalid("case-duplicate-fact", f"the fact {_show(exc.key)} is given twice") from None
    except ValueError as exc:  # NaN, Infinity, an integer of thousands of digits
        raise _Invalid("case-malformed", f"the case is not valid JSON: {_printable(str(exc))}") from None


def parse_case_text(name: str, text: str, *, as_json: bool) -> tuple[dict, dict[str, Span]]:
    """A case's raw mapping and the position of each key, from JSON (by JSON's rules) or YAML (1.2 core)."""
    if as_json:
        try:
            raw = parse_json(text)
        except _Invalid as problem:
            line, column = getattr(problem, "line", 1), getattr(problem, "column", 1)
            raise CaseError([Diagnostic(problem.code, problem.message, Span(name, line, column, line, column + 1),
                                        hint=problem.hint)]) from None
        if not isinstance(raw, dict):
            kind = "a list" if isinstance(raw, list) else "a single value"
            raise CaseError([Diagnostic("case-not-mapping", f"the case is {kind}, not a mapping of fact names "
                                        "to values", Span(name, 1, 1, 1, 1), hint="write it like {\"kras\": "
                                        "\"mutant\", \"hepatectomy_segments\": 3}")])
        return raw, _json_positions(name, text)
    try:
        node = yaml.compose(text, Loader=CoreLoader)
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
    loader = CoreLoader("")
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


def _json_positions(name: str, text: str) -> dict[str, Span]:
    """Where each top-level key of a JSON case stands (JSON is YAML 1.2 flow syntax); {} when unknown."""
    try:
        node = yaml.compose(text, Loader=CoreLoader)
    except (yaml.YAMLError, RecursionError):
        return {}
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {k.value: _node_span(name, k) for k, _ in node.value if isinstance(k, yaml.ScalarNode)}


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
    positions = positions or {}
    case: Case = {}
    diagnostics = []
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
            diagnostics.append(Diagnostic("case-unknown-fact", f"the knowledge base declares no fact {_show(key)}",
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
    return case, diagnostics


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
    # an int within range for an integer or number fact; a finite float for a number fact
    if type(t) is not ir.NumberType:
        return False
    if type(value) is float and (t.integer or not math.isfinite(value)):
        return False
    return t.range is None or t.range.contains(value)


_FAST = {bool: _fast_bool, str: _fast_str, int: _fast_number, float: _fast_number}


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
            if isinstance(value, str) and _ISO_DATE.fullmatch(value):
                try:
                    return _dt.date.fromisoformat(value)
                except ValueError:
                    raise _Invalid("case-wrong-type", f"{who}: {_show(value)} is not a date of the calendar",
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
            if interval is not None and not interval.contains(duration):
                raise _Invalid("case-out-of-range", f"{who} is {duration}, outside its range "
                               f"{_describe_interval(interval)}")
            return duration
    raise AssertionError(t)


def _choices(values) -> str:
    return "{" + ", ".join(values) + "}"


def _number(fact: ir.Fact, t: ir.NumberType, value: Any) -> float:
    who = f"'{fact.id}'"
    kind = "a whole number" if t.integer else "a number"
    unit_text = "%" if t.unit == "%" else t.unit
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
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
    if t.integer:
        if isinstance(value, float):
            if not value.is_integer():
                raise _Invalid("case-wrong-type", f"{who} is a whole number, not {value}")
            value = int(value)
    if t.range is not None and not t.range.contains(value):
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
