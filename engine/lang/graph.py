"""Validate a pathway's shape, and view it as a networkx graph: a checked pathway and its
`PathwayShape` (shape.py) -> diagnostics, or a frozen `networkx.DiGraph`.

`validate` checks that every target exists, that the pathway has a single entry (its first
node) from which every node is reached, and that it has no cycle. `build_graph` turns the
shape into a `networkx.DiGraph` whose nodes are the pathway's node ids (data: the IR node,
its kind, its order) and whose edges are the ways out of a node (data: the branch or
`then`, its label and its order), for the analyses and charts that ask questions of the
graph as a whole. Neither evaluates anything.

`validate` walks the IR itself rather than the networkx graph: it runs on every load that
misses the cache, and importing networkx (a tenth of a second) would then be most of the
load; the graph is built only for the analyses and charts that use it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

from . import ir
from .ir import successors
from .diagnostics import Diagnostic, suggest
from .shape import PathwayShape, shape as shape_of

if TYPE_CHECKING:
    import networkx as nx


def _kind(node: ir.Node) -> str:
    return type(node).__name__.lower()


def build_graph(pathway: ir.Pathway, shape: PathwayShape | None = None) -> "nx.DiGraph":
    """The networkx view of a pathway's shape (its edges carry the first branch to each target)."""
    import networkx as nx
    shape = shape or shape_of(pathway)
    graph = nx.DiGraph(id=pathway.id, label=pathway.label, source=pathway.source, entry=shape.entry)
    for order, node in enumerate(pathway.nodes):
        graph.add_node(node.id, node=node, kind=_kind(node), order=order)
    for node in pathway.nodes:
        targets = shape.edges[node.id]  # known targets only: `validate` reports the others
        for index, (target, branch) in enumerate(successors(node)):
            if target not in targets or graph.has_edge(node.id, target):
                continue  # `end`, an unknown target, or a second branch to one node: the first is drawn
            graph.add_edge(node.id, target, branch=branch, order=index,
                           label=(branch.label if branch else None))
    return nx.freeze(graph)


def validate(pathway: ir.Pathway, shape: PathwayShape | None = None) -> list[Diagnostic]:
    diagnostics: list[Diagnostic] = []
    ids = [n.id for n in pathway.nodes]
    if not pathway.nodes:
        return [Diagnostic("missing-clause", f"the pathway '{pathway.id}' has no node", pathway.span,
                           hint="add a 'decide', 'step' or 'recommend' beneath it")]
    shape = shape or shape_of(pathway)
    nodes = shape.nodes
    for node in pathway.nodes:
        for target, branch in successors(node):
            if target is not None and target not in nodes:
                span = branch.span if branch else node.span
                diagnostics.append(Diagnostic(
                    "unknown-target", f"'{node.id}' leads to '{target}', which is not a node of "
                    f"the pathway '{pathway.id}'", span, hint=suggest(target, ids)))
    edges = shape.edges
    entry = pathway.nodes[0].id
    for source, target in _first_cycle(edges, [entry] + ids):
        node = nodes[source]
        branch = next(b for t, b in successors(node) if t == target)
        diagnostics.append(Diagnostic(
            "pathway-cycle", f"'{source}' leads back to '{target}', which leads to it: a pathway "
            "may not loop", branch.span if branch else node.span,
            hint="a re-evaluation is a later step, not a way back"))
    reachable = {entry}
    waiting = [entry]
    while waiting:
        for target in edges[waiting.pop()]:
            if target not in reachable:
                reachable.add(target)
                waiting.append(target)
    for node in pathway.nodes:
        if node.id not in reachable:
            diagnostics.append(Diagnostic(
                "multiple-entries", f"'{node.id}' cannot be reached from the pathway's entry '{entry}'",
                node.span, hint="lead to it from a branch or a 'then', or remove it"))
    return diagnostics


def _first_cycle(edges: Mapping[str, tuple[str, ...]], roots: list[str]) -> list[tuple[str, str]]:
    """The edge that closes a cycle, if any (one per pathway is enough to act on): depth first
    from each root in turn, the first edge back to a node still on the path."""
    on_path, done = 1, 2
    state: dict[str, int] = {}
    for root in roots:
        if root in state:
            continue
        state[root] = on_path
        stack = [(root, iter(edges[root]))]
        while stack:
            node, ahead = stack[-1]
            for target in ahead:
                if state.get(target) == on_path:
                    return [(node, target)]
                if target not in state:
                    state[target] = on_path
                    stack.append((target, iter(edges[target])))
                    break
            else:
                state[node] = done
                stack.pop()
    return []
