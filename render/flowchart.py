"""Flowcharts: a knowledge base's pathways (and optionally one case's path) -> a DOT graph.

The visual grammar follows the way guideline bodies draw pathways: decisions as diamonds
holding their question, branches labelled with their condition in words, recommendations
as boxes with the action, modality and source, warnings set apart in double-bordered boxes,
red or amber by severity, plans as folders listing their steps in time. Each source has its
colour, shown in a legend; every
rule carries a footnote number, and `draw` returns the footnotes with the chart (the
report prints them as a table under it; SVG tooltips and links carry them too): no text of
quotes inside the image. A page of a large pathway (render/specs.py, render/pages.py)
draws its part and links where an edge continues on another page.

With a case's result, the path it took is drawn bold and dark, what it did not take is
greyed, undecided decisions are dashed with the facts they need, raised warnings are red.

Building the graph is pure and deterministic: nodes and edges in declaration order, so the
same knowledge base gives byte-identical DOT. Every string from a rule file or a case goes
through `graphviz.escape`, so it is drawn as text, never read as DOT or HTML markup.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import graphviz

from ..engine.lang import ir
from ..engine.kb import KnowledgeBase
from ..engine.evaluation.result import Result
from ..engine.lang.values import Duration

from .specs import ChartSpec, chart_specs, p_label  # the charts a knowledge base offers, named here too
from .words import MODALITY_WORDS, condition_words, lower_first, value_words, wrap

PALETTE = [  # Okabe-Ito: distinguishable with the common colour-vision deficiencies
    ("#0072B2", "#DDEBF7"), ("#D55E00", "#FBE3D6"), ("#009E73", "#D4F0E6"), ("#CC79A7", "#F6E4EF"),
    ("#E69F00", "#FCEFD2"), ("#56B4E9", "#E1F1FB"), ("#999999", "#EEEEEE"),
]
PATH = "#111111"
GREY, GREY_FILL, GREY_TEXT = "#C9C9C9", "#F5F5F5", "#9A9A9A"
RED = "#C0392B"
CHANGED = "#7B2CBF"
FONT = "Helvetica"
# Characters per line of each kind of label: narrow boxes keep a page's columns within a
# printed sheet (tests/test_print.py), at the cost of a line or two more per box.
QUESTION, EDGE, BOX, LINK, SAFETY = 22, 20, 28, 22, 64


def source_colours(kb: KnowledgeBase) -> dict[str, tuple[str, str]]:
    """(line, fill) colour of each source, in declaration order."""
    return {source: PALETTE[i % len(PALETTE)] for i, source in enumerate(kb.sources)}


def _e(text: str) -> str:
    """Text from a rule file or a case, made safe for a DOT string."""
    return graphviz.escape(text)


def _lines(*lines: str) -> str:
    return "\\n".join(_e(line) for line in lines)


@dataclass(frozen=True)
class Footnote:
    """The provenance a chart's footnote number stands for: shown as a table beside the chart."""

    number: int
    rule: str
    source: str
    section: str | None
    refs: tuple[int, ...]
    quote: str
    label: str = ""      # the rule's label (its question, for a decision)


@dataclass(frozen=True)
class Drawn:
    """One chart: its DOT graph and the footnotes its nodes' numbers refer to."""

    graph: graphviz.Digraph
    footnotes: tuple[Footnote, ...]

    @property
    def source(self) -> str:
        return self.graph.source


@dataclass
class _Overlay:
    """What one case did, for drawing its path."""

    visited: set[str] = field(default_factory=set)
    taken: set[tuple[str, str]] = field(default_factory=set)
    undecided: dict[str, list[str]] = field(default_factory=dict)
    fired: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, result: Result | None) -> "_Overlay | None":
        if result is None:
            return None
        overlay = cls()
        # The facts that would decide each open node, as the result's needs and unchecked safety
        # rules give them: not every unknown fact it read (the lungs' resectability is no need
        # of a patient whose metastases are in the liver alone).
        deciding: dict[str, list[str]] = {}
        for need in result.needs:
            for decided in need.decides:
                deciding.setdefault(decided.node, []).append(need.fact)
        for unchecked in result.unchecked:
            deciding[unchecked.rule] = list(unchecked.needs)
        for step in result.trace:
            overlay.visited.add(step.node)
            overlay.taken.update((step.node, target) for target in step.next)
            if step.outcome.startswith(("undecided", "not checked")):
                overlay.undecided[step.node] = deciding.get(step.node, [])
        overlay.fired = {r.id for r in result.recommendations} | {w.id for w in result.warnings}
        return overlay


