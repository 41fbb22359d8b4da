"""The findings of static verification: a knowledge base -> every gap, overlap, conflict,
discordance, unreachable branch or rule, and unused or untested fact or definition, each a
`Diagnostic` with (where a case can show it) a case confirmed by the real evaluator.

`_Verifier` asks `reach`'s formulas the questions and `solve.find_case` for the cases; see
the package's docstring for what each finding means.
"""

from __future__ import annotations

from functools import partial
from itertools import combinations
from typing import Callable

import z3

from ...lang import ir
from ...lang.diagnostics import Diagnostic, Span
from ...kb import KnowledgeBase

from .encode import Encoder
from .reach import reach
from .solve import Case, Encoding, domain, find_case

AGAINST = ("avoid", "not_recommended")
CODES = ("gap", "overlap", "conflict", "discordance", "unreachable", "unused-fact", "untested-fact",
         "unused-define")  # the order of findings at one place


def verify(kb: KnowledgeBase) -> list[Diagnostic]:
    """Every finding of the knowledge base, in reading order; each a `Diagnostic` with its subject."""
    return _Verifier(kb).run()


class _Verifier:
    def __init__(self, kb: KnowledgeBase):
        self.kb = kb
        self.encoder = Encoder(dict(kb.facts), dict(kb.defines))
        self.encodings = (Encoding(self.encoder, kb.facts),)
        self.solver = z3.Solver()
        self.solver.set("timeout", 5000)
        self.findings: list[Diagnostic] = []
        self.waivers: dict[str, dict[str, str]] = {}
        self.reach = reach(kb, self.encoder)

    # ---- solving -------------------------------------------------------------------------------
    def _solve(self, formula: z3.BoolRef, confirm: Callable[[Case], bool]) -> Case | None:
        """A case satisfying `formula` that the real evaluator confirms; None if none was found."""
        found = find_case(self.solver, formula, self.encodings, confirm)
        return found[0] if found else None

    def _holds(self, formula: z3.BoolRef) -> bool:
        self.solver.push()
        try:
            self.solver.add(formula, *domain(formula, self.encoder))
            return self.solver.check() == z3.sat
        finally:
            self.solver.pop()

    def _evaluate(self, case: dict):
        try:
            return self.kb.evaluate(case)
        except Exception:  # noqa: BLE001 - a proposed case the schema refuses is simply not confirmed
            return None

    # ---- the model of every pathway -----------------------------------------------------------------
    def run(self) -> list[Diagnostic]:
        self._collect_waivers()
        for pathway in self.kb.pathways:
            self._pathway(pathway)
        self._conflicts()
        self._unused()
        order = {code: i for i, code in enumerate(CODES)}
        return sorted(self.findings, key=lambda f: (f.span.file if f.span else "", f.span.line if f.span else 0,
                                                    f.span.column if f.span else 0, order[f.code], f.subject))

    def _collect_waivers(self) -> None:
        things: list = list(self.kb.facts.values()) + list(self.kb.defines.values())
        things += [n for p in self.kb.pathways for n in p.nodes if hasattr(n, "waivers")]
        things += list(self.kb.safeties)
        for thing in things:
            for waiver in thing.waivers:
                self.waivers.setdefault(thing.id, {})[waiver.code] = waiver.reason

    def _add(self, code: str, subject: str, message: str, span: Span | None, case: Case | None = None,
             related: tuple[tuple[str, Span], ...] = ()) -> None:
        self.findings.append(Diagnostic(code, message, span, related=related, subject=subject, case=case,
                                        waived=self.waivers.get(subject, {}).get(code)))

    def _pathway(self, pathway: ir.Pathway) -> None:
        ways_in = self.kb.shapes[pathway.id].ways_in
        unreachable: set[str] = set()
        for node in pathway.nodes:
            reached = self.reach.reached[node.id]
            if not self._holds(reached):
                unreachable.add(node.id)
                # report where reaching stops, not every node after it
                if not all(p in unreachable for p in ways_in[node.id]) or node.id == pathway.nodes[0].id:
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
        conditions = [t for t in truths if t is not None]
        if len(conditions) == len(truths):  # no `otherwise`
            falls = z3.And(reached, *[t.false for t in conditions])
            case = self._solve(falls, lambda c: self._confirm_gap(c, node))
            if case:
                self._add("gap", node.id, f"the decision '{node.id}' has no branch for some cases and no "
                          "'otherwise': such a case falls through", node.span, case)
        if node.first:
            return
        whens = [(i, t) for i, t in enumerate(truths) if t is not None]
        for (i, a), (j, b) in combinations(whens, 2):
            both = z3.And(reached, a.true, b.true)
            case = self._solve(both, partial(self._confirm_overlap, node=node, i=i, j=j))
            first = node.branches[i].span
            if case:
                self._add("overlap", node.id, f"branches {i + 1} and {j + 1} of '{node.id}' both hold for some "
                          "cases; the first is taken (say 'first' after the question if that is meant)",
                          node.branches[j].span, case, (("the first of the two", first),) if first else ())

    # ---- confirmations by the real evaluator ------------------------------------------------------
    def _step(self, case: dict, node_id: str):
        result = self._evaluate(case)
        if result is None:
            return None
        return next((s for s in result.trace if s.node == node_id), None)

    def _confirm_gap(self, case: Case, node: ir.Decide) -> bool:
        step = self._step(case, node.id)
        return step is not None and step.outcome.startswith("no branch holds")

    def _confirm_overlap(self, case: dict, node: ir.Decide, i: int, j: int) -> bool:
        if self._step(case, node.id) is None:
            return False
        values = self.kb.validate_case(case)
        conditions = [node.branches[k].condition for k in (i, j)]
        return all(c is not None and self.kb.value(c, values) is True for c in conditions)

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
                               partial(self._confirm_both_fire, a=pro.id, b=con.id))
            if not case:
                continue
            same = pro.provenance.source == con.provenance.source
            code = "conflict" if same else "discordance"
            who = pro.provenance.source if same else f"{pro.provenance.source} and {con.provenance.source}"
            self._add(code, con.id, f"{who}: '{pro.id}' recommends {', '.join(shared)} and '{con.id}' advises "
                      "against it, for the same case", con.span, case,
                      (("the recommendation", pro.span),) if pro.span else ())

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
        conditions += [s.condition for s in kb.safeties] + [s.condition for s in kb.sites.values()]
        stack = list(conditions)
        while stack:
            for e in ir.walk(stack.pop()):
                if isinstance(e, ir.FactRef):
                    read.add(e.id)
                elif isinstance(e, ir.DefineRef) and e.id not in used_defines:
                    used_defines.add(e.id)
                    stack.append(kb.defines[e.id].expr)
        for plan in kb.plans.values():
            read.add(plan.anchor)
            read.update(s.actual for s in plan.steps if s.actual)
        asked = {g.fact for s in kb.scenarios for g in s.given}
        asked |= {e.target for s in kb.scenarios for e in s.expectations if e.kind == "needs" and e.target}
        for name, fact in kb.facts.items():
            if name not in read:
                self._add("unused-fact", name, f"the fact '{name}' is declared but no rule reads it", fact.span)
            elif name not in asked:
                self._add("untested-fact", name, f"the fact '{name}' is read, but no scenario gives it or "
                          "expects it to be needed", fact.span)
        for name, define in kb.defines.items():
            if name not in used_defines:
                self._add("unused-define", name, f"the definition '{name}' is never used", define.span)
