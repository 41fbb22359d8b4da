"""Reading a duration cell in SQL: its text -> (days, months), exactly as engine/lang/values.py reads it.

Takes a duration fact and its cell's string (a CSV cell, or a JSON string's content; NULL for
any other JSON value) and gives sqlglot expressions: the days and the months, both BIGINT
(NULL where the cell gives none), and the cell's error in Python's words (values.py's
`parse_duration`, fact_values.py's `convert`). Read: '6 weeks', '1 Year', several parts in any
order ('1 year 2 months', '2 months 10 days', '1year'), ISO 8601 in full ('P1Y2M3W4D', 'PT48H':
a time part must come to whole days), spaces around; digits and spaces as Python's `\\d` and
`\\s` take them (Arabic-Indic '٣' is 3, a no-break space a space). The SQL engines hold a
duration of at most 15 digits in each amount, and 15 digits of months and 16 of days in all
(so that sums of a few, and the days their comparisons work out, engine/evaluation/sql_months.py,
stay in BIGINT): a cell beyond is an error saying so, where Python reads it. Not here: other cells
(engine/inputs/sql_cells.py), the query's layers (engine/inputs/sql_stage.py).

The common cell ('42 days') is read by one regular expression; any other by the full reading,
which a CASE computes only for such cells. The regular expressions have no nested repetition
and no lookaround (RE2 in DuckDB has none; Java's, in Spark, recurses on each repetition of a
group), and the structure is tested on the text with every run of digits made one digit, so
that no cell makes Java's backtracking slow.
"""

from __future__ import annotations

import functools
import unicodedata

from sqlglot import exp

from ..evaluation.sql import _and, _is_null, _n, _not, _or, _s
from ..evaluation.sql_decide import _concat, shortened
from ..lang import ir
from ..lang.values import DURATION_UNITS, NOT_A_DURATION, NOT_WHOLE_DAYS
from .rows import SPACE

# the SQL engines' limits: digits in an amount; months and days in all
DIGITS, MOST_MONTHS, MOST_DAYS = 15, 10 ** 15 - 1, 10 ** 16 - 1
# the unit words (values.DURATION_UNITS: each alone and with an 's')
_UNITS = tuple(dict.fromkeys(word.removesuffix("s") for word in DURATION_UNITS))
assert {w for u in _UNITS for w in (u, u + "s")} == set(DURATION_UNITS)
# the common cell: one amount and a word (spaces ASCII ones, which every engine's \s takes)
_COMMON = r"^\s*([0-9]{1,15})\s*([A-Za-z]+)\s*$"
_MOST_YEARS = MOST_MONTHS // 12
_U = "__duration_u"  # the lambda's variable (a fact's column is never named so: no fact's name starts __)


@functools.cache
def _unicode() -> tuple[str, str, str]:
    """(the digits Python's `\\d` and int() read besides 0-9, the ASCII digit of each, and a
    character class of the spaces Python's `\\s` and `strip` take), from this Python's Unicode."""
    digits = [c for c in map(chr, range(0x80, 0x110000)) if c.isdecimal()]
    runs: list[list[int]] = []  # the spaces as runs of code points: [\x{9}-\x{d}\x{1c}-\x{20}...]
    for code in map(ord, SPACE):
        if runs and runs[-1][1] == code - 1:
            runs[-1][1] = code
        else:
            runs.append([code, code])
    ranges = "".join(f"\\x{{{a:x}}}" + (f"-\\x{{{b:x}}}" if b > a else "") for a, b in runs)
    return "".join(digits), "".join(str(unicodedata.decimal(c)) for c in digits), f"[{ranges}]"


def _patterns() -> dict[str, str]:
    w = _unicode()[2]
    n = "([0-9]+)"
    return {
        # ISO 8601 in full, spaces around (groups: years, months, weeks, days, hours, minutes,
        # seconds, their decimals); 'P' alone and a 'T' with nothing after it are refused apart
        "iso": f"^{w}*P(?:{n}Y)?(?:{n}M)?(?:{n}W)?(?:{n}D)?(?:T(?:{n}H)?(?:{n}M)?(?:{n}(?:[.,]{n})?S)?)?{w}*$",
        "iso_empty": f"(?:^{w}*P|T){w}*$",
        # parts: an amount and a word, the word's letters all of them ('1 dayss' is no part)
        "part": f"[0-9]+{w}*[A-Za-z]+",
        "word": f"[0-9]{w}*([A-Za-z]+)",
        "spaces": f"^{w}*$",
        "starts": f"^{w}*[0-9]",
        **{unit: f"([0-9]+){w}*" + "".join(f"[{c.upper()}{c}]" for c in unit) for unit in _UNITS},
    }


def _like(text, pattern: str) -> exp.Expr:
    return exp.RegexpLike(this=text, expression=_s(pattern))


