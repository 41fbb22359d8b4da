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

from itertools import pairwise

from sqlglot import exp

from ..lang import ir
from ..lang.values import Duration, format_number
from .sql_months import compare as compare_durations
from .sql import (_Dur, _not, _Lowering, _all, _and, _any, _literal_is, _or, _col, _is_false, _is_null, _is_true,
                  NUMBER, _n, _s, shift)
from ..lang.reads import facts_read, reads_of
from ..lang.shape import shape


def _name(*parts: str) -> str:
    return "__".join(parts)


def decide_columns(low: _Lowering, lowering) -> list[tuple[str, exp.Expr]]:
    checked = low.checked

    def lowered(rule_kind: str, rule_id: str, span, work):  # naming the rule an overflow is in
        low.where = f"the {rule_kind} '{rule_id}'"
        return lowering(rule_kind, rule_id, span, work)

    error = low.add("v_error", _row_error(low))
    recs: list[tuple[str, str, exp.Expr]] = []      # (id, source, fires)
    warns: list[tuple[str, exp.Expr]] = []
    pairs: list[tuple[str, exp.Expr]] = []          # (fact, undecided node), in the walk's order
    options: dict[str, list[exp.Expr]] = {}         # recommendation -> the ways it is an option
    for pathway in checked.pathways:
        _pathway(low, lowered, pathway, recs, warns, pairs, options)
    for safety in checked.safeties:
        fires = lowered("safety rule", safety.id, safety.span,
                        lambda s=safety: _is_true(low.value(s.condition)))
        warns.append((safety.id, low.add(_name("s", safety.id), fires)))
    found = [(f.id, low.add(_name("fd", f.id), _finding(low, lowered, f))) for f in checked.findings]
    needs = _needs(low, pairs)
    if low.overflows:  # a sum or product the engine could not hold: the row's error, after the cells'
        error = low.add("v_error_arith", exp.Coalesce(this=error, expressions=[
            flag for _, flag in low.overflows.values()]))
    ok = _is_null(error)

    def listed(items: list[tuple[str, exp.Expr]]) -> exp.Expr:
        return exp.Case().when(ok, _list(items, low))

    # each source's list is the recommendations' list filtered by its ids: one list built a row
    # (in DuckDB, whose LIST_WHERE keeps the ids of a list of flags, each from its own flags)
    everyone = low.add("l_recommendations", _list([(rid, fires) for rid, _, fires in recs], low))
    out = [("row", _col("row")), ("error", error), ("recommendations", exp.Case().when(ok, everyone, copy=False))]
    source_of: dict[str, set[str]] = {}
    for rid, source, _ in recs:
        source_of.setdefault(rid, set()).add(source)
    for source in checked.sources:
        ids = [rid for rid, s, _ in recs if s == source]
        shared = any(len(source_of[rid]) > 1 for rid in ids)  # an id under two sources
        if len(ids) == len(recs) and not shared:  # the source of every recommendation: the same list
            out.append((source, exp.Case().when(ok, everyone, copy=False)))
        elif low.dialect == "duckdb" or shared:
            out.append((source, listed([(rid, fires) for rid, s, fires in recs if s == source])))
        else:
            out.append((source, exp.Case().when(ok, _only(everyone, ids), copy=False)))
    out.append(("warnings", listed(warns)))
    out.append(("needs", exp.Case().when(ok, needs, copy=False)))
    if checked.findings:
        out.append(("findings", listed(found)))
    if _judgements(low):
        ranked = [n.id for p in checked.pathways for n in p.nodes if isinstance(n, ir.Recommend)]
        out.append(("options", listed([(rid, low.add(_name("o", rid), _any(options[rid])))
                                       for rid in ranked if rid in options])))
    return out


def _finding(low: _Lowering, lowered, finding: ir.Finding) -> exp.Expr:
    """Whether a finding holds: its condition true, within the patients its `for` admits."""
    def holds() -> exp.Expr:
        scope = [_is_true(low.value(finding.scope))] if finding.scope is not None else []
        return _all([*scope, _is_true(low.value(finding.condition))])
    return lowered("finding", finding.id, finding.span, holds)


def _judgements(low: _Lowering) -> frozenset[str]:
    return frozenset(name for name, fact in low.checked.facts.items() if fact.judgement)


