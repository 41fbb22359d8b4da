"""FHIR R4 input: a Bundle of (mCODE-shaped) resources -> a case, through the KB's bindings.

Takes a Bundle (parsed JSON) and the facts of a knowledge base; returns a `BundleCase`: the
typed values of every fact a binding could read, where each came from (resource type, id,
element), and the warnings met on the way. How a fact is read is declared beside the fact
(`fhir TYPE [profile, code, where, value, map, pick]`, lang/check_binding.py): this module
knows FHIR (bundles, references, CodeableConcepts, Quantities, value[x]) but no clinical
meaning. Every resource is validated against its FHIR R4B model (fhir.resources).

Bad input never crashes: not a Bundle, a resource without `resourceType`, an element of the
wrong type, or a value outside its fact's range is an error (`CaseError`, naming the
resource and the element); a code no map knows, a reference the bundle cannot resolve, and
two resources that disagree on a fact are warnings, and the fact concerned stays unknown.
It does not evaluate anything, nor fetch from a server (that is service/serve.py).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..lang import ir
from ..lang.diagnostics import CaseError, Diagnostic, Span
from ..evaluation.result import Result
from ..lang.fact_values import check_case
from .case import validate_case
from .fhir_model import (CACHE_SIZE, CODE_ELEMENT, RESOLVING, RESULTS, VALIDATED, codings_of, compiled, element_of,
                         model_of, plain, reference_of, references_of, bound_resource_types, prefetch_templates)

_CODE_ELEMENT = CODE_ELEMENT
_MEDICATION_REFERENCE = "medicationReference"
_PERCENT_UNITS = ("%", "percent")


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a fact's value was read: a resource and the element (FHIRPath) that held it."""

    resource_type: str
    id: str | None
    element: str

    @property
    def reference(self) -> str:
        return f"{self.resource_type}/{self.id}" if self.id else f"{self.resource_type} (no id)"

    def __str__(self) -> str:
        return f"{self.reference} {self.element}"

    def to_json(self) -> dict:
        return {"resource": self.reference, "resourceType": self.resource_type, "id": self.id,
                "element": self.element}


@dataclass(frozen=True)
class BundleCase:
    """What a bundle says through the bindings: typed values, their origins, and warnings."""

    values: dict[str, Any]
    origins: dict[str, tuple[Origin, ...]]
    warnings: tuple[Diagnostic, ...] = ()
    patient: str | None = None  # the Patient's id
    raw: dict[str, Any] = field(default_factory=dict)  # the values as a flat case file writes them


class SourcedResult(Result):
    """A `Result` whose case was read from FHIR: it also says where each fact came from.

    `origins` maps a fact to the resources and elements it was read from; `input_warnings`
    are the reader's warnings (codes no binding maps, conflicts, unresolved references). The
    JSON form adds both, and each trace step names the origins of the facts it read."""

    origins: Mapping[str, tuple[Origin, ...]]
    input_warnings: tuple[Diagnostic, ...]

    def to_json(self) -> dict:
        data = super().to_json()
        data["origins"] = {k: [o.to_json() for o in v] for k, v in sorted(self.origins.items())}
        data["input_warnings"] = [d.to_json() for d in self.input_warnings]
        trace = data["trace"]
        for i, step in enumerate(self.trace):
            read = {k: [o.to_json() for o in self.origins[k]] for k, _ in step.read if k in self.origins}
            if read:  # a step's JSON is shared between results (read-only): this one's, with its origins
                trace[i] = {**trace[i], "origins": read}
        return data


def with_origins(result: Result, bundle_case: BundleCase) -> SourcedResult:
    sourced = tuple.__new__(SourcedResult, result)
    sourced.origins = bundle_case.origins
    sourced.input_warnings = bundle_case.warnings
    return sourced


def is_bundle(data: Any) -> bool:
    return isinstance(data, Mapping) and data.get("resourceType") == "Bundle"


