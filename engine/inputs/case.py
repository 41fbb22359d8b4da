"""Cases: read a JSON or YAML case file into a raw mapping of fact names to values.

A case maps fact names to values. `read_case` turns a file (or standard input, `-`) into a
raw mapping plus the position of each key. JSON is read by JSON's rules (`parse_json`, the
same function a JSON Lines cohort row goes through: exponents are numbers, NaN is not JSON,
a key given twice is an error); YAML by the YAML 1.2 core schema (`core_loader`), so `yes`
is text, not true. A value YAML cannot construct is kept as an `Unreadable` for validation
to report with the other facts' problems. Validating the raw mapping against the fact
schema (`validate_case`, `check_case`) is lang/fact_values.py, re-exported here: scenario
tests validate their `given` values through the same function.
"""

from __future__ import annotations

import functools
import json
import math
import re
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any, Mapping

from ..lang.diagnostics import CaseError, Diagnostic, Span
from ..lang.fact_values import (Case, Unreadable, _Invalid, _printable, _show, check_case, convert,
                                validate_case)
from ..lang.values import DURATION_UNITS
from .jsonpos import key_positions


def _core_int(loader, node) -> int:
    text = loader.construct_scalar(node)
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    if digits.startswith("0o"):
        return int(digits[2:], 8)
    if digits.startswith("0x"):
        return int(digits[2:], 16)
    return sign * int(digits)


def _core_float(loader, node) -> Decimal | float:
    """YAML's float, as the exact decimal it is written as (0.1 is one tenth), as the rule
    language's numbers are; .inf and .nan stay floats (refused with the other problems)."""
    text = loader.construct_scalar(node)
    lowered = text.lower()
    if lowered.endswith(".inf"):
        return -math.inf if lowered.startswith("-") else math.inf
    if lowered == ".nan":
        return math.nan
    try:
        value = Decimal(text.replace("_", ""))
    except ArithmeticError:
        return float(text)
    return value if value.is_finite() else float(text)


