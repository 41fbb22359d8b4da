"""Hypothesis strategies for rule files and cases, built from the grammar (grammar/consilium.lark).

`rule_files()` draws a knowledge base as text: sources, facts of every type (with units and
ranges), definitions, sites, pathways (decisions, recommendations, warnings, steps, schedules
of a plan), safety rules and a scenario; each expression is drawn for the type its place
needs, rule by rule as the grammar's `expr` is written (or_chain, and_chain, not_expr,
compare, in_range, member, is_known, sum, product, unary, the functions, atoms). Some files
are then made "nearly valid" by a small edit (a character dropped, a token of the grammar put
in, a line doubled or moved, an indentation changed), so the parser and checker see broken
input as well. `cases(facts)` draws a raw case for a fact schema: valid values, boundary
values (0001-01-01, 9999-12-31, huge and tiny numbers, ISO durations) and nearly valid ones
(wrong types, text, units, lone surrogates, out of range). Used by tests/test_fuzz.py (a short
budgeted run) and bench/fuzz.py (the long run).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from hypothesis import strategies as st

COMPARATORS = ["<", "<=", ">", ">=", "=", "!=", "≤", "≥", "≠"]
UNITS = [None, "mg", "%", "Gy"]
DURATION_WORDS = ["days", "day", "weeks", "week", "months", "month", "years", "year"]
# Tokens of the grammar (keywords, punctuation, literals) that the near-valid edits put in.
TOKENS = ["and", "or", "not", "in", "is", "known", "unknown", "when", "otherwise", "->", "end", "(", ")",
          "[", "]", "{", "}", "..", ",", "=", "<", "+", "-", "*", "/", '"', '"""', "#", "\n", "    ", "\t",
          "\r", "1e5", "0.1", "99999999999999999999999999", "9999-12-31", "0000-01-01", "2024-02-30",
          "min(", "max(", "coalesce(", "abs(", "round(", "months_between(", "fact", "define", "pathway",
          "decide", "recommend", "warn", "step", "then", "safety", "plan", "schedule", "source", "site",
          "include", "waive", "é", "\u202e", "\x00", "３", "P1Y", "years", "%", "mg"]


@dataclass
class Schema:
    """What the drawn rule file declares so far: the names an expression may use, by type."""

    facts: dict[str, str] = field(default_factory=dict)       # name -> kind: bool num date dur enum set
    units: dict[str, str | None] = field(default_factory=dict)
    enums: dict[str, tuple[str, ...]] = field(default_factory=dict)
    defines: dict[str, str] = field(default_factory=dict)     # name -> kind (bool, or num with unit None)

    def of(self, kind: str, unit: str | None = None) -> list[str]:
        found = [n for n, k in self.facts.items() if k == kind and (kind != "num" or self.units[n] == unit)]
        return found + [n for n, k in self.defines.items() if k == kind and unit is None]


NUMBERS = st.one_of(
    st.integers(0, 20).map(str),
    st.sampled_from(["0", "0.1", "0.2", "0.3", "1.1", "2.5", "30", "100", "3.14159", "0.000001",
                     "12345678901234567890123", "9007199254740993", "1" + "0" * 60]),
    st.decimals(min_value=0, max_value=10 ** 6, places=3, allow_nan=False, allow_infinity=False).map(
        lambda d: format(d, "f")),
)
DATES = st.one_of(
    st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)).map(lambda d: d.isoformat()),
    st.sampled_from(["0001-01-01", "9999-12-31", "2024-02-29", "2023-01-31", "9999-11-15", "2024-03-01"]),
)