def _only_judgements(low: _Lowering, e: ir.Expr) -> exp.Expr:
    """Are the facts still open in `e` (unknown, and able to decide it) all judgements, and
    some? As engine/evaluation/explain.py's `open_facts`: an unknown expression's open facts
    are those of its unknown parts, through definitions."""
    judged = _judgements(low)
    return _and(_open(low, e, judged, True), _not(_open(low, e, judged, False)))


def _open(low: _Lowering, e: ir.Expr, judged: frozenset[str], judgement: bool) -> exp.Expr:
    """Is some fact of the kind (a judgement or not) open in `e`?"""
    if not any((f in judged) == judgement for f in facts_read(e, low.checked.defines)):
        return exp.Boolean(this=False)  # no such fact below: nothing to lower
    value = low.expr(e)
    unknown = _is_null(value.days if isinstance(value, _Dur) else value)
    match e:
        case ir.FactRef():
            return unknown
        case ir.DefineRef(id=name):
            inner = _open(low, low.checked.defines[name].expr, judged, judgement)
        case _:
            inner = _any([_open(low, child, judged, judgement) for child in ir.children(e)])
    return exp.Paren(this=_and(unknown, inner))


def _two_valued(low: _Lowering, e: exp.Expr) -> bool:
    """Is `e` never NULL: TRUE, FALSE, a test IS TRUE, IS FALSE or IS NULL, NOT, AND or OR of such,
    or a column the lowering named for one?"""
    if isinstance(e, (exp.Paren, exp.Not)):
        return _two_valued(low, e.this)
    if isinstance(e, (exp.Is, exp.Boolean)):
        return True
    if isinstance(e, (exp.And, exp.Or)):
        return _two_valued(low, e.left) and _two_valued(low, e.right)
    if isinstance(e, exp.Column) and e.name in low.columns:
        if e.name not in low.two_valued:  # (once a column: a column is read by many)
            low.two_valued[e.name] = _two_valued(low, low.columns[e.name])
        return low.two_valued[e.name]
    return False


def _list(items: list[tuple[str, exp.Expr]], low: _Lowering) -> exp.Expr:
    """The ids whose flag holds, in order: a list of CASEs, NULLs filtered out; in DuckDB, its
    LIST_WHERE of the ids and the flags (no lambda: a tenth of the query's time less)."""
    if low.dialect == "duckdb" and items:  # LIST_WHERE refuses a NULL flag: IS TRUE makes each two-valued
        return exp.Anonymous(this="LIST_WHERE", expressions=[
            exp.Array(expressions=[_s(value) for value, _ in items]),
            exp.Array(expressions=[flag if _two_valued(low, flag) else _is_true(flag) for _, flag in items])])
    array = exp.Array(expressions=[exp.Case().when(flag, _s(value)) for value, flag in items])
    x = exp.to_identifier("x")
    kept = exp.ArrayFilter(this=array, expression=exp.Lambda(
        this=_not(exp.Is(this=exp.column("x"), expression=exp.Null())), expressions=[x]))
    return exp.Cast(this=kept, to=exp.DataType.build("ARRAY<VARCHAR>"))


def _only(items: exp.Expr, ids: list[str]) -> exp.Expr:
    """The elements of a list of ids that are among `ids`, in the list's order."""
    x = exp.to_identifier("x")
    kept = exp.ArrayFilter(this=items, expression=exp.Lambda(
        this=exp.In(this=exp.column("x"), expressions=[_s(v) for v in ids]), expressions=[x]))
    return exp.Cast(this=kept, to=exp.DataType.build("ARRAY<VARCHAR>"))


