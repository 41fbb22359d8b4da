"""The auditors' review report: one static, self-contained HTML page for a knowledge base.

Takes a loaded knowledge base, its charts laid out as SVG with their footnotes, the review
state of its rules, and optionally one case's result; returns the page, titled by the
knowledge base's name and saying what it is a report of (digest, revision, Consilium
version, time of generation): a table of contents; the sign-off per rule and what changed
since each review (engine/analysis/review.py); each site's comparison of the sources (which
actions each recommends or advises against, agreements and conflicts marked); each
pathway's charts as printable pages, each with its table of quotes; the safety rules; every
rule with its quote, source, references, modality, the scenarios that cover it and its
review state; the facts read from FHIR, each with its bindings and their notes
(render/bindings.py); and, with a case, its evaluation in a clinician's words (engine/wording.py)
with the path drawn on the charts. A print stylesheet puts each chart on a landscape sheet.

Everything from a rule file or a case is HTML-escaped. The page needs no network: styles
and SVG are inline. The same inputs give the same bytes.
"""

from __future__ import annotations

import html
import json
import re
from collections import defaultdict
from dataclasses import dataclass

from ..engine.lang import ir
from ..engine.kb import KnowledgeBase
from ..engine.evaluation.result import Result
from ..engine.analysis.scenarios import ScenarioOutcome
from ..engine.analysis.review import STATE_WORDS, ChangeSinceReview, Status
from ..engine import wording

from .flowchart import ChartSpec, Footnote, source_colours
from .bindings import bindings_section
from .words import MODALITY_WORDS, condition_words
from .legible import PRINT_BOX_MM

AGAINST = ("avoid", "not_recommended")


def _h(text: object) -> str:
    return html.escape(str(text), quote=True)


def inline_svg(svg: bytes, prefix: str) -> str:
    """An SVG document as an element to inline: no XML prolog, ids made unique on the page."""
    text = svg.decode("utf-8")
    text = text[text.index("<svg"):]
    text = re.sub(r'\bid="', f'id="{prefix}-', text)
    return text


@dataclass(frozen=True)
class Chart:
    """A chart laid out for the page: its SVG and the footnotes its numbers refer to."""

    svg: bytes
    footnotes: tuple[Footnote, ...] = ()


@dataclass(frozen=True)
class ReviewView:
    """The sign-off state for the report (engine/analysis/review.py), or why it is missing."""

    status: Status | None = None
    changes: tuple[ChangeSinceReview, ...] = ()  # one per changed rule
    problem: str | None = None              # the record could not be read: its diagnostics as text


