"""Phase 4, check: declarations of all files -> a resolved, type-checked `Checked` model.

Takes every declaration of a knowledge base (all files, includes already followed) and
returns the same declarations with names resolved (a bare name becomes a fact, a
definition or an enum value), sources filled in from their pathway, and a list of
diagnostics: unknown or duplicate names, types, units, enum values, ranges, cycles among
definitions, unknown sources, plans and rules. It builds no graph (that is `graph`) and
evaluates nothing. Expressions are typed by a `check_expr.ExpressionChecker`, to which the
checker is the `Scope`: the declarations it has read, and where problems are reported.
"""

from __future__ import annotations

import dataclasses

from . import ir
from .fact_values import validate_case
from .diagnostics import CODES, Diagnostic, Span, suggest
from .check_binding import check_bindings, check_replace
from .check_expr import ANY, ExpressionChecker
from .values import DURATION_UNITS, NUMBER_UNITS
from .checked import Checked


# `waive CODE "reason"` names a finding's code: any code of the registry (diagnostics.CODES),
# so that a finding added by a static check can be waived without a list here to keep in step.


def check(declarations: list[ir.Declaration]) -> tuple[Checked, list[Diagnostic]]:
    checker = _Checker(declarations)
    return checker.run(), checker.diagnostics


class _Checker:
    def __init__(self, declarations: list[ir.Declaration]):
        self.declarations = declarations
        self.expressions = ExpressionChecker(self)  # reads facts and definitions from here, as they are filled
        self.diagnostics: list[Diagnostic] = []
        self.sources: dict[str, ir.Source] = {}
        self.facts: dict[str, ir.Fact] = {}
        self.defines: dict[str, ir.Define] = {}
        self.define_types: dict[str, object] = {}
        self.rule_ids: dict[str, Span | None] = {}
        self._define_cache: dict[str, tuple] = {}
        self.sites: dict[str, ir.Site] = {}
        self.code_systems: dict[str, ir.CodeSystem] = {}
        self._scenario_targets: dict[str, dict[str, None]] | None = None

    def error(self, code: str, message: str, span: Span | None, hint: str | None = None,
              related: tuple = ()) -> None:
        self.diagnostics.append(Diagnostic(code, message, span, hint=hint, related=related))

    def _check_waivers(self) -> None:
        """A waiver names a finding of the static checks; any other code would waive nothing, silently."""
        holders = [*self.declarations, *(n for d in self.declarations if isinstance(d, ir.Pathway) for n in d.nodes)]
        for holder in holders:
            for waiver in getattr(holder, "waivers", ()):
                if waiver.code not in CODES:
                    written = [code.replace("-", "_") for code in CODES]  # as a rule file spells them
                    shown = waiver.code.replace("-", "_")
                    self.error("invalid-value", f"'{shown}' is not a finding that can be waived", waiver.span,
                               hint=suggest(shown, written) or "a waiver names the code of a finding of `check`")

    # ---- declarations ---------------------------------------------------------------
    def run(self) -> Checked:
        plans: dict[str, ir.Plan] = {}
        scenario_ids: dict[str, Span | None] = {}
        for decl in self.declarations:
            match decl:
                case ir.Source():
                    self._unique(self.sources, decl.id, decl, "source")
                case ir.Fact():
                    self._check_fact_type(decl)
                    if decl.id in self.defines:
                        self._duplicate(decl.id, decl.span, self.defines[decl.id].span, "name")
                    else:
                        self._unique(self.facts, decl.id, decl, "fact")
                case ir.Define():
                    if decl.id in self.facts:
                        self._duplicate(decl.id, decl.span, self.facts[decl.id].span, "name")
                    else:
                        self._unique(self.defines, decl.id, decl, "definition")
                case ir.Plan():
                    self._rule_id(decl.id, decl.span)
                    plans.setdefault(decl.id, decl)
                case ir.Pathway():
                    self._rule_id(decl.id, decl.span)
                    for node in decl.nodes:
                        if not isinstance(node, ir.Schedule):
                            self._rule_id(node.id, node.span)
                case ir.Safety():
                    self._rule_id(decl.id, decl.span)
                case ir.Site():
                    self._unique(self.sites, decl.id, decl, "site")
                case ir.CodeSystem():
                    self._unique(self.code_systems, decl.id, decl, "code system")
                case ir.Finding() | ir.Constraint():
                    self._rule_id(decl.id, decl.span)
                case ir.Scenario():
                    if decl.id in scenario_ids:
                        self._duplicate(decl.id, decl.span, scenario_ids[decl.id], "scenario")
                    scenario_ids.setdefault(decl.id, decl.span)

        self._check_waivers()
        self._check_define_cycles()
        self.facts, problems = check_bindings(self.facts, self.code_systems)
        self.diagnostics.extend(problems)
        defines = {name: dataclasses.replace(
            d, expr=self.define_type(name)[0],
            provenance=self._provenance(d.provenance, None, d.span) if d.provenance else None)
            for name, d in self.defines.items()}
        pathways = tuple(self._check_pathway(d, plans) for d in self.declarations if isinstance(d, ir.Pathway))
        checked_plans = {name: self._check_plan(p) for name, p in plans.items()}
        safeties = tuple(self._check_safety(d) for d in self.declarations if isinstance(d, ir.Safety))
        scenarios = tuple(d for d in self.declarations if isinstance(d, ir.Scenario))
        rules: dict[str, ir.Node | ir.Safety | ir.Finding] = {n.id: n for p in pathways for n in p.nodes
                                                 if not isinstance(n, ir.Schedule)}
        rules.update({s.id: s for s in safeties})
        sites = {name: dataclasses.replace(site, condition=self.expressions.condition(site.condition))
                 for name, site in self.sites.items()}
        nodes = {n.id for p in pathways for n in p.nodes}
        findings = tuple(self._check_finding(d, nodes) for d in self.declarations if isinstance(d, ir.Finding))
        constraints = tuple(dataclasses.replace(d, condition=self.expressions.condition(d.condition))
                            for d in self.declarations if isinstance(d, ir.Constraint))
        rules.update({f.id: f for f in findings})
        for scenario in scenarios:
            self._check_scenario(scenario, rules, set(sites), checked_plans)
        return Checked(sources=self.sources, facts=self.facts, defines=defines, pathways=pathways,
                       plans=checked_plans, safeties=safeties, scenarios=scenarios, sites=sites,
                       define_types=dict(self.define_types), code_systems=self.code_systems,
                       findings=findings, constraints=constraints)

    def _unique(self, table: dict, key: str, decl, kind: str) -> None:
        if key in table:
            self._duplicate(key, decl.span, table[key].span, kind)
        else:
            table[key] = decl

    def _duplicate(self, key: str, span, first, kind: str) -> None:
        self.error("duplicate-id", f"the {kind} '{key}' is declared twice", span,
                   hint="give one of them another id",
                   related=(("first declared here", first),) if first else ())

    def _rule_id(self, key: str, span: Span | None) -> None:
        if key in self.rule_ids:
            self._duplicate(key, span, self.rule_ids[key], "id")
        else:
            self.rule_ids[key] = span

    def _check_fact_type(self, fact: ir.Fact) -> None:
        match fact.type:
            case ir.NumberType(unit=unit) if unit is not None and unit not in NUMBER_UNITS:
                hint = suggest(unit, NUMBER_UNITS) or ("durations are their own type: 'duration'"
                                                       if unit in DURATION_UNITS else
                                                       "known units: " + ", ".join(sorted(NUMBER_UNITS)))
                self.error("unknown-unit", f"'{unit}' is not a unit the language knows", fact.span, hint=hint)
            case ir.EnumType(values=values) | ir.SetType(values=values):
                seen = set()
                for value in values:
                    if value in seen:
                        self.error("duplicate-id", f"the value '{value}' is listed twice in '{fact.id}'",
                                   fact.span)
                    seen.add(value)
                if not values:
                    self.error("invalid-range", f"'{fact.id}' lists no values", fact.span)

    def _source(self, source: str | None, span: Span | None, fallback: Span | None) -> None:
        if source and source not in self.sources:
            self.error("unknown-source", f"no source '{source}' is declared", span or fallback,
                       hint=suggest(source, self.sources) or "declare it with 'source "
                       + source + " \"title\"'")

    def _provenance(self, prov: ir.Provenance, pathway: ir.Pathway | None, span: Span | None) -> ir.Provenance:
        source = prov.source or (pathway.source if pathway else None) or ""
        section = prov.section or (pathway.section if pathway else None)
        if not source:
            self.error("missing-clause", "this rule names no source, and its pathway gives none", span,
                       hint="add 'source NAME' to the rule or to its pathway")
        elif prov.source:  # a source inherited from the pathway is reported once, at the pathway
            self._source(source, prov.source_span, span)
        return dataclasses.replace(prov, source=source, section=section)

    def _check_pathway(self, pathway: ir.Pathway, plans: dict[str, ir.Plan]) -> ir.Pathway:
        if pathway.source:
            self._source(pathway.source, pathway.span, pathway.span)
        for site in pathway.sites:
            if site not in self.sites:
                self.error("unknown-site", f"no site '{site}' is declared", pathway.span,
                           hint=suggest(site, self.sites) or "declare it with 'site " + site + " \"label\" "
                           "when CONDITION'")
        nodes: list[ir.Node] = []
        for node in pathway.nodes:
            match node:
                case ir.Decide():
                    branches = tuple(dataclasses.replace(b, condition=self.expressions.condition(b.condition))
                                     if b.condition is not None else b for b in node.branches)
                    provenance = (self._provenance(node.provenance, pathway, node.span)
                                  if node.provenance else None)
                    nodes.append(dataclasses.replace(node, branches=branches, provenance=provenance))
                case ir.Step():
                    nodes.append(node)
                case ir.Recommend():
                    nodes.append(dataclasses.replace(
                        node, provenance=self._provenance(node.provenance, pathway, node.span),
                        guard=self.expressions.condition(node.guard) if node.guard is not None else None))
                case ir.Warn():
                    nodes.append(dataclasses.replace(
                        node, provenance=self._provenance(node.provenance, pathway, node.span),
                        guard=self.expressions.condition(node.guard) if node.guard is not None else None))
                case ir.Schedule():
                    if node.id not in plans:
                        self.error("unknown-plan", f"no plan '{node.id}' is declared", node.span,
                                   hint=suggest(node.id, plans))
                    nodes.append(node)
        return dataclasses.replace(pathway, nodes=tuple(nodes))

    def _check_plan(self, plan: ir.Plan) -> ir.Plan:
        prov = self._provenance(plan.provenance, None, plan.span)
        # a step's actual date is reported at its step, the anchor at the plan
        for fact_id, what, span in [(plan.anchor, "anchor", plan.span)] + [
                (s.actual, "actual date", s.span or plan.span) for s in plan.steps if s.actual]:
            fact = self.facts.get(fact_id)
            if fact is None:
                self.error("unknown-fact", f"the plan's {what} '{fact_id}' is not a declared fact", span,
                           hint=suggest(fact_id, self.facts))
            elif not isinstance(fact.type, ir.DateType):
                self.error("type-mismatch", f"the plan's {what} '{fact_id}' must be a date, "
                           f"not {ir.describe_type(fact.type)}", span)
        seen: set[str] = set()
        for step in plan.steps:
            relative = step.timing.relative
            if relative is not None and relative.step not in seen:
                self.error("unknown-target", f"the step '{step.id}' is counted from '{relative.step}', which is "
                           "not an earlier step of this plan", step.span,
                           hint=suggest(relative.step, seen) or "count from a step declared above it")
            if step.id in seen:
                self.error("duplicate-id", f"the plan step '{step.id}' is declared twice", step.span)
            seen.add(step.id)
        return dataclasses.replace(plan, provenance=prov)

    def _check_finding(self, finding: ir.Finding, nodes: set[str]) -> ir.Finding:
        for site in finding.sites:
            if site not in self.sites:
                self.error("unknown-site", f"no site '{site}' is declared", finding.span,
                           hint=suggest(site, self.sites) or "declare it with 'site " + site + " \"label\" when ...'")
        for node in finding.concluded_at:
            if node not in nodes:
                self.error("unknown-target", f"no pathway node '{node}' to conclude the finding '{finding.id}' at",
                           finding.span, hint=suggest(node, nodes) or "name a decision, step or rule of a pathway")
        assert finding.provenance is not None  # lowering gives each finding one (its 'source' is required)
        return dataclasses.replace(
            finding, provenance=self._provenance(finding.provenance, None, finding.span),
            condition=self.expressions.condition(finding.condition),
            scope=self.expressions.condition(finding.scope) if finding.scope is not None else None)

    def _check_safety(self, safety: ir.Safety) -> ir.Safety:
        checked = dataclasses.replace(safety, provenance=self._provenance(safety.provenance, None, safety.span),
                                      condition=self.expressions.condition(safety.condition))
        replace, problems = check_replace(checked, self.facts, self.code_systems)
        self.diagnostics.extend(problems)
        return dataclasses.replace(checked, replace=replace)

    def _check_scenario(self, scenario: ir.Scenario, rules: dict, sites: set[str], plans: dict) -> None:
        raw: dict[str, object] = {}
        positions: dict[str, Span] = {}
        for given in scenario.given:
            if given.fact in raw:
                self.error("case-duplicate-fact", f"the fact '{given.fact}' is given twice", given.span)
            raw[given.fact] = given.value
            if given.span is not None:
                positions[given.fact] = given.span
        _, problems = validate_case(raw, self.facts, name=scenario.span.file if scenario.span else "<scenario>",
                                    positions=positions)
        self.diagnostics.extend(problems)
        for expect in scenario.expectations:
            target = expect.target or ""  # every kind but `source_silent` and `relation` names one
            if expect.kind in ("recommend", "source_recommends"):
                rule = rules.get(target)
                if not isinstance(rule, ir.Recommend):
                    self.error("unknown-rule", f"no recommendation '{target}' is declared", expect.span,
                               hint=suggest(target, [k for k, v in rules.items()
                                                            if isinstance(v, ir.Recommend)]))
            elif expect.kind == "warning" and "." in target:
                plan_id, step_id = target.split(".", 1)
                if step_id not in {s.id for s in getattr(plans.get(plan_id), "steps", ())}:
                    self.error("unknown-rule", f"no plan step '{target}' is declared", expect.span,
                               hint="a plan's timing warning is named PLAN.STEP")
            elif expect.kind == "warning":
                rule = rules.get(target)
                if not isinstance(rule, (ir.Warn, ir.Safety)):
                    self.error("unknown-rule", f"no warning or safety rule '{target}' is declared",
                               expect.span, hint=suggest(target, [k for k, v in rules.items()
                                                                         if isinstance(v, (ir.Warn, ir.Safety))]))
            elif expect.kind in ("finding", "option", "contradiction"):
                declared = self._declared(rules)
                if expect.target not in declared[expect.kind]:
                    what = {"finding": "finding", "option": "recommendation", "contradiction": "constraint"}
                    self.error("unknown-rule", f"no {what[expect.kind]} '{expect.target}' is declared", expect.span,
                               hint=suggest(target, declared[expect.kind]))
            elif expect.kind == "needs" and target not in self.facts:
                self.error("unknown-fact", f"no fact '{target}' is declared", expect.span,
                           hint=suggest(target, self.facts))
            for source in (expect.source, expect.other):
                if source is not None:
                    self._source(source, expect.span, expect.span)
            if expect.site is not None and expect.site not in sites:
                self.error("unknown-site", f"no site '{expect.site}' is declared", expect.span,
                           hint=suggest(expect.site, sites) or "declare it with 'site " + expect.site + " \"label\" "
                           "when CONDITION'")

    def _declared(self, rules: dict) -> dict[str, dict[str, None]]:
        """The ids a scenario may expect as a finding, an option or a contradiction, in declaration
        order; made once (per expectation it made checking grow with the square of the rules)."""
        if self._scenario_targets is None:
            self._scenario_targets = {
                "finding": dict.fromkeys(f.id for f in self.declarations if isinstance(f, ir.Finding)),
                "option": dict.fromkeys(k for k, v in rules.items() if isinstance(v, ir.Recommend)),
                "contradiction": dict.fromkeys(c.id for c in self.declarations if isinstance(c, ir.Constraint))}
        return self._scenario_targets

    # ---- definitions ----------------------------------------------------------------
    def _check_define_cycles(self) -> None:
        graph = {name: _names_in(d.expr) & self.defines.keys() for name, d in self.defines.items()}
        state: dict[str, int] = {}
        for start in graph:
            if state.get(start):
                continue
            stack = [(start, iter(sorted(graph[start])))]
            path = [start]
            state[start] = 1
            while stack:
                node, children = stack[-1]
                child = next(children, None)
                if child is None:
                    state[node] = 2
                    stack.pop()
                    path.pop()
                elif state.get(child) == 1:
                    cycle = path[path.index(child):] + [child]
                    self.error("define-cycle", "definitions refer to each other in a cycle: "
                               + " -> ".join(cycle), self.defines[child].span,
                               hint="a definition cannot depend on itself")
                    self.define_types[child] = ANY
                elif not state.get(child):
                    state[child] = 1
                    path.append(child)
                    stack.append((child, iter(sorted(graph[child]))))

    def define_type(self, name: str) -> tuple[ir.Expr, object]:
        """Resolve a definition once (memoised), so references elsewhere know its type."""
        if name in self._define_cache:
            return self._define_cache[name]
        # Enter a placeholder first: a cycle (already reported) must not recurse forever.
        self._define_cache[name] = (self.defines[name].expr, ANY)
        if self.define_types.get(name) is ANY:
            return self._define_cache[name]
        expr, typ = self.expressions.expr(self.defines[name].expr)
        self._define_cache[name] = (expr, typ)
        self.define_types[name] = typ
        return expr, typ


def _names_in(expr) -> set[str]:
    """Every bare name an unresolved expression mentions."""
    return {node.id for node in ir.walk(expr) if isinstance(node, ir.Name)}
