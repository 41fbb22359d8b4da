"""The HL7 CQL engine tests (../shared/external/cql-tests) that the rule language can say.

`read_tests(path)` reads one XML file's tests; `translate(test)` gives the rule file that
asks the test's question through a pathway, or None when the language cannot say it.

A CQL expression is read with a small Lark grammar of the CQL that has a twin in the rule
language: Kleene logic (and, or, not, xor and implies written with them, is null, IsTrue,
IsFalse), comparisons, arithmetic on integers and decimals, Abs, Round, Coalesce, dates
(`@2014-01-01`, `DateTime(2014, 1, 1)`, `Date(...)` with a day), durations in days, weeks,
months and years, date arithmetic, `months between`, `days between`, `in Interval[...]`,
`between ... and`. Anything else (strings, lists, times, partial dates, UCUM units the
language lacks, Floor, Exp, ...) does not parse, and the test is not expressible. A null
becomes a fact the case leaves unknown, of the type the expression needs there.

The rule file defines `x` as the expression and asks, in one decision, whether `x` is
unknown (-> is_null), equal to the expected output (-> same), or not (-> differs). CQL keeps 8
decimals (its "decimal-precision-and-scale" capability is 28,8): a quotient is compared with the
expected output rounded to the expected output's decimals; every other number exactly.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from lark import Lark, Transformer, v_args
from lark.exceptions import LarkError

NS = {"t": "http://hl7.org/fhirpath/tests"}

GRAMMAR = r"""
?start: expr
?expr: or_ | or_ "implies" or_      -> implies
?or_: and_ | or_ "or" and_ -> or_ | or_ "xor" and_ -> xor
?and_: not_ | and_ "and" not_ -> and_
?not_: "not" not_ -> not_ | test
?test: sum | sum COMP sum -> compare
     | sum "is" "null" -> is_null | sum "is" "not" "null" -> is_not_null
     | sum "is" "true" -> is_true | sum "is" "false" -> is_false
     | sum "in" interval -> in_range | interval "contains" sum -> contains
     | sum "between" sum "and" sum -> between
?sum: product | sum "+" product -> add | sum "-" product -> sub
?product: unary | product "*" unary -> mul | product "/" unary -> div
?unary: atom | "-" unary -> neg
?atom: INT "L"? -> integer
     | DECIMAL -> decimal
     | INT DURATION_UNIT -> duration
     | "null" -> null | "null" "as" TYPE -> typed_null
     | "(" "null" "as" TYPE ")" -> typed_null
     | "true" -> true | "false" -> false
     | DATE -> date
     | ("DateTime" | "Date") "(" INT "," INT "," INT ")" -> date_parts
     | "(" expr ")"
     | "Abs" "(" expr ")" -> abs
     | "Round" "(" expr ("," INT)? ")" -> round
     | "Coalesce" "(" expr ("," expr)+ ")" -> coalesce
     | "IsNull" "(" expr ")" -> is_null
     | "IsTrue" "(" expr ")" -> is_true
     | "IsFalse" "(" expr ")" -> is_false
     | "Not" "(" expr ")" -> not_
     | "months" "between" sum "and" sum -> months_between
     | "days" "between" sum "and" sum -> days_between
