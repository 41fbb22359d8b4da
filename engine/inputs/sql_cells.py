"""Reading one cell in SQL: its text -> the fact's typed value, and why it gives none.

Takes a fact and a cell's text as the raw table holds it: JSON text (JSON Lines, Parquet or
table columns: a string quoted, so "3" is told from 3 as Python tells them) or a CSV cell's
text (engine/inputs/cohort.py's `from_csv`: yes-no as true/false, a set's values separated
by '|'). Returns sqlglot expressions: the yes-no, enum value, set, date or duration, and the
error worded as engine/lang/fact_values.py words it (a value shown as its `_show` shows
one: text quoted and cut after 80 characters, a mapping as 'a mapping', a list as Python
writes one). A JSON set whose text may hold an element that is not a string is looked at
element by element. Not here: numbers (engine/inputs/sql_numbers.py), durations' readings
(engine/inputs/sql_durations.py), the query's layers
(engine/inputs/sql_stage.py).
"""

from __future__ import annotations

from sqlglot import exp

from ..evaluation.sql import _and, _not, _is_null, _n, _or, _s
from ..evaluation.sql_decide import _choices, _concat, _text, shortened
from ..lang import ir
from .sql_durations import DurationCell, _like
from .sql_durations import _cast as _try


class Cells:
    """How one dialect reads the cells of one kind of raw table."""

    def __init__(self, facts: dict[str, ir.Fact], dialect: str, kind: str):
        # kind: line (one JSON object per row), csv (CSV cells), value (columns as JSON text),
        # fields (a JSON object's fields as JSON text, read by the engine's JSON reader, with
        # the row's own `error` beside them)
        self.facts, self.dialect, self.kind = facts, dialect, kind

    def _quoted(self, text) -> exp.Expr:
        """Is this JSON text a string?"""
        return exp.Like(this=text, expression=_s('"%'))

    def _unquoted(self, text, fast: bool = False) -> exp.Expr:
        """A JSON string's content, read by the engine's JSON functions; `fast`: its quotes taken
        off where it has no escape (0.02 s less a million cells in DuckDB, for a value; a message
        takes the shorter expression, the query's text being written out for every fact)."""
        decoded = exp.Anonymous(this="json_extract_string" if self.dialect == "duckdb" else "get_json_object",
                                expressions=[text, _s("$")])
        if not fast:
            return decoded
        inner = exp.Substring(this=text, start=_n(2), length=exp.Sub(this=exp.Length(this=text), expression=_n(2)))
        return exp.Case().when(exp.StrPosition(this=text, substr=_s("\\")).eq(0), inner, copy=False).else_(decoded)

    def _string(self, text, fast: bool = False) -> exp.Expr:
        """The text a cell gives as a string: a CSV cell's text; a JSON string's content (NULL for
        any other JSON value)."""
        if self.kind == "csv":
            return text
        return exp.Case().when(self._quoted(text), self._unquoted(text, fast), copy=False)

    def _json_list(self, text) -> exp.Expr:
        if self.dialect == "duckdb":
            return exp.TryCast(this=exp.Cast(this=text, to=exp.DataType.build("JSON")),
                               to=exp.DataType.build("VARCHAR[]"))
        return exp.Anonymous(this="from_json", expressions=[text, _s("array<string>")])

    def _split(self, text) -> exp.Expr:
        parts = exp.Split(this=text, expression=_s("|"))
        x = exp.to_identifier("x")
        trimmed = exp.Transform(this=parts, expression=exp.Lambda(this=exp.Trim(this=exp.column("x")),
                                                                   expressions=[x]))
        return exp.ArrayFilter(this=trimmed, expression=exp.Lambda(
            this=exp.NEQ(this=exp.column("x"), expression=_s("")), expressions=[x]))

    def cell(self, fact: ir.Fact, text: exp.Expr, string: exp.Expr | None = None):
        """(typed value, error text, months or None) of one cell; NULL text is unknown. `string`:
        the cell's string (`_string`), when a layer has it."""
        string = string if string is not None else self._string(text, fast=True)
        who = f"'{fact.id}'"
        json = self.kind != "csv"
        shown = self._shown(text)
        known = _not(_is_null(text))
        match fact.type:
            case ir.BoolType():
                word = text if json else exp.Lower(this=text)
                ok = exp.In(this=word, expressions=[_s("true"), _s("false")])
                # CASE word WHEN 'true' ...: one compare for a true cell (0.030 to 0.022 s a million)
                value = exp.Case(this=word).when(_s("true"), exp.Boolean(this=True), copy=False).when(
                    _s("false"), exp.Boolean(this=False), copy=False)
                return value, exp.Case().when(_and(known, _not(ok)),
                                              _concat(f"{who} is true or false, not ", shown), copy=False), None
            case ir.NumberType():
                raise AssertionError("a number is read by sql_numbers.NumberCell, in layers")
            case ir.EnumType(values=values):
                not_listed = _concat("'", shortened(self._unquoted(text) if json else text, self.dialect),
                                     f"' is not a value of {who}; expected one of {_choices(values)}")
                if self.dialect == "duckdb":
                    # DuckDB's ENUM: the lowering's tests of the value (`= 'none'`, the row error's
                    # check that it is listed) compare small integers, not texts (0.022 s a fact and a
                    # million rows for the check, 0.009 for each `=`). A value not listed is NULL, so
                    # its error is said here, in the lowering's words (engine/evaluation/sql_decide.py).
                    enum = exp.DataType(this=exp.DataType.Type.ENUM, expressions=[_s(v) for v in values])
                    listed: list[tuple[str, exp.Expr]] = [(v, exp.Cast(this=_s(v), to=enum)) for v in values]
                else:
                    listed = [(v, _s(v)) for v in values]
                if not json:
                    if self.dialect == "duckdb":
                        return exp.TryCast(this=text, to=enum), not_listed, None
                    return text, exp.Cast(this=exp.Null(), to=exp.DataType.build("VARCHAR")), None
                # a JSON string that is listed, compared as JSON text (JSON writes a listed value,
                # a name, as itself in quotes): as cheap as DuckDB's cast to its ENUM, and no unquoting
                case = exp.Case(this=text)
                for v, typed in listed:
                    case = case.when(_s(f'"{v}"'), typed, copy=False)
                return case, exp.Case().when(self._quoted(text), not_listed, copy=False).else_(
                    _concat(f"{who} is one of {_choices(values)}, not ", shown)), None
            case ir.SetType(values=values):
                if json:
                    return self._json_set(fact, tuple(values), text, shown)
                return self._split(text), exp.Cast(this=exp.Null(), to=exp.DataType.build("VARCHAR")), None
            case ir.DateType():
                # a cast, held to the text it came from: only YYYY-MM-DD dates that exist (ten characters:
                # the engines write a year past 9999 back as it came, '12025-01-01', which Python refuses);
                # in JSON, a string (20240301 is a number, not a date)
                written = string
                cast = _try(written, "DATE")
                parsed = exp.Case().when(_and(exp.EQ(this=_text(cast), expression=written),
                                              exp.EQ(this=exp.Length(this=written), expression=_n(10)),
                                              _not(exp.Like(this=written, expression=_s("0000%")))), cast, copy=False)
                # written as a date but no day of the calendar (2024-02-30, 0000-01-01): said so, as
                # fact_values.py and the rule files say it
                unreal = _concat(f"{who}: ", shown, " is not a calendar date")
                return parsed, exp.Case().when(_and(known, _is_null(parsed)), exp.Case().when(
                    _like(written, r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"), unreal, copy=False).else_(
                    _concat(f"{who} is a date (YYYY-MM-DD), not ", shown)), copy=False), None
            case ir.DurationType():
                return self._duration(fact, string, shown, known)
        raise AssertionError(fact.type)

    def _shown(self, text) -> exp.Expr:
        """A value in a message as fact_values.py's `_show` writes it: text quoted and cut after 80
        characters, numbers bare, a list as Python writes one, an object as 'a mapping'. Only a
        message's CASE branch computes it: a cell that reads costs nothing here."""
        if self.kind == "csv":  # a cell quoted over lines: its line ends escaped, as case.py shows them
            return _concat("'", shortened(text, self.dialect), "'")
        return (exp.Case().when(self._quoted(text), _concat(
            "'", shortened(self._unquoted(text), self.dialect), "'"), copy=False)
                .when(exp.Like(this=text, expression=_s("{%")), _s("a mapping"), copy=False)
                .when(exp.Like(this=text, expression=_s("[%")), _python_list(text), copy=False)
                .else_(text))  # a number, true or false

    def _elements(self, text) -> tuple[exp.Expr, exp.Expr]:
        """(a JSON list's elements, a lambda body's JSON text of element `x`: NULL or 'null' for null)."""
        if self.dialect == "duckdb":
            elements = _try(_try(text, "JSON"), "JSON[]")
            return elements, _text(exp.column("x"))
        variants = exp.Anonymous(this="from_json", expressions=[text, _s("array<variant>")])
        texts = exp.Transform(this=variants, expression=exp.Lambda(
            this=exp.Anonymous(this="to_json", expressions=[exp.column("x")]), expressions=[exp.to_identifier("x")]))
        return texts, exp.column("x")

    def _json_set(self, fact: ir.Fact, values: tuple[str, ...], text, shown) -> tuple[exp.Expr, exp.Expr, None]:
        """A set given as JSON: a list of texts. The cheap reading casts the list's text; a list
        one of whose elements may not be a string (null, 1, true, a list, a mapping) is looked at
        element by element, and gives no value when one is not a string: its error names the
        first element Python's reading refuses, in its words (`null` is None, [1] says 1)."""
        who = f"'{fact.id}'"
        choices = _choices(values)
        starts = _like(text, r"^\s*\[")
        # a list of strings for sure (the common cell: two tests cheaper than a regular expression):
        # '[]', or it opens with '["', ends with '"]', and each comma is followed by a quote; any
        # other list (a space after a comma, a string holding a comma) is looked at more closely
        pairs = exp.Anonymous(this="replace", expressions=[text, _s('","'), _s("")])
        plain = _or(exp.EQ(this=text, expression=_s("[]")), _and(
            exp.Like(this=text, expression=_s('["%"]')), exp.StrPosition(this=pairs, substr=_s(",")).eq(0)))
        elements, element = self._elements(text)
        x, i = exp.to_identifier("x"), exp.to_identifier("i")
        is_text = exp.Coalesce(this=exp.EQ(this=exp.Substring(this=element, start=_n(1), length=_n(1)),
                                           expression=_s('"')), expressions=[exp.Boolean(this=False)])
        strings = exp.EQ(this=exp.ArraySize(this=exp.ArrayFilter(this=elements, expression=exp.Lambda(
            this=_not(is_text), expressions=[x]))), expression=_n(0))
        # (a plain list opens with '[': the test that the text is a list is left to the others)
        value = exp.Case().when(plain, self._json_list(text), copy=False).when(
            _and(starts, strings), self._json_list(text), copy=False)
        # the first element Python refuses, in its order: not a text or not listed; listed twice
        unquoted = exp.Anonymous(this="json_extract_string" if self.dialect == "duckdb" else "get_json_object",
                                 expressions=[element, _s("$")])
        quoted = _concat("'", shortened(unquoted, self.dialect), "'")
        position = exp.Anonymous(this="list_position" if self.dialect == "duckdb" else "array_position",
                                 expressions=[elements, exp.column("x")])
        index = exp.column("i") if self.dialect == "duckdb" else exp.Add(this=exp.column("i"), expression=_n(1))
        not_value = f" is not a value of {who}; expected values from {choices}"
        said = (exp.Case()
                .when(_or(_is_null(element), exp.EQ(this=element, expression=_s("null"))),
                      _s("None" + not_value), copy=False)
                .when(_not(is_text), _concat(exp.Case().when(_like(element, r"^\{"), _s("a mapping"), copy=False)
                                             .when(_like(element, r"^\["), _python_list(element), copy=False)
                                             .else_(element), not_value), copy=False)
                .when(_not(exp.In(this=unquoted, expressions=[_s(v) for v in values])),
                      _concat(quoted, not_value), copy=False)
                .when(exp.NEQ(this=position, expression=index), _concat(quoted, f" is listed twice in {who}"),
                      copy=False))
        first = exp.Bracket(this=exp.ArrayFilter(
            this=exp.Transform(this=elements, expression=exp.Lambda(this=said, expressions=[x, i])),
            expression=exp.Lambda(this=_not(_is_null(exp.column("x"))), expressions=[x])),
            expressions=[_n(1)], offset=1, safe=True)
        not_a_list = _concat(f"{who} is a list of values from {choices}, not ", shown)
        error = exp.Case().when(_and(_not(_is_null(text)), _is_null(value)), exp.Case().when(
            starts, exp.Coalesce(this=first, expressions=[not_a_list]), copy=False).else_(not_a_list), copy=False)
        return value, error, None

    def _duration(self, fact, text, shown, known):
        """`text`: the cell's string (in JSON, a number or a list is no duration: said so)."""
        cell = DurationCell(fact, text, shown, known, self.dialect)
        days, months = cell.value()
        return days, cell.error(), months


def _python_list(text) -> exp.Expr:
    """A JSON list as Python shows one (['a', 'b']): its quotes single, a space after each comma
    (a string holding a quote or a comma is shown a little differently: the README says so)."""
    single = exp.Anonymous(this="replace", expressions=[text, _s('"'), _s("'")])
    return exp.Anonymous(this="replace", expressions=[single, _s(","), _s(", ")])


__all__ = ["Cells"]