class _Expressions:
    """Typed expressions, drawn as the grammar's `expr` rule writes them."""

    def __init__(self, draw, schema: Schema):
        self.draw, self.s = draw, schema

    def pick(self, options: list[str]) -> str:
        return self.draw(st.sampled_from(options))

    def bool_(self, depth: int) -> str:
        d = self.draw
        s = self.s
        choices = ["literal", "compare_num", "compare_date", "compare_dur", "range", "known"]
        if s.of("bool"):
            choices += ["ref", "ref"]
        if any(k == "enum" for k in s.facts.values()):
            choices += ["enum", "member"]
        if any(k == "set" for k in s.facts.values()):
            choices += ["in_set"]
        if depth > 0:
            choices += ["and", "or", "not", "paren", "coalesce", "and", "or"]
        match d(st.sampled_from(choices)):
            case "literal":
                return self.pick(["true", "false"])
            case "ref":
                return self.pick(s.of("bool"))
            case "compare_num":
                unit = d(st.sampled_from(UNITS))
                return f"{self.num(depth - 1, unit)} {self.pick(COMPARATORS)} {self.num(depth - 1, unit)}"
            case "compare_date":
                return f"{self.date(depth - 1)} {self.pick(COMPARATORS)} {self.date(depth - 1)}"
            case "compare_dur":
                return f"{self.dur(depth - 1)} {self.pick(COMPARATORS)} {self.dur(depth - 1)}"
            case "range":
                if d(st.booleans()):
                    unit = d(st.sampled_from(UNITS))
                    low, high = sorted((Decimal(d(NUMBERS)), Decimal(d(NUMBERS))))
                    suffix = f" {unit}" if unit else ""
                    bounds = f"{low}{suffix} .. {high}{suffix}"
                    operand = self.num(depth - 1, unit)
                else:
                    low, high = sorted((d(st.integers(0, 40)), d(st.integers(0, 40))))
                    word = self.pick(DURATION_WORDS)
                    bounds = f"{low} {word} .. {high} {word}"
                    operand = self.dur(depth - 1)
                if low == high:  # [5 .. 5) holds nothing, an error: a range of one value is closed
                    return f"{operand} in [{bounds}]"
                return f"{operand} in {self.pick(['[', '('])}{bounds}{self.pick([']', ')'])}"
            case "known":
                names = list(s.facts) + list(s.defines)
                if not names:
                    return "true"
                return f"{self.pick(names)} is {self.pick(['known', 'unknown'])}"
            case "enum":
                name = self.pick([n for n, k in s.facts.items() if k == "enum"])
                return f"{name} {self.pick(['=', '!='])} {self.pick(list(s.enums[name]))}"
            case "member":
                name = self.pick([n for n, k in s.facts.items() if k == "enum"])
                values = d(st.lists(st.sampled_from(s.enums[name]), min_size=1, max_size=3, unique=True))
                return f"{name} in {{{', '.join(values)}}}"
            case "in_set":
                name = self.pick([n for n, k in s.facts.items() if k == "set"])
                return f"{self.pick(list(s.enums[name]))} in {name}"
            case "and" | "or" as word:
                count = d(st.integers(2, 4)) if d(st.integers(0, 30)) else d(st.integers(50, 300))
                return f" {word} ".join(self.grouped(self.bool_(depth - 1 if count < 5 else 0)) for _ in range(count))
            case "not":
                return "not " + self.grouped(self.bool_(depth - 1))
            case "paren":
                return f"({self.bool_(depth - 1)})"
            case "coalesce":
                return f"coalesce({self.bool_(depth - 1)}, {self.bool_(depth - 1)})"
        raise AssertionError

    @staticmethod
    def grouped(text: str) -> str:
        return f"({text})" if (" and " in text or " or " in text) else text

    def num(self, depth: int, unit: str | None) -> str:
        d = self.draw
        choices = ["literal", "literal"]
        if self.s.of("num", unit):
            choices += ["ref", "ref", "ref"]
        if depth > 0:
            choices += ["add", "sub", "mul", "div", "neg", "abs", "round", "min", "max", "coalesce", "paren"]
        suffix = "" if unit is None else (" %" if unit == "%" else f" {unit}")
        match d(st.sampled_from(choices)):
            case "literal":
                return d(NUMBERS) + (suffix if d(st.booleans()) else "")
            case "ref":
                return self.pick(self.s.of("num", unit))
            case "add" | "sub" as op:
                return f"{self.num(depth - 1, unit)} {'+' if op == 'add' else '-'} {self.num(depth - 1, unit)}"
            case "mul":
                return f"{self.num(depth - 1, unit)} * {self.num(depth - 1, None)}"
            case "div":
                return f"{self.num(depth - 1, unit)} / {self.grouped_arith(self.num(depth - 1, None))}"
            case "neg":
                return "-" + self.grouped_arith(self.num(depth - 1, unit))
            case "abs":
                return f"abs({self.num(depth - 1, unit)})"
            case "round":
                places = d(st.sampled_from(["", ", 0", ", 1", ", 2", ", 8"]))
                return f"round({self.num(depth - 1, unit)}{places})"
            case "min" | "max" | "coalesce" as name:
                count = d(st.integers(2, 3))
                return f"{name}({', '.join(self.num(depth - 1, unit) for _ in range(count))})"
            case "paren":
                return f"({self.num(depth - 1, unit)})"
        raise AssertionError

    @staticmethod
    def grouped_arith(text: str) -> str:
        return f"({text})" if any(c in text for c in "+-*/ ") else text

    def date(self, depth: int) -> str:
        d = self.draw
        choices = ["literal"] + (["ref", "ref"] if self.s.of("date") else [])
        if depth > 0:
            choices += ["plus", "minus", "min", "coalesce"]
        match d(st.sampled_from(choices)):
            case "literal":
                return d(DATES)
            case "ref":
                return self.pick(self.s.of("date"))
            case "plus":
                return f"{self.date(depth - 1)} + {self.grouped_arith(self.dur(depth - 1))}"
            case "minus":
                return f"{self.date(depth - 1)} - {self.grouped_arith(self.dur(depth - 1))}"
            case "min" | "coalesce" as name:
                name = self.pick(["min", "max"]) if name == "min" else name
                return f"{name}({self.date(depth - 1)}, {self.date(depth - 1)})"
        raise AssertionError

    def dur(self, depth: int) -> str:
        d = self.draw
        choices = ["literal", "literal"] + (["ref", "ref"] if self.s.of("dur") else [])
        if depth > 0:
            choices += ["diff", "add", "between", "neg", "abs", "minmax"]
        match d(st.sampled_from(choices)):
            case "literal":
                return f"{d(st.integers(0, 800))} {self.pick(DURATION_WORDS)}"
            case "ref":
                return self.pick(self.s.of("dur"))
            case "diff":
                return f"({self.date(depth - 1)} - {self.date(depth - 1)})"
            case "add":
                return f"{self.dur(depth - 1)} {self.pick(['+', '-'])} {self.grouped_arith(self.dur(depth - 1))}"
            case "between":
                return f"months_between({self.date(depth - 1)}, {self.date(depth - 1)})"
            case "neg":
                return "-" + self.grouped_arith(self.dur(depth - 1))
            case "abs":
                return f"abs({self.dur(depth - 1)})"
            case "minmax":
                return f"{self.pick(['min', 'max'])}({self.dur(depth - 1)}, {self.dur(depth - 1)})"
        raise AssertionError


