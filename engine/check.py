"""Phase 4, check: declarations of all files -> a resolved, type-checked `Checked` model.

Takes every declaration of a knowledge base (all files, includes already followed) and
returns the same declarations with names resolved (a bare name becomes a fact, a
definition or an enum value), sources filled in from their pathway, and a list of
diagnostics: unknown or duplicate names, types, units, enum values, ranges, cycles among
definitions, unknown sources, plans and rules. It builds no graph (that is `graph`) and
evaluates nothing.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from . import ir
from .case import validate_case
from .diagnostics import Diagnostic, Span, suggest
from .values import DURATION_UNITS, NUMBER_UNITS


@dataclass(frozen=True, slots=True)
class Checked:
    """The resolved declarations of a knowledge base, by kind, in declaration order."""

    sources: dict[str, ir.Source]
    facts: dict[str, ir.Fact]
    defines: dict[str, ir.Define]
    pathways: tuple[ir.Pathway, ...]
    plans: dict[str, ir.Plan]
    safeties: tuple[ir.Safety, ...]
    scenarios: tuple[ir.Scenario, ...]
    sites: dict[str, ir.Site] = field(default_factory=dict)
    define_types: dict[str, ir.FactType] = field(default_factory=dict)


_ANY = object()  # the type of an expression that already failed to check


def check(declarations: list[ir.Declaration]) -> tuple[Checked, list[Diagnostic]]:
    checker = _Checker(declarations)
    return checker.run(), checker.diagnostics


class _Checker:
    def __init__(self, declarations: list[ir.Declaration]):
        self.declarations = declarations
        self.diagnostics: list[Diagnostic] = []
        self.sources: dict[str, ir.Source] = {}
        self.facts: dict[str, ir.Fact] = {}
        self.defines: dict[str, ir.Define] = {}
        self.define_types: dict[str, object] = {}
        self.rule_ids: dict[str, Span | None] = {}
        self._define_cache: dict[str, tuple] = {}
        self.sites: dict[str, ir.Site] = {}

    def error(self, code: str, message: str, span: Span | None, hint: str | None = None,
              related: tuple = ()) -> None:
        self.diagnostics.append(Diagnostic(code, message, span, hint=hint, related=related))

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
                case ir.Scenario():
                    if decl.id in scenario_ids:
                        self._duplicate(decl.id, decl.span, scenario_ids[decl.id], "scenario")
                    scenario_ids.setdefault(decl.id, decl.span)

        self._check_define_cycles()
        defines = {name: dataclasses.replace(
            d, expr=self._define_type(name)[0],
            provenance=self._provenance(d.provenance, None, d.span) if d.provenance else None)
            for name, d in self.defines.items()}
        pathways = tuple(self._check_pathway(d, plans) for d in self.declarations if isinstance(d, ir.Pathway))
        checked_plans = {name: self._check_plan(p) for name, p in plans.items()}
        safeties = tuple(self._check_safety(d) for d in self.declarations if isinstance(d, ir.Safety))
        scenarios = tuple(d for d in self.declarations if isinstance(d, ir.Scenario))
        rules = {n.id: n for p in pathways for n in p.nodes if not isinstance(n, ir.Schedule)}
        rules.update({s.id: s for s in safeties})
        sites = {name: dataclasses.replace(site, condition=self._condition(site.condition))
                 for name, site in self.sites.items()}
        for scenario in scenarios:
            self._check_scenario(scenario, rules, set(sites), checked_plans)
        return Checked(sources=self.sources, facts=self.facts, defines=defines, pathways=pathways,
                       plans=checked_plans, safeties=safeties, scenarios=scenarios, sites=sites,
                       define_types=dict(self.define_types))

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
        else:
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
        nodes = []
        for node in pathway.nodes:
            match node:
                case ir.Decide():
                    branches = tuple(dataclasses.replace(b, condition=self._condition(b.condition))
                                     if b.condition is not None else b for b in node.branches)
                    provenance = (self._provenance(node.provenance, pathway, node.span)
                                  if node.provenance else None)
                    nodes.append(dataclasses.replace(node, branches=branches, provenance=provenance))
                case ir.Step():
                    nodes.append(node)
                case ir.Recommend():
                    nodes.append(dataclasses.replace(
                        node, provenance=self._provenance(node.provenance, pathway, node.span),
                        guard=self._condition(node.guard) if node.guard is not None else None))
                case ir.Warn():
                    nodes.append(dataclasses.replace(
                        node, provenance=self._provenance(node.provenance, pathway, node.span),
                        guard=self._condition(node.guard) if node.guard is not None else None))
                case ir.Schedule():
                    if node.id not in plans:
                        self.error("unknown-plan", f"no plan '{node.id}' is declared", node.span,
                                   hint=suggest(node.id, plans))
                    nodes.append(node)
        return dataclasses.replace(pathway, nodes=tuple(nodes))

    def _check_plan(self, plan: ir.Plan) -> ir.Plan:
        prov = self._provenance(plan.provenance, None, plan.span)
        for fact_id, what in [(plan.anchor, "anchor")] + [(s.actual, "actual date") for s in plan.steps if s.actual]:
            fact = self.facts.get(fact_id)
            if fact is None:
                self.error("unknown-fact", f"the plan's {what} '{fact_id}' is not a declared fact", plan.span,
                           hint=suggest(fact_id, self.facts))
            elif not isinstance(fact.type, ir.DateType):
                self.error("type-mismatch", f"the plan's {what} '{fact_id}' must be a date, "
                           f"not {ir.describe_type(fact.type)}", plan.span)
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

    def _check_safety(self, safety: ir.Safety) -> ir.Safety:
        return dataclasses.replace(safety, provenance=self._provenance(safety.provenance, None, safety.span),
                                   condition=self._condition(safety.condition))

    def _check_scenario(self, scenario: ir.Scenario, rules: dict, sites: set[str], plans: dict) -> None:
        raw = {}
        positions = {}
        for given in scenario.given:
            if given.fact in raw:
                self.error("case-duplicate-fact", f"the fact '{given.fact}' is given twice", given.span)
            raw[given.fact] = given.value
            positions[given.fact] = given.span
        _, problems = validate_case(raw, self.facts, name=scenario.span.file if scenario.span else "<scenario>",
                                    positions=positions)
        self.diagnostics.extend(problems)
        for expect in scenario.expectations:
            if expect.kind in ("recommend", "source_recommends"):
                rule = rules.get(expect.target)
                if not isinstance(rule, ir.Recommend):
                    self.error("unknown-rule", f"no recommendation '{expect.target}' is declared", expect.span,
                               hint=suggest(expect.target, [k for k, v in rules.items()
                                                            if isinstance(v, ir.Recommend)]))
            elif expect.kind == "warning" and "." in expect.target:
                plan_id, step_id = expect.target.split(".", 1)
                if step_id not in {s.id for s in getattr(plans.get(plan_id), "steps", ())}:
                    self.error("unknown-rule", f"no plan step '{expect.target}' is declared", expect.span,
                               hint="a plan's timing warning is named PLAN.STEP")
            elif expect.kind == "warning":
                rule = rules.get(expect.target)
                if not isinstance(rule, (ir.Warn, ir.Safety)):
                    self.error("unknown-rule", f"no warning or safety rule '{expect.target}' is declared",
                               expect.span, hint=suggest(expect.target, [k for k, v in rules.items()
                                                                         if isinstance(v, (ir.Warn, ir.Safety))]))
            elif expect.kind == "needs" and expect.target not in self.facts:
                self.error("unknown-fact", f"no fact '{expect.target}' is declared", expect.span,
                           hint=suggest(expect.target, self.facts))
            for source in (expect.source, expect.other):
                if source is not None:
                    self._source(source, expect.span, expect.span)
            if expect.site is not None and expect.site not in sites:
                self.error("unknown-site", f"no site '{expect.site}' is declared", expect.span,
                           hint=suggest(expect.site, sites) or "declare it with 'site " + expect.site + " \"label\" "
                           "when CONDITION'")

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
                    self.define_types[child] = _ANY
                elif not state.get(child):
                    state[child] = 1
                    path.append(child)
                    stack.append((child, iter(sorted(graph[child]))))

    def _define_type(self, name: str):
        """Resolve a definition once (memoised), so references elsewhere know its type."""
        if name in self._define_cache:
            return self._define_cache[name]
        # Enter a placeholder first: a cycle (already reported) must not recurse forever.
        self._define_cache[name] = (self.defines[name].expr, _ANY)
        if self.define_types.get(name) is _ANY:
            return self._define_cache[name]
        expr, typ = self._expr(self.defines[name].expr)
        self._define_cache[name] = (expr, typ)
        self.define_types[name] = typ
        return expr, typ

    # ---- expressions ----------------------------------------------------------------
    def _condition(self, expr: ir.Expr) -> ir.Expr:
        resolved, typ = self._expr(expr)
        self._expect_bool(typ, expr, "a condition")
        return resolved

    def _expect_bool(self, typ, expr, what: str) -> None:
        if typ is not _ANY and not isinstance(typ, ir.BoolType):
            self.error("type-mismatch", f"{what} must be true or false, but this is {_describe(typ)}",
                       getattr(expr, "span", None), hint="compare it with something, e.g. 'x = value'")

    def _expr(self, expr: ir.Expr, expected: object = None):
        """The resolved expression and its type; `expected` types a bare enum value."""
        match expr:
            case ir.BoolLit():
                return expr, ir.BoolType()
            case ir.NumberLit(value=value, unit=unit):
                if unit is not None and unit not in NUMBER_UNITS:
                    self.error("unknown-unit", f"'{unit}' is not a unit the language knows", expr.span,
                               hint=suggest(unit, NUMBER_UNITS | set(DURATION_UNITS)))
                    return expr, _ANY
                return expr, _Literal(ir.NumberType(integer=isinstance(value, int), unit=unit))
            case ir.DurationLit():
                return expr, ir.DurationType()
            case ir.DateLit():
                return expr, ir.DateType()
            case ir.SetLit():
                return expr, _SetLiteral(expr.values)
            case ir.Name(id=name):
                return self._name(expr, name, expected)
            case ir.FactRef(id=name):
                return expr, self.facts[name].type
            case ir.DefineRef(id=name):
                return expr, self._define_type(name)[1]
            case ir.EnumLit():
                return expr, expected or _ANY
            case ir.And(operands=ops) | ir.Or(operands=ops):
                resolved = []
                for op in ops:
                    r, t = self._expr(op)
                    self._expect_bool(t, op, f"each side of '{'and' if isinstance(expr, ir.And) else 'or'}'")
                    resolved.append(r)
                return dataclasses.replace(expr, operands=tuple(resolved)), ir.BoolType()
            case ir.Not(operand=op):
                r, t = self._expr(op)
                self._expect_bool(t, op, "what 'not' negates")
                return dataclasses.replace(expr, operand=r), ir.BoolType()
            case ir.Compare():
                return self._compare(expr)
            case ir.InRange(operand=op, interval=interval):
                r, t = self._expr(op)
                self._check_range_operand(t, interval, expr)
                return dataclasses.replace(expr, operand=r), ir.BoolType()
            case ir.Member():
                return self._member(expr)
            case ir.IsKnown(operand=op):
                r, _ = self._expr(op)
                if not isinstance(r, (ir.FactRef, ir.DefineRef)) and not _reads_any(r):
                    self.error("type-mismatch", "'is known' asks about a fact or definition, not a constant",
                               expr.span)
                return dataclasses.replace(expr, operand=r), ir.BoolType()
            case ir.Arith():
                return self._arith(expr)
            case ir.Negate(operand=op):
                r, t = self._expr(op)
                base = _base(t)
                if t is not _ANY and not isinstance(base, (ir.NumberType, ir.DurationType)):
                    self.error("type-mismatch", f"only numbers and durations can be negated, not {_describe(t)}",
                               expr.span)
                    return dataclasses.replace(expr, operand=r), _ANY
                return dataclasses.replace(expr, operand=r), t
        raise AssertionError(f"check misses {type(expr).__name__}")

    def _name(self, expr: ir.Name, name: str, expected):
        if name in self.facts:
            return ir.FactRef(id=name, span=expr.span), self.facts[name].type
        if name in self.defines:
            return ir.DefineRef(id=name, span=expr.span), self._define_type(name)[1]
        if expected is _ANY:
            return expr, _ANY  # the other side is already in error; one message is enough
        values = _enum_values(expected)
        if values is not None:
            if name in values:
                return ir.EnumLit(value=name, span=expr.span), expected
            self.error("unknown-enum-value", f"'{name}' is not one of the values {{{', '.join(values)}}}",
                       expr.span, hint=suggest(name, values))
            return expr, _ANY
        self.error("unknown-fact", f"no fact or definition '{name}' is declared", expr.span,
                   hint=suggest(name, list(self.facts) + list(self.defines))
                   or "declare it with 'fact " + name + " : <type>'")
        return expr, _ANY

    def _compare(self, expr: ir.Compare):
        left, right = expr.left, expr.right
        # Resolve the side that is not a bare enum value first, so the other can be typed by it.
        def bare(e) -> bool:
            return isinstance(e, ir.Name) and e.id not in self.facts and e.id not in self.defines
        if bare(left) and not bare(right):
            r_right, t_right = self._expr(right)
            r_left, t_left = self._expr(left, expected=_base(t_right))
        else:
            r_left, t_left = self._expr(left)
            r_right, t_right = self._expr(right, expected=_base(t_left))
        resolved = dataclasses.replace(expr, left=r_left, right=r_right)
        if _ANY in (t_left, t_right):
            return resolved, ir.BoolType()
        a, b = _base(t_left), _base(t_right)
        ordered = expr.op in ("<", "<=", ">", ">=")
        if {type(a), type(b)} == {ir.NumberType, ir.DurationType}:
            self.error("unit-mismatch", f"cannot compare {_describe(t_left)} with {_describe(t_right)}",
                       expr.span, hint=_compare_hint(t_left, t_right))
        elif type(a) is not type(b):
            self.error("type-mismatch", f"cannot compare {_describe(t_left)} with {_describe(t_right)}",
                       expr.span, hint=_compare_hint(t_left, t_right))
        elif isinstance(a, ir.NumberType):
            self._units(t_left, t_right, expr, "compare")
        elif ordered and isinstance(a, (ir.BoolType, ir.EnumType, ir.SetType)):
            self.error("type-mismatch", f"'{expr.op}' orders numbers, dates and durations, "
                       f"not {_describe(t_left)}", expr.span, hint="use '=' or '!='")
        elif isinstance(a, ir.EnumType) and not set(a.values) & set(b.values):
            self.error("type-mismatch", f"cannot compare {_describe(t_left)} with {_describe(t_right)}: "
                       "they share no value", expr.span)
        return resolved, ir.BoolType()

    def _units(self, t_left, t_right, expr, verb: str) -> None:
        a, b = _base(t_left), _base(t_right)
        # A bare number takes the unit of the other side; two units must agree.
        if a.unit == b.unit:
            return
        if (isinstance(t_left, _Literal) and a.unit is None) or (isinstance(t_right, _Literal) and b.unit is None):
            return
        self.error("unit-mismatch", f"cannot {verb} {_describe_unit(a)} with {_describe_unit(b)}", expr.span,
                   hint="give both sides the same unit")

    def _check_range_operand(self, t, interval: ir.Interval, expr) -> None:
        if t is _ANY:
            return
        base = _base(t)
        if isinstance(base, ir.NumberType):
            if interval.unit in DURATION_UNITS:
                self.error("unit-mismatch", f"cannot compare {_describe_unit(base)} with a range of durations",
                           expr.span)
            elif interval.unit is not None and base.unit != interval.unit:
                self.error("unit-mismatch", f"cannot compare {_describe_unit(base)} with a range in "
                           f"'{interval.unit}'", expr.span, hint="give both sides the same unit")
        elif isinstance(base, ir.DurationType):
            if interval.unit not in DURATION_UNITS:
                self.error("unit-mismatch", "a duration is compared with a range that is not of durations",
                           expr.span, hint="write the bounds like '11 days'")
        else:
            self.error("type-mismatch", f"a range holds numbers or durations, not {_describe(t)}", expr.span)

    def _member(self, expr: ir.Member):
        collection, t_coll = self._expr(expr.collection)
        if t_coll is not _ANY and not isinstance(_base(t_coll), (ir.SetType, _SetLiteral)):
            self.error("type-mismatch", f"'in' needs a set on its right, not {_describe(t_coll)}",
                       expr.collection.span)
            element, _ = self._expr(expr.element)
            return dataclasses.replace(expr, element=element, collection=collection), ir.BoolType()
        if isinstance(t_coll, ir.SetType):
            element, t_el = self._expr(expr.element, expected=ir.EnumType(values=t_coll.values))
            if t_el is not _ANY and not isinstance(_base(t_el), ir.EnumType):
                self.error("type-mismatch", f"a set of values holds values, not {_describe(t_el)}",
                           expr.element.span)
        else:
            element, t_el = self._expr(expr.element)
            base = _base(t_el)
            if t_el is not _ANY:
                if not isinstance(base, ir.EnumType):
                    self.error("type-mismatch", f"'in {{...}}' tests an enum value, not {_describe(t_el)}",
                               expr.span)
                else:
                    for value in collection.values:
                        if value not in base.values:
                            self.error("unknown-enum-value", f"'{value}' is not one of the values "
                                       f"{{{', '.join(base.values)}}}", collection.span,
                                       hint=suggest(value, base.values))
        return dataclasses.replace(expr, element=element, collection=collection), ir.BoolType()

    def _arith(self, expr: ir.Arith):
        r_left, t_left = self._expr(expr.left)
        r_right, t_right = self._expr(expr.right)
        resolved = dataclasses.replace(expr, left=r_left, right=r_right)
        if _ANY in (t_left, t_right):
            return resolved, _ANY
        a, b = _base(t_left), _base(t_right)
        op = expr.op
        match a, b:
            case ir.NumberType(), ir.NumberType():
                if op in "+-":
                    self._units(t_left, t_right, expr, "add" if op == "+" else "subtract")
                    unit = a.unit or b.unit
                elif op == "*":
                    unit = a.unit if b.unit is None else (b.unit if a.unit is None else None)
                else:
                    unit = a.unit if b.unit is None else (None if a.unit == b.unit else None)
                integer = a.integer and b.integer and op != "/"
                typ = ir.NumberType(integer=integer, unit=unit)
                if isinstance(t_left, _Literal) and isinstance(t_right, _Literal):
                    typ = _Literal(typ)
                return dataclasses.replace(resolved, kind="number"), typ
            case ir.DateType(), ir.DurationType() if op in "+-":
                return dataclasses.replace(resolved, kind="date_plus" if op == "+" else "date_minus"), ir.DateType()
            case ir.DurationType(), ir.DateType() if op == "+":
                return dataclasses.replace(resolved, kind="date_plus", left=r_right, right=r_left), ir.DateType()
            case ir.DateType(), ir.DateType() if op == "-":
                return dataclasses.replace(resolved, kind="date_diff"), ir.DurationType()
            case ir.DurationType(), ir.DurationType() if op in "+-":
                return dataclasses.replace(resolved, kind="duration"), ir.DurationType()
            case ir.NumberType(), ir.DurationType() | ir.DateType() if op in "+-":
                self.error("unit-mismatch", f"cannot {'add' if op == '+' else 'subtract'} "
                           f"{_describe_unit(a)} and {_describe(t_right)}", expr.span,
                           hint="write the number with a unit of time, e.g. '6 weeks'")
                return resolved, _ANY
            case ir.DurationType() | ir.DateType(), ir.NumberType() if op in "+-":
                self.error("unit-mismatch", f"cannot {'add' if op == '+' else 'subtract'} "
                           f"{_describe(t_left)} and {_describe_unit(b)}", expr.span,
                           hint="write the number with a unit of time, e.g. '6 weeks'")
                return resolved, _ANY
        self.error("type-mismatch", f"cannot apply '{op}' to {_describe(t_left)} and {_describe(t_right)}",
                   expr.span)
        return resolved, _ANY


@dataclass(frozen=True, slots=True)
class _Literal:
    """The type of a literal number: it may take the unit of what it is compared with."""

    type: ir.NumberType


@dataclass(frozen=True, slots=True)
class _SetLiteral:
    values: tuple[str, ...]


def _base(t):
    return t.type if isinstance(t, _Literal) else t


def _enum_values(t) -> tuple[str, ...] | None:
    match t:
        case ir.EnumType(values=values) | ir.SetType(values=values):
            return values
    return None


def _describe(t) -> str:
    if t is _ANY:
        return "an erroneous expression"
    if isinstance(t, _SetLiteral):
        return "a set of values"
    base = _base(t)
    if isinstance(base, ir.NumberType):
        return "a number" + (f" in '{base.unit}'" if base.unit else "")
    if isinstance(base, ir.DurationType):
        return "a duration (days, weeks or months)"
    if isinstance(base, ir.EnumType):
        return "a value of " + ir.describe_type(base)
    if isinstance(base, ir.BoolType):
        return "a true/false value"
    if isinstance(base, ir.SetType):
        return "a " + ir.describe_type(base)
    return "a " + ir.describe_type(base)


def _describe_unit(t: ir.NumberType) -> str:
    return f"a number in '{t.unit}'" if t.unit else "a number without unit"


def _compare_hint(t_left, t_right) -> str | None:
    a, b = _base(t_left), _base(t_right)
    if isinstance(a, ir.EnumType) or isinstance(b, ir.EnumType):
        enum = a if isinstance(a, ir.EnumType) else b
        return "compare it with one of its values: " + ", ".join(enum.values)
    if {type(a), type(b)} == {ir.NumberType, ir.DurationType}:
        return "a duration compares only with a duration, and a number only with a number of the same unit"
    return None


def _names_in(expr) -> set[str]:
    """Every bare name an unresolved expression mentions."""
    return {node.id for node in ir.walk(expr) if isinstance(node, ir.Name)}


def _reads_any(expr) -> bool:
    return any(isinstance(node, (ir.FactRef, ir.DefineRef)) for node in ir.walk(expr))
