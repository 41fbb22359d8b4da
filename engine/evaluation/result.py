"""The result of evaluating one case, and its JSON form (stable; see README "Result JSON").

Immutable records, named tuples where many are made per evaluation: recommendations with
their provenance, warnings, needs (the facts that would decide an undecided decision, and
what each answer leads to), the view per source, plans in time, and the trace of every node
visited, each step's outcome in words and as a code (`OUTCOMES`): a `Trace`, kept as the
walk recorded it and made into steps when first read. A result is plain data:
nothing in it refers back to the evaluator. `to_json` writes the documented JSON form with
`schema_version`; bump the major version on any breaking change, the minor on an addition.
What that JSON holds that is the same for many results (a step per values read, a
recommendation, a site's view, ...) is made once, kept (bounded) and shared between results,
read-only (evaluation/shared.py); its top level is fresh for each call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from operator import methodcaller
from typing import TYPE_CHECKING, Any, NamedTuple

from ..lang.records import record
from ..lang.diagnostics import Span
from ..lang.values import to_json_value
from .memo import Memo
from .merged import merge_warnings
from .trace_json import CaseJSON, case_json, recorded_json, stuck_reason
from .shared import SharedDict, frozen, shared_dict, shared_list

if TYPE_CHECKING:
    from .concordance import SiteView

SCHEMA_VERSION = "1.5"  # 1.1: a trace step's `code`; 1.2: `identity`; 1.3: findings, options, contradictions,
# choices; 1.4: merged_warnings, and the contradictions also among the warnings (kind `contradiction`);
# 1.5: undecided (decisions left open that no missing fact could decide, with why); a trace step left open
# names only the facts that could decide it (those the needs give it)


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

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label, "actions": list(self.actions), "modality": self.modality,
                "source": self.source, "section": self.section, "quote": self.quote,
                "references": list(self.refs), "note": self.note, "pathway": self.pathway,
                "path": list(self.path)}


class Decision(NamedTuple):
    """The values of a result alone: what `decide` returns (a tuple: cheap to make)."""

    recommendations: tuple[str, ...]
    warnings: tuple[str, ...]
    needs: tuple[str, ...]


class RuleWarning(NamedTuple):  # a tuple: many are made per evaluation
    """A warning a rule raised: a pathway's `warn`, a safety rule, or a plan step out of its window."""

    id: str
    label: str
    severity: str
    kind: str  # pathway | safety | plan | contradiction (a constraint the case breaks)
    source: str | None
    section: str | None = None
    quote: str | None = None
    refs: tuple[int, ...] = ()
    note: str | None = None
    instead: str | None = None
    pathway: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label, "severity": self.severity, "kind": self.kind,
                "source": self.source, "section": self.section, "quote": self.quote,
                "references": list(self.refs), "note": self.note, "instead": self.instead,
                "pathway": self.pathway}


@record
class Answer:
    answer: str             # the value or range, as a clinician writes it
    leads_to: str | None    # the node it leads to (None: the pathway ends, or the rule does not apply)
    outcome: str            # what that means, in words

    def to_json(self) -> dict[str, Any]:
        return {"answer": self.answer, "leads_to": self.leads_to, "outcome": self.outcome}


class Undecided(NamedTuple):  # a tuple: several are made per evaluation
    """One decision (or guarded rule) that a missing fact leaves open."""

    pathway: str | None
    node: str
    question: str
    answers: tuple[Answer, ...]

    def to_json(self) -> dict[str, Any]:
        return {"pathway": self.pathway, "node": self.node, "question": self.question,
                "answers": [{"answer": a.answer, "leads_to": a.leads_to, "outcome": a.outcome}  # Answer.to_json
                            for a in self.answers]}


class Need(NamedTuple):  # a tuple: several are made per evaluation
    fact: str
    label: str
    question: str | None
    type: str
    decides: tuple[Undecided, ...]

    def to_json(self) -> dict[str, Any]:
        return {"fact": self.fact, "label": self.label, "question": self.question, "type": self.type,
                "decides": [d.to_json() for d in self.decides]}