class _Chart:
    def __init__(self, kb: KnowledgeBase, name: str, title: str, result: Result | None):
        self.kb = kb
        self.colours = source_colours(kb)
        self.overlay = _Overlay.of(result)
        # each plan step's dates for this case, as words
        self.dates = {(plan.id, s.id): _dates(s) for plan in result.plans for s in plan.steps} if result else {}
        # per node, the findings a pathway concludes there (words, and the case's reasons when reached)
        self.concluded: dict[str, list[tuple[str, str | None]]] = _concluded(kb, result)
        self.footnotes: list[Footnote] = []
        self.graph = graphviz.Digraph(name=name)
        self.graph.attr(rankdir="LR", fontname=FONT, fontsize="11", nodesep="0.25", ranksep="0.5",
                        labelloc="b", labeljust="l", newrank="true", tooltip=_e(title))
        self.graph.attr("node", fontname=FONT, fontsize="10", margin="0.12,0.06")
        # no text under 10 pt at full size: printed pages may shrink a chart by a fifth (tests/test_print.py)
        self.graph.attr("edge", fontname=FONT, fontsize="10", color="#555555", arrowsize="0.7")
        self.title = title

    # ---- colours and case overlay -----------------------------------------------------------
    def _colour(self, source: str | None) -> tuple[str, str]:
        return self.colours.get(source or "", PALETTE[-1])

    def _seen(self, node_id: str) -> bool:
        return self.overlay is None or node_id in self.overlay.visited

    def _style(self, node_id: str, attrs: dict) -> dict:
        if self.overlay is None:
            return attrs
        if node_id not in self.overlay.visited:
            attrs.update(color=GREY, fillcolor=GREY_FILL, fontcolor=GREY_TEXT, penwidth="1")
        elif node_id in self.overlay.undecided:
            attrs.update(style=attrs.get("style", "") + ",dashed", color="#8A6D00", penwidth="2.5")
        else:
            attrs.update(penwidth="3", color=RED if attrs.get("_warn") and node_id in self.overlay.fired else PATH)
        return attrs

    def _edge_style(self, tail: str, head: str, attrs: dict) -> dict:
        if self.overlay is None:
            return attrs
        if (tail, head) in self.overlay.taken:
            attrs.update(penwidth="3", color=PATH, fontcolor=PATH)
        else:
            attrs.update(color=GREY, fontcolor=GREY_TEXT)
        return attrs

    def _footnote(self, provenance: ir.Provenance | None, rule: str = "", label: str = "") -> str:
        if provenance is None or not provenance.quote:
            return ""
        number = len(self.footnotes) + 1
        self.footnotes.append(Footnote(number, rule, provenance.source, provenance.section, provenance.refs,
                                       provenance.quote, label or rule))
        return f"[{number}]"

    # ---- nodes ------------------------------------------------------------------------------
    def node(self, target: graphviz.Digraph, pathway: ir.Pathway, node: ir.Node) -> None:
        facts, defines = self.kb.facts, self.kb.defines
        match node:
            case ir.Decide():
                note = self._footnote(node.provenance, node.id, node.question)
                line, fill = self._colour((node.provenance.source if node.provenance else None) or pathway.source)
                attrs = dict(shape="diamond", style="filled", fillcolor="white", color=line,
                             label=_lines(*wrap(node.question, QUESTION)) + (f"\\n{note}" if note else ""))
                self._add(target, node.id, attrs, node.provenance)
                subject = _subject(node)
                for branch in node.branches:
                    words = "otherwise" if branch.condition is None else \
                        condition_words(branch.condition, facts, defines, subject)
                    if len(words) > 70 and branch.label:
                        words = branch.label
                    head = branch.target or f"{pathway.id}__end"
                    edge = dict(label=_lines(*wrap(words, EDGE)), tooltip=_e(words))
                    target.edge(node.id, self._to(target, head, node.id), **self._edge_style(node.id, head, edge))
                needs = self._needs_of(node)
                if needs:
                    self._needs_note(target, node.id, needs)
            case ir.Step():
                # `choose`: the steps that follow are alternatives, one choice among them
                attrs = dict(shape="box", style="rounded,filled", fillcolor="#FAFAFA", color="#777777",
                             label=_lines(*wrap(node.label, BOX), *(["choose one"] if node.choice else [])))
                self._add(target, node.id, attrs, None)
                self._then(target, pathway, node.id, node.then, "or" if node.choice else None)
            case ir.Recommend():
                p = node.provenance
                note = self._footnote(p, node.id, node.label)
                line, fill = self._colour(p.source)
                against = node.modality in ("avoid", "not_recommended")
                lines = wrap(("Do not: " if against else "") + node.label, BOX)
                if node.guard is not None:
                    lines += wrap("if " + lower_first(condition_words(node.guard, facts, defines)), BOX)
                lines.append(f"{MODALITY_WORDS[node.modality]} · {p.source} {note}".rstrip())
                attrs = dict(shape="box", style="rounded,filled" + (",bold" if against else ""),
                             fillcolor=fill, color=RED if against else line, label=_lines(*lines))
                self._add(target, node.id, attrs, p)
                self._then(target, pathway, node.id, node.then)
                if node.guard is not None and node.id in (self.overlay.undecided if self.overlay else {}):
                    self._needs_note(target, node.id, self._needs_of(node))
            case ir.Warn():
                p = node.provenance
                note = self._footnote(p, node.id, node.label)
                lines = wrap(f"Warning: {node.label}", BOX)
                if node.guard is not None:
                    lines += wrap("if " + lower_first(condition_words(node.guard, facts, defines)), BOX)
                lines.append(f"{node.severity} · {p.source} {note}".rstrip())
                if node.instead:
                    lines += wrap("instead: " + node.instead, BOX)
                colour = RED if node.severity == "critical" else (
                    "#B8860B" if node.severity == "warning" else "#607D8B")
                attrs = dict(shape="box", peripheries="2", style="filled",
                             fillcolor="#FFF4E5" if node.severity != "info" else "#EEF3F6",
                             color=colour, label=_lines(*lines), _warn="1")
                self._add(target, node.id, attrs, p)
                self._then(target, pathway, node.id, node.then)
            case ir.Schedule():
                plan = self.kb.plans[node.id]
                note = self._footnote(plan.provenance, plan.id, plan.label)
                line, fill = self._colour(plan.provenance.source)
                lines = wrap(f"Plan: {plan.label}", 40) + [f"from: {self.kb.facts[plan.anchor].label}"]
                for step in plan.steps:
                    lines += wrap(f"- {step.label}: {_timing(step, plan)}", 46)
                    dated = self.dates.get((plan.id, step.id))
                    if dated:
                        lines.append(f"   {dated}")
                lines.append(f"{plan.provenance.source} {note}".rstrip())
                attrs = dict(shape="folder", style="filled", fillcolor=fill, color=line,
                             label="\\l".join(_e(x) for x in lines) + "\\l")
                self._add(target, node.id, attrs, plan.provenance)

    changed: set[str] = set()
    only: set[str] | None = None                      # a page: the nodes drawn on it
    elsewhere: dict[str, tuple[str, str]] = {}        # a page: node -> (page name, page title)
    stubs: set = set()                                # the links to other pages drawn so far
    shared: dict[str, tuple[str, str]] = {}           # nodes drawn again here: node -> its own page
    page_link = "#{name}"                             # where a link to another page points

    def drawn(self, node_id: str) -> bool:
        return self.only is None or node_id in self.only

    def _to(self, target: graphviz.Digraph, head: str, tail: str = "") -> str:
        """Where an edge to `head` ends on this page: the node, or a link to the page drawing it
        (for a node drawn again on a continuation page, one link to its own page)."""
        if self.drawn(head) or head not in self.elsewhere:
            return head
        name, title = self.shared[tail] if tail in self.shared else self.elsewhere[head]
        if tail in self.shared:
            title = f"{title.split(':', 1)[0]}: the other branches"
        stub = f"to__{name}"
        if stub in self.stubs:
            return stub
        self.stubs.add(stub)
        target.node(stub, label=_lines(*wrap(_short(f"continued on {title}"), LINK)) + " →", shape="box",
                    style="rounded,dashed", color="#555555", fontcolor="#0B5CAD",
                    URL=_e(self.page_link.format(name=name)),
                    id=_e(f"link-{stub}"), tooltip=_e(f"continued on {title}"))
        return stub

    def arrivals(self, target: graphviz.Digraph, pathway: ir.Pathway) -> None:
        """On a page, a link back to each page with an edge into this one."""
        if self.only is None:
            return
        for node in pathway.nodes:
            if self.drawn(node.id) or node.id not in self.elsewhere:
                continue
            name, title = self.elsewhere[node.id]
            for head, _ in ir.successors(node):
                if head is not None and self.drawn(head) and (node.id, head) not in self.stubs:
                    self.stubs.add((node.id, head))
                    stub = f"from__{name}"
                    target.node(stub, label="← " + _lines(*wrap(_short(f"from {title}"), LINK)), shape="box",
                                style="rounded,dashed", color="#555555", fontcolor="#0B5CAD",
                                URL=_e(self.page_link.format(name=name)),
                                id=_e(f"link-{stub}"), tooltip=_e(f"from {title}"))
                    target.edge(stub, head, style="dashed", **self._edge_style(node.id, head, {}))

    def _add(self, target: graphviz.Digraph, node_id: str, attrs: dict, provenance: ir.Provenance | None) -> None:
        attrs = self._style(node_id, attrs)
        if node_id in self.changed:
            attrs.update(color=CHANGED, penwidth="3", style=attrs.get("style", "") + ",dashed",
                         xlabel="changed", fontcolor=CHANGED)
        attrs.pop("_warn", None)
        if provenance is not None and provenance.quote:
            attrs.setdefault("tooltip", _e(f"“{provenance.quote}” — {provenance.source}"
                                           + (f", refs {', '.join(map(str, provenance.refs))}"
                                              if provenance.refs else "")))
        concluded = self.concluded.get(node_id, ())
        for label, reasons in concluded:  # a finding the pathway concludes here: in the box, not beside it
            # '→', not '⇒': PNG's font (Helvetica, as Liberation Sans) has no '⇒' and no fallback
            attrs["label"] += "\\n" + _lines(*wrap(f"→ finding: {label}", BOX))
            if reasons is not None:  # the case's conclusion, with its reasons on hover
                said = _e(f"Finding: {label} — {reasons}")
                attrs["tooltip"] = f"{attrs['tooltip']} | {said}" if attrs.get("tooltip") else said
        attrs["id"] = _e(f"node-{node_id}")
        attrs["URL"] = _e(f"#rule-{node_id}")
        target.node(node_id, **attrs)

    def _then(self, target: graphviz.Digraph, pathway: ir.Pathway, tail: str, then: Iterable[str | None],
              label: str | None = None) -> None:
        for head in then:
            head = head or f"{pathway.id}__end"
            drawn = self._to(target, head, tail)
            if (tail, drawn) not in self.stubs:
                self.stubs.add((tail, drawn))
                attrs = dict(label=label, style="dashed") if label else {}  # alternatives: "or"
                target.edge(tail, drawn, **self._edge_style(tail, head, attrs))

    def _needs_of(self, node) -> list[str]:
        if self.overlay is None:
            return []
        return self.overlay.undecided.get(node.id, [])

    def _needs_note(self, target: graphviz.Digraph, node_id: str, needs: list[str]) -> None:
        labels = [self.kb.facts[f].label for f in needs if f in self.kb.facts]
        note_id = f"{node_id}__needs"
        target.node(note_id, label=_lines("needs:", *[x for label in labels for x in wrap(label, 30)]),
                    shape="note", style="filled,dashed", fillcolor="#FFF8DC", color="#8A6D00",
                    fontcolor="#5C4800")
        target.edge(node_id, note_id, label="unknown", style="dashed", color="#8A6D00", fontcolor="#8A6D00",
                    arrowhead="none")

    def end_node(self, target: graphviz.Digraph, pathway: ir.Pathway) -> None:
        ends = any(t is None for n in pathway.nodes if self.drawn(n.id) for t, _ in ir.successors(n))
        if ends:
            end_id = f"{pathway.id}__end"
            attrs = dict(shape="circle", label="end", width="0.5", fixedsize="true", fontsize="10",
                         style="filled", fillcolor="#EEEEEE", color="#999999")
            if self.overlay is not None and end_id not in {h for _, h in self.overlay.taken}:
                attrs.update(color=GREY, fontcolor=GREY_TEXT, fillcolor=GREY_FILL)
            target.node(end_id, **attrs)

    # ---- layout ---------------------------------------------------------------------------------
    def legend(self, sources: Iterable[str]) -> None:
        with self.graph.subgraph(name="cluster_legend") as legend:
            legend.attr(label=_e(self.title), fontsize="14", fontname=FONT, style="rounded",
                        color="#BBBBBB", labeljust="l", labelloc="t")
            previous = None
            for source in sources:
                line, fill = self._colour(source)
                title = self.kb.sources[source].title if source in self.kb.sources else source
                node_id = f"legend__{source}"
                legend.node(node_id, label=_lines(source, *wrap(title, 30)), shape="box", style="rounded,filled",
                            fillcolor=fill, color=line, fontsize="10")
                if previous:
                    legend.edge(previous, node_id, style="invis")
                previous = node_id
            if self.overlay is not None:
                legend.node("legend__path", label="the case's path", shape="box", style="rounded", penwidth="3",
                            color=PATH, fontsize="10")
                legend.node("legend__needs", label="undecided: needs data", shape="note", style="dashed",
                            color="#8A6D00", fontsize="10")
                if previous:
                    legend.edge(previous, "legend__path", style="invis")
                legend.edge("legend__path", "legend__needs", style="invis")

    def finish(self, identity=None, title: str | None = None) -> Drawn:
        # The footnotes are a table beside the chart (the report), not text in the image; the
        # image says only what it was drawn from (and, for a page printed on its own, what it
        # is a page of). No time in it: DOT stays byte-stable.
        if title:  # left-aligned lines ("\l"), the title first
            words = [*wrap(title, 140)] + ([identity.words()] if identity is not None else [])
            self.graph.attr(label="\\l".join(_e(w) for w in words) + "\\l", fontsize="10", fontcolor="#555555")
        elif identity is not None:
            self.graph.attr(label=_e(identity.words()), fontsize="10", fontcolor="#555555")
        return Drawn(self.graph, tuple(self.footnotes))


