"""The auditors' review report: one static, self-contained HTML page for a knowledge base.

Takes a loaded knowledge base, its charts laid out as SVG, and optionally one case's result;
returns the page: a table of contents by site and source; each site's comparison of the
sources (which actions each recommends or advises against, agreements and conflicts
marked) with its flowchart; each source's and each pathway's flowchart; the safety rules;
every rule with its quote, source, references, modality and the scenarios that cover it;
and, with a case, its evaluation with the path drawn on the charts.

Everything from a rule file or a case is HTML-escaped. The page needs no network: styles
and SVG are inline. The same inputs give the same bytes.
"""

from __future__ import annotations

import html
import re
from collections import defaultdict

from ..engine.lang import ir
from ..engine.kb import KnowledgeBase
from ..engine.evaluation.result import Result
from ..engine.analysis.scenarios import ScenarioOutcome

from .flowchart import ChartSpec, source_colours
from .words import MODALITY_WORDS, condition_words

AGAINST = ("avoid", "not_recommended")


def _h(text: object) -> str:
    return html.escape(str(text), quote=True)


def inline_svg(svg: bytes, prefix: str) -> str:
    """An SVG document as an element to inline: no XML prolog, ids made unique on the page."""
    text = svg.decode("utf-8")
    text = text[text.index("<svg"):]
    text = re.sub(r'\bid="', f'id="{prefix}-', text)
    return text


def report(kb: KnowledgeBase, specs: list[ChartSpec], svgs: dict[str, bytes], outcomes: list[ScenarioOutcome],
           result: Result | None = None, case_name: str | None = None,
           case_svgs: dict[str, bytes] | None = None) -> str:
    colours = source_colours(kb)
    sections: list[str] = []
    toc: list[str] = []

    def section(anchor: str, title: str, body: str, level: int = 2) -> None:
        sections.append(f'<section id="{_h(anchor)}"><h{level}>{_h(title)}</h{level}>{body}</section>')
        toc.append(f'<li class="toc-{level}"><a href="#{_h(anchor)}">{_h(title)}</a></li>')

    if result is not None:
        section("case", f"The case: {case_name}", _case(kb, result, specs, case_svgs or {}))
    sites = list(kb.checked.sites.values())
    section("sites", "By site: the sources side by side", "<p>For each site, what each source recommends "
            "(green), advises against (red), and where they agree or conflict.</p>")
    for site in sites:
        spec = next((s for s in specs if s.name == f"site-{site.id}"), None)
        body = _comparison(kb, site, colours)
        if spec is not None:
            body += _figure(spec, svgs)
        section(f"site-{site.id}", site.label, body, level=3)
    section("sources", "By source", "")
    for source_id, source in kb.sources.items():
        spec = next((s for s in specs if s.name == f"source-{source_id}"), None)
        line, fill = colours[source_id]
        meta = " · ".join(_h(x) for x in (f"version {source.version}" if source.version else "",
                                          f"reference {source.ref}" if source.ref else "") if x)
        body = (f'<p class="source" style="border-left-color:{line}"><strong>{_h(source.title)}</strong>'
                f'{" · " + meta if meta else ""}' + (f"<br>{_h(source.note)}" if source.note else "") + "</p>")
        if spec is not None:
            body += _figure(spec, svgs)
        section(f"source-{source_id}", source_id, body, level=3)
    section("pathways", "Pathways", "")
    for spec in (s for s in specs if s.kind == "pathway"):
        section(spec.name, spec.title, _figure(spec, svgs), level=3)
    safety = next((s for s in specs if s.kind == "safety"), None)
    if safety is not None:
        section("safety", "Errors to avoid (safety rules)", _figure(safety, svgs))
    section("rules", "Every rule, with its source", _rules_table(kb, outcomes))
    section("scenarios", "Scenario tests", _scenarios(outcomes))

    title = f"Consilium review: {kb.root}"
    counts = (f"{len(kb.loaded.files)} files · {len(kb.sources)} sources · {len(kb.facts)} facts · "
              f"{len(kb.pathways)} pathways · {sum(len(p.nodes) for p in kb.pathways)} pathway nodes · "
              f"{len(kb.checked.safeties)} safety rules · {len(outcomes)} scenarios "
              f"({sum(o.passed for o in outcomes)} passing)")
    legend = "".join(f'<span class="chip" style="background:{fill};border-color:{line}">{_h(sid)}</span>'
                     for sid, (line, fill) in colours.items())
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{_h(title)}</title><style>{CSS}</style></head><body>"
            f"<header><h1>{_h(title)}</h1><p class=\"counts\">{_h(counts)}</p><p>Sources: {legend}</p></header>"
            f"<nav aria-label=\"Contents\"><h2>Contents</h2><ul>{''.join(toc)}</ul></nav>"
            f"<main>{''.join(sections)}</main></body></html>\n")


