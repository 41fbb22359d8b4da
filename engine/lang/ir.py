"""The intermediate representation: frozen dataclasses for everything a rule file says (`ir_class`).

`lower` builds these from the parse tree; `check` resolves names and returns the same
classes with every `Name` replaced by what it denotes; `shape`, the code writer
(evaluation/codegen/), verify and `render` read them. Spans are kept out of equality, so two
rules that say the same thing compare equal wherever they are written. Each category is one closed union (`Expr`,
`FactType`, `Node`, `Timing`, `Expectation`), dispatched with `match`.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import field
from typing import TypeVar, dataclass_transform

from .diagnostics import Span
from .records import make_record
from .values import Duration, Number, compare

_T = TypeVar("_T")


@dataclass_transform(frozen_default=True, kw_only_default=True, field_specifiers=(field,))
def ir_class(cls: type[_T]) -> type[_T]:
    """An IR class: a frozen, slotted, keyword-only dataclass, equal to another of its class
    when the fields that take part in comparison are (a span never does), hashed by them, and
    shown as `Name(field=value, ...)`, exactly as `dataclass` would make it; made by
    records.py, which writes only `__init__`, and that on first use (a short command makes
    few of the classes that way: the parse cache rebuilds objects without `__init__`)."""
    return make_record(cls, kw_only=True)


def _span() -> Span | None:
    return field(default=None, compare=False, repr=False)


# ---- fact types -----------------------------------------------------------------------

@ir_class
class Bound:
    """One end of an interval: a value (number, Duration) and whether it is included."""

    value: "Number | Duration"
    closed: bool


@ir_class
class Interval:
    """A clinical threshold region, e.g. (30 %, 100 %]; either end may be open."""

    low: Bound
    high: Bound
    unit: str | None = None
    span: Span | None = _span()

    def contains(self, value) -> bool | None:
        """Kleene: None when it depends on the date (a duration in months against days)."""
        lo, hi = self.low, self.high
        above = compare(">=" if lo.closed else ">", value, lo.value)
        below = compare("<=" if hi.closed else "<", value, hi.value)
        if above is False or below is False:
            return False
        return None if above is None or below is None else True


@ir_class
class BoolType:
    pass


@ir_class
class NumberType:
    """integer, number and percent: a unit (or none) and an optional allowed range."""

    integer: bool = False
    unit: str | None = None
    range: Interval | None = None


@ir_class
class EnumType:
    values: tuple[str, ...]


@ir_class
class SetType:
    values: tuple[str, ...]


@ir_class
class DateType:
    pass


@ir_class
class DurationType:
    range: Interval | None = None


FactType = BoolType | NumberType | EnumType | SetType | DateType | DurationType


def describe_type(t: FactType) -> str:
    """The type as an editor would write it, for messages."""
    match t:
        case BoolType():
            return "bool"
        case NumberType(integer=integer, unit=unit):
            base = "integer" if integer else ("percent" if unit == "%" else "number")
            return base + (f" ({unit})" if unit and unit != "%" else "")
        case EnumType(values=values):
            return "enum {" + ", ".join(values) + "}"
        case SetType(values=values):
            return "set of {" + ", ".join(values) + "}"
        case DateType():
            return "date"
        case DurationType():
            return "duration"
    raise AssertionError(t)


# ---- expressions ------------------------------------------------------------------------

@ir_class
class BoolLit:
    value: bool
    span: Span | None = _span()


@ir_class
class NumberLit:
    value: Number  # int when written without a point, Decimal otherwise: exact as written
    unit: str | None = None
    span: Span | None = _span()


@ir_class
class DurationLit:
    value: Duration
    span: Span | None = _span()


@ir_class
class DateLit:
    value: _dt.date
    span: Span | None = _span()


@ir_class
class Name:
    """A bare identifier before `check` resolves it to a fact, a definition or an enum value."""

    id: str
    span: Span | None = _span()


@ir_class
class FactRef:
    id: str
    span: Span | None = _span()


@ir_class
class DefineRef:
    id: str
    span: Span | None = _span()


@ir_class
class EnumLit:
    value: str
    span: Span | None = _span()


@ir_class
class SetLit:
    values: tuple[str, ...]
    span: Span | None = _span()


@ir_class
class And:
    operands: tuple["Expr", ...]
    span: Span | None = _span()


@ir_class
class Or:
    operands: tuple["Expr", ...]
    span: Span | None = _span()


@ir_class
class Not:
    operand: "Expr"
    span: Span | None = _span()


@ir_class
class Compare:
    op: str  # one of = != < <= > >=
    left: "Expr"
    right: "Expr"
    # What is compared, set by `check`: "duration" (by the rule of engine/lang/values.py,
    # which may give unknown) or "value" (anything else).
    kind: str = "value"
    span: Span | None = _span()


@ir_class
class InRange:
    operand: "Expr"
    interval: Interval
    span: Span | None = _span()


@ir_class
class Member:
    """`element in collection`: an enum value in a set fact, or a value in a literal set."""

    element: "Expr"
    collection: "Expr"
    span: Span | None = _span()


@ir_class
class IsKnown:
    operand: "Expr"
    negated: bool = False  # True for `is unknown`
    span: Span | None = _span()


@ir_class
class Arith:
    op: str  # one of + - * /
    left: "Expr"
    right: "Expr"
    # What is combined, set by `check`: number, duration, date_plus, date_minus, date_diff.
    kind: str = "number"
    span: Span | None = _span()


@ir_class
class Negate:
    operand: "Expr"
    span: Span | None = _span()


@ir_class
class Coalesce:
    """`coalesce(a, b, ...)`: the first operand that is known (unknown when none is)."""

    operands: tuple["Expr", ...]
    span: Span | None = _span()


@ir_class
class Extreme:
    """`min(a, b, ...)` or `max(a, b, ...)` of numbers, dates or durations; unknown when any
    operand is (or, for durations, when which is smaller depends on the date)."""

    op: str  # min | max
    operands: tuple["Expr", ...]
    span: Span | None = _span()


@ir_class
class Absolute:
    """`abs(x)` of a number or a duration."""

    operand: "Expr"
    span: Span | None = _span()


@ir_class
class Round:
    """`round(x)` or `round(x, places)`: halves away from zero, as CQL's Round."""

    operand: "Expr"
    places: int = 0
    span: Span | None = _span()


