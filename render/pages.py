"""Pages: a large pathway cut into charts that each print legibly on one sheet.

Takes a pathway; returns its pages, each a connected part of the pathway (a node and what
follows it, down to where the next page takes over), small enough to print on one A4
landscape sheet with no text under 8 pt (tests/test_print.py holds every chart of the
report to that). Pure and deterministic: the same pathway gives the same pages.

The cut follows the pathway's own structure. Each node hangs from the first node that
leads to it (breadth first, in the order written); walking that tree bottom-up, a node
keeps its followers on its page while the page stays within `MAX_WEIGHT` (a box counts 1,
a plan 3) and `MAX_RANKS` columns, and the largest subtree that does not fit starts a page
of its own (so a page is a section: a step or a decision and what it leads to). A node
with more single followers than a page holds is drawn again on a continuation page with
the rest of them. Where an edge leaves a page, the chart draws a link to the page that
continues it (render/flowchart.py).
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
    roots: list[str] = [entry]
    overflow: dict[str, list[list[str]]] = {}   # node -> groups of its single followers on continuation pages

    def keep(node: str) -> tuple[set[str], int]:
        """The nodes kept on `node`'s page from it down, and the columns they span."""
        kept = {child: keep(child) for child in children[node]}
        cut_any = False
        links = 0  # a link to another page takes a box's room

        def heavy() -> bool:
            return weight[node] + links + sum(weight[n] for s, _ in kept.values() for n in s) > max_weight

        def deep() -> bool:
            return 1 + max([d for _, d in kept.values()] + [1 if cut_any else 0]) > max_ranks

        while kept and (heavy() or deep()):
            too_deep = [c for c, (_, d) in kept.items() if 1 + d > max_ranks]
            bigger = [c for c, (s, _) in kept.items() if len(s) > 1]
            if not too_deep and not bigger:
                # single followers only: the rest continue on pages of their own with this node
                leaves = list(kept)
                first, rest = _fill(leaves, weight, max(1, max_weight - weight[node] - links))
                groups = []
                while rest:  # a continuation page: the node again, a link back, and these
                    group, rest = _fill(rest, weight, max(1, max_weight - weight[node] - 1))
                    groups.append(group)
                overflow[node] = groups
                kept = {c: kept[c] for c in first}
                break
            cut = max(too_deep or bigger, key=lambda c: (len(kept[c][0]), -written.index(c)))
            roots.append(cut)
            del kept[cut]
            cut_any = True
            links += 1
        members = {node}.union(*(s for s, _ in kept.values()))
        return members, 1 + max([d for _, d in kept.values()] + [1 if cut_any else 0])

    keep(entry)
    cut_at = set(roots)
    moved = {n for groups in overflow.values() for g in groups for n in g}
    pages = []
    for root in sorted(roots, key=written.index):
        members = _members(root, children, cut_at, moved)
        pages.append(Page(root, tuple(n for n in written if n in members)))
        for part, group in enumerate(_groups_below(root, members, overflow), start=2):
            node, followers = group
            pages.append(Page(node, tuple(n for n in written if n == node or n in followers), part))
    return pages


def _weight(node: ir.Node) -> int:
    """Roughly how many plain boxes of room a node takes: a plan's folder lists its steps, a
    long label wraps over several lines, a condition adds its own."""
    if isinstance(node, ir.Schedule):
        return 3
    text = getattr(node, "label", None) or getattr(node, "question", None) or ""
    return 1 + len(text) // 80 + (1 if getattr(node, "guard", None) is not None else 0)


def _fill(items: list[str], weight: dict[str, int], room: int) -> tuple[list[str], list[str]]:
    taken, used = [], 0
    for i, item in enumerate(items):
        if taken and used + weight[item] > room:
            return taken, items[i:]
        taken.append(item)
        used += weight[item]
    return taken, []


def _groups_below(root: str, members: set[str], overflow: dict[str, list[list[str]]]):
    for node in sorted(members & overflow.keys()):
        for group in overflow[node]:
            yield node, set(group)


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


def _members(root: str, children: dict[str, list[str]], roots: set[str], moved: set[str]) -> set[str]:
    """The nodes of the page of `root`: its subtree down to the next page's roots."""
    found, stack = set(), [root]
    while stack:
        node = stack.pop()
        if node in moved:
            continue
        found.add(node)
        stack.extend(c for c in children[node] if c not in roots)
    return found
