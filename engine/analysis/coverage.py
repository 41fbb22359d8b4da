"""Coverage of the scenario tests: which nodes, branches and rules of the graphs they reach.

Takes a knowledge base and the outcomes of its scenarios; returns, per rule file and in
total, the nodes visited, the branches of decisions taken, and the recommendations,
warnings and safety rules fired, with the list of what no scenario reaches.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..lang import ir
from ..lang.diagnostics import Span
from ..kb import KnowledgeBase
from .scenarios import ScenarioOutcome

KINDS = ("nodes", "branches", "rules")


@dataclass(frozen=True)
class Item:
    kind: str          # nodes | branches | rules
    name: str          # how a person finds it: "branch 2 of 'approach' (otherwise)"
    span: Span | None
    covered: bool


@dataclass(frozen=True)
class Coverage:
    items: tuple[Item, ...]

    def count(self, kind: str | None = None, file: str | None = None) -> tuple[int, int]:
        chosen = [i for i in self.items if (kind is None or i.kind == kind)
                  and (file is None or (i.span and i.span.file == file))]
        return sum(i.covered for i in chosen), len(chosen)

    def percent(self, kind: str | None = None, file: str | None = None) -> float:
        covered, total = self.count(kind, file)
        return 100.0 if total == 0 else 100.0 * covered / total

    @property
    def files(self) -> list[str]:
        return sorted({i.span.file for i in self.items if i.span})

    def missed(self) -> list[Item]:
        return [i for i in self.items if not i.covered]

    def to_json(self) -> dict:
        def summary(file=None):
            return {kind: {"covered": self.count(kind, file)[0], "total": self.count(kind, file)[1],
                           "percent": round(self.percent(kind, file), 1)} for kind in KINDS}
        return {"total": {**summary(), "percent": round(self.percent(), 1)},
                "files": {f: summary(f) for f in self.files},
                "missed": [{"kind": i.kind, "name": i.name, "span": i.span.to_json() if i.span else None}
                           for i in self.missed()]}


def coverage(kb: KnowledgeBase, outcomes: list[ScenarioOutcome]) -> Coverage:
    visited: set[str] = set()
    taken: set[tuple[str, int]] = set()
    fired: set[str] = set()
    for outcome in outcomes:
        for step in outcome.result.trace:
            visited.add(step.node)
            if step.branch is not None:
                taken.add((step.node, step.branch))
        fired.update(outcome.result.recommendation_ids())
        fired.update(outcome.result.warning_ids())
    items: list[Item] = []
    for pathway in kb.pathways:
        for node in pathway.nodes:
            span = node.span or pathway.span
            items.append(Item("nodes", f"{type(node).__name__.lower()} '{node.id}'", span, node.id in visited))
            if isinstance(node, ir.Decide):
                for index, branch in enumerate(node.branches, start=1):
                    words = "otherwise" if branch.condition is None else (branch.label or f"to {branch.target}")
                    items.append(Item("branches", f"branch {index} of '{node.id}' ({words})", branch.span,
                                      (node.id, index) in taken))
            if isinstance(node, (ir.Recommend, ir.Warn)):
                items.append(Item("rules", f"{type(node).__name__.lower()} '{node.id}'", span, node.id in fired))
    for safety in kb.safeties:
        items.append(Item("rules", f"safety '{safety.id}'", safety.span, safety.id in fired))
    return Coverage(tuple(items))


def format_coverage(cov: Coverage) -> str:
    width = max([len(f) for f in cov.files] + [5])
    lines = ["coverage of the scenario tests", f"  {'file':<{width}}  {'nodes':>15}  {'branches':>15}  {'rules':>15}"]

    def cell(kind, file=None):
        covered, total = cov.count(kind, file)
        return f"{covered}/{total} {cov.percent(kind, file):5.1f}%" if total else "-"

    for file in cov.files:
        lines.append(f"  {file:<{width}}  {cell('nodes', file):>15}  {cell('branches', file):>15}  "
                     f"{cell('rules', file):>15}")
    lines.append(f"  {'total':<{width}}  {cell('nodes'):>15}  {cell('branches'):>15}  {cell('rules'):>15}")
    missed = cov.missed()
    if missed:
        lines.append("not reached by any scenario:")
        lines += [f"  {i.span}: {i.name}" for i in missed]
    else:
        lines.append("every node, branch and rule is reached by a scenario")
    return "\n".join(lines)


__all__ = ["coverage", "Coverage", "format_coverage"]
