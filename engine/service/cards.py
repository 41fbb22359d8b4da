"""CDS Hooks 2.0 cards from a result: what the knowledge base says, as an EHR shows it.

Takes a knowledge base and a `Result` (read from FHIR, with origins) and returns cards as
plain dicts (the JSON of the CDS Hooks 2.0 Card): for `patient-view`, the recommendations
grouped by source (the quote as detail, the source's title as `source.label`), one card per
warning as the rest of the product shows them (`Result.merged_warnings`: a warning several
pathways give is one card naming each), one per contradiction in the case (what contradicts
what, and the facts to check with where each was read), the findings and their reasons when
the result has them, and one card listing the questions still open; for `order-select` and
`order-sign`, one card per contradiction a draft order makes, and one
`critical` (or the rule's severity) card per safety rule that the draft orders trip, with
suggestions that delete those drafts, that replace a draft by what the rule's `replace` clause
names (the same order of another value's code, `update`; or the draft deleted and a new order
of a code created, e.g. a test), each offered only when the case with it no longer trips this
or any other safety rule, and, for a rule of time (`A - B < 6 weeks`), one that moves the draft
to the first date the rule allows. Every card links to the case's report and flowchart.
It does no I/O.
"""

from __future__ import annotations

import datetime as _dt
import uuid
from collections.abc import Iterable, Mapping
from typing import Any, Callable

from .. import wording
from ..inputs.fhir_model import CODE_ELEMENT, codings_of
from ..lang import ir
from ..lang.diagnostics import Diagnostic
from ..lang.reads import facts_read
from ..lang.values import add_duration, format_value

MODALITY_WORDS = {"strongly_recommended": "strongly recommended", "recommended": "recommended",
                  "option": "option", "not_recommended": "not recommended", "avoid": "avoid"}
INDICATORS = {"info": "info", "warning": "warning", "critical": "critical"}
SUMMARY_LIMIT = 140  # CDS Hooks: "<140-character summary message"


def _summary(text: str) -> str:
    return text if len(text) < SUMMARY_LIMIT else text[:SUMMARY_LIMIT - 2].rstrip() + "…"


def _card(summary: str, indicator: str, source_label: str, detail: str | None, links: list[dict],
          **extra: Any) -> dict:
    card: dict[str, Any] = {"uuid": str(uuid.uuid4()), "summary": _summary(summary), "indicator": indicator,
                            "source": {"label": source_label}}
    if detail:
        card["detail"] = detail
    if links:
        card["links"] = links
    card.update(extra)
    return card


def _source_label(kb, source: str | None) -> str:
    found = kb.sources.get(source) if source else None
    if found is None:
        return source or "Consilium"
    return found.title + (f" ({found.version})" if found.version else "")


def _quoted(quote: str | None, section: str | None = None) -> str:
    if not quote:
        return ""
    return f"> “{quote}”" + (f"\n>\n> — {section}" if section else "")


def patient_view_cards(kb, result, links: list[dict], own_label: str = "Consilium") -> list[dict]:
    cards: list[dict] = []
    by_source: dict[str, list] = {}
    for r in result.recommendations:
        by_source.setdefault(r.source, []).append(r)
    for source, recommendations in by_source.items():
        labels = "; ".join(r.label for r in recommendations)
        detail = "\n\n".join(f"**{r.label}** ({MODALITY_WORDS.get(r.modality, r.modality)})\n\n"
                             + _quoted(r.quote, r.section) for r in recommendations)
        cards.append(_card(f"{source}: {labels}", "info", _source_label(kb, source), detail, links))
    contradictions = {c.id: c for c in result.contradictions}
    for said in result.merged_warnings:  # one card per thing said, as the text and the report show them
        broken = [contradictions[w.id] for w in said.origins if w.kind == "contradiction" and w.id in contradictions]
        if broken:  # a contradiction has no quote: it is never merged with another warning
            cards += [contradiction_card(kb, result, c, links, own_label) for c in broken]
            continue
        cards.append(_warning_card(kb, said, links, own_label))
    for finding in getattr(result, "findings", ()) or ():  # findings and their reasons, where the result has them
        label = getattr(finding, "label", None) or str(getattr(finding, "id", finding))
        reasons = getattr(finding, "reasons", ()) or ()
        lines = [f"- {getattr(r, 'text', None) or getattr(r, 'label', None) or r}" for r in reasons]
        quote = _quoted(getattr(finding, "quote", None), getattr(finding, "section", None))
        finding_detail = "\n\n".join(x for x in ("Because:\n" + "\n".join(lines) if lines else "", quote) if x)
        cards.append(_card(label, "info", _source_label(kb, getattr(finding, "source", None)),
                           finding_detail or None, links))
    warnings = list(getattr(result, "input_warnings", ()) or ())
    if warnings:
        cards.append(problems_card("The patient's record could not be read in full", warnings, links, own_label,
                                   indicator="warning"))
    questions = [f"- **{n.label}**: {n.question or ''}".rstrip(": ") for n in result.needs]
    questions += [f"- Safety check not completed: {u.label} — {wording.unchecked_words(kb, result, u)}"
                  for u in result.unchecked]
    if questions:
        count = len(result.needs)
        summary = (f"{count} question{'s' if count != 1 else ''} still open for the team" if count
                   else "Safety checks not completed")
        cards.append(_card(summary, "info", own_label, "\n".join(questions), links))
    return cards


