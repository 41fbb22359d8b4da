"""A straightforward interpreter of the IR: the test oracle for the compiled evaluators.

It walks expressions recursively and pathways node by node, with Kleene logic spelled out
case by case; it shares nothing with the code generator (engine/evaluation/codegen/) but the IR,
the value helpers and the pathways' order, so an error in either shows as a disagreement.
"""

from __future__ import annotations

from consilium.engine.lang import ir
from consilium.engine.evaluation.plans import lay_out
from consilium.engine.lang.values import add_duration, days_between


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


class Walk:
    """What the interpreter saw: the values, and the walk itself (for the full result)."""

    def __init__(self):
        self.recs, self.warns, self.needs = [], [], []
        self.paths = []      # (recommendation, path from the pathway's entry)
        self.steps = []      # (pathway, node, facts read, what happened)
        self.decides = {}    # fact -> [(pathway, node)] it leaves undecided
        self.unchecked = []  # (safety rule, facts it lacks)

    def values(self):
        return self.recs, self.warns, self.needs


def interpret(kb, case) -> tuple[list, list, list]:
    """(recommendations, warnings, needs): the values of a result."""
    return walk(kb, case).values()


def walk(kb, case) -> Walk:
    defines = kb.defines
    seen = Walk()

    def need(pathway, node, conditions):
        for condition in conditions:
            for f in facts_in(condition, defines, []):
                if case.get(f) is None:
                    if f not in seen.needs:
                        seen.needs.append(f)
                    if (pathway, node.id) not in seen.decides.setdefault(f, []):
                        seen.decides[f].append((pathway, node.id))

    def reads(conditions):
        found = []
        for condition in conditions:
            facts_in(condition, defines, found)
        return tuple(found)

    for pathway in kb.pathways:
        pid = pathway.id
        nodes = {n.id: n for n in pathway.nodes}
        paths = {pathway.nodes[0].id: (pathway.nodes[0].id,)}

        def reach(node_id, targets, paths=paths):
            for t in targets:
                if t and t not in paths:
                    paths[t] = paths[node_id] + (t,)
        for node_id in kb.shapes[pid].order:
            if node_id not in paths:
                continue
            node = nodes[node_id]
            if isinstance(node, ir.Decide):
                conditions = [b.condition for b in node.branches if b.condition is not None]
                what = "no branch"
                for index, branch in enumerate(node.branches, start=1):
                    v = True if branch.condition is None else value(branch.condition, case, defines)
                    if v is None:
                        need(pid, node, conditions)
                        what = "undecided"
                        break
                    if v:
                        reach(node_id, [branch.target])
                        what = f"branch {index}"
                        break
                seen.steps.append((pid, node_id, reads(conditions), what))
            elif isinstance(node, (ir.Recommend, ir.Warn)):
                conditions = [node.guard] if node.guard is not None else []
                v = True if node.guard is None else value(node.guard, case, defines)
                if v is None:
                    need(pid, node, conditions)
                if v is True:
                    if isinstance(node, ir.Recommend):
                        seen.recs.append(node.id)
                        seen.paths.append((node.id, paths[node_id]))
                    else:
                        seen.warns.append(node.id)
                    reach(node_id, node.then)
                seen.steps.append((pid, node_id, reads(conditions),
                                   {None: "undecided", True: "fires", False: "does not apply"}[v]))
            elif isinstance(node, ir.Step):
                reach(node_id, node.then)
                seen.steps.append((pid, node_id, (), "continues"))
            elif isinstance(node, ir.Schedule):
                plan = kb.plans[node.id]
                labels = {name: fact.label for name, fact in kb.facts.items()}
                seen.warns.extend(w.id for w in lay_out(plan, case, labels)[1])
                seen.steps.append((pid, node_id, (plan.anchor,), "schedule"))
    for safety in kb.safeties:
        v = value(safety.condition, case, defines)
        read = reads([safety.condition])
        if v is True:
            seen.warns.append(safety.id)
        elif v is None:
            seen.unchecked.append((safety.id, tuple(f for f in read if case.get(f) is None)))
        seen.steps.append((None, safety.id, read, {None: "not checked", True: "raises", False: "clear"}[v]))
    return seen
