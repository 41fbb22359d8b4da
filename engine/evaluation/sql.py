"""Lowering to SQL: a checked knowledge base -> one query that decides every case of a table.

Takes the checked IR (nothing else: no generated Python, no evaluator) and returns a sqlglot
expression tree, written in any dialect sqlglot knows (`to_sql`: DuckDB, Spark, Postgres).
The tree uses forms every engine runs, unless it is built for DuckDB (`dialect="duckdb"`),
whose LIST_WHERE makes the lists without a lambda.
The query reads a relation whose columns are the facts, typed (`column_types`): yes-no as
BOOLEAN, integers as BIGINT, numbers as `NUMBER` (DECIMAL(38, 18): exact, as the
language's numbers are), enum values as text, sets as lists of
text, dates as DATE, durations as whole days (BIGINT), with an optional `<fact>__months`
column for the calendar months of a duration. A fact without a column is unknown for
every row. Optional columns: `row` (the row number, passed through), `error` (a row that
could not be read) and `<fact>__error` (why a cell could not be read as its fact).

It returns, per row, the columns of the Python cohort (engine/inputs/cohort.py): `row`,
`error`, `recommendations`, one list per source, `warnings`, `needs`, each list in the
order the evaluator gives it. A value the schema does not allow (an enum value it does
not list, a number outside its range) makes the row's `error`, worded as
engine/inputs/case.py words it, and the row's lists NULL.

Semantics: SQL's NULL is Kleene's unknown, so `and`, `or`, `not` and comparisons are
SQL's own. A decision takes the first branch whose condition IS TRUE after conditions
that are all FALSE; a NULL stops it (its facts that are NULL become needs). Dates move by
calendar months first (a month past 31 January is the end of February, as every engine's
month addition clamps) then days; durations are (months, days) pairs compared as Python
compares them, from every date (unknown where it depends on the date: sql_months.py);
division by zero is unknown.

Why sqlglot: the query is an expression tree built from the IR (`exp.Case`, `exp.and_`,
...), never text pasted together, so a rule's text cannot change the query's shape, and one
tree is written in each engine's dialect by a well-kept transpiler. (Ibis would also
build trees, but hides the SQL behind a dataframe API and a backend per engine; the
tree is what we want to show and to test.) Not here: reading files or running the
query (engine/inputs/cohort_sql.py). A construct the lowering does not know is refused
when lowering, naming the rule (`not-lowerable`).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Collection, Iterable

from sqlglot import exp

from ..lang import ir
from ..lang.checked import Checked
from ..lang.diagnostics import Diagnostic, KnowledgeBaseError
from ..lang.values import Duration
from .sql_months import _DAYS_OPS as _SQL_OPS
from .sql_months import compare as compare_durations
from .sql_limits import BIGINT_LIMIT, DECIMAL_LIMIT, bound, movable, ranged_in_arithmetic
from ..lang.reads import define_order, facts_read

DIALECTS = ("duckdb", "spark", "postgres")
# A number that is not whole: exact decimals, 20 digits before the point and 18 after, which
# every engine holds (DuckDB, Spark and Postgres alike: 38 digits at most). Sums, differences
# and comparisons are exact; a product or quotient is worked out through DOUBLE and read
# back as the decimal DOUBLE writes (exact to 15 significant digits), because a product of
# two such decimals would need 36 digits after the point and overflow.
NUMBER = "DECIMAL(38, 18)"


def column_types(checked: Checked) -> dict[str, str]:
    """The SQL type of each fact's column (sqlglot type text)."""
    return {name: _type(fact.type) for name, fact in checked.facts.items()}


def _type(t: ir.FactType) -> str:
    match t:
        case ir.BoolType():
            return "BOOLEAN"
        case ir.NumberType(integer=True):
            return "BIGINT"
        case ir.NumberType():
            return NUMBER
        case ir.EnumType():
            return "VARCHAR"
        case ir.SetType():
            return "ARRAY<VARCHAR>"
        case ir.DateType():
            return "DATE"
        case ir.DurationType():
            return "BIGINT"
    raise AssertionError(t)


