"""Reading cells in SQL: a raw table of text -> the typed fact columns the lowered query reads.

Takes the facts of a knowledge base, the dialect, and what the raw table holds: one JSON
text per row (`line`, JSON Lines read line by line), a JSON object's fields as JSON text
with the row's own error (`fields`: DuckDB's bulk JSON reader), or one cell per fact (`csv`:
text; `value`: Parquet or table columns as JSON text). Returns a sqlglot query giving `row`, `error` (a row that
is not a JSON object), and for each fact its typed column and `<fact>__error`, worded as
engine/inputs/case.py words it, when the cell cannot be read as that fact: text in a
number column, a date that does not exist, a malformed set or duration, a number SQL
cannot hold exactly. The query reads each cell's value first and works out why only for
the cells that gave none, so a clean cohort pays for its values alone. The checks that
need the typed value (a number out of range; an enum value not listed, read from CSV in
Spark) are the lowered query's (engine/evaluation/sql_decide.py). CSV cells follow engine/inputs/cohort.py's
`from_csv`: an empty cell is unknown, yes-no is true/false, a set lists values with '|'.

A JSON set whose text may hold an element that is not a string (null, 1, a list, a mapping)
is looked at element by element, and such an element is the row's error in Python's words; a
typed list column holding NULL is too. Messages show a value as engine/lang/fact_values.py's
`_show` does (cut after 80 characters, a mapping as 'a mapping', a list as Python writes one).

A JSON value reaches SQL as its JSON text (a string quoted, its escapes as the engine's
JSON writer puts them), so a string is told from a number or a yes-no as Python tells
them: "31" is not a number nor "true" a yes-no, 20240301 is not a date; a Parquet column
(or a table's) that is not read as it is typed reaches it as JSON text too.
"""

from __future__ import annotations

from sqlglot import exp

from ..evaluation.sql import NUMBER, _and, _col, _not, _is_null, _n, _or, _s
from ..evaluation.sql_decide import _choices, _concat, number_text, shortened
from ..lang import ir
from .rows import NOT_JSON

# what Python's str.strip takes off a CSV cell (SQL's TRIM takes spaces alone)
_SPACE = " \t\n\r\x0b\x0c"
# a number as JSON writes one; without an exponent, as a decimal's cheap reading takes it
_JSON_NUMBER = r"^-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?$"
_SHORT_DECIMAL = r"^-?(0|[1-9]\d*)(\.\d+)?$"
# a number and its unit, as engine/lang/values.py's `parse_quantity` reads them (groups: amount, unit)
_QUANTITY = r"^\s*(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*(%|[A-Za-z][A-Za-z0-9]*)?\s*$"
# a number's decimals, its last zeros dropped; the last zeros of a number with no other decimal
_DECIMALS = r"^-?\d*\.?(\d*?)0*(?:[eE][-+]?\d+)?$"
_ZEROS = r"^-?\d*?(0*)(?:\.0*)?(?:[eE][-+]?\d+)?$"
# a duration's amounts: at most 15 digits, so that no sum of a few, in sixteenths of a day
# (engine/evaluation/sql.py), leaves BIGINT, and no date moved by one raises
_DURATION = r"^\s*(\d{1,15})\s*([A-Za-z]+)\s*$"
_ISO_DURATION = r"^P(?:(\d{1,15})M)?(?:(\d{1,15})W)?(?:(\d{1,15})D)?$"


def _like(text, pattern: str) -> exp.Expr:
    return exp.RegexpLike(this=text, expression=_s(pattern))


def _group(text, pattern: str, group: int) -> exp.Expr:
    found = exp.RegexpExtract(this=text, expression=_s(pattern), group=_n(group))
    return exp.Nullif(this=found, expression=_s(""))


def _text(e: exp.Expr) -> exp.Expr:
    return exp.Cast(this=e, to=exp.DataType.build("VARCHAR"))


def _subquery(query: exp.Expr, name: str) -> exp.Expr:
    return exp.Subquery(this=query, alias=exp.TableAlias(this=exp.to_identifier(name)))


def _try(e: exp.Expr, to: str) -> exp.Expr:
    return exp.TryCast(this=e, to=exp.DataType.build(to))


