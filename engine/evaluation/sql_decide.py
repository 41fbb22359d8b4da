"""Lowering to SQL, second half: pathways, plans, safety rules and the row's columns.

Takes the `_Lowering` of engine/evaluation/sql.py (expressions and definitions already
named) and adds, as named columns, what the evaluator's walk does for each row: whether
each node is reached, which branch a decision takes, whether it is undecided, whether a
rule fires, whether a planned step's actual date falls outside its window. Returns the
output columns: `error` (the schema's checks of each value, as engine/inputs/case.py
words them), and the lists in the evaluator's order. Every flag is two-valued (IS TRUE,
IS FALSE, IS NULL): unknown is decided once, where a condition is read.
"""

from __future__ import annotations

from sqlglot import exp

from ..lang import ir
from ..lang.values import Duration, format_number
from .sql import (_Dur, _not, _Lowering, _all, _any, _col, _is_false, _is_null, _is_true, _n, _s, shift)
from ..lang.reads import reads_of
from ..lang.shape import shape


def _name(*parts: str) -> str:
    return "__".join(parts)


def decide_columns(low: _Lowering, lowered) -> list[tuple[str, exp.Expression]]:
    checked = low.checked
    error = low.add("v_error", _row_error(low))
    recs: list[tuple[str, str, exp.Expression]] = []      # (id, source, fires)
    warns: list[tuple[str, exp.Expression]] = []
    pairs: list[tuple[str, exp.Expression]] = []          # (fact, undecided node), in the walk's order
    for pathway in checked.pathways:
        _pathway(low, lowered, pathway, recs, warns, pairs)
    for safety in checked.safeties:
        fires = lowered("safety rule", safety.id, safety.span,
                        lambda s=safety: _is_true(low.value(s.condition)))
        warns.append((safety.id, low.add(_name("s", safety.id), fires)))
    ok = _is_null(error)

    def listed(items: list[tuple[str, exp.Expression]]) -> exp.Expression:
        return exp.Case().when(ok, _list(items))

    out = [("row", _col("row")), ("error", error),
           ("recommendations", listed([(rid, fires) for rid, _, fires in recs]))]
    for source in checked.sources:
        out.append((source, listed([(rid, fires) for rid, s, fires in recs if s == source])))
    out.append(("warnings", listed(warns)))
    out.append(("needs", listed(_needs(low, pairs))))
    return out


def _list(items: list[tuple[str, exp.Expression]]) -> exp.Expression:
    """The ids whose flag holds, in order: a list of CASEs, NULLs filtered out."""
    array = exp.Array(expressions=[exp.Case().when(flag, _s(value)) for value, flag in items])
    x = exp.to_identifier("x")
    kept = exp.ArrayFilter(this=array, expression=exp.Lambda(
        this=_not(exp.Is(this=exp.column("x"), expression=exp.Null())), expressions=[x]))
    return exp.Cast(this=kept, to=exp.DataType.build("ARRAY<VARCHAR>"))


def _needs(low: _Lowering, pairs: list[tuple[str, exp.Expression]]) -> list[tuple[str, exp.Expression]]:
    """Each fact once, where it is first needed in the walk (as the evaluator's dict of needs)."""
    items = []
    earlier: dict[str, list[exp.Expression]] = {}
    for fact, undecided in pairs:
        before = earlier.setdefault(fact, [])
        value = low.fact(fact)
        unknown = _is_null(value.days if isinstance(value, _Dur) else value)
        first = exp.and_(unknown, undecided, *[_not(e) for e in before])
        items.append((fact, first))
        before.append(undecided)
    return items


def _open(low: _Lowering, e: ir.Expr, fact: str) -> exp.Expression | None:
    """Could `fact` still decide `e` (needs.py's `Relevance`)? `e` is NULL, and so is every part
    on the way down to the fact: a part with a value cannot change. None: `e` does not read it."""
    match e:
        case ir.FactRef(id=name):
            if name != fact:
                return None
            value = low.fact(name)
            return _is_null(value.days if isinstance(value, _Dur) else value)
        case ir.DefineRef(id=name):
            inner = _open(low, low.checked.defines[name].expr, fact)
            if inner is None:
                return None
        case _:
            parts = [x for x in (_open(low, child, fact) for child in ir.children(e)) if x is not None]
            if not parts:
                return None
            inner = _any(parts)
    value = low.expr(e)
    null = _is_null(value.days if isinstance(value, _Dur) else value)
    return _all([null, exp.Paren(this=inner)])


