"""The charts a knowledge base offers: one per pathway, source, site and the safety rules, or pages.

Takes a knowledge base; returns `ChartSpec`s, each naming a chart (for files and anchors),
its title and what it draws. `chart_specs(kb, paged=True)` gives the charts of the printed
report instead: every pathway, a large one cut into linked pages (render/pages.py), and the
safety rules a few to a page. Pure; drawing is render/flowchart.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..engine.kb import KnowledgeBase


@dataclass(frozen=True)
class ChartSpec:
    """One flowchart: a name (for files and anchors), a title, and its pathways grouped.

    A page of a larger chart draws only `nodes`; an edge to a node drawn on another page
    ends at a link to that page (`elsewhere`: node id -> (page name, page title))."""

    name: str
    title: str
    kind: str                                   # pathway | source | site | safety | findings
    groups: tuple[tuple[str, tuple[str, ...]], ...]  # (cluster label, pathway ids)
    nodes: tuple[str, ...] = ()                 # a page: the nodes drawn on it (all when empty)
    elsewhere: tuple[tuple[str, str, str], ...] = ()
    shared: tuple[tuple[str, str, str], ...] = ()  # nodes drawn again here whose page is another
    page: tuple[int, int] = (1, 1)              # (this page, pages of the chart)
    chart: str = ""                             # a page: the name of the whole chart it is part of


SAFETY_PER_PAGE = 4
FINDINGS_PER_PAGE = 3  # their boxes are taller: the condition, and a case's reasons


def chart_specs(kb: KnowledgeBase, paged: bool = False) -> list[ChartSpec]:
    """The charts of a knowledge base. `paged`: the charts of the printed report instead, each
    legible on one sheet: every pathway, a large one cut into linked pages (render/pages.py),
    and the safety rules a few to a page; the composite charts by source and by site, too
    large to print, are left to `consilium render` (the report has their tables)."""
    if paged:
        return _paged_specs(kb)
    specs = [ChartSpec(f"pathway-{p.id}", p.label, "pathway", (("", (p.id,)),)) for p in kb.pathways]
    for source in kb.sources:
        pathways = tuple(p.id for p in kb.pathways if p.source == source)
        if pathways:
            specs.append(ChartSpec(f"source-{source}", f"{source}: {kb.sources[source].title}", "source",
                                   tuple((p_label(kb, pid), (pid,)) for pid in pathways)))
    for site in kb.sites.values():
        groups = []
        for source in kb.sources:
            pathways = tuple(p.id for p in kb.pathways if site.id in p.sites and p.source == source)
            if pathways:
                groups.append((source, pathways))
        if groups:
            specs.append(ChartSpec(f"site-{site.id}", f"{site.label}: the sources side by side", "site",
                                   tuple(groups)))
    if kb.safeties:
        specs.append(ChartSpec("safety", "Errors to avoid: safety rules on the proposed treatment", "safety", ()))
    if kb.checked.findings:
        specs.append(ChartSpec("findings", "Findings: clinical conclusions and the criteria they rest on",
                               "findings", ()))
    return specs


def _paged_specs(kb: KnowledgeBase) -> list[ChartSpec]:
    from .pages import paginate
    specs = []
    for p in kb.pathways:
        pages = paginate(p)
        whole = f"pathway-{p.id}"
        if len(pages) == 1:
            specs.append(ChartSpec(whole, p.label, "pathway", (("", (p.id,)),), chart=whole))
            continue
        labels = {n.id: getattr(n, "label", None) or getattr(n, "question", None) or n.id for n in p.nodes}
        names = [f"{whole}-{i}" for i in range(1, len(pages) + 1)]
        titles = [p.label if i == 0 else f"{p.label}: {labels[page.root]}"
                  + (f" (continued, part {page.part})" if page.part > 1 else "") for i, page in enumerate(pages)]
        home: dict[str, int] = {}
        for i, page in enumerate(pages):
            for node in page.nodes:
                home.setdefault(node, i)
        for i, page in enumerate(pages):
            mine = set(page.nodes)
            short = [f"page {j + 1}" + (f", part {pg.part} of" if pg.part > 1 else "") + f": {labels[pg.root]}"
                     for j, pg in enumerate(pages)]
            away = tuple((node, names[j], short[j]) for node, j in home.items() if node not in mine)
            again = tuple((node, names[home[node]], f"page {home[node] + 1}: {labels[node]}") for node in page.nodes
                          if home[node] != i)
            specs.append(ChartSpec(names[i], f"{titles[i]} (page {i + 1} of {len(pages)})", "pathway",
                                   (("", (p.id,)),), nodes=page.nodes, elsewhere=away, shared=again,
                                   page=(i + 1, len(pages)),
                                   chart=whole))
    safeties = [s.id for s in kb.safeties]
    chunks = [safeties[i:i + SAFETY_PER_PAGE] for i in range(0, len(safeties), SAFETY_PER_PAGE)]
    for i, chunk in enumerate(chunks, start=1):
        specs.append(ChartSpec(f"safety-{i}" if len(chunks) > 1 else "safety",
                               "Errors to avoid: safety rules on the proposed treatment"
                               + (f" (page {i} of {len(chunks)})" if len(chunks) > 1 else ""), "safety", (),
                               nodes=tuple(chunk), page=(i, len(chunks)), chart="safety"))
    findings = [f.id for f in kb.checked.findings]
    chunks = [findings[i:i + FINDINGS_PER_PAGE] for i in range(0, len(findings), FINDINGS_PER_PAGE)]
    for i, chunk in enumerate(chunks, start=1):
        specs.append(ChartSpec(f"findings-{i}" if len(chunks) > 1 else "findings",
                               "Findings: clinical conclusions and the criteria they rest on"
                               + (f" (page {i} of {len(chunks)})" if len(chunks) > 1 else ""), "findings", (),
                               nodes=tuple(chunk), page=(i, len(chunks)), chart="findings"))
    return specs


def p_label(kb: KnowledgeBase, pathway_id: str) -> str:
    return next(p.label for p in kb.pathways if p.id == pathway_id)