def _fact_type(draw, name: str, schema: Schema) -> str:
    kind = draw(st.sampled_from(["bool", "num", "num", "date", "dur", "enum", "set"]))
    schema.facts[name] = kind
    match kind:
        case "bool":
            return "bool"
        case "num":
            unit = draw(st.sampled_from(UNITS))
            schema.units[name] = unit
            integer = unit != "%" and draw(st.booleans())
            base = "percent" if unit == "%" else ("integer" if integer else "number") + (f" {unit}" if unit else "")
            if draw(st.booleans()):
                low = draw(st.integers(-5, 50))
                high = low + draw(st.integers(0, 200))
                return f"{base} in {low}..{high}"
            return base
        case "date":
            return "date"
        case "dur":
            if draw(st.booleans()):
                unit = draw(st.sampled_from(["weeks", "months", "years"]))
                return f"duration in [0 days .. {draw(st.integers(1, 60))} {unit}]"
            return "duration"
        case "enum" | "set":
            values = tuple(draw(st.lists(st.sampled_from(["a", "b", "c", "mutant", "wild_type", "v1", "x_y"]),
                                         min_size=1, max_size=4, unique=True)))
            schema.enums[name] = values
            return ("enum " if kind == "enum" else "set of ") + "{" + ", ".join(values) + "}"
    raise AssertionError


