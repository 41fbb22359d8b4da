"""The shape of a pathway, worked out once: a checked pathway -> a frozen `PathwayShape`.

What every later stage asks about a pathway's structure, computed in one place from
`ir.successors`: its entry, each node's ways out (`edges`) and ways in (`ways_in`), an order
in which every node comes after the nodes leading to it (`order`, ties in declaration order:
the order evaluation visits them), and each node's path from the entry where only one
exists (`fixed_paths`). Validation (graph.py), code generation (evaluation/codegen/), the
networkx view for analyses and charts (graph.build_graph) all read it; none recomputes it.

A shape is made for any pathway, even one that does not validate: a target that is not a
node is left out of the edges (graph.validate reports it), and nodes on a cycle are left
out of `order`. It evaluates nothing and imports nothing beyond the IR.
"""

from __future__ import annotations

import heapq
from types import MappingProxyType
from typing import Mapping

from .records import record
from . import ir


@record
class PathwayShape:
    pathway: ir.Pathway
    entry: str | None                                  # None: a pathway without nodes
    nodes: Mapping[str, ir.Node]                       # by id, in declaration order
    edges: Mapping[str, tuple[str, ...]]               # each node's distinct targets, in the order written
    ways_in: Mapping[str, tuple[str, ...]]             # each node's sources, one per branch or `then` into it
    order: tuple[str, ...]                             # sources before targets; ties in declaration order
    fixed_paths: Mapping[str, tuple[str, ...] | None]  # the one path from the entry, where only one exists

    @property
    def id(self) -> str:
        return self.pathway.id


def shape(pathway: ir.Pathway) -> PathwayShape:
    nodes = {n.id: n for n in pathway.nodes}
    edges: dict[str, tuple[str, ...]] = {}
    ways_in: dict[str, list[str]] = {n.id: [] for n in pathway.nodes}
    for node in pathway.nodes:
        targets = [t for t, _ in ir.successors(node) if t is not None and t in nodes]
        for target in targets:
            ways_in[target].append(node.id)
        edges[node.id] = tuple(dict.fromkeys(targets))
    order = _topological(pathway, edges)
    entry = pathway.nodes[0].id if pathway.nodes else None
    fixed: dict[str, tuple[str, ...] | None] = {}
    for node_id in order:  # sources first
        sources = set(ways_in[node_id])
        if node_id == entry:
            fixed[node_id] = (node_id,)
        elif len(sources) == 1 and (above := fixed.get(next(iter(sources)))) is not None:
            fixed[node_id] = above + (node_id,)
        else:
            fixed[node_id] = None
    return PathwayShape(pathway=pathway, entry=entry, nodes=MappingProxyType(nodes), edges=MappingProxyType(edges),
                        ways_in=MappingProxyType({k: tuple(v) for k, v in ways_in.items()}), order=order,
                        fixed_paths=MappingProxyType(fixed))


def shapes(pathways: tuple[ir.Pathway, ...]) -> dict[str, PathwayShape]:
    """The shape of each pathway, by id, in declaration order."""
    return {p.id: shape(p) for p in pathways}


def _topological(pathway: ir.Pathway, edges: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
    """Kahn's algorithm with a heap on the declaration index: ties go to the node declared first."""
    index = {n.id: i for i, n in enumerate(pathway.nodes)}
    waiting = {n.id: 0 for n in pathway.nodes}
    for targets in edges.values():
        for target in targets:
            waiting[target] += 1
    ready = [index[n] for n, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        node_id = pathway.nodes[heapq.heappop(ready)].id
        order.append(node_id)
        for target in edges[node_id]:
            waiting[target] -= 1
            if waiting[target] == 0:
                heapq.heappush(ready, index[target])
    return tuple(order)


__all__ = ["PathwayShape", "shape", "shapes"]
