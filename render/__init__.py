"""Rendering: decision graphs (and one case's path) -> DOT, SVG, PNG and the HTML review report.

    import consilium
    from consilium import render
    kb = consilium.load_kb("kb")
    render.render_charts(kb, "out", formats=("dot", "svg"))          # every flowchart, legible in print
    render.write_report(kb, "out", result=kb.evaluate_file("case.yaml"), case_name="case.yaml")

`flowchart` builds the DOT graphs (pure), `words` says conditions in words, `report` builds
the page (pure), `legible` measures a laid-out chart's text as printed, and `output` is the
one module that runs the layout program and writes files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from ..engine.kb import KnowledgeBase
from ..engine.evaluation.result import Result
from ..engine.analysis.scenarios import run_scenarios

from . import legible
from .flowchart import ChartSpec, chart, chart_specs, draw
from .legible import Printed
from .output import FORMATS, RenderError, find_dot, layout, layout_all, print_pdf, write_charts
from .report import Chart, ReviewView, report
from ..engine.lang.files import OutputError, atomic_path, ensure_folder, refuse_overwrite, write_file

__all__ = ["render_charts", "chart_set", "write_chart_set", "ChartSet", "Printed", "write_report", "chart", "draw",
           "chart_specs", "ChartSpec", "layout", "find_dot", "print_pdf", "review_view", "RenderError", "OutputError",
           "FORMATS"]


MODES = ("print", "paged", "whole")


@dataclass(frozen=True)
class ChartSet:
    """The charts `consilium render` writes, and what became of those too large to print.

    `charts` are (name, DOT source); `cut` maps a whole chart too large to print legibly to
    the pages drawn instead; `left_out` are charts too large to print and not cut (the
    composite charts by source and by site: `mode="whole"` draws them for the screen);
    `printed` says how each chart written prints (not measured with `mode="whole"`)."""

    charts: tuple[tuple[str, str], ...]
    cut: tuple[tuple[str, tuple[str, ...]], ...] = ()
    left_out: tuple[str, ...] = ()
    printed: tuple[tuple[str, Printed], ...] = ()

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.charts]

    def illegible(self) -> list[tuple[str, Printed]]:
        """The charts written that still print with text under 8 pt (a page that alone is too large)."""
        return [(name, p) for name, p in self.printed if not p.legible]


def chart_set(kb: KnowledgeBase, result: Result | None = None, only: Iterable[str] | None = None,
              changed: set[str] | None = None, mode: str = "print") -> ChartSet:
    """The charts to write. `mode`: "print" (the default) every chart of the knowledge base
    that prints legibly whole (text of 8 pt or more on an A4 landscape sheet, render/legible.py),
    and, for one that does not, its pages (render/pages.py) instead; "paged": the report's
    pages; "whole": one image per chart, however large (for the screen). Charts drawn for
    print are drawn no larger than the sheet, so they print at their own size. `only`:
    chart names, or the name of the whole chart a page is part of."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    wanted = set(only) if only is not None else None
    paged = chart_specs(kb, paged=True)

    def chosen(spec: ChartSpec, pages: bool = False) -> bool:
        names = {spec.name, spec.chart} | ({p.name for p in paged if p.chart == spec.name} if pages else set())
        return wanted is None or bool(names & wanted)

    def drawn(specs: list[ChartSpec], fit: bool) -> list[tuple[str, str]]:
        # files link to the files of the other pages (SVG keeps the link)
        graphs = [chart(kb, spec, result, changed, kb.identity, "{name}.svg", titled=True) for spec in specs]
        if fit:
            for graph in graphs:
                graph.attr(size=legible.fit())
        return [(spec.name, graph.source) for spec, graph in zip(specs, graphs, strict=True)]

    if mode == "whole":
        return ChartSet(tuple(drawn([s for s in chart_specs(kb) if chosen(s)], fit=False)))
    if mode == "paged":
        charts = drawn([s for s in paged if chosen(s)], fit=True)
        return ChartSet(tuple(charts), printed=tuple(_measure(charts)))
    whole = [s for s in chart_specs(kb) if chosen(s, pages=True)]
    whole_drawn = drawn(whole, fit=True)
    measured = dict(_measure(whole_drawn))
    charts, cut, left_out = [], [], []
    for name, source in whole_drawn:
        pages = [p for p in paged if p.chart == name]
        if measured[name].legible:
            charts.append((name, source))
            continue
        if not pages:  # a composite chart (by source, by site): nothing smaller says the same
            left_out.append(name)
            continue
        pages = [p for p in pages if wanted is None or name in wanted or p.name in wanted]
        page_drawn = drawn(pages, fit=True)
        charts += page_drawn
        measured.update(_measure(page_drawn))
        if [p.name for p in pages] != [name] and (wanted is None or name in wanted):  # not when pages were named
            cut.append((name, tuple(p.name for p in pages)))
    return ChartSet(tuple(charts), tuple(cut), tuple(left_out), tuple((n, measured[n]) for n, _ in charts))


def _measure(charts: list[tuple[str, str]]) -> list[tuple[str, Printed]]:
    svgs = layout_all((source, "svg") for _, source in charts)
    return [(name, legible.printed(svg)) for (name, _), svg in zip(charts, svgs, strict=True)]


def render_charts(kb: KnowledgeBase, folder: str | Path, formats: Iterable[str] = ("dot", "svg"),
                  result: Result | None = None, only: Iterable[str] | None = None,
                  changed: set[str] | None = None, paged: bool = False, whole: bool = False) -> list[Path]:
    """Write the charts of `chart_set` in each format and return their paths: by default every
    chart that prints legibly, a large one as its pages (`paged`: the report's pages; `whole`:
    one image per chart, for the screen). `changed` marks the nodes a diff found changed.
    Each chart says what it was drawn from (no time: DOT is stable)."""
    charts = chart_set(kb, result, only, changed, "whole" if whole else "paged" if paged else "print")
    return write_chart_set(kb, charts, folder, formats)


def write_chart_set(kb: KnowledgeBase, charts: ChartSet, folder: str | Path,
                    formats: Iterable[str] = ("dot", "svg")) -> list[Path]:
    return write_charts(charts.charts, Path(folder), tuple(formats), inputs=kb.loaded.paths)


def write_report(kb: KnowledgeBase, folder: str | Path, result: Result | None = None,
                 case_name: str | None = None, *, generated_at: str | None = None,
                 with_review: bool = True, pdf: bool = False) -> Path:
    """Write the review page, index.html, into `folder` (and report.pdf with `pdf`); returns its path.

    Each file is written beside its name and renamed when complete; neither may be an input."""
    index = ensure_folder(folder) / "index.html"  # before the work: an unwritable folder says so at once
    inputs = [*kb.loaded.paths, *([case_name] if case_name else [])]
    refuse_overwrite(index, inputs, "report")
    if pdf:
        refuse_overwrite(index.parent / "report.pdf", inputs, "report")
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
    write_file(index, page)
    if pdf:
        with atomic_path(index.parent / "report.pdf") as temporary:
            print_pdf(index, temporary)
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