@st.composite
def valid_rule_files(draw) -> str:
    """A rule file that follows the grammar and whose expressions are typed for their place."""
    schema = Schema()
    lines = ['source S "A source" version "1" ref 1', ""]
    names = draw(st.lists(st.sampled_from(["f", "g", "h", "k", "min", "round", "kras", "age", "start", "gap",
                                           "dose", "flr", "segments", "sites", "x", "y", "z"]),
                          min_size=1, max_size=9, unique=True))
    for name in names:
        lines.append(f"fact {name} : {_fact_type(draw, name, schema)}")
        if draw(st.integers(0, 4)) == 0:
            lines.append(f'    label "The {name}"')
    e = _Expressions(draw, schema)
    depth = draw(st.integers(1, 3))
    for i in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["bool", "num"]))
        text = e.bool_(depth) if kind == "bool" else e.num(depth, None)
        lines.append(f"define d{i} = {text}")
        schema.defines[f"d{i}"] = kind
    if draw(st.booleans()):
        lines.append(f'site s1 "Site one" when {e.bool_(1)}')
    plan = None
    dates = schema.of("date")
    if dates and draw(st.booleans()):
        plan = "course"
        lines += [f'plan course "A course" anchor {dates[0]}', "    source S", '    quote "As planned."',
                  '    step first "First" at 0 days',
                  f'    step second "Second" from {draw(st.integers(0, 20))} days to {draw(st.integers(21, 60))} days']
        if len(dates) > 1:
            lines.append(f"        actual {dates[1]}")
        lines.append(f'    step third "Third" at about {draw(st.integers(1, 6))} months')
    for p in range(draw(st.integers(1, 2))):
        lines += [""] + _pathway(draw, e, f"p{p}", depth, plan)
    for i in range(draw(st.integers(0, 2))):
        lines += [f'safety sf{i} "Safety {i}"', f"    when {e.bool_(depth)}",
                  f"    severity {draw(st.sampled_from(['info', 'warning', 'critical']))}",
                  "    source S", '    quote "Avoid it."']
    return "\n".join(lines) + "\n"


def _pathway(draw, e: _Expressions, pid: str, depth: int, plan: str | None) -> list[str]:
    count = draw(st.integers(1, 7))
    kinds = ["decide"] + [draw(st.sampled_from(["decide", "recommend", "warn", "step", "schedule"]))
                          for _ in range(count - 1)]
    kinds = [k if k != "schedule" or plan else "step" for k in kinds]
    if plan and kinds.count("schedule") > 1:
        kinds = [k for i, k in enumerate(kinds) if k != "schedule" or i == kinds.index("schedule")]
    ids = [f"{pid}n{i}" if k != "schedule" else plan for i, k in enumerate(kinds)]
    edges: dict[int, list[int]] = {i: [] for i in range(len(ids))}
    for j in range(1, len(ids)):  # every node has a way in, from an earlier node that can lead on
        parents = [i for i in range(j) if kinds[i] != "schedule"]
        edges[draw(st.sampled_from(parents))].append(j)
    for i in range(len(ids)):
        if kinds[i] != "schedule" and draw(st.integers(0, 3)) == 0:
            later = list(range(i + 1, len(ids)))
            if later:
                target = draw(st.sampled_from(later))
                if target not in edges[i]:
                    edges[i].append(target)
    out = [f'pathway {pid} "Pathway {pid}" source S']
    for i, (kind, node) in enumerate(zip(kinds, ids, strict=True)):
        targets = [ids[t] for t in edges[i]]
        match kind:
            case "decide":
                first = " first" if draw(st.integers(0, 3)) == 0 else ""
                out.append(f'    decide {node} "Question {node}?"{first}')
                for t in targets:
                    out.append(f"        when {e.bool_(depth)} -> {t}" + (' "label"' if draw(st.booleans()) else ""))
                if not targets or draw(st.booleans()):
                    out.append("        otherwise -> end")
            case "recommend" | "warn":
                out.append(f'    {kind} {node} "Do {node}"')
                out.append("        modality recommended" if kind == "recommend"
                           else f"        severity {draw(st.sampled_from(['info', 'warning', 'critical']))}")
                out.append('        quote "Quoted."')
                if draw(st.booleans()):
                    out.append(f"        when {e.bool_(depth)}")
                if targets:
                    out.append("        then " + ", ".join(targets))
            case "step":
                out.append(f'    step {node} "Step {node}"')
                if targets:
                    out.append("        then " + ", ".join(targets))
            case "schedule":
                out.append(f"    schedule {node}")
    return out