def _short(text: str, limit: int = 64) -> str:
    """A link's words: the page and the start of its title (the tooltip has all of it)."""
    return text if len(text) <= limit else text[:limit - 1].rsplit(" ", 1)[0] + "…"


def _subject(node: ir.Decide) -> str | None:
    """The one fact a decision asks about, if it asks about exactly one, directly."""
    found: set[str] = set()
    for branch in node.branches:
        if branch.condition is None:
            continue
        for e in ir.walk(branch.condition):
            if isinstance(e, ir.DefineRef):
                return None
            if isinstance(e, ir.FactRef):
                found.add(e.id)
    return found.pop() if len(found) == 1 else None


def _timing(step: ir.PlanStep, plan: ir.Plan) -> str:
    relative = step.timing.relative
    after = ""
    if relative is not None:
        ref = next(s.label for s in plan.steps if s.id == relative.step)
        after = f" {'before' if relative.before else 'after'} {ref.lower()}"
    match step.timing:
        case ir.At(offset=offset, about=about):
            return ("about " if about else "") + ("day 0" if offset == Duration() else value_words(offset)) + after
        case ir.Window(start=start, end=end):
            return f"{value_words(start)} to {value_words(end)}{after}"
        case ir.Latest(offset=offset):
            return f"no later than {value_words(offset)}{after}"
    return ""


