"""Comparing two durations in SQL as engine/lang/values.py compares them: from every date.

Takes an operator and two durations, each (months, days) as integer expressions; gives a SQL
test that is TRUE when the comparison holds from every date of the calendar, FALSE when it
fails from every date, and NULL (unknown) when it depends on the date, as
values.compare_durations: `1 month > 30 days` is unknown, `2 months > 6 weeks` true. The
difference k months against d days is measured by the fewest and most days k calendar months
span (values.month_span), which repeat every 4800 months (146097 days, 400 years): a table of
one character per month of the cycle, looked up by the row's k. Durations of days alone
(a date minus a date) are compared by their days. Not here: lowering the rest of a knowledge base
(engine/evaluation/sql.py).
"""

from __future__ import annotations

import base64
import functools
import zlib

from sqlglot import exp

from ..lang.values import _CYCLE_DAYS, _CYCLE_MONTHS, month_span

# for r = 0 .. 4799 months: chr(48 + 7 * (r * 146097 // 4800 - fewest days) + (most days - fewest days)),
# zlib-compressed and base85-written (tests/test_sql_cells.py holds it to values.month_span)
_SPANS = (
    "c-p<#L6U<Y5QX6@P0-EI?IJXr$S(Ik%oHY-"
    "n)xGBQCo1+l;2LEd464EePSHqa7igil4aDoPM7+YZjV>#Q9ozj^E}&Z%cymoF7>+?c!f_s-rx;he7wRZ_~hdap5G$)c!f{!y"
    "3ZTDz>AMp_yli0er;d;_QA)G@CL6wUf>m8_W2Rs;LXPiyu!EkMJ&t6b;NtQ*SbEju`l2Yy!!YIpW)5N7x<NR?%^|hfY1B<1i"
    "!k@kNXU-@Y%;V*7?g%KA!txfX_bO;3xQLpI3N=&pzJZGyK%{Tl&kt=YQiK_2-"
    "PL^>cP@`vRZg)yHS}^?TH2U*HS8`uGpe|D*n-"
    "eo^}Li+i7bQO@ZXxlg|+efq`h(=WE>k<cfP=s9^r`s5MolSe|IJfeN_h@6v0tWO>ZTl2_1Kf;fpagRFY1^)dW<>E(pgO_)IY"
    "3z&3>yK3&egLC*(O3"
)


@functools.cache
def spans() -> str:
    """The table: one character per month of the 400-year cycle."""
    return zlib.decompress(base64.b85decode(_SPANS)).decode("ascii")


def _n(value: int) -> exp.Expr:
    return exp.Neg(this=exp.Literal.number(-value)) if value < 0 else exp.Literal.number(value)


def _zero(months: exp.Expr) -> bool:
    """Are these months 0 (or NULL) in every row: a literal 0, or a date difference's months
    (CASE WHEN days IS NULL THEN NULL ELSE 0 END)?"""
    if isinstance(months, exp.Paren):
        return _zero(months.this)
    if isinstance(months, exp.Literal):
        return months.is_int and int(months.this) == 0
    if isinstance(months, exp.Case) and months.args.get("default") is not None:
        return all(isinstance(i.args.get("true"), exp.Null) for i in months.args.get("ifs", [])) and _zero(
            months.args["default"])
    return False


def _literal(e: exp.Expr) -> int | None:
    if isinstance(e, exp.Paren):
        return _literal(e.this)
    if isinstance(e, exp.Literal) and e.is_int:
        return int(e.this)
    if isinstance(e, exp.Neg):
        inner = _literal(e.this)
        return None if inner is None else -inner
    return None


_CODE = "__span_code"  # a lambda's variable (no fact's column is named so)


def _paren(e: exp.Expr) -> exp.Expr:
    return exp.Paren(this=e)


def _residue(k: exp.Expr) -> exp.Expr:
    """r in k = 4800 c + r, 0 <= r < 4800 (SQL's % takes the sign of k)."""
    return _paren(exp.Mod(this=_paren(exp.Add(this=exp.Mod(this=_paren(k), expression=_n(_CYCLE_MONTHS)),
                                              expression=_n(_CYCLE_MONTHS))), expression=_n(_CYCLE_MONTHS)))


