"""Where each node's code goes: a pathway's shape -> for each node, the node whose code holds it.

A node can be written inside the node that leads to it when that is its only way in: it
then runs right after it, as written, instead of at its place in the pathway's order, and
needs no flag saying it was reached. That must not change the order of anything a case
sees: every two nodes that can both be reached must run in the pathway's order (two nodes
under different branches of one decision never both are). A held node that would run out
of order is let go, one at a time, until none does.
"""

from __future__ import annotations

from ...lang import ir
from ...lang.shape import PathwayShape

Chain = tuple[tuple[str, int], ...]  # the (decision, branch) pairs above a node in the code


def holders(shape: PathwayShape) -> dict[str, str | None]:
    """For each node, the node whose code holds it (None: it runs on its own, behind a flag)."""
    holder = {node_id: ways[0] if len(ways) == 1 and node_id != shape.entry else None
              for node_id, ways in shape.ways_in.items()}
    rank = {node_id: i for i, node_id in enumerate(shape.order)}

    def written() -> list[tuple[str, Chain]]:
        """The nodes in the order of the code, each with the (decision, branch) pairs above it."""
        found: list[tuple[str, Chain]] = []

        def write(node_id: str, above: Chain) -> None:
            found.append((node_id, above))
            node = shape.nodes[node_id]
            for index, (target, _) in enumerate(ir.successors(node)):
                if target is not None and holder.get(target) == node_id:
                    write(target, above + ((node_id, index),) if isinstance(node, ir.Decide) else above)
        for node_id in shape.order:
            if holder[node_id] is None:
                write(node_id, ())
        return found

    def out_of_order() -> str | None:
        code = written()
        # the lowest rank at or after each place in the code: a node with none lower after it
        # cannot be the first of an out-of-order pair (most are not: this keeps it near linear)
        lowest = [len(rank)] * (len(code) + 1)
        for i in range(len(code) - 1, -1, -1):
            lowest[i] = min(rank[code[i][0]], lowest[i + 1])
        for i, (first, first_above) in enumerate(code):
            if lowest[i + 1] > rank[first]:
                continue
            for second, second_above in code[i + 1:]:
                if rank[first] > rank[second] and not _exclusive(first_above, second_above):
                    return first if holder[first] is not None else second
        return None

    while (node_id := out_of_order()) is not None:
        holder[node_id] = None
    return holder


def _exclusive(a: Chain, b: Chain) -> bool:
    """Do two chains of (decision, branch) from the same top part apart at one decision?"""
    for (decision_a, branch_a), (decision_b, branch_b) in zip(a, b, strict=False):  # the common top part
        if decision_a != decision_b:
            return False
        if branch_a != branch_b:
            return True
    return False
