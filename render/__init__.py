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

from .flowchart import ChartSpec, chart, chart_specs
from .output import FORMATS, RenderError, find_dot, layout, layout_all, write_charts
from .report import report

__all__ = ["render_charts", "write_report", "chart", "chart_specs", "ChartSpec", "layout", "find_dot",
           "RenderError", "FORMATS"]


def render_charts(kb: KnowledgeBase, folder: str | Path, formats: Iterable[str] = ("dot", "svg"),
                  result: Result | None = None, only: Iterable[str] | None = None,
                  changed: set[str] | None = None) -> list[Path]:
    """Write every flowchart of the knowledge base (or those named in `only`) in each format;
    `changed` marks the nodes a diff found changed."""
    specs = chart_specs(kb)
    if only is not None:
        wanted = set(only)
        specs = [s for s in specs if s.name in wanted]
    sources = [(spec.name, chart(kb, spec, result, changed).source) for spec in specs]
    return write_charts(sources, Path(folder), tuple(formats))


def write_report(kb: KnowledgeBase, folder: str | Path, result: Result | None = None,
                 case_name: str | None = None) -> Path:
    """Write the review page, index.html, into `folder`; returns its path."""
    specs = chart_specs(kb)
    jobs = [(spec.name, chart(kb, spec).source) for spec in specs]
    case_specs = []
    if result is not None:
        case_specs = [s for s in specs if s.kind in ("pathway", "safety") and _touched(s, kb, result)
                      or s.kind == "findings" and result.findings]
        jobs += [("case-" + s.name, chart(kb, s, result).source) for s in case_specs]
    laid_out = dict(zip((name for name, _ in jobs), layout_all((source, "svg") for _, source in jobs)))
    svgs = {s.name: laid_out[s.name] for s in specs}
    case_svgs = {s.name: laid_out["case-" + s.name] for s in case_specs}
    page = report(kb, specs, svgs, run_scenarios(kb), result, case_name, case_svgs)
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    index = path / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


def _touched(spec: ChartSpec, kb: KnowledgeBase, result: Result) -> bool:
    """Whether the case went past a chart's entry: only those charts are worth drawing its path on."""
    if spec.kind == "safety":
        return any(w.kind == "safety" for w in result.warnings) or bool(result.unchecked)
    pathway_ids = {pid for _, ids in spec.groups for pid in ids}
    return any(step.pathway in pathway_ids and step.next for step in result.trace)
