"""Phase 2, lower: a Lark parse tree -> a `RuleFile` of IR declarations, plus diagnostics.

Takes the tree `parse` produced for one file and builds frozen IR nodes carrying spans.
Clauses may come in any order and on any line of their block; lowering checks that each
declaration has the clauses it needs, none twice, and none that belong elsewhere. It does
not resolve names or types (that is `check`), nor follow includes (that is `load`).
Expressions and fact types are lowered by `lower_expr.LoweringBase`, which this extends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from lark import Token, Tree, v_args

from . import ir
from .check_binding import fhirpath_problem
from .diagnostics import Diagnostic, Span
from .lower_expr import LoweringBase, Quantity, number_text

RELATIONS = ("concordant", "complementary", "conflicting", "silent")

@dataclass(frozen=True, slots=True)
class _Clause:
    name: str
    value: Any
    span: Span


_FIRST = object()  # the `first` marker of a decision


def lower(path: str, tree: Tree) -> tuple[ir.RuleFile, list[Diagnostic]]:
    builder = _Lowering(path)
    declarations = builder.transform(tree)
    return ir.RuleFile(path=path, declarations=tuple(declarations)), builder.diagnostics


def _unquote(token: Token) -> str:
    text = str(token)
    if text.startswith('"""'):
        body = text[3:-3]
        body = re.sub(r"[ \t]*\r?\n[ \t]*", " ", body.strip())
    else:
        body = text[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


def _map_target(target) -> str | bool:
    """What a map's code stands for: an enum or set value, or true / false for a yes-no fact."""
    return target.id if isinstance(target, ir.Name) else target.value


class _Lowering(LoweringBase):
    # ---- clause helpers -------------------------------------------------------------
    def clauses(self, kind: str, items: list, allowed: set[str]) -> dict[str, _Clause]:
        found: dict[str, _Clause] = {}
        for item in items:
            if not isinstance(item, _Clause):
                continue
            if item.name in ("waive", "fhir") and item.name in allowed:  # any number of these
                previous = found.get(item.name)
                found[item.name] = _Clause(item.name, (previous.value if previous else ()) + (item.value,),
                                           item.span)
                continue
            if item.name not in allowed:
                self.error("invalid-clause", f"'{item.name}' does not belong in a {kind}", item.span,
                           hint="a " + kind + " takes: " + ", ".join(sorted(allowed)))
            elif item.name in found:
                self.error("duplicate-clause", f"'{item.name}' is given twice in this {kind}", item.span,
                           hint=f"keep one '{item.name}'")
            else:
                found[item.name] = item
        return found

    def require(self, kind: str, ident: str, found: dict[str, _Clause], names: tuple[str, ...],
                span: Span) -> bool:
        missing = [n for n in names if n not in found]
        for name in missing:
            self.error("missing-clause", f"the {kind} '{ident}' has no '{name}'", span,
                       hint=f"add a line '{name} ...' beneath it")
        return not missing

    @staticmethod
    def value(found: dict[str, _Clause], name: str, default=None):
        return found[name].value if name in found else default

    # ---- clauses --------------------------------------------------------------------
    @staticmethod  # a factory of handlers, used in the class body
    def _clause(name: str, convert: Callable[[Any, Any], Any] = lambda self, v: v) -> Callable[..., _Clause]:
        @v_args(meta=True)
        def handler(self, meta, children):
            if len(children) == 1:
                value = children[0]
            else:
                value = children
            return _Clause(name, convert(self, value), self.span(meta))
        return handler

    version = _clause("version", lambda self, v: _unquote(v))
    reference = _clause("ref", lambda self, v: int(v))
    label = _clause("label", lambda self, v: _unquote(v))
    question = _clause("question", lambda self, v: _unquote(v))
    section = _clause("section", lambda self, v: _unquote(v))
    quote = _clause("quote", lambda self, v: _unquote(v))
    instead = _clause("instead", lambda self, v: _unquote(v))
    source_ref = _clause("source", lambda self, v: str(v))
    @v_args(meta=True)
    def action(self, meta, children):
        return _Clause("action", tuple(str(c) for c in children), self.span(meta))

    @v_args(meta=True)
    def replace(self, meta, children):
        value, *targets = children
        values = tuple(t for t in targets if isinstance(t, str))
        codings = tuple(t for t in targets if isinstance(t, tuple))
        return _Clause("replace", ir.Replace(value=str(value), values=values, codings=codings,
                                             span=self.span(meta)), self.span(meta))

    def replace_value(self, children):
        return str(children[0])

    def replace_code(self, children):
        return (self._coding(children[0]), _unquote(children[1]) if len(children) > 1 else None)

    @v_args(meta=True)
    def sites(self, meta, children):
        return _Clause("site", tuple(str(c) for c in children), self.span(meta))
    anchor = _clause("anchor", lambda self, v: str(v))
    actual = _clause("actual", lambda self, v: str(v))
    guard = _clause("when", lambda self, v: self._expr_of(v))
    scope = _clause("for", lambda self, v: self._expr_of(v))
    judgement = _clause("judgement", lambda self, v: _unquote(v))

    @v_args(meta=True)
    def note(self, meta, children):
        return _Clause("note", _unquote(children[0]), self.span(meta))

    @v_args(meta=True)
    def waive(self, meta, children):
        code, reason = children
        # Codes are kebab-case; a name cannot hold '-', so `waive unused_fact` names 'unused-fact'.
        return _Clause("waive", ir.Waiver(code=str(code).replace("_", "-"), reason=_unquote(reason),
                                          span=self.token_span(code)),
                       self.span(meta))

    def first(self, children):
        return _FIRST

    @v_args(meta=True)
    def refs(self, meta, children):
        return _Clause("refs", tuple(int(c) for c in children), self.span(meta))

    @v_args(meta=True)
    def severity(self, meta, children):
        word = str(children[0])
        if word not in ir.SEVERITIES:
            self.error("invalid-value", f"unknown severity '{word}'", self.token_span(children[0]),
                       hint="a severity is info, warning or critical")
        return _Clause("severity", word, self.span(meta))

    @v_args(meta=True)
    def modality(self, meta, children):  # pragma: no cover - every alternative is aliased
        raise AssertionError("modality without alias")

    @staticmethod  # a factory of handlers, used in the class body
    def _modality(name: str) -> Callable[..., _Clause]:
        @v_args(meta=True)
        def handler(self, meta, children):
            return _Clause("modality", name, self.span(meta))
        return handler

    strongly_recommended = _modality("strongly_recommended")
    recommended = _modality("recommended")
    option = _modality("option")
    not_recommended = _modality("not_recommended")
    avoid = _modality("avoid")

    @v_args(meta=True)
    def then(self, meta, children):
        return _Clause("then", tuple(children), self.span(meta))

    @v_args(meta=True)
    def choose(self, meta, children):
        return _Clause("choose", tuple(children), self.span(meta))

    def node_target(self, children):
        return str(children[0])

    def end_target(self, children):
        return None

    # ---- declarations ---------------------------------------------------------------
    def start(self, children):
        return [c for c in children if c is not None]

    @v_args(meta=True)
    def include(self, meta, children):
        return ir.Include(path=_unquote(children[0]), span=self.span(meta))

    @v_args(meta=True)
    def source_decl(self, meta, children):
        ident, title, *rest = children
        found = self.clauses("source", rest, {"version", "ref", "note"})
        return ir.Source(id=str(ident), title=_unquote(title), version=self.value(found, "version"),
                         ref=self.value(found, "ref"), note=self.value(found, "note"),
                         span=self.token_span(ident))

    @v_args(meta=True)
    def fact_decl(self, meta, children):
        ident, fact_type, *rest = children
        found = self.clauses("fact", rest, {"label", "question", "note", "waive", "fhir", "judgement"})
        label = self.value(found, "label") or str(ident).replace("_", " ")
        return ir.Fact(id=str(ident), type=fact_type, label=label,
                       question=self.value(found, "question"), note=self.value(found, "note"),
                       waivers=self.value(found, "waive", ()), bindings=self.value(found, "fhir", ()),
                       judgement=self.value(found, "judgement"),
                       span=self.token_span(ident))

    # ---- FHIR bindings (read by engine/inputs/fhir.py) --------------------------------
    @v_args(meta=True)
    def fhir_binding(self, meta, children):
        resource, *parts = children
        parts = [p for p in parts if isinstance(p, _Clause)]  # brackets are tokens
        found = self.clauses("FHIR binding", parts, {"profile", "code", "where", "value", "map", "pick", "note"})
        mapping = self.value(found, "map", ())
        otherwise = [target for coding, target in mapping if coding is None]
        if len(otherwise) > 1:
            self.error("duplicate-clause", "'otherwise' is given twice in this map", found["map"].span)
        for part in ("where", "value"):
            if part in found and (problem := fhirpath_problem(found[part].value)):
                self.error("fhirpath-syntax", f"the FHIRPath expression does not parse: {problem}", found[part].span,
                           hint="FHIRPath as in https://hl7.org/fhirpath; a string in it is in single quotes")
        binding = ir.Binding(resource=str(resource), profile=self.value(found, "profile"),
                             codes=self.value(found, "code", ()), where=self.value(found, "where"),
                             value=self.value(found, "value"),
                             map=tuple((c, t) for c, t in mapping if c is not None),
                             otherwise=otherwise[0] if otherwise else None, pick=self.value(found, "pick"),
                             note=self.value(found, "note"),
                             span=self.span(meta))
        return _Clause("fhir", binding, self.span(meta))

    def _coding(self, token: Token) -> ir.Coding:
        system, code = str(token).split("#", 1)
        return ir.Coding(system=system, code=code, span=self.token_span(token))

    binding_profile = _clause("profile", lambda self, v: _unquote(v))
    binding_where = _clause("where", lambda self, v: _unquote(v))
    binding_value = _clause("value", lambda self, v: _unquote(v))
    binding_pick = _clause("pick", lambda self, v: str(v))
    binding_note = _clause("note", lambda self, v: _unquote(v))

    @v_args(meta=True)
    def binding_code(self, meta, children):
        return _Clause("code", tuple(self._coding(c) for c in children), self.span(meta))

    @v_args(meta=True)
    def binding_maps(self, meta, children):
        return _Clause("map", tuple(children), self.span(meta))

    def binding_map(self, children):
        coding, target = children
        return (self._coding(coding), _map_target(target))

    def binding_otherwise(self, children):
        return (None, _map_target(children[0]))

    @v_args(meta=True)
    def code_system(self, meta, children):
        ident, url, *rest = children
        found = self.clauses("code system", rest, {"note"})
        return ir.CodeSystem(id=str(ident), url=_unquote(url), note=self.value(found, "note"),
                             span=self.token_span(ident))

    @v_args(meta=True)
    def define_decl(self, meta, children):
        ident, expr, *rest = children
        found = self.clauses("definition", rest, {"label", "source", "section", "refs", "quote", "note", "waive"})
        return ir.Define(id=str(ident), expr=self._expr_of(expr), label=self.value(found, "label"),
                         provenance=self._optional_provenance(found), waivers=self.value(found, "waive", ()),
                         span=self.token_span(ident))

    @v_args(meta=True)
    def site_decl(self, meta, children):
        ident, label, *rest = children
        found = self.clauses("site", rest, {"when", "note"})
        self.require("site", str(ident), found, ("when",), self.token_span(ident))
        return ir.Site(id=str(ident), label=_unquote(label),
                       condition=self.value(found, "when", ir.BoolLit(value=False)),
                       note=self.value(found, "note"), span=self.token_span(ident))

    @v_args(meta=True)
    def pathway(self, meta, children):
        ident, label, *rest = children
        found = self.clauses("pathway", [c for c in rest if isinstance(c, _Clause)],
                             {"source", "section", "note", "site"})
        nodes = tuple(c for c in rest if not isinstance(c, _Clause))
        return ir.Pathway(id=str(ident), label=_unquote(label), nodes=nodes, sites=self.value(found, "site", ()),
                          source=self.value(found, "source"), section=self.value(found, "section"),
                          note=self.value(found, "note"), span=self.token_span(ident))

    @v_args(meta=True)
    def decide(self, meta, children):
        ident, question, *lines = children
        first = bool(lines) and lines[0] is _FIRST
        lines = lines[1:] if first else lines
        branches = tuple(c for c in lines if isinstance(c, ir.Branch))
        found = self.clauses("decision", [c for c in lines if isinstance(c, _Clause)],
                             {"source", "section", "refs", "quote", "note", "waive"})
        if not branches:
            self.error("missing-clause", f"the decision '{ident}' has no branch", self.token_span(ident),
                       hint="add 'when CONDITION -> TARGET' lines, and 'otherwise -> TARGET'")
        seen_otherwise = None
        for branch in branches:
            if seen_otherwise is not None:
                self.error("syntax", "a branch follows 'otherwise'; it can never be taken",
                           branch.span, hint="'otherwise' must be the last branch of a decision")
                break
            if branch.condition is None:
                seen_otherwise = branch
        return ir.Decide(id=str(ident), question=_unquote(question), branches=branches,
                         provenance=self._optional_provenance(found), first=first,
                         waivers=self.value(found, "waive", ()), span=self.token_span(ident))

    @v_args(meta=True)
    def branch(self, meta, children):
        condition, target, *label = children
        return ir.Branch(condition=self._expr_of(condition), target=target,
                         label=_unquote(label[0]) if label else None, span=self.span(meta))

    @v_args(meta=True)
    def otherwise(self, meta, children):
        target, *label = children
        return ir.Branch(condition=None, target=target,
                         label=_unquote(label[0]) if label else None, span=self.span(meta))

    @v_args(meta=True)
    def step(self, meta, children):
        ident, label, *rest = children
        found = self.clauses("step", rest, {"then", "note", "choose"})
        if "then" in found and "choose" in found:
            self.error("duplicate-clause", "a step takes 'then' or 'choose', not both", found["choose"].span,
                       hint="'choose' lists alternatives; put what always follows in another step")
        return ir.Step(id=str(ident), label=_unquote(label),
                       then=self.value(found, "then", ()) or self.value(found, "choose", ()),
                       note=self.value(found, "note"), choice="choose" in found, span=self.token_span(ident))

    def _provenance(self, found: dict[str, _Clause]) -> ir.Provenance:
        source = found.get("source")
        return ir.Provenance(source=source.value if source else "", section=self.value(found, "section"),
                             quote=self.value(found, "quote"), refs=self.value(found, "refs", ()),
                             note=self.value(found, "note"),
                             source_span=source.span if source else None)

    def _optional_provenance(self, found: dict[str, _Clause]) -> ir.Provenance | None:
        if not found.keys() & {"source", "section", "refs", "quote", "note"}:
            return None
        return self._provenance(found)

    @v_args(meta=True)
    def recommend(self, meta, children):
        ident, label, *rest = children
        span = self.token_span(ident)
        found = self.clauses("recommendation", rest, {"action", "modality", "source", "section", "refs",
                                                      "quote", "note", "when", "then", "waive"})
        self.require("recommendation", str(ident), found, ("modality", "quote"), span)
        return ir.Recommend(id=str(ident), label=_unquote(label),
                            modality=self.value(found, "modality", "recommended"),
                            provenance=self._provenance(found), actions=self.value(found, "action", ()),
                            guard=self.value(found, "when"), then=self.value(found, "then", ()),
                            waivers=self.value(found, "waive", ()), span=span)

    @v_args(meta=True)
    def warn(self, meta, children):
        ident, label, *rest = children
        span = self.token_span(ident)
        found = self.clauses("warning", rest, {"severity", "source", "section", "refs", "quote",
                                               "note", "when", "then", "instead", "waive"})
        self.require("warning", str(ident), found, ("severity",), span)
        return ir.Warn(id=str(ident), label=_unquote(label), severity=self.value(found, "severity", "warning"),
                       provenance=self._provenance(found), guard=self.value(found, "when"),
                       instead=self.value(found, "instead"), then=self.value(found, "then", ()),
                       waivers=self.value(found, "waive", ()), span=span)

    @v_args(meta=True)
    def schedule(self, meta, children):
        return ir.Schedule(id=str(children[0]), span=self.token_span(children[0]))

    @v_args(meta=True)
    def safety(self, meta, children):
        ident, label, *rest = children
        span = self.token_span(ident)
        found = self.clauses("safety rule", rest, {"severity", "source", "section", "refs", "quote",
                                                   "note", "when", "instead", "replace", "waive"})
        self.require("safety rule", str(ident), found, ("when", "severity", "source", "quote"), span)
        return ir.Safety(id=str(ident), label=_unquote(label),
                         condition=self.value(found, "when", ir.BoolLit(value=False)),
                         severity=self.value(found, "severity", "warning"),
                         provenance=self._provenance(found), instead=self.value(found, "instead"),
                         replace=self.value(found, "replace"), waivers=self.value(found, "waive", ()), span=span)

    @v_args(meta=True)
    def finding(self, meta, children):
        ident, label, *rest = children
        span = self.token_span(ident)
        found = self.clauses("finding", rest, {"for", "when", "site", "source", "section", "refs", "quote", "note"})
        self.require("finding", str(ident), found, ("when", "source", "quote"), span)
        return ir.Finding(id=str(ident), label=_unquote(label),
                          condition=self.value(found, "when", ir.BoolLit(value=False)),
                          scope=self.value(found, "for"), sites=self.value(found, "site", ()),
                          provenance=self._provenance(found), span=span)

    @v_args(meta=True)
    def constraint(self, meta, children):
        ident, label, *rest = children
        span = self.token_span(ident)
        found = self.clauses("constraint", rest, {"when", "note"})
        self.require("constraint", str(ident), found, ("when",), span)
        return ir.Constraint(id=str(ident), label=_unquote(label),
                             condition=self.value(found, "when", ir.BoolLit(value=False)),
                             note=self.value(found, "note"), span=span)

    @v_args(meta=True)
    def plan(self, meta, children):
        ident, label, *rest = children
        span = self.token_span(ident)
        found = self.clauses("plan", [c for c in rest if isinstance(c, _Clause)],
                             {"anchor", "source", "section", "refs", "quote", "note"})
        self.require("plan", str(ident), found, ("anchor", "source"), span)
        steps = tuple(c for c in rest if isinstance(c, ir.PlanStep))
        return ir.Plan(id=str(ident), label=_unquote(label), anchor=self.value(found, "anchor", ""),
                       steps=steps, provenance=self._provenance(found), span=span)

    @v_args(meta=True)
    def plan_step(self, meta, children):
        ident, label, timing, *rest = children
        found = self.clauses("plan step", rest, {"actual", "note"})
        return ir.PlanStep(id=str(ident), label=_unquote(label), timing=timing,
                           actual=self.value(found, "actual"), note=self.value(found, "note"),
                           span=self.token_span(ident))

    @staticmethod
    def _relative(children) -> tuple[list, ir.Relative | None]:
        if children and isinstance(children[-1], ir.Relative):
            return children[:-1], children[-1]
        return children, None

    def at_offset(self, children):
        (q,), relative = self._relative(children)
        return ir.At(offset=self._duration(q), relative=relative)

    def about_offset(self, children):
        (q,), relative = self._relative(children)
        return ir.At(offset=self._duration(q), about=True, relative=relative)

    def latest(self, children):
        (q,), relative = self._relative(children)
        return ir.Latest(offset=self._duration(q), relative=relative)

    def window(self, children):
        quantities, relative = self._relative(children)
        start, end = (self._duration(q) for q in quantities)
        if end < start:
            self.error("invalid-range", "the window ends before it starts", quantities[1].span)
        return ir.Window(start=start, end=end, relative=relative)

    def before(self, children):
        return ir.Relative(step=str(children[0]), before=True)

    def after(self, children):
        return ir.Relative(step=str(children[0]), before=False)

    @v_args(meta=True)
    def scenario(self, meta: Any, children: list[Any]) -> ir.Scenario:
        ident, label, *lines = children
        given: tuple[ir.Given, ...] = ()
        for line in lines:
            if isinstance(line, tuple):
                if given:
                    self.error("duplicate-clause", "'given' is written twice in this scenario",
                               line[0].span if line else self.span(meta))
                given = line
        notes = [c for c in lines if isinstance(c, _Clause)]
        return ir.Scenario(id=str(ident), label=_unquote(label), given=given,
                           expectations=tuple(c for c in lines if isinstance(c, ir.Expectation)),
                           note=notes[0].value if notes else None, span=self.token_span(ident))

    def given(self, children):
        return tuple(children)

    @v_args(meta=True)
    def given_fact(self, meta, children):
        ident, value = children
        return ir.Given(fact=str(ident), value=self._raw_value(value), span=self.span(meta))

    def _raw_value(self, value):
        """A scenario's literal as a case file would write it, so both validate the same way."""
        match value:
            case Quantity(value=number, unit=None):
                return number
            case Quantity(value=number, unit=unit):
                return f"{number_text(number)} {unit}"
            case ir.DateLit(value=day):
                return day.isoformat()
            case ir.BoolLit(value=flag):
                return flag
            case ir.Name(id=word):
                return word
            case ir.SetLit(values=values):
                return tuple(values)
            case None:
                return None
        raise AssertionError(value)

    def unknown_literal(self, children):
        return None

    @v_args(meta=True)
    def expect(self, meta, children):
        negated = len(children) == 2
        kind, target, source, *rest = children[-1]
        other, site = rest if rest else (None, None)
        return ir.Expectation(kind=kind, target=target, negated=negated, source=source, other=other, site=site,
                              span=self.span(meta))

    def negation(self, children):
        return True

    def expect_recommend(self, children):
        return ("recommend", str(children[0]), None)

    def expect_warning(self, children):
        return ("warning", ".".join(str(c) for c in children), None)  # plan.step for a plan's timing

    def expect_needs(self, children):
        return ("needs", str(children[0]), None)

    def expect_finding(self, children):
        return ("finding", str(children[0]), None)

    def expect_option(self, children):
        return ("option", str(children[0]), None)

    def expect_contradiction(self, children):
        return ("contradiction", str(children[0]), None)

    def expect_source_recommends(self, children):
        return ("source_recommends", str(children[1]), str(children[0]))

    def expect_source_silent(self, children):
        return ("source_silent", None, str(children[0]), None, str(children[1]) if len(children) > 1 else None)

    def expect_relation(self, children):
        first, second, relation, site = (str(c) for c in children)
        if relation not in RELATIONS:
            self.error("invalid-value", f"unknown relation '{relation}'", self.token_span(children[2]),
                       hint="a relation is " + ", ".join(RELATIONS))
        return ("relation", relation, first, second, site)