def report(kb: KnowledgeBase, specs: list[ChartSpec], charts: dict[str, Chart], outcomes: list[ScenarioOutcome],
           result: Result | None = None, case_name: str | None = None,
           case_charts: dict[str, Chart] | None = None, review: ReviewView | None = None,
           generated_at: str | None = None) -> str:
    colours = source_colours(kb)
    identity = kb.identity
    sections: list[str] = []
    toc: list[str] = []

    def section(anchor: str, title: str, body: str, level: int = 2) -> None:
        sections.append(f'<section id="{_h(anchor)}">{_headed(f"<h{level}>{_h(title)}</h{level}>", body)}</section>')
        toc.append(f'<li class="toc-{level}"><a href="#{_h(anchor)}">{_h(title)}</a></li>')

    pages = _pages_by_pathway(specs)
    if result is not None:
        section("case", f"The case: {case_name}", _case(kb, result, specs, case_charts or {}))
    if review is not None:
        section("review", "Review: sign-off per rule", _review(kb, review))
    sites = list(kb.sites.values())
    section("sites", "By site: the sources side by side", "<p>For each site, what each source recommends "
            "(green), advises against (red), and where they agree or conflict; then the charts of the "
            "pathways that speak of it.</p>")
    for site in sites:
        body = _comparison(kb, site, colours)
        body += _chart_links(kb, [p for p in kb.pathways if site.id in p.sites], pages)
        section(f"site-{site.id}", site.label, body, level=3)
    section("sources", "By source", "")
    for source_id, source in kb.sources.items():
        line, fill = colours[source_id]
        meta = " · ".join(_h(x) for x in (f"version {source.version}" if source.version else "",
                                          f"reference {source.ref}" if source.ref else "") if x)
        body = (f'<p class="source" style="border-left-color:{line}"><strong>{_h(source.title)}</strong>'
                f'{" · " + meta if meta else ""}' + (f"<br>{_h(source.note)}" if source.note else "") + "</p>")
        body += _chart_links(kb, [p for p in kb.pathways if p.source == source_id], pages)
        section(f"source-{source_id}", source_id, body, level=3)
    section("pathways", "Pathways", "<p>Each pathway is drawn on pages that print legibly on one sheet; a "
            "dashed box links to the page that continues it. The numbers in the boxes refer to the table of "
            "quotes under each page.</p>")
    for pathway in kb.pathways:
        drawn = pages.get(pathway.id, [])
        listing = "" if len(drawn) < 2 else (
            '<ol class="pages">' + "".join(f'<li><a href="#{_h(s.name)}">{_h(s.title)}</a></li>' for s in drawn)
            + "</ol>")
        body = _headed(listing, "".join(_figure(spec, charts) for spec in drawn))
        section(f"pathway-{pathway.id}", pathway.label, body, level=3)
    safety = [s for s in specs if s.kind == "safety"]
    if safety:
        section("safety", "Errors to avoid (safety rules)", "".join(_figure(s, charts) for s in safety))
    findings = [s for s in specs if s.kind == "findings"]
    if findings:
        section("findings", "Findings: clinical conclusions and their criteria",
                "".join(_figure(s, charts) for s in findings))
    section("rules", "Every rule, with its source", _rules_table(kb, outcomes, review))
    if any(f.bindings for f in kb.facts.values()):
        section("fhir", "Facts read from FHIR, and how", bindings_section(kb))
    section("scenarios", "Scenario tests", _scenarios(outcomes))

    title = identity.name
    counts = (f"{len(kb.files)} files · {len(kb.sources)} sources · {len(kb.facts)} facts · "
              f"{len(kb.pathways)} pathways · {sum(len(p.nodes) for p in kb.pathways)} pathway nodes · "
              f"{len(kb.safeties)} safety rules · {len(outcomes)} scenarios "
              f"({sum(o.passed for o in outcomes)} passing)")
    legend = "".join(f'<span class="chip" style="background:{fill};border-color:{line}">{_h(sid)}</span>'
                     for sid, (line, fill) in colours.items())
    what = (f'<dl class="identity"><dt>Knowledge base</dt><dd><code>{_h(identity.root)}</code></dd>'
            f'<dt>Digest of its {identity.files} files</dt><dd><code class="digest">{_h(identity.digest)}</code></dd>'
            f'<dt>Git revision</dt><dd>{_h(identity.revision or "none (not in a git repository)")}</dd>'
            f'<dt>Consilium</dt><dd>{_h(identity.consilium_version)}</dd>'
            + (f'<dt>Generated</dt><dd><time datetime="{_h(generated_at)}">{_h(generated_at)}</time></dd>'
               if generated_at else "") + "</dl>")
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{_h(title)} — Consilium review</title><style>{CSS}</style></head><body>"
            f"<header><p class=\"kicker\">Consilium review report</p><h1>{_h(title)}</h1>{what}"
            f"<p class=\"counts\">{_h(counts)}</p><p>Sources: {legend}</p></header>"
            f"<nav aria-label=\"Contents\"><h2>Contents</h2><ul>{''.join(toc)}</ul></nav>"
            f"<main>{''.join(sections)}</main>"
            f"<footer>{_h(identity.words())}{' · generated ' + _h(generated_at) if generated_at else ''}</footer>"
            f"</body></html>\n")


def _pages_by_pathway(specs: list[ChartSpec]) -> dict[str, list[ChartSpec]]:
    pages: dict[str, list[ChartSpec]] = {}
    for spec in specs:
        if spec.kind == "pathway":
            pages.setdefault(spec.groups[0][1][0], []).append(spec)
    return pages


def _chart_links(kb: KnowledgeBase, pathways: list[ir.Pathway], pages: dict[str, list[ChartSpec]]) -> str:
    if not pathways:
        return ""
    items = []
    for p in pathways:
        drawn = pages.get(p.id, [])
        count = f" ({len(drawn)} pages)" if len(drawn) > 1 else ""
        items.append(f'<li><a href="#pathway-{_h(p.id)}">{_h(p.label)}</a>{_h(count)}</li>')
    return f'<p class="charts-here">Charts:</p><ul class="charts-here">{"".join(items)}</ul>'