def _warning_card(kb, said, links: list[dict], own_label: str) -> dict:
    """One merged warning (evaluation/merged.py): its words, quote and what to do instead, and
    every rule it comes from, so a warning two pathways give is one card naming both."""
    section = next((w.section for w in said.origins if w.section), None)
    detail = "\n\n".join(x for x in (_quoted(said.quote, section), f"Instead: {said.instead}" if said.instead else "",
                                     _sentence(wording.said_by(wording.origin_words(kb, said)))) if x)
    label = "; ".join(_source_label(kb, s) for s in said.sources) or own_label
    return _card(said.label, INDICATORS.get(said.severity, "warning"), label, detail, links)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


def contradiction_card(kb, result, contradiction, links: list[dict], own_label: str,
                       drafts: Mapping[str, Mapping] | None = None) -> dict:
    """A constraint the case breaks: what contradicts what, and which facts to check, each with
    where its value came from (a resource of the record, a draft order, or the team's answers).
    `critical` when a safety rule reads one of its facts (the errors-to-avoid checks, raised or
    passed, then rest on a value the record contradicts), `warning` otherwise."""
    origins = getattr(result, "origins", {}) or {}
    checked = {f for s in kb.safeties for f in facts_read(s.condition, kb.defines)}
    lines = []
    for fact, value in contradiction.facts:
        known = kb.facts.get(fact)
        shown = format_value(value, getattr(known.type, "unit", None) if known is not None else None)
        where = [("the draft order " if drafts and o.reference in drafts else "") + str(o)
                 for o in origins.get(fact, ())]
        came = ("read from " + ", ".join(where)) if where else "given beside the record, in the team's answers"
        lines.append(f"- **{known.label if known is not None else fact}**: {shown} ({came})")
    reasons = "; ".join(r.text for r in contradiction.reasons)
    detail = "\n\n".join(x for x in (
        f"These cannot hold together: {reasons}." if reasons else "", contradiction.note or "",
        "Check these facts in the record (one of them is wrong, or the record is out of date):\n" + "\n".join(lines),
        "Until the record is corrected, the other cards take these values as given.") if x)
    indicator = "critical" if any(f in checked for f, _ in contradiction.facts) else "warning"
    return _card(f"Contradiction in the record: {contradiction.label}", indicator,
                 f"{own_label}: consistency check of the case", detail, links)


def problems_card(summary: str, diagnostics: Iterable[Diagnostic], links: list[dict], own_label: str,
                  indicator: str = "warning") -> dict:
    detail = "\n".join(f"- {d.message} [{d.code}]" for d in diagnostics)
    return _card(summary, indicator, own_label, detail, links)


Variant = Callable[[str, "Mapping | None"], "Mapping[str, Any] | None"]


