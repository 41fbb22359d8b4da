"""Rendering: decision graphs (and one case's path) -> DOT, SVG, PNG and the HTML review report.

    import consilium
    from consilium import render
    kb = consilium.load_kb("kb")
    render.render_charts(kb, "out", formats=("dot", "svg"))          # every flowchart
    render.write_report(kb, "out", result=kb.evaluate_file("case.yaml"), case_name="case.yaml")

`flowchart` builds the DOT graphs (pure), `words` says conditions in words, `report` builds
the page (pure), and `output` is the one module that runs the layout program and writes files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from ..engine.kb import KnowledgeBase
from ..engine.evaluation.result import Result
from ..engine.analysis.scenarios import run_scenarios

from .flowchart import ChartSpec, chart, chart_specs, draw
from .output import FORMATS, RenderError, find_dot, layout, layout_all, print_pdf, write_charts
from .report import Chart, ReviewView, report

__all__ = ["render_charts", "write_report", "chart", "draw", "chart_specs", "ChartSpec", "layout", "find_dot",
           "print_pdf", "review_view", "RenderError", "FORMATS"]


def render_charts(kb: KnowledgeBase, folder: str | Path, formats: Iterable[str] = ("dot", "svg"),
                  result: Result | None = None, only: Iterable[str] | None = None,
                  changed: set[str] | None = None, paged: bool = False) -> list[Path]:
    """Write every flowchart of the knowledge base (or those named in `only`) in each format;
    `changed` marks the nodes a diff found changed; `paged`: the report's printable pages
    instead of whole charts. Each chart says what it was drawn from (no time: DOT is stable)."""
    specs = chart_specs(kb, paged=paged)
    if only is not None:  # a chart's name, or the name of the whole chart a page is part of
        wanted = set(only)
        specs = [s for s in specs if s.name in wanted or s.chart in wanted]
    # pages written as files link to the files of the other pages (SVG keeps the link)
    sources = [(spec.name, chart(kb, spec, result, changed, kb.identity, "{name}.svg").source) for spec in specs]
    return write_charts(sources, Path(folder), tuple(formats))


def write_report(kb: KnowledgeBase, folder: str | Path, result: Result | None = None,
                 case_name: str | None = None, *, generated_at: str | None = None,
                 with_review: bool = True, pdf: bool = False) -> Path:
    """Write the review page, index.html, into `folder` (and report.pdf with `pdf`); returns its path."""
    specs = chart_specs(kb, paged=True)
    drawn = {spec.name: draw(kb, spec, identity=kb.identity) for spec in specs}
    jobs = [(name, d.source) for name, d in drawn.items()]
    case_specs = []
    if result is not None:
        case_specs = [s for s in specs if _touched(s, kb, result) or s.kind == "findings" and result.findings]
        case_drawn = {s.name: draw(kb, s, result, identity=kb.identity) for s in case_specs}
        jobs += [("case-" + name, d.source) for name, d in case_drawn.items()]
    laid_out = dict(zip((name for name, _ in jobs), layout_all((source, "svg") for _, source in jobs), strict=True))
    charts = {name: Chart(laid_out[name], d.footnotes) for name, d in drawn.items()}
    case_charts = {s.name: Chart(laid_out["case-" + s.name], case_drawn[s.name].footnotes) for s in case_specs}
    page = report(kb, specs, charts, run_scenarios(kb), result, case_name, case_charts,
                  review_view(kb) if with_review else None, generated_at)
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    index = path / "index.html"
    index.write_text(page, encoding="utf-8")
    if pdf:
        print_pdf(index, path / "report.pdf")
    return index


def review_view(kb: KnowledgeBase) -> ReviewView:
    """The sign-off state for the report; a record that does not read is shown, not raised."""
    from ..engine.analysis.review import ReviewRecordError, changes_since_review, status
    from ..engine.lang.diagnostics import format_text
    try:
        current = status(kb)
    except ReviewRecordError as error:
        return ReviewView(problem=format_text(error.diagnostics, error.texts))
    return ReviewView(current, tuple(changes_since_review(kb, current)))


def _touched(spec: ChartSpec, kb: KnowledgeBase, result: Result) -> bool:
    """Whether the case went past a chart's entry: only those charts are worth drawing its path on."""
    if spec.kind == "safety":
        shown = set(spec.nodes)
        return any(w.kind == "safety" and (not shown or w.id in shown) for w in result.warnings) or \
            any(not shown or u.rule in shown for u in result.unchecked)
    pathway_ids = {pid for _, ids in spec.groups for pid in ids}
    nodes = set(spec.nodes)
    return any(step.pathway in pathway_ids and step.next and (not nodes or step.node in nodes)
               for step in result.trace)
