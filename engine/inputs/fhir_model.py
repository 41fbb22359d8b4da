"""FHIR as the libraries see it: R4B models (fhir.resources), FHIRPath (fhirpathpy), elements.

The helpers `inputs/fhir.py` reads bundles with: a resource type's model, an expression
compiled once with FHIRPath's `resolve()` answered within the bundle being read, the caches
of validations and FHIRPath results (by a resource's content), codings and references as
FHIR JSON holds them, the element an expression reads (for origins), and the CDS Hooks
prefetch templates the bindings imply. Nothing here knows a fact or a clinical meaning.
"""

from __future__ import annotations

import contextvars
import functools
import re
from collections.abc import Mapping
from typing import Any

from ..lang import ir

# The references a resource follows to what it is about; people and places (performer,
# asserter, requester) are not read, so their absence from a bundle does not matter.
_REFERENCES = ("subject", "patient", "focus", "hasMember", "reasonReference", "basedOn", "partOf",
               "derivedFrom", "medicationReference")

ROOT_NAME = re.compile(r"(?<![.%'\w$])([a-z][A-Za-z0-9]*)\b(?!\s*\()")


# Where a resource type holds the code a binding's `code` filters on (and `map` translates by default).
CODE_ELEMENT = {"MedicationRequest": "medicationCodeableConcept", "MedicationAdministration":
                "medicationCodeableConcept", "MedicationStatement": "medicationCodeableConcept"}


def element_of(expression: str, resource: Mapping) -> str:
    """The resource's elements an expression reads (a choice type with its type: valueQuantity),
    for the origin; the expression itself when it names none of them."""
    names = [m.group(1) for m in ROOT_NAME.finditer(without_bundle(re.sub(r"'[^']*'", "''", expression)))]
    found = []
    for name in dict.fromkeys(names):
        found += [key for key in resource if key == name or (key.startswith(name) and key[len(name):][:1].isupper())]
    return ", ".join(dict.fromkeys(found)) or expression


def without_bundle(text: str) -> str:
    """The expression without its `%bundle...` chains, which read other resources."""
    while (start := text.find("%bundle")) >= 0:
        depth, end = 0, start
        while end < len(text) and not (depth == 0 and text[end] in ",)"):
            depth += {"(": 1, ")": -1}.get(text[end], 0)
            end += 1
        text = text[:start] + text[end:]
    return text


def reference_of(value: Any) -> str | None:
    if isinstance(value, Mapping) and isinstance(value.get("reference"), str):
        return value["reference"]
    return None


def references_of(resource: Mapping):
    for element in _REFERENCES:
        value = resource.get(element)
        for item in value if isinstance(value, list) else [value]:
            if reference_of(item):
                yield element, item
    for number, extension in enumerate(resource.get("extension") or ()):
        if isinstance(extension, Mapping) and reference_of(extension.get("valueReference")):
            yield f"extension[{number}].valueReference", extension["valueReference"]


def codings_of(item: Any) -> list[dict]:
    """The codings of a CodeableConcept, a Coding, or a list of CodeableConcepts."""
    if isinstance(item, list):
        return [c for part in item for c in codings_of(part)]
    if isinstance(item, Mapping):
        if isinstance(item.get("coding"), list):
            return [dict(c) for c in item["coding"] if isinstance(c, Mapping)]
        if "code" in item and "system" in item:
            return [dict(item)]
    return []


def plain(value: Any) -> Any:
    """fhirpathpy's values (its dates, decimals, resource nodes) as plain JSON values."""
    if isinstance(value, (str, bool, int, float, dict, list)) or value is None:
        return value
    from decimal import Decimal
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return str(value)


# Validations passed and FHIRPath results, by the resource's content; cleared when full.
CACHE_SIZE = 8192
VALIDATED: set[tuple[str, str]] = set()
RESULTS: dict[tuple[str, str], tuple] = {}

# FHIRPath's resolve(), which fhirpathpy leaves to its caller: a Reference (or its text) to the
# resource of the bundle being read, or nothing when the bundle does not hold it.
RESOLVING: contextvars.ContextVar = contextvars.ContextVar("resolving")


def resolve_in_bundle(inputs: list) -> list:
    lookup = RESOLVING.get(None)
    found = []
    for item in inputs:
        ref = item.get("reference") if isinstance(item, Mapping) else item
        resource = lookup(ref) if lookup is not None and isinstance(ref, str) else None
        if resource is not None:
            found.append(resource)
    return found


@functools.lru_cache(maxsize=1024)
def compiled(expression: str):
    from fhirpathpy import compile as compile_fhirpath
    from fhirpathpy.models import models
    return compile_fhirpath(expression, models["r4"],
                            {"userInvocationTable": {"resolve": {"fn": resolve_in_bundle, "arity": {0: []}}}})


@functools.lru_cache(maxsize=256)
def model_of(kind: str):
    from fhir.resources.R4B import get_fhir_model_class
    try:
        return get_fhir_model_class(kind)
    except (KeyError, ValueError):
        return None


def prefetch_templates(facts: Mapping[str, ir.Fact]) -> dict[str, str]:
    """CDS Hooks prefetch templates: the patient, and each resource type the bindings read."""
    kinds = sorted({b.resource for f in facts.values() for b in f.bindings} - {"Patient"})
    templates = {"patient": "Patient/{{context.patientId}}"}
    for kind in kinds:
        key = kind[0].lower() + kind[1:]
        templates[key] = f"{kind}?{'patient' if kind != 'Patient' else '_id'}={{{{context.patientId}}}}"
    return templates


def bound_resource_types(facts: Mapping[str, ir.Fact]) -> list[str]:
    return sorted({b.resource for f in facts.values() for b in f.bindings})