def _group(text, pattern: str, group: int) -> exp.Expr:
    return exp.Nullif(this=exp.RegexpExtract(this=text, expression=_s(pattern), group=_n(group)),
                      expression=_s(""))


def _cast(e: exp.Expr, to: str) -> exp.Expr:
    return exp.TryCast(this=e, to=exp.DataType.build(to))


class DurationCell:
    """A duration fact's cell: `value()` (days, months) and `error()`, from its string `text`;
    `known`: is the cell there at all (a JSON number is, with no string); `shown`: the cell as
    a message shows it."""

    def __init__(self, fact: ir.Fact, text: exp.Expr, shown: exp.Expr, known: exp.Expr, dialect: str):
        self.who, self.text, self.shown, self.known, self.dialect = f"'{fact.id}'", text, shown, known, dialect
        self.p = _patterns()
        # the text with Python's other digits as 0-9 (a lambda's variable: `_bound`); then with each
        # run of digits one digit, the text its form is tested on (each test linear in Java too)
        self.u = exp.column(_U)
        self.shape = exp.RegexpReplace(this=self.u, expression=_s("[0-9]+"), replacement=_s("0"))

    def _bound(self, body: exp.Expr) -> exp.Expr:
        """`body` for the text with Python's other digits as 0-9, translated once: the full reading
        reads it twenty times, and the table of digits is long (a lambda over a one-element list)."""
        digits, ascii_digits, _ = _unicode()
        translated = exp.Translate(this=self.text, from_=_s(digits), to=_s(ascii_digits))
        mapped = exp.Transform(this=exp.Array(expressions=[translated]), expression=exp.Lambda(
            this=body, expressions=[exp.to_identifier(_U)]))
        return exp.Bracket(this=mapped, expressions=[_n(1)], offset=1, safe=True)

    # ---- the form ---------------------------------------------------------------------------
    def _iso(self) -> exp.Expr:
        return _and(_like(self.shape, self.p["iso"]), _not(_like(self.shape, self.p["iso_empty"])))

    def _parts(self) -> exp.Expr:
        """Amounts and words from start to end, each word a unit of values.DURATION_UNITS."""
        rest = exp.RegexpReplace(this=self.shape, expression=_s(self.p["part"]), replacement=_s(""))
        words = exp.RegexpExtractAll(this=self.shape, expression=_s(self.p["word"]), group=_n(1))
        x = exp.to_identifier("x")
        units = [_s(u) for unit in _UNITS for u in (unit, unit + "s")]
        odd = exp.ArrayFilter(this=words, expression=exp.Lambda(
            this=_not(exp.In(this=exp.Lower(this=exp.column("x")), expressions=units)), expressions=[x]))
        return _and(_like(self.shape, self.p["starts"]), _like(rest, self.p["spaces"]),
                    exp.EQ(this=exp.ArraySize(this=odd), expression=_n(0)))

    def _too_long(self) -> exp.Expr:
        """An amount of more than 15 digits, zeros before it aside (a second's decimals, only tested to be
        zeros, aside too)."""
        amounts = exp.RegexpReplace(this=self.u, expression=_s("[.,][0-9]+"), replacement=_s(""))
        return _like(amounts, "[1-9][0-9]{%d}" % DIGITS)

    # ---- the amounts ------------------------------------------------------------------------
    def _iso_part(self, group: int) -> exp.Expr:
        return exp.Coalesce(this=_cast(_group(self.u, self.p["iso"], group), "BIGINT"), expressions=[_n(0)])

    def _iso_seconds(self) -> exp.Expr:
        """The time part in seconds (each amount of at most 15 digits: at most 3.7 * 10^18)."""
        return exp.Paren(this=exp.Add(this=exp.Add(this=exp.Mul(this=self._iso_part(5), expression=_n(3600)),
                                                   expression=exp.Mul(this=self._iso_part(6), expression=_n(60))),
                                      expression=self._iso_part(7)))

    def _sum(self, unit: str) -> exp.Expr:
        """The amounts of one unit's parts, summed (as DECIMAL(38, 0): any number of parts)."""
        amounts = exp.RegexpExtractAll(this=self.u, expression=_s(self.p[unit]), group=_n(1))
        x, total = exp.to_identifier("x"), exp.to_identifier("total")
        exact = exp.DataType.build("DECIMAL(38, 0)")
        numbers = exp.Transform(this=amounts, expression=exp.Lambda(
            this=exp.Cast(this=exp.column("x"), to=exact), expressions=[x]))
        return exp.Reduce(this=numbers, initial=exp.Cast(this=_n(0), to=exact), merge=exp.Lambda(
            this=exp.Add(this=exp.column("total"), expression=exp.column("x")), expressions=[total, x]))

    def _full(self) -> tuple[exp.Expr, exp.Expr]:
        """(days, months) by the full reading: NULL for a cell that is no duration, or beyond the limits."""
        iso, parts = self._iso(), self._parts()
        iso_days = exp.Add(this=exp.Add(this=exp.Mul(this=self._iso_part(3), expression=_n(7)),
                                        expression=self._iso_part(4)),
                           expression=exp.IntDiv(this=self._iso_seconds(), expression=_n(86400)))
        iso_months = exp.Add(this=exp.Mul(this=self._iso_part(1), expression=_n(12)), expression=self._iso_part(2))
        parts_days = exp.Add(this=self._sum("day"), expression=exp.Mul(this=self._sum("week"), expression=_n(7)))
        parts_months = exp.Add(this=self._sum("month"), expression=exp.Mul(this=self._sum("year"), expression=_n(12)))
        whole = _and(_not(_like(self.u, "[.,][0-9]*[1-9]")),
                     exp.EQ(this=exp.Mod(this=self._iso_seconds(), expression=_n(86400)), expression=_n(0)))

        def held(e: exp.Expr, most: int) -> exp.Expr:
            return exp.Cast(this=exp.Case().when(exp.LTE(this=e, expression=_n(most)), e, copy=False),
                            to=exp.DataType.build("BIGINT"))
        # a cell's months are given only beside its days (engine/evaluation/sql.py): both held, or
        # neither; a CASE, so that the amounts are read only from a cell of the right form and
        # digits (what decides a CASE is computed in order, in both engines)
        def reading(iso_value: exp.Expr, parts_value: exp.Expr, most: int) -> exp.Expr:
            return (exp.Case().when(self._too_long(), exp.Cast(this=exp.Null(), to=exp.DataType.build("BIGINT")),
                                    copy=False)
                    .when(iso, exp.Case().when(_and(whole, exp.LTE(this=iso_months, expression=_n(MOST_MONTHS))),
                                               held(iso_value, most), copy=False), copy=False)
                    .when(parts, exp.Case().when(exp.LTE(this=parts_months, expression=_n(MOST_MONTHS)),
                                                 held(parts_value, most), copy=False), copy=False))
        return (self._bound(reading(iso_days, parts_days, MOST_DAYS)),
                self._bound(reading(iso_months, parts_months, MOST_MONTHS)))

    # ---- the products -----------------------------------------------------------------------
    def value(self) -> tuple[exp.Expr, exp.Expr]:
        """(days, months): the common cell by one regular expression, any other by the full reading."""
        amount = _cast(_group(self.text, _COMMON, 1), "BIGINT")
        word = exp.Lower(this=_group(self.text, _COMMON, 2))

        def unit(*names: str) -> exp.Expr:
            return exp.In(this=word, expressions=[_s(w) for n in names for w in (n, n + "s")])
        years = _and(unit("year"), exp.LTE(this=amount, expression=_n(_MOST_YEARS)))
        full_days, full_months = self._full()
        days = (exp.Case().when(unit("day"), amount, copy=False)
                .when(unit("week"), exp.Mul(this=amount, expression=_n(7)), copy=False)
                .when(_or(unit("month"), years), _n(0), copy=False).else_(full_days))
        months = (exp.Case().when(unit("day", "week"), _n(0), copy=False).when(unit("month"), amount, copy=False)
                  .when(years, exp.Mul(this=amount, expression=_n(12)), copy=False).else_(full_months))
        return days, months

    def error(self) -> exp.Expr:
        """Why a cell that is there gives no duration, in Python's words; or the SQL engines' limit."""
        def said(words: str) -> exp.Expr:  # fact_values.py: f"{who}: {_printable(str(exc))}"
            return _concat(f"{self.who}: ", shortened(_concat("'", self.text, f"' {words}"), self.dialect))
        limit = _concat(f"{self.who} is '", shortened(self.text, self.dialect),
                        f"': more digits than the SQL engines hold exactly ({DIGITS} in an amount; in all, "
                        f"{len(str(MOST_MONTHS))} in months and {len(str(MOST_DAYS))} in days); "
                        "evaluate this cohort with --engine python")
        iso = self._iso()
        why = (exp.Case()
               .when(_not(_or(iso, self._parts())), said(NOT_A_DURATION), copy=False)
               .when(_and(iso, _like(self.u, "[.,][0-9]*[1-9]")), said(NOT_WHOLE_DAYS), copy=False)
               .when(self._too_long(), limit, copy=False)
               .when(_and(iso, exp.NEQ(this=exp.Mod(this=self._iso_seconds(), expression=_n(86400)),
                                       expression=_n(0))), said(NOT_WHOLE_DAYS), copy=False)
               .else_(limit))
        return (exp.Case()
                .when(_and(self.known, _is_null(self.text)), _concat(f"{self.who} is a duration, not ", self.shown),
                      copy=False)
                .else_(self._bound(why)))


__all__ = ["DurationCell"]
