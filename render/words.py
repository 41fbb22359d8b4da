"""Words for an auditor: conditions, values and labels as clinicians write them.

Turns a resolved condition into a short phrase ("≤ 3 segments", "KRAS wild type",
"hemorrhage or obstruction"), writes units as clinicians do (≥, ≤, %, Gy, weeks), and wraps
long labels into lines. Pure functions over the IR; no escaping here (that belongs to each
output format).
"""

from __future__ import annotations

import textwrap
from typing import Mapping

from ..engine.lang import ir
from ..engine.lang.values import format_value

SYMBOLS = {"=": "=", "!=": "≠", "<": "<", "<=": "≤", ">": ">", ">=": "≥"}
MODALITY_WORDS = {"strongly_recommended": "strongly recommended", "recommended": "recommended",
                  "option": "option", "not_recommended": "not recommended", "avoid": "avoid"}


def value_words(value, unit: str | None = None) -> str:
    """A value as written on a chart: like a case's value, with enum words spaced."""
    if isinstance(value, str):
        return value.replace("_", " ")
    return format_value(value, unit)


def condition_words(expr: ir.Expr, facts: Mapping[str, ir.Fact], defines: Mapping[str, ir.Define],
                    subject: str | None = None) -> str:
    """A condition in words. `subject`: the one fact the decision asks about, left unsaid."""
    return _words(expr, facts, defines, subject)


def _label(name: str, facts, defines) -> str:
    if name in facts:
        return lower_first(facts[name].label)
    define = defines.get(name)
    return lower_first(define.label if define and define.label else name.replace("_", " "))


def lower_first(text: str) -> str:
    """'Upper rectal lesion' -> 'upper rectal lesion' inside a sentence; 'KRAS ...' stays as it is."""
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def _unit(expr, facts) -> str | None:
    match expr:
        case ir.FactRef(id=name) if name in facts:
            return getattr(facts[name].type, "unit", None)
        case ir.NumberLit(unit=unit):
            return unit
    return None


def _words(e, facts, defines, subject) -> str:
    match e:
        case ir.FactRef(id=name):
            if name == subject and isinstance(facts[name].type, ir.BoolType):
                return "yes"
            return _label(name, facts, defines)
        case ir.DefineRef(id=name):
            return _label(name, facts, defines)
        case ir.BoolLit(value=v) | ir.EnumLit(value=v) | ir.DateLit(value=v):
            return value_words(v)
        case ir.NumberLit(value=v, unit=unit):
            return value_words(v, unit)
        case ir.DurationLit(value=v):
            return str(v)
        case ir.SetLit(values=values):
            return " or ".join(v.replace("_", " ") for v in values)
        case ir.Not(operand=ir.FactRef(id=name)) if name == subject:
            return "no"
        case ir.Not(operand=op):
            return "not " + _grouped(op, facts, defines, subject)
        case ir.And(operands=ops):
            return " and ".join(_grouped(op, facts, defines, subject) for op in ops)
        case ir.Or(operands=ops):
            return " or ".join(_grouped(op, facts, defines, subject) for op in ops)
        case ir.Compare(op=op, left=left, right=right):
            unit = _unit(left, facts) or _unit(right, facts)
            right_words = value_words(right.value, unit) if isinstance(right, ir.NumberLit) else \
                _words(right, facts, defines, subject)
            if isinstance(left, ir.FactRef) and left.id == subject:
                if op == "=" and isinstance(right, ir.EnumLit):
                    return right_words
                return f"{SYMBOLS[op]} {right_words}"
            if op == "=" and isinstance(right, ir.EnumLit):
                return f"{_words(left, facts, defines, subject)}: {right_words}"
            return f"{_words(left, facts, defines, subject)} {SYMBOLS[op]} {right_words}"
        case ir.InRange(operand=op, interval=interval):
            lo, hi = interval.low, interval.high
            unit = interval.unit if interval.unit not in ("days", "weeks", "months") else None
            text = (f"{'≥' if lo.closed else '>'} {value_words(lo.value, unit)} and "
                    f"{'≤' if hi.closed else '<'} {value_words(hi.value, unit)}")
            if isinstance(op, ir.FactRef) and op.id == subject:
                return text
            return f"{_words(op, facts, defines, subject)} {text}"
        case ir.Member(element=element, collection=collection):
            if isinstance(collection, ir.FactRef):
                if collection.id == subject:
                    return _words(element, facts, defines, subject)
                return f"{_words(element, facts, defines, subject)} in {_label(collection.id, facts, defines).lower()}"
            if isinstance(element, ir.FactRef) and element.id == subject:
                return _words(collection, facts, defines, subject)
            return f"{_words(element, facts, defines, subject)}: {_words(collection, facts, defines, subject)}"
        case ir.IsKnown(operand=op, negated=negated):
            return f"{_words(op, facts, defines, subject)} {'unknown' if negated else 'known'}"
        case ir.Arith(op=op, left=left, right=right):
            symbol = {"+": "+", "-": "−", "*": "×", "/": "÷"}[op]
            return f"{_words(left, facts, defines, subject)} {symbol} {_words(right, facts, defines, subject)}"
        case ir.Negate(operand=op):
            return "−" + _words(op, facts, defines, subject)
        case ir.Coalesce(operands=ops):
            return " if known, else ".join(_grouped(op, facts, defines, subject) for op in ops)
        case ir.Extreme(op=op, operands=ops):
            which = "the lesser" if op == "min" else "the greater"
            return f"{which} of " + _listed([_grouped(x, facts, defines, subject) for x in ops])
        case ir.Absolute(operand=op):
            return f"|{_words(op, facts, defines, subject)}|"
        case ir.Round(operand=op, places=places):
            to = "a whole number" if places == 0 else f"{places} decimal" + ("s" if places != 1 else "")
            return f"{_words(op, facts, defines, subject)} rounded to {to}"
        case ir.MonthsBetween(start=start, end=end):
            return (f"whole months from {_words(start, facts, defines, subject)} "
                    f"to {_words(end, facts, defines, subject)}")
    return str(e)


def _listed(parts: list[str]) -> str:
    return ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else "".join(parts)


def _grouped(e, facts, defines, subject) -> str:
    text = _words(e, facts, defines, subject)
    return f"({text})" if isinstance(e, (ir.And, ir.Or, ir.Coalesce)) else text


def wrap(text: str, width: int = 34) -> list[str]:
    """A label cut into lines of about `width` characters, words kept whole."""
    return textwrap.wrap(text, width=width, break_long_words=False, break_on_hyphens=False) or [""]