def looks_like_bundle(path: str | Path) -> bool:
    """Whether a case file is a FHIR resource: JSON naming a resourceType near its start."""
    if not str(path).lower().endswith(".json"):
        return False
    try:
        with open(path, encoding="utf-8") as handle:
            head = handle.read(4096)
    except (OSError, UnicodeDecodeError):
        return False
    return re.search(r'"resourceType"\s*:', head) is not None


def read_bundle_file(path: str | Path, facts: Mapping[str, ir.Fact]) -> BundleCase:
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CaseError([Diagnostic("file-not-found", f"cannot read the bundle: {exc.strerror or exc}",
                                    Span(name, 1, 1, 1, 1))]) from None
    except UnicodeDecodeError as exc:
        raise CaseError([Diagnostic("fhir-malformed", f"the bundle is not UTF-8 text (byte {exc.start})",
                                    Span(name, 1, 1, 1, 1))]) from None
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        line, col = (exc.lineno, exc.colno) if isinstance(exc, json.JSONDecodeError) else (1, 1)
        said = exc.msg if isinstance(exc, json.JSONDecodeError) else "it nests too deeply"
        flat = " (a FHIR bundle is JSON; a flat case in YAML is read by 'consilium eval', not here)" \
            if name.lower().endswith((".yaml", ".yml")) else ""
        raise CaseError([Diagnostic("fhir-malformed", f"the bundle is not valid JSON: {said}{flat}",
                                    Span(name, line, col, line, col + 1))]) from None
    return read_bundle(data, facts, name=name, text=text)


def with_facts(read: BundleCase, raw: Any, facts: Mapping[str, ir.Fact], *, name: str = "<facts>",
               positions: Mapping[str, Span] | None = None) -> BundleCase:
    """The bundle's case with facts given flat beside it: what FHIR does not carry, above all the
    team's judgements (a fact without a binding), as a flat case writes them (validated as one:
    CaseError). A fact the bundle also gives keeps its value when both agree; when they differ it
    stays unknown with a `fhir-conflict` warning naming both, never a silent pick. `null` adds nothing."""
    if not isinstance(raw, Mapping):
        raise CaseError([Diagnostic("case-not-mapping", "the facts given beside the bundle are an object of fact "
                                    "names and values", Span(name, 1, 1, 1, 1))])
    given = check_case(raw, facts, name=name, positions=positions)
    values, origins, flat = dict(read.values), dict(read.origins), dict(read.raw)
    warnings = list(read.warnings)
    for key, value in given.items():
        if key in values and _key(values[key]) != _key(value):
            where = ", ".join(str(o) for o in origins.get(key, ())) or "the bundle"
            warnings.append(Diagnostic(
                "fhir-conflict", f"'{key}' is {_show(read.raw.get(key, values[key]))} in {where} but {_show(raw[key])} "
                f"in {name}; it "
                "stays unknown", (positions or {}).get(key) or Span(name, 1, 1, 1, 1), severity="warning",
                hint="correct the record or the facts given beside it"))
            for kept in (values, origins, flat):
                kept.pop(key, None)
            continue
        values[key] = value
        flat.setdefault(key, raw[key])
    return BundleCase(values=values, origins=origins, warnings=tuple(warnings), patient=read.patient, raw=flat)


def read_bundle(data: Any, facts: Mapping[str, ir.Fact], *, name: str = "<bundle>",
                text: str | None = None) -> BundleCase:
    """The case a Bundle gives through the facts' bindings; raises CaseError for bad FHIR."""
    return _Reader(data, facts, name, text).read()


