"""The code writer: Python source written from the IR, a person can read, with a line map.

Takes resolved expressions; returns text. A `Module` holds the generated functions and the
values they use that are not Python literals (dates, sets, trace steps, provenance...), by
readable global names; a `Function` writes one function's body, each node's code under a
comment naming its place in the rule file (`# kb/liver.rules:42  decide surgical_approach`),
and records for every line it writes the span of the rule it came from, so an error inside
generated code is reported at the rule (runtime.py). Nothing from a rule file is ever
written as code: ids become identifiers (letters, digits, `_`), and every other value is a
literal written by `repr` or a global the module holds.

Expressions are written in three-valued (Kleene) logic with `None` for unknown, each
operand only when it can still matter: `x and y` tests `x is False` first; a comparison or
an arithmetic operation with an unknown operand is unknown; division by zero is unknown.
No test for unknown is written for a value that can never be unknown (a literal, or a value
made only of such). Does not decide what a pathway does: that is walk.py.
"""

from __future__ import annotations

import builtins
import keyword
import math
from typing import Any, Callable, Iterable, Mapping, NamedTuple

from ...lang import ir
from ...lang.diagnostics import Span
from ...lang.reads import define_order
from ...lang import values as runtime
from ...lang.values import add_duration, days_between

_OPS = {"=": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
# Names the generated code uses for itself; an id that clashes gets a suffix.
RESERVED = frozenset(keyword.kwlist) | frozenset(dir(builtins)) | {
    "case", "get", "recs", "warns", "needs", "trace", "undecided", "plans", "unchecked", "new", "late", "laid",
    "missing", "undecided_words", "add_duration", "days_between", "subtract_duration", "Decision", "TraceStep",
    "Recommendation", "Unchecked", "num_add", "num_subtract", "num_multiply", "num_divide", "negate", "absolute",
    "round_to", "months_between", "coalesce", "extreme", "compare_durations", "in_duration_range",
    "relevant", "check", "validated"}


def _in_duration_range(value: Any, interval: ir.Interval) -> bool | None:
    return interval.contains(value)


# The value helpers generated code calls (engine/lang/values.py): numbers are exact (int and
# Decimal; a result beyond what the language holds is unknown), dates that leave the calendar
# are unknown, durations compare by the rule written there (unknown when it depends on the date).
HELPERS: dict[str, Any] = {"add_duration": add_duration, "days_between": days_between,
                           "subtract_duration": runtime.subtract_duration, "num_add": runtime.add,
                           "num_subtract": runtime.subtract, "num_multiply": runtime.multiply,
                           "num_divide": runtime.divide, "negate": runtime.negate, "absolute": runtime.absolute,
                           "round_to": runtime.round_to, "months_between": runtime.months_between,
                           "coalesce": runtime.coalesce, "extreme": runtime.extreme,
                           "compare_durations": runtime.compare_durations, "in_duration_range": _in_duration_range}
_ARITHMETIC = {"+": "num_add", "-": "num_subtract", "*": "num_multiply", "/": "num_divide"}


class Names:
    """Unique Python identifiers made from ids: `kras`, then `kras_2` on a clash.

    Globals are given names that start with a capital (`STEP_approach`), locals never do
    (`v_KRAS` for an id `KRAS`): a local cannot hide a global."""

    def __init__(self, reserved: Iterable[str] = (), *, local: bool = False):
        self.taken: set[str] = set(RESERVED) | set(reserved)
        self.last: dict[str, int] = {}
        self.local = local

    def take(self, wanted: str) -> str:
        base = wanted if wanted.isidentifier() else \
            "".join(c if c.isalnum() or c == "_" else "_" for c in wanted) or "_"
        if not (base[0].isalpha() or base[0] == "_") or not base.isidentifier():
            base = "_" + base
        if self.local and base[0].isupper():
            base = "v_" + base
        name, n = base, self.last.get(base, 1)
        while name in self.taken:  # from the last suffix given: linear in the names, not quadratic
            n += 1
            name = f"{base}_{n}"
        self.taken.add(name)
        self.last[base] = n
        return name


_RANKS: dict[int, tuple[Mapping[str, ir.Define], dict[str, int]]] = {}


def _define_rank(defines: Mapping[str, ir.Define]) -> dict[str, int]:
    """Each definition's place in an order where it comes after those it uses.

    Worked out once per knowledge base (its `defines`), not for every function and every probe
    of a need: that made loading and evaluation grow with the square of the knowledge base.
    The orders of a few knowledge bases are kept, each with its `defines`, so that an id is
    never taken for another's."""
    found = _RANKS.get(id(defines))
    if found is None or found[0] is not defines:
        found = (defines, {name: i for i, name in enumerate(define_order(defines))})
        if len(_RANKS) >= 8:
            _RANKS.clear()
        _RANKS[id(defines)] = found
    return found[1]


def _literal(value: Any) -> str | None:
    """The value as a Python literal, when it has one that reads back exactly."""
    if value is None or isinstance(value, (bool, str)):
        return repr(value)
    if type(value) is int:
        return repr(value)
    if type(value) is float and math.isfinite(value):
        return repr(value)
    if type(value) is tuple:
        parts = [_literal(v) for v in value]
        if all(p is not None for p in parts):
            inner = ", ".join(p for p in parts if p is not None)
            return f"({inner},)" if len(parts) == 1 else f"({inner})"
    return None


class Module:
    """Generated functions and the values they use, by name; `source()` gives the text and line map."""

    def __init__(self, header: str):
        self.header = header
        self.names = Names(HELPERS)
        self.values: dict[str, Any] = dict(HELPERS)
        self._known: dict[tuple[type, Any], str] = {}
        self.functions: list[Function] = []

    def const(self, value: Any, hint: str = "K") -> str:
        """An expression for `value`: a literal, or the global that holds it (one per distinct value)."""
        literal = _literal(value)
        if literal is not None:
            return literal
        try:
            key: tuple[type, Any] | None = (type(value), value)
            hash(key)
        except TypeError:
            key = None
        if key is not None and key in self._known:
            return self._known[key]
        name = self.names.take(hint)
        self.values[name] = value
        if key is not None:
            self._known[key] = name
        return name

    def function(self, name: str, parameters: str, defines: Mapping[str, ir.Define]) -> "Function":
        function = Function(self, name, parameters, defines)
        if parameters.split(", ")[0] == "case":  # given the case: reads its facts with case.get
            function.reader = "case.get"
        self.functions.append(function)
        return function

    def source(self) -> tuple[str, list[Span | None]]:
        """The module's text, and for each of its lines the rule it was written for (None: none)."""
        lines: list[str] = []
        places: list[Span | None] = []
        for text in self.header.splitlines():
            lines.append(f"# {text}".rstrip())
            places.append(None)
        for function in self.functions:
            lines.append("")
            places.append(None)
            for text, place in function.text():
                lines.append(text)
                places.append(place)
        return "\n".join(lines) + "\n", places


def defines_used(exprs: Iterable[ir.Expr | None], defines: Mapping[str, ir.Define]) -> set[str]:
    """The definitions `exprs` use, directly or through other definitions."""
    found: set[str] = set()
    queue = [e for e in exprs if e is not None]
    for e in queue:
        for node in ir.walk(e):
            if isinstance(node, ir.DefineRef) and node.id not in found:
                found.add(node.id)
                queue.append(defines[node.id].expr)
    return found


class Function:
    """One generated function: its facts read once at the top, its definitions computed once
    after them (only those its expressions use), then its body."""

    def __init__(self, module: Module, name: str, parameters: str, defines: Mapping[str, ir.Define]):
        self.module = module
        self.name = name
        self.parameters = parameters
        self.defines = defines
        self.locals = Names([p.strip() for p in parameters.split(",")], local=True)
        self.body: list[tuple[str, Span | None]] = []
        self.prologue: list[tuple[str, Span | None]] = []
        self.place: Span | None = None
        self.facts: dict[str, str] = {}     # fact id -> local name
        self.top_facts: set[str] = set()    # facts read at the top level (every later line has them)
        self.top_defines: set[str] = set()  # definitions computed at the top level
        self.fact_indent: dict[str, int] = {}  # fact id -> where it was read (0: the function's body)
        self.define_vars: dict[str, str] = {}
        self.sure: set[str] = set()         # locals that are never None
        self.temp = 0
        self.given: dict[str, str] = {}     # definitions passed in by the caller, by name
        self.opaque = False                 # leave their facts unread (values only: no trace shows them)
        self.guarded = False                # wrapped in `try`: an error becomes one at its rule (runtime.py)
        self.head: list[str] = []           # lines before the `try` of a guarded function
        # how a fact is read: `get(name)` where the function is given a getter; `case.get(name)`
        # where it is given the case (a method call Python 3.11 makes without a bound method:
        # cheaper than calling a getter passed around)
        self.reader = "get"

    # ---- lines ------------------------------------------------------------------------------
    def emit(self, indent: int, text: str) -> None:
        self.body.append(("    " * (indent + 1) + text, self.place))

    def comment(self, indent: int, span: Span | None, what: str) -> None:
        """A line naming where the code that follows comes from; later lines map to `span`."""
        self.place = span
        where = f"{span.file}:{span.line}  " if span is not None else ""
        self.body.append(("    " * (indent + 1) + f"# {where}{what}", span))

    def text(self) -> list[tuple[str, Span | None]]:
        head = [(f"def {self.name}({self.parameters}):", None)]
        lines = self.prologue + self.body
        if all(line.lstrip().startswith("#") for line, _ in lines):  # e.g. a decision with only `otherwise -> end`
            lines = lines + [("    pass", None)]
        if not self.guarded:
            return head + lines
        return head + [(line, None) for line in self.head] + [("    try:", None)] \
            + [("    " + line, place) for line, place in lines] \
            + [("    except Exception as exc:  # reported at the rule whose code raised it", None),
               ("        raise at_rule(exc) from None", None)]

    def fresh(self) -> str:
        self.temp += 1
        return self.locals.take(f"t{self.temp}")

    def const(self, value: Any, hint: str = "K") -> str:
        return self.module.const(value, hint)

    # ---- the prologue: facts, then definitions ------------------------------------------------
    def prepare(self, exprs: Iterable[ir.Expr | None], facts: Iterable[str] = (), *,
                given: Mapping[str, str] | None = None) -> None:
        """Read every fact and compute every definition that `exprs` use (and the `facts` named),
        before the body: each once, at the top of the function. The definitions in `given` are
        the function's parameters of those names: computed once by its caller, for several."""
        self.given = dict(given or {})
        self.define_vars.update(self.given)
        body, self.body = self.body, self.prologue
        self.load(0, exprs, facts)
        self.place = None
        self.prologue, self.body = self.body, body


    def reach(self, exprs: Iterable[ir.Expr | None]) -> tuple[set[str], dict[str, None]]:
        """The definitions and facts `exprs` use (first seen first). Inside a definition the
        function is given, only when it must show the facts read (`opaque` off)."""
        wanted_defines: set[str] = set()
        wanted_facts: dict[str, None] = {}
        queue = [e for e in exprs if e is not None]
        for e in queue:  # grows as definitions are met
            for node in ir.walk(e):
                if isinstance(node, ir.FactRef):
                    wanted_facts.setdefault(node.id)
                elif isinstance(node, ir.DefineRef) and node.id not in wanted_defines:
                    wanted_defines.add(node.id)
                    if not (self.opaque and node.id in self.given):
                        queue.append(self.defines[node.id].expr)
        return wanted_defines, wanted_facts

    def load(self, indent: int, exprs: Iterable[ir.Expr | None], facts: Iterable[str] = ()) -> set[str]:
        """Read the facts and compute the definitions `exprs` use that are not at hand yet, here;
        the facts whose locals hold their value from here on."""
        wanted_defines, wanted_facts = self.reach(exprs)
        wanted_facts.update(dict.fromkeys(facts))
        # What is read (or computed) inside a block, where one node runs, may be unread on the path
        # of another node: there it is read again. What is read at the top level is read for all.
        for fact in wanted_facts:
            if fact not in self.facts:
                var = self.facts[fact] = self.locals.take(fact)
                self.fact_indent[fact] = indent
                self.emit(indent, f"{var} = {self.reader}({fact!r})")
            elif indent > 0 and fact not in self.top_facts:
                self.emit(indent, f"{self.facts[fact]} = {self.reader}({fact!r})")
            if indent == 0:
                self.top_facts.add(fact)
        place = self.place
        rank = _define_rank(self.defines)
        for name in sorted(wanted_defines, key=rank.__getitem__):
            again = indent > 0 and name not in self.top_defines and name not in self.given
            if name not in self.define_vars or again:
                define = self.defines[name]
                self.comment(indent, define.span, f"define {name}")
                var = self.define_vars.get(name) or self.locals.take(name)
                atom = self.expr(define.expr, indent, into=var)
                self.define_vars[name] = var
                if atom != var:  # a fact, a literal or another definition, as it is
                    self.emit(indent, f"{var} = {atom}")
                if self.known(atom):
                    self.sure.add(var)
            if indent == 0:
                self.top_defines.add(name)
        self.place = place
        return set(wanted_facts)

    # ---- expressions: emit statements, return an atom (a local, a literal or a global) --------
    def known(self, atom: str) -> bool:
        """Is this atom never None: a literal or global value, or a local computed only from such?"""
        if atom == "None":
            return False
        return atom in self.sure or atom[0] in "('\"-0123456789" or atom[0].isupper()  # a literal or a global

    def assign(self, indent: int, operands: tuple[str, ...], value: str, *, sure: bool = True,
               into: str | None = None) -> str:
        """A new local (`into`, or a temporary): None when an operand is, `value` otherwise."""
        t = into or self.fresh()
        unknown = " or ".join(f"{x} is None" for x in operands if not self.known(x))
        self.emit(indent, f"{t} = None if {unknown} else {value}" if unknown else f"{t} = {value}")
        if not unknown and sure:
            self.sure.add(t)
        return t

    def expr(self, e: ir.Expr, indent: int, into: str | None = None) -> str:
        """`into`: the name the value gets (a definition's), where it is computed, not a temporary."""
        match e:
            case ir.BoolLit(value=v) | ir.NumberLit(value=v) | ir.DurationLit(value=v) | ir.DateLit(value=v) \
                    | ir.EnumLit(value=v):
                return self.const(v)
            case ir.SetLit(values=values):
                return self.const(frozenset(values), "SET")
            case ir.FactRef(id=name):
                return self.facts[name]
            case ir.DefineRef(id=name):
                return self.define_vars[name]
            case ir.Not(operand=op):
                a = self.expr(op, indent)
                return self.assign(indent, (a,), f"not {a}", into=into)
            case ir.And(operands=ops):
                return self._kleene(ops, "False", indent, into)
            case ir.Or(operands=ops):
                return self._kleene(ops, "True", indent, into)
            case ir.Compare(op=comparison, left=ir.Arith(kind="date_diff", left=later, right=earlier),
                            right=ir.DurationLit(value=limit), kind="duration") if limit.months == 0:
                # `date - date < 6 weeks`: the days between, against days alone (no Duration made)
                return self._binary(later, earlier, indent,
                                    lambda a, b: f"({a} - {b}).days {_OPS[comparison]} {limit.days}", into=into)
            case ir.Compare(op=comparison, left=left, right=right, kind="duration"):
                return self._binary(left, right, indent, lambda a, b: _durations(comparison, a, b, left, right),
                                    sure=False, into=into)
            case ir.Compare(op=comparison, left=left, right=right):
                return self._binary(left, right, indent, lambda a, b: f"{a} {_OPS[comparison]} {b}", into=into)
            case ir.InRange(operand=op, interval=interval) if isinstance(interval.low.value, runtime.Duration):
                v = self.expr(op, indent)
                return self.assign(indent, (v,), f"in_duration_range({v}, {self.const(interval, 'RANGE')})",
                                   sure=False, into=into)
            case ir.InRange(operand=op, interval=interval):
                v = self.expr(op, indent)
                lo, hi = self.const(interval.low.value), self.const(interval.high.value)
                test = (f"{lo} {'<=' if interval.low.closed else '<'} {v} "
                        f"{'<=' if interval.high.closed else '<'} {hi}")
                return self.assign(indent, (v,), test, into=into)
            case ir.Member(element=element, collection=collection):
                return self._binary(element, collection, indent, lambda a, b: f"{a} in {b}", into=into)
            case ir.IsKnown(operand=op, negated=negated):
                v = self.expr(op, indent)
                return self.assign(indent, (), f"{v} is {'' if negated else 'not '}None", into=into)
            case ir.Arith(op=op, kind=kind, left=left, right=right):
                if kind == "duration":
                    return self._binary(left, right, indent, lambda a, b: f"{a} {op} {b}", into=into)
                # a date outside the calendar, a division by zero, a number beyond what the
                # language holds: unknown (None), from the helper
                helper = {"date_plus": "add_duration", "date_diff": "days_between",
                          "date_minus": "subtract_duration"}.get(kind) or _ARITHMETIC[op]
                return self._binary(left, right, indent, lambda a, b: f"{helper}({a}, {b})",
                                    sure=kind == "date_diff", into=into)
            case ir.Negate(operand=op) | ir.Absolute(operand=op):
                v = self.expr(op, indent)
                helper = "negate" if isinstance(e, ir.Negate) else "absolute"
                return self.assign(indent, (v,), f"{helper}({v})", sure=isinstance(e, ir.Negate), into=into)
            case ir.Round(operand=op, places=places):
                v = self.expr(op, indent)
                return self.assign(indent, (v,), f"round_to({v}, {places!r})", sure=False, into=into)
            case ir.MonthsBetween(start=start, end=end):
                return self._binary(start, end, indent, lambda a, b: f"months_between({a}, {b})", into=into)
            case ir.Coalesce(operands=ops) | ir.Extreme(operands=ops):
                atoms = [self.expr(x, indent) for x in ops]
                items = "(" + "".join(a + ", " for a in atoms) + ")"
                if isinstance(e, ir.Coalesce):
                    return self.assign(indent, (), f"coalesce({items})", sure=any(self.known(a) for a in atoms),
                                       into=into)
                return self.assign(indent, (), f"extreme({e.op!r}, {items})", sure=False, into=into)
            case ir.Name():
                raise AssertionError(f"unresolved name '{e.id}' reached the code writer")
        raise AssertionError(f"the code writer misses {type(e).__name__}")

    def _binary(self, left: ir.Expr, right: ir.Expr, indent: int, combine: Callable[[str, str], str],
                sure: bool = True, into: str | None = None) -> str:
        a = self.expr(left, indent)
        b = self.expr(right, indent)
        return self.assign(indent, (a, b), combine(a, b), sure=sure, into=into)

    def test(self, e: ir.Expr, indent: int) -> tuple[tuple[str, ...], str, str] | None:
        """For a comparison, a membership, a negation or `is known`, True or False once its
        operands are known: its operands computed, then (the operands that may be None, the
        test, the test of its negation); None for any other expression."""
        match e:
            case ir.Compare(op=comparison, left=left, right=right, kind="value"):
                a, b = self.expr(left, indent), self.expr(right, indent)
                test = f"{a} {_OPS[comparison]} {b}"
                negation = f"{a} != {b}" if comparison == "=" else f"not ({test})"
            case ir.Member(element=element, collection=collection):
                a, b = self.expr(element, indent), self.expr(collection, indent)
                test, negation = f"{a} in {b}", f"{a} not in {b}"
            case ir.Not(operand=op):
                inner = self.test(op, indent)
                if inner is not None:
                    return inner[0], inner[2], inner[1]
                a = self.expr(op, indent)
                return (() if self.known(a) else (a,)), f"not {a}", a
            case ir.IsKnown(operand=op, negated=negated):
                v = self.expr(op, indent)
                return (), f"{v} is {'' if negated else 'not '}None", f"{v} is {'not ' if negated else ''}None"
            case _:
                return None
        return tuple(x for x in (a, b) if not self.known(x)), test, negation

    def flat(self, e: ir.Expr, indent: int) -> "Flat | None":
        """An `and` or an `or` whose operands are all plain tests of values at hand (a fact, a
        definition, a comparison or membership of those, `is known`, `not`), as Python's own
        short-circuit tests (`Flat`); None for any other expression. Python evaluates them left
        to right and stops at the first decisive operand, as Kleene logic may: the three values
        come from two tests, with no local to hold the value and no flag for an unknown."""
        if not isinstance(e, (ir.And, ir.Or)) or not all(_plain(op) for op in e.operands):
            return None
        conjunction = isinstance(e, ir.And)
        decisive_parts: list[str] = []  # per operand: it alone decides (false in an and, true in an or)
        open_parts: list[str] = []      # per operand: it does not decide (it holds, or it is unknown)
        unknowns: list[str] = []        # the locals whose being None leaves the whole unknown
        present: list[str] = []         # locals `x is known` (in an or, `is not known`) has shown are there
        for op in e.operands:
            if isinstance(op, ir.IsKnown) and op.negated != conjunction:
                # decisive when the value is missing: the later operands, tested only when it is
                # not, take it as there (Python's `and`/`or` stop at the first decisive operand)
                v = self.expr(op.operand, indent)
                if self.known(v):  # known to be there: never decisive
                    continue
                decisive_parts.append(f"{v} is None")
                open_parts.append(f"{v} is not None")
                if not self.known(v):
                    self.sure.add(v)
                    present.append(v)
                continue
            negated = isinstance(op, ir.Not) and isinstance(op.operand, _ATOMS)
            parts = None if negated else self.test(op, indent)
            if parts is not None:
                missing, holds, fails = parts
                decides, keeps = (fails, holds) if conjunction else (holds, fails)
                if missing:
                    there = " and ".join(f"{x} is not None" for x in missing)
                    decides = f"({there} and {decides})"
                    keeps = f"({' or '.join(f'{x} is None' for x in missing)} or {keeps})"
                    unknowns += [x for x in missing if x not in unknowns]
                decisive_parts.append(decides)
                open_parts.append(keeps)
                continue
            # a boolean value at hand, or its negation: decisive when it is `deciding`
            v = self.expr(op.operand if isinstance(op, ir.Not) else op, indent)
            deciding = conjunction == negated  # false in an and (true under a `not`); true in an or
            if self.known(v):
                decisive_parts.append(v if deciding else f"not {v}")
                open_parts.append(f"not {v}" if deciding else v)
            else:
                decisive_parts.append(f"{v} is {deciding}")
                open_parts.append(f"{v} is not {deciding}")
                if v not in unknowns:
                    unknowns.append(v)
        self.sure.difference_update(present)
        unknown = " or ".join(f"{x} is None" for x in unknowns if x not in present) or None
        return Flat(not conjunction, " or ".join(decisive_parts) or "False", " and ".join(open_parts) or "True",
                    unknown, tuple(present), tuple(unknowns))

    def _kleene(self, ops: tuple[ir.Expr, ...], decisive: str, indent: int, into: str | None = None) -> str:
        """and (`decisive` False): false wins, then unknown; or (True): true wins, then unknown.
        A later operand is computed only when no earlier one was decisive, each under one `if`
        at the same depth: a chain of any length nests one level (Python allows 100)."""
        t = into or self.fresh()
        other = "True" if decisive == "False" else "False"
        flat = self.flat(ir.And(operands=ops) if decisive == "False" else ir.Or(operands=ops), indent)
        if flat is not None:  # plain tests: one `if` for the decisive value, one for unknown
            self.emit(indent, f"if {flat.decisive_test}:")
            self.emit(indent + 1, f"{t} = {decisive}")
            if flat.unknown is not None:
                self.emit(indent, f"elif {flat.unknown}:")
                self.emit(indent + 1, f"{t} = None")
            else:
                self.sure.add(t)
            self.emit(indent, "else:")
            self.emit(indent + 1, f"{t} = {other}")
            return t
        self.emit(indent, f"{t} = {other}")
        start = len(self.body)  # where `unknown = False` goes, if an operand can be unknown
        unknown: str | None = None
        present: list[str] = []  # locals `x is known` (in an `or`, `is not known`) has shown are there
        for i, op in enumerate(ops):
            depth = indent
            if i:
                self.emit(indent, f"if {t} is not {decisive}:")
                depth = indent + 1
            if isinstance(op, ir.IsKnown) and op.negated == (decisive == "True"):
                # decisive when the value is missing; the later operands run only when it is not,
                # so none of them tests it again
                v = self.expr(op.operand, depth)
                self.emit(depth, f"if {v} is None:")
                self.emit(depth + 1, f"{t} = {decisive}")
                if not self.known(v):
                    self.sure.add(v)
                    present.append(v)
                continue
            parts = self.test(op, depth)
            if parts is not None:
                # a comparison is tested where it is used, not first stored as True/False/None
                unknowns, test, negation = parts
                holds = negation if decisive == "False" else test
                if unknowns:
                    missing = " or ".join(f"{x} is None" for x in unknowns)
                    if unknown is None:
                        unknown = self.fresh()
                        self.body.insert(start, ("    " * (indent + 1) + f"{unknown} = False", self.place))
                    self.emit(depth, f"if {missing}:")
                    self.emit(depth + 1, f"{unknown} = True")
                    self.emit(depth, f"elif {holds}:")
                else:
                    self.emit(depth, f"if {holds}:")
                self.emit(depth + 1, f"{t} = {decisive}")
                continue
            v = self.expr(op, depth)
            self.emit(depth, f"if {v} is {decisive}:")
            self.emit(depth + 1, f"{t} = {decisive}")
            if not self.known(v):
                if unknown is None:
                    unknown = self.fresh()
                    self.body.insert(start, ("    " * (indent + 1) + f"{unknown} = False", self.place))
                self.emit(depth, f"elif {v} is None:")
                self.emit(depth + 1, f"{unknown} = True")
        self.sure.difference_update(present)
        if unknown is not None:
            self.emit(indent, f"if {unknown} and {t} is not {decisive}:")
            self.emit(indent + 1, f"{t} = None")
        else:
            self.sure.add(t)
        return t


class Flat(NamedTuple):
    """An `and` or `or` of plain tests, as Python tests (`Function.flat`): its value is
    `decisive` (False for an and, True for an or) where `decisive_test` holds; else None where
    `unknown` holds (None: it never is unknown); else the other value. `open_test` is the
    negation of `decisive_test`; `present`, the locals known not None where it holds; below a
    test that none of `unknowns` is None, the value is not unknown."""

    decisive: bool
    decisive_test: str
    open_test: str
    unknown: str | None
    present: tuple[str, ...]
    unknowns: tuple[str, ...]


_ATOMS = (ir.FactRef, ir.DefineRef, ir.BoolLit, ir.NumberLit, ir.EnumLit, ir.SetLit, ir.DateLit)


def _plain(e: ir.Expr) -> bool:
    """Is `e` written as a test of values at hand, with no statement before it (`Function.flat`)?"""
    match e:
        case ir.Compare(kind="value", left=left, right=right) | ir.Member(element=left, collection=right):
            return isinstance(left, _ATOMS) and isinstance(right, _ATOMS)
        case ir.IsKnown(operand=op):
            return isinstance(op, _ATOMS)
        case ir.Not(operand=op):
            return isinstance(op, _ATOMS) or (not isinstance(op, ir.Not) and _plain(op))
    return isinstance(e, (ir.FactRef, ir.DefineRef, ir.BoolLit))


def _durations(comparison: str, a: str, b: str, left: ir.Expr, right: ir.Expr) -> str:
    """a op b for two durations. Against a constant of days alone (`6 weeks`), a duration of
    days alone compares by its days, as `compare_durations` would (no month, nothing depends
    on the calendar), without the call; one with months goes through the rule."""
    general = f"compare_durations({comparison!r}, {a}, {b})"
    for side, other, x, flipped in ((right, left, a, False), (left, right, b, True)):
        if isinstance(side, ir.DurationLit) and side.value.months == 0:
            days = side.value.days
            test = f"{days} {_OPS[comparison]} {x}.days" if flipped else f"{x}.days {_OPS[comparison]} {days}"
            if isinstance(other, ir.Arith) and other.kind == "date_diff":
                return test  # days between two dates: days alone
            return f"({test} if {x}.months == 0 else {general})"
    return general