def chart(kb: KnowledgeBase, spec: ChartSpec, result: Result | None = None,
          changed: set[str] | None = None, identity=None, page_link: str = "#{name}",
          titled: bool = False) -> graphviz.Digraph:
    """The DOT graph of one chart (see `draw`)."""
    return draw(kb, spec, result, changed, identity, page_link, titled).graph


def draw(kb: KnowledgeBase, spec: ChartSpec, result: Result | None = None,
         changed: set[str] | None = None, identity=None, page_link: str = "#{name}",
         titled: bool = False) -> Drawn:
    """One chart and its footnotes, with the case's path drawn when a result is given, the
    nodes a diff found changed marked in purple, and what it was drawn from (an
    engine.analysis.identity.Identity) written under it when given. `page_link` is where a
    link to another page of the chart points, `{name}` being that page's name. `titled`: a
    page, which has no legend, says under it what it is a page of (for a file printed on its
    own; the report heads each chart instead)."""
    c = _Chart(kb, spec.name, spec.title, result)
    c.page_link = page_link  # "#{name}": a figure of the report; "{name}.svg": a file beside this one
    c.changed = changed or set()
    c.only = set(spec.nodes) if spec.nodes else None
    c.elsewhere = {node: (name, title) for node, name, title in spec.elsewhere}
    c.shared = {node: (name, title) for node, name, title in spec.shared}
    c.stubs = set()
    pathways = {p.id: p for p in kb.pathways}
    sources_shown: list[str] = []
    if spec.kind == "safety":
        _safety_chart(c, kb)
        sources_shown = sorted({s.provenance.source for s in kb.safeties if c.drawn(s.id)},
                               key=list(kb.sources).index)
    if spec.kind == "findings":
        _findings_chart(c, kb, result)
        sources_shown = sorted({f.provenance.source for f in kb.checked.findings if f.provenance},
                               key=list(kb.sources).index)
    # dot stacks clusters of a left-to-right chart bottom-up: add them in reverse to read top-down
    groups = spec.groups if spec.kind == "pathway" else tuple(reversed(spec.groups))
    for group_label, pathway_ids in groups:
        for pathway_id in pathway_ids:
            pathway = pathways[pathway_id]
            for source in _sources_of(pathway):
                if source not in sources_shown:
                    sources_shown.append(source)
        if spec.kind == "pathway":
            pathway = pathways[pathway_ids[0]]
            c.arrivals(c.graph, pathway)
            for node in pathway.nodes:
                if c.drawn(node.id):
                    c.node(c.graph, pathway, node)
            c.end_node(c.graph, pathway)
            continue
        line, fill = c._colour(group_label if group_label in kb.sources else None)
        with c.graph.subgraph(name=f"cluster_{_slug(group_label)}") as column:
            column.attr(label=_e(group_label), fontsize="13", fontname=FONT, style="rounded",
                        color=line if group_label in kb.sources else "#BBBBBB", labeljust="l", labelloc="t")
            for pathway_id in pathway_ids:
                pathway = pathways[pathway_id]
                with column.subgraph(name=f"cluster_{pathway.id}") as box:
                    box.attr(label=_e(pathway.label), fontsize="10", fontname=FONT, style="dashed",
                             color="#CCCCCC")
                    for node in pathway.nodes:
                        c.node(box, pathway, node)
                    c.end_node(box, pathway)
    order = list(kb.sources)
    if not spec.nodes:  # a page is shown with its neighbours, under one legend
        c.legend(sorted(sources_shown, key=lambda s: order.index(s) if s in order else len(order)))
    return c.finish(identity, spec.title if titled and spec.nodes else None)