class _Reader:
    def __init__(self, data: Any, facts: Mapping[str, ir.Fact], name: str, text: str | None):
        self.data, self.facts, self.name, self.text = data, facts, name, text
        self.errors: list[Diagnostic] = []
        self.warnings: list[Diagnostic] = []
        self.resources: list[Mapping[str, Any]] = []
        self.index: dict[str, Mapping[str, Any]] = {}
        self.skipped: set[int] = set()  # resources about another patient
        self.digests: dict[int, str] = {}
        self.bundle_digest: str | None = None
        self.invalid: list[tuple[Mapping, list[str]]] = []  # resources that do not fit their model, and why

    # ---- diagnostics ---------------------------------------------------------------
    def _span(self, resource: Mapping | None = None) -> Span:
        """The line of the resource's id in the file, when the bundle was read from text."""
        if self.text and resource is not None and isinstance(resource.get("id"), str):
            match = re.search(r'"id"\s*:\s*"' + re.escape(resource["id"]) + '"', self.text)
            if match:
                line = self.text.count("\n", 0, match.start()) + 1
                column = match.start() - (self.text.rfind("\n", 0, match.start()) + 1) + 1
                return Span(self.name, line, column, line, column + match.end() - match.start())
        return Span(self.name, 1, 1, 1, 1)

    def error(self, code: str, message: str, resource: Mapping | None = None, hint: str | None = None) -> None:
        self.errors.append(Diagnostic(code, message, self._span(resource), hint=hint))

    def warn(self, code: str, message: str, resource: Mapping | None = None, hint: str | None = None,
             related: tuple = ()) -> None:
        self.warnings.append(Diagnostic(code, message, self._span(resource), severity="warning", hint=hint,
                                        related=related))

    # ---- the bundle ----------------------------------------------------------------
    def read(self) -> BundleCase:
        data = self.data
        if not isinstance(data, Mapping):
            self.error("fhir-malformed", "the input is not a FHIR resource (a JSON object)")
        elif "resourceType" not in data:
            self.error("fhir-malformed", "the input has no 'resourceType'",
                       hint='a bundle starts {"resourceType": "Bundle", "type": "collection", "entry": [...]}')
        elif data.get("resourceType") != "Bundle":
            self.error("fhir-malformed", f"the input is a {data.get('resourceType')!r}, not a Bundle",
                       hint="put the patient's resources in the 'entry' list of a Bundle")
        else:
            self._entries(data)
            self._judge_invalid()
        if self.errors:
            raise CaseError(self.errors + self.warnings)
        patient = self._patient()
        self._check_references()
        values, origins = self._facts()
        if self.errors:
            raise CaseError(self.errors + self.warnings)
        raw = dict(values)
        typed: dict[str, Any] = {}
        for key, value in raw.items():
            case, problems = validate_case({key: value}, self.facts, name=self.name)
            for d in problems:
                where = origins[key][0] if origins.get(key) else None
                resource = self.index.get(where.reference) if where else None
                self.error(d.code, (f"{where}: " if where else "") + d.message, resource, hint=d.hint)
            typed.update(case)
        if self.errors:
            raise CaseError(self.errors + self.warnings)
        return BundleCase(values=typed, origins={k: origins[k] for k in typed}, warnings=tuple(self.warnings),
                          patient=patient.get("id") if patient else None, raw=raw)

    def _entries(self, bundle: Mapping) -> None:
        entries = bundle.get("entry", [])
        if not isinstance(entries, list):
            self.error("fhir-malformed", "the bundle's 'entry' is not a list")
            return
        for number, entry in enumerate(entries):
            where = f"entry[{number}]"
            resource = entry.get("resource") if isinstance(entry, Mapping) else None
            if not isinstance(resource, Mapping):
                self.error("fhir-malformed", f"{where} holds no resource (an object under 'resource')")
                continue
            kind = resource.get("resourceType")
            if not isinstance(kind, str) or not kind:
                self.error("fhir-malformed", f"{where}.resource has no 'resourceType'", resource,
                           hint='every resource names its type, e.g. "resourceType": "Observation"')
                continue
            if not self._valid(resource, kind, where):
                continue
            self.resources.append(resource)
            if isinstance(resource.get("id"), str):
                self.index[f"{kind}/{resource['id']}"] = resource
            if isinstance(entry.get("fullUrl"), str):
                self.index[entry["fullUrl"]] = resource

    def _digest(self, resource: Mapping) -> str:
        """The resource's content, canonically: what the caches of validations and FHIRPath results key on."""
        key = id(resource)
        if key not in self.digests:
            text = json.dumps(resource, sort_keys=True, separators=(",", ":"), default=str)
            self.digests[key] = hashlib.sha256(text.encode()).hexdigest()
        return self.digests[key]

    def _bundle_digest(self) -> str:
        if self.bundle_digest is None:
            self.bundle_digest = hashlib.sha256("\n".join(self._digest(r) for r in self.resources).encode()).hexdigest()
        return self.bundle_digest

    def _valid(self, resource: Mapping, kind: str, where: str) -> bool:
        # A resource validated once (an EHR sends the same record at every chart opening) is not validated again.
        if (kind, self._digest(resource)) in VALIDATED:
            return True
        if self._validate(resource, kind, where):
            if len(VALIDATED) >= CACHE_SIZE:
                VALIDATED.clear()
            VALIDATED.add((kind, self._digest(resource)))
            return True
        return False

    def _validate(self, resource: Mapping, kind: str, where: str) -> bool:
        """Whether the resource fits its FHIR R4 model; what does not is kept for `_judge_invalid`."""
        model = model_of(kind)
        label = f"{kind}/{resource.get('id')}" if resource.get("id") else f"{where} ({kind})"
        if model is None:
            self.invalid.append((resource, [f"{label}: '{kind}' is not a FHIR R4 resource type"]))
            return False
        from pydantic import ValidationError
        try:
            model.model_validate(resource)
        except ValidationError as exc:
            problems = []
            for problem in exc.errors()[:5]:
                element = ".".join(str(p) for p in problem.get("loc", ()) if p != "__root__") or "(resource)"
                problems.append(f"{label}: element '{element}': {problem.get('msg')}")
            self.invalid.append((resource, problems))
            return False
        except Exception as exc:  # noqa: BLE001 - a model that cannot judge the input must not crash us
            self.invalid.append((resource, [f"{label}: {exc}"]))
            return False
        return True

    def _judge_invalid(self) -> None:
        """A resource that does not fit its model is an error when a binding would read it; otherwise
        (an EHR's record holds much the knowledge base never reads) a warning, and it is skipped."""
        bindings = [b for fact in self.facts.values() for b in fact.bindings]
        for resource, problems in self.invalid:
            try:
                read = [b for b in bindings if self._selects(b, resource)] if model_of(resource["resourceType"]) \
                    else bindings[:1]
            except Exception:  # noqa: BLE001 - too broken to tell what reads it: an error, not a silent skip
                read = bindings[:1]
            for problem in problems:
                if read:
                    self.error("fhir-invalid-resource", problem, resource,
                               hint=f"the element's type is in the FHIR R4 definition of {resource['resourceType']}")
                else:
                    self.warn("fhir-invalid-resource", problem + "; no binding reads it, so it is skipped", resource)

    def _patient(self) -> Mapping | None:
        patients = [r for r in self.resources if r["resourceType"] == "Patient"]
        if len(patients) > 1:
            self.error("fhir-malformed", "the bundle holds " + str(len(patients)) + " patients ("
                       + ", ".join(f"Patient/{p.get('id')}" for p in patients) + "); a case is one patient",
                       patients[1])
            raise CaseError(self.errors)
        patient = patients[0] if patients else None
        if patient is not None:
            mine = {f"Patient/{patient.get('id')}"} | {url for url, r in self.index.items() if r is patient}
            for resource in self.resources:
                ref = reference_of(resource.get("subject") or resource.get("patient"))
                if ref and ref not in mine and self._lookup(ref) is not patient:
                    self.skipped.add(id(resource))
                    self.warn("fhir-unresolved-reference", f"{_name(resource)}: its subject '{ref}' is not the "
                              f"bundle's patient Patient/{patient.get('id')}; the resource is not read", resource)
        return patient

    def _lookup(self, ref: str) -> Mapping | None:
        if ref in self.index:
            return self.index[ref]
        parts = ref.rstrip("/").split("/")
        return self.index.get("/".join(parts[-2:])) if len(parts) >= 2 else None

    def _check_references(self) -> None:
        for resource in self.resources:
            if id(resource) in self.skipped:
                continue
            for element, value in references_of(resource):
                ref = reference_of(value)
                if ref and not ref.startswith("#") and self._lookup(ref) is None:
                    self.warn("fhir-unresolved-reference", f"{_name(resource)}: element '{element}' refers to "
                              f"'{ref}', which the bundle does not hold", resource,
                              hint="add the resource to the bundle, or correct the reference")

    # ---- facts ---------------------------------------------------------------------
    def _facts(self) -> tuple[dict[str, Any], dict[str, tuple[Origin, ...]]]:
        values: dict[str, Any] = {}
        origins: dict[str, tuple[Origin, ...]] = {}
        for fact in self.facts.values():
            readings: list[tuple[Any, Origin]] = []
            for binding in fact.bindings:
                for resource in self.resources:
                    if id(resource) not in self.skipped and self._selects(binding, resource):
                        readings.extend(self._values(fact, binding, resource))
            if readings:
                combined = self._combine(fact, fact.bindings, readings)
                if combined is not None:
                    values[fact.id], origins[fact.id] = combined
        return values, origins

    def _selects(self, b: ir.Binding, resource: Mapping) -> bool:
        if resource["resourceType"] != b.resource:
            return False
        if b.profile is not None:
            profiles = (resource.get("meta") or {}).get("profile") or ()
            if b.profile not in profiles:
                return False
        if b.codes:
            wanted = {(c.url, c.code) for c in b.codes}
            if not any((c.get("system"), c.get("code")) in wanted for c in self._codings_of(resource, None)):
                return False
        if b.where is not None:
            found = self._path(b.where, resource)
            if found is None or found != [True]:
                return False
        return True

    def _codings_of(self, resource: Mapping, element: str | None) -> list[dict]:
        if element is None:
            kind = resource["resourceType"]
            element = _CODE_ELEMENT.get(kind, "code")
            if element not in resource and _MEDICATION_REFERENCE in resource:
                medication = self._lookup(reference_of(resource[_MEDICATION_REFERENCE]) or "")
                resource, element = (medication or {}), "code"
        return codings_of(resource.get(element))

    def _path(self, expression: str, resource: Mapping) -> list | None:
        # An expression gives the same answer on the same content: the resource's, or the whole
        # bundle's for one that reads beyond the resource (%bundle, resolve()).
        alone = "%" not in expression and "resolve(" not in expression
        key = (expression, self._digest(resource) if alone else self._digest(resource) + self._bundle_digest())
        cached = RESULTS.get(key)  # .get: another thread may clear the cache meanwhile
        if cached is not None:
            return list(cached)
        token = RESOLVING.set(self._lookup)
        try:
            found = [plain(v) for v in compiled(expression)(dict(resource), {"bundle": self.data,
                                                                                 "resource": resource})]
            if len(RESULTS) >= CACHE_SIZE:
                RESULTS.clear()
            RESULTS[key] = tuple(found)
            return found
        except Exception as exc:  # noqa: BLE001 - FHIRPath on odd data: a warning, nothing read here
            self.warn("fhir-wrong-value", f"{_name(resource)}: the FHIRPath '{expression}' cannot be evaluated "
                      f"on it: {exc}", resource)
            return None
        finally:
            RESOLVING.reset(token)

    def _values(self, fact: ir.Fact, b: ir.Binding, resource: Mapping) -> list[tuple[Any, Origin]]:
        kind = resource["resourceType"]
        if b.value is not None:
            element = b.value
            items = self._path(b.value, resource) or []
        elif b.map or kind == "Observation":
            element = "value" if kind == "Observation" else _CODE_ELEMENT.get(kind, "code")
            items = (self._path("value", resource) or []) if kind == "Observation" else \
                [{"coding": self._codings_of(resource, None)}]
        else:  # the resource's presence says the fact holds
            return [(True, Origin(kind, resource.get("id"), _CODE_ELEMENT.get(kind, "code")))]
        origin = Origin(kind, resource.get("id"), element_of(element, resource))
        out = []
        for item in items:
            value = self._value(fact, b, item, resource, origin)
            if value is not None:
                out.append((value, origin))
        return out

    def _value(self, fact: ir.Fact, b: ir.Binding, item: Any, resource: Mapping, origin: Origin) -> Any:
        t = fact.type
        if b.map or b.otherwise is not None:
            codings = codings_of(item)
            if not codings and isinstance(item, str):
                codings = [{"code": item}]
            for coding in codings:
                for code, target in b.map:
                    if coding.get("code") == code.code and coding.get("system") in (code.url, None):
                        return target
            if b.otherwise is not None:
                return b.otherwise
            shown = ", ".join(f"{c.get('system', '?')}#{c.get('code', '?')}" for c in codings) or repr(item)
            self.warn("fhir-unknown-code", f"{origin}: the code {shown} is not one the binding of "
                      f"'{fact.id}' maps; '{fact.id}' is not read from it", resource,
                      hint="map it in the fact's binding (" + (b.span.file if b.span else "the KB") + ")")
            return None
        if isinstance(item, Mapping) and "value" in item and isinstance(t, ir.NumberType):  # a Quantity
            unit = item.get("code") or item.get("unit")
            if unit is not None and t.unit is not None and not (
                    unit == t.unit or (t.unit == "%" and unit in _PERCENT_UNITS)):
                self.error("fhir-wrong-value", f"{origin}: '{fact.id}' is measured in '{t.unit}', the Quantity "
                           f"in '{unit}'", resource)
                return None
            item = plain(item["value"])
        if isinstance(t, ir.DateType) and isinstance(item, str):
            if not re.match(r"\d{4}-\d{2}-\d{2}", item):
                self.warn("fhir-wrong-value", f"{origin}: '{item}' is not a full date; '{fact.id}' needs the day",
                          resource)
                return None
            return item[:10]
        if isinstance(t, ir.DurationType) and isinstance(item, Mapping) and "value" in item:
            unit = {"d": "days", "wk": "weeks", "mo": "months"}.get(item.get("code") or "", item.get("unit"))
            return f"{item['value']} {unit}"
        if isinstance(item, (Mapping, list)):
            self.error("fhir-wrong-value", f"{origin}: '{fact.id}' is {ir.describe_type(t)}, the element holds "
                       f"{json.dumps(item)[:80]}", resource)
            return None
        if isinstance(item, float) and item.is_integer() and isinstance(t, ir.NumberType) and t.integer:
            item = int(item)
        return item

    def _combine(self, fact: ir.Fact, bindings, readings: list[tuple[Any, Origin]]):
        origins = tuple(dict.fromkeys(origin for _, origin in readings))
        if isinstance(fact.type, ir.SetType):
            return sorted({v for v, _ in readings}), origins
        picks = {b.pick for b in bindings if b.pick}
        if picks and isinstance(fact.type, ir.DateType):
            choose = min if "earliest" in picks else max
            value = choose(v for v, _ in readings)
            return value, tuple(o for v, o in readings if v == value)[:1]
        distinct = list(dict.fromkeys(_key(v) for v, _ in readings))
        if len(distinct) == 1:
            return readings[0][0], origins
        first = readings[0]
        other = next(r for r in readings if _key(r[0]) != _key(first[0]))
        self.warn("fhir-conflict", f"'{fact.id}' is {_show(first[0])} in {first[1]} but {_show(other[0])} in "
                  f"{other[1]}; it stays unknown", self.index.get(first[1].reference),
                  hint="correct or remove one of the resources", related=())
        return None


def _key(value: Any) -> Any:
    return json.dumps(value, sort_keys=True, default=str)


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f"'{value}'"
    return json.dumps(value, default=lambda v: sorted(v, key=str) if isinstance(v, (set, frozenset)) else str(v))


def _name(resource: Mapping) -> str:
    return f"{resource.get('resourceType')}/{resource.get('id')}"


__all__ = ["Origin", "BundleCase", "is_bundle", "read_bundle", "with_facts", "read_bundle_file", "prefetch_templates",
           "bound_resource_types"]
