"""Explanations of conditions: what a condition's value rests on, for one case, in words.

Takes resolved expressions, a case, the knowledge base's facts and definitions, and a
`value` function (expression, case -> value, None for unknown): the evaluator's own, so the
meaning of an expression is never written twice. Gives:

- `open_facts`: the unknown facts that keep an unknown condition open, those whose answer
  could still decide it. A fact read only beside a false conjunct or a true disjunct is not
  one (Kleene: `false and x` is false whatever x is).
- `reasons`: why a condition that is known came out as it did, criterion by criterion, each
  in words with the values read ("Future liver remnant volume 25 % ≤ 30 %"). For `false`,
  every criterion that failed; for `true`, every criterion that held. An unknown criterion
  is never a reason (it is a need).

Does not walk pathways and decides nothing of its own.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, NamedTuple

from .memo import Memo
from ..lang import ir
from ..lang.reads import facts_read
from ..lang.values import format_value, to_json_value

Value = Callable[[ir.Expr, Mapping[str, Any]], Any]
CaseKey = Callable[[Mapping[str, Any]], Any]
KEPT = 8192  # entries each cache of words keeps, for the cases of a cohort that repeat


def case_key(facts: Mapping[str, ir.Fact], names: tuple[str, ...]) -> CaseKey:
    """What a case gives of `names`, as a key for what was said of those values in words: each
    value with its class (30, 30.0 and Decimal("30") are equal, and are not written alike), and
    a number's text (Decimal("30") and Decimal("30.0") are equal too). Raises TypeError for a
    value that cannot be hashed (then nothing is kept)."""
    numbers = tuple(i for i, name in enumerate(names) if name in facts and isinstance(facts[name].type, ir.NumberType))
    if not numbers:
        def key(case: Mapping[str, Any]) -> Any:
            values = tuple(map(case.get, names))
            return values, tuple(map(type, values))
        return key

    if len(numbers) == 1:
        (number,) = numbers

        def key_with_a_number(case: Mapping[str, Any]) -> Any:
            values = tuple(map(case.get, names))
            return values, tuple(map(type, values)), str(values[number])
        return key_with_a_number

    def key_with_numbers(case: Mapping[str, Any]) -> Any:
        values = tuple(map(case.get, names))
        return values, tuple(map(type, values)), tuple([str(values[i]) for i in numbers])
    return key_with_numbers

_NEGATED = {"=": "≠", "!=": "=", "<": "≥", "<=": ">", ">": "≤", ">=": "<"}
_SHOWN = {"=": "=", "!=": "≠", "<": "<", "<=": "≤", ">": ">", ">=": "≥"}


class Reason(NamedTuple):
    """One criterion as it stood for the case: in words, with the facts it read."""

    text: str
    facts: tuple[tuple[str, Any], ...]

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "facts": {f: to_json_value(v) for f, v in self.facts}}


class Explainer:
    """Explains conditions of one knowledge base."""

    def __init__(self, facts: Mapping[str, ir.Fact], defines: Mapping[str, ir.Define], value: Value):
        self.facts, self.defines, self.value = facts, defines, value
        self._names: dict[int, tuple[ir.Expr, tuple[str, ...]]] = {}
        # `reasons` depend only on the values of the facts the condition reads: kept per
        # (condition, those values), up to a bound (the condition kept beside its key: its id
        # is not reused while the entry lives)
        self._keys: dict[int, tuple[ir.Expr, CaseKey]] = {}
        # (kept from a key's second sight: memo.py)
        self._reasons: Memo = Memo(KEPT)  # key -> tuple[Reason, ...]
        self._criteria: Memo = Memo(KEPT)  # a criterion's reason, per (criterion, holds, values read)

    # ---- what is still open ------------------------------------------------------------
    def open_facts(self, e: ir.Expr | None, case: Mapping[str, Any]) -> tuple[str, ...]:
        """The unknown facts whose answers could still decide `e` (none when `e` is known)."""
        found: dict[str, None] = {}
        if e is not None:
            self._open(e, case, found)
        return tuple(found)

    def _open(self, e: ir.Expr, case: Mapping[str, Any], found: dict[str, None]) -> None:
        if self.value(e, case) is not None:
            return
        match e:
            case ir.And(operands=ops) | ir.Or(operands=ops):
                # Unknown overall: no operand decides it, so every unknown operand is open.
                for op in ops:
                    self._open(op, case, found)
            case ir.Not(operand=op):
                self._open(op, case, found)
            case ir.DefineRef(id=name):
                self._open(self.defines[name].expr, case, found)
            case ir.FactRef(id=name):
                found.setdefault(name)
            case _:
                for child in ir.children(e):
                    self._open(child, case, found)

    # ---- why it came out as it did -------------------------------------------------------
    def key(self, e: ir.Expr, case: Mapping[str, Any]) -> Any:
        """`case_key` of the facts `e` reads (through definitions), for `e`."""
        found = self._keys.get(id(e))
        if found is None or found[0] is not e:
            found = self._keys[id(e)] = (e, case_key(self.facts, facts_read(e, self.defines)))
        return found[1](case)

    def reasons(self, e: ir.Expr, case: Mapping[str, Any]) -> tuple[Reason, ...]:
        """Why `e` has the value it has for the case; () when it is unknown."""
        try:
            key = (id(e), self.key(e, case))
            found = self._reasons.get(key)
        except TypeError:  # a value that cannot be hashed: worked out, not kept
            return self._work_reasons(e, case)
        if found is None:
            found = self._reasons.keep(key, self._work_reasons(e, case))
        return found

    def _work_reasons(self, e: ir.Expr, case: Mapping[str, Any]) -> tuple[Reason, ...]:
        v = self.value(e, case)
        if v is None:
            return ()
        found: list[Reason] = []
        holds = bool(v)
        while isinstance(e, (ir.DefineRef, ir.Not)):  # the condition itself: its criteria are the reasons
            if isinstance(e, ir.Not):
                e, holds = e.operand, not holds
            else:
                e = self.defines[e.id].expr
        self._why(e, case, holds, found)
        return tuple(dict.fromkeys(found))

    def _why(self, e: ir.Expr, case: Mapping[str, Any], holds: bool, found: list[Reason]) -> None:
        match e:
            case ir.DefineRef(id=name) if self.defines[name].label:
                # A named criterion stays one reason, with what it rests on in brackets.
                inner: list[Reason] = []
                self._why(self.defines[name].expr, case, holds, inner)
                # What a named criterion rests on is told when it holds (names what is there).
                because = "; ".join(dict.fromkeys(r.text for r in inner)) if holds else ""
                facts = tuple(dict.fromkeys(f for r in inner for f in r.facts))
                found.append(Reason(f"{self.defines[name].label}: {'yes' if holds else 'no'}"
                                    + (f" ({because})" if because else ""), facts))
            case ir.And(operands=ops) | ir.Or(operands=ops):
                # A false conjunction (a true disjunction) is decided by the operands that
                # are false (true); otherwise every operand took part.
                deciding = holds if isinstance(e, ir.Or) else not holds
                for op in ops:
                    v = self.value(op, case)
                    if v is not None and (bool(v) == holds if deciding else True):
                        self._why(op, case, bool(v), found)
            case ir.Not(operand=op):
                self._why(op, case, not holds, found)
            case ir.DefineRef(id=name):
                self._why(self.defines[name].expr, case, holds, found)
            case _:
                found.append(self._criterion(e, case, holds))

    def _criterion(self, e: ir.Expr, case: Mapping[str, Any], holds: bool) -> Reason:
        """One criterion's reason, in words with the values it read: kept per (criterion, how it
        came out, those values), so that a condition whose other criteria read values not seen
        before pays for the words of those criteria alone."""
        try:
            key = (id(e), holds, self.key(e, case))
            found = self._criteria.get(key)
        except TypeError:  # a value that cannot be hashed: worked out, not kept
            return Reason(self._leaf(e, case, holds), self._read(e, case))
        if found is None:
            found = self._criteria.keep(key, Reason(self._leaf(e, case, holds), self._read(e, case)))
        return found

    def _leaf(self, e: ir.Expr, case: Mapping[str, Any], holds: bool) -> str:
        match e:
            case ir.FactRef(id=name):
                return f"{self._label(name)}: {'yes' if holds else 'no'}"
            case ir.Compare(op="=" | "!=" as op, left=ir.FactRef(id=name) as left, right=ir.EnumLit(value=v)):
                equal = holds == (op == "=")
                shown = self._shown(left, case)
                return f"{self._label(name)}: {shown}" + ("" if equal else f", not {v}")
            case ir.Compare(op=op, left=left, right=right):
                shown = _SHOWN[op] if holds else _NEGATED[op]
                return f"{self._words(left, case)} {shown} {self._words(right, case)}"
            case ir.Member(element=element, collection=ir.SetLit(values=values)):
                listed = ", ".join(values)
                return (f"{self._words(element, case)}, one of {{{listed}}}" if holds
                        else f"{self._words(element, case)}, not one of {{{listed}}}")
            case ir.Member(element=ir.EnumLit(value=v), collection=collection):
                name = self._name(collection)
                return f"{name}: {'includes' if holds else 'does not include'} {v}" + (
                    "" if holds else f" ({self._shown(collection, case)})")
            case ir.InRange(operand=op, interval=interval):
                return f"{self._words(op, case)} {'in' if holds else 'not in'} {_interval(interval)}"
            case ir.IsKnown(operand=op, negated=negated):
                known = (not negated) == holds
                return f"{self._name(op)} {'is known' if known else 'is unknown'}"
            case ir.BoolLit(value=v):
                return "always" if v else "never"
        return f"{self._name(e)}: {'yes' if holds else 'no'}"

    # ---- words for expressions ---------------------------------------------------------
    def _label(self, fact: str) -> str:
        f = self.facts.get(fact)
        return f.label if f is not None and f.label else fact

    def _name(self, e: ir.Expr) -> str:
        match e:
            case ir.FactRef(id=name):
                return self._label(name)
            case ir.DefineRef(id=name):
                return self.defines[name].label or name
            case ir.Arith(op=op, left=a, right=b):
                return f"{self._name(a)} {'−' if op == '-' else op} {self._name(b)}"
            case ir.EnumLit(value=v):
                return v
            case ir.NumberLit() | ir.DurationLit() | ir.DateLit() | ir.BoolLit():
                return self._constant(e)
        return type(e).__name__

    def _words(self, e: ir.Expr, case: Mapping[str, Any]) -> str:
        """A side of a comparison: a constant as written, anything else named with its value."""
        if isinstance(e, (ir.NumberLit, ir.DurationLit, ir.DateLit, ir.BoolLit, ir.EnumLit)):
            return self._constant(e)
        return f"{self._name(e)} {self._shown(e, case)}"

    def _shown(self, e: ir.Expr, case: Mapping[str, Any]) -> str:
        v = self.value(e, case)
        unit = None
        if isinstance(e, ir.FactRef):
            t = self.facts[e.id].type if e.id in self.facts else None
            unit = getattr(t, "unit", None)
        return format_value(v, unit)

    @staticmethod
    def _constant(e: ir.Expr) -> str:
        match e:
            case ir.NumberLit(value=v, unit=unit):
                return format_value(v, unit)
            case ir.EnumLit(value=v):
                return v
            case ir.DurationLit(value=v) | ir.DateLit(value=v) | ir.BoolLit(value=v):
                return format_value(v)
        return str(e)

    def _read(self, e: ir.Expr, case: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
        # the facts an expression names are the same for every case: found once (by the
        # expression's id, the expression kept beside them so that id is not reused)
        kept = self._names.get(id(e))
        if kept is None or kept[0] is not e:
            kept = self._names[id(e)] = (e, tuple(dict.fromkeys(
                node.id for node in ir.walk(e) if isinstance(node, ir.FactRef))))
        get = case.get
        return tuple([(name, get(name)) for name in kept[1]])


def _interval(interval: ir.Interval) -> str:
    low, high = interval.low, interval.high
    return (f"{'[' if low.closed else '('}{format_value(low.value)} .. "
            f"{format_value(high.value)}{']' if high.closed else ')'}")


__all__ = ["Explainer", "Reason", "case_key"]