def _sources_of(pathway: ir.Pathway) -> list[str]:
    found: list[str] = [pathway.source] if pathway.source else []
    for node in pathway.nodes:
        provenance = getattr(node, "provenance", None)
        if provenance is not None and provenance.source and provenance.source not in found:
            found.append(provenance.source)
    return found


def _safety_chart(c: _Chart, kb: KnowledgeBase) -> None:
    facts, defines = kb.facts, kb.defines
    for safety in kb.safeties:
        if not c.drawn(safety.id):
            continue
        p = safety.provenance
        note = c._footnote(p, safety.id, safety.label)
        lines = wrap(f"Warning: {safety.label}", SAFETY) + wrap(
            "when " + lower_first(condition_words(safety.condition, facts, defines)), SAFETY)
        lines.append(f"{safety.severity} · {p.source} {note}".rstrip())
        if safety.instead:
            lines += wrap("instead: " + safety.instead, SAFETY)
        colour = RED if safety.severity == "critical" else "#B8860B"
        attrs = dict(shape="box", peripheries="2", style="filled", fillcolor="#FFF4E5", color=colour,
                     label=_lines(*lines), _warn="1")
        c._add(c.graph, safety.id, attrs, p)
        if c.overlay and safety.id in c.overlay.undecided:
            c._needs_note(c.graph, safety.id, c.overlay.undecided[safety.id])


