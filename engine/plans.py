"""Plans in time: a plan and a case -> its steps dated from their anchor, and late-step warnings.

A step is timed `at`, `at about`, `from ... to ...` or `no later than` an offset, counted
from the plan's anchor (a date fact) or from an earlier step (`before` / `after` it). A
step counted from another uses that step's actual date when the case gives it, and its
planned date otherwise. When the case gives a step's actual date and the step has a firm
window, a date outside it is a warning. Approximate steps (`at about`, or counted from an
approximate planned date) are laid out but not held to a date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Mapping

from . import ir
from .result import PlannedSequence, PlannedStep, Warning
from .values import Duration, add_duration, format_value


@dataclass(frozen=True, slots=True)
class _Dated:
    earliest: dt.date | None
    latest: dt.date | None
    firm: bool  # False when derived from an approximate date: shown, not checked


def lay_out(plan: ir.Plan, case: Mapping[str, Any], labels: Mapping[str, str]) -> tuple[PlannedSequence, list[Warning]]:
    """`labels` gives the label of each fact, for the warnings' wording."""
    anchor = case.get(plan.anchor)
    dated: dict[str, _Dated] = {}
    actual_of: dict[str, Any] = {}
    step_labels = {s.id: s.label for s in plan.steps}
    steps, warnings = [], []
    for step in plan.steps:
        actual = case.get(step.actual) if step.actual else None
        actual_of[step.id] = actual
        relative = step.timing.relative
        if relative is None:
            base, base_firm, origin = anchor, True, labels.get(plan.anchor, plan.anchor)
        else:
            ref = dated[relative.step]
            own = actual_of[relative.step]
            base = own if own is not None else ref.earliest
            base_firm = own is not None or ref.firm
            origin = step_labels[relative.step].lower()
        sign = -1 if relative is not None and relative.before else 1
        match step.timing:
            case ir.At(offset=offset, about=about):
                when = _shift(base, offset, sign)
                this = _Dated(when, when, base_firm and not about)
                timing = ("at about " if about else "at ") + _words(offset, relative, step_labels)
            case ir.Window(start=start, end=end):
                a, b = _shift(base, start, sign), _shift(base, end, sign)
                this = _Dated(min(a, b) if a else None, max(a, b) if b else None, base_firm)
                timing = f"from {_words(start, None, step_labels)} to {_words(end, relative, step_labels)}"
            case ir.Latest(offset=offset):
                this = _Dated(None, _shift(base, offset, sign), base_firm)
                timing = "no later than " + _words(offset, relative, step_labels)
        dated[step.id] = this
        on_time = None
        if actual is not None and this.latest is not None and this.firm:
            on_time = (this.earliest is None or this.earliest <= actual) and actual <= this.latest
            if not on_time:
                window = (f"{format_value(this.earliest)} to {format_value(this.latest)}"
                          if this.earliest is not None else f"by {format_value(this.latest)}")
                p = plan.provenance
                warnings.append(Warning(
                    id=f"{plan.id}.{step.id}",
                    label=f"{step.label}: on {format_value(actual)}, outside its window ({window}: "
                          f"{timing}{'' if relative else ' after ' + origin.lower()})",
                    severity="warning", kind="plan", source=p.source, section=p.section, quote=p.quote,
                    refs=p.refs, note=step.note))
        steps.append(PlannedStep(step.id, step.label, timing, this.earliest, this.latest, actual, on_time))
    p = plan.provenance
    return PlannedSequence(plan.id, plan.label, plan.anchor, anchor, p.source, p.quote, p.refs, tuple(steps)), warnings


def _shift(base: dt.date | None, offset: Duration, sign: int) -> dt.date | None:
    if base is None:
        return None
    return add_duration(base, offset if sign > 0 else -offset)


def _words(offset: Duration, relative: ir.Relative | None, step_labels: Mapping[str, str]) -> str:
    if offset.months == 0 and offset.days == 0:
        text = "day 0"
    elif offset.months == 0 and offset.days % 7 != 0:
        text = f"day {offset.days}" if relative is None else f"{offset.days} days"
    else:
        text = str(offset)
    if relative is not None:
        text += f" {'before' if relative.before else 'after'} {step_labels[relative.step].lower()}"
    return text