class Stage:
    """The staging query of one knowledge base, for one dialect and one kind of raw table."""

    def __init__(self, facts: dict[str, ir.Fact], dialect: str, kind: str):
        # kind: line (one JSON object per row), csv (CSV cells), value (columns as text, read as JSON
        # values), fields (a JSON object's fields as text, read by the engine's JSON reader, with
        # the row's own `error` beside them)
        self.facts, self.dialect, self.kind = facts, dialect, kind

    # ---- dialect-specific functions --------------------------------------------------------
    def _parsed(self, line, present: list[str]) -> list[exp.Expr]:
        """The line's fields parsed once (`__doc` NULL when it is not JSON): JSON values in a list
        (DuckDB); in Spark, texts in a map (`__doc`: a string unquoted, a number as Spark's JSON
        reader writes it) and variants in another (`__var`: which field is a string)."""
        if self.dialect == "duckdb":
            paths = exp.Array(expressions=[_s(f'$."{name}"') for name in present])
            return [exp.alias_(exp.Anonymous(this="TRY", expressions=[exp.Anonymous(
                this="json_extract", expressions=[line, paths])]), "__doc", quoted=True)]
        return [exp.alias_(exp.Anonymous(this="from_json", expressions=[line, _s(f"map<string,{kind}>")]),
                           alias, quoted=True) for alias, kind in (("__doc", "string"), ("__var", "variant"))]

    def _json_field(self, index: int, name: str) -> exp.Expr:
        """A field's JSON text (NULL when the line does not give it, or gives null)."""
        if self.dialect == "duckdb":  # (sqlglot counts from 0 and writes DuckDB's 1)
            return exp.Nullif(this=_text(exp.Bracket(this=_col("__doc"), expressions=[_n(index)])),
                              expression=_s("null"))
        # a string as JSON writes it (quoted); any other value as Spark's reader of texts gives it
        # (its numbers as the JSON reader of DuckDB gives them: a DOUBLE's text, 2.0 as 2.0)
        variant = exp.Bracket(this=_col("__var"), expressions=[_s(name)])
        string = exp.EQ(this=exp.Anonymous(this="schema_of_variant", expressions=[variant]), expression=_s("STRING"))
        return exp.Case().when(string, exp.Anonymous(this="to_json", expressions=[variant]), copy=False).else_(
            exp.Bracket(this=_col("__doc"), expressions=[_s(name)]))

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

    # ---- the query ------------------------------------------------------------------------------
    def query(self, source: exp.Expr, present: list[str], typed: frozenset[str] = frozenset()) -> exp.Select:
        """Typed columns from `source` (row + line, or row + one text column per present fact).

        `typed`: facts whose columns already have the lowering's types: passed through."""
        if self.kind == "line":
            parsed = exp.select(_col("row"), _col("line"), *self._parsed(_col("line"), present)).from_(
                source, copy=False)
            # an object: it parses, and it opens with a brace (a list or a number parses too)
            starts = exp.EQ(this=exp.Substring(this=exp.Trim(this=_col("line")), start=_n(1), length=_n(1)),
                            expression=_s("{"))
            ok = exp.Coalesce(this=_and(starts, _not(_is_null(_col("__doc")))),
                              expressions=[exp.Boolean(this=False)])
            # Spark's text reader keeps a byte that is not UTF-8 as it is: the line's error, as
            # rows.py says it, at the column where Spark's repair puts U+FFFD (is_valid_utf8 and
            # make_valid_utf8: Spark 4); DuckDB's JSON reader refuses such a line as not JSON
            repaired = exp.Anonymous(this="make_valid_utf8", expressions=[_col("line")])
            bad_byte = exp.Case().when(_not(exp.Anonymous(this="is_valid_utf8", expressions=[_col("line")])),
                                       exp.StrPosition(this=repaired, substr=_s("\ufffd")), copy=False).else_(
                _n(0)) if self.dialect == "spark" else _n(0)
            checked = exp.select(_col("row"), _col("__doc"), *([_col("__var")] if self.dialect == "spark" else []),
                                 exp.alias_(ok, "__ok", quoted=True),
                                 exp.alias_(bad_byte, "__byte", quoted=True)) \
                .from_(_subquery(parsed, "parsed"), copy=False)
            not_object = exp.Case().when(exp.GT(this=_col("__byte"), expression=_n(0)), _concat(
                "the line is not UTF-8 text: a byte at column ", _text(_col("__byte"))), copy=False).when(
                _not(_col("__ok")), _s(NOT_JSON), copy=False)
            readable = _col("__ok") if self.dialect != "spark" else _and(
                _col("__ok"), exp.EQ(this=_col("__byte"), expression=_n(0)))
            fields = [exp.alias_(exp.Case().when(readable, self._json_field(i, n), copy=False), n,
                                 quoted=True) for i, n in enumerate(present)]
            cells = exp.select(_col("row"), exp.alias_(not_object, "error", quoted=True), *fields) \
                .from_(_subquery(checked, "checked"), copy=False)
        else:
            # a `fields` table gives each row's own error (a line that is not a JSON object), a `csv`
            # one the error of a row the CSV reader could not read (too few cells, a quote not closed)
            own_error = _col("error") if self.kind in ("fields", "csv") else exp.Cast(
                this=exp.Null(), to=exp.DataType.build("VARCHAR"))
            cells = exp.select(_col("row"), exp.alias_(own_error, "error", quoted=True),
                               *[exp.alias_(_col(n) if n in typed or self.kind in ("value", "fields") else
                                            exp.Nullif(this=exp.Trim(this=_col(n), expression=_s(_SPACE)),
                                                       expression=_s("")), n,
                                            quoted=True) for n in present]).from_(source, copy=False)
        # layers: each cell's value by its cheap reading; for a number that reading missed, the
        # texts and numbers the full reading works from, as columns (written out inside one
        # expression they were repeated, and the query's text grew to 180 kB for 8 facts, its
        # planning to 0.17 s); then the full reading; then why a cell that gave none could not
        # be read. A cell that reads (nearly all) costs only its value.
        # a JSON string's content, once, for the facts whose values are read from strings (dates
        # and durations: their readings repeat it many times)
        strings = [n for n in present if n not in typed and self.kind != "csv"
                   and isinstance(self.facts[n].type, (ir.DateType, ir.DurationType))]
        if strings:
            cells = exp.select(exp.Star(), *[exp.alias_(self._string(_col(n), fast=True), n + "__str", quoted=True)
                                             for n in strings]).from_(_subquery(cells, "json"), copy=False)
        values: list[exp.Expr] = [_col("row"), _col("error")]
        columns: list[exp.Expr] = [_col("row"), _col("error")]
        names: list[str] = ["row", "error"]  # the columns every layer passes on
        helpers: list[str] = []  # and those the layers of the numbers add, in the order they add them
        first: list[exp.Expr] = []   # the texts a number's full reading needs
        second: list[exp.Expr] = []  # the numbers it reads them as
        full: dict[str, exp.Expr] = {}  # a number's value by the full reading
        if self.kind == "csv":
            columns.append(exp.alias_(self._csv_hint(present), "__hint", quoted=True))
        unreads: list[exp.Expr] = []  # for each fact, does the row's cell give no value although it is there
        for name in present:
            if name in typed:
                values.append(_col(name))
                columns.append(_col(name))
                names.append(name)
                if isinstance(self.facts[name].type, ir.SetType):
                    values.append(exp.alias_(self._typed_set_error(self.facts[name], _col(name)), name + "__error",
                                             quoted=True))
                    names.append(name + "__error")
                    columns.append(_col(name + "__error"))
                    unreads.append(_not(_is_null(_col(name + "__error"))))
                continue
            fact = self.facts[name]
            text = _col(name + "__text")
            if isinstance(fact.type, ir.NumberType):
                number = _Number(fact, self, name)
                values.append(exp.alias_(number.cheap(_col(name)), name, quoted=True))
                first += number.first()
                second += number.second()
                full[name] = number.value()
                error = number.error()
                names += [name, name + "__text"]
                helpers += number.helpers
            else:
                string = _col(name + "__str") if name in strings else None
                value, _, months = self.cell(fact, _col(name), string)
                values.append(exp.alias_(value, name, quoted=True))
                names += [name, name + "__text"]
                if string is not None:
                    values.append(string)
                    names.append(name + "__str")
                if months is not None:
                    values.append(exp.alias_(months, name + "__months", quoted=True))
                    columns.append(_col(name + "__months"))
                    names.append(name + "__months")
                _, error, _ = self.cell(fact, text, string)
            values.append(exp.alias_(_col(name), name + "__text", quoted=True))
            columns.append(_col(name))
            unread = _and(_is_null(_col(name)), _not(_is_null(text)))
            unreads.append(unread)
            # (its reason worked out only in a row with such a cell: the others test one column)
            columns.append(exp.alias_(exp.Case().when(_col("__errors"), exp.Case().when(unread, error, copy=False),
                                                      copy=False), name + "__error", quoted=True))
        layer = exp.select(*values).from_(_subquery(cells, "cells"), copy=False)
        if full:
            # `__missed`: does any number cell of the row need the full reading? The layers below
            # compute it only where it does: a row that reads (nearly all) costs one test a column
            missed = _or(*[_and(_is_null(_col(n)), _not(_is_null(_col(n + "__text")))) for n in full])
            gate = _col("__missed")
            names.append("__missed")
            passed = names + [h for h in helpers if h.endswith(("__s", "__w"))]
            layer = exp.select(*map(_col, names[:-1]), exp.alias_(missed, "__missed", quoted=True)).from_(
                _subquery(layer, "texts0"), copy=False)
            layer = exp.select(*map(_col, names), *[_gated(gate, e) for e in first]).from_(
                _subquery(layer, "texts"), copy=False)
            layer = exp.select(*map(_col, passed), *[_gated(gate, e) for e in second]).from_(
                _subquery(layer, "numbers"), copy=False)
            layer = exp.select(*[exp.alias_(exp.Case().when(gate, exp.Coalesce(this=_col(n), expressions=[full[n]]),
                                                            copy=False).else_(_col(n)), n, quoted=True)
                                 if n in full else _col(n) for n in names + helpers]).from_(
                _subquery(layer, "full"), copy=False)
        # `__errors`: does any cell of the row give no value (the lowered query's test that the row
        # is fine reads it, instead of each fact's error)
        errors = _or(*unreads) if unreads else exp.Boolean(this=False)
        layer = exp.select(exp.Star(), exp.alias_(errors, "__errors", quoted=True)).from_(
            _subquery(layer, "read"), copy=False)
        return exp.select(*columns, _col("__errors")).from_(_subquery(layer, "checked"), copy=False)

    def _typed_set_error(self, fact: ir.Fact, value: exp.Expr) -> exp.Expr:
        """A list column (Parquet, a table) holding NULL: Python refuses it (`None is not a value`),
        where the lowering's test of each element would pass over it."""
        x = exp.to_identifier("x")
        nulls = exp.ArrayFilter(this=value, expression=exp.Lambda(this=_is_null(exp.column("x")), expressions=[x]))
        values = fact.type.values if isinstance(fact.type, ir.SetType) else ()
        return exp.Case().when(exp.GT(this=exp.ArraySize(this=nulls), expression=_n(0)), _s(
            f"None is not a value of '{fact.id}'; expected values from {_choices(values)}"), copy=False)

    def _csv_hint(self, present: list[str]) -> exp.Expr:
        """How to write a set in CSV, for a row whose set cell seems to list its values another
        way (',' or ';', no '|'): the first such cell's, as engine/inputs/cohort.py's `_csv_hint`."""
        hint = exp.Case()
        for name in present:
            fact = self.facts[name]
            if isinstance(fact.type, ir.SetType):
                cell = _col(name + "__text")
                other = _or(exp.StrPosition(this=cell, substr=_s(",")).neq(0),
                                exp.StrPosition(this=cell, substr=_s(";")).neq(0))
                example = "|".join(fact.type.values[:2])
                hint = hint.when(_and(exp.StrPosition(this=cell, substr=_s("|")).eq(0), other),
                                 _s(f" (in CSV, a set's values are separated by '|', as in {example})"), copy=False)
        return hint if hint.args.get("ifs") else exp.Cast(this=exp.Null(), to=exp.DataType.build("VARCHAR"))

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
                raise AssertionError("a number is read by _Number, in layers")
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
                return parsed, exp.Case().when(_and(known, _is_null(parsed)),
                                               _concat(f"{who} is a date (YYYY-MM-DD), not ", shown), copy=False), None
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
        who = f"'{fact.id}'"
        amount = _try(_group(text, _DURATION, 1), "BIGINT")
        word = exp.Lower(this=_group(text, _DURATION, 2))
        per = (exp.Case().when(exp.In(this=word, expressions=[_s("day"), _s("days")]), _n(1), copy=False)
               .when(exp.In(this=word, expressions=[_s("week"), _s("weeks")]), _n(7), copy=False))
        is_month = exp.In(this=word, expressions=[_s("month"), _s("months")])
        iso = _and(_like(text, _ISO_DURATION), exp.NEQ(this=text, expression=_s("P")))

        def iso_part(group: int) -> exp.Expr:
            return exp.Coalesce(this=_try(_group(text, _ISO_DURATION, group), "BIGINT"), expressions=[_n(0)])
        days = (exp.Case().when(_not(_is_null(per)), exp.Mul(this=amount, expression=per), copy=False)
                .when(is_month, _n(0), copy=False)
                .when(iso, exp.Add(this=exp.Mul(this=iso_part(2), expression=_n(7)), expression=iso_part(3)),
                      copy=False))
        months = (exp.Case().when(_not(_is_null(per)), _n(0), copy=False).when(is_month, amount, copy=False)
                  .when(iso, iso_part(1), copy=False))
        error = exp.Case().when(_and(known, _is_null(text)), _concat(f"{who} is a duration, not ", shown),
                                copy=False).when(_and(known, _is_null(days), _like(text, r"\d{16}")), _concat(
            f"{who} is '", text, "': more digits than the SQL engines hold exactly (15 in a duration); "
            "evaluate this cohort with --engine python"), copy=False).when(_and(known, _is_null(days)), _concat(
                f"{who}: '", text, "' is not a duration; write it like '6 weeks', '42 days' or '2 months'"), copy=False)
        return days, error, months


