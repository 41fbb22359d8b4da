"""Static facts about expressions and nodes: what they read, and where they cut a fact.

Takes resolved expressions (and the definitions they refer to); returns `facts_read`, the
facts an expression depends on (through definitions, first seen first), `reads_of`, the
facts a node's conditions read, `thresholds`, the constants a fact is compared with (where
the answers to a need change), and `define_order`, the definitions each after those it
uses. Evaluates nothing.
"""

from __future__ import annotations

from typing import Any, Mapping

from . import ir
from .values import Duration


def facts_read(e: ir.Expr | None, defines: Mapping[str, ir.Define]) -> tuple[str, ...]:
    """The facts an expression depends on, through definitions, in first-seen order."""
    seen: dict[str, None] = {}
    visited_defines: set[str] = set()
    stack = [e] if e is not None else []
    while stack:
        node = stack.pop()
        match node:
            case ir.FactRef(id=name):
                seen.setdefault(name)
            case ir.DefineRef(id=name) if name not in visited_defines:
                visited_defines.add(name)
                stack.append(defines[name].expr)
            case _:
                stack.extend(reversed(ir.children(node)))
    return tuple(seen)


def thresholds(e: ir.Expr | None, fact: str, defines: Mapping[str, ir.Define]) -> tuple[Any, ...]:
    """The constants `fact` is compared with in `e` (directly, or through definitions)."""
    found: set[Any] = set()
    visited: set[str] = set()
    stack = [e] if e is not None else []
    while stack:
        node = stack.pop()
        match node:
            case ir.Compare(left=ir.FactRef(id=f), right=ir.NumberLit(value=v) | ir.DurationLit(value=v)) \
                    if f == fact:
                found.add(v)
            case ir.Compare(left=ir.NumberLit(value=v) | ir.DurationLit(value=v), right=ir.FactRef(id=f)) \
                    if f == fact:
                found.add(v)
            case ir.InRange(operand=ir.FactRef(id=f), interval=interval) if f == fact:
                found.update((interval.low.value, interval.high.value))
            case ir.DefineRef(id=name) if name not in visited:
                visited.add(name)
                stack.append(defines[name].expr)
            case _:
                stack.extend(ir.children(node))
    numbers = [v for v in found if not isinstance(v, Duration)]
    durations = [v for v in found if isinstance(v, Duration)]
    if durations:
        return tuple(sorted(durations, key=lambda d: d.approx_days))
    return tuple(sorted(numbers))


def reads_of(node: ir.Node, defines: Mapping[str, ir.Define]) -> tuple[str, ...]:
    """The facts a decision's conditions or a rule's guard read, first seen first."""
    seen: dict[str, None] = {}
    for condition in conditions_of(node):
        seen.update(dict.fromkeys(facts_read(condition, defines)))
    return tuple(seen)


def conditions_of(node: ir.Node) -> list[ir.Expr]:
    """A decision's branch conditions (not `otherwise`), or a rule's guard if it has one."""
    if isinstance(node, ir.Decide):
        return [b.condition for b in node.branches if b.condition is not None]
    guard = getattr(node, "guard", None)
    return [guard] if guard is not None else []


def define_order(defines: Mapping[str, ir.Define]) -> list[str]:
    """Definitions in an order where each comes after those it uses."""
    order: list[str] = []
    done: set[str] = set()

    def visit(name: str) -> None:
        if name in done:
            return
        done.add(name)
        for e in ir.walk(defines[name].expr):
            if isinstance(e, ir.DefineRef):
                visit(e.id)
        order.append(name)

    for name in defines:
        visit(name)
    return order


__all__ = ["conditions_of", "define_order", "facts_read", "reads_of", "thresholds"]