@ir_class
class MonthsBetween:
    """`months_between(start, end)`: the whole calendar months from one date to another, a
    duration in months (negative when `end` comes first)."""

    start: "Expr"
    end: "Expr"
    span: Span | None = _span()


Expr = (BoolLit | NumberLit | DurationLit | DateLit | Name | FactRef | DefineRef | EnumLit
        | SetLit | And | Or | Not | Compare | InRange | Member | IsKnown | Arith | Negate
        | Coalesce | Extreme | Absolute | Round | MonthsBetween)


def children(e: Expr) -> tuple:
    """The sub-expressions of an expression, in reading order (what every walk descends into)."""
    match e:
        case And(operands=ops) | Or(operands=ops) | Coalesce(operands=ops) | Extreme(operands=ops):
            return ops
        case Not(operand=op) | Negate(operand=op) | IsKnown(operand=op) | InRange(operand=op) \
                | Absolute(operand=op) | Round(operand=op):
            return (op,)
        case Compare(left=a, right=b) | Arith(left=a, right=b) | Member(element=a, collection=b) \
                | MonthsBetween(start=a, end=b):
            return (a, b)
    return ()


def walk(e: Expr):
    """Every node of an expression, the expression first (definitions are not followed)."""
    stack = [e]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(children(node)))


# ---- declarations -----------------------------------------------------------------------

@ir_class
class Waiver:
    """A finding of the static checks accepted on purpose: its code and the reason given."""

    code: str
    reason: str
    span: Span | None = _span()


@ir_class
class Include:
    path: str
    span: Span | None = _span()


@ir_class
class Source:
    id: str
    title: str
    version: str | None = None
    ref: int | None = None
    note: str | None = None
    span: Span | None = _span()


