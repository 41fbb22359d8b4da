"""The result of evaluating one case, and its JSON form (stable; see README "Result JSON").

Immutable records, named tuples where many are made per evaluation: recommendations with
their provenance, warnings, needs (the facts that would decide an undecided decision, and
what each answer leads to, worked out when first read), the view per source, plans in time,
and the trace of every node visited. `to_json` writes the documented JSON form with
`schema_version`; bump the major version on any breaking change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Callable, NamedTuple

from ..lang.diagnostics import Span
from ..lang.values import to_json_value

SCHEMA_VERSION = "1.1"  # 1.1: findings, options, contradictions, choices


class Recommendation(NamedTuple):  # a tuple: many are made per evaluation
    id: str
    label: str
    modality: str
    source: str
    section: str | None
    quote: str | None
    refs: tuple[int, ...]
    note: str | None
    actions: tuple[str, ...]
    pathway: str
    path: tuple[str, ...]  # the nodes visited from the pathway's entry to this one

    def to_json(self) -> dict:
        return {"id": self.id, "label": self.label, "actions": list(self.actions), "modality": self.modality,
                "source": self.source, "section": self.section, "quote": self.quote,
                "references": list(self.refs), "note": self.note, "pathway": self.pathway,
                "path": list(self.path)}


class Warning(NamedTuple):  # a tuple: many are made per evaluation
    id: str
    label: str
    severity: str
    kind: str  # pathway | safety | plan
    source: str | None
    section: str | None = None
    quote: str | None = None
    refs: tuple[int, ...] = ()
    note: str | None = None
    instead: str | None = None
    pathway: str | None = None

    def to_json(self) -> dict:
        return {"id": self.id, "label": self.label, "severity": self.severity, "kind": self.kind,
                "source": self.source, "section": self.section, "quote": self.quote,
                "references": list(self.refs), "note": self.note, "instead": self.instead,
                "pathway": self.pathway}


@dataclass(frozen=True, slots=True)
class Answer:
    answer: str             # the value or range, as a clinician writes it
    leads_to: str | None    # the node it leads to (None: the pathway ends, or the rule does not apply)
    outcome: str            # what that means, in words

    def to_json(self) -> dict:
        return {"answer": self.answer, "leads_to": self.leads_to, "outcome": self.outcome}


class Answers(Sequence):
    """What each answer to a missing fact leads to: worked out on first use, then kept.

    Working it out re-runs the decision once per possible answer; most callers of the fast
    paths never look, so a result only pays for it when someone reads it."""

    __slots__ = ("_work", "_answers")

    def __init__(self, work: Callable[[], tuple[Answer, ...]]):
        self._work = work
        self._answers: tuple[Answer, ...] | None = None

    def _get(self) -> tuple[Answer, ...]:
        if self._answers is None:
            self._answers = tuple(self._work())
            self._work = None
        return self._answers

    def __getitem__(self, index):
        return self._get()[index]

    def __len__(self) -> int:
        return len(self._get())

    def __eq__(self, other) -> bool:
        return tuple(self) == tuple(other)

    def __repr__(self) -> str:
        return repr(self._get())


class Undecided(NamedTuple):  # a tuple: several are made per evaluation
    """One decision (or guarded rule) that a missing fact leaves open."""

    pathway: str | None
    node: str
    question: str
    answers: Sequence[Answer]

    def to_json(self) -> dict:
        return {"pathway": self.pathway, "node": self.node, "question": self.question,
                "answers": [a.to_json() for a in self.answers]}


class Need(NamedTuple):  # a tuple: several are made per evaluation
    fact: str
    label: str
    question: str | None
    type: str
    decides: tuple[Undecided, ...]

    def to_json(self) -> dict:
        return {"fact": self.fact, "label": self.label, "question": self.question, "type": self.type,
                "decides": [d.to_json() for d in self.decides]}


@dataclass(frozen=True, slots=True)
class Unchecked:
    """A safety rule that could not be checked, and the facts it lacks."""

    rule: str
    label: str
    severity: str
    needs: tuple[str, ...]

    def to_json(self) -> dict:
        return {"rule": self.rule, "label": self.label, "severity": self.severity, "needs": list(self.needs)}


class SourceView(NamedTuple):  # a tuple: one per source per evaluation
    source: str
    title: str
    recommendations: tuple[str, ...]
    warnings: tuple[str, ...]

    @property
    def silent(self) -> bool:
        return not self.recommendations and not self.warnings

    def to_json(self) -> dict:
        return {"title": self.title, "recommendations": list(self.recommendations),
                "warnings": list(self.warnings), "silent": self.silent}


class PlannedStep(NamedTuple):  # a tuple: cheap to make
    id: str
    label: str
    timing: str                  # "day 11 to day 18", "at about 3 months"
    earliest: Any = None         # dates, when the anchor is known
    latest: Any = None
    actual: Any = None
    on_time: bool | None = None  # None: no actual date, or no window to hold it to

    def to_json(self) -> dict:
        return {"id": self.id, "label": self.label, "timing": self.timing,
                "earliest": to_json_value(self.earliest), "latest": to_json_value(self.latest),
                "actual": to_json_value(self.actual), "on_time": self.on_time}


class PlannedSequence(NamedTuple):  # a tuple: cheap to make
    id: str
    label: str
    anchor: str
    anchor_date: Any
    source: str
    quote: str | None
    refs: tuple[int, ...]
    steps: tuple[PlannedStep, ...]

    def to_json(self) -> dict:
        return {"id": self.id, "label": self.label, "anchor": self.anchor,
                "anchor_date": to_json_value(self.anchor_date), "source": self.source,
                "quote": self.quote, "references": list(self.refs),
                "steps": [s.to_json() for s in self.steps]}


class TraceStep(NamedTuple):  # a tuple: many are made per evaluation
    pathway: str | None   # None for safety rules, which stand outside pathways
    node: str
    kind: str
    span: Span | None
    read: tuple[tuple[str, Any], ...]  # the facts the node's conditions read, with their values
    outcome: str
    next: tuple[str, ...] = ()         # the nodes it continues to
    branch: int | None = None          # for a decision, the branch taken (1 = the first)

    def to_json(self) -> dict:
        return {"pathway": self.pathway, "node": self.node, "kind": self.kind,
                "span": self.span.to_json() if self.span else None,
                "read": {k: to_json_value(v) for k, v in self.read}, "outcome": self.outcome,
                "next": list(self.next), "branch": self.branch}


class Result(NamedTuple):  # a tuple: one per evaluation, and cheap to make
    """Everything one evaluation found; `to_json` gives its documented JSON form."""

    knowledge_base: str
    case: dict
    recommendations: tuple[Recommendation, ...]
    warnings: tuple[Warning, ...]
    needs: tuple[Need, ...]
    by_source: tuple[SourceView, ...]
    by_site: tuple  # of concordance.SiteView: per site, each source's actions and their relations
    plans: tuple[PlannedSequence, ...]
    unchecked: tuple[Unchecked, ...] = ()
    trace: tuple[TraceStep, ...] = ()
    # What else the knowledge base says of this case (evaluation/advice.py), worked out when
    # first asked: findings with their reasons, conditional options, contradictions, choices.
    advice: Any = None

    @property
    def findings(self) -> tuple:
        return self.advice.findings if self.advice is not None else ()

    @property
    def options(self) -> tuple:
        """Recommendations waiting only for the team's judgements: options, never recommendations."""
        return self.advice.options if self.advice is not None else ()

    @property
    def contradictions(self) -> tuple:
        return self.advice.contradictions if self.advice is not None else ()

    @property
    def choices(self) -> tuple:
        return self.advice.choices if self.advice is not None else ()

    def why_not(self, rule_id: str):
        """Why the case did not get `rule_id`: where its path turned away, with the reasons or
        the facts still open (KeyError for an id the knowledge base does not declare)."""
        if self.advice is None:
            raise KeyError(rule_id)
        return self.advice.why_not(rule_id)

    def recommendation_ids(self) -> list[str]:
        return [r.id for r in self.recommendations]

    def warning_ids(self) -> list[str]:
        return [w.id for w in self.warnings]

    def needed_facts(self) -> list[str]:
        return [n.fact for n in self.needs]

    def site(self, site: str):
        for view in self.by_site:
            if view.site == site:
                return view
        raise KeyError(site)

    def source(self, source_id: str) -> SourceView:
        for view in self.by_source:
            if view.source == source_id:
                return view
        raise KeyError(source_id)

    def to_json(self) -> dict:
        return {
            "schema_version": SCHEMA_VERSION,
            "knowledge_base": self.knowledge_base,
            "case": {k: to_json_value(v) for k, v in sorted(self.case.items())},
            "recommendations": [r.to_json() for r in self.recommendations],
            "warnings": [w.to_json() for w in self.warnings],
            "needs": [n.to_json() for n in self.needs],
            "by_source": {v.source: v.to_json() for v in self.by_source},
            "by_site": {v.site: v.to_json() for v in self.by_site},
            "plans": [p.to_json() for p in self.plans],
            "unchecked": [u.to_json() for u in self.unchecked],
            "trace": [t.to_json() for t in self.trace],
            "findings": [f.to_json() for f in self.findings],
            "options": [o.to_json() for o in self.options],
            "contradictions": [c.to_json() for c in self.contradictions],
            "choices": [c.to_json() for c in self.choices],
        }
