"""The facts a knowledge base reads from FHIR, and how: a section of the review report.

Takes a loaded knowledge base; returns the HTML of one report section: for each fact with a
FHIR binding, the file and line where it is declared and each binding as written (the
resource type, profile, codes with their code system's URL, the FHIRPath of `where` and
`value`, or what is read without one, the `map` into the fact's values, `pick`) beside its
`note` (where its codes were checked, or that they could not be); then the facts without a
binding, which stay questions for the team. An auditor reads the binding next to the fact,
as the README's "A fact's binding" describes it. Everything from a rule file is escaped.
It does no I/O and evaluates nothing.
"""

from __future__ import annotations

import html

from ..engine.inputs.fhir_model import CODE_ELEMENT
from ..engine.kb import KnowledgeBase
from ..engine.lang import ir
from ..engine.lang.values import format_value


def _h(text: object) -> str:
    return html.escape(str(text), quote=True)


def bindings_section(kb: KnowledgeBase) -> str:
    bound = [f for f in kb.facts.values() if f.bindings]
    unbound = [f for f in kb.facts.values() if not f.bindings]
    rows = "".join(_row(kb, fact) for fact in bound)
    intro = (f"<p>How each fact is read from a FHIR R4 bundle (an EHR's record, or a CDS Hooks request) is "
             f"declared in the knowledge base beside the fact: {len(bound)} of its {len(kb.facts)} facts have a "
             "binding. Each binding's note says where its codes were checked. A case read from FHIR names, for "
             "every value, the resource and element it came from (the case's <em>Read from FHIR</em>).</p>")
    table = ('<div class="scroll"><table class="bindings"><thead><tr><th scope="col">fact</th>'
             '<th scope="col">how it is read, and where its codes were checked</th></tr></thead>'
             f"<tbody>{rows}</tbody></table></div>") if bound else "<p>No fact has a binding.</p>"
    rest = ""
    if unbound:
        items = "".join(f'<li id="fhir-{_h(f.id)}">{_h(f.label)} <code>{_h(f.id)}</code></li>' for f in unbound)
        rest = ("<h3>Not read from FHIR: questions for the team</h3><p class=\"hint\">Facts without a binding "
                "(the team's judgements, or what no standard code says) are never read from a record: a case "
                "gives them, or they stay open.</p>"
                f'<ul class="unbound">{items}</ul>')
    systems = {c.system: c.url for f in bound for b in f.bindings
               for c in (*b.codes, *(c for c, _ in b.map)) if c.url}
    legend = ""
    if systems:
        legend = ('<p class="hint">Code systems: ' + "; ".join(
            f"<code>{_h(alias)}</code> {_h(url)}" for alias, url in sorted(systems.items())) + "</p>")
    return intro + legend + table + rest


def _row(kb: KnowledgeBase, fact: ir.Fact) -> str:
    where = f"{fact.span.file}:{fact.span.line}" if fact.span else ""
    unit = getattr(fact.type, "unit", None)
    ways = "".join(_binding(kb, b, unit) for b in fact.bindings)
    return (f'<tr id="fhir-{_h(fact.id)}"><td>{_h(fact.label)}<div><code>{_h(fact.id)}</code></div>'
            f'<div class="where">{_h(where)}</div></td><td>{ways}</td></tr>')


def _binding(kb: KnowledgeBase, b: ir.Binding, unit: str | None) -> str:
    parts = [("resources", f"<code>{_h(b.resource)}</code>"
              + (f" with the profile <code>{_h(b.profile)}</code>" if b.profile else ""))]
    if b.codes:
        element = CODE_ELEMENT.get(b.resource, "code")
        parts.append((f"coded ({_h(element)})", ", ".join(_coding(kb, c) for c in b.codes)))
    if b.where:
        parts.append(("where (FHIRPath)", f"<code>{_h(b.where)}</code>"))
    if b.value:
        parts.append(("value (FHIRPath)", f"<code>{_h(b.value)}</code>"))
    elif b.map or b.resource == "Observation":
        read = "the Observation's <code>value[x]</code>" if b.resource == "Observation" else \
            f"the resource's <code>{_h(CODE_ELEMENT.get(b.resource, 'code'))}</code>"
        parts.append(("value", read))
    else:
        parts.append(("value", "the resource's presence: the fact holds (yes) when one is found"))
    if b.map or b.otherwise is not None:
        pairs = [f"{_coding(kb, c)} → {_h(format_value(v, unit))}" for c, v in b.map]
        if b.otherwise is not None:
            pairs.append(f"any other code → {_h(format_value(b.otherwise, unit))}")
        parts.append(("map", "; ".join(pairs)))
    if b.pick:
        parts.append(("of several", f"the {_h(b.pick)}"))
    parts.append(("note", _note(kb, b)))
    return '<dl class="binding">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in parts) + "</dl>"


def _coding(kb: KnowledgeBase, c: ir.Coding) -> str:
    url = c.url or getattr(kb.code_systems.get(c.system), "url", None)
    return f'<code title="{_h(url or "")}">{_h(c)}</code>'  # the URL also in the legend above the table


def _note(kb: KnowledgeBase, b: ir.Binding) -> str:
    """The binding's note; without one, those of the code systems of its own declaration (codes of
    our own: `codesystem CONSILIUM ... note`), else a warning that its provenance is not said."""
    if b.note:
        return f'<span class="note">{_h(" ".join(b.note.split()))}</span>'
    declared = {c.system: kb.code_systems[c.system] for c in (*b.codes, *(c for c, _ in b.map))
                if c.system in kb.code_systems and kb.code_systems[c.system].note}
    if declared:
        return "".join(f'<span class="note">code system <code>{_h(alias)}</code> ({_h(system.url)}): '
                       f'{_h(" ".join((system.note or "").split()))}</span>' for alias, system in declared.items())
    return '<span class="warn">none: where its codes were checked is not said</span>'