class Stuck(NamedTuple):
    """A decision or rule the case leaves open that no missing fact could decide: a condition
    has no value for this case (a division by zero, a date outside the calendar), and the case
    gives every fact the node reads, or only lacks facts that cannot change what it does (a
    later branch's). No fact would decide it, so it is no need; without it a result would read
    as if the rules were silent."""

    pathway: str | None
    node: str
    kind: str
    span: Span | None
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"pathway": self.pathway, "node": self.node, "kind": self.kind,
                "span": self.span.to_json() if self.span else None, "reason": self.reason}


# How an open step's outcome opens, before the facts that could decide it (codegen/walk.py)
UNDECIDED_NEEDS = "undecided: needs "
NOT_CHECKED_NEEDS = "not checked: needs "
# How a need's answer that leaves its node open says so, before the facts that could then decide it
# (evaluate.py); when none could, "still undecided: " and why (`still_stuck`)
STILL_NEEDS = "still undecided: needs "


def still_stuck(why: str) -> str:
    """The words of an answer after which its node stays open with no missing fact that could
    decide it: why its condition has no value (`lang.unknowns.why_unknown`), if that is known."""
    return f"still undecided: a condition has no value for this case ({why})" if why else "still undecided"


def stuck_steps(steps: Iterable[TraceStep]) -> tuple[Stuck, ...]:
    """The `undecided` steps that name no fact that could decide them, with the reason their
    outcome gives: every fact they read is given, or those missing cannot change what they do."""
    stuck = []
    for step in steps:
        outcome = step.outcome
        if step.code != "undecided" and not outcome.startswith("undecided"):
            continue
        if outcome.startswith(UNDECIDED_NEEDS) and outcome != UNDECIDED_NEEDS:  # a need, shown as such
            continue
        stuck.append(Stuck(step.pathway, step.node, step.kind, step.span, stuck_reason(outcome)))
    return tuple(stuck)


@record
class Unchecked:
    """A safety rule that could not be checked, and the facts it lacks."""

    rule: str
    label: str
    severity: str
    needs: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "label": self.label, "severity": self.severity, "needs": list(self.needs)}


class SourceView(NamedTuple):  # a tuple: one per source per evaluation
    source: str
    title: str
    recommendations: tuple[str, ...]
    warnings: tuple[str, ...]

    @property
    def silent(self) -> bool:
        return not self.recommendations and not self.warnings

    def to_json(self) -> dict[str, Any]:
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

    def to_json(self) -> dict[str, Any]:
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

    def to_json(self) -> dict[str, Any]:
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
    code: str = ""                     # the outcome as a code: one of OUTCOMES

    def to_json(self) -> dict[str, Any]:
        return {"pathway": self.pathway, "node": self.node, "kind": self.kind,
                "span": self.span.to_json() if self.span else None,
                "read": {k: to_json_value(v) for k, v in self.read}, "outcome": self.outcome,
                "code": self.code, "next": list(self.next), "branch": self.branch}


class StepPlan(NamedTuple):
    """A trace step as the walk records it, made once per node and outcome when the knowledge
    base is loaded: the step without what depends on the case, and how to fill that in."""

    step: TraceStep                # `read` empty; `outcome` as far as it is fixed
    reads: tuple[str, ...]         # the facts the node reads: `read` is each with its value in the case
    needs: str | None = None       # the words open with this and name the facts that could decide it...
    otherwise: str | None = None   # ...or, when none could, are these (why the condition has no value)