def _figure(spec: ChartSpec, svgs: dict[str, bytes], prefix: str = "") -> str:
    svg = svgs.get(spec.name)
    if svg is None:
        return ""
    return (f'<figure class="chart" data-chart="{_h(prefix + spec.name)}"><div class="scroll">'
            f"{inline_svg(svg, prefix + spec.name)}</div><figcaption>{_h(spec.title)}</figcaption></figure>")


def _site_rules(kb: KnowledgeBase, site: ir.Site):
    for pathway in kb.pathways:
        if site.id not in pathway.sites:
            continue
        for node in pathway.nodes:
            if isinstance(node, ir.Recommend):
                yield pathway, node


def _comparison(kb: KnowledgeBase, site: ir.Site, colours) -> str:
    """Actions by source at one site: agreements (two sources or more), conflicts, single-source."""
    table: dict[str, dict[str, list[ir.Recommend]]] = defaultdict(lambda: defaultdict(list))
    for pathway, rule in _site_rules(kb, site):
        for action in rule.actions or ("(no action named)",):
            table[action][rule.provenance.source].append(rule)
    if not table:
        return "<p>No source speaks of this site.</p>"
    sources = list(kb.sources)
    head = "".join(f'<th scope="col" style="border-bottom-color:{colours[s][0]}">{_h(s)}</th>' for s in sources)
    rows = []
    for action in sorted(table):
        by_source = table[action]
        recommending = {s for s, rules in by_source.items() if any(r.modality not in AGAINST for r in rules)}
        against = {s for s, rules in by_source.items() if any(r.modality in AGAINST for r in rules)}
        if any(a != b for a in recommending for b in against):
            mark, css = "conflict: one source advises against what another recommends", "conflict"
        elif len(recommending) >= 2 or len(against) >= 2:
            mark, css = "agreement", "agreement"
        else:
            mark, css = "complement: one source only", "single"
        cells = []
        for source in sources:
            rules = by_source.get(source, [])
            if not rules:
                cells.append('<td class="silent">—</td>')
                continue
            items = "".join(
                f'<li class="{"against" if r.modality in AGAINST else "for"}"><a href="#rule-{_h(r.id)}">'
                f"{_h(r.label)}</a> <span class=\"modality\">{_h(MODALITY_WORDS[r.modality])}</span></li>"
                for r in rules)
            cells.append(f"<td><ul>{items}</ul></td>")
        rows.append(f'<tr class="{css}"><th scope="row">{_h(action.replace("_", " "))}'
                    f'<span class="mark">{mark}</span></th>{"".join(cells)}</tr>')
    return (f'<div class="scroll"><table class="compare"><thead><tr><th scope="col">action</th>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>"
            "<p class=\"hint\">Whether two sources agree for a given patient depends on the patient: "
            "<code>consilium eval</code> classifies each pair for a case (concordant, complementary, conflicting, "
            "silent).</p>")


