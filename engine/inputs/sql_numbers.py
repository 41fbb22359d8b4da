"""Reading a number cell in SQL, exactly: its text -> a BIGINT or a DECIMAL(38, 18), never rounded.

Takes a number fact and its cell (JSON text, or a CSV cell's text); gives the expressions
engine/inputs/sql_stage.py puts in its layers: a cheap reading of the common cell, the
full reading of the cells it misses (a quantity in the fact's unit, an exponent), the value,
and the error worded as engine/lang/fact_values.py words it. A number SQL cannot hold
exactly is its row's error, saying so. Not here: the layers themselves, other facts' cells
(engine/inputs/sql_cells.py).
"""

from __future__ import annotations

from sqlglot import exp

from ..evaluation.sql import NUMBER, _and, _col, _not, _is_null, _n, _or, _s
from ..evaluation.sql_decide import _concat, number_text
from ..lang import ir
from .sql_cells import Cells, _like, _text, _try
from .sql_durations import _group

# a number as JSON writes one; without an exponent, as a decimal's cheap reading takes it
_JSON_NUMBER = r"^-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?$"
_SHORT_DECIMAL = r"^-?(0|[1-9]\d*)(\.\d+)?$"
# a number and its unit, as engine/lang/values.py's `parse_quantity` reads them (groups: amount, unit)
_QUANTITY = r"^\s*(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*(%|[A-Za-z][A-Za-z0-9]*)?\s*$"
# a number's decimals, its last zeros dropped; the last zeros of a number with no other decimal
_DECIMALS = r"^-?\d*\.?(\d*?)0*(?:[eE][-+]?\d+)?$"
_ZEROS = r"^-?\d*?(0*)(?:\.0*)?(?:[eE][-+]?\d+)?$"