@ir_class
class Coding:
    """A code of a code system: `system` is the alias as written (SCT), `url` its URL once checked."""

    system: str
    code: str
    url: str | None = None
    span: Span | None = _span()

    def __str__(self) -> str:
        return f"{self.system}#{self.code}"


@ir_class
class Binding:
    """How a fact is read from a FHIR bundle: the resources of `resource` that carry `profile`,
    one of `codes` and satisfy `where` (FHIRPath); from each, `value` (FHIRPath; None: the
    resource's presence, or its value[x] for an Observation), its codings translated by `map`
    (`otherwise` for any other code). `pick` (earliest, latest) chooses among dates."""

    resource: str
    profile: str | None = None
    codes: tuple[Coding, ...] = ()
    where: str | None = None
    value: str | None = None
    map: tuple[tuple[Coding, object], ...] = ()
    otherwise: object = None
    pick: str | None = None
    note: str | None = None  # its provenance: where its codes were checked, or that they could not be
    span: Span | None = _span()


@ir_class
class CodeSystem:
    """An alias for a code system's URL, for the codes of bindings."""

    id: str
    url: str
    note: str | None = None
    span: Span | None = _span()


@ir_class
class Fact:
    id: str
    type: FactType
    label: str
    question: str | None = None
    note: str | None = None
    waivers: tuple["Waiver", ...] = ()
    bindings: tuple[Binding, ...] = ()  # how FHIR carries it; none: it stays a question
    judgement: str | None = None  # the team's judgement, with the words that qualify options resting on it
    span: Span | None = _span()


@ir_class
class Define:
    id: str
    expr: Expr
    label: str | None = None
    provenance: "Provenance | None" = None
    waivers: tuple["Waiver", ...] = ()
    span: Span | None = _span()


@ir_class
class Provenance:
    """Where a rule comes from: the source, its section, the sentence quoted, references."""

    source: str
    section: str | None = None
    quote: str | None = None
    refs: tuple[int, ...] = ()
    note: str | None = None
    source_span: Span | None = _span()


@ir_class
class Branch:
    """One way out of a decision; `condition` is None for `otherwise`."""

    condition: Expr | None
    target: str | None  # None for `end`
    label: str | None = None
    span: Span | None = _span()


@ir_class
class Decide:
    id: str
    question: str
    branches: tuple[Branch, ...]
    provenance: "Provenance | None" = None
    first: bool = False  # branches may overlap: the first that holds is taken, by design
    waivers: tuple["Waiver", ...] = ()
    span: Span | None = _span()


@ir_class
class Step:
    id: str
    label: str
    then: tuple[str | None, ...] = ()
    note: str | None = None
    choice: bool = False  # `choose`: what follows are alternatives, one choice among them
    span: Span | None = _span()


MODALITIES = ("strongly_recommended", "recommended", "option", "not_recommended", "avoid")
SEVERITIES = ("info", "warning", "critical")


@ir_class
class Recommend:
    id: str
    label: str
    modality: str
    provenance: Provenance
    actions: tuple[str, ...] = ()  # a vocabulary shared by the sources, for concordance
    guard: Expr | None = None
    then: tuple[str | None, ...] = ()
    waivers: tuple["Waiver", ...] = ()
    span: Span | None = _span()


@ir_class
class Warn:
    """A warning raised when a pathway reaches it (and its guard holds)."""

    id: str
    label: str
    severity: str
    provenance: Provenance
    guard: Expr | None = None
    instead: str | None = None
    then: tuple[str | None, ...] = ()
    waivers: tuple["Waiver", ...] = ()
    span: Span | None = _span()


@ir_class
class Schedule:
    """A pathway node that lays out a plan in time."""

    id: str  # the plan's id
    span: Span | None = _span()


Node = Decide | Step | Recommend | Warn | Schedule


def successors(node: "Node") -> list[tuple[str | None, "Branch | None"]]:
    """The targets of a pathway node in order, with the branch that leads there (None for `then`)."""
    match node:
        case Decide(branches=branches):
            return [(b.target, b) for b in branches]
        case Step(then=then) | Recommend(then=then) | Warn(then=then):
            return [(t, None) for t in then]
    return []


