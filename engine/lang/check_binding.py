"""Checking the FHIR bindings of facts: the part of `check` that knows about FHIR.

Takes the declared facts and code systems and returns the facts with each binding's codes
resolved to their system URLs, plus diagnostics: a resource type FHIR R4 does not have, a
code system alias no one declared, a map onto a value the fact does not allow, a `pick`
on a fact that is not a date. A FHIRPath expression that does not parse is found earlier, by
`lower` (`fhirpath_problem`, here): once per change of its file, since a parse is cached, and
the FHIRPath parser is slow to start. It reads no bundle: that is `inputs/fhir.py`.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping

from . import ir
from .diagnostics import Diagnostic, suggest

# The code systems bindings name most, as mCODE's FSH aliases write them.
BUILTIN_CODE_SYSTEMS: dict[str, str] = {
    "SCT": "http://snomed.info/sct",
    "LNC": "http://loinc.org",
    "HGNC": "http://www.genenames.org",
    "RXN": "http://www.nlm.nih.gov/research/umls/rxnorm",
    "ATC": "http://www.whocc.no/atc",
    "UCUM": "http://unitsofmeasure.org",
    "ICD10CM": "http://hl7.org/fhir/sid/icd-10-cm",
}

# The FHIR R4 resource types a binding may read: the clinical ones mCODE profiles, and their kin.
RESOURCE_TYPES = frozenset({
    "Patient", "Condition", "Observation", "Procedure", "MedicationRequest", "MedicationAdministration",
    "MedicationStatement", "ServiceRequest", "DiagnosticReport", "Specimen", "CarePlan", "Encounter",
    "AllergyIntolerance", "FamilyMemberHistory", "ClinicalImpression", "RiskAssessment", "Goal",
    "ImagingStudy", "Immunization", "DeviceRequest", "NutritionOrder", "BodyStructure"})

PICKS = ("earliest", "latest")


def check_bindings(facts: Mapping[str, ir.Fact], systems: Mapping[str, ir.CodeSystem]
                   ) -> tuple[dict[str, ir.Fact], list[Diagnostic]]:
    """The facts with their bindings' codes resolved; diagnostics for what cannot be read."""
    urls = dict(BUILTIN_CODE_SYSTEMS)
    urls.update({name: cs.url for name, cs in systems.items()})
    problems: list[Diagnostic] = []
    out = {}
    for name, fact in facts.items():
        if fact.bindings:
            fact = dataclasses.replace(fact, bindings=tuple(_binding(fact, b, urls, problems) for b in fact.bindings))
        out[name] = fact
    return out, problems


def check_replace(safety: ir.Safety, facts: Mapping[str, ir.Fact], systems: Mapping[str, ir.CodeSystem]
                  ) -> tuple[ir.Replace | None, list[Diagnostic]]:
    """A safety rule's `replace VALUE with ...`, checked against its (checked) condition: VALUE is
    a value the condition tests in a set fact (`VALUE in FACT`), each replacing value is another
    value of that fact that a binding maps a code onto (else nothing could be ordered), and each
    code's system is known. Returns the clause with its fact and code URLs filled in."""
    r = safety.replace
    if r is None:
        return None, []
    problems: list[Diagnostic] = []
    tested = sorted({fact for value, fact in _members(safety.condition) if value == r.value})
    if not tested:
        problems.append(Diagnostic(
            "invalid-replacement", f"the safety rule '{safety.id}' does not test '{r.value} in' a fact: "
            "there is no order of it to replace", r.span,
            hint="replace a value the rule's 'when' tests, as in 'when anti_egfr in proposed_treatment'"))
        return r, problems
    fact = facts[tested[0]]
    allowed = fact.type.values if isinstance(fact.type, ir.SetType) else ()
    coded = {target for b in fact.bindings for _, target in b.map}
    for value in r.values:
        if value not in allowed:
            problems.append(Diagnostic("invalid-replacement", f"'{value}' is not a value of '{fact.id}'", r.span,
                                       hint=suggest(value, allowed) or "one of " + ", ".join(map(str, allowed))))
        elif value == r.value:
            problems.append(Diagnostic("invalid-replacement", f"'{value}' cannot replace itself", r.span))
        elif value not in coded:
            problems.append(Diagnostic(
                "invalid-replacement", f"no FHIR binding of '{fact.id}' maps a code onto '{value}': an order "
                "of it could not be written", r.span, hint=f"add a code for it to a 'map' of '{fact.id}'"))
    urls = dict(BUILTIN_CODE_SYSTEMS)
    urls.update({name: cs.url for name, cs in systems.items()})
    codings = []
    for coding, text in r.codings:
        if coding.system not in urls:
            problems.append(Diagnostic("unknown-code-system", f"no code system '{coding.system}' is declared",
                                       coding.span, hint=suggest(coding.system, urls)))
        else:
            coding = dataclasses.replace(coding, url=urls[coding.system])
        codings.append((coding, text))
    return dataclasses.replace(r, fact=fact.id, codings=tuple(codings)), problems