def _findings_chart(c: _Chart, kb: KnowledgeBase, result: Result | None) -> None:
    """Each finding with its condition; with a case, those it reaches drawn with their reasons."""
    facts, defines = kb.facts, kb.checked.defines
    held = {f.id: f for f in getattr(result, "findings", ())} if result is not None else {}
    for finding in kb.checked.findings:
        if not c.drawn(finding.id):
            continue
        p = finding.provenance or ir.Provenance(source="")
        line, fill = c._colour(p.source)
        lines = wrap(f"Finding: {finding.label}", SAFETY)
        if finding.scope is not None:
            lines += wrap("for " + lower_first(condition_words(finding.scope, facts, defines)), SAFETY)
        lines += wrap("when " + lower_first(condition_words(finding.condition, facts, defines)), SAFETY)
        for reason in held[finding.id].reasons if finding.id in held else ():
            lines += wrap("- " + reason.text, SAFETY)
        lines.append(f"{p.source} {c._footnote(p, finding.id, finding.label)}".rstrip())
        attrs = dict(shape="box", style="filled", fillcolor=fill, color=line, label=_lines(*lines))
        if result is not None:
            if finding.id in held:
                attrs.update(penwidth="3", color=PATH)
            else:
                attrs.update(color=GREY, fillcolor=GREY_FILL, fontcolor=GREY_TEXT)
        attrs["id"] = _e(f"node-{finding.id}")
        attrs["URL"] = _e(f"#rule-{finding.id}")
        if p.quote:
            attrs["tooltip"] = _e(f"“{p.quote}” — {p.source}")
        c.graph.node(finding.id, **attrs)