def output_columns(checked: Checked) -> list[str]:
    """The Python cohort's columns (engine/inputs/cohort.py's `row_columns`)."""
    judged = any(f.judgement for f in checked.facts.values())
    return (["row", "error", "recommendations", *checked.sources, "warnings", "needs"]
            + (["findings"] if checked.findings else []) + (["options"] if judged else []))


@dataclass(frozen=True, slots=True)
class _Dur:
    """A duration in SQL: calendar months and days, each an integer expression."""

    months: exp.Expr
    days: exp.Expr


def _n(value) -> exp.Expr:
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if value < 0:
        return exp.Neg(this=exp.Literal.number(-value))
    if isinstance(value, float) and value.is_integer():
        return exp.Literal.number(repr(value))
    return exp.Literal.number(value)


def _s(text: str) -> exp.Expr:
    return exp.Literal.string(text)


def _col(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def _not(e: exp.Expr) -> exp.Expr:
    """NOT, its operand parenthesized: sqlglot writes the tree as given, and NOT binds loosely."""
    return exp.Not(this=e if isinstance(e, (exp.Paren, exp.Column, exp.Boolean)) else exp.Paren(this=e))


def _is_true(e: exp.Expr) -> exp.Expr:
    return exp.Is(this=exp.Paren(this=e), expression=exp.Boolean(this=True))


def _is_false(e: exp.Expr) -> exp.Expr:
    return exp.Is(this=exp.Paren(this=e), expression=exp.Boolean(this=False))


def _is_null(e: exp.Expr) -> exp.Expr:
    return exp.Is(this=exp.Paren(this=e), expression=exp.Null())


def _and(*parts: exp.Expr) -> exp.Expr:
    """AND of the parts, sharing them (copying every subtree made building quadratic)."""
    return exp.and_(*parts, copy=False)


def _or(*parts: exp.Expr) -> exp.Expr:
    return exp.or_(*parts, copy=False)


def _literal_is(e: exp.Expr, value: bool) -> bool:
    return isinstance(e, exp.Boolean) and e.this is value


def _all(parts: list[exp.Expr]) -> exp.Expr:
    """AND of two-valued flags; a TRUE among them changes nothing and is left out."""
    parts = [p for p in parts if not _literal_is(p, True)]
    return _and(*parts) if parts else exp.Boolean(this=True)


def _any(parts: list[exp.Expr]) -> exp.Expr:
    parts = [p for p in parts if not _literal_is(p, False)]
    return _or(*parts) if parts else exp.Boolean(this=False)


# The calendar of the language's dates (Python's): a date moved out of it is unknown, as
# values.add_duration's None. A step by a duration fact longer than the calendar always
# leaves it, and is not given to the engine at all (DuckDB raises on an interval of 10^15
# days, Spark wraps); a step by a constant is kept in the calendar by a range of the date
# it moves, worked out here (one test of a column, not of the moved date).
_MOST = {"MONTH": 12 * 10_000, "DAY": 3_652_059}


def shift(day: exp.Expr, duration: _Dur | Duration, sign: int = 1) -> exp.Expr:
    """A date moved by a duration: calendar months first, then days, as values.add_duration;
    NULL where a step leaves the calendar (0001-01-01 .. 9999-12-31)."""
    if isinstance(duration, Duration):
        return _shift_by(day, duration if sign > 0 else -duration)
    on_day = day
    for unit, amount in (("MONTH", duration.months), ("DAY", duration.days)):
        if _is_zero(amount):  # a step of no months or no days is left out: it moves nothing
            continue
        step = amount if sign > 0 else exp.Neg(this=exp.Paren(this=amount))
        if not isinstance(amount, exp.Literal):
            step = exp.Cast(this=exp.Case().when(exp.LTE(this=exp.Abs(this=step), expression=_n(_MOST[unit])), step,
                                                 copy=False), to=exp.DataType.build("INT"))  # Spark's date_add: INT
        moved = exp.Cast(this=exp.DateAdd(this=on_day, expression=exp.Paren(this=step), unit=exp.var(unit)),
                         to=exp.DataType.build("DATE"))  # DuckDB's date + interval is a timestamp
        on_day = exp.Case().when(exp.Between(this=moved, low=_date(_dt.date.min), high=_date(_dt.date.max)),
                                 moved, copy=False)
    return on_day


def _shift_by(day: exp.Expr, duration: Duration) -> exp.Expr:
    """A date moved by a constant duration; NULL for a date the move would take out of the calendar."""
    on_day = day
    for unit, amount in (("MONTH", duration.months), ("DAY", duration.days)):
        if amount:
            on_day = exp.Cast(this=exp.DateAdd(this=on_day, expression=exp.Paren(this=_n(amount)),
                                               unit=exp.var(unit)), to=exp.DataType.build("DATE"))
    first, last = movable(duration)
    if first is None or last is None:
        return exp.Cast(this=exp.Null(), to=exp.DataType.build("DATE"))
    if (first, last) == (_dt.date.min, _dt.date.max):
        return on_day
    within = (exp.LTE(this=day, expression=_date(last)) if first == _dt.date.min else  # one test where one will do
              exp.GTE(this=day, expression=_date(first)) if last == _dt.date.max else
              exp.Between(this=day, low=_date(first), high=_date(last)))
    return exp.Case().when(within, on_day, copy=False)


def _date(day: _dt.date) -> exp.Expr:
    return exp.Cast(this=_s(day.isoformat()), to=exp.DataType.build("DATE"))


def _is_zero(e: exp.Expr) -> bool:
    return isinstance(e, exp.Literal) and e.is_number and float(e.this) == 0


def _double(e: exp.Expr) -> exp.Expr:
    return exp.Cast(this=e, to=exp.DataType.build("DOUBLE"))


def _through_double(e: exp.Expr) -> exp.Expr:
    """A DOUBLE read back as the decimal it is written as (0.1, not 0.1000000000000000055...);
    unknown when it does not fit NUMBER."""
    return exp.TryCast(this=exp.Cast(this=e, to=exp.DataType.build("VARCHAR")), to=exp.DataType.build(NUMBER))


class _Refused(Exception):
    def __init__(self, what: str):
        self.what = what


class _Lowering:
    """Expressions of one knowledge base, and the named columns the query computes in layers."""

    def __init__(self, checked: Checked, present: Collection[str], dialect: str | None = None):
        self.checked = checked
        self.present = set(present)
        self.dialect = dialect  # None: forms every engine runs; "duckdb": DuckDB's faster ones
        self.columns: dict[str, exp.Expr] = {}   # name -> expression over earlier columns
        self.deps: dict[str, set[str]] = {}
        self.define_col: dict[str, exp.Expr | _Dur] = {}
        # overflow: the facts whose range bounds some arithmetic (read by it as NULL when out of
        # range: the row is an error anyway), the rule being lowered (to name it), and for each
        # sum, difference, product or quotient that can still leave the engine's numbers, its
        # result's column and the row error it makes when its operands are known and it is NULL
        self.ranged = ranged_in_arithmetic(checked)
        self.where = ""
        self.overflows: dict[ir.Arith, tuple[exp.Expr, exp.Expr]] = {}
        self.listed: set[str] = set()  # enum facts whose column holds nothing else (`lower`'s `listed`)
        self.two_valued: dict[str, bool] = {}  # named columns never NULL (sql_decide's `_two_valued`)

    # ---- named columns --------------------------------------------------------------------
    def add(self, name: str, e: exp.Expr) -> exp.Expr:
        """A named column computing `e`, or `e` itself when it is already a column or a
        constant (a column that only renames another would be one more layer for nothing)."""
        if isinstance(e, (exp.Column, exp.Boolean)):
            return e
        self.columns[name] = e
        self.deps[name] = {c.name for c in e.find_all(exp.Column)} & set(self.columns)
        return _col(name)

    def layers(self) -> list[list[str]]:
        """The named columns in layers: each only reads columns of earlier layers."""
        level: dict[str, int] = {}
        for name in self.columns:  # added in an order where dependencies come first
            level[name] = 1 + max((level[d] for d in self.deps[name] if d != name), default=-1)
        out: list[list[str]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
        for name, lv in level.items():
            out[lv].append(name)
        return out

    # ---- facts and definitions ------------------------------------------------------------
    def date(self, name: str) -> exp.Expr:
        """A fact that is one value (a date, a number): its column, or NULL without one."""
        found = self.fact(name)
        if isinstance(found, _Dur):
            raise _Refused(f"the duration '{name}' where a date is expected")
        return found

    def fact(self, name: str, raw: bool = False) -> exp.Expr | _Dur:
        """A fact's value; in arithmetic its range bounds, NULL where it is out of it (not `raw`)."""
        t = self.checked.facts[name].type
        if name not in self.present:
            typed = exp.Cast(this=exp.Null(), to=exp.DataType.build(_type(t)))
            return _Dur(typed, typed) if isinstance(t, ir.DurationType) else typed
        if not raw and name in self.ranged and isinstance(t, ir.NumberType) and t.range is not None:
            return self.add(f"k_{name}", exp.Case().when(_inside(_col(name), t.range), _col(name), copy=False))
        if isinstance(t, ir.DurationType):
            days = _col(name)
            months = (exp.Coalesce(this=_col(name + "__months"), expressions=[_n(0)])
                      if name + "__months" in self.present else _n(0))
            # unknown when the days are: months alone are given only beside days
            months = exp.Case().when(_is_null(days), exp.Null()).else_(months)
            return _Dur(months, exp.Coalesce(this=days, expressions=[exp.Null()]))
        return _col(name)

    def definitions(self) -> None:
        for name in define_order(self.checked.defines):
            define = self.checked.defines[name]
            self.where = f"the definition '{name}'"
            value = _lowered("definition", name, define.span, lambda d=define: self.expr(d.expr))
            if isinstance(value, _Dur):
                self.define_col[name] = _Dur(self.add(f"d_{name}__months", value.months),
                                             self.add(f"d_{name}", value.days))
            else:
                self.define_col[name] = self.add(f"d_{name}", value)

    # ---- expressions ------------------------------------------------------------------------
    def expr(self, e: ir.Expr) -> exp.Expr | _Dur:
        match e:
            case ir.BoolLit(value=v):
                return exp.Boolean(this=v)
            case ir.NumberLit(value=v):
                return _n(v)
            case ir.DurationLit(value=v):
                return _Dur(_n(v.months), _n(v.days))
            case ir.DateLit(value=v):
                return exp.Cast(this=_s(v.isoformat()), to=exp.DataType.build("DATE"))
            case ir.EnumLit(value=v):
                return _s(v)
            case ir.FactRef(id=name):
                return self.fact(name)
            case ir.DefineRef(id=name):
                return self.define_col[name]
            case ir.And(operands=ops):
                return exp.Paren(this=_and(*[exp.Paren(this=self.value(op)) for op in ops]))
            case ir.Or(operands=ops):
                return exp.Paren(this=_or(*[exp.Paren(this=self.value(op)) for op in ops]))
            case ir.Not(operand=op):
                return _not(exp.Paren(this=self.value(op)))
            case ir.Compare(op=op, left=left, right=right):
                return self.compare(op, left, right)
            case ir.InRange(operand=op, interval=interval):
                value = self.expr(op)
                low = self.order(">=" if interval.low.closed else ">", value, self.literal(interval.low.value))
                high = self.order("<=" if interval.high.closed else "<", value, self.literal(interval.high.value))
                return exp.Paren(this=_and(low, high))
            case ir.Member(element=element, collection=ir.SetLit(values=values)):
                return exp.In(this=self.value(element), expressions=[_s(v) for v in values])
            case ir.Member(element=element, collection=collection):
                return exp.ArrayContains(this=self.value(collection), expression=self.value(element))
            case ir.IsKnown(operand=op, negated=negated):
                value = self.expr(op)
                test = _is_null(value.days if isinstance(value, _Dur) else value)
                return test if negated else _not(test)
            case ir.Arith():
                return self.arith(e)
            case ir.Negate(operand=op):
                value = self.expr(op)
                if isinstance(value, _Dur):
                    return _Dur(exp.Neg(this=exp.Paren(this=value.months)), exp.Neg(this=exp.Paren(this=value.days)))
                if bound(self.checked, self.ranged, op) >= BIGINT_LIMIT:  # -(-2^63) leaves BIGINT: as 0 - x, guarded
                    zero = _n(0)
                    return self.overflow(ir.Arith(op="-", left=ir.NumberLit(value=0), right=op, kind="number"),
                                         zero, value, self.guarded("-", zero, value), "a negation")
                return exp.Neg(this=exp.Paren(this=value))
            case ir.SetLit():
                raise _Refused("a set of values used other than after 'in'")
        raise _Refused(f"the expression '{type(e).__name__}'")

    def value(self, e: ir.Expr) -> exp.Expr:
        found = self.expr(e)
        if isinstance(found, _Dur):
            raise _Refused("a duration where a single value is expected")
        return found

    def literal(self, value) -> exp.Expr | _Dur:
        return _Dur(_n(value.months), _n(value.days)) if isinstance(value, Duration) else _n(value)

    def compare(self, op: str, left: ir.Expr, right: ir.Expr) -> exp.Expr:
        if isinstance(right, ir.SetLit) or isinstance(left, ir.SetLit):  # a set fact = {a, b}: as sorted lists
            fact, lit = (left, right) if isinstance(right, ir.SetLit) else (right, left)
            assert isinstance(lit, ir.SetLit)  # the one of the two that is
            array = exp.ArraySort(this=self.value(fact))
            test = exp.EQ(this=array, expression=exp.Array(expressions=[_s(v) for v in sorted(lit.values)]))
            return test if op == "=" else _not(test)
        a, b = self.expr(left), self.expr(right)
        if self._is_set(left) and self._is_set(right):
            test = exp.EQ(this=exp.ArraySort(this=a), expression=exp.ArraySort(this=b))
            return test if op == "=" else _not(test)
        return self.order(op, a, b)

    def _is_set(self, e: ir.Expr) -> bool:
        return isinstance(e, ir.FactRef) and isinstance(self.checked.facts[e.id].type, ir.SetType) or \
            isinstance(e, ir.DefineRef) and isinstance(self.checked.define_types.get(e.id), ir.SetType)

    def order(self, op: str, a, b) -> exp.Expr:
        if isinstance(a, _Dur) and isinstance(b, _Dur):  # from every date, as values.compare_durations
            return compare_durations(op, (a.months, a.days), (b.months, b.days))
        return _SQL_OPS[op](this=a, expression=b)

    def arith(self, e: ir.Arith) -> exp.Expr | _Dur:
        a, b = self.expr(e.left), self.expr(e.right)
        match e.kind, e.op, a, b:
            case "date_plus", _, exp.Expr(), _Dur():
                return shift(a, b)
            case "date_plus", _, _Dur(), exp.Expr():
                return shift(b, a)
            case "date_minus", _, exp.Expr(), _Dur():
                return shift(a, b, -1)
            case "date_diff", _, exp.Expr(), exp.Expr():
                days = exp.DateDiff(this=a, expression=b, unit=exp.var("DAY"))
                return _Dur(exp.Case().when(_is_null(days), exp.Null()).else_(_n(0)), days)
            case "duration", "+", _Dur(), _Dur():
                return _Dur(exp.Add(this=a.months, expression=b.months), exp.Add(this=a.days, expression=b.days))
            case "duration", "-", _Dur(), _Dur():
                return _Dur(exp.Sub(this=a.months, expression=exp.Paren(this=b.months)),
                            exp.Sub(this=a.days, expression=exp.Paren(this=b.days)))
            case "number", "+" | "-", exp.Expr(), exp.Expr():
                if bound(self.checked, self.ranged, e) < BIGINT_LIMIT:  # cannot leave BIGINT or NUMBER: as it is
                    return exp.Paren(this=(exp.Add if e.op == "+" else exp.Sub)(this=a, expression=exp.Paren(this=b)))
                return self.overflow(e, a, b, self.guarded(e.op, a, b))
            case "number", "*", exp.Expr(), exp.Expr():
                product = _through_double(exp.Mul(this=_double(a), expression=_double(b)))
                if bound(self.checked, self.ranged, e) < DECIMAL_LIMIT:
                    return product
                return self.overflow(e, a, b, product)
            case "number", "/", exp.Expr(), exp.Expr():  # true division, and unknown when dividing by zero
                return self.overflow(e, a, b, _through_double(exp.Div(
                    this=_double(a), expression=exp.Nullif(this=_double(b), expression=_n(0)))))
        raise _Refused(f"the arithmetic '{e.op}' on {e.kind}")

    def guarded(self, op: str, a: exp.Expr, b: exp.Expr) -> exp.Expr:
        """A sum or difference that is NULL where it leaves the engine's numbers (DuckDB and
        Spark raise, or wrap a BIGINT); Postgres's DECIMAL has no limit to leave."""
        if self.dialect == "duckdb":
            return exp.Anonymous(this="TRY", expressions=[(exp.Add if op == "+" else exp.Sub)(
                this=a, expression=exp.Paren(this=b))])
        if self.dialect == "spark":
            return exp.Anonymous(this="try_add" if op == "+" else "try_subtract", expressions=[a, b])
        wide = exp.Cast(this=a, to=exp.DataType.build("DECIMAL"))
        return exp.Paren(this=(exp.Add if op == "+" else exp.Sub)(this=wide, expression=exp.Paren(this=b)))

    def overflow(self, e: ir.Arith, a: exp.Expr, b: exp.Expr, result: exp.Expr, what: str = "") -> exp.Expr:
        """`result` as a column, and the row error where its operands are known and it is not
        (a quotient by zero is unknown, not an error)."""
        if e in self.overflows:  # an expression lowered again (a condition's needs): the same column
            return self.overflows[e][0]
        column = self.add(f"x_{len(self.overflows)}", result)
        known = [_not(_is_null(a)), _not(_is_null(b))]
        if e.op == "/":
            known.append(exp.NEQ(this=b, expression=_n(0)))
        what = what or {"+": "a sum", "-": "a difference", "*": "a product", "/": "a quotient"}[e.op]
        integers = all(isinstance(t := self.checked.facts[f].type, ir.NumberType) and t.integer
                       for f in facts_read(e, self.checked.defines))
        message = _s(f"{what} in {self.where or 'a rule'} is beyond the numbers the SQL engines hold exactly ("
                     + ("a whole number up to 9223372036854775807" if integers else "20 digits before the point")
                     + "); evaluate this cohort with --engine python")
        self.overflows[e] = (column, exp.Case().when(_and(*known, _is_null(column)), message, copy=False))
        return column


def _refuse(rule_kind: str, rule_id: str, span, what: str) -> KnowledgeBaseError:
    return KnowledgeBaseError([Diagnostic(
        "not-lowerable", f"the {rule_kind} '{rule_id}' cannot be lowered to SQL: {what}", span,
        hint="evaluate this knowledge base with --engine python")])


def _lowered(rule_kind: str, rule_id: str, span, work):
    try:
        return work()
    except _Refused as refused:
        raise _refuse(rule_kind, rule_id, span, refused.what) from None


from .sql_decide import _inside, decide_columns  # noqa: E402  (the pathways, after the expressions they use)


def lower(checked: Checked, *, table: str | exp.Expr = "cases",
          columns: Collection[str] | None = None, dialect: str | None = None,
          listed: Collection[str] = ()) -> exp.Select:
    """The query deciding every row of `table` (a name, or a query as a sqlglot tree).

    `columns`: the columns the table has (all the facts, when None); a fact without one is
    unknown for every row. `dialect`: the engine it is for, when it has faster forms of its
    own (DuckDB's LIST_WHERE); None writes forms that every dialect runs. `listed`: enum facts
    whose column holds nothing but their values (DuckDB ENUMs made by the staging, a value
    not listed NULL with its `__error`): not checked again. Raises KnowledgeBaseError
    (`not-lowerable`) naming the rule that uses a construct this lowering does not know."""
    present = set(checked.facts) if columns is None else set(columns)
    low = _Lowering(checked, present, dialect)
    low.listed = set(listed)
    low.definitions()
    outputs = decide_columns(low, _lowered)
    _refuse_names_taken(checked, low.columns)
    source = exp.to_table(table, quoted=True) if isinstance(table, str) else table
    base = exp.select(*_base_columns(checked, present)).from_(source, copy=False)
    ctes = [("t0", base)]
    for i, layer in enumerate(low.layers(), start=1):
        step = exp.select(exp.Star(), *[exp.alias_(low.columns[n], n, quoted=True) for n in layer]) \
            .from_(exp.to_table(f"t{i - 1}"), copy=False)
        ctes.append((f"t{i}", step))
    last = ctes[-1][0]
    query = exp.select(*[exp.alias_(e, n, quoted=True) for n, e in outputs]).from_(exp.to_table(last), copy=False)
    for name, body in ctes:
        query = query.with_(name, as_=body, copy=False)  # copying would make building quadratic
    return query


# Columns the query and the staging (engine/inputs/sql_stage.py) name for themselves beside the
# facts': the row's number and error, and every name holding `__` (a fact's `<fact>__error`,
# `<fact>__months`, `<fact>__text`, the line's `__doc`, a lambda's `__duration_u`, a node's
# `r__<pathway>__<node>`). A fact of such a name would be read as the query's own column, or
# hide it: a fact `error` made every row unknown, a fact `v_error` every row an error.
_TAKEN = frozenset({"row", "error"})


def _refuse_names_taken(checked: Checked, own: Collection[str]) -> None:
    """Refuse a knowledge base with a fact named as a column the query makes for itself
    (`_TAKEN`, a name holding `__`, or one of `own`: `k_<fact>`, `d_<define>`, `v_error`...)."""
    taken = [fact for name, fact in checked.facts.items() if name in _TAKEN or "__" in name or name in own]
    if taken:
        raise KnowledgeBaseError([Diagnostic(
            "not-lowerable", f"the fact '{fact.id}' cannot be lowered to SQL: the query names a column of its own "
            f"'{fact.id}'" + (" (a name holding '__' is kept for them)" if "__" in fact.id else ""), fact.span,
            hint="rename the fact, or evaluate with --engine python") for fact in taken])


def _base_columns(checked: Checked, present: set[str]) -> Iterable[exp.Expr]:
    """The row number, a row error, each present fact's column and its error column."""
    yield exp.alias_(_col("row") if "row" in present else exp.Null(), "row", quoted=True)
    yield exp.alias_(_col("error") if "error" in present else exp.Cast(
        this=exp.Null(), to=exp.DataType.build("VARCHAR")), "error", quoted=True)
    if "__hint" in present:  # a hint for the row's error (how a CSV file writes a set)
        yield _col("__hint")
    if "__errors" in present:  # does some `<fact>__error` hold one (engine/inputs/sql_stage.py)
        yield _col("__errors")
    for name in checked.facts:
        for column in (name, name + "__months", name + "__error"):
            if column in present:
                yield _col(column)


def to_sql(checked: Checked, dialect: str = "duckdb", *, table: str = "cases",
           columns: Collection[str] | None = None, pretty: bool = True) -> str:
    """The query as text in one dialect (duckdb, spark or postgres)."""
    return lower(checked, table=table, columns=columns, dialect=dialect).sql(
        dialect=dialect, pretty=pretty, identify=True, copy=False)


__all__ = ["DIALECTS", "NUMBER", "column_types", "lower", "output_columns", "shift", "to_sql"]