def _members(expr) -> list[tuple[str, str]]:
    """The (value, fact) pairs of `VALUE in FACT` anywhere in a checked expression."""
    found: list[tuple[str, str]] = []
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, ir.Member) and isinstance(node.collection, ir.FactRef) \
                and isinstance(node.element, ir.EnumLit):
            found.append((node.element.value, node.collection.id))
        if dataclasses.is_dataclass(node):
            for f in dataclasses.fields(node):
                value = getattr(node, f.name)
                stack.extend(v for v in (value if isinstance(value, tuple) else (value,))
                             if dataclasses.is_dataclass(v))
    return found


def _binding(fact: ir.Fact, b: ir.Binding, urls: dict[str, str], problems: list[Diagnostic]) -> ir.Binding:
    def error(code: str, message: str, span=None, hint=None) -> None:
        problems.append(Diagnostic(code, message, span or b.span, hint=hint))

    def resolve(c: ir.Coding) -> ir.Coding:
        if c.system not in urls:
            error("unknown-code-system", f"no code system '{c.system}' is declared", c.span,
                  hint=suggest(c.system, urls) or f"declare it with 'codesystem {c.system} \"URL\"'")
            return c
        return dataclasses.replace(c, url=urls[c.system])

    if b.resource not in RESOURCE_TYPES:
        error("invalid-binding", f"'{b.resource}' is not a FHIR R4 resource type a binding can read",
              hint=suggest(b.resource, RESOURCE_TYPES) or "one of " + ", ".join(sorted(RESOURCE_TYPES)))
    t = fact.type
    allowed: tuple = ()
    match t:
        case ir.EnumType(values=values) | ir.SetType(values=values):
            allowed = values
        case ir.BoolType():
            allowed = (True, False)
    targets = [target for _, target in b.map] + ([b.otherwise] if b.otherwise is not None else [])
    if targets and not allowed:
        error("invalid-binding", f"'{fact.id}' is {ir.describe_type(t)}: a map translates codes into the "
              "values of an enum, a set or a yes-no fact", hint="read the value with 'value \"FHIRPath\"'")
    for target in targets:
        if allowed and target not in allowed:
            shown = ("true" if target else "false") if isinstance(target, bool) else f"'{target}'"
            error("unknown-enum-value", f"{shown} is not a value of '{fact.id}'",
                  hint=suggest(str(target), [str(v) for v in allowed])
                  or "expected one of " + ", ".join(str(v).lower() for v in allowed))
    if b.pick is not None and (b.pick not in PICKS or not isinstance(t, ir.DateType)):
        error("invalid-binding", f"'pick {b.pick}' chooses among dates: 'pick earliest' or 'pick latest' "
              f"on a date fact, and '{fact.id}' is {ir.describe_type(t)}")
    if isinstance(t, (ir.EnumType, ir.SetType)) and not targets and b.value is None:
        error("invalid-binding", f"the binding gives no way to read a value of '{fact.id}'",
              hint="add 'map SYSTEM#CODE -> VALUE, ...' or 'value \"FHIRPath\"'")
    return dataclasses.replace(b, codes=tuple(resolve(c) for c in b.codes),
                               map=tuple((resolve(c), target) for c, target in b.map))


@functools.lru_cache(maxsize=512)
def fhirpath_problem(text: str) -> str | None:
    """Why a FHIRPath expression does not parse, or None (fhirpathpy's parser)."""
    # fhirpathpy's own parse() ignores syntax errors; its ANTLR parser, with a listener that
    # keeps them, does not.
    from antlr4 import CommonTokenStream, InputStream
    from antlr4.error.ErrorListener import ErrorListener
    from fhirpathpy.parser.generated.FHIRPathLexer import FHIRPathLexer
    from fhirpathpy.parser.generated.FHIRPathParser import FHIRPathParser

    found: list[str] = []

    class _Keep(ErrorListener):
        def syntaxError(self, recognizer, offending, line, column, msg, e):  # noqa: N802 - ANTLR's name
            found.append(f"column {column + 1}: {msg}")

    lexer = FHIRPathLexer(InputStream(text))
    lexer.removeErrorListeners()
    lexer.addErrorListener(_Keep())
    parser = FHIRPathParser(CommonTokenStream(lexer))
    parser.removeErrorListeners()
    parser.addErrorListener(_Keep())
    parser.expression()
    if not found and parser.getCurrentToken().type != -1:  # text left over after an expression
        found.append(f"column {parser.getCurrentToken().column + 1}: unexpected "
                     f"'{parser.getCurrentToken().text}'")
    return found[0] if found else None