def _needs(low: _Lowering, pairs: list[tuple[str, exp.Expr]]) -> exp.Expr:
    """Each fact once, where it is first needed in the walk (as the evaluator's dict of needs).

    A (fact, node) pair's place in the walk, times the number of facts, plus the fact's own
    number, is a key that sorts in the walk's order and names its fact: per fact, the first
    pair that leaves it needed gives its key (a CASE: its first true branch), and the list is
    the keys sorted, read back as names. One short list a row, where a list of every pair
    (a hundred in the bundled knowledge base), nearly all NULL, cost most of the query.
    A pair's flag is written inside its fact's CASE, not as a column of its own: it is
    worked out only where the fact is unknown and no earlier pair of the fact holds (a
    hundred columns of flags, each tested on every row, cost an eighth of the query)."""
    facts = list(dict.fromkeys(fact for fact, undecided in pairs if not _literal_is(undecided, False)))
    if not facts:
        return _list([], low)
    number = {fact: i for i, fact in enumerate(facts)}
    width = len(facts)
    keys: dict[str, exp.Case] = {}
    flags: dict[str, list[exp.Expr]] = {}  # the pairs of the fact that its CASE tests, in order
    places: dict[str, list[int]] = {fact: [] for fact in facts}
    before: dict[str, list[frozenset[exp.Expr]]] = {fact: [] for fact in facts}
    for place, (fact, undecided) in enumerate(pairs):
        if _literal_is(undecided, False):
            continue
        terms = _conjuncts(undecided)
        if any(earlier <= terms for earlier in before[fact]):
            continue  # holds only where an earlier pair of the fact already does: never its CASE's first
        before[fact].append(terms)
        places[fact].append(place)
        keys.setdefault(fact, exp.Case()).when(undecided, _n(place * width + number[fact]), copy=False)
        flags.setdefault(fact, []).append(undecided)
    if all(max(places[a]) < min(places[b]) for a, b in pairwise(facts)):
        # every fact's places come before the next fact's: the facts' order is the walk's, and
        # the list is the facts whose flag holds, in order (LIST_WHERE in DuckDB), with no sort.
        # A flag is the fact unknown AND one of its pairs true, two-valued: 0.045 s less a
        # million rows than a CASE of its pairs inside a CASE of the unknown (the bench decision)
        return _list([(fact, exp.Paren(this=_and(_unknown(low, fact), _or(*[_is_true(u) for u in flags[fact]]))))
                      for fact in facts], low)
    firsts = exp.Array(expressions=[exp.Case().when(_unknown(low, fact), keys[fact], copy=False) for fact in facts])
    x = exp.to_identifier("x")
    known = exp.ArrayFilter(this=firsts, expression=exp.Lambda(
        this=_not(exp.Is(this=exp.column("x"), expression=exp.Null())), expressions=[x]))
    names = exp.Array(expressions=[_s(fact) for fact in facts])
    named = exp.Transform(this=exp.ArraySort(this=known), expression=exp.Lambda(
        this=exp.Bracket(this=names, expressions=[exp.Add(this=exp.Mod(this=exp.column("x"), expression=_n(width)),
                                                          expression=_n(1))], offset=1, safe=True),
        expressions=[x]))
    return exp.Cast(this=named, to=exp.DataType.build("ARRAY<VARCHAR>"))


def _conjuncts(e: exp.Expr) -> frozenset[exp.Expr]:
    """The terms of an AND, brackets taken off: a pair whose terms include all of an earlier
    pair's can hold only where that one already does."""
    while isinstance(e, exp.Paren):
        e = e.this
    if isinstance(e, exp.And):
        return _conjuncts(e.this) | _conjuncts(e.expression)
    return frozenset([e])


def _unknown(low: _Lowering, fact: str) -> exp.Expr:
    value = low.fact(fact)
    return _is_null(value.days if isinstance(value, _Dur) else value)


_LITERALS = (ir.BoolLit, ir.NumberLit, ir.DurationLit, ir.DateLit, ir.EnumLit, ir.SetLit)


def _null_with(e: ir.Expr, child: ir.Expr) -> bool:
    """Is `child` NULL whenever `e` is? So where `e` compares or negates it against constants
    (a comparison of two values, NOT of a value, is never NULL): its own test would repeat `e`'s."""
    match e:
        case ir.Not() | ir.InRange():
            return True
        case ir.Compare() | ir.Member():
            return all(isinstance(other, _LITERALS) for other in ir.children(e) if other is not child)
    return False


