"""Pages: a large pathway cut into charts that each print legibly on one sheet.

Takes a pathway; returns its pages, each a connected part of the pathway (a node and what
follows it, down to where the next page takes over), small enough to print on one A4
landscape sheet with no text under 8 pt (tests/test_print.py holds every chart of the
report to that). Pure and deterministic: the same pathway gives the same pages.

The cut follows the pathway's own structure. Each node hangs from the first node that
leads to it (breadth first, in the order written). A page starts at a node and keeps what
follows it for `MAX_RANKS` columns, a link to another page taking a column too; a follower
that would not fit starts a page of its own (so a page is a section: a step or a decision
and what it leads to). Within `MAX_WEIGHT` boxes' room (see `_weight`; a link takes a
box's room), the largest followers are cut first; a node with more single followers than a
page holds is drawn again on a continuation page with the rest of them; a page that would
hold only a node and the link to its one follower is joined with that follower's page.
Where an edge leaves a page, the chart draws a link to the page that continues it
(render/flowchart.py).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from ..engine.lang import ir

MAX_WEIGHT = 8     # boxes of the pathway drawn on one page (see _weight)
MAX_RANKS = 3      # columns of a left-to-right chart on one page, links to other pages included


@dataclass(frozen=True)
class Page:
    root: str                   # the node the page starts with
    nodes: tuple[str, ...]      # the pathway's nodes drawn on it, in the order written
    part: int = 1               # 2, 3, ...: a continuation page of the same node


def paginate(pathway: ir.Pathway, max_weight: int = MAX_WEIGHT, max_ranks: int = MAX_RANKS) -> list[Page]:
    """The pages of a pathway, the page of its entry first; one page when it fits on one.
    A node's page is the first listed that holds it."""
    if not pathway.nodes:
        return []
    nodes = {n.id: n for n in pathway.nodes}
    written = list(nodes)
    children = _tree(pathway, nodes)
    weight = {n: _weight(nodes[n]) for n in nodes}
    entry = written[0]

    def fit(node: str, column: int) -> tuple[set[str], list[str], dict[str, list[list[str]]]]:
        """From `node` at `column` of its page: the nodes kept on the page, the followers that
        start pages of their own, and the single followers moved to continuation pages."""
        kept: dict[str, tuple[set[str], list[str], dict]] = {}
        cuts: list[str] = []
        for child in children[node]:
            # a follower fits while it and its links stay within the page's columns
            if column + 1 < max_ranks or (column + 1 == max_ranks and not children[child]):
                kept[child] = fit(child, column + 1)
            else:
                cuts.append(child)

        def room_taken() -> int:  # boxes, and the links to other pages (a box's room each)
            return (weight[node] + len(cuts) + sum(weight[n] for m, _, _ in kept.values() for n in m)
                    + sum(len(c) for _, c, _ in kept.values()))

        overflow: dict[str, list[list[str]]] = {}
        while kept and room_taken() > max_weight:
            bigger = [c for c, (m, _, _) in kept.items() if len(m) > 1]
            if not bigger:
                # single followers only: the rest continue on pages of their own with this node
                first, rest = _fill(list(kept), weight, max(1, max_weight - weight[node] - len(cuts)))
                groups = []
                while rest:  # a continuation page: the node again, a link back, and these
                    group, rest = _fill(rest, weight, max(1, max_weight - weight[node] - 1))
                    groups.append(group)
                overflow[node] = groups
                for c in _rest_of(kept, first):  # what a moved follower links to still gets its pages
                    cuts += kept[c][1]
                    overflow.update(kept[c][2])
                kept = {c: kept[c] for c in first}
                break
            cut = max(bigger, key=lambda c: (len(kept[c][0]), -written.index(c)))
            cuts.append(cut)  # laid out afresh as a page of its own
            del kept[cut]
        members = {node}.union(*(m for m, _, _ in kept.values()))
        for _, below, moved in kept.values():
            cuts += below
            overflow.update(moved)
        return members, cuts, overflow

    pages: list[Page] = []
    queue = [entry]
    while queue:
        root = queue.pop(0)
        members, cuts, overflow = fit(root, 1)
        moved = {n for groups in overflow.values() for g in groups for n in g}
        pages.append(Page(root, tuple(n for n in written if n in members and n not in moved)))
        for node in sorted(overflow, key=written.index):
            pages += [Page(node, tuple(n for n in written if n == node or n in group), part)
                      for part, group in enumerate(overflow[node], start=2)]
        queue += sorted(cuts, key=written.index)
    # a page holding one node whose follower starts the next page: one page of the two
    for alone in [p for p in pages if len(p.nodes) == 1 and p.part == 1 and len(children[p.root]) == 1]:
        [follower] = children[alone.root]
        nxt = next((p for p in pages if p.root == follower and p.part == 1), None)
        if nxt is not None and alone in pages:
            pages[pages.index(nxt)] = Page(alone.root, tuple(n for n in written if n == alone.root or n in nxt.nodes))
            pages.remove(alone)
    # the page of the entry first, then in the order the pages' first nodes are written
    first, rest = pages[0], sorted(pages[1:], key=lambda p: (written.index(p.root), p.part))
    return [first] + rest


def _rest_of(kept: dict, first: list[str]) -> list[str]:
    return [c for c in kept if c not in first]


def _weight(node: ir.Node) -> int:
    """Roughly how many plain boxes of room a node takes: a plan's folder lists its steps, a
    long label wraps over several lines, a condition adds its own."""
    if isinstance(node, ir.Schedule):
        return 3
    text = getattr(node, "label", None) or getattr(node, "question", None) or ""
    return 1 + len(text) // 80 + (1 if getattr(node, "guard", None) is not None else 0)


def _fill(items: list[str], weight: dict[str, int], room: int) -> tuple[list[str], list[str]]:
    taken: list[str] = []
    used = 0
    for i, item in enumerate(items):
        if taken and used + weight[item] > room:
            return taken, items[i:]
        taken.append(item)
        used += weight[item]
    return taken, []


def _tree(pathway: ir.Pathway, nodes: dict) -> dict[str, list[str]]:
    """Each node's children in the tree where a node hangs from the first node reaching it."""
    children: dict[str, list[str]] = {n: [] for n in nodes}
    seen = {pathway.nodes[0].id}
    queue = deque([pathway.nodes[0].id])
    while queue:
        node = queue.popleft()
        for target, _ in ir.successors(nodes[node]):
            if target is not None and target in nodes and target not in seen:
                seen.add(target)
                children[node].append(target)
                queue.append(target)
    return children