@ir_class
class Pathway:
    id: str
    label: str
    nodes: tuple[Node, ...]
    sites: tuple[str, ...] = ()  # the metastatic sites it is about, for the per-site view
    source: str | None = None
    section: str | None = None
    note: str | None = None
    span: Span | None = _span()


@ir_class
class Safety:
    """An error to avoid, checked against what a case proposes; raises a warning when it holds."""

    id: str
    label: str
    condition: Expr
    severity: str
    provenance: Provenance
    instead: str | None = None
    replace: "Replace | None" = None
    waivers: tuple["Waiver", ...] = ()
    span: Span | None = _span()


@ir_class
class Replace:
    """`replace VALUE with ...`: what a safety rule offers in place of an order that puts VALUE
    into the fact its condition tests: another value of that fact (`values`: an order of its
    code) or codes to order (`codings`, each with its text), e.g. a test to do first."""

    value: str
    values: tuple[str, ...] = ()
    codings: tuple[tuple["Coding", str | None], ...] = ()
    fact: str | None = None  # the set fact the condition tests VALUE in (filled by the checker)
    span: Span | None = _span()


@ir_class
class Relative:
    """Offsets counted from another step of the plan (its date), before or after it."""

    step: str
    before: bool


@ir_class
class At:
    offset: Duration
    about: bool = False
    relative: Relative | None = None


@ir_class
class Window:
    start: Duration
    end: Duration
    relative: Relative | None = None


@ir_class
class Latest:
    """`no later than`: any date up to the offset is on time."""

    offset: Duration
    relative: Relative | None = None


Timing = At | Window | Latest


@ir_class
class PlanStep:
    id: str
    label: str
    timing: Timing
    actual: str | None = None  # a date fact holding when it really happened
    note: str | None = None
    span: Span | None = _span()


@ir_class
class Plan:
    id: str
    label: str
    anchor: str  # a date fact
    steps: tuple[PlanStep, ...]
    provenance: Provenance
    span: Span | None = _span()


@ir_class
class Given:
    fact: str
    value: object  # the value as a case file would write it ("31 %", "6 weeks", ["a", "b"])
    span: Span | None = _span()


@ir_class
class Expectation:
    """`expect [no] recommend X | warning X | needs X | source S recommends X | source S silent`."""

    # recommend | warning | needs | source_recommends | source_silent | relation | finding | option | contradiction
    kind: str
    target: str | None  # a rule or fact id; for `relation`, the relation's name
    negated: bool = False
    source: str | None = None
    other: str | None = None  # the second source of a relation
    site: str | None = None
    span: Span | None = _span()


@ir_class
class Scenario:
    id: str
    label: str
    given: tuple[Given, ...]
    expectations: tuple[Expectation, ...]
    note: str | None = None
    span: Span | None = _span()


@ir_class
class Site:
    """A site of disease the per-site view groups recommendations by, present when `condition` holds."""

    id: str
    label: str
    condition: Expr
    note: str | None = None
    span: Span | None = _span()


@ir_class
class Finding:
    """A named clinical conclusion: it holds for a case (among those `scope` admits) when
    `condition` does, and is given with the criteria that made it so. `concluded_at`: the
    pathway nodes where a pathway reaches the same conclusion (a case there has the finding)."""

    id: str
    label: str
    condition: Expr
    scope: Expr | None = None
    sites: tuple[str, ...] = ()
    concluded_at: tuple[str, ...] = ()
    provenance: Provenance | None = None
    span: Span | None = _span()


@ir_class
class Constraint:
    """Facts a case cannot hold together: `condition` holding is a contradiction in the case."""

    id: str
    label: str
    condition: Expr
    note: str | None = None
    span: Span | None = _span()


Declaration = (Include | Source | Fact | Define | Pathway | Plan | Safety | Scenario | Site | Finding
               | Constraint | CodeSystem)


@ir_class
class RuleFile:
    path: str
    declarations: tuple[Declaration, ...]