def _could_decide(low: _Lowering, e: ir.Expr, fact: str) -> exp.Expr | None:
    """Could `fact` still decide `e` (needs.py's `Relevance`), given that `e` is NULL and the
    fact unknown (the caller tests both)? Every part on the way down to the fact is NULL too:
    a part with a value cannot change. None: `e` does not read the fact.

    Each part's test reads its own value (a definition's column, not its expression again),
    and is left out where the part above being NULL already implies it."""
    match e:
        case ir.FactRef(id=name):
            return exp.Boolean(this=True) if name == fact else None
        case ir.DefineRef(id=name):  # the definition's expression is its column: NULL as well
            return _could_decide(low, low.checked.defines[name].expr, fact)
    parts = []
    for child in ir.children(e):
        inner = _could_decide(low, child, fact)
        if inner is None:
            continue
        if not _null_with(e, child):
            inner = _all([_null_of(low, child, fact), _grouped(inner)])
        parts.append(inner)
    return _any(parts) if parts else None


def _grouped(e: exp.Expr) -> exp.Expr:
    return e if isinstance(e, exp.Boolean) else exp.Paren(this=e)


def _null_of(low: _Lowering, e: ir.Expr, fact: str) -> exp.Expr:
    """`e` IS NULL, tested on the operand that decides it: NOT x, x > 30 and x in {a, b} are NULL
    exactly when x is, a column is cheaper to test than an expression, and the fact's own
    test is TRUE here (the caller's)."""
    while not isinstance(e, (ir.FactRef, ir.DefineRef)):
        operands = [c for c in ir.children(e) if not isinstance(c, _LITERALS)]
        if len(operands) != 1 or not _null_with(e, operands[0]):
            break
        e = operands[0]
    if isinstance(e, ir.FactRef) and e.id == fact:
        return exp.Boolean(this=True)
    value = low.expr(e)
    return _is_null(value.days if isinstance(value, _Dur) else value)


def _pathway(low: _Lowering, lowered, pathway: ir.Pathway, recs, warns, pairs, options) -> None:
    nodes = {n.id: n for n in pathway.nodes}
    ways_in: dict[str, list[exp.Expr]] = {n.id: [] for n in pathway.nodes}
    entry = pathway.nodes[0].id
    defines = low.checked.defines
    judged = _judgements(low)
    for node_id in shape(pathway).order:  # the order evaluation visits them
        node = nodes[node_id]
        tag = _name(pathway.id, node_id)
        reached: exp.Expr = exp.Boolean(this=True) if node_id == entry else \
            low.add(_name("r", tag), _any(ways_in[node_id]))

        def lead(target, flag) -> None:
            if target is not None:
                ways_in[target].append(flag)

        match node:
            case ir.Decide(branches=branches):
                previous_false: list[exp.Expr] = []
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
                    if judged and any(f in judged for f in facts_read(branch.condition, defines)):
                        # open only for the team's judgements: what the branch leads to is an option
                        ahead = [reached, *previous_false, _is_null(cond)]
                        open_here = lowered("decision", node_id, node.span, lambda c=branch.condition, a=ahead: _all(
                            [*a, _only_judgements(low, c)]))
                        for rec in _recommendations_at(nodes, branch.target):
                            sure = [] if rec.guard is None else [_is_true(low.value(rec.guard))]
                            options.setdefault(rec.id, []).append(_all([open_here, *sure]))
                    previous_false.append(_is_false(cond))
                for fact in reads_of(node, defines):  # needed where it could still decide the open branch
                    could = [_all([stops, opened]) for stops, condition in undecided
                             if (opened := _could_decide(low, condition, fact)) is not None]
                    pairs.append((fact, _all([reached, _any(could)])))
            case ir.Recommend() | ir.Warn():
                fires: exp.Expr = reached
                if node.guard is not None:
                    guard = low.add(_name("g", tag), lowered("rule", node_id, node.span,
                                                             lambda n=node: low.value(n.guard)))
                    for fact in reads_of(node, defines):  # needed where it could still decide the guard
                        opened = _could_decide(low, node.guard, fact)
                        pairs.append((fact, exp.Boolean(this=False) if opened is None else _all(
                            [reached, _is_null(guard), _grouped(opened)])))
                    flag = low.add(_name("u", tag), _all([reached, _is_null(guard)]))
                    if isinstance(node, ir.Recommend) and judged and any(
                            f in judged for f in facts_read(node.guard, defines)):
                        options.setdefault(node.id, []).append(lowered(
                            "rule", node_id, node.span,
                            lambda n=node, u=flag: _all([u, _only_judgements(low, n.guard)])))
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