def _pathway(low: _Lowering, lowered, pathway: ir.Pathway, recs, warns, pairs) -> None:
    nodes = {n.id: n for n in pathway.nodes}
    ways_in: dict[str, list[exp.Expression]] = {n.id: [] for n in pathway.nodes}
    entry = pathway.nodes[0].id
    defines = low.checked.defines
    for node_id in shape(pathway).order:  # the order evaluation visits them
        node = nodes[node_id]
        tag = _name(pathway.id, node_id)
        reached = exp.Boolean(this=True) if node_id == entry else \
            low.add(_name("r", tag), _any(ways_in[node_id]))

        def lead(target, flag) -> None:
            if target is not None:
                ways_in[target].append(flag)

        match node:
            case ir.Decide(branches=branches):
                previous_false: list[exp.Expression] = []
                undecided = []  # (the case stops at this branch undecided, its condition)
                for i, branch in enumerate(branches):
                    if branch.condition is None:
                        lead(branch.target, low.add(_name("b", tag, str(i)), _all([reached, *previous_false])))
                        break
                    value = lowered("decision", node_id, node.span,
                                    lambda c=branch.condition: low.value(c))
                    cond = low.add(_name("c", tag, str(i)), value)
                    lead(branch.target, low.add(_name("b", tag, str(i)),
                                                _all([reached, *previous_false, _is_true(cond)])))
                    undecided.append((_all([*previous_false, _is_null(cond)]), branch.condition))
                    previous_false.append(_is_false(cond))
                for fact in reads_of(node, defines):  # needed where it could still decide the open branch
                    could = [_all([stops, opened]) for stops, condition in undecided
                             if (opened := _open(low, condition, fact)) is not None]
                    pairs.append((fact, low.add(_name("n", tag, fact), _all([reached, _any(could)]))))
            case ir.Recommend() | ir.Warn():
                fires = reached
                if node.guard is not None:
                    guard = low.add(_name("g", tag), lowered("rule", node_id, node.span,
                                                             lambda n=node: low.value(n.guard)))
                    for fact in reads_of(node, defines):  # needed where it could still decide the guard
                        opened = _open(low, node.guard, fact)
                        pairs.append((fact, low.add(_name("n", tag, fact),
                                                    _all([reached, opened if opened is not None else
                                                          exp.Boolean(this=False)]))))
                    fires = _all([reached, _is_true(guard)])
                fires = low.add(_name("f", tag), fires)
                if isinstance(node, ir.Recommend):
                    recs.append((node.id, node.provenance.source, fires))
                else:
                    warns.append((node.id, fires))
                for target in node.then:
                    lead(target, fires)
            case ir.Step(then=then):
                for target in then:
                    lead(target, reached)
            case ir.Schedule(id=plan_id):
                plan = low.checked.plans[plan_id]
                for step_id, late in _plan(low, plan, tag):
                    warns.append((f"{plan.id}.{step_id}", low.add(_name("w", tag, step_id),
                                                                  _all([reached, late]))))


def _plan(low: _Lowering, plan: ir.Plan, tag: str) -> list[tuple[str, exp.Expression]]:
    """For each step of a plan, whether its actual date falls outside its firm window (as plans.py)."""
    anchor = low.fact(plan.anchor)
    dated: dict[str, tuple] = {}
    actual_of: dict[str, exp.Expression] = {}
    found = []
    for step in plan.steps:
        t = step.timing
        actual = low.fact(step.actual) if step.actual else exp.Cast(this=exp.Null(), to=exp.DataType.build("DATE"))
        actual_of[step.id] = actual
        if t.relative is None:
            base, base_firm = anchor, exp.Boolean(this=True)
        else:
            earliest, _, firm = dated[t.relative.step]
            own = actual_of[t.relative.step]
            base = exp.Coalesce(this=own, expressions=[earliest])
            base_firm = exp.or_(_not(_is_null(own)), firm)
        sign = -1 if t.relative is not None and t.relative.before else 1
        prefix = _name("p", tag, step.id)
        match t:
            case ir.At(offset=offset, about=about):
                when = low.add(prefix + "__at", shift(base, offset, sign))
                this = (when, when, exp.and_(base_firm, exp.Boolean(this=not about)))
            case ir.Window(start=start, end=end):
                a = low.add(prefix + "__a", shift(base, start, sign))
                b = low.add(prefix + "__b", shift(base, end, sign))
                first = exp.Case().when(exp.LTE(this=a, expression=b), a).else_(b)
                last = exp.Case().when(exp.GTE(this=a, expression=b), a).else_(b)
                this = (first, last, base_firm)
            case ir.Latest(offset=offset):
                this = (exp.Cast(this=exp.Null(), to=exp.DataType.build("DATE")),
                        low.add(prefix + "__by", shift(base, offset, sign)), base_firm)
        earliest, latest, firm = this
        firm = low.add(prefix + "__firm", exp.Paren(this=firm))
        dated[step.id] = (earliest, latest, firm)
        on_time = exp.and_(exp.or_(_is_null(earliest), exp.LTE(this=earliest, expression=actual)),
                           exp.LTE(this=actual, expression=latest))
        found.append((step.id, exp.and_(_not(_is_null(actual)), _not(_is_null(latest)),
                                        _is_true(firm), _not(exp.Paren(this=on_time)))))
    return found


# ---- the schema's checks of a typed value ------------------------------------------------------