def _headed(heading: str, body: str) -> str:
    """A heading (or any lead-in) and what follows it; when a chart page follows, the heading goes
    inside that page, so that in print it stands on the chart's landscape sheet, not alone on a
    portrait one."""
    if body.startswith('<div class="chart-page"'):
        opening = body.index(">") + 1
        return body[:opening] + heading + body[opening:]
    return heading + body


def _figure(spec: ChartSpec, charts: dict[str, Chart], prefix: str = "") -> str:
    drawn = charts.get(spec.name)
    if drawn is None:
        return ""
    return (f'<div class="chart-page" id="{_h(prefix + spec.name)}">'
            f'<figure class="chart" data-chart="{_h(prefix + spec.name)}">'
            f'<div class="scroll">{inline_svg(drawn.svg, prefix + spec.name)}</div>'
            f"<figcaption>{_h(spec.title)}</figcaption></figure>{_notes(drawn.footnotes)}</div>")


def _notes(footnotes) -> str:
    """The footnotes of a chart as a table: the quote each number stands for, and where it is from."""
    if not footnotes:
        return ""
    rows = "".join(
        f'<tr><th scope="row">[{n.number}]</th><td><blockquote>“{_h(n.quote)}”</blockquote></td>'
        f"<td>{_h(n.source)}{', ' + _h(n.section) if n.section else ''}"
        f"{', refs ' + _h(', '.join(map(str, n.refs))) if n.refs else ''}</td>"
        f'<td><a href="#rule-{_h(n.rule)}">{_h(n.label)}</a></td></tr>' for n in footnotes)
    return ('<table class="notes"><thead><tr><th scope="col">note</th><th scope="col">quote</th>'
            f'<th scope="col">source</th><th scope="col">rule</th></tr></thead><tbody>{rows}</tbody></table>')


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
    for _pathway, rule in _site_rules(kb, site):
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
        rows.append(f'<tr class="{css}"><th scope="row">{_h(wording.words(action))}'
                    f'<span class="mark">{mark}</span></th>{"".join(cells)}</tr>')
    return (f'<div class="scroll"><table class="compare"><thead><tr><th scope="col">action</th>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>"
            "<p class=\"hint\">Whether two sources agree for a given patient depends on the patient: "
            "<code>consilium eval</code> classifies each pair for a case (concordant, complementary, conflicting, "
            "silent).</p>")


def _review_cell(review: ReviewView | None, rule_id: str) -> str:
    status = review.status if review is not None else None
    state = status.of(rule_id) if status is not None else None
    if state is None:
        return "<td></td>" if status is None else '<td class="review unreviewed">—</td>'
    words = STATE_WORDS[state.state]
    last = state.review
    detail = (f'<div class="where">{_h(last.verdict)} by {_h(last.by)}, {_h(last.date.isoformat())}'
              + (f": “{_h(last.comment)}”" if last.comment else "") + "</div>") if last else ""
    return f'<td class="review {_h(state.state)}">{_h(words)}{detail}</td>'


