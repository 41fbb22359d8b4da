"""A CDS Hooks request for a FHIR bundle, shaped as the service's discovery asks: for trying
the service with curl, and for an EHR's developers to see what to send.

Takes a knowledge base, a Bundle (parsed JSON), the hook, and optionally the facts FHIR does
not carry (a flat case's mapping); returns the request as a dict: `context.patientId` from the
bundle's Patient, the prefetch split by the discovery's templates (`patient`: the Patient
resource; `condition`, `observation`, ...: a searchset Bundle of that type's resources), and
the facts in `extension["consilium.facts"]`. For order-select and order-sign, the bundle's
draft orders (status `draft`) go into `context.draftOrders` instead of the prefetch.
It reads no file and sends nothing (`consilium cds-request` does the I/O).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from ..inputs.fhir_model import prefetch_templates

FACTS_EXTENSION = "consilium.facts"
HOOKS = ("patient-view", "order-select", "order-sign")
ORDERS = ("MedicationRequest", "ServiceRequest")


def cds_request(kb, bundle: Mapping, hook: str = "patient-view", facts: Mapping[str, Any] | None = None,
                user: str = "Practitioner/example") -> dict:
    """The request body the service's `hook` takes for this bundle (see the module's docstring)."""
    resources = [e["resource"] for e in bundle.get("entry") or []
                 if isinstance(e, Mapping) and isinstance(e.get("resource"), Mapping)]
    patient = next((r for r in resources if r.get("resourceType") == "Patient"), None)
    drafts = [r for r in resources if hook != "patient-view" and r.get("resourceType") in ORDERS
              and r.get("status") == "draft"]
    record = [r for r in resources if r is not patient and not any(r is d for d in drafts)]
    templates = prefetch_templates(kb.facts)
    prefetch: dict[str, Any] = {"patient": patient}
    for key, template in templates.items():
        kind = template.split("?", 1)[0].split("/", 1)[0]
        if key != "patient":
            prefetch[key] = {"resourceType": "Bundle", "type": "searchset",
                             "entry": [{"resource": r} for r in record if r.get("resourceType") == kind]}
    context: dict[str, Any] = {"userId": user, "patientId": (patient or {}).get("id") or "unknown"}
    if hook != "patient-view":
        context["draftOrders"] = {"resourceType": "Bundle", "type": "collection",
                                  "entry": [{"resource": d} for d in drafts]}
        if hook == "order-select":
            context["selections"] = [f"{d['resourceType']}/{d.get('id')}" for d in drafts]
    request: dict[str, Any] = {"hook": hook, "hookInstance": str(uuid.uuid4()), "context": context,
                               "prefetch": prefetch}
    if facts:
        request["extension"] = {FACTS_EXTENSION: dict(facts)}
    return request


__all__ = ["cds_request", "FACTS_EXTENSION", "HOOKS"]