class Trace(Sequence[TraceStep]):
    """The trace of one evaluation: a sequence of `TraceStep`, kept as the walk recorded it
    (steps made at load, and `StepPlan`s with the case's values) and made into steps when
    first read. Plain data: it holds its own copy of the case's values, and the facts that
    could decide each node left open, as the result's needs give them; nothing else."""

    __slots__ = ("_recorded", "_values", "_steps", "_names", "_deciding", "_unchecked")

    def __init__(self, recorded: Iterable[TraceStep | StepPlan] = (), values: Mapping[str, Any] | None = None,
                 names: Mapping[str, None] | None = None,
                 deciding: Mapping[tuple[str | None, str], tuple[str, ...]] | None = None,
                 unchecked: Iterable[Unchecked] = ()):
        """`values`: the case the walk read (copied); none needed when every entry is a step.
        `names`: the knowledge base's facts, each None (shared, never changed: what its JSON is
        found by starts from it, trace_json.case_json), if known. `deciding`: per node of a
        pathway a missing fact leaves open, as (pathway, node), the facts that could decide it
        in the order it reads them, and `unchecked`: the safety rules left unchecked, each
        with those of its own (both as the evaluator's needs.Relevance gave them for the
        result's needs; shared, never changed): what an open step names."""
        self._recorded = tuple(recorded)
        self._values = dict(values) if values else {}
        self._steps: tuple[TraceStep, ...] | None = None
        self._names = names
        self._deciding = deciding if deciding is not None else _NO_NODES
        self._unchecked = tuple(unchecked)

    @property
    def steps(self) -> tuple[TraceStep, ...]:
        if self._steps is None:
            self._steps = _expand(self._recorded, self._values.get, self.deciding)
        return self._steps

    def deciding(self, pathway: str | None, node: str) -> tuple[str, ...]:
        """The missing facts that could decide a node the case leaves open (a safety rule's:
        pathway None), in the order it reads them: those its step names. () for any other node."""
        if pathway is None:
            for unchecked in self._unchecked:
                if unchecked.rule == node:
                    return unchecked.needs
            return ()
        return self._deciding.get((pathway, node), ())

    def __getitem__(self, index):
        return self.steps[index]

    def __len__(self) -> int:
        return len(self._recorded)

    def __iter__(self) -> Iterator[TraceStep]:
        return iter(self.steps)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (Trace, tuple, list)):
            return self.steps == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.steps)

    def __repr__(self) -> str:
        return repr(self.steps)

    def __reduce__(self):
        return (Trace, (self.steps,))

    def undecided(self) -> tuple[TraceStep, ...]:
        """The steps whose code is `undecided`, only they made from what the walk recorded."""
        if self._steps is not None:
            return tuple(s for s in self._steps if s.code == "undecided")
        picked = tuple(e for e in self._recorded if (e if isinstance(e, TraceStep) else e[0])[8] == "undecided")
        return _expand(picked, self._values.get, self.deciding) if picked else ()

    def to_json(self) -> list[dict[str, Any]]:
        """`TraceStep.to_json` of every step: a fresh list of steps shared between results
        (read-only: see `Result.to_json`)."""
        return self._json()[0]

    def _json(self, case: CaseJSON | None = None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The trace's JSON, and the result's `undecided` (`Stuck.to_json` of `stuck_steps`),
        made from what the walk recorded (the steps themselves are not made for it): a
        result's trace is most of its JSON. What the walk recorded is the same few constants
        case after case: a step that reads no fact is one JSON for every case, one that reads
        facts one JSON per distinct value of those facts, kept when they come again
        (evaluation/trace_json.py). `case`: its `case_json`, when the caller has it."""
        if self._steps is not None:
            return _trace_json(self._steps), [u.to_json() for u in stuck_steps(self._steps)]
        return recorded_json(self._recorded, case or case_json(self._values, self._names), _parts, self.deciding)


def _parts(entry: TraceStep | StepPlan) -> tuple[TraceStep, tuple[str, ...], str | None, str | None]:
    """(step, facts read, needs, otherwise) of what the walk recorded (trace_json.py)."""
    return (entry, (), None, None) if isinstance(entry, TraceStep) else entry


_NO_NODES: dict[tuple[str | None, str], tuple[str, ...]] = {}  # (shared, never changed)


def _expand(recorded: tuple[TraceStep | StepPlan, ...], get: Callable[[str], Any],
            deciding: Callable[[str | None, str], tuple[str, ...]]) -> tuple[TraceStep, ...]:
    """The steps of a recorded trace: each plan's step with the facts it read and its words,
    an open step's naming the facts that could decide it (`deciding(pathway, node)`)."""
    steps: list[TraceStep] = []
    append, step_class = steps.append, TraceStep  # (a plan is a tuple too: told apart by its class)
    for entry in recorded:
        if isinstance(entry, TraceStep):
            append(entry)
            continue
        step, reads, needs, otherwise = entry
        read = tuple([(name, get(name)) for name in reads])
        outcome = step[5]
        if needs is not None:
            named = deciding(step[0], step[1])
            outcome = needs + ", ".join(named) if named or otherwise is None else otherwise
        append(tuple.__new__(step_class, (step[0], step[1], step[2], step[3], read, outcome, step[6], step[7],
                                          step[8])))
    return tuple(steps)


# A trace step's outcome as a code, beside its words: what a program matches on.
OUTCOMES = {
    "branch": "a decision took the branch `branch`",
    "otherwise": "a decision took its `otherwise` branch (`branch` is its number)",
    "no-branch": "no branch of a decision holds: the pathway ends here",
    "undecided": "a fact the node reads is missing: see the result's needs",
    "fires": "a recommendation or warning applies",
    "does-not-apply": "a rule's condition is false",
    "continues": "a step leads on",
    "schedules": "a plan is laid out in time",
    "raises": "a safety rule holds: its warning is raised",
    "clear": "a safety rule does not hold",
    "not-checked": "a safety rule lacks facts to be checked",
}


def unknown_rule(rule_id: str) -> str:
    """The words of the KeyError `why_not` raises for an id the knowledge base does not declare."""
    return f"'{rule_id}' is no rule, decision or step of this knowledge base"


class Result(NamedTuple):  # a tuple: one per evaluation, and cheap to make
    """Everything one evaluation found; `to_json` gives its documented JSON form."""

    knowledge_base: str
    case: dict[str, Any]
    recommendations: tuple[Recommendation, ...]
    warnings: tuple[RuleWarning, ...]
    needs: tuple[Need, ...]
    by_source: tuple[SourceView, ...]
    by_site: tuple["SiteView", ...]  # per site, each source's actions and their relations
    plans: tuple[PlannedSequence, ...]
    unchecked: tuple[Unchecked, ...] = ()
    trace: Sequence[TraceStep] = ()  # a `Trace` from the evaluator: steps made when first read
    identity: dict[str, Any] | None = None  # the knowledge base's name, digest, revision; Consilium's version
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
    def all_warnings(self) -> tuple[RuleWarning, ...]:
        """The warnings of the walk, then the case's contradictions as warnings (kind
        `contradiction`): what the JSON's `warnings` and the text list."""
        return self.warnings + tuple(c.warning() for c in self.contradictions)

    @property
    def undecided(self) -> tuple[Stuck, ...]:
        """Decisions and rules left open that no missing fact could decide (the case gives every
        fact they read, or lacks only facts that cannot change them), each with why (a division
        by zero, a date outside the calendar); those a missing fact could decide are the `needs`."""
        trace = self.trace
        return stuck_steps(trace.undecided() if isinstance(trace, Trace) else trace)

    @property
    def choices(self) -> tuple:
        return self.advice.choices if self.advice is not None else ()

    @property
    def merged_warnings(self) -> tuple:
        """The warnings as shown to a clinician: those saying the same thing (the same quote of
        the same source) merged into one naming every rule it comes from (evaluation/merged.py)."""
        return merge_warnings(self.all_warnings)  # a contradiction of the case is a warning too

    def why_not(self, rule_id: str):
        """Why the case did not get `rule_id`: where its path turned away, with the reasons or
        the facts still open (KeyError for an id the knowledge base does not declare)."""
        if self.advice is None:
            raise KeyError(unknown_rule(rule_id))
        return self.advice.why_not(rule_id)

    def recommendation_ids(self) -> list[str]:
        return [r.id for r in self.recommendations]

    def warning_ids(self) -> list[str]:
        return [w.id for w in self.warnings]

    def needed_facts(self) -> list[str]:
        return [n.fact for n in self.needs]

    def site(self, site: str) -> "SiteView":
        for view in self.by_site:
            if view.site == site:
                return view
        raise KeyError(f"'{site}' is no site of this result (its sites: "
                       f"{', '.join(v.site for v in self.by_site) or 'none'})")

    def source(self, source_id: str) -> SourceView:
        for view in self.by_source:
            if view.source == source_id:
                return view
        raise KeyError(f"'{source_id}' is no source of this result (its sources: "
                       f"{', '.join(v.source for v in self.by_source) or 'none'})")

    def to_json(self) -> dict[str, Any]:
        """The documented JSON form (README "Result JSON"), ready for `json.dumps`.

        The top-level dict and its lists are the caller's own, fresh for each call (add keys
        to it, replace a field); what they hold is shared between results where it is the same
        for many (a recommendation with its provenance, a trace step for the values it read, a
        site's view, a need, a finding with its reasons): read-only `dict`s and `list`s
        (evaluation/shared.py) whose mutating methods raise `TypeError`. `copy.deepcopy(...)`
        gives plain containers to change. Each part is made once and kept, up to a bound."""
        part = _part
        contradictions = self.contradictions
        warned = tuple([_warning(c) for c in contradictions])  # `all_warnings` beyond the walk's, made once
        trace = self.trace
        case = case_json(self.case, trace._names if isinstance(trace, Trace) else None)
        if isinstance(trace, Trace):
            steps, undecided = trace._json(case)
        else:
            steps, undecided = _trace_json(trace), [u.to_json() for u in self.undecided]
        kept, same, alike = _KEPT, _ALIKE, _alike
        return {
            "schema_version": SCHEMA_VERSION,
            "knowledge_base": self.knowledge_base,
            "case": case.fields(),
            "recommendations": [alike(same["recommendation"], r) for r in self.recommendations],
            "warnings": [alike(same["warning"], w) for w in self.warnings + warned],
            "needs": [{"fact": n.fact, "label": n.label, "question": n.question, "type": n.type,
                       "decides": [part(kept["undecided"], d) for d in n.decides]} for n in self.needs],
            "undecided": undecided,
            "by_source": {v.source: alike(same["by_source"], v) for v in self.by_source},
            "by_site": {v.site: part(kept["by_site"], v, _site_json) for v in self.by_site},
            "plans": [p.to_json() for p in self.plans],
            "unchecked": [alike(same["unchecked"], u, (u.rule, u.label, u.severity, u.needs)) for u in self.unchecked],
            "trace": steps,
            "identity": dict(self.identity) if self.identity is not None else None,
            "findings": [part(kept["finding"], f) for f in self.findings],
            "options": [alike(same["option"], o) for o in self.options],
            "contradictions": [part(kept["contradiction"], c) for c in contradictions],
            "choices": [alike(same["choice"], c) for c in self.choices],
            # what the text and the report show: one warning per thing said, naming every rule it comes from
            "merged_warnings": [_merged_json(m) for m in merge_warnings(self.warnings + warned)],
        }


# The evaluator makes a result of the fields before `identity` (a bare tuple, for speed) and
# KnowledgeBase.evaluate adds it: read it as None from a result made without it.
Result.identity = property(lambda self: self[10] if len(self) > 10 else None,  # type: ignore[assignment]
                           doc="What the result was evaluated with: the knowledge base's name, digest and "
                               "revision, and Consilium's version (KnowledgeBase.identity), or None.")


def _result_repr(self: Result) -> str:
    """A result's fields by name; the evaluator's results may stop before `identity`."""
    return "Result(" + ", ".join(f"{name}={value!r}" for name, value in zip(Result._fields, self, strict=False)) + ")"


Result.__repr__ = _result_repr  # type: ignore[method-assign, assignment]  # a NamedTuple's repr, set after the class


_PLAIN = frozenset({type(None), bool, int, float, str})  # values that are their own JSON form


def _trace_json(trace: Iterable[TraceStep]) -> list[dict[str, Any]]:
    """`TraceStep.to_json` for every step, written out: a result's trace is most of its JSON."""
    plain, value = _PLAIN, to_json_value
    out: list[dict[str, Any]] = []
    append = out.append
    for pathway, node, kind, span, read, outcome, following, branch, code in trace:
        append({"pathway": pathway, "node": node, "kind": kind,
                "span": None if span is None else {"file": span.file, "line": span.line, "column": span.column,
                                                   "end_line": span.end_line, "end_column": span.end_column},
                "read": {k: v if v.__class__ in plain else value(v) for k, v in read} if read else {},
                "outcome": outcome, "code": code, "next": list(following), "branch": branch})
    return out


# ---- the parts of a result's JSON that results share ---------------------------------------
# Per kind of part, by the id of the record it is the JSON of, the record kept beside it (so
# that its id is not reused while the entry lives) and its JSON, read-only (evaluation/shared.py).
# The records are the evaluator's own, made once and kept per (node, values read) or per distinct
# answer (evaluate.py, advice.py, concordance.py, merged.py): their JSON is made once each too.
# Each kind bounded as those are (`needs.kept_bound` for a knowledge base of up to a thousand
# nodes): emptied when full.
_KEPT: dict[str, dict[int, tuple[Any, Any]]] = {kind: {} for kind in (
    "undecided", "by_site", "finding", "contradiction", "contradiction warning")}
# Per kind of record whose fields are all text, whole numbers and tuples and records of those
# (equal records: the same JSON), by the record itself: these are often made afresh per result.
# Kept from their second sight (memo.py): a part met once is made, not kept.
_KEPT_BOUND = 2048
_ALIKE: dict[str, Memo] = {kind: Memo(_KEPT_BOUND) for kind in (
    "recommendation", "warning", "by_source", "site", "merged", "unchecked", "option", "choice")}
_SEEN: dict[int, set[int]] = {id(kept): set() for kept in _KEPT.values()}  # per kind, the ids met once (`_part`)
_WARNING_OF = methodcaller("warning")


def _frozen_json(record: Any) -> Any:
    return frozen(record.to_json())


def _part(kept: dict[int, tuple[Any, Any]], record: Any, make: Callable[[Any], Any] = _frozen_json) -> Any:
    """`make(record)` (by default its JSON, read-only), made once per record: kept by its id, the
    record beside it (so that its id is not reused while the entry lives). Kept when the record
    comes again (the id of one met once is noted, a number: nothing for the garbage collector);
    met once, its JSON is made fresh and not kept (by default; `make`'s own result otherwise):
    a random case's findings and contradictions are mostly its own, and keeping what is never
    asked for again only churns the memory."""
    found = kept.get(id(record))
    if found is None or found[0] is not record:
        seen = _SEEN[id(kept)]
        if id(record) not in seen:
            if len(seen) >= _KEPT_BOUND * 4:
                seen.clear()
            seen.add(id(record))
            return record.to_json() if make is _frozen_json else make(record)
        found = (record, make(record))
        if len(kept) >= _KEPT_BOUND:
            kept.clear()
        kept[id(record)] = found
    return found[1]


def _alike(kept: Memo, record: Any, key: Any = None) -> Any:
    """`record.to_json()`, read-only, made once per distinct record (see `_ALIKE`), or per `key`
    when given (what the JSON depends on, where the record holds more)."""
    if key is None:
        key = record
    found = kept.get(key)
    if found is None:
        found = kept.keep(key, frozen(record.to_json()))
    return found


def _site_json(view: SiteView) -> SharedDict:
    """`SiteView.to_json`, read-only, of parts made once each (a source at a site, a relation)."""
    kept = _ALIKE["site"]
    return shared_dict({"label": view.label, "present": view.present,
                        "sources": shared_dict({s.source: _alike(kept, s) for s in view.sources}),
                        "relations": shared_list([_alike(kept, r) for r in view.relations])})


def _merged_json(merged: Any) -> Any:
    """`MergedWarning.to_json`, read-only, made once per what it writes: its words and its origins'
    fields but their notes (a contradiction's note names the case's values; the JSON does not show it)."""
    key = (merged.severity, merged.label, merged.quote, merged.instead,
           tuple([(w.id, w.kind, w.label, w.severity, w.source, w.section, w.refs, w.pathway) for w in merged.origins]))
    return _alike(_ALIKE["merged"], merged, key)


def _warning(contradiction: Any) -> RuleWarning:
    """`contradiction.warning()`, made once per contradiction (advice.py keeps those)."""
    return _part(_KEPT["contradiction warning"], contradiction, _WARNING_OF)