interval: "Interval" (LSQB | LPAR) sum "," sum (RSQB | RPAR)
COMP: "=" | "!=" | "<>" | "<=" | ">=" | "<" | ">"
TYPE: "Integer" | "Decimal" | "Boolean" | "Date" | "DateTime" | "Quantity"
DURATION_UNIT: /(years?|months?|weeks?|days?)\b/
DATE: /@\d{4}-\d{2}-\d{2}T?/
DECIMAL: /\d+\.\d+/
INT: /\d+/
LSQB: "["
RSQB: "]"
LPAR: "("
RPAR: ")"
%ignore /\s+/
"""

_PARSER = Lark(GRAMMAR, parser="earley", maybe_placeholders=False)


@dataclass(frozen=True)
class Test:
    file: str
    group: str
    name: str
    expression: str
    output: str | None  # None: an error is expected (or no output is given)


def read_tests(path: Path) -> list[Test]:
    tests = []
    for group in ET.parse(path).getroot().findall("t:group", NS):
        for test in group.findall("t:test", NS):
            expression = test.find("t:expression", NS)
            outputs = test.findall("t:output", NS)
            output = outputs[0].text.strip() if len(outputs) == 1 and outputs[0].text else None
            if expression.get("invalid"):
                output = None
            tests.append(Test(path.stem, group.get("name"), test.get("name"), expression.text.strip(), output))
    return tests


class _NotExpressible(Exception):
    pass


# Our expression text and its type: bool, integer, decimal, date, duration, or None for a null
# whose type the context decides.
@v_args(inline=True)
class _Translate(Transformer):
    def __init__(self):
        super().__init__()
        self.nulls: set[str] = set()
        self.divides = False

    # ---- atoms
    def integer(self, digits, *_):
        return (str(int(digits)), "integer")

    def decimal(self, text):
        return (str(text), "decimal")

    def duration(self, amount, unit):
        return (f"{int(amount)} {unit}", "duration")

    def null(self):
        return ("null", None)

    def typed_null(self, kind):
        return (self._null({"Integer": "integer", "Decimal": "decimal", "Boolean": "bool", "Date": "date",
                            "DateTime": "date"}.get(str(kind)) or self._no()), _TYPES[str(kind)])

    def true(self):
        return ("true", "bool")

    def false(self):
        return ("false", "bool")

    def date(self, text):
        return (str(text).lstrip("@").rstrip("T"), "date")

    def date_parts(self, year, month, day):
        return (f"{int(year):04d}-{int(month):02d}-{int(day):02d}", "date")

    # ---- helpers
    def _no(self):
        raise _NotExpressible

    def _null(self, kind: str) -> str:
        self.nulls.add(kind)
        return f"null_{kind}"

    def _typed(self, item, kind):
        text, t = item
        return (self._null(kind or "bool"), kind or "bool") if text == "null" else item

    def _pair(self, a, b):
        if {a[1], b[1]} & {"months", "days"}:
            raise _NotExpressible  # a count of months or days is a duration in the language
        kind = a[1] or b[1]
        if kind in ("integer", "decimal") and {a[1], b[1]} == {"integer", "decimal"}:
            kind = "decimal"
        return self._typed(a, kind), self._typed(b, kind)

    def _bool(self, item):
        return self._typed(item, "bool")

    # ---- logic
    def or_(self, a, b):
        a, b = self._bool(a), self._bool(b)
        return (f"({a[0]} or {b[0]})", "bool")

    def and_(self, a, b):
        a, b = self._bool(a), self._bool(b)
        return (f"({a[0]} and {b[0]})", "bool")

    def xor(self, a, b):  # CQL's xor in Kleene logic, as (a or b) and not (a and b)
        a, b = self._bool(a), self._bool(b)
        return (f"(({a[0]} or {b[0]}) and not ({a[0]} and {b[0]}))", "bool")

    def implies(self, a, b):  # not a or b
        a, b = self._bool(a), self._bool(b)
        return (f"(not {a[0]} or {b[0]})", "bool")

    def not_(self, a):
        return (f"(not {self._bool(a)[0]})", "bool")

    def is_null(self, a):
        text, _ = self._typed(a, a[1] or "integer")
        if "null_" not in text:  # an expression of constants: the language asks only about facts
            raise _NotExpressible
        return (f"({text} is unknown)", "bool")

    def is_not_null(self, a):
        text, _ = self._typed(a, a[1] or "integer")
        if "null_" not in text:
            raise _NotExpressible
        return (f"({text} is known)", "bool")

    def is_true(self, a):
        return (f"(coalesce({self._bool(a)[0]}, false))", "bool")

    def is_false(self, a):
        return (f"(not coalesce({self._bool(a)[0]}, true))", "bool")

    def compare(self, a, op, b):
        a, b = self._pair(a, b)
        op = {"<>": "!="}.get(str(op), str(op))
        if a[1] == "bool" and op not in ("=", "!="):
            raise _NotExpressible
        return (f"({a[0]} {op} {b[0]})", "bool")

    def in_range(self, a, interval):
        low, high, opener, closer = interval
        a = self._typed(a, low[1])
        return (f"({a[0]} in {opener}{low[0]} .. {high[0]}{closer})", "bool")

    def contains(self, interval, a):
        return self.in_range(a, interval)

    def between(self, a, low, high):
        return self.in_range(a, (low, high, "[", "]"))

    def interval(self, opener, low, high, closer):
        for text, _kind in (low, high):  # the language's ranges have constant bounds
            if text == "null" or not re.fullmatch(r"-?[\d.]+( \w+)?|\d{4}-\d\d-\d\d", text):
                raise _NotExpressible
        if low[1] == "date" or low[1] != high[1] and "duration" in (low[1], high[1]):
            raise _NotExpressible
        return (low, high, str(opener), str(closer))

    # ---- arithmetic
    def _arith(self, a, op, b):
        a, b = self._pair(a, b)
        kinds = (a[1], b[1])
        if kinds == ("date", "duration") and op in "+-":
            return (f"({a[0]} {op} {b[0]})", "date")
        if kinds == ("date", "date") or "bool" in kinds or "date" in kinds:
            raise _NotExpressible
        if "duration" in kinds:
            if kinds != ("duration", "duration") or op not in "+-":
                raise _NotExpressible
            return (f"({a[0]} {op} {b[0]})", "duration")
        kind = "decimal" if op == "/" or "decimal" in kinds else "integer"
        return (f"({a[0]} {op} {b[0]})", kind)

    def add(self, a, b):
        return self._arith(a, "+", b)

    def sub(self, a, b):
        return self._arith(a, "-", b)

    def mul(self, a, b):
        return self._arith(a, "*", b)

    def div(self, a, b):
        self.divides = True
        return self._arith(a, "/", b)

    def neg(self, a):
        text, kind = self._typed(a, a[1] or "integer")
        if kind not in ("integer", "decimal", "duration"):
            raise _NotExpressible
        return (f"(-{text})", kind)

    def abs(self, a):
        text, kind = self._typed(a, a[1] or "integer")
        return (f"abs({text})", kind)

    def round(self, a, places=None):
        text, kind = self._typed(a, "decimal")
        return (f"round({text}{', ' + str(int(places)) if places is not None else ''})", "decimal")

    def coalesce(self, *items):
        kind = next((k for _, k in items if k), None)
        if kind is None:
            raise _NotExpressible  # Coalesce(null, null): of no type the language can say
        return ("coalesce(" + ", ".join(self._typed(i, kind)[0] for i in items) + ")", kind)

    def months_between(self, a, b):
        a, b = self._typed(a, "date"), self._typed(b, "date")
        if (a[1], b[1]) != ("date", "date"):
            raise _NotExpressible
        return (f"months_between({a[0]}, {b[0]})", "months")

    def days_between(self, a, b):
        a, b = self._typed(a, "date"), self._typed(b, "date")
        if (a[1], b[1]) != ("date", "date"):
            raise _NotExpressible
        return (f"({b[0]} - {a[0]})", "days")


_TYPES = {"Integer": "integer", "Decimal": "decimal", "Boolean": "bool", "Date": "date", "DateTime": "date",
          "Quantity": "decimal"}


_FACT_TYPES = {"bool": "bool", "integer": "integer", "decimal": "number", "date": "date", "duration": "duration"}


def _expected(output: str, kind: str) -> str | None:
    """The expected output in the rule language, or None when it says something else (a list, a time)."""
    if output in ("true", "false"):
        return output if kind == "bool" else None
    if m := re.fullmatch(r"-?\d+L?", output):
        number = output.rstrip("L")
        if kind == "months":
            return f"{number} months"
        if kind == "days":
            return f"{number} days"
        return number if kind in ("integer", "decimal") else None
    if re.fullmatch(r"-?\d+\.\d+", output):
        return output if kind in ("integer", "decimal") else None
    if m := re.fullmatch(r"@(\d{4}-\d{2}-\d{2})T?", output):
        return m.group(1) if kind == "date" else None
    if m := re.fullmatch(r"(?:DateTime|Date)\((\d+), (\d+), (\d+)\)", output):
        return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}" if kind == "date" else None
    if m := re.fullmatch(r"(\d+) (years?|months?|weeks?|days?)", output):
        return output if kind == "duration" else None
    return None


def translate(test: Test) -> str | None:
    """The rule file asking the test's question, or None when the language cannot say it."""
    if test.output is None:
        return None
    translator = _Translate()
    try:
        text, kind = translator.transform(_PARSER.parse(test.expression))
    except (LarkError, _NotExpressible):
        return None
    except Exception as exc:  # a Transformer wraps what a callback raises
        if isinstance(getattr(exc, "orig_exc", None), _NotExpressible):
            return None
        raise
    if text == "null":
        return None
    kind = kind or "bool"
    if test.output == "null":
        condition = "false"
    else:
        expected = _expected(test.output, kind)
        if expected is None:
            return None
        if kind == "bool":
            condition = "x" if expected == "true" else "not x"
        elif translator.divides and "." in expected:  # CQL keeps 8 decimals of a quotient
            condition = f"round(x, {len(expected.split('.')[1])}) = {expected}"
        else:
            condition = f"x = {expected}"
    facts = "".join(f"fact null_{k} : {_FACT_TYPES[k]}\n" for k in sorted(translator.nulls))
    return (f'source CQL "HL7 CQL engine tests"\n{facts}define x = {text}\n'
            f'pathway p "{test.name}" source CQL\n'
            f'    decide q "What is {test.name}?"\n'
            f"        when x is unknown -> is_null\n"
            f"        when {condition} -> same\n"
            f"        otherwise -> differs\n"
            + "".join(f'    recommend {r} "{r}"\n        modality option\n        quote "{r}"\n'
                      for r in ("is_null", "same", "differs")))


def expected_answer(test: Test) -> str:
    return "is_null" if test.output == "null" else "same"


__all__ = ["Test", "read_tests", "translate", "expected_answer", "Decimal"]
