"""Needs: for a fact a decision is missing, what each possible answer would lead to.

Takes the fact, a probe (the decision re-run on the case with that fact set to a value)
and the thresholds the fact is compared with; returns answers in words ("≤ 3 segments",
"mutant") with their outcome. Booleans and enums list every value; sets, each value and
none; numbers and durations are cut at their thresholds into regions, and neighbouring
regions that lead to the same place are merged. Dates, and facts only combined through
arithmetic, get no answer list: which answer decides depends on other values.

`Relevance` says which missing facts an open node needs at all: those whose answer could
still change what it does. Unknown is not false, but a fact read only beside a conjunct that
is already false (or a disjunct already true), or only by a branch after the one left open,
cannot change the outcome (Kleene logic is monotone): it is no need. Both evaluation paths
(the generated code calls it as `relevant`), the text of an open trace step, and the words of a
need's answer that leaves its node open (what it then needs: evaluate.py) use it.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from ..lang import ir
from ..lang.checked import Checked
from ..lang.reads import conditions_of, facts_read, reads_of
from .explain import Explainer
from .result import Answer
from ..lang.values import Duration, format_number, midpoint

Probe = Callable[[Any], tuple[str | None, str]]  # value -> (leads_to, outcome in words)


def kept_bound(nodes: int) -> int:
    """How many entries a cache kept per (node, values read) may hold before it is emptied: 64 a
    node, 8,192 at least. A bound that did not grow with the knowledge base was emptied ever more
    often as it grew (60 copies of the bundled one: every few cases), and each case then worked out
    again what it had kept: the cost per case grew faster than the knowledge base."""
    return max(8192, 64 * nodes)


def answers(fact: ir.Fact, probe: Probe, cuts: tuple[Any, ...]) -> tuple[Answer, ...]:
    match fact.type:
        case ir.BoolType():
            return tuple(Answer(word, *probe(value)) for word, value in (("yes", True), ("no", False)))
        case ir.EnumType(values=values):
            return tuple(Answer(v, *probe(v)) for v in values)
        case ir.SetType(values=values):
            found = [Answer(f"includes {v}", *probe(frozenset({v}))) for v in values]
            return tuple(found) + (Answer("none of them", *probe(frozenset())),)
        case ir.NumberType(integer=integer, unit=unit, range=interval):
            return _regions(probe, [c for c in cuts if not isinstance(c, Duration)], integer, unit, interval)
        case ir.DurationType(range=interval):
            return _duration_regions(probe, [c for c in cuts if isinstance(c, Duration)], interval)
    return ()


def _regions(probe: Probe, cuts: list[Any], integer: bool, unit: str | None,
             interval: ir.Interval | None) -> tuple[Answer, ...]:
    """Cut the number line at each threshold: below, at, between, above; merge equal outcomes."""
    if not cuts:
        return ()
    points = sorted(set(cuts))
    regions = []  # (low, low_closed, high, high_closed, sample)
    first = points[0]
    regions.append((None, False, first, False, first - 1))
    for i, p in enumerate(points):
        regions.append((p, True, p, True, p))
        nxt = points[i + 1] if i + 1 < len(points) else None
        if nxt is None:
            regions.append((p, False, None, False, p + 1))
        elif not integer or nxt - p > 1:
            regions.append((p, False, nxt, False, midpoint(p, nxt) if not integer else p + 1))
    regions = [r for r in regions if interval is None or interval.contains(r[4])]
    merged: list[list[Any]] = []
    for low, low_closed, high, high_closed, sample in regions:
        leads_to, outcome = probe(sample)
        if merged and merged[-1][4] == (leads_to, outcome):
            merged[-1][2], merged[-1][3] = high, high_closed
        else:
            merged.append([low, low_closed, high, high_closed, (leads_to, outcome)])
    return tuple(Answer(_describe(lo, lc, hi, hc, unit, interval), *result)
                 for lo, lc, hi, hc, result in merged)


def _describe(low: Any, low_closed: bool, high: Any, high_closed: bool, unit: str | None,
              interval: ir.Interval | None) -> str:
    suffix = "" if not unit else (" %" if unit == "%" else f" {unit}")

    def show(v: Any) -> str:
        return format_number(v) + suffix
    if interval is not None:
        # Bounds the fact's own range already imposes go without saying.
        if low is None or (low == interval.low.value and low_closed == interval.low.closed):
            low = None
        if high is None or (high == interval.high.value and high_closed == interval.high.closed):
            high = None
    if low is None and high is None:
        return "any value"
    if low is not None and high is not None and low == high:
        return f"= {show(low)}"
    if low is None:
        return f"{'≤' if high_closed else '<'} {show(high)}"
    if high is None:
        return f"{'≥' if low_closed else '>'} {show(low)}"
    return f"{'≥' if low_closed else '>'} {show(low)} and {'≤' if high_closed else '<'} {show(high)}"


def _duration_regions(probe: Probe, cuts: list[Duration], interval: ir.Interval | None) -> tuple[Answer, ...]:
    if not cuts:
        return ()
    if all(c.months == 0 for c in cuts):
        unit, axis = "days", [c.days for c in cuts]
    elif all(c.days == 0 for c in cuts):
        unit, axis = "months", [c.months for c in cuts]
    else:
        return ()

    def make(n: float) -> Duration:
        return Duration(days=int(n)) if unit == "days" else Duration(months=int(n))
    numeric_interval = None
    if interval is not None:
        lo, hi = interval.low.value, interval.high.value
        if unit == "days" and isinstance(lo, Duration) and isinstance(hi, Duration) and lo.months == hi.months == 0:
            numeric_interval = ir.Interval(low=ir.Bound(value=lo.days, closed=interval.low.closed),
                                           high=ir.Bound(value=hi.days, closed=interval.high.closed))
    return _regions(lambda n: probe(make(n)), axis, True, unit, numeric_interval)


_STRICT = (ir.Compare, ir.InRange, ir.Member, ir.Arith, ir.Negate, ir.Absolute, ir.Round, ir.MonthsBetween, ir.Not,
           ir.FactRef, ir.DefineRef, ir.BoolLit, ir.NumberLit, ir.DurationLit, ir.DateLit, ir.EnumLit, ir.SetLit)


def every_missing_fact_decides(conditions: list[ir.Expr], defines: Mapping[str, ir.Define]) -> bool:
    """Is every missing fact a need whenever the node is open, whatever the case? So when the
    node has one condition, built only of parts that are unknown as soon as a part of them is
    (comparisons, arithmetic, `not`...: no `and`, `or`, `is known`): a missing fact then leaves
    every part above it unknown. The code writer needs no `relevant` call for such a node."""
    if len(conditions) != 1:
        return False
    seen: set[str] = set()
    stack = [conditions[0]]
    while stack:
        e = stack.pop()
        if not isinstance(e, _STRICT):
            return False
        if isinstance(e, ir.DefineRef):
            if e.id not in seen:
                seen.add(e.id)
                stack.append(defines[e.id].expr)
            continue
        stack.extend(ir.children(e))
    return True


def missing_facts_decide(condition: ir.Expr, defines: Mapping[str, ir.Define]) -> bool:
    """When `condition` is unknown, is each fact it reads that is missing one of its needs? So
    when it is built of such parts (see `every_missing_fact_decides`) joined by `and` alone, or
    by `or` alone (through definitions, and `not`, which turns one into the other): unknown,
    none of its parts is false (true), so the answer to any fact missing could still decide it.
    `x is known` may be one of the parts of an `and` (`x is not known` of an `or`): the join
    left open, it holds (does not), so x is there.
    The code writer then tests the facts themselves, with no `relevant` call."""
    return _joined(condition, defines, None)


def _joined(e: ir.Expr, defines: Mapping[str, ir.Define], joint: type | None) -> bool:
    """`joint`: the kind of join met above (`ir.And` or `ir.Or`), None before any."""
    match e:
        case ir.DefineRef(id=name):
            return _joined(defines[name].expr, defines, joint)
        case ir.Not(operand=op):
            return _joined(op, defines, None if joint is None else ir.Or if joint is ir.And else ir.And)
        case ir.And(operands=ops) | ir.Or(operands=ops):
            if joint is not None and type(e) is not joint:
                return False
            return all(_joined(op, defines, type(e)) for op in ops)
        case ir.IsKnown(operand=op, negated=negated):
            # never unknown: in an `and` left open it holds, in an `or` it does not; it reads no
            # missing fact when that means its operand is there (`x is known` in an `and`)
            there = joint is (ir.Or if negated else ir.And)
            return there and every_missing_fact_decides([op], defines)
    return every_missing_fact_decides([e], defines)


def open_key(pathway: str | None, node: str) -> str:
    """How the walk names an open node in what it records (`(name, *values of the facts it reads)`):
    `pathway/node`, a safety rule by its id alone. A string, not a tuple of them: a key made of it
    and of plain values holds nothing the garbage collector must follow, so the collector drops it
    from what it scans, and the caches kept by such keys are not scanned over and over."""
    return node if pathway is None else f"{pathway}/{node}"


class Relevance:
    """For an open node, as the walk records it (`(open_key, *values of the facts it reads)`,
    see codegen/walk.py), the missing facts whose answers could still decide it, in the order
    the node reads them. A decision waits on its first branch whose condition is unknown (those
    before it are false, and stay false whatever the missing facts are); a rule, on its guard;
    a safety rule, on its condition. Of that condition, the facts `Explainer.open_facts` names:
    down from it through every part whose value is unknown, to the facts the case lacks.
    Asked by the walk for each node left open, and for each answer of a need that leaves its
    node open (evaluate.py: the facts that could then decide it).

    Kept per key, up to a bound that grows with the knowledge base (`kept_bound`): the cases
    of a cohort repeat. And to spare the work of each key not seen before: nodes that read the
    same facts in the same conditions (NCCN's, ESMO's and JSCCR's liver resectability, one
    definition) share one answer per values read; and the walk down a condition stops at a
    part whose every missing fact decides it whenever it is unknown (`missing_facts_decide`,
    worked out once per part, when first met), taking those facts without valuing each of
    its parts."""

    def __init__(self, checked: Checked, explainer: Explainer):
        self.explain = explainer
        self.defines = checked.defines
        self.nodes: dict[str, tuple[list[ir.Expr], tuple[str, ...]]] = {}
        for p in checked.pathways:
            for n in p.nodes:
                self.nodes[open_key(p.id, n.id)] = (conditions_of(n), reads_of(n, self.defines))
        for s in checked.safeties:
            self.nodes[open_key(None, s.id)] = ([s.condition], facts_read(s.condition, self.defines))
        # per node, the first node of those with the same conditions (equal: spans aside) and reads
        first: dict[tuple[tuple[ir.Expr, ...], tuple[str, ...]], str] = {}
        self._same = {name: first.setdefault((tuple(conditions), reads), name)
                      for name, (conditions, reads) in self.nodes.items()}
        # per part of a condition met (by id: the knowledge base keeps it, so the id is not
        # reused), the facts it reads if each missing one decides it whenever it is unknown, else None
        self._parts: dict[int, frozenset[str] | None] = {}
        # kept from a key's first sight, unlike the evaluation's other caches (memo.py): an entry is
        # a plain tuple of names, which the garbage collector stops scanning, and `decide` asks
        # for it on every case that leaves a node open (kept from the second sight, `decide`
        # on distinct cases cost a sixth more: the second working-out, and the note of the first)
        self._kept: dict[Any, tuple[str, ...]] = {}
        self._bound = kept_bound(len(self.nodes))

    def __call__(self, key: tuple[Any, ...]) -> tuple[str, ...]:
        try:
            found = self._kept.get(key)
        except TypeError:  # a value that cannot be hashed: worked out, not kept
            return self._work(key)
        if found is None:
            same = self._same[key[0]]
            if same != key[0]:  # worked out (and kept) as the first node like it
                found = self((same, *key[1:]))
            else:
                found = self._work(key)
            if len(self._kept) >= self._bound:
                self._kept.clear()
            self._kept[key] = found
        return found

    def _work(self, key: tuple[Any, ...]) -> tuple[str, ...]:
        conditions, reads = self.nodes[key[0]]
        return self.of(conditions, reads, dict(zip(reads, key[1:], strict=True)))

    def of(self, conditions: list[ir.Expr], reads: tuple[str, ...], case: Mapping[str, Any]) -> tuple[str, ...]:
        """The facts among `reads` that could still decide the first open one of `conditions`
        (conditions of this knowledge base: their parts are known by id)."""
        for condition in conditions:
            v = self.explain.value(condition, case)
            if v is False:
                continue
            if v is not None:
                return ()
            found: set[str] = set()
            self._open(condition, case, found, True)
            return tuple([f for f in reads if f in found])
        return ()

    def _open(self, e: ir.Expr, case: Mapping[str, Any], found: set[str], unknown: bool = False) -> None:
        """Add to `found` the missing facts that could decide `e` (`Explainer.open_facts`);
        `unknown`: `e` is known to be unknown for the case."""
        key = id(e)
        try:
            facts = self._parts[key]
        except KeyError:
            decides = missing_facts_decide(e, self.defines)
            facts = self._parts[key] = frozenset(facts_read(e, self.defines)) if decides else None
        if not unknown and self.explain.value(e, case) is not None:
            return
        if facts is not None:  # unknown, and each missing fact it reads decides it
            found.update([f for f in facts if case.get(f) is None])
            return
        match e:
            case ir.DefineRef(id=name):
                self._open(self.defines[name].expr, case, found, True)
            case ir.FactRef(id=name):
                found.add(name)
            case _:
                for child in ir.children(e):
                    self._open(child, case, found)