def _recommendations_at(nodes: dict[str, ir.Node], target: str | None) -> list[ir.Recommend]:
    """The recommendations a branch leads to directly, through steps (as advice.py's)."""
    if target is None:
        return []
    match nodes[target]:
        case ir.Recommend() as rec:
            return [rec]
        case ir.Step(then=then):
            return [r for t in then for r in _recommendations_at(nodes, t)]
    return []


def _plan(low: _Lowering, plan: ir.Plan, tag: str) -> list[tuple[str, exp.Expr]]:
    """For each step of a plan, whether its actual date falls outside its firm window (as plans.py)."""
    anchor = low.date(plan.anchor)
    dated: dict[str, tuple[exp.Expr, exp.Expr, exp.Expr]] = {}
    actual_of: dict[str, exp.Expr] = {}
    found: list[tuple[str, exp.Expr]] = []
    for step in plan.steps:
        t = step.timing
        actual = low.date(step.actual) if step.actual else exp.Cast(this=exp.Null(), to=exp.DataType.build("DATE"))
        actual_of[step.id] = actual
        base: exp.Expr
        base_firm: exp.Expr
        this: tuple[exp.Expr, exp.Expr, exp.Expr]
        if t.relative is None:
            base, base_firm = anchor, exp.Boolean(this=True)
        else:
            earliest, _, firm = dated[t.relative.step]
            own = actual_of[t.relative.step]
            base = exp.Coalesce(this=own, expressions=[earliest])
            base_firm = _or(_not(_is_null(own)), firm)
        sign = -1 if t.relative is not None and t.relative.before else 1
        prefix = _name("p", tag, step.id)
        match t:
            case ir.At(offset=offset, about=about):
                when = low.add(prefix + "__at", shift(base, offset, sign))
                this = (when, when, _and(base_firm, exp.Boolean(this=not about)))
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
        on_time = _and(_or(_is_null(earliest), exp.LTE(this=earliest, expression=actual)),
                           exp.LTE(this=actual, expression=latest))
        found.append((step.id, _and(_not(_is_null(actual)), _not(_is_null(latest)),
                                        _is_true(firm), _not(exp.Paren(this=on_time)))))
    return found


# ---- the schema's checks of a typed value ------------------------------------------------------

def _row_error(low: _Lowering) -> exp.Expr:
    """The row's error: its own (unreadable), or every fact's problem in declaration order.

    The messages are put together only for the rows that have one: a cheap test that every
    cell was read and is allowed comes first (nearly every row of a cohort passes it); a
    staged table says in one column whether any cell was not read (`__errors`)."""
    messages: list[exp.Expr] = []
    fine: list[exp.Expr] = [_is_null(_col("error"))] if "error" in low.present else []
    if "__errors" in low.present:
        fine.append(_not(_col("__errors")))
    allowed: list[exp.Expr] = []  # each check's test that the value is allowed (NULL where it is unknown)
    for name, fact in low.checked.facts.items():
        parse_error = _col(name + "__error") if name + "__error" in low.present else None
        check = (_check(name, fact.type, low.fact(name, raw=True), low.dialect)
                 if name in low.present and name not in low.listed else None)
        if parse_error is not None and "__errors" not in low.present:
            fine.append(_is_null(parse_error))
        if check is not None:
            bad = check[0]
            allowed.append(bad.this if isinstance(bad, exp.Not) else _not(bad))
        if parse_error is not None and check is not None:
            messages.append(exp.Coalesce(this=parse_error, expressions=[check[1]]))
        elif parse_error is not None:
            messages.append(parse_error)
        elif check is not None:
            messages.append(check[1])
    # CONCAT_WS skips NULLs (in DuckDB, Spark and Postgres): the problems joined, '' when none
    joined: exp.Expr = exp.Cast(this=exp.Null(), to=exp.DataType.build("VARCHAR"))
    if messages:
        joined = exp.Nullif(this=exp.Anonymous(this="CONCAT_WS", expressions=[_s("; "), *messages]),
                            expression=_s(""))
    if "__hint" in low.present:
        joined = exp.Case().when(_not(_is_null(joined)), _concat(joined, exp.Coalesce(
            this=_col("__hint"), expressions=[_s("")])), copy=False)
    if allowed:  # no check false: their AND is not FALSE (0.01 s a million rows less than each IS NOT FALSE)
        fine.append(exp.Coalesce(this=_and(*[exp.Paren(this=a) for a in allowed]), expressions=[exp.true()]))
    found = exp.Coalesce(this=_col("error"), expressions=[joined]) if "error" in low.present else joined
    return exp.Case().when(_not(_all(fine)), found, copy=False) if fine else found