def _python_list(text) -> exp.Expr:
    """A JSON list as Python shows one (['a', 'b']): its quotes single, a space after each comma
    (a string holding a quote or a comma is shown a little differently: the README says so)."""
    single = exp.Anonymous(this="replace", expressions=[text, _s('"'), _s("'")])
    return exp.Anonymous(this="replace", expressions=[single, _s(","), _s(", ")])


def _gated(gate: exp.Expr, aliased: exp.Expr) -> exp.Expr:
    """`aliased`'s expression computed only where `gate` holds (NULL elsewhere)."""
    return exp.alias_(exp.Case().when(gate, aliased.this, copy=False), aliased.alias, quoted=True)


class _Number:
    """A number cell, or a quantity in the fact's unit ('31 %'), as an exact decimal (NUMBER)
    or a BIGINT, read in layers (Stage.query): `cheap` reads the common cell by one cast (digits
    alone for a whole number; for a decimal, no exponent and at most 19 characters, so at most
    18 decimals); for a cell it misses, `first` gives the number's text (`__w`: a number as JSON
    writes one, or the amount of a quantity in the right unit), `second` reads that text as
    BIGINT and NUMBER, and `value` holds it to the number the text is. A number SQL cannot hold
    exactly (more than 18 decimals, or beyond NUMBER's or BIGINT's range) is its row's error,
    never rounded. In JSON, a string is never a number (only a quantity: "31 %"); in CSV, a
    cell is a number when it is written as JSON writes one ('+3', '03' and '3.' are text), as
    engine/inputs/cohort.py's `from_csv` reads it."""

    def __init__(self, fact: ir.Fact, stage: Stage, name: str):
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
        """The common cell's value by one cast; NULL for an unknown cell (a third of them: it tries nothing)."""
        known = _not(_is_null(text))
        if self.integer:
            # DuckDB's cast rounds '3.5' to 4 and '3.0000000000000000001' to 3, and reads '0x10' as
            # 16: only a text that is the number as SQL writes it back (the cheapest test measured;
            # a JSON string, quoted, is no number: the cast refuses it)
            as_big = _try(text, "BIGINT")
            fast = exp.Case().when(exp.EQ(this=_text(as_big), expression=text), as_big, copy=False)
        elif self.csv:  # DuckDB's cast reads '+3', '03', '3.', '.5' and '1_0' too, which are text
            fast = exp.Case().when(_and(exp.LTE(this=exp.Length(this=text), expression=_n(19)),
                                        _like(text, _SHORT_DECIMAL)), _try(text, NUMBER), copy=False)
        else:  # a JSON number as the engine's JSON reader writes it, or other JSON the cast refuses
            short = exp.LTE(this=exp.Length(this=text), expression=_n(19))
            marks = "e" if self.dialect == "duckdb" else "eE"  # (DuckDB writes an exponent 'e', 1e-05)
            fast = exp.Case().when(_and(short, *[exp.StrPosition(this=text, substr=_s(c)).eq(0) for c in marks]),
                                   _try(text, NUMBER), copy=False)
        return exp.Case().when(known, fast, copy=False)

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


__all__ = ["Stage"]