@st.composite
def nearly_valid(draw, text: str) -> str:
    """A valid file with one to three small edits: what an editor's typo looks like."""
    for _ in range(draw(st.integers(1, 3))):
        lines = text.split("\n")
        where = draw(st.integers(0, max(0, len(text) - 1)))
        match draw(st.sampled_from(["drop", "insert", "double", "move", "indent", "replace"])):
            case "drop":
                text = text[:where] + text[where + draw(st.integers(1, 8)):]
            case "insert":
                text = text[:where] + draw(st.sampled_from(TOKENS)) + text[where:]
            case "replace":
                text = text[:where] + draw(st.sampled_from(TOKENS)) + text[where + draw(st.integers(1, 6)):]
            case "double" | "move" | "indent" as edit:
                i = draw(st.integers(0, len(lines) - 1))
                if edit == "double":
                    lines.insert(i, lines[i])
                elif edit == "move":
                    lines.insert(draw(st.integers(0, len(lines) - 1)), lines.pop(i))
                else:
                    lines[i] = draw(st.sampled_from(["", " ", "  ", "      ", "\t", "        "])) + lines[i].lstrip()
                text = "\n".join(lines)
    return text


def rule_files() -> st.SearchStrategy[str]:
    """Rule files: about three in four valid, the rest nearly valid."""
    return valid_rule_files().flatmap(
        lambda text: st.one_of(st.just(text), st.just(text), st.just(text), nearly_valid(text)))


# ---- cases -------------------------------------------------------------------------------------

def _valid_value(fact) -> st.SearchStrategy:
    from consilium.engine.lang import ir
    t = fact.type
    match t:
        case ir.BoolType():
            return st.booleans()
        case ir.NumberType(integer=integer, range=interval, unit=unit):
            if interval is not None:
                lo, hi = int(interval.low.value), int(interval.high.value)
                numbers = st.integers(lo, hi) if integer else st.one_of(
                    st.integers(lo, hi), st.decimals(lo, hi, places=2, allow_nan=False).map(float),
                    st.decimals(lo, hi, places=3, allow_nan=False).map(
                        lambda x: format(x, "f") + (f" {unit}" if unit else "")))
            else:
                numbers = st.integers(-10 ** 30, 10 ** 30) if integer else st.one_of(
                    st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                    st.sampled_from([0.1, 0.2, 0.3, 1e300, 4.5e1, 2 ** 53 + 1, 10 ** 400]))
            return numbers
        case ir.EnumType(values=values):
            return st.sampled_from(values)
        case ir.SetType(values=values):
            return st.lists(st.sampled_from(values), unique=True)
        case ir.DateType():
            return st.one_of(st.dates().map(lambda d: d.isoformat()), st.sampled_from(["0001-01-01", "9999-12-31"]))
        case ir.DurationType():
            return st.one_of(
                st.builds(lambda n, w: f"{n} {w}", st.integers(0, 5000), st.sampled_from(DURATION_WORDS)),
                st.sampled_from(["P1Y", "P2M10D", "P6W", "PT48H", "P1Y2M3DT24H", "0 days", "1 month 10 days"]))
    raise AssertionError(t)