def _row_error(low: _Lowering) -> exp.Expression:
    """The row's error: its own (unreadable), or every fact's problem in declaration order."""
    messages = []
    for name, fact in low.checked.facts.items():
        parse_error = _col(name + "__error") if name + "__error" in low.present else None
        check = _check(name, fact.type, low.fact(name)) if name in low.present else None
        if parse_error is not None and check is not None:
            messages.append(exp.Coalesce(this=parse_error, expressions=[check]))
        elif parse_error is not None or check is not None:
            messages.append(parse_error if parse_error is not None else check)
    kept = exp.ArrayFilter(this=exp.Array(expressions=messages), expression=exp.Lambda(
        this=_not(exp.Is(this=exp.column("x"), expression=exp.Null())), expressions=[exp.to_identifier("x")]))
    joined = exp.Nullif(this=exp.ArrayToString(this=kept, expression=_s("; ")), expression=_s("")) \
        if messages else exp.Cast(this=exp.Null(), to=exp.DataType.build("VARCHAR"))
    return exp.Coalesce(this=_col("error"), expressions=[joined])


def _text(e: exp.Expression) -> exp.Expression:
    return exp.Cast(this=e, to=exp.DataType.build("VARCHAR"))


def _concat(*parts: exp.Expression | str) -> exp.Expression:
    return exp.Concat(expressions=[_s(p) if isinstance(p, str) else p for p in parts], safe=True)


def _choices(values) -> str:
    return "{" + ", ".join(values) + "}"


def number_text(v: exp.Expression) -> exp.Expression:
    """A number as format_number writes it: whole numbers without a decimal point."""
    whole = exp.EQ(this=v, expression=exp.Floor(this=v))
    return exp.Case().when(whole, _text(exp.Cast(this=v, to=exp.DataType.build("BIGINT")))).else_(_text(v))


def _interval_text(interval: ir.Interval) -> str:
    show = lambda v: str(v) if isinstance(v, Duration) else format_number(v)  # noqa: E731
    unit = f" {interval.unit}" if interval.unit else ""
    return (f"{'[' if interval.low.closed else '('}{show(interval.low.value)} .. "
            f"{show(interval.high.value)}{']' if interval.high.closed else ')'}{unit}")


def _inside(value, interval: ir.Interval) -> exp.Expression:
    lo, hi = interval.low, interval.high
    low_ok = (exp.GTE if lo.closed else exp.GT)(this=value, expression=_n(lo.value))
    high_ok = (exp.LTE if hi.closed else exp.LT)(this=value, expression=_n(hi.value))
    return exp.and_(low_ok, high_ok)


def _check(name: str, t: ir.FactType, value) -> exp.Expression | None:
    who = f"'{name}'"
    match t:
        case ir.EnumType(values=values):
            bad = _not(exp.In(this=value, expressions=[_s(v) for v in values]))
            return exp.Case().when(bad, _concat("'", value, f"' is not a value of {who}; expected one of "
                                                f"{_choices(values)}"))
        case ir.SetType(values=values):
            x = exp.to_identifier("x")
            outside = exp.ArrayFilter(this=value, expression=exp.Lambda(
                this=_not(exp.In(this=exp.column("x"), expressions=[_s(v) for v in values])),
                expressions=[x]))
            first_bad = exp.Bracket(this=outside, expressions=[_n(1)], offset=1, safe=True)
            twice = exp.ArrayFilter(this=value, expression=exp.Lambda(
                this=exp.GT(this=exp.ArraySize(this=exp.ArrayFilter(this=value, expression=exp.Lambda(
                    this=exp.EQ(this=exp.column("y"), expression=exp.column("x")),
                    expressions=[exp.to_identifier("y")]))), expression=_n(1)),
                expressions=[x]))
            repeated = exp.Bracket(this=twice, expressions=[_n(1)], offset=1, safe=True)
            return (exp.Case()
                    .when(exp.GT(this=exp.ArraySize(this=outside), expression=_n(0)),
                          _concat("'", first_bad, f"' is not a value of {who}; expected values from "
                                  f"{_choices(values)}"))
                    .when(exp.GT(this=exp.ArraySize(this=twice), expression=_n(0)),
                          _concat("'", repeated, f"' is listed twice in {who}")))
        case ir.NumberType(range=interval, unit=unit) if interval is not None:
            shown = _concat(number_text(value), f" {unit}" if unit else "")
            return exp.Case().when(_not(exp.Paren(this=_inside(value, interval))),
                                   _concat(f"{who} is ", shown, f", outside its range {_interval_text(interval)}"))
        case ir.DurationType(range=interval) if interval is not None:
            inside = exp.and_(
                (exp.GTE if interval.low.closed else exp.GT)(
                    this=value.sixteenths(), expression=_Dur(_n(interval.low.value.months),
                                                             _n(interval.low.value.days)).sixteenths()),
                (exp.LTE if interval.high.closed else exp.LT)(
                    this=value.sixteenths(), expression=_Dur(_n(interval.high.value.months),
                                                             _n(interval.high.value.days)).sixteenths()))
            return exp.Case().when(_not(exp.Paren(this=inside)),
                                   _concat(f"{who} is outside its range {_interval_text(interval)}"))
    return None


__all__ = ["decide_columns", "number_text"]