def _rules_table(kb: KnowledgeBase, outcomes: list[ScenarioOutcome], review: ReviewView | None = None) -> str:
    fired: dict[str, list[str]] = defaultdict(list)
    asserted: dict[str, set[str]] = defaultdict(set)
    for outcome in outcomes:
        for rid in (outcome.result.recommendation_ids() + outcome.result.warning_ids()
                    + [f.id for f in outcome.result.findings]):
            if outcome.scenario.id not in fired[rid]:
                fired[rid].append(outcome.scenario.id)
        for e in outcome.scenario.expectations:
            if e.target:
                asserted[e.target].add(outcome.scenario.id)
    rows = []
    facts, defines = kb.facts, kb.defines
    things: list[tuple[str, ir.Recommend | ir.Warn | ir.Safety | ir.Finding, ir.Pathway | None]] = [
        (n.id, n, p) for p in kb.pathways for n in p.nodes if isinstance(n, (ir.Recommend, ir.Warn))]
    things += [(s.id, s, None) for s in kb.safeties]
    things += [(f.id, f, None) for f in kb.checked.findings]
    for rule_id, rule, pathway in things:
        p = rule.provenance or ir.Provenance(source="")
        kind = {ir.Recommend: "recommendation", ir.Warn: "warning", ir.Safety: "safety rule",
                ir.Finding: "finding"}[type(rule)]
        grade = MODALITY_WORDS[rule.modality] if isinstance(rule, ir.Recommend) else getattr(rule, "severity", "")
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
            f"{', ' + _h(p.section) if p.section else ''}"
            f"{', refs ' + _h(', '.join(map(str, p.refs))) if p.refs else ''}"
            f"</div>{'<div class=note>' + _h(p.note) + '</div>' if p.note else ''}</td><td>{scenarios}</td>"
            f"{_review_cell(review, rule_id)}</tr>")
    # Decisions get an anchor too, so that every node on a chart links somewhere.
    for pathway in kb.pathways:
        for node in pathway.nodes:
            if isinstance(node, (ir.Decide, ir.Step, ir.Schedule)):
                label = getattr(node, "question", None) or getattr(node, "label", None) or f"plan {node.id}"
                quote = node.provenance.quote if isinstance(node, ir.Decide) and node.provenance else ""
                rows.append(f'<tr id="rule-{_h(node.id)}" class="minor"><td><code>{_h(node.id)}</code></td>'
                            f"<td>{_h(label)}<div class=\"kind\">{_h(type(node).__name__.lower())} · "
                            f"{_h(pathway.label)}</div></td>"
                            f"<td>{'<blockquote>“' + _h(quote) + '”</blockquote>' if quote else ''}"
                            f"</td><td></td>{_review_cell(review, node.id)}</tr>")
    for define in kb.defines.values():
        quote = define.provenance.quote if define.provenance else ""
        rows.append(f'<tr id="rule-{_h(define.id)}" class="minor"><td><code>{_h(define.id)}</code>'
                    f'<div class="where">'
                    f'{_h(f"{define.span.file}:{define.span.line}" if define.span else "")}</div></td>'
                    f"<td>{_h(define.label or define.id)}"
                    f"<div class=\"when\">means {_h(condition_words(define.expr, facts, defines))}"
                    f"</div><div class=\"kind\">definition</div></td>"
                    f"<td>{'<blockquote>“' + _h(quote) + '”</blockquote>' if quote else ''}</td><td></td>"
                    f"{_review_cell(review, define.id)}</tr>")
    return ('<p>* the scenario also asserts it. Rules are listed with the file and line where they are written.</p>'
            '<div class="scroll"><table class="rules"><thead><tr><th scope="col">rule</th><th scope="col">what it says'
            '</th><th scope="col">source</th><th scope="col">scenarios where it fires</th>'
            '<th scope="col">review</th></tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>")


def _scenarios(outcomes: list[ScenarioOutcome]) -> str:
    items = []
    for o in outcomes:
        status = "pass" if o.passed else "FAIL"
        items.append(f'<li id="scenario-{_h(o.scenario.id)}" class="{status.lower()}"><code>{_h(o.scenario.id)}</code> '
                     f"{_h(o.scenario.label)} <span class=\"status\">{status}</span></li>")
    return f"<ul class=\"scenarios\">{''.join(items)}</ul>"


_DIFF_CLASS = {"-": "then", "+": "now", " ": "both"}


def _review(kb: KnowledgeBase, review: ReviewView) -> str:
    """Counts by state, what blocks a release, reviews of rules gone, and what changed since review."""
    if review.problem is not None:
        return ('<p class="warn">The review record could not be read, so no rule can count as reviewed:</p>'
                f"<pre class=\"diagnostics\">{_h(review.problem)}</pre>")
    status = review.status
    assert status is not None  # a review view has a status unless its record could not be read
    counts = "".join(f'<li class="review {_h(s)}">{status.count(s)} {_h(STATE_WORDS[s])}</li>' for s in
                     ("approved", "questioned", "rejected", "changed", "unreviewed"))
    recorded = (f"The record: <code>{_h(status.record.name)}</code> ({len(status.record.reviews)} "
                f"review{'s' if len(status.record.reviews) != 1 else ''})."
                if status.record.path.exists() else
                f"No review is recorded yet (<code>{_h(status.record.name)}</code> does not exist; "
                "<code>consilium review sign</code> writes it).")
    parts = [f"<p>{recorded} "
             "A review expires when what its rule says changes; <code>consilium check --require-review</code> "
             "fails while a rule is never reviewed, changed since its review, or rejected.</p>",
             f'<ul class="review-counts">{counts}</ul>']
    if status.orphans:
        items = "".join(f"<li><code>{_h(o.rule)}</code>: {_h(o.verdict)} by {_h(o.by)}, {_h(o.date.isoformat())}"
                        f"{': “' + _h(o.comment) + '”' if o.comment else ''}</li>" for o in status.orphans)
        parts.append(f"<h3>Reviews of rules that no longer exist</h3><ul>{items}</ul>")
    questioned = [(r, r.review) for r in status.rules if r.state in ("questioned", "rejected") and r.review]
    if questioned:
        items = "".join(f'<li><a href="#rule-{_h(r.rule.id)}">{_h(r.rule.label)}</a> — <strong>{_h(r.state)}</strong>'
                        f" by {_h(seen.by)}, {_h(seen.date.isoformat())}"
                        f"{': “' + _h(seen.comment) + '”' if seen.comment else ''}</li>" for r, seen in questioned)
        parts.append(f"<h3>Questioned or rejected</h3><ul>{items}</ul>")
    parts.append('<h3 id="changed-since-review">Changed since last review</h3>')
    labels = wording.rule_labels(kb)
    if not review.changes:
        parts.append("<p>No reviewed rule has changed since its review.</p>")
    for change in review.changes:
        state, last = change.state, change.state.review
        assert last is not None  # a rule changed since its review has one
        head = (f'<h4><a href="#rule-{_h(state.rule.id)}">{_h(state.rule.label)}</a> '
                f'<code>{_h(state.rule.id)}</code></h4>'
                f"<p>{_h(state.rule.kind)}; {_h(last.verdict)} by {_h(last.by)} on {_h(last.date.isoformat())}"
                + (f" at revision {_h(change.reviewed_at)}" if change.reviewed_at else "") + "</p>")
        if change.note:
            parts.append(head + f"<p class=\"hint\">No semantic diff: {_h(change.note)}.</p>")
            continue
        declared = "".join(f"<li>{_h(c.kind)} {_h(c.what)} <code>{_h(c.id)}</code></li>" for c in change.changes)
        regions = "".join(
            f"<li><a href=\"#rule-{_h(r.rule)}\">{_h(r.label)}</a> {_h(r.change)} for a case such as "
            f"<code>{_h(json.dumps(r.case, ensure_ascii=False))}</code>"
            f"<div class=\"where\">before: {_h('; '.join(labels.get(x, x) for x in r.before) or 'nothing')}<br>after: "
            f"{_h('; '.join(labels.get(x, x) for x in r.after) or 'nothing')}</div></li>" for r in change.regions)
        fires = state.rule.kind in ("recommendation", "warning", "safety rule")
        then_now = "".join(f'<span class="{_DIFF_CLASS[line[:1]]}">{_h(line)}</span>\n' for line in change.text)
        parts.append(head + (f"<ul>{declared}</ul>" if declared else "")
                     + ('<p class="hint">What it says, then (−) and now (+):</p>'
                        f'<pre class="rule-diff">{then_now}</pre>' if then_now else "")
                     + (f"<p>Cases whose result changes{'' if fires else ' between that revision and now'}:</p>"
                        f"<ul>{regions}</ul>"
                        if regions else "<p>No case is decided differently: the change is in wording, quote or "
                        "provenance.</p>"))
    return "".join(parts)


def _advice(result: Result) -> list[str]:
    """Findings with their reasons, contradictions in the case, conditional options, choices."""
    parts = []
    if result.findings:
        parts.append('<h3>Findings</h3><ul class="findings">')
        parts += [f'<li id="case-finding-{_h(f.id)}"><strong>{_h(f.label)}</strong> '
                  f'<span class="modality">{_h(f.source)}</span>'
                  f"<ul>{''.join(f'<li>{_h(r.text)}</li>' for r in f.reasons)}</ul>"
                  + "".join(f'<p class="concluded">concluded in the pathway “{_h(words)}”</p>'
                            for _, _, words in getattr(f, "concluded_at", ()))
                  + f"<blockquote>“{_h(f.quote or '')}”</blockquote></li>" for f in result.findings]
        parts.append("</ul>")
    if result.contradictions:
        parts.append('<h3>Contradictions in the case</h3><ul class="contradictions">')
        parts += [f'<li class="sev-warning"><strong>{_h(c.label)}</strong>: '
                  f"{_h('; '.join(r.text for r in c.reasons))}</li>" for c in result.contradictions]
        parts.append("</ul>")
    if result.options:
        parts.append('<h3>Conditional options (the team decides)</h3><ul class="options">')
        parts += [f'<li><a href="#rule-{_h(o.id)}">{_h(o.label)}</a> <span class="modality">{_h(o.qualifier)} · '
                  f"{_h(o.source)}</span><blockquote>“{_h(o.quote or '')}”</blockquote></li>" for o in result.options]
        parts.append("</ul>")
    if result.choices:
        parts.append('<h3>Alternatives: one choice each</h3><ul class="choices">')
        parts += [f"<li><strong>{_h(c.label)}</strong>: {_h(' or '.join(c.alternatives))}</li>" for c in result.choices]
        parts.append("</ul>")
    return parts


def _case(kb: KnowledgeBase, result: Result, specs: list[ChartSpec], case_charts: dict[str, Chart]) -> str:
    parts = _advice(result)
    parts.append("<h3>Recommendations</h3><ol>")
    for r in result.recommendations:
        because = wording.why(kb, result, r.id, r.path)
        parts.append(f'<li><a href="#rule-{_h(r.id)}">{_h(r.label)}</a> <span class="modality">'
                     f"{_h(MODALITY_WORDS[r.modality])} · {_h(r.source)}</span>"
                     f"<blockquote>“{_h(r.quote or '')}”</blockquote>"
                     + (f'<div class="because">because: {_h(because)}</div>' if because else "") + "</li>")
    parts.append("</ol>")
    said = wording.warnings(result)
    if said:
        parts.append("<h3>Warnings</h3><ul>")
        for w in said:
            parts.append(f'<li class="sev-{_h(w.severity)}"><strong>{_h(w.severity)}</strong> {_h(w.label)}'
                         + (f"<blockquote>“{_h(w.quote)}”</blockquote>" if w.quote else "")
                         + (f"<div>instead: {_h(w.instead)}</div>" if w.instead else "")
                         + f'<div class="where">{_h(wording.said_by(wording.origin_words(kb, w)))}</div></li>')
        parts.append("</ul>")
    asked = wording.questions(kb, result)
    if asked:
        parts.append("<h3>Still to find out</h3><p class=\"hint\">First what settles the most open "
                     "decisions.</p><ul class=\"needs\">")
        for q in asked:
            if q.together:
                parts.append(f"<li><strong>{_h(' and '.join(n.label for n in q.needs))}</strong> — decide only "
                             f"together: {_h('; '.join(q.decides))}</li>")
                continue
            [n] = q.needs
            answers = "; ".join(f"if {wording.answer_words(a.answer)}: {wording.outcome_words(kb, a.outcome)}"
                                for d in n.decides for a in d.answers)
            parts.append(f"<li><strong>{_h(n.label)}</strong> — {_h(n.question or '')}"
                         f"<div class=\"answers\">{_h(answers)}</div></li>")
        parts.append("</ul>")
    if result.unchecked:
        parts.append("<h3>Safety checks not completed</h3><ul>")
        parts += [f"<li>{_h(u.label)} — {_h(wording.unchecked_words(kb, result, u))}</li>"
                  for u in result.unchecked]
        parts.append("</ul>")
    if result.plans:
        parts.append("<h3>Plans</h3><ul>")
        for p in result.plans:
            parts.append(f"<li><strong>{_h(p.label)}</strong> — {_h(wording.anchor_words(kb, p))}</li>")
        parts.append("</ul>")
    origins = getattr(result, "origins", None)  # a case read from a FHIR bundle: where each fact came from
    if origins:
        from ..engine.lang.values import format_value
        rows = "".join(f'<tr><th scope="row"><a href="#fhir-{_h(fact)}">{_h(wording.fact_label(kb, fact))}</a></th>'
                       f'<td>{_h(format_value(result.case.get(fact)))}</td><td>'
                       + "<br>".join(f"{_h(o.reference)} <code>{_h(o.element)}</code>" for o in where)
                       + "</td></tr>" for fact, where in sorted(origins.items()))
        parts.append('<h3>Read from FHIR</h3><table class="origins"><thead><tr><th>fact</th><th>value</th>'
                     f"<th>resource and element</th></tr></thead><tbody>{rows}</tbody></table>")
    for view in result.by_site:
        if view.present is not True:
            continue
        rows = "".join(f"<tr><th scope=\"row\">{_h(r.first)} and {_h(r.second)}</th><td class=\"rel-{_h(r.relation)}\">"
                       f"{_h(r.relation)}</td><td>{_h(', '.join(map(wording.words, r.actions)))}</td></tr>"
                       for r in view.relations)
        parts.append(f"<h3>{_h(view.label)}: how the sources relate for this case</h3>"
                     f"<table class=\"relations\"><tbody>{rows}</tbody></table>")
    for spec in specs:
        if spec.name in case_charts:
            parts.append(_headed(f"<h3>{_h(spec.title)} — the case's path</h3>",
                                 _figure(spec, case_charts, prefix="case-")))
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
.kicker{margin:0;color:var(--muted);font-size:.85rem;text-transform:uppercase;letter-spacing:.06em}
dl.identity{display:grid;grid-template-columns:max-content 1fr;gap:.1rem .8rem;font-size:.85rem;margin:.4rem 0}
dl.identity dt{color:var(--muted)}dl.identity dd{margin:0}.digest{word-break:break-all}
footer{max-width:1180px;margin:2rem auto;padding:0 24px;color:var(--muted);font-size:.8rem}
table.notes{font-size:.8rem;margin:.2rem 0 1.4rem}table.notes th{white-space:nowrap}
table.notes blockquote{margin:0}
ul.charts-here{margin-top:0}p.charts-here{margin-bottom:.2rem}
.because,.answers{color:var(--muted);font-size:.85rem}
ul.review-counts{display:flex;flex-wrap:wrap;gap:.4rem 1.2rem;list-style:none;padding:0}
td.review{font-size:.85rem;white-space:nowrap}td.review .where{white-space:normal}
.review.approved{color:#2e7d32}.review.questioned{color:#8a6d00}.review.rejected,.review.changed{color:#b00020}
.review.unreviewed{color:var(--muted)}pre.diagnostics{background:#fff;border:1px solid var(--line);padding:.5rem;
overflow-x:auto}
dl.binding code{overflow-wrap:anywhere}table.bindings th:first-child{width:13rem}
dl.binding+dl.binding{border-top:1px dashed var(--line);padding-top:.4rem}
dl.binding{display:grid;grid-template-columns:max-content 1fr;gap:.1rem .6rem;margin:0 0 .5rem}
dl.binding dt{color:var(--muted);font-size:.85rem}dl.binding dd{margin:0;min-width:0}
pre.rule-diff{background:#fff;border:1px solid var(--line);padding:.5rem;overflow-x:auto;font-size:.8rem}
pre.rule-diff .then{background:#fde8e6;color:#9b1c1c}pre.rule-diff .now{background:#e7f5ec;color:#14532d}
@media (max-width:800px){nav ul{columns:1}header,main,nav{padding:0 12px}}
/* Print: the text on A4 portrait; each chart page on an A4 landscape sheet of its own, shrunk to
   fit render/legible.py's PRINT_BOX_MM (265 x 150 mm) at most (render/pages.py keeps every
   chart's text at 8 pt or more at that size,
   tests/test_print.py checks it in Chromium), with its table of quotes after it. The heading of a
   chart sits inside its chart page (report._headed), so it prints on the chart's sheet; the list
   of a pathway's pages (links, and each caption says "page n of m") is not printed. */
@page{size:A4 portrait;margin:12mm}
@page chart{size:A4 landscape;margin:10mm}
@media print{
nav{display:none}body{background:#fff;font-size:10pt}header,main,footer{max-width:none;padding:0}
a{color:inherit;text-decoration:none}h2,h3,h4{break-after:avoid}tr,li,blockquote{break-inside:avoid}
.scroll,figure.chart .scroll{overflow:visible;max-height:none}
.chart-page{page:chart;break-before:page}ol.pages{display:none}
figure.chart{break-inside:avoid;border:0;padding:0;margin:0 0 4mm}
figure.chart svg{max-width:BOX_Wmm;max-height:BOX_Hmm}
table{font-size:8.5pt}table.rules td:first-child{word-break:break-all}
}
""".replace("BOX_W", str(PRINT_BOX_MM[0])).replace("BOX_H", str(PRINT_BOX_MM[1]))
