"""Cases: read a JSON or YAML case file into a raw mapping of fact names to values.

A case maps fact names to values. `read_case` turns a file into a raw mapping plus the
position of each key; a value YAML cannot construct (an impossible date) is kept as an
`Unreadable` for validation to report with the other facts' problems. Validating the raw
mapping against the fact schema (`validate_case`, `check_case`) is lang/fact_values.py,
re-exported here: scenario tests validate their `given` values through the same function.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any, Mapping

from ..lang.diagnostics import CaseError, Diagnostic, Span
from ..lang.fact_values import Case, Unreadable, check_case, convert, validate_case
from ..lang.values import DURATION_UNITS
from .jsonpos import key_positions


def read_case(path: str | Path) -> tuple[dict, Mapping[str, Span]]:
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


def parse_case_text(name: str, text: str, *, as_json: bool) -> tuple[dict, Mapping[str, Span]]:
    import yaml  # here: `import consilium` does not pay for it until a case is read

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
        if isinstance(value, dict):  # read by JSON's rules, each key's place found when a diagnostic asks
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
    loader = yaml.SafeLoader("")
    # this loader's own table (SafeLoader's class-wide one is left as it is)
    loader.yaml_constructors = {**loader.yaml_constructors, "tag:yaml.org,2002:float": _exact_float}  # type: ignore[misc]
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


def _unique(pairs: list[tuple[str, Any]]) -> dict:
    found = dict(pairs)
    if len(found) != len(pairs):
        raise ValueError("a key is given twice")
    return found


def _exact_float(loader, node):
    """YAML's float, as the exact decimal it is written as (0.1 is one tenth), as the rule
    language's numbers are; .inf and .nan stay floats (refused with the other problems)."""
    text = loader.construct_scalar(node).replace("_", "")
    try:
        value = Decimal(text)
    except ArithmeticError:
        return loader.construct_yaml_float(node)
    return value if value.is_finite() else float(text)


def _too_deep(name: str) -> Diagnostic:
    return Diagnostic("case-malformed", "the case nests lists or mappings too deeply to read",
                      Span(name, 1, 1, 1, 1), hint="a case is a flat mapping of fact names to values")


def _node_span(name: str, node) -> Span:
    start, end = node.start_mark, node.end_mark
    return Span(name, start.line + 1, start.column + 1, end.line + 1, end.column + 1)


def case_to_json(case: Case) -> dict:
    from ..lang.values import to_json_value
    return {k: to_json_value(v) for k, v in sorted(case.items())}


__all__ = ["Case", "read_case", "parse_case_text", "validate_case", "check_case", "convert",
           "case_to_json", "DURATION_UNITS"]
