"""Static verification: holes and contradictions in a knowledge base, each with a case that shows it.

Takes a checked knowledge base; returns findings, each with a stable code, a severity, the
place in the rule file, and (where a case can show it) a case `consilium eval` accepts as
is, confirmed by evaluating it:

- gap (error): a decision without `otherwise` whose branches can all be false;
- overlap (warning): two branches of a decision that can both hold (unless it says `first`);
- conflict (error): a case where a source recommends an action it also advises against;
- discordance (info): the same across two sources;
- unreachable (warning): a branch or rule no case reaches;
- unused-fact (warning), untested-fact (info), unused-define (warning).

Reasoning is exact for the language: every fact is a Z3 variable with an unknown flag, and
conditions are encoded in three-valued logic (see `encode`). A finding written `waive CODE
"reason"` on its rule, decision, fact or definition is kept, marked waived, and does not fail.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction
from itertools import combinations
from typing import Any, Iterable

import z3

from ...lang import ir
from ...lang.diagnostics import Span
from ...kb import KnowledgeBase

from .encode import Encoder
from .reach import reach

SEVERITY = {"gap": "error", "overlap": "warning", "conflict": "error", "discordance": "info",
            "unreachable": "warning", "unused-fact": "warning", "untested-fact": "info",
            "unused-define": "warning"}
AGAINST = ("avoid", "not_recommended")
ATTEMPTS = 8  # models tried before a finding the real evaluator does not confirm is dropped


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    span: Span | None
    subject: str                     # the rule, decision, fact or definition it is about
    case: dict | None = None         # a case that demonstrates it, as a case file writes it
    waived: str | None = None        # the reason, where the finding is waived
    related: tuple[tuple[str, Span], ...] = ()

    @property
    def severity(self) -> str:
        return SEVERITY[self.code]

    @property
    def fails(self) -> bool:
        return self.severity == "error" and self.waived is None

    def to_json(self) -> dict:
        return {"code": self.code, "severity": self.severity, "message": self.message, "subject": self.subject,
                "span": self.span.to_json() if self.span else None, "case": self.case, "waived": self.waived,
                "related": [{"message": m, "span": s.to_json()} for m, s in self.related]}


def verify(kb: KnowledgeBase) -> list[Finding]:
    return _Verifier(kb).run()


class _Verifier:
    def __init__(self, kb: KnowledgeBase):
        self.kb = kb
        self.encoder = Encoder(dict(kb.facts), dict(kb.checked.defines))
        self.solver = z3.Solver()
        self.solver.set("timeout", 5000)
        self._synced = 0
        self.findings: list[Finding] = []
        self.waivers: dict[str, dict[str, str]] = {}
        self.reach = reach(kb, self.encoder)

    # ---- solving -------------------------------------------------------------------------------
    def _solve(self, formula: z3.BoolRef, confirm) -> dict | None | bool:
        """A confirmed case satisfying `formula`; None if none exists; False if none could be confirmed."""
        self._sync_domain()
        self.solver.push()
        try:
            self.solver.add(formula)
            names = fact_names(formula, self.encoder)
            for _ in range(ATTEMPTS):
                if self.solver.check() != z3.sat:
                    return None
                model = self.solver.model()
                case = self._case(model, names)
                if confirm(case):
                    return case
                pinned = block(model, self.encoder, names)
                self.solver.add(z3.Not(z3.And(pinned)) if pinned else z3.BoolVal(False))
            return False
        finally:
            self.solver.pop()

    def _sync_domain(self) -> None:
        # Encoding may add constraints (fresh dates); they hold for every case, so add them for good.
        fresh = self.encoder.domain[self._synced:]
        if fresh:
            self.solver.add(*fresh)
            self._synced = len(self.encoder.domain)

    def _holds(self, formula: z3.BoolRef) -> bool:
        self._sync_domain()
        self.solver.push()
        try:
            self.solver.add(formula)
            return self.solver.check() == z3.sat
        finally:
            self.solver.pop()

    def _case(self, model: z3.ModelRef, names: Iterable[str]) -> dict:
        return case_from_model(model, names, self.encoder, self.kb.facts)

    def _evaluate(self, case: dict):
        try:
            return self.kb.evaluator.evaluate(self.kb.validate_case(case))
        except Exception:  # noqa: BLE001 - a proposed case the schema refuses is simply not confirmed
            return None

    # ---- the model of every pathway -----------------------------------------------------------------
    def run(self) -> list[Finding]:
        self._collect_waivers()
        for pathway in self.kb.pathways:
            self._pathway(pathway)
        self._conflicts()
        self._unused()
        order = {code: i for i, code in enumerate(SEVERITY)}
        return sorted(self.findings, key=lambda f: (f.span.file if f.span else "", f.span.line if f.span else 0,
                                                    f.span.column if f.span else 0, order[f.code], f.subject))

    def _collect_waivers(self) -> None:
        things: list = list(self.kb.facts.values()) + list(self.kb.checked.defines.values())
        things += [n for p in self.kb.pathways for n in p.nodes if hasattr(n, "waivers")]
        things += list(self.kb.checked.safeties)
        for thing in things:
            for waiver in thing.waivers:
                self.waivers.setdefault(thing.id, {})[waiver.code] = waiver.reason

    def _add(self, code: str, subject: str, message: str, span: Span | None, case: dict | None = None,
             related: tuple = ()) -> None:
        self.findings.append(Finding(code, message, span, subject, case,
                                     self.waivers.get(subject, {}).get(code), related))

    def _pathway(self, pathway: ir.Pathway) -> None:
        graph = self.kb.graphs[pathway.id]
        unreachable: set[str] = set()
        for node in pathway.nodes:
            reached = self.reach.reached[node.id]
            if not self._holds(reached):
                unreachable.add(node.id)
                # report where reaching stops, not every node after it
                if not all(p in unreachable for p in graph.predecessors(node.id)) or node.id == pathway.nodes[0].id:
                    self._add("unreachable", node.id, f"no case reaches '{node.id}' in the pathway '{pathway.id}'",
                              node.span)
                continue
            match node:
                case ir.Decide():
                    self._decision(pathway, node, reached)
                case ir.Recommend() | ir.Warn() if node.guard is not None:
                    if not self._holds(self.reach.fires[node.id]):
                        self._add("unreachable", node.id, f"'{node.id}' is reached but its condition never holds",
                                  node.span)

    def _decision(self, pathway: ir.Pathway, node: ir.Decide, reached) -> None:
        truths = self.reach.truths[node.id]
        for index, branch in enumerate(node.branches):
            if not self._holds(self.reach.takes[node.id, index]):
                where = f"branch {index + 1}" + (f" ({branch.label})" if branch.label else "")
                self._add("unreachable", node.id, f"no case takes {where} of '{node.id}': the branches "
                          "before it, or its condition, rule it out", branch.span)
        if all(t is not None for t in truths):
            falls = z3.And(reached, *[t.false for t in truths])
            case = self._solve(falls, lambda c: self._confirm_gap(c, pathway, node))
            if case:
                self._add("gap", node.id, f"the decision '{node.id}' has no branch for some cases and no "
                          "'otherwise': such a case falls through", node.span, case)
        if node.first:
            return
        whens = [(i, t) for i, t in enumerate(truths) if t is not None]
        for (i, a), (j, b) in combinations(whens, 2):
            both = z3.And(reached, a.true, b.true)
            case = self._solve(both, lambda c, i=i, j=j: self._confirm_overlap(c, node, i, j))
            if case:
                self._add("overlap", node.id, f"branches {i + 1} and {j + 1} of '{node.id}' both hold for some "
                          "cases; the first is taken (say 'first' after the question if that is meant)",
                          node.branches[j].span, case, (("the first of the two", node.branches[i].span),))

    # ---- confirmations by the real evaluator ------------------------------------------------------
    def _step(self, case: dict, node_id: str):
        result = self._evaluate(case)
        if result is None:
            return None
        return next((s for s in result.trace if s.node == node_id), None)

    def _confirm_gap(self, case: dict, pathway: ir.Pathway, node: ir.Decide) -> bool:
        step = self._step(case, node.id)
        return step is not None and step.outcome.startswith("no branch holds")

    def _confirm_overlap(self, case: dict, node: ir.Decide, i: int, j: int) -> bool:
        if self._step(case, node.id) is None:
            return False
        values = self.kb.validate_case(case)
        return all(self.kb.evaluator.value(node.branches[k].condition, values) is True for k in (i, j))

    def _confirm_both_fire(self, case: dict, a: str, b: str) -> bool:
        result = self._evaluate(case)
        return result is not None and {a, b} <= set(result.recommendation_ids())

    # ---- conflicts ---------------------------------------------------------------------------------
    def _conflicts(self) -> None:
        recommends = [n for n in self.reach.rules.values() if isinstance(n, ir.Recommend)]
        for a, b in combinations(recommends, 2):
            if (a.modality in AGAINST) == (b.modality in AGAINST):
                continue
            shared = sorted(set(a.actions) & set(b.actions))
            if not shared:
                continue
            pro, con = (a, b) if b.modality in AGAINST else (b, a)
            case = self._solve(z3.And(self.reach.fires[pro.id], self.reach.fires[con.id]),
                               lambda c: self._confirm_both_fire(c, pro.id, con.id))
            if not case:
                continue
            same = pro.provenance.source == con.provenance.source
            code = "conflict" if same else "discordance"
            who = pro.provenance.source if same else f"{pro.provenance.source} and {con.provenance.source}"
            self._add(code, con.id, f"{who}: '{pro.id}' recommends {', '.join(shared)} and '{con.id}' advises "
                      "against it, for the same case", con.span, case, (("the recommendation", pro.span),))

    # ---- facts and definitions ---------------------------------------------------------------------
    def _unused(self) -> None:
        kb = self.kb
        used_defines: set[str] = set()
        read: set[str] = set()
        conditions: list[ir.Expr] = []
        for pathway in kb.pathways:
            for node in pathway.nodes:
                if isinstance(node, ir.Decide):
                    conditions += [b.condition for b in node.branches if b.condition is not None]
                elif isinstance(node, (ir.Recommend, ir.Warn)) and node.guard is not None:
                    conditions.append(node.guard)
        conditions += [s.condition for s in kb.checked.safeties] + [s.condition for s in kb.checked.sites.values()]
        stack = list(conditions)
        while stack:
            for e in ir.walk(stack.pop()):
                if isinstance(e, ir.FactRef):
                    read.add(e.id)
                elif isinstance(e, ir.DefineRef) and e.id not in used_defines:
                    used_defines.add(e.id)
                    stack.append(kb.checked.defines[e.id].expr)
        for plan in kb.checked.plans.values():
            read.add(plan.anchor)
            read.update(s.actual for s in plan.steps if s.actual)
        asked = {g.fact for s in kb.scenarios for g in s.given}
        asked |= {e.target for s in kb.scenarios for e in s.expectations if e.kind == "needs"}
        for name, fact in kb.facts.items():
            if name not in read:
                self._add("unused-fact", name, f"the fact '{name}' is declared but no rule reads it", fact.span)
            elif name not in asked:
                self._add("untested-fact", name, f"the fact '{name}' is read, but no scenario gives it or "
                          "expects it to be needed", fact.span)
        for name, define in kb.checked.defines.items():
            if name not in used_defines:
                self._add("unused-define", name, f"the definition '{name}' is never used", define.span)


def fact_names(formula: z3.BoolRef, encoder: Encoder) -> list[str]:
    """The facts a formula mentions, in declaration order."""
    seen: set[str] = set()
    todo, done = [formula], set()
    while todo:
        e = todo.pop()
        if e.get_id() in done:
            continue
        done.add(e.get_id())
        if z3.is_const(e) and e.decl().kind() == z3.Z3_OP_UNINTERPRETED:
            seen.add(e.decl().name())
        todo.extend(e.children())
    names = []
    for name in encoder.facts:
        value = encoder.values[name]
        symbols = [f"{encoder.prefix}{name}?"] + [str(t) for t in _terms(value)]
        if any(s in seen for s in symbols):
            names.append(name)
    return names


def _terms(value) -> list:
    if isinstance(value.term, dict):
        return list(value.term.values())
    if isinstance(value.term, tuple):
        return list(value.term)
    return [value.term]


def case_from_model(model: z3.ModelRef, names: Iterable[str], encoder: Encoder, facts) -> dict:
    """The case a model describes, as a case file writes it: only the named facts it knows."""
    case: dict[str, Any] = {}
    inverse = {i: v for v, i in encoder.enum_ids.items()}
    for name in names:
        value = encoder.values[name]
        if not z3.is_true(model.eval(value.known, model_completion=True)):
            continue
        fact = facts[name]
        match value.kind:
            case "bool":
                case[name] = z3.is_true(model.eval(value.term, model_completion=True))
            case "number":
                case[name] = _number(model.eval(value.term, model_completion=True), fact)
            case "enum":
                case[name] = inverse[model.eval(value.term, model_completion=True).as_long()]
            case "set":
                case[name] = [v for v, flag in value.term.items() if z3.is_true(model.eval(flag, model_completion=True))]
            case "date":
                case[name] = dt.date.fromordinal(model.eval(value.term, model_completion=True).as_long()).isoformat()
            case "duration":
                months, days = (model.eval(t, model_completion=True).as_long() for t in value.term)
                case[name] = f"{months} months" if months else f"{days} days"
    return case


def block(model: z3.ModelRef, encoder: Encoder, names: Iterable[str]) -> list[z3.BoolRef]:
    """Equalities pinning the named facts to this model's values (negate their conjunction to block it)."""
    same = []
    for name in names:
        value = encoder.values[name]
        for term in [value.known] + _terms(value):
            same.append(term == model.eval(term, model_completion=True))
    return same


def _number(value, fact: ir.Fact):
    if z3.is_int_value(value):
        return value.as_long()
    fraction = Fraction(value.numerator_as_long(), value.denominator_as_long())
    if fraction.denominator == 1:
        return int(fraction)
    if getattr(fact.type, "integer", False):
        return int(fraction)
    return float(fraction)