@functools.cache
def core_loader() -> type:
    """PyYAML's SafeLoader read by the YAML 1.2 core schema: nothing is coerced that a person did not write.

    PyYAML resolves plain scalars by YAML 1.1, where `yes`, `no`, `on` and `off` are booleans,
    `2024-03-01` a date, `010` octal and `1_000` a thousand. Under the 1.2 core schema (the one
    JSON is a subset of) only `true`/`false`, `null`/`~`, decimal, `0o` and `0x` integers and
    decimal floats (exponents included, `.inf`, `.nan`) are typed; everything else, dates
    included, stays a string, and the case's validation reads it by the fact's type. Made on
    first use: `import consilium` does not pay for YAML until a case is read."""
    import yaml

    class CoreLoader(yaml.SafeLoader):
        yaml_implicit_resolvers: dict = {}

    for tag, pattern, first in (
            ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
            ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
            ("int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
            ("float", r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
                      r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$", "-+0123456789.")):
        CoreLoader.add_implicit_resolver(f"tag:yaml.org,2002:{tag}", re.compile(pattern), list(first))
    CoreLoader.add_constructor("tag:yaml.org,2002:int", _core_int)
    CoreLoader.add_constructor("tag:yaml.org,2002:float", _core_float)
    return CoreLoader


STDIN = "-"


def case_name(path: str | Path) -> str:
    """The name a case file's diagnostics give as their file: `<stdin>` for `-`."""
    return "<stdin>" if str(path) == STDIN else str(path)


def read_case(path: str | Path) -> tuple[dict, Mapping[str, Span]]:
    """A case file's raw mapping and where each fact name stands in it; raises CaseError.

    `-` reads standard input: JSON when it starts with '{', YAML otherwise."""
    name = case_name(path)
    try:
        if str(path) == STDIN:
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


def _empty() -> _Invalid:
    """An empty case file (or one of only white space, or YAML comments): an error in JSON and
    YAML alike, not a case that gives no fact, since a file emptied by accident would otherwise
    be answered as if the patient's facts were all unknown."""
    return _Invalid("case-not-mapping", "the case is empty, not a mapping of fact names to values",
                    hint="a case that gives no fact is written {}", line=1, column=1)


def parse_json(text: str) -> Any:
    """JSON text as Python values, by the rules every case follows (a case file, a JSON Lines row).

    RFC 8259 JSON: numbers with exponents are numbers, NaN and Infinity are not JSON, a key given
    twice in one object is an error, an empty text is not a case. Raises `_Invalid` with the
    problem and, for a syntax error, where it is (`.line`, `.column`)."""
    if not text.strip():
        raise _empty()
    try:
        value = json.loads(text, parse_float=Decimal, parse_constant=_not_json)  # 0.1 is one tenth
        # A key given twice vanishes in a dict: look for it only when the text holds more
        # "key": than the mapping has keys (a nested object, or '":' inside a string); the
        # usual flat case pays for one regular expression, not a Python call per object.
        if isinstance(value, dict) and len(_KEY_COLON.findall(text)) == len(value):
            return value
        if not isinstance(value, dict) and not _KEY_COLON.search(text):
            return value
        return json.loads(text, parse_float=Decimal, object_pairs_hook=_no_duplicates, parse_constant=_not_json)
    except RecursionError:
        raise _Invalid("case-malformed", "the case nests lists or mappings too deeply to read",
                       hint="a case is a flat mapping of fact names to values") from None
    except json.JSONDecodeError as exc:
        raise _Invalid("case-malformed", f"the case is not valid JSON: {exc.msg}",
                       hint="check the quotes, commas and braces around this place",
                       line=exc.lineno, column=exc.colno) from None
    except _Duplicate as exc:
        raise _Invalid("case-duplicate-fact", f"the fact {_show(exc.key)} is given twice") from None
    except ValueError as exc:  # NaN, Infinity, an integer of thousands of digits
        said = str(exc)
        if "integer string conversion" in said:  # Python's words, with advice for Python programmers
            said = f"a whole number has more than {sys.get_int_max_str_digits():,} digits"
        raise _Invalid("case-malformed", f"the case is not valid JSON: {_printable(said)}") from None


def parse_case_text(name: str, text: str, *, as_json: bool) -> tuple[dict, Mapping[str, Span]]:
    """A case's raw mapping and the position of each key, from JSON (by JSON's rules) or YAML (1.2 core)."""
    if as_json:
        try:
            parsed = parse_json(text)
        except _Invalid as problem:
            line, column = problem.line, problem.column
            raise CaseError([Diagnostic(problem.code, problem.message, Span(name, line, column, line, column + 1),
                                        hint=problem.hint)]) from None
        if not isinstance(parsed, dict):
            kind = "a list" if isinstance(parsed, list) else "a single value"
            raise CaseError([Diagnostic("case-not-mapping", f"the case is {kind}, not a mapping of fact names "
                                        "to values", Span(name, 1, 1, 1, 1), hint="write it like {\"kras\": "
                                        "\"mutant\", \"hepatectomy_segments\": 3}")])
        return parsed, key_positions(name, text)  # each key's place found when a diagnostic asks
    import yaml  # here: `import consilium` does not pay for it until a case is read

    try:
        node = yaml.compose(text, Loader=core_loader())
    except RecursionError:
        raise CaseError([_too_deep(name)]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = getattr(exc, "problem", None) or str(exc)
        raise CaseError([Diagnostic("case-malformed", f"the case is not valid YAML: {what}",
                                    Span(name, line, column, line, column + 1),
                                    hint="a case is a mapping of 'fact: value' lines")]) from None
    if node is None or (isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null") and node.value == ""
                        and node.style is None):  # nothing, comments, or a bare `---`
        empty = _empty()
        raise CaseError([Diagnostic(empty.code, empty.message, Span(name, 1, 1, 1, 1), hint=empty.hint)])
    if not isinstance(node, yaml.MappingNode):
        kind = {yaml.SequenceNode: "a list", yaml.ScalarNode: "a single value"}.get(type(node), "not a mapping")
        span = _node_span(name, node)
        raise CaseError([Diagnostic("case-not-mapping", f"the case is {kind}, not a mapping of fact names "
                                    "to values", span, hint="write it like {\"kras\": \"mutant\", "
                                    "\"hepatectomy_segments\": 3}")])
    positions: dict[str, Span] = {}
    raw: dict[str, Any] = {}
    diagnostics = []
    loader = core_loader()("")
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
            raw[key] = Unreadable(str(exc), _node_span(name, value_node))
        positions[key] = span
    loader.dispose()
    if diagnostics:
        raise CaseError(diagnostics)
    return raw, positions


def _too_deep(name: str) -> Diagnostic:
    return Diagnostic("case-malformed", "the case nests lists or mappings too deeply to read",
                      Span(name, 1, 1, 1, 1), hint="a case is a flat mapping of fact names to values")


def _node_span(name: str, node) -> Span:
    start, end = node.start_mark, node.end_mark
    return Span(name, start.line + 1, start.column + 1, end.line + 1, end.column + 1)


def case_to_json(case: Case) -> dict:
    from ..lang.values import to_json_value
    return {k: to_json_value(v) for k, v in sorted(case.items())}


__all__ = ["Case", "case_name", "read_case", "parse_case_text", "parse_json", "core_loader", "validate_case",
           "check_case", "convert", "case_to_json", "DURATION_UNITS", "Unreadable"]