NEARLY = st.one_of(st.none(), st.booleans(), st.integers(-10 ** 1200, 10 ** 1200), st.floats(),
                   st.text(max_size=12), st.sampled_from(["\ud800", "1e400", "45 mg", "4.5e1", "P0.5Y", "PT1H",
                                                           "9999-12-31T10:00", "2024-02-30", "-1 days", "3",
                                                           "NaN", "1" * 500, [], {}, ["a", "a"], [1], "yes"]),
                   st.decimals(allow_nan=True))


@st.composite
def cases(draw, facts: dict) -> dict:
    """A raw case for a fact schema: most facts valid or missing, some nearly valid."""
    case = {}
    for name, fact in facts.items():
        what = draw(st.integers(0, 9))
        if what < 3:
            continue
        case[name] = draw(NEARLY) if what == 9 else draw(_valid_value(fact))
    if draw(st.integers(0, 20)) == 0:
        case[draw(st.sampled_from(["nope", "kras ", "\ud800", ""]))] = 1
    return case


# ---- the same values, drawn fast (for bench/fuzz.py's long run) ----------------------------------

_NEARLY_POOL = [None, True, False, 0, -1, 10 ** 1200, -(10 ** 300), 1e308, float("inf"), float("nan"), "",
                "\ud800", "1e400", "45 mg", "4.5e1", "P0.5Y", "PT1H", "9999-12-31T10:00", "2024-02-30", "-1 days",
                "3", "NaN", "1" * 500, [], {}, ["a", "a"], [1], "yes", Decimal("0.1"), Decimal("NaN"), "x" * 30]
_WORDS = DURATION_WORDS + ["fortnight", "Days"]


def random_case(facts: dict, rng) -> dict:
    """A raw case like `cases(facts)` draws, from a `random.Random`: about a hundred times faster,
    so that the long run spends its time in the engine, not in drawing."""
    case = {}
    for name, fact in facts.items():
        what = rng.randrange(30)
        if what < 9:
            continue
        case[name] = rng.choice(_NEARLY_POOL) if what == 29 else _random_value(fact, rng)
    if rng.randrange(20) == 0:
        case[rng.choice(["nope", "kras ", "\ud800", ""])] = 1
    return case


def _random_value(fact, rng):
    from consilium.engine.lang import ir
    t = fact.type
    match t:
        case ir.BoolType():
            return rng.random() < 0.5
        case ir.NumberType(integer=integer, range=interval, unit=unit):
            lo, hi = (int(interval.low.value), int(interval.high.value)) if interval else (-10 ** 6, 10 ** 6)
            pick = rng.randrange(6)
            if pick == 0:
                return rng.choice([lo, hi, 0, 2 ** 53 + 1, 10 ** 40, 10 ** 400])
            if integer or pick == 1:
                return rng.randint(lo, hi)
            value = Decimal(rng.randint(lo * 1000, hi * 1000)) / 1000
            if pick == 2:
                return f"{value} {unit}" if unit else str(value)
            return float(value) if pick == 3 else rng.choice([0.1, 0.2, 0.3, 4.5e1, float(lo), float(hi)])
        case ir.EnumType(values=values):
            return rng.choice(values)
        case ir.SetType(values=values):
            return rng.sample(values, rng.randint(0, len(values)))
        case ir.DateType():
            if rng.randrange(4) == 0:
                return rng.choice(["0001-01-01", "9999-12-31", "2024-02-29", "0001-01-31", "9999-12-01"])
            return dt.date.fromordinal(rng.randint(1, dt.date.max.toordinal())).isoformat()
        case ir.DurationType():
            if rng.randrange(4) == 0:
                return rng.choice(["P1Y", "P2M10D", "P6W", "PT48H", "P1Y2M3DT24H", "0 days", "1 month 10 days",
                                   "P99999Y", "PT0S"])
            return f"{rng.randint(0, 5000)} {rng.choice(_WORDS)}"
    raise AssertionError(t)