def _concluded(kb: KnowledgeBase, result: Result | None) -> dict[str, list[tuple[str, str | None]]]:
    """Per pathway node, the findings it concludes (a finding's `concluded at`): the words its
    box adds ("concludes: ..."), and, when the case reached the conclusion there, its reasons."""
    held = {f.id: f for f in getattr(result, "findings", ())} if result is not None else {}
    found: dict[str, list[tuple[str, str | None]]] = {}
    for finding in kb.checked.findings:
        for node_id in finding.concluded_at:
            reached = finding.id in held and any(n == node_id for _, n, _ in held[finding.id].concluded_at)
            reasons = "; ".join(r.text for r in held[finding.id].reasons) if reached else None
            found.setdefault(node_id, []).append((finding.label, reasons))
    return found


def _dates(step) -> str:
    if step.earliest is None and step.latest is None:
        return ""
    if step.earliest is None:
        text = f"by {step.latest}"
    elif step.earliest == step.latest:
        text = str(step.earliest)
    else:
        text = f"{step.earliest} to {step.latest}"
    if step.actual is not None:
        text += f"; actual {step.actual}" + (" — outside" if step.on_time is False else "")
    return text


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in text)


__all__ = ["chart", "draw", "Drawn", "Footnote", "ChartSpec", "chart_specs", "p_label", "source_colours"]