def _text(e: exp.Expr) -> exp.Expr:
    return exp.Cast(this=e, to=exp.DataType.build("VARCHAR"))


def _concat(*parts: exp.Expr | str) -> exp.Expr:
    return exp.Concat(expressions=[_s(p) if isinstance(p, str) else p for p in parts], safe=True)


def shortened(text: exp.Expr, dialect: str | None) -> exp.Expr:
    """A text a message repeats, cut after 80 characters as fact_values.py's `_printable` cuts
    it ('xxx… (1,000 characters)'), then its line ends and tabs escaped as it escapes them;
    computed only in a message's branch."""
    text = _text(text)  # (DuckDB's ENUM values too)
    size = exp.Length(this=text)
    count = (exp.Anonymous(this="format", expressions=[_s("{:,}"), size]) if dialect == "duckdb"
             else exp.Anonymous(this="format_number", expressions=[size, _n(0)]))
    cut: exp.Expr = exp.Case().when(exp.GT(this=size, expression=_n(80)), _concat(
        exp.Substring(this=text, start=_n(1), length=_n(80)), "… (", count, " characters)"), copy=False).else_(text)
    for char, written in (("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")):
        cut = exp.Anonymous(this="replace", expressions=[cut, _s(char), _s(written)])
    return cut


def _choices(values) -> str:
    return "{" + ", ".join(values) + "}"


def number_text(v: exp.Expr, dialect: str | None, integer: bool = False) -> exp.Expr:
    """A number as format_number writes it: whole numbers without a decimal point, decimals
    without the zeros their SQL type pads them with (`v` a NUMBER, or a BIGINT when `integer`)."""
    if integer:
        return _text(v)
    # FLOOR's type is DECIMAL(21, 0) in Spark, and Spark compares it with a DECIMAL(38, 18) as
    # DECIMAL(38, 17), its 18th decimal rounded away (1E-18 = FLOOR(1E-18)): compared as NUMBERs
    whole = exp.EQ(this=v, expression=exp.Cast(this=exp.Floor(this=v), to=exp.DataType.build(NUMBER)))
    # (Spark writes a decimal below 10^-6 with an exponent, 1E-18: format_number writes it out)
    written = _text(v) if dialect != "spark" else exp.Anonymous(this="replace", expressions=[
        exp.Anonymous(this="format_number", expressions=[v, _n(18)]), _s(","), _s("")])
    trimmed = exp.RegexpReplace(this=written, expression=_s("0+$"), replacement=_s(""))
    return exp.Case().when(whole, _text(exp.Cast(this=v, to=exp.DataType.build("DECIMAL(38, 0)")))).else_(trimmed)


def _duration_text(value: _Dur) -> exp.Expr:
    """A duration as values.Duration's `str` writes it: '2 years', '14 months 3 days', '6 weeks', '0 days'."""
    def amount(n: exp.Expr, word: str) -> exp.Expr:
        plural = exp.Case().when(exp.NEQ(this=exp.Abs(this=n), expression=_n(1)), _s("s"), copy=False).else_(_s(""))
        return _concat(_text(n), f" {word}", plural)
    months, days = value.months, value.days
    in_months = exp.Case().when(exp.EQ(this=exp.Mod(this=months, expression=_n(12)), expression=_n(0)), amount(
        exp.IntDiv(this=months, expression=_n(12)), "year"), copy=False).else_(amount(months, "month"))
    in_days = exp.Case().when(_and(exp.NEQ(this=days, expression=_n(0)), exp.EQ(
        this=exp.Mod(this=days, expression=_n(7)), expression=_n(0))), amount(
        exp.IntDiv(this=days, expression=_n(7)), "week"), copy=False).else_(amount(days, "day"))
    return (exp.Case().when(exp.EQ(this=months, expression=_n(0)), in_days, copy=False)
            .when(exp.EQ(this=days, expression=_n(0)), in_months, copy=False).else_(_concat(in_months, " ", in_days)))