def order_cards(kb, result, drafts: Mapping[str, Mapping], links: list[dict],
                variant: Variant | None = None, own_label: str = "Consilium") -> list[dict]:
    """A card per safety rule the draft orders trip: the rule's warning, suggestions that delete
    or replace them.

    `drafts` maps each draft order's reference (Type/id) to the resource. `variant(ref, resource)`
    gives the case read with that draft replaced by `resource` (None: left out), or None when
    that case cannot be read. A draft is blamed for a rule only when, left out, the rule no longer
    holds (several drafts feed one fact, e.g. every proposed treatment: a card must not offer to
    delete an order that has nothing to do with it). Where no single draft is enough to clear the
    rule, every draft that feeds it is named."""
    rules = {s.id: s for s in kb.safeties}
    origins = getattr(result, "origins", {}) or {}
    cards = []
    for w in result.warnings:
        rule = rules.get(w.id)
        if w.kind != "safety" or rule is None:
            continue
        culprits = sorted({o.reference for fact in facts_read(rule.condition, kb.defines)
                           for o in origins.get(fact, ()) if o.reference in drafts})
        if not culprits:
            continue  # the record trips it without these orders: patient-view says so
        if variant is not None and len(culprits) > 1:
            clearing = [ref for ref in culprits if _clears(kb, rule, variant(ref, None))]
            culprits = clearing or culprits
        detail = "\n\n".join(x for x in (_quoted(w.quote, w.section), f"Instead: {w.instead}" if w.instead else "",
                                         "Draft orders concerned: " + ", ".join(culprits)) if x)
        suggestions = [{"label": f"Remove the draft order {_order_label(drafts[ref], ref)}",
                        "uuid": str(uuid.uuid4()), "isRecommended": True,
                        "actions": [{"type": "delete", "description": f"Remove {ref} from the orders being written",
                                     "resourceId": [ref]}]} for ref in culprits]
        if variant is not None:
            suggestions += [s for ref in culprits for s in _replaced(kb, rule, result, ref, drafts[ref], variant)]
        suggestions += [s for ref in culprits if (s := _rescheduled(kb, rule, result, ref, drafts[ref])) is not None]
        # One draft: remove it, replace it or move it, one of them (they exclude each other).
        # Several drafts that only together trip the rule: any of their removals.
        cards.append(_card(w.label, INDICATORS.get(w.severity, "critical"), _source_label(kb, w.source), detail,
                           links, suggestions=suggestions,
                           selectionBehavior="at-most-one" if len(culprits) == 1 else "any"))
    return cards + _contradicting_orders(kb, result, drafts, links, variant, own_label)


def _contradicting_orders(kb, result, drafts: Mapping[str, Mapping], links: list[dict],
                          variant: Variant | None, own_label: str) -> list[dict]:
    """A card per contradiction that a draft order makes (liver-first ordered while the record
    says the primary is resected): the order contradicts the record, so the one writing it must
    check which is wrong before signing. A contradiction of the record alone is patient-view's:
    repeated at every order it would only teach clinicians to dismiss the cards. Its suggestion
    removes the draft, not recommended: the record may be what is wrong."""
    conditions = {c.id: c.condition for c in kb.constraints}
    origins = getattr(result, "origins", {}) or {}
    cards = []
    for c in result.contradictions:
        feeding = sorted({o.reference for fact, _ in c.facts for o in origins.get(fact, ()) if o.reference in drafts})
        if variant is not None:  # only the drafts without which the record no longer contradicts itself
            feeding = [ref for ref in feeding if _clears_condition(kb, conditions.get(c.id), variant(ref, None))]
        if not feeding:
            continue
        card = contradiction_card(kb, result, c, links, own_label, drafts)
        card["detail"] += "\n\nDraft orders concerned: " + ", ".join(feeding)
        card["suggestions"] = [{"label": f"Remove the draft order {_order_label(drafts[ref], ref)}",
                                "uuid": str(uuid.uuid4()),
                                "actions": [{"type": "delete", "description": f"Remove {ref} from the orders being "
                                             "written", "resourceId": [ref]}]} for ref in feeding]
        card["selectionBehavior"] = "at-most-one" if len(feeding) == 1 else "any"
        cards.append(card)
    return cards


def _clears_condition(kb, condition: ir.Expr | None, case: Mapping[str, Any] | None) -> bool:
    return condition is not None and case is not None and kb.value(condition, case) is not True


def _safe(kb, result, rule: ir.Safety, case: Mapping[str, Any] | None) -> bool:
    """Whether a case (a draft replaced) clears the rule and trips no safety rule the result did not."""
    if case is None or kb.value(rule.condition, case) is True:
        return False
    tripped = {w.id for w in result.warnings if w.kind == "safety"}
    return not any(kb.value(s.condition, case) is True for s in kb.safeties if s.id not in tripped)


