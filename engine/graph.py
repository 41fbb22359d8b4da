"""Phase 5, build_graph and validate: a checked pathway -> a frozen networkx decision graph.

`build_graph` turns one pathway into a `networkx.DiGraph` whose nodes are the pathway's
node ids (data: the IR node, its kind, its order) and whose edges are the ways out of a
node (data: the branch or `then`, its label and its order). `validate` checks, separately,
that every target exists, that the pathway has a single entry (its first node) from which
every node is reached, and that it has no cycle. Neither evaluates anything.
"""

from __future__ import annotations

import networkx as nx

from . import ir
from .ir import successors
from .diagnostics import Diagnostic, suggest


def _kind(node: ir.Node) -> str:
    return type(node).__name__.lower()


def build_graph(pathway: ir.Pathway) -> nx.DiGraph:
    graph = nx.DiGraph(id=pathway.id, label=pathway.label, source=pathway.source,
                       entry=pathway.nodes[0].id if pathway.nodes else None)
    for order, node in enumerate(pathway.nodes):
        graph.add_node(node.id, node=node, kind=_kind(node), order=order)
    for node in pathway.nodes:
        for index, (target, branch) in enumerate(successors(node)):
            if target is None or target not in graph:
                continue  # `end`, or an unknown target that `validate` reports
            if graph.has_edge(node.id, target):
                continue  # two branches to one node: the first is drawn, evaluation sees both
            graph.add_edge(node.id, target, branch=branch, order=index,
                           label=(branch.label if branch else None))
    return nx.freeze(graph)


def validate(pathway: ir.Pathway, graph: nx.DiGraph) -> list[Diagnostic]:
    diagnostics: list[Diagnostic] = []
    ids = [n.id for n in pathway.nodes]
    if not pathway.nodes:
        return [Diagnostic("missing-clause", f"the pathway '{pathway.id}' has no node", pathway.span,
                           hint="add a 'decide', 'step' or 'recommend' beneath it")]
    for node in pathway.nodes:
        for target, branch in successors(node):
            if target is not None and target not in graph:
                span = branch.span if branch else node.span
                diagnostics.append(Diagnostic(
                    "unknown-target", f"'{node.id}' leads to '{target}', which is not a node of "
                    f"the pathway '{pathway.id}'", span, hint=suggest(target, ids)))
    entry = pathway.nodes[0].id
    for cycle_edge in _first_cycle(graph, entry):
        source, target = cycle_edge
        node = graph.nodes[source]["node"]
        branch = graph.edges[source, target]["branch"]
        diagnostics.append(Diagnostic(
            "pathway-cycle", f"'{source}' leads back to '{target}', which leads to it: a pathway "
            "may not loop", branch.span if branch else node.span,
            hint="a re-evaluation is a later step, not a way back"))
    reachable = nx.descendants(graph, entry) | {entry}
    for node in pathway.nodes:
        if node.id not in reachable:
            diagnostics.append(Diagnostic(
                "multiple-entries", f"'{node.id}' cannot be reached from the pathway's entry '{entry}'",
                node.span, hint="lead to it from a branch or a 'then', or remove it"))
    return diagnostics


def _first_cycle(graph: nx.DiGraph, entry: str) -> list[tuple[str, str]]:
    """The edge that closes a cycle, if any (one per pathway is enough to act on)."""
    try:
        cycle = nx.find_cycle(graph, source=entry)
    except nx.NetworkXNoCycle:
        try:
            cycle = nx.find_cycle(graph)
        except nx.NetworkXNoCycle:
            return []
    return [cycle[-1][:2]]