def _interval_text(interval: ir.Interval) -> str:
    show = lambda v: str(v) if isinstance(v, Duration) else format_number(v)  # noqa: E731
    unit = f" {interval.unit}" if interval.unit else ""
    return (f"{'[' if interval.low.closed else '('}{show(interval.low.value)} .. "
            f"{show(interval.high.value)}{']' if interval.high.closed else ')'}{unit}")


def _inside(value, interval: ir.Interval) -> exp.Expr:
    lo, hi = interval.low, interval.high
    low_ok = (exp.GTE if lo.closed else exp.GT)(this=value, expression=_n(lo.value))
    high_ok = (exp.LTE if hi.closed else exp.LT)(this=value, expression=_n(hi.value))
    return _and(low_ok, high_ok)


def _check(name: str, t: ir.FactType, value, dialect: str | None = None) -> tuple[exp.Expr, exp.Expr] | None:
    """(whether the value is not allowed, the message saying why), or None: nothing to check."""
    who = f"'{name}'"
    match t:
        case ir.EnumType(values=values):
            bad = _not(exp.In(this=value, expressions=[_s(v) for v in values]))
            return bad, exp.Case().when(bad, _concat("'", shortened(value, dialect), f"' is not a value of {who}; "
                                                     "expected one of "
                                                     f"{_choices(values)}"), copy=False)
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
            not_listed = exp.GT(this=exp.ArraySize(this=outside), expression=_n(0))
            listed_twice = exp.GT(this=exp.ArraySize(this=twice), expression=_n(0))
            bad = _or(not_listed, listed_twice)
            if dialect == "duckdb":  # one pass: a value not listed, or not where it is first found (twice)
                i = exp.to_identifier("i")  # DuckDB counts a lambda's index from 1, as LIST_POSITION
                bad = exp.GT(this=exp.ArraySize(this=exp.ArrayFilter(this=value, expression=exp.Lambda(this=_or(
                    _not(exp.In(this=exp.column("x"), expressions=[_s(v) for v in values])),
                    exp.NEQ(this=exp.Anonymous(this="LIST_POSITION", expressions=[value, exp.column("x")]),
                            expression=exp.column("i"))), expressions=[x, i]))), expression=_n(0))
            return bad, (
                exp.Case()
                .when(not_listed, _concat("'", shortened(first_bad, dialect), f"' is not a value of {who}; "
                                          "expected values from "
                                          f"{_choices(values)}"), copy=False)
                .when(listed_twice, _concat("'", shortened(repeated, dialect), f"' is listed twice in {who}"),
                      copy=False))
        case ir.NumberType(range=interval, unit=unit, integer=integer) if interval is not None:
            shown = _concat(number_text(value, dialect, integer), f" {unit}" if unit else "")
            bad = _not(exp.Paren(this=_inside(value, interval)))
            return bad, exp.Case().when(bad, _concat(f"{who} is ", shown, f", outside its range "
                                                     f"{_interval_text(interval)}"), copy=False)
        case ir.DurationType(range=interval) if interval is not None:
            lo, hi = interval.low.value, interval.high.value
            assert isinstance(lo, Duration) and isinstance(hi, Duration)  # a duration's range is of durations
            # inside only where it is from every date (fact_values.py refuses a value it is not
            # sure of, `contains(...) is not True`); unknown, the value is no error
            given = (value.months, value.days)
            inside = _and(compare_durations(">=" if interval.low.closed else ">", given, (_n(lo.months), _n(lo.days))),
                          compare_durations("<=" if interval.high.closed else "<", given,
                                            (_n(hi.months), _n(hi.days))))
            bad = _and(_not(_is_null(value.days)), _not(exp.Coalesce(this=inside, expressions=[exp.false()])))
            return bad, exp.Case().when(bad, _concat(f"{who} is ", _duration_text(value),
                                                     f", outside its range {_interval_text(interval)}"), copy=False)
    return None


__all__ = ["decide_columns", "number_text"]
