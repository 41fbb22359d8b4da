"""When each node of a knowledge base is reached, and each rule fires, as Z3 formulas.

Walks every pathway in its order (`PathwayShape.order`: each node after every node leading
to it): the entry is always reached; a decision takes its first branch whose condition is
true once every earlier one is false (and `otherwise` when all are false); a guarded rule
fires when it is reached and its guard is true; `then` continues from a step when reached,
from a rule when it fires. These are the evaluator's semantics, as formulas the solver can
reason about. No solving happens here, and no networkx: the shape says all it needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import z3

from ...lang import ir
from ...kb import KnowledgeBase

from .encode import Encoder, Truth


@dataclass
class Reach:
    reached: dict[str, z3.BoolRef] = field(default_factory=dict)              # node -> reached
    takes: dict[tuple[str, int], z3.BoolRef] = field(default_factory=dict)    # (decision, index) -> taken
    truths: dict[str, list[Truth | None]] = field(default_factory=dict)       # decision -> its conditions
    fires: dict[str, z3.BoolRef] = field(default_factory=dict)                # rule -> fires
    rules: dict[str, ir.Recommend | ir.Warn | ir.Safety] = field(default_factory=dict)
    pathway_of: dict[str, ir.Pathway] = field(default_factory=dict)


def reach(kb: KnowledgeBase, encoder: Encoder) -> Reach:
    r = Reach()
    for pathway in kb.pathways:
        _pathway(kb.shapes[pathway.id].order, pathway, encoder, r)
    for safety in kb.safeties:
        r.rules[safety.id] = safety
        r.fires[safety.id] = encoder.truth(safety.condition).true
    return r


def _pathway(order: tuple[str, ...], pathway: ir.Pathway, encoder: Encoder, r: Reach) -> None:
    nodes = {n.id: n for n in pathway.nodes}
    incoming: dict[str, list[z3.BoolRef]] = {n.id: [] for n in pathway.nodes}
    incoming[pathway.nodes[0].id].append(z3.BoolVal(True))
    for node_id in order:
        node = nodes[node_id]
        r.pathway_of[node_id] = pathway
        reached = z3.Or(incoming[node_id]) if incoming[node_id] else z3.BoolVal(False)
        r.reached[node_id] = reached
        match node:
            case ir.Decide():
                truths = [encoder.truth(b.condition) if b.condition is not None else None for b in node.branches]
                r.truths[node_id] = truths
                earlier_false: list[z3.BoolRef] = []
                for index, (branch, truth) in enumerate(zip(node.branches, truths, strict=True)):
                    if truth is None:
                        take = z3.And(reached, *earlier_false)
                    else:
                        take = z3.And(reached, *earlier_false, truth.true)
                        earlier_false.append(truth.false)
                    r.takes[node_id, index] = take
                    if branch.target is not None:
                        incoming[branch.target].append(take)
            case ir.Recommend() | ir.Warn():
                fires = reached if node.guard is None else z3.And(reached, encoder.truth(node.guard).true)
                r.rules[node_id] = node
                r.fires[node_id] = fires
                for target in node.then:
                    if target is not None:
                        incoming[target].append(fires)
            case ir.Step():
                for target in node.then:
                    if target is not None:
                        incoming[target].append(reached)
