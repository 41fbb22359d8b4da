"""A straightforward interpreter of the IR: the test oracle for the compiled evaluators.

It walks expressions recursively and pathways node by node, with Kleene logic spelled out
case by case; it shares nothing with the code generator (engine/evaluation/codegen/) but the IR,
the value helpers and the pathways' order, so an error in either shows as a disagreement.
A need's answers (`answers`) it works out by trying each value on the node itself, with the
package's cutting of a number line into regions (evaluation/needs.answers) and its thresholds
(lang/reads.thresholds), which only say which values to try.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import decimal
from decimal import Decimal
from fractions import Fraction

from consilium.engine.lang import ir
from consilium.engine.lang.reads import thresholds
from consilium.engine.evaluation import needs as regions
from consilium.engine.evaluation.plans import lay_out
from consilium.engine.lang import values as runtime


def value(e, case, defines):
    """An expression's value; numbers as exact rationals (`Fraction`)."""
    match e:
        case ir.NumberLit(value=v):
            return Fraction(v)
        case ir.BoolLit(value=v) | ir.DurationLit(value=v) | ir.DateLit(value=v) | ir.EnumLit(value=v):
            return v
        case ir.SetLit(values=values):
            return frozenset(values)
        case ir.FactRef(id=name):
            v = case.get(name)
            return Fraction(v) if isinstance(v, (int, Decimal)) and not isinstance(v, bool) else v
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
        case ir.Coalesce(operands=ops):
            for op in ops:
                v = value(op, case, defines)
                if v is not None:
                    return v
            return None
    parts = [value(x, case, defines) for x in ir.children(e)]
    if any(p is None for p in parts):
        return None
    match e:
        case ir.Compare(op=op):
            a, b = parts
            if isinstance(a, runtime.Duration):
                return duration_compare(op, a, b)
            return {"=": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
        case ir.Extreme(op=op):
            if all(isinstance(p, runtime.Duration) for p in parts):
                best = parts[0]
                for p in parts[1:]:
                    smaller = duration_compare("<" if op == "min" else ">", p, best)
                    if smaller is None:
                        return None
                    best = p if smaller else best
                return best
            return min(parts) if op == "min" else max(parts)
        case ir.Absolute():
            (a,) = parts
            if isinstance(a, runtime.Duration):
                negative = duration_compare("<", a, runtime.Duration())
                return None if negative is None else (-a if negative else a)
            return -a if a < 0 else a
        case ir.Round(places=places):
            return round_half_away(parts[0], places)
        case ir.MonthsBetween():
            return whole_months(*parts)
        case ir.InRange(interval=interval):
            v = parts[0]
            lo, hi = interval.low, interval.high
            if isinstance(v, runtime.Duration):
                above = duration_compare(">=" if lo.closed else ">", v, lo.value)
                below = duration_compare("<=" if hi.closed else "<", v, hi.value)
                return False if False in (above, below) else (None if None in (above, below) else True)
            return (v >= lo.value if lo.closed else v > lo.value) and (v <= hi.value if hi.closed else v < hi.value)
        case ir.Member():
            return parts[0] in parts[1]
        case ir.Negate():
            return -parts[0]
        case ir.Arith(op=op, kind=kind):
            a, b = parts
            if kind in ("date_plus", "date_minus"):
                sign = 1 if kind == "date_plus" else -1
                months, days = sign * b.months, sign * b.days
                index = a.year * 12 + a.month - 1 + months  # calendar months, written out again
                year, month = divmod(index, 12)
                if not 1 <= year <= 9999:
                    return None
                day = dt.date(year, month + 1, min(a.day, calendar.monthrange(year, month + 1)[1]))
                ordinal = day.toordinal() + days
                return dt.date.fromordinal(ordinal) if 1 <= ordinal <= dt.date.max.toordinal() else None
            if kind == "date_diff":
                return runtime.Duration(days=a.toordinal() - b.toordinal())
            if kind == "duration":
                return a + b if op == "+" else a - b
            if op == "/":  # rounded to 34 significant digits, half even, when it does not end
                if b == 0:
                    return None
                quotient = Fraction(_QUOTIENT.divide(Decimal(a.numerator * b.denominator),
                                                     Decimal(a.denominator * b.numerator)))
            else:
                quotient = {"+": a + b, "-": a - b, "*": a * b}[op]
            return quotient if quotient == 0 or _SMALLEST <= abs(quotient) < _LARGEST else None
    raise AssertionError(e)


_QUOTIENT = decimal.Context(prec=34, rounding=decimal.ROUND_HALF_EVEN, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)
_SMALLEST, _LARGEST = Fraction(1, 10 ** 1000), Fraction(10 ** 1001)  # beyond: unknown (values.MAX_EXPONENT)


def duration_compare(op, a, b):
    """The rule of lang/values.py, by brute force: the difference in months measured from every
    day of a 400-year cycle (slow, so memoised)."""
    low, high = _span(a.months - b.months)
    delta = b.days - a.days
    holds = {"<": (high < delta, low >= delta), "<=": (high <= delta, low > delta),
             ">": (low > delta, high <= delta), ">=": (low >= delta, high < delta),
             "=": (low == high == delta, delta < low or delta > high)}
    if op == "!=":
        t, f = holds["="]
        return False if t else (True if f else None)
    t, f = holds[op]
    return True if t else (False if f else None)


@functools.lru_cache(maxsize=None)
def _span(k):
    cycles, r = divmod(k, 4800)
    spans = []
    for month in range(4800):  # every month of 2000..2399, from its first and its last day
        year, m = 2000 + month // 12, month % 12 + 1
        for day in (1, 28, 29, 30, 31):
            if day > calendar.monthrange(year, m)[1]:
                continue
            start = dt.date(year, m, day)
            ty, tm = divmod(year * 12 + m - 1 + r, 12)
            end = dt.date(ty, tm + 1, min(day, calendar.monthrange(ty, tm + 1)[1]))
            spans.append((end - start).days)
    return min(spans) + cycles * 146097, max(spans) + cycles * 146097


def round_half_away(x, places):
    scaled = Fraction(x) * 10 ** places
    whole = int(abs(scaled) + Fraction(1, 2))
    return Fraction(whole if scaled >= 0 else -whole, 10 ** places)


def whole_months(start, end):
    k = (end.year - start.year) * 12 + end.month - start.month
    def plus(n):
        y, m = divmod(start.year * 12 + start.month - 1 + n, 12)
        return dt.date(y, m + 1, min(start.day, calendar.monthrange(y, m + 1)[1]))
    while k > 0 and plus(k) > end:
        k -= 1
    while k < 0 and plus(k) < end:
        k += 1
    return runtime.Duration(months=k)


def facts_in(e, defines, found):
    for node in ir.walk(e):
        if isinstance(node, ir.FactRef) and node.id not in found:
            found.append(node.id)
        elif isinstance(node, ir.DefineRef):
            facts_in(defines[node.id].expr, defines, found)
    return found


def open_facts(e, case, defines, found):
    """The missing facts that could still decide `e`: down from `e`, through every part whose
    value is unknown, to the facts the case lacks (a part with a value cannot change)."""
    if value(e, case, defines) is not None:
        return found
    match e:
        case ir.FactRef(id=name):
            found.add(name)
        case ir.DefineRef(id=name):
            open_facts(defines[name].expr, case, defines, found)
        case _:
            for child in ir.children(e):
                open_facts(child, case, defines, found)
    return found


def needed(conditions, case, defines):
    """An open node's needs, in the order it reads them: the open facts of its first condition
    that is unknown (the false ones before it stay false whatever the missing facts are)."""
    read = []
    for condition in conditions:
        facts_in(condition, defines, read)
    for condition in conditions:
        v = value(condition, case, defines)
        if v is None:
            found = open_facts(condition, case, defines, set())
            return [f for f in read if f in found]
        if v is not False:
            return []
    return []


class Walk:
    """What the interpreter saw: the values, and the walk itself (for the full result)."""

    def __init__(self):
        self.recs, self.warns, self.needs = [], [], []
        self.paths = []      # (recommendation, path from the pathway's entry)
        self.steps = []      # (pathway, node, facts read, what happened: an open node's names its needs)
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
        """Note an open node's needs; what its step says: the facts that could decide it, if any."""
        found = needed(conditions, case, defines)
        for f in found:
            if f not in seen.needs:
                seen.needs.append(f)
            if (pathway, node.id) not in seen.decides.setdefault(f, []):
                seen.decides[f].append((pathway, node.id))
        return "undecided: needs " + ", ".join(found) if found else "undecided"

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
            conditions = node_conditions(node)
            if isinstance(node, ir.Decide):
                what = "no branch"
                for index, branch in enumerate(node.branches, start=1):
                    v = True if branch.condition is None else value(branch.condition, case, defines)
                    if v is None:
                        what = need(pid, node, conditions)
                        break
                    if v:
                        reach(node_id, [branch.target])
                        what = f"branch {index}"
                        break
                seen.steps.append((pid, node_id, reads(conditions), what))
            elif isinstance(node, (ir.Recommend, ir.Warn)):
                v = True if node.guard is None else value(node.guard, case, defines)
                what = {True: "fires", False: "does not apply"}.get(v)
                if v is None:
                    what = need(pid, node, conditions)
                if v is True:
                    if isinstance(node, ir.Recommend):
                        seen.recs.append(node.id)
                        seen.paths.append((node.id, paths[node_id]))
                    else:
                        seen.warns.append(node.id)
                    reach(node_id, node.then)
                seen.steps.append((pid, node_id, reads(conditions), what))
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
        what = {True: "raises", False: "clear"}.get(v)
        if v is True:
            seen.warns.append(safety.id)
        elif v is None:
            found = tuple(needed([safety.condition], case, defines))
            seen.unchecked.append((safety.id, found))
            what = "not checked: needs " + ", ".join(found) if found else "not checked"
        seen.steps.append((None, safety.id, read, what))
    return seen


def node_conditions(node):
    """A decision's conditions (not `otherwise`), or a rule's guard if it has one."""
    if isinstance(node, ir.Decide):
        return [b.condition for b in node.branches if b.condition is not None]
    return [node.guard] if getattr(node, "guard", None) is not None else []


def answers(kb, case, pathway, node_id, fact):
    """What each answer to `fact` would make an open node do, the rest of the case as it is:
    [(answer, leads_to, outcome)], as a need's answers say it. An answer that leaves the node
    open names the facts that could then decide it (`needed`, of the case with that answer), or
    says `still undecided` alone when none could (the reason's words are the evaluator's)."""
    defines = kb.defines
    [node] = [n for p in kb.pathways if p.id == pathway for n in p.nodes if n.id == node_id]
    conditions = node_conditions(node)
    labels = {n.id: getattr(n, "label", None) or getattr(n, "question", None) or n.id
              for p in kb.pathways for n in p.nodes}

    def probe(v):
        tried = {**case, fact: v}
        if isinstance(node, ir.Decide):
            for branch in node.branches:
                holds = True if branch.condition is None else value(branch.condition, tried, defines)
                if holds is None:
                    break
                if holds:
                    target = branch.target
                    return target, "-> " + (labels.get(target, target) if target is not None else "the pathway ends")
            else:
                return None, "no branch holds"
        else:
            holds = value(node.guard, tried, defines)
            if holds is not None:
                verb = "recommend" if isinstance(node, ir.Recommend) else "warn"
                return (node.id, f"{verb}: {node.label}") if holds else (None, "does not apply")
        found = needed(conditions, tried, defines)
        return None, "still undecided: needs " + ", ".join(found) if found else "still undecided"
    cuts = set()
    for condition in conditions:
        cuts.update(thresholds(condition, fact, defines))
    return [(a.answer, a.leads_to, a.outcome) for a in regions.answers(kb.facts[fact], probe, tuple(cuts))]