def _code(k: exp.Expr) -> exp.Expr:
    """The table's character for k months, as a number."""
    return exp.Sub(this=exp.Unicode(this=exp.Substring(this=exp.Literal.string(spans()), start=exp.Add(
        this=_residue(k), expression=_n(1)), length=_n(1))), expression=_n(48))


def _span(k: exp.Expr, code: exp.Expr) -> tuple[exp.Expr, exp.Expr]:
    """(fewest, most) days that k months span, given the table's `code` for k."""
    r = _residue(k)
    cycles = exp.Mul(this=exp.IntDiv(this=_paren(exp.Sub(this=_paren(k), expression=r)),
                                     expression=_n(_CYCLE_MONTHS)), expression=_n(_CYCLE_DAYS))
    base = exp.IntDiv(this=exp.Mul(this=r, expression=_n(_CYCLE_DAYS)), expression=_n(_CYCLE_MONTHS))
    fewest = _paren(exp.Sub(this=exp.Add(this=cycles, expression=base),
                            expression=exp.IntDiv(this=code, expression=_n(7))))
    return fewest, _paren(exp.Add(this=fewest, expression=exp.Mod(this=code, expression=_n(7))))


_DAYS_OPS = {"=": exp.EQ, "!=": exp.NEQ, "<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE}


def compare(op: str, a: tuple[exp.Expr, exp.Expr], b: tuple[exp.Expr, exp.Expr]) -> exp.Expr:
    """a op b for durations a = (months, days) and b: TRUE, FALSE, or NULL (it depends on the date)."""
    (a_months, a_days), (b_months, b_days) = a, b
    if _zero(a_months) and _zero(b_months):  # days alone: their own comparison
        return exp.Paren(this=_DAYS_OPS[op](this=a_days, expression=b_days))
    k = exp.Sub(this=exp.Paren(this=a_months), expression=exp.Paren(this=b_months))
    delta = exp.Paren(this=exp.Sub(this=exp.Paren(this=b_days), expression=exp.Paren(this=a_days)))
    a_known, b_known = _literal(a_months), _literal(b_months)
    constant = a_known is not None and b_known is not None
    if a_known is not None and b_known is not None:  # (`constant`, told to the type checker)
        low, high = (_n(v) for v in month_span(a_known - b_known))
    else:  # (the table's character looked up once, a lambda's variable: the table is long)
        low, high = _span(k, exp.column(_CODE))
    true, false = exp.Boolean(this=True), exp.Boolean(this=False)
    yes: exp.Expr
    no: exp.Expr
    match op:
        case "<":
            yes, no = exp.LT(this=high, expression=delta), exp.GTE(this=low, expression=delta)
        case "<=":
            yes, no = exp.LTE(this=high, expression=delta), exp.GT(this=low, expression=delta)
        case ">":
            yes, no = exp.GT(this=low, expression=delta), exp.LTE(this=high, expression=delta)
        case ">=":
            yes, no = exp.GTE(this=low, expression=delta), exp.LT(this=high, expression=delta)
        case "=" | "!=":
            yes = exp.and_(exp.EQ(this=low, expression=delta), exp.EQ(this=high, expression=delta))
            no = exp.or_(exp.LT(this=delta, expression=low), exp.GT(this=delta, expression=high))
            if op == "!=":
                yes, no = no, yes
        case _:
            raise ValueError(op)
    test = exp.Case().when(yes, true, copy=False).when(no, false, copy=False)
    if constant:
        return test
    bound = exp.Transform(this=exp.Array(expressions=[_code(k)]), expression=exp.Lambda(
        this=test, expressions=[exp.to_identifier(_CODE)]))
    return exp.Bracket(this=bound, expressions=[_n(1)], offset=1, safe=True)


__all__ = ["compare", "spans"]
