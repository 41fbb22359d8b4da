"""A straightforward interpreter of the IR: the test oracle for the compiled evaluators.

It walks expressions recursively and pathways node by node, with Kleene logic spelled out
case by case; it shares nothing with engine/compile.py or engine/codegen.py but the IR and
the value helpers, so an error in either shows as a disagreement.
"""

from __future__ import annotations

from engine import ir
from engine.plans import lay_out
from engine.values import add_duration, days_between


def value(e, case, defines):
    match e:
        case ir.BoolLit(value=v) | ir.NumberLit(value=v) | ir.DurationLit(value=v) | ir.DateLit(value=v) \
                | ir.EnumLit(value=v):
            return v
        case ir.SetLit(values=values):
            return frozenset(values)
        case ir.FactRef(id=name):
            return case.get(name)
        case ir.DefineRef(id=name):
            return value(defines[name].expr, case, defines)
        case ir.And(operands=ops):
            results = [value(op, case, defines) for op in ops]
            return False if False in results else (None if None in results else True)
        case ir.Or(operands=ops):
            results = [value(op, case, defines) for op in ops]
            return True if True in results else (None if None in results else False)
        case ir.Not(operand=op):
            v = value(op, case, defines)
            return None if v is None else not v
        case ir.IsKnown(operand=op, negated=negated):
            known = value(op, case, defines) is not None
            return not known if negated else known
    parts = [value(x, case, defines) for x in ir.children(e)]
    if any(p is None for p in parts):
        return None
    match e:
        case ir.Compare(op=op):
            a, b = parts
            return {"=": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
        case ir.InRange(interval=interval):
            return interval.contains(parts[0])
        case ir.Member():
            return parts[0] in parts[1]
        case ir.Negate():
            return -parts[0]
        case ir.Arith(op=op, kind=kind):
            a, b = parts
            if kind == "date_plus":
                return add_duration(a, b)
            if kind == "date_minus":
                return add_duration(a, -b)
            if kind == "date_diff":
                return days_between(a, b)
            if op == "/":
                return None if b == 0 else a / b
            return {"+": a + b, "-": a - b, "*": a * b}[op]
    raise AssertionError(e)


def facts_in(e, defines, found):
    for node in ir.walk(e):
        if isinstance(node, ir.FactRef) and node.id not in found:
            found.append(node.id)
        elif isinstance(node, ir.DefineRef):
            facts_in(defines[node.id].expr, defines, found)
    return found


def interpret(kb, case) -> tuple[list, list, list]:
    defines = kb.checked.defines
    recs, warns, needs = [], [], []

    def need(conditions):
        for condition in conditions:
            for f in facts_in(condition, defines, []):
                if case.get(f) is None and f not in needs:
                    needs.append(f)

    for pathway in kb.pathways:
        nodes = {n.id: n for n in pathway.nodes}
        reached = {pathway.nodes[0].id}
        for node_id in kb.evaluator.orders[pathway.id]:
            if node_id not in reached:
                continue
            node = nodes[node_id]
            if isinstance(node, ir.Decide):
                for branch in node.branches:
                    v = True if branch.condition is None else value(branch.condition, case, defines)
                    if v is None:
                        need([b.condition for b in node.branches if b.condition is not None])
                        break
                    if v:
                        if branch.target:
                            reached.add(branch.target)
                        break
            elif isinstance(node, (ir.Recommend, ir.Warn)):
                v = True if node.guard is None else value(node.guard, case, defines)
                if v is None:
                    need([node.guard])
                if v is True:
                    (recs if isinstance(node, ir.Recommend) else warns).append(node.id)
                    reached.update(t for t in node.then if t)
            elif isinstance(node, ir.Step):
                reached.update(t for t in node.then if t)
            elif isinstance(node, ir.Schedule):
                warns.extend(w.id for w in lay_out(kb.checked.plans[node.id], case, kb.evaluator.fact_labels)[1])
    for safety in kb.checked.safeties:
        if value(safety.condition, case, defines) is True:
            warns.append(safety.id)
    return recs, warns, needs
