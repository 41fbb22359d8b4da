"""Published JSON Schemas (draft 2020-12): a case of a given knowledge base, and a result.

`case_schema(facts)` is generated from the knowledge base's facts: one property per fact,
typed as `case.validate_case` reads it (a boolean; a number or integer within the declared
range, or a text with the fact's unit such as "31 %"; one of an enum's values; a list of a
set's values, each once; a date YYYY-MM-DD; a duration as "6 weeks" or ISO 8601), `null`
for unknown, and no other property. `result_schema()` describes `Result.to_json()` as the
README documents it (schema_version 1.x): every documented field is required; fields may
be added within a major version, so objects allow further properties.

A schema cannot say everything the validator checks: the range of a number given as text
with its unit, or of a duration, and whether a date exists in the calendar (the `date`
format says so to validators that check formats). The validator has the last word; the
schema accepts nothing the validator refuses for type, name or value set.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from ..evaluation.result import OUTCOMES
from ..lang import ir
from ..lang.values import DURATION_UNITS, Duration

DIALECT = "https://json-schema.org/draft/2020-12/schema"
_NUMBER_TEXT = r"-?[0-9]+(\.[0-9]+)?"


def case_schema(facts: Mapping[str, ir.Fact], title: str = "Consilium case") -> dict[str, Any]:
    """The JSON Schema of a case for a knowledge base with these facts."""
    return {
        "$schema": DIALECT,
        "title": title,
        "description": "A case: fact names to values; a fact absent or null is unknown. Generated from the "
                       "knowledge base's facts by `consilium schema case`.",
        "type": "object",
        "properties": {name: _fact(fact) for name, fact in sorted(facts.items())},
        "additionalProperties": False,
    }


def _fact(fact: ir.Fact) -> dict[str, Any]:
    described: dict[str, Any] = {"title": fact.label}
    if fact.question:
        described["description"] = fact.question
    match fact.type:
        case ir.BoolType():
            value: dict[str, Any] = {"type": "boolean"}
        case ir.NumberType(integer=integer, unit=unit, range=interval):
            number: dict[str, Any] = {"type": "integer" if integer else "number", **_bounds(interval)}
            if unit:
                text = {"type": "string", "pattern": rf"^\s*{_NUMBER_TEXT}\s*{re.escape(unit)}\s*$"}
                value = {"anyOf": [number, text]}
            else:
                value = number
        case ir.EnumType(values=values):
            value = {"enum": list(values)}
        case ir.SetType(values=values):
            value = {"type": "array", "items": {"enum": list(values)}, "uniqueItems": True}
        case ir.DateType():
            value = {"type": "string", "format": "date", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
        case ir.DurationType():
            units = "|".join(sorted(DURATION_UNITS, key=len, reverse=True))
            value = {"type": "string", "pattern": rf"^(\s*[0-9]+\s*({units})\s*|P[0-9YMWDTHS.,]+)$"}
        case _:  # a type this module does not know yet: anything, and the validator decides
            value = {}
    return {**described, "anyOf": [value, {"type": "null"}]}


def _bounds(interval: ir.Interval | None) -> dict[str, Any]:
    if interval is None:
        return {}
    bounds: dict[str, Any] = {}
    for bound, closed, opened in ((interval.low, "minimum", "exclusiveMinimum"),
                                  (interval.high, "maximum", "exclusiveMaximum")):
        if isinstance(bound.value, Duration) or bound.value is None:
            continue
        bounds[closed if bound.closed else opened] = _json_number(bound.value)
    return bounds


def _json_number(value: Any) -> int | float:
    number = float(value)
    return int(number) if number.is_integer() and abs(number) < 2 ** 53 else number


# ---- the result ----------------------------------------------------------------------------------

def _object(properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": sorted(properties), **extra}


_TEXT = {"type": "string"}
_TEXT_OR_NULL = {"type": ["string", "null"]}
_TEXTS = {"type": "array", "items": _TEXT}
_REFERENCES = {"type": "array", "items": {"type": "integer"}}
_VALUE = {"type": ["string", "number", "boolean", "array", "null"], "items": {"type": "string"}}
_DATE_OR_NULL = {"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}]}
_SPAN = _object({"file": _TEXT, "line": {"type": "integer"}, "column": {"type": "integer"},
                 "end_line": {"type": "integer"}, "end_column": {"type": "integer"}})
_MODALITIES = ["strongly_recommended", "recommended", "option", "not_recommended", "avoid"]
_SEVERITIES = ["info", "warning", "critical"]


def result_schema() -> dict[str, Any]:
    """The JSON Schema of `Result.to_json()` (`consilium eval --json`), schema_version 1.x."""
    recommendation = _object({
        "id": _TEXT, "label": _TEXT, "actions": _TEXTS, "modality": {"enum": _MODALITIES}, "source": _TEXT,
        "section": _TEXT_OR_NULL, "quote": _TEXT_OR_NULL, "references": _REFERENCES, "note": _TEXT_OR_NULL,
        "pathway": _TEXT, "path": _TEXTS})
    warning = _object({
        "id": _TEXT, "label": _TEXT, "severity": {"enum": _SEVERITIES},
        "kind": {"enum": ["pathway", "safety", "plan", "contradiction"]},
        "source": _TEXT_OR_NULL, "section": _TEXT_OR_NULL, "quote": _TEXT_OR_NULL, "references": _REFERENCES,
        "note": _TEXT_OR_NULL, "instead": _TEXT_OR_NULL, "pathway": _TEXT_OR_NULL})
    answer = _object({"answer": _TEXT, "leads_to": _TEXT_OR_NULL, "outcome": _TEXT})
    need = _object({
        "fact": _TEXT, "label": _TEXT, "question": _TEXT_OR_NULL, "type": _TEXT,
        "decides": {"type": "array", "items": _object({"pathway": _TEXT_OR_NULL, "node": _TEXT, "question": _TEXT,
                                                       "answers": {"type": "array", "items": answer}})}})
    source_view = _object({"title": _TEXT, "recommendations": _TEXTS, "warnings": _TEXTS,
                           "silent": {"type": "boolean"}})
    at_site = _object({"recommends": _TEXTS, "advises_against": _TEXTS, "rules": _TEXTS,
                       "silent": {"type": "boolean"}, "pending": _TEXTS})
    relation = _object({"sources": {"type": "array", "items": _TEXT, "minItems": 2, "maxItems": 2},
                        "relation": {"enum": ["concordant", "complementary", "conflicting", "silent"]},
                        "actions": _TEXTS})
    site = _object({"label": _TEXT, "present": {"type": ["boolean", "null"]},
                    "sources": {"type": "object", "additionalProperties": at_site},
                    "relations": {"type": "array", "items": relation}})
    step = _object({"id": _TEXT, "label": _TEXT, "timing": _TEXT, "earliest": _DATE_OR_NULL,
                    "latest": _DATE_OR_NULL, "actual": _DATE_OR_NULL, "on_time": {"type": ["boolean", "null"]}})
    plan = _object({"id": _TEXT, "label": _TEXT, "anchor": _TEXT, "anchor_date": _DATE_OR_NULL, "source": _TEXT,
                    "quote": _TEXT_OR_NULL, "references": _REFERENCES, "steps": {"type": "array", "items": step}})
    stuck = _object({"pathway": _TEXT_OR_NULL, "node": _TEXT, "kind": _TEXT,
                     "span": {"anyOf": [_SPAN, {"type": "null"}]}, "reason": _TEXT})
    unchecked = _object({"rule": _TEXT, "label": _TEXT, "severity": {"enum": _SEVERITIES}, "needs": _TEXTS})
    trace_step = _object({
        "pathway": _TEXT_OR_NULL, "node": _TEXT, "kind": _TEXT, "span": {"anyOf": [_SPAN, {"type": "null"}]},
        "read": {"type": "object", "additionalProperties": _VALUE}, "outcome": _TEXT,
        "code": {"enum": sorted(OUTCOMES)}, "next": _TEXTS, "branch": {"type": ["integer", "null"]}})
    return {
        "$schema": DIALECT,
        "title": "Consilium result",
        "description": "The result of evaluating one case (`consilium eval --json`, `Result.to_json()`). "
                       "Fields may be added within a major schema_version, never removed or changed in meaning.",
        **_object({
            "schema_version": {"type": "string", "pattern": r"^1\.[0-9]+$"},
            "knowledge_base": _TEXT,
            "case": {"type": "object", "additionalProperties": _VALUE},
            "recommendations": {"type": "array", "items": recommendation},
            "warnings": {"type": "array", "items": warning},
            "needs": {"type": "array", "items": need},
            "undecided": {"type": "array", "items": stuck},
            "by_source": {"type": "object", "additionalProperties": source_view},
            "by_site": {"type": "object", "additionalProperties": site},
            "plans": {"type": "array", "items": plan},
            "unchecked": {"type": "array", "items": unchecked},
            "trace": {"type": "array", "items": trace_step},
        }),
    }


__all__ = ["case_schema", "result_schema", "DIALECT"]
