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
from typing import Any, Mapping, NamedTuple

from ..lang import ir
from .result import PlannedSequence, PlannedStep, RuleWarning
from ..lang.values import Duration, add_duration, format_value


class _Dated(NamedTuple):
    earliest: dt.date | None
    latest: dt.date | None
    firm: bool  # False when derived from an approximate date: shown, not checked


class _Step(NamedTuple):
    """What a step's dates depend on, worked out once per plan."""

    step: ir.PlanStep
    kind: type                      # ir.At, ir.Window or ir.Latest
    offsets: tuple[Duration, ...]   # signed: negative when counted back from another step
    about: bool
    relative: str | None            # the step it is counted from; None: the anchor
    timing: str                     # the timing in words: "day 11 to day 18", "at about 3 months"
    origin: str                     # what it is counted from, in words


class Timetable:
    """One plan, compiled: `lay_out(case)` dates its steps for a case."""

    def __init__(self, plan: ir.Plan, labels: Mapping[str, str]):
        """`labels` gives the label of each fact, for the warnings' wording."""
        self.plan = plan
        step_labels = {s.id: s.label for s in plan.steps}
        self._steps = tuple(self._compile(step, step_labels, labels.get(plan.anchor, plan.anchor))
                            for step in plan.steps)

    @staticmethod
    def _compile(step: ir.PlanStep, step_labels: Mapping[str, str], anchor_label: str) -> _Step:
        relative = step.timing.relative
        sign = -1 if relative is not None and relative.before else 1
        origin = anchor_label if relative is None else step_labels[relative.step].lower()
        match step.timing:
            case ir.At(offset=offset, about=about):
                offsets: tuple[Duration, ...] = (offset,)
                timing = ("at about " if about else "at ") + _words(offset, relative, step_labels)
            case ir.Window(start=start, end=end):
                offsets, about = (start, end), False
                timing = f"from {_words(start, None, step_labels)} to {_words(end, relative, step_labels)}"
            case ir.Latest(offset=offset):
                offsets, about = (offset,), False
                timing = "no later than " + _words(offset, relative, step_labels)
        return _Step(step, type(step.timing), tuple(o if sign > 0 else -o for o in offsets), about,
                     relative.step if relative is not None else None, timing, origin)

    def lay_out(self, case: Mapping[str, Any]) -> tuple[PlannedSequence, list[RuleWarning]]:
        plan = self.plan
        anchor = case.get(plan.anchor)
        dated: dict[str, _Dated] = {}
        actual_of: dict[str, Any] = {}
        steps, warnings = [], []
        for step, kind, offsets, about, relative, timing, origin in self._steps:
            actual = case.get(step.actual) if step.actual else None
            actual_of[step.id] = actual
            if relative is None:
                base, base_firm = anchor, True
            else:
                ref = dated[relative]
                own = actual_of[relative]
                base = own if own is not None else ref.earliest
                base_firm = own is not None or ref.firm
            if kind is ir.At:
                when = _shift(base, offsets[0])
                this = _Dated(when, when, base_firm and not about)
            elif kind is ir.Window:
                a, b = _shift(base, offsets[0]), _shift(base, offsets[1])
                this = _Dated(min(a, b), max(a, b), base_firm) if a is not None and b is not None \
                    else _Dated(None, None, base_firm)
            else:
                this = _Dated(None, _shift(base, offsets[0]), base_firm)
            dated[step.id] = this
            on_time = None
            if actual is not None and this.latest is not None and this.firm:
                on_time = (this.earliest is None or this.earliest <= actual) and actual <= this.latest
                if not on_time:
                    warnings.append(_late(plan, step, actual, this, timing, relative, origin))
            steps.append(PlannedStep(step.id, step.label, timing, this.earliest, this.latest, actual, on_time))
        p = plan.provenance
        laid = PlannedSequence(plan.id, plan.label, plan.anchor, anchor, p.source, p.quote, p.refs, tuple(steps))
        return laid, warnings


def lay_out(plan: ir.Plan, case: Mapping[str, Any],
            labels: Mapping[str, str]) -> tuple[PlannedSequence, list[RuleWarning]]:
    """A plan laid out for one case (compiling it first: evaluators keep a `Timetable` instead)."""
    return Timetable(plan, labels).lay_out(case)


def _late(plan: ir.Plan, step: ir.PlanStep, actual: dt.date, this: _Dated, timing: str, relative: str | None,
          origin: str) -> RuleWarning:
    window = (f"{format_value(this.earliest)} to {format_value(this.latest)}"
              if this.earliest is not None else f"by {format_value(this.latest)}")
    p = plan.provenance
    return RuleWarning(id=f"{plan.id}.{step.id}",
                   label=f"{step.label}: on {format_value(actual)}, outside its window ({window}: "
                         f"{timing}{'' if relative else ' after ' + origin.lower()})",
                   severity="warning", kind="plan", source=p.source, section=p.section, quote=p.quote,
                   refs=p.refs, note=step.note)


def _shift(base: dt.date | None, offset: Duration) -> dt.date | None:
    if base is None:
        return None
    return add_duration(base, offset)


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