class NumberCell:
    """A number cell, or a quantity in the fact's unit ('31 %'), as an exact decimal (NUMBER)
    or a BIGINT, read in layers (sql_stage.Stage.query): `cheap` reads the common cell by one cast (digits
    alone for a whole number; for a decimal, no exponent and at most 19 characters, so at most
    18 decimals); for a cell it misses, `first` gives the number's text (`__w`: a number as JSON
    writes one, or the amount of a quantity in the right unit), `second` reads that text as
    BIGINT and NUMBER, and `value` holds it to the number the text is. A number SQL cannot hold
    exactly (more than 18 decimals, or beyond NUMBER's or BIGINT's range) is its row's error,
    never rounded. In JSON, a string is never a number (only a quantity: "31 %"); in CSV, a
    cell is a number when it is written as JSON writes one ('+3', '03' and '3.' are text), as
    engine/inputs/cohort.py's `from_csv` reads it."""

    def __init__(self, fact: ir.Fact, stage: Cells, name: str):
        assert isinstance(fact.type, ir.NumberType)
        self.fact, self.name, self.dialect, self.csv = fact, name, stage.dialect, stage.kind == "csv"
        self.integer, self.unit = fact.type.integer, fact.type.unit
        self.text = _col(name + "__text")
        # the text of a string cell (NULL for a JSON number): as a column (`__s`) once the layers
        # have it, the expression being long, and used many times
        self.string: exp.Expr = stage._string(self.text)
        self.shown = stage._shown(self.text)
        self.written = _col(name + "__w")
        self.as_int, self.number, self.exact = _col(name + "__int"), _col(name + "__num"), _col(name + "__exact")
        self.helpers = [name + h for h in (("__s", "__w", "__int", "__num", "__exact") if self.integer
                                           else ("__s", "__w", "__num", "__exact"))]

    def cheap(self, text: exp.Expr) -> exp.Expr:
        """The common cell's value by one cast; NULL for an unknown cell (a third of them: it tries
        nothing). A whole number's cast is the layer's column `<fact>__big`."""
        if self.integer:
            # DuckDB's cast rounds '3.5' to 4 and '3.0000000000000000001' to 3, and reads '0x10' as
            # 16: only a text that is the number as SQL writes it back (the cheapest test measured;
            # a JSON string, quoted, is no number: the cast refuses it)
            as_big = _col(self.name + "__big")
            return exp.Case().when(exp.EQ(this=_text(as_big), expression=text), as_big, copy=False)
        elif self.csv:  # DuckDB's cast reads '+3', '03', '3.', '.5' and '1_0' too, which are text
            fast = exp.Case().when(_and(exp.LTE(this=exp.Length(this=text), expression=_n(19)),
                                        _like(text, _SHORT_DECIMAL)), _try(text, NUMBER), copy=False)
        else:  # a JSON number as the engine's JSON reader writes it, or other JSON the cast refuses
            short = exp.LTE(this=exp.Length(this=text), expression=_n(19))
            marks = "e" if self.dialect == "duckdb" else "eE"  # (DuckDB writes an exponent 'e', 1e-05)
            fast = exp.Case().when(_and(short, *[exp.StrPosition(this=text, substr=_s(c)).eq(0) for c in marks]),
                                   _try(text, NUMBER), copy=False)
        return fast  # (NULL for an unknown cell: its tests are NULL, no CASE around them needed)

    def _quantity(self) -> tuple[exp.Expr, exp.Expr, exp.Expr, exp.Expr]:
        """(is the string a quantity, its amount's text, its unit, is that the fact's unit)."""
        is_quantity = _like(self.string, _QUANTITY)
        amount_text = _group(self.string, _QUANTITY, 1)
        given_unit = _group(self.string, _QUANTITY, 2)
        unit_ok = exp.EQ(this=given_unit, expression=_s(self.unit)) if self.unit else exp.Boolean(this=False)
        return is_quantity, amount_text, given_unit, unit_ok

    def first(self) -> list[exp.Expr]:
        """`__s` and `__w`, for a known cell the cheap reading missed: its string, and the
        number's text (NULL when it is none)."""
        missed = _and(_is_null(_col(self.name)), _not(_is_null(self.text)))
        is_quantity, amount_text, _, unit_ok = self._quantity()
        written = exp.Case().when(_like(self.text, _JSON_NUMBER), self.text, copy=False).when(
            _and(unit_ok, is_quantity), amount_text, copy=False)
        string = exp.alias_(exp.Case().when(missed, self.string, copy=False), self.name + "__s", quoted=True)
        self.string = _col(self.name + "__s")  # (what the layers after this one read)
        return [string, exp.alias_(exp.Case().when(missed, written, copy=False), self.name + "__w", quoted=True)]

    def second(self) -> list[exp.Expr]:
        """`__int` (whole numbers: digits alone read as BIGINT at once, DuckDB's cast would round
        '3.5'), `__num` and `__exact`, from `__w`."""
        exact = exp.alias_(self._exact(), self.name + "__exact", quoted=True)
        if not self.integer:
            return [exp.alias_(_try(self.written, NUMBER), self.name + "__num", quoted=True), exact]
        digits = _and(*[exp.StrPosition(this=self.written, substr=_s(c)).eq(0) for c in ".eE"])
        as_int = exp.Case().when(digits, _try(self.written, "BIGINT"), copy=False)
        return [exp.alias_(as_int, self.name + "__int", quoted=True),
                exp.alias_(exp.Case().when(_is_null(as_int), _try(self.written, NUMBER), copy=False),
                           self.name + "__num", quoted=True), exact]

    def _exact(self) -> exp.Expr:
        """Does NUMBER hold the written number exactly: at most 18 decimals once its exponent is
        applied and its last zeros dropped ('1.4e-18' has 19: the cast would round it to 1E-18)?"""
        decimals = _group(self.written, _DECIMALS, 1)  # the digits after the point, its last zeros dropped
        zeros = _group(self.written, _ZEROS, 1)  # the whole part's last zeros, when it has no other decimal
        exponent_text = _group(self.written, r"[eE]([-+]?\d+)$", 1)
        exponent = _try(exponent_text, "BIGINT")
        places = exp.Sub(this=exp.Sub(this=exp.Coalesce(this=exp.Length(this=decimals), expressions=[_n(0)]),
                                      expression=exp.Coalesce(this=exponent, expressions=[_n(0)])),
                         expression=exp.Coalesce(this=exp.Length(this=zeros), expressions=[_n(0)]))
        return _and(_or(_is_null(exponent_text), _not(_is_null(exponent))), exp.LTE(this=places, expression=_n(18)))

    def _whole(self) -> exp.Expr:
        # (compared as NUMBERs: Spark compares DECIMAL(38, 18) with FLOOR's DECIMAL(21, 0) as DECIMAL(38, 17))
        floor = exp.Cast(this=exp.Floor(this=self.number), to=exp.DataType.build(NUMBER))
        return exp.Case().when(_not(_is_null(self.as_int)), exp.Boolean(this=True), copy=False).else_(
            exp.EQ(this=self.number, expression=floor))

    def _big(self) -> exp.Expr:
        return exp.Coalesce(this=self.as_int, expressions=[_try(self.number, "BIGINT")])

    def value(self) -> exp.Expr:
        """The value of a cell the cheap reading missed (NULL for the others)."""
        if self.integer:
            return exp.Case().when(_not(_is_null(self.as_int)), self.as_int, copy=False).when(
                _and(self._whole(), self.exact), self._big(), copy=False)
        return exp.Case().when(self.exact, self.number, copy=False)

    def _short_number(self) -> exp.Expr:
        """The number as fact_values.py's `_short_number` writes it: as written, without an
        exponent, cut after 24 characters when longer than 30."""
        plain = exp.Case().when(_like(self.written, _SHORT_DECIMAL), self.written,
                                copy=False).else_(number_text(self.number, self.dialect))
        size = exp.Length(this=plain)
        return exp.Case().when(exp.GT(this=size, expression=_n(30)), _concat(
            exp.Substring(this=plain, start=_n(1), length=_n(24)), "… (", _text(size), " characters)"),
            copy=False).else_(plain)

    def error(self) -> exp.Expr:
        """Why a known cell gave no value, worded as engine/lang/fact_values.py words it."""
        who = f"'{self.fact.id}'"
        kind = "a whole number" if self.integer else "a number"
        in_unit = f" in {self.unit}" if self.unit else ""
        shown, unit = self.shown, self.unit
        is_quantity, _, given_unit, unit_ok = self._quantity()
        held = (_or(_not(_is_null(self.as_int)), _not(_is_null(self.number))) if self.integer
                else _not(_is_null(self.number)))
        given = exp.Coalesce(this=self.string, expressions=[self.text])
        too_big = _concat(f"{who} is ", given, ": more digits than the SQL engines hold exactly (",
                          "a whole number up to 9223372036854775807)" if self.integer else
                          "20 before the point, 18 after)", "; evaluate this cohort with --engine python")
        number = _not(_is_null(self.written))
        error = exp.Case().when(_is_null(self.text), exp.Null(), copy=False).when(
            _and(number, _or(_not(held), _not(self.exact))), too_big, copy=False)
        if self.integer:
            error = error.when(_and(number, _not(self._whole())),
                               _concat(f"{who} is a whole number, not ", self._short_number()), copy=False)
            error = error.when(_and(number, _is_null(self._big())), too_big, copy=False)
        string = _not(_is_null(self.string))
        # (the value shown once in the expression: it is long, and written out for every fact)
        said = exp.Case().when(_and(string, is_quantity, _is_null(given_unit)), _s(f"{who} is {kind}, not the text "),
                               copy=False).else_(_s(f"{who} is {kind}{in_unit}, not "))
        return (error.when(number, exp.Null(), copy=False)
                .when(_and(string, is_quantity, _not(_is_null(given_unit)), _not(unit_ok)),
                      _concat(f"{who} is measured in {repr(unit) if unit else 'no unit'}, not '", given_unit, "'"),
                      copy=False)
                .else_(_concat(said, shown)))


__all__ = ["NumberCell"]