def _rules_table(kb: KnowledgeBase, outcomes: list[ScenarioOutcome]) -> str:
    fired: dict[str, list[str]] = defaultdict(list)
    asserted: dict[str, set[str]] = defaultdict(set)
    for outcome in outcomes:
        for rid in outcome.result.recommendation_ids() + outcome.result.warning_ids():
            if outcome.scenario.id not in fired[rid]:
                fired[rid].append(outcome.scenario.id)
        for e in outcome.scenario.expectations:
            if e.target:
                asserted[e.target].add(outcome.scenario.id)
    rows = []
    facts, defines = kb.facts, kb.checked.defines
    things: list[tuple[str, object, ir.Pathway | None]] = [
        (n.id, n, p) for p in kb.pathways for n in p.nodes if isinstance(n, (ir.Recommend, ir.Warn))]
    things += [(s.id, s, None) for s in kb.checked.safeties]
    for rule_id, rule, pathway in things:
        p = rule.provenance
        kind = {ir.Recommend: "recommendation", ir.Warn: "warning", ir.Safety: "safety rule"}[type(rule)]
        grade = MODALITY_WORDS[rule.modality] if isinstance(rule, ir.Recommend) else rule.severity
        condition = getattr(rule, "guard", None) or getattr(rule, "condition", None)
        when = f"<div class=\"when\">when {_h(condition_words(condition, facts, defines))}</div>" if condition else ""
        where = f"{rule.span.file}:{rule.span.line}" if rule.span else ""
        scenarios = ", ".join(f'<a href="#scenario-{_h(s)}">{_h(s)}</a>' + ("*" if s in asserted[rule_id] else "")
                              for s in fired[rule_id]) or '<span class="warn">none fires it</span>'
        rows.append(
            f'<tr id="rule-{_h(rule_id)}"><td><code>{_h(rule_id)}</code><div class="where">{_h(where)}</div></td>'
            f"<td>{_h(rule.label)}{when}<div class=\"kind\">{_h(kind)} · {_h(grade)}"
            f"{' · ' + _h(pathway.label) if pathway else ''}</div></td>"
            f"<td><blockquote>“{_h(p.quote or '')}”</blockquote><div class=\"cite\">{_h(p.source)}"
            f"{', ' + _h(p.section) if p.section else ''}{', refs ' + _h(', '.join(map(str, p.refs))) if p.refs else ''}"
            f"</div>{'<div class=note>' + _h(p.note) + '</div>' if p.note else ''}</td><td>{scenarios}</td></tr>")
    # Decisions get an anchor too, so that every node on a chart links somewhere.
    for pathway in kb.pathways:
        for node in pathway.nodes:
            if isinstance(node, (ir.Decide, ir.Step, ir.Schedule)):
                label = getattr(node, "question", None) or getattr(node, "label", None) or f"plan {node.id}"
                quote = node.provenance.quote if isinstance(node, ir.Decide) and node.provenance else ""
                rows.append(f'<tr id="rule-{_h(node.id)}" class="minor"><td><code>{_h(node.id)}</code></td>'
                            f"<td>{_h(label)}<div class=\"kind\">{_h(type(node).__name__.lower())} · "
                            f"{_h(pathway.label)}</div></td><td>{'<blockquote>“' + _h(quote) + '”</blockquote>' if quote else ''}"
                            "</td><td></td></tr>")
    return ('<p>* the scenario also asserts it. Rules are listed with the file and line where they are written.</p>'
            '<div class="scroll"><table class="rules"><thead><tr><th scope="col">rule</th><th scope="col">what it says'
            '</th><th scope="col">source</th><th scope="col">scenarios where it fires</th></tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>")


def _scenarios(outcomes: list[ScenarioOutcome]) -> str:
    items = []
    for o in outcomes:
        status = "pass" if o.passed else "FAIL"
        items.append(f'<li id="scenario-{_h(o.scenario.id)}" class="{status.lower()}"><code>{_h(o.scenario.id)}</code> '
                     f"{_h(o.scenario.label)} <span class=\"status\">{status}</span></li>")
    return f"<ul class=\"scenarios\">{''.join(items)}</ul>"


def _case(kb: KnowledgeBase, result: Result, specs: list[ChartSpec], case_svgs: dict[str, bytes]) -> str:
    parts = ["<h3>Recommendations</h3><ol>"]
    for r in result.recommendations:
        parts.append(f'<li><a href="#rule-{_h(r.id)}">{_h(r.label)}</a> <span class="modality">'
                     f"{_h(MODALITY_WORDS[r.modality])} · {_h(r.source)}</span>"
                     f"<blockquote>“{_h(r.quote or '')}”</blockquote></li>")
    parts.append("</ol>")
    if result.warnings:
        parts.append("<h3>Warnings</h3><ul>")
        parts += [f'<li class="sev-{_h(w.severity)}"><strong>{_h(w.severity)}</strong> {_h(w.label)}'
                  + (f"<div>instead: {_h(w.instead)}</div>" if w.instead else "") + "</li>" for w in result.warnings]
        parts.append("</ul>")
    if result.needs:
        parts.append("<h3>Needs</h3><ul>")
        for n in result.needs:
            answers = "; ".join(f"{a.answer}: {a.outcome}" for d in n.decides for a in d.answers)
            parts.append(f"<li><strong>{_h(n.label)}</strong> — {_h(n.question or '')}"
                         f"<div class=\"answers\">{_h(answers)}</div></li>")
        parts.append("</ul>")
    origins = getattr(result, "origins", None)  # a case read from a FHIR bundle: where each fact came from
    if origins:
        from ..engine.lang.values import format_value
        rows = "".join(f'<tr><th scope="row">{_h(fact)}</th><td>{_h(format_value(result.case.get(fact)))}</td><td>'
                       + "<br>".join(f"{_h(o.reference)} <code>{_h(o.element)}</code>" for o in where)
                       + "</td></tr>" for fact, where in sorted(origins.items()))
        parts.append('<h3>Read from FHIR</h3><table class="origins"><thead><tr><th>fact</th><th>value</th>'
                     f"<th>resource and element</th></tr></thead><tbody>{rows}</tbody></table>")
    for view in result.by_site:
        if view.present is not True:
            continue
        rows = "".join(f"<tr><th scope=\"row\">{_h(r.first)} / {_h(r.second)}</th><td class=\"rel-{_h(r.relation)}\">"
                       f"{_h(r.relation)}</td><td>{_h(', '.join(r.actions))}</td></tr>" for r in view.relations)
        parts.append(f"<h3>{_h(view.label)}: how the sources relate for this case</h3>"
                     f"<table class=\"relations\"><tbody>{rows}</tbody></table>")
    for spec in specs:
        if spec.name in case_svgs:
            parts.append(f"<h3>{_h(spec.title)} — the case's path</h3>" + _figure(spec, case_svgs, prefix="case-"))
    return "".join(parts)


CSS = """
:root{--ink:#1d2330;--muted:#5b6473;--line:#d8dde5;--bg:#fbfbfc}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 -apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:var(--ink);background:var(--bg)}
header,main,nav{max-width:1180px;margin:0 auto;padding:0 24px}
header{padding-top:24px}h1{font-size:1.6rem;margin:0 0 .25rem}h2{font-size:1.3rem;margin-top:2.2rem;
border-bottom:2px solid var(--line);padding-bottom:.2rem}h3{font-size:1.1rem;margin-top:1.6rem}
.counts,.hint,.where,.kind,.cite,.note{color:var(--muted);font-size:.85rem}
nav ul{columns:2;padding-left:1.2rem}nav .toc-3{margin-left:1rem;font-size:.95rem}
a{color:#0b5cad}code{font-size:.85em;background:#eef1f5;padding:0 .25em;border-radius:3px}
.chip{display:inline-block;border:2px solid;border-radius:6px;padding:0 .5em;margin-right:.4em;font-size:.85rem}
.source{border-left:6px solid;padding:.4rem .8rem;background:#fff}
.scroll{overflow-x:auto;max-width:100%}
figure.chart{margin:1rem 0;background:#fff;border:1px solid var(--line);border-radius:6px;padding:8px}
figure.chart svg{display:block;max-width:none;height:auto}
figure.chart .scroll{max-height:80vh;overflow:auto}
figcaption{color:var(--muted);font-size:.85rem;margin-top:.3rem}
table{border-collapse:collapse;width:100%;background:#fff;font-size:.9rem}
th,td{border:1px solid var(--line);padding:.35rem .5rem;vertical-align:top;text-align:left}
thead th{border-bottom-width:4px}
table.compare ul{margin:0;padding-left:1rem}.compare .silent{color:#b7bcc5;text-align:center}
tr.agreement th{background:#e7f5ec}tr.conflict th{background:#fde8e6}tr.single th{background:#f5f6f8}
.mark{display:block;font-weight:normal;font-size:.75rem;color:var(--muted)}
li.for{color:#14532d}li.against{color:#9b1c1c}.modality{color:var(--muted);font-size:.8rem}
blockquote{margin:.2rem 0;font-style:italic}
tr.minor td{font-size:.8rem;color:var(--muted)}
.scenarios li.fail .status,.warn{color:#b00020;font-weight:bold}.scenarios .status{font-size:.75rem;color:#2e7d32}
.sev-critical strong{color:#b00020}.sev-warning strong{color:#8a6d00}
.rel-conflicting{color:#b00020;font-weight:bold}.rel-concordant{color:#2e7d32}
@media (max-width:800px){nav ul{columns:1}header,main,nav{padding:0 12px}}
@media print{nav{display:none}figure.chart{break-inside:avoid}.scroll{overflow:visible}
body{background:#fff;font-size:11pt}a{color:inherit;text-decoration:none}}
"""
