"""Reading cells in SQL: a raw table of text -> the typed fact columns the lowered query reads.

Takes the facts of a knowledge base, the dialect, and what the raw table holds: one JSON
text per row (`line`, JSON Lines read line by line), a JSON object's fields as JSON text
with the row's own error (`fields`: DuckDB's bulk JSON reader), or one cell per fact (`csv`:
text; `value`: Parquet or table columns as JSON text). Returns a sqlglot query giving `row`,
`error` (a row that is not a JSON object), for each fact its typed column and
`<fact>__error` when the cell cannot be read as that fact (engine/inputs/sql_cells.py and,
for numbers, sql_numbers.py say why, in Python's words), and `__errors`, whether the row
has such a cell. The query reads each cell's value first, in layers, and works out why only
for the cells that gave none, so a clean cohort pays for its values alone. The checks that
need the typed value (a number out of range; an enum value not listed, read from CSV in
Spark) are the lowered query's (engine/evaluation/sql_decide.py). A typed list column (a
Parquet set) holding NULL is its row's error. Not here: running the query
(engine/inputs/cohort_sql.py).
"""

from __future__ import annotations

import json

from sqlglot import exp

from ..evaluation.sql import _and, _col, _not, _is_null, _n, _or, _s
from ..evaluation.sql_decide import _choices, _concat, shortened
from ..lang import ir
from .rows import NOT_A_MAPPING, NOT_VALID, SPACE
from .sql_cells import Cells, _text, _try
from .sql_numbers import NumberCell

# the constants Python's JSON reader refuses as numbers (engine/inputs/case.py's parse_json)
_CONSTANTS = ("NaN", "Infinity", "-Infinity")
# and the other spellings the SQL engines' readers take (Python's is no JSON at all: "not valid JSON")
_SPELLED = tuple(sign + word for sign in ("", "-", "+") for word in ("nan", "inf", "infinity"))
# what JSON lets stand before a value (RFC 8259): a line opening with a brace after these is an object
_JSON_SPACE = " \t\r\n"


def _subquery(query: exp.Expr, name: str) -> exp.Expr:
    return exp.Subquery(this=query, alias=exp.TableAlias(this=exp.to_identifier(name)))


def _whole(fact: ir.Fact) -> bool:
    return isinstance(fact.type, ir.NumberType) and fact.type.integer


def _gated(gate: exp.Expr, aliased: exp.Expr) -> exp.Expr:
    """`aliased`'s expression computed only where `gate` holds (NULL elsewhere)."""
    return exp.alias_(exp.Case().when(gate, aliased.this, copy=False), aliased.alias, quoted=True)


