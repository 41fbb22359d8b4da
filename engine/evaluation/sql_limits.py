"""Lowering to SQL, the engines' limits: what a knowledge base's arithmetic can reach.

Takes the checked IR; returns, when lowering (engine/evaluation/sql.py), the bounds that
let the query leave as it is the arithmetic that cannot leave the engines' numbers (BIGINT,
DECIMAL(38, 18)) and guard only the rest: the number facts whose ranges bound some
arithmetic (`ranged_in_arithmetic`: the lowering reads them as NULL out of range), the
largest magnitude of a number expression (`bound`), and the dates a constant duration
moves within the calendar (`movable`). It writes no SQL.
"""

from __future__ import annotations

import datetime as _dt
from typing import Iterable

from ..lang import ir
from ..lang.checked import Checked
from ..lang.reads import facts_read
from ..lang.values import Duration, add_duration

# The numbers the engines hold: BIGINT's, and NUMBER's 20 digits before the point.
BIGINT_LIMIT, DECIMAL_LIMIT = 2.0 ** 63, 1e20


def roots(checked: Checked) -> Iterable[ir.Expr]:
    """Every expression of the knowledge base the lowering reads."""
    yield from (d.expr for d in checked.defines.values())
    for pathway in checked.pathways:
        for node in pathway.nodes:
            match node:
                case ir.Decide(branches=branches):
                    yield from (b.condition for b in branches if b.condition is not None)
                case ir.Recommend() | ir.Warn() if node.guard is not None:
                    yield node.guard
    yield from (s.condition for s in checked.safeties)
    for finding in checked.findings:
        yield finding.condition
        if finding.scope is not None:
            yield finding.scope


def ranged_in_arithmetic(checked: Checked) -> frozenset[str]:
    """The number facts with a range that some arithmetic reads (through definitions)."""
    found: set[str] = set()
    stack = list(roots(checked))
    while stack:
        e = stack.pop()
        if isinstance(e, ir.Arith) and e.kind == "number":
            found.update(facts_read(e, checked.defines))
        else:
            stack.extend(ir.children(e))
    return frozenset(f for f in found if isinstance(t := checked.facts[f].type, ir.NumberType) and t.range)


def bound(checked: Checked, ranged: frozenset[str], e: ir.Expr) -> float:
    """The largest magnitude a number expression can have: its facts within their ranges (out
    of range, they are NULL in arithmetic), or the engine's limit for a fact without one."""
    match e:
        case ir.NumberLit(value=v):
            return abs(float(v))
        case ir.FactRef(id=name):
            t = checked.facts[name].type
            if isinstance(t, ir.NumberType) and t.range is not None and name in ranged:
                ends = (t.range.low.value, t.range.high.value)  # a number's range is of numbers
                return max(abs(float(v)) for v in ends if not isinstance(v, Duration))
            return BIGINT_LIMIT if isinstance(t, ir.NumberType) and t.integer else DECIMAL_LIMIT
        case ir.DefineRef(id=name):
            return bound(checked, ranged, checked.defines[name].expr)
        case ir.Negate(operand=op):
            return bound(checked, ranged, op)
        case ir.Arith(op="+" | "-", kind="number"):
            return bound(checked, ranged, e.left) + bound(checked, ranged, e.right)
        case ir.Arith(op="*", kind="number"):
            return bound(checked, ranged, e.left) * bound(checked, ranged, e.right)
    return float("inf")


def movable(duration: Duration) -> tuple[_dt.date | None, _dt.date | None]:
    """The first and last dates a constant duration moves within the calendar (an interval:
    the move is monotone), by bisection over add_duration itself; None, None: none."""
    def fits(ordinal: int) -> bool:
        return add_duration(_dt.date.fromordinal(ordinal), duration) is not None
    lo, hi = 1, _dt.date.max.toordinal()
    middle = (lo + hi) // 2
    if not fits(middle):
        return None, None
    a, b = lo, middle  # the first that fits: in [a, b]
    while a < b:
        m = (a + b) // 2
        a, b = (a, m) if fits(m) else (m + 1, b)
    first = a
    a, b = middle, hi  # the last that fits
    while a < b:
        m = (a + b + 1) // 2
        a, b = (m, b) if fits(m) else (a, m - 1)
    return _dt.date.fromordinal(first), _dt.date.fromordinal(a)


__all__ = ["BIGINT_LIMIT", "DECIMAL_LIMIT", "bound", "movable", "ranged_in_arithmetic", "roots"]
