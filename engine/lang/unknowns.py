"""Why an expression can be unknown although every fact it reads is known.

Takes resolved expressions (and the definitions they use); returns the reasons in words,
for a trace step that is undecided with no fact missing: a division by zero, a date that
leaves the calendar, a number beyond what the language holds, or durations in months and
in days whose order the calendar does not decide (engine/lang/values.py). Static: it names
what the expressions contain that can be unknown, not which part was, for one case.
"""

from __future__ import annotations

from typing import Iterable, Mapping

from . import ir
from .values import MAX_EXPONENT

DIVISION = "a division by zero"
DATE = "a date outside 0001-01-01 .. 9999-12-31"
NUMBER = f"a number beyond 10^{MAX_EXPONENT}"
DURATION = "durations in months and in days that the calendar does not order"


def why_unknown(exprs: Iterable[ir.Expr | None], defines: Mapping[str, ir.Define]) -> str:
    """The reasons, in words ("a division by zero or a date outside ..."); "" when there is none."""
    found: dict[str, None] = {}
    seen: set[str] = set()
    queue = [e for e in exprs if e is not None]
    for e in queue:
        for node in ir.walk(e):
            match node:
                case ir.DefineRef(id=name) if name not in seen:
                    seen.add(name)
                    queue.append(defines[name].expr)
                case ir.Arith(kind="number", op="/"):
                    found.setdefault(DIVISION)
                case ir.Arith(kind="number") | ir.Round():
                    found.setdefault(NUMBER)
                case ir.Arith(kind="date_plus" | "date_minus"):
                    found.setdefault(DATE)
                case ir.Compare(kind="duration") | ir.Extreme() | ir.Absolute():
                    found.setdefault(DURATION)
                case ir.InRange(interval=interval) if not isinstance(interval.low.value, (int, float)) \
                        and hasattr(interval.low.value, "months"):
                    found.setdefault(DURATION)
    return " or ".join(found)