class Stage(Cells):
    """The staging query of one knowledge base, for one dialect and one kind of raw table."""

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
        # a NaN or Infinity (any spelling Spark takes) is a DOUBLE its map of texts writes quoted:
        # given as JSON would write it, unquoted, to be refused as Python refuses it (`_constant`)
        text = exp.Bracket(this=_col("__doc"), expressions=[_s(name)])
        return exp.Case().when(string, exp.Anonymous(this="to_json", expressions=[variant]), copy=False).when(
            exp.In(this=text, expressions=[_s(f'"{c}"') for c in _CONSTANTS]),
            exp.Anonymous(this="replace", expressions=[text, _s('"'), _s("")]), copy=False).else_(text)

    def _valid(self, line) -> exp.Expr:
        """Is the line JSON other than an object (a list, a text, a number)? Asked of a line that is
        no object (one that opens with '{' is no JSON: Spark's reader also takes `{} trailing`)."""
        if self.dialect == "duckdb":
            return exp.Coalesce(this=exp.Anonymous(this="json_valid", expressions=[line]),
                                expressions=[exp.Boolean(this=False)])
        return _and(_not(_is_null(exp.Anonymous(this="get_json_object", expressions=[line, _s("$")]))),
                    _not(exp.Like(this=exp.Trim(this=line, expression=_s(_JSON_SPACE)), expression=_s("{%"))))

    def _byte(self) -> exp.Expr:
        """Spark: the first byte of the line that is not UTF-8 (at the character `__byte`, where the
        repair put U+FFFD), in hexadecimal as rows.py writes it: the repaired text before it is the
        line's own bytes, so their count is its offset in the line's bytes."""
        before = exp.Substring(this=exp.Anonymous(this="make_valid_utf8", expressions=[_col("line")]),
                               start=_n(1), length=exp.Sub(this=_col("__byte"), expression=_n(1)))
        offset = exp.Add(this=exp.Anonymous(this="octet_length", expressions=[before]), expression=_n(1))
        byte = exp.Substring(this=exp.Cast(this=_col("line"), to=exp.DataType.build("BINARY")), start=offset,
                             length=_n(1))
        return exp.Lower(this=exp.Hex(this=byte))

    def _twice(self, line, given: exp.Expr) -> exp.Expr:
        """May the line give a key twice? (DuckDB's JSON functions keep the first of two values of
        a key, Spark's the last; Python refuses the line.) A cheap test of the text: it holds more
        ':' than the `given` keys (a key no fact has, a nested mapping, a ':' in a string, a null
        that no field counts, or a key twice); the keys are read only where it does. (Each key is
        followed by a ':', with or without spaces between: `"kras" : 1` counts too.)"""
        # (the difference in parentheses: sqlglot writes the tree as given, and `a - b > c`
        # written without them had every line's keys read)
        colons = exp.Paren(this=exp.Sub(this=exp.Length(this=line), expression=exp.Length(
            this=exp.Anonymous(this="replace", expressions=[line, _s(":"), _s("")]))))
        return exp.GT(this=colons, expression=given)

    def _unlike(self, present: list[str]) -> exp.Expr:
        """May the line give a key twice? Asked of DuckDB's tolerant JSON reading, whose fields keep
        a key's first value: `line` is the line as DuckDB's JSON reader writes it back (`{"k":v,...}`,
        no space, a key given twice kept twice; NULL where the quick reading, which stops at a fact
        given twice, has none; cohort_sql.py's `_json_fields`). The line is exactly as long as its
        fields written back only when it holds them alone, each once: a key given twice, a key no
        fact has or a null makes it longer, and its keys are read (`_given_twice`). Cheaper than
        counting its ':' (0.08 s against 0.135 a hundred thousand lines of the bundled knowledge
        base)."""
        length: exp.Expr = _n(1)  # '{' and '}' less the first pair's ','
        for name in present:  # each pair: "name":value and a ','
            pair = exp.Add(this=exp.Anonymous(this="strlen", expressions=[_col(name)]),
                           expression=_n(len(json.dumps(name, ensure_ascii=False).encode()) + 2))
            length = exp.Add(this=length, expression=exp.Coalesce(this=pair, expressions=[_n(0)]))
        return exp.NEQ(this=exp.Anonymous(this="strlen", expressions=[_col("line")]), expression=length)

    def _given_twice(self, line) -> exp.Expr:
        """The first key the line gives twice, in Python's words (NULL when none is: a name
        inside a string, say)."""
        duckdb = self.dialect == "duckdb"
        keys = exp.Anonymous(this="json_keys" if duckdb else "json_object_keys", expressions=[line])
        x, i = exp.to_identifier("x"), exp.to_identifier("i")
        position = exp.Anonymous(this="list_position" if duckdb else "array_position",
                                 expressions=[keys, exp.column("x")])
        index = exp.column("i") if duckdb else exp.Add(this=exp.column("i"), expression=_n(1))
        again = exp.Transform(this=keys, expression=exp.Lambda(this=exp.Case().when(
            exp.NEQ(this=position, expression=index), exp.column("x"), copy=False), expressions=[x, i]))
        first = exp.Bracket(this=exp.ArrayFilter(this=again, expression=exp.Lambda(
            this=_not(_is_null(exp.column("x"))), expressions=[x])), expressions=[_n(1)], offset=1, safe=True)
        return exp.Case().when(_not(_is_null(first)), _concat("the fact '", shortened(first, self.dialect),
                                                              "' is given twice"), copy=False)

    # ---- the query ------------------------------------------------------------------------------
    def query(self, source: exp.Expr, present: list[str], typed: frozenset[str] = frozenset()) -> exp.Select:
        """Typed columns from `source` (row + line, or row + one text column per present fact).

        `typed`: facts whose columns already have the lowering's types: passed through."""
        if self.kind == "line":
            # DuckDB's lines come with an error of their own: a line that is not UTF-8 (cohort_sql.py
            # reads a copy of such a file where the line holds the Python cohort's words for it)
            own = [_col("error")] if self.dialect == "duckdb" else []
            parsed = exp.select(_col("row"), _col("line"), *own, *self._parsed(_col("line"), present)).from_(
                source, copy=False)
            # an object: it parses, and it opens with a brace (a list or a number parses too)
            # (the left end alone: DuckDB's TRIM of the right end reads the whole line, 3 µs a line)
            starts: exp.Expr = exp.EQ(this=exp.Substring(this=exp.Trim(this=_col("line"), position="LEADING",
                                                                       expression=_s(_JSON_SPACE)),
                                                         start=_n(1), length=_n(1)), expression=_s("{"))
            if self.dialect == "spark":  # its JSON reader reads the first object, and stops: `{} trailing`
                starts = _and(starts, exp.Like(this=exp.Trim(this=_col("line"), expression=_s(_JSON_SPACE)),
                                               expression=_s("%}")))
            ok = exp.Coalesce(this=_and(starts, _not(_is_null(_col("__doc")))),
                              expressions=[exp.Boolean(this=False)])
            # Spark's text reader keeps a byte that is not UTF-8 as it is: the line's error, as
            # rows.py says it, at the column where Spark's repair puts U+FFFD (is_valid_utf8 and
            # make_valid_utf8: Spark 4); DuckDB's readers stop at such a byte: it reads a copy
            # of such a file, the line holding its error (`own`)
            repaired = exp.Anonymous(this="make_valid_utf8", expressions=[_col("line")])
            bad_byte = exp.Case().when(_not(exp.Anonymous(this="is_valid_utf8", expressions=[_col("line")])),
                                       exp.StrPosition(this=repaired, substr=_s("\ufffd")), copy=False).else_(
                _n(0)) if self.dialect == "spark" else _n(0)
            checked = exp.select(_col("row"), _col("line"), *own, _col("__doc"),
                                 *([_col("__var")] if self.dialect == "spark" else []),
                                 exp.alias_(ok, "__ok", quoted=True),
                                 exp.alias_(bad_byte, "__byte", quoted=True)) \
                .from_(_subquery(parsed, "parsed"), copy=False)
            # the keys the line gives: DuckDB, the facts (the values found, not NULL); Spark, its map's
            # distinct keys (a map read from JSON keeps a key given twice twice)
            given: exp.Expr = exp.Anonymous(this="list_count", expressions=[_col("__doc")]) \
                if self.dialect == "duckdb" else exp.ArraySize(this=exp.Anonymous(
                    this="array_distinct", expressions=[exp.Anonymous(this="map_keys", expressions=[_col("__doc")])]))
            not_object = exp.Case().when(_not(_is_null(_col("error"))), _col("error"), copy=False) if own else \
                exp.Case().when(exp.GT(this=_col("__byte"), expression=_n(0)), _concat(
                    "the line is not UTF-8 text: byte 0x", self._byte(), " at column ", _text(_col("__byte"))),
                    copy=False)
            not_object = not_object.when(
                _not(_col("__ok")), exp.Case().when(self._valid(_col("line")), _s(NOT_A_MAPPING), copy=False).else_(
                    _s(NOT_VALID)), copy=False).when(
                self._twice(_col("line"), given), self._given_twice(_col("line")), copy=False)
            readable = _col("__ok") if self.dialect != "spark" else _and(
                _col("__ok"), exp.EQ(this=_col("__byte"), expression=_n(0)))
            fields = [exp.alias_(exp.Case().when(readable, self._json_field(i, n), copy=False), n,
                                 quoted=True) for i, n in enumerate(present)]
            cells = exp.select(_col("row"), exp.alias_(not_object, "error", quoted=True), *fields) \
                .from_(_subquery(checked, "checked"), copy=False)
        else:
            # a `fields` table gives each row's own error (a line that is not a JSON object), a `csv`
            # one the error of a row the CSV reader could not read (too few cells, a quote not closed)
            own_error: exp.Expr = _col("error") if self.kind in ("fields", "csv") else exp.Cast(
                this=exp.Null(), to=exp.DataType.build("VARCHAR"))
            if self.kind == "fields":
                own_error = exp.Case().when(_not(_is_null(own_error)), own_error, copy=False).when(
                    self._unlike(present), self._given_twice(_col("line")), copy=False)
            cells = exp.select(_col("row"), exp.alias_(own_error, "error", quoted=True),
                               *[exp.alias_(_col(n) if n in typed or self.kind in ("value", "fields") else
                                            exp.Nullif(this=exp.Trim(this=_col(n), expression=_s(SPACE)),
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
        # and a whole number's cast, once (its cheap reading tests it and gives it: written twice
        # in one expression, DuckDB casts twice, 0.006 s a million cells)
        wholes = [n for n in present if n not in typed and _whole(self.facts[n])]
        if strings or wholes:
            cells = exp.select(exp.Star(), *[exp.alias_(self._string(_col(n), fast=True), n + "__str", quoted=True)
                                             for n in strings],
                               *[exp.alias_(_try(_col(n), "BIGINT"), n + "__big", quoted=True) for n in wholes]).from_(
                _subquery(cells, "json"), copy=False)
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
            names += [name, name + "__text"]
            if isinstance(fact.type, ir.NumberType):
                number = NumberCell(fact, self, name)
                values.append(exp.alias_(number.cheap(_col(name)), name, quoted=True))
                first += number.first()
                second += number.second()
                full[name] = number.value()
                error = number.error()
                helpers += number.helpers
            else:
                string = _col(name + "__str") if name in strings else None
                value, _, months = self.cell(fact, _col(name), string)
                values.append(exp.alias_(value, name, quoted=True))
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
        if self.kind in ("line", "fields"):
            columns[1] = exp.alias_(self._constant(_col("error"), [n for n in present if n not in typed]), "error",
                                    quoted=True)
        return exp.select(*columns, _col("__errors")).from_(_subquery(layer, "checked"), copy=False)

    def _constant(self, error: exp.Expr, present: list[str]) -> exp.Expr:
        """The row's error, or, for a row whose field is NaN or Infinity (or inf, -nan...), which
        DuckDB's and Spark's JSON readers take as numbers, Python's: not JSON. Such a field gives no value of any type,
        so only a row with a cell not read (`__errors`) is looked at."""
        said = exp.Case()
        for name in present:
            text = _col(name + "__text")
            said = said.when(exp.In(this=text, expressions=[_s(c) for c in _CONSTANTS]),
                             _concat("not valid JSON: ", text, " is not a JSON number"), copy=False).when(
                exp.In(this=exp.Lower(this=text), expressions=[_s(c) for c in _SPELLED]), _s(NOT_VALID), copy=False)
        if not present:
            return error
        return exp.Case().when(_and(_col("__errors"), _is_null(error)), said, copy=False).else_(error)

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


__all__ = ["Stage"]