def _replaced(kb, rule: ir.Safety, result, ref: str, draft: Mapping, variant: Variant) -> list[dict]:
    """The rule's `replace VALUE with ...` for this draft, when the draft is an order of VALUE:
    the same order with its code swapped for another value's (the binding's code of that value,
    in the draft's own code system where the binding has one), or the draft deleted and an order
    of a code created (a ServiceRequest, e.g. a test). Only what clears the rule safely."""
    r = rule.replace
    if r is None or r.fact is None:
        return []
    kind = draft.get("resourceType")
    element = CODE_ELEMENT.get(str(kind), "code")
    drafted = {(c.get("system"), c.get("code")) for c in codings_of(draft.get(element))}
    bindings = [b for b in kb.facts[r.fact].bindings if b.resource == kind]
    mine = [(c, target) for b in bindings for c, target in b.map if (c.url, c.code) in drafted]
    if not any(target == r.value for _, target in mine):
        return []  # not an order of VALUE (or one the bindings do not read): nothing to swap
    systems = [c.url for c, target in mine if target == r.value]
    label = _order_label(draft, ref)
    out = []
    for value in r.values:
        codes = [c for b in bindings for c, target in b.map if target == value]
        coding = next((c for c in codes if c.url in systems), codes[0] if codes else None)
        if coding is None:
            continue
        text = value.replace("_", " ")
        swapped = {**draft, element: {"coding": [{"system": coding.url, "code": coding.code}], "text": text}}
        if not _safe(kb, result, rule, variant(ref, swapped)):
            continue
        out.append({"label": f"Replace {label} by {text}"[:200], "uuid": str(uuid.uuid4()),
                    "actions": [{"type": "update", "description": f"{ref}: {element} {coding} ({text})",
                                 "resource": swapped}]})
    for coding, said in r.codings:
        if coding.url is None or not _safe(kb, result, rule, variant(ref, None)):
            continue
        words = said or str(coding)
        order = {"resourceType": "ServiceRequest", "status": "draft", "intent": draft.get("intent", "proposal"),
                 "code": {"coding": [{"system": coding.url, "code": coding.code}], "text": words}}
        if isinstance(draft.get("subject"), Mapping):
            order["subject"] = dict(draft["subject"])
        out.append({"label": f"Order {words} instead of {label}"[:200], "uuid": str(uuid.uuid4()),
                    "actions": [{"type": "delete", "description": f"Remove {ref} from the orders being written",
                                 "resourceId": [ref]},
                                {"type": "create", "description": f"Order {words} ({coding})", "resource": order}]})
    return out


def _clears(kb, rule: ir.Safety, case: Mapping[str, Any] | None) -> bool:
    """Whether the rule no longer holds for this case (one draft left out)."""
    return case is not None and kb.value(rule.condition, case) is not True


def _rescheduled(kb, rule: ir.Safety, result, ref: str, draft: Mapping) -> dict | None:
    """The draft order moved to the first date its rule allows, when the rule is one of time:
    `A - B < DURATION` with A read from this draft (e.g. surgery fewer than 6 weeks after the
    last bevacizumab dose): A becomes B + DURATION. None for any other rule."""
    match rule.condition:
        case ir.Compare(op="<" | "<=" as op, left=ir.Arith(kind="date_diff", left=ir.FactRef(id=later),
                                                              right=ir.FactRef(id=earlier)),
                        right=ir.DurationLit(value=gap)):
            pass
        case _:
            return None
    origin = next((o for o in (getattr(result, "origins", {}) or {}).get(later, ()) if o.reference == ref), None)
    since = result.case.get(earlier)
    if origin is None or since is None or origin.element not in draft or not isinstance(draft[origin.element], str):
        return None
    day = add_duration(since, gap)
    if day is None:  # the moved date would leave the calendar: there is no move to offer
        return None
    if op == "<=":
        day += _dt.timedelta(days=1)
    moved = {**draft, origin.element: day.isoformat()}
    label = f"Move {_order_label(draft, ref)} to {day.isoformat()}, {gap} after the {kb.facts[earlier].label.lower()}"
    return {"label": label[:200], "uuid": str(uuid.uuid4()),
            "actions": [{"type": "update", "description": f"{ref}: {origin.element} {day.isoformat()}",
                         "resource": moved}]}


def _order_label(resource: Mapping, ref: str) -> str:
    concept = resource.get("medicationCodeableConcept") or resource.get("code") or {}
    text = concept.get("text") if isinstance(concept, Mapping) else None
    if not text and isinstance(concept, Mapping):
        codings = concept.get("coding") or []
        text = next((c.get("display") for c in codings if isinstance(c, Mapping) and c.get("display")), None)
    return f"'{text}' ({ref})" if text else ref
