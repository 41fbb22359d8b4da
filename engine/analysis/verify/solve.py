"""From a formula over facts to a case a person can run: the solver loop verify and diff share.

Takes a Z3 solver, a formula, the encodings of one or more knowledge bases (each an `Encoder`
with its facts) and a `confirm` function; returns a case (as a case file writes it, only the
facts the formula mentions) that satisfies the formula and that `confirm` accepts, with what
`confirm` answered. A model the real evaluator does not confirm is blocked and the next one
tried, `ATTEMPTS` times at most. Does not build formulas (see `encode` and `reach`) or decide
what a finding is (see `verify` and `diff`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable, Iterable, Mapping, Sequence

import z3

from ...lang import ir
from .encode import Encoder

ATTEMPTS = 8  # models tried before a finding the real evaluator does not confirm is dropped

Case = dict[str, Any]


@dataclass(frozen=True)
class Encoding:
    """One knowledge base as the solver sees it: its encoder and the facts a case may give."""

    encoder: Encoder
    facts: Mapping[str, ir.Fact]


def find_case(solver: z3.Solver, formula: z3.BoolRef, encodings: Sequence[Encoding],
              confirm: Callable[[Case], Any]) -> tuple[Case, Any] | None:
    """A case satisfying `formula` that `confirm` accepts (a truthy answer), and that answer.

    None when no case satisfies the formula, or none of `ATTEMPTS` models was confirmed."""
    solver.push()
    try:
        solver.add(formula, *[c for e in encodings for c in domain(formula, e.encoder)])
        names = [fact_names(formula, e.encoder) for e in encodings]
        for _ in range(ATTEMPTS):
            if solver.check() != z3.sat:
                return None
            model = solver.model()
            case: Case = {}
            for encoding, mentioned in zip(encodings, names, strict=True):
                # a fact both versions have is the same variable value in both: the first one wins
                for name, value in case_from_model(model, mentioned, encoding.encoder, encoding.facts).items():
                    case.setdefault(name, value)
            answer = confirm(case)
            if answer:
                return case, answer
            pinned = [eq for e, mentioned in zip(encodings, names, strict=True)
                      for eq in block(model, e.encoder, mentioned)]
            solver.add(z3.Not(z3.And(pinned)) if pinned else z3.BoolVal(False))
        return None
    finally:
        solver.pop()


def fact_names(formula: z3.ExprRef, encoder: Encoder) -> list[str]:
    """The facts a formula mentions, in declaration order.

    Looks each symbol up by its name (`Encoder.fact_of`): printing terms here, on every solver
    call, once cost two thirds of `consilium check`."""
    seen = {encoder.fact_of.get(s) for s in symbols(formula, encoder.symbols)}
    return [name for name in encoder.facts if name in seen]


def domain(formula: z3.ExprRef, encoder: Encoder) -> list[z3.BoolRef]:
    """The constraints every case satisfies (ranges, enum values, fresh dates) on what `formula`
    mentions, and on what those constraints mention in turn.

    Each fact's constraints involve that fact alone and can always be met, so leaving out those of
    facts the formula does not mention changes no answer; asserting all of them on every call
    made each call slower as the knowledge base grew."""
    found: dict[int, z3.BoolRef] = {}
    done: set[str] = set()
    todo = list(symbols(formula, encoder.symbols))
    while todo:
        symbol = todo.pop()
        if symbol in done:
            continue
        done.add(symbol)
        for constraint in encoder.domain_of.get(symbol, ()):
            if constraint.get_id() not in found:
                found[constraint.get_id()] = constraint
                todo.extend(symbols(constraint, encoder.symbols))
    return list(found.values())


def symbols(formula: z3.ExprRef, memo: dict[int, tuple[z3.ExprRef, frozenset[str]]] | None = None) -> frozenset[str]:
    """The names of the free constants (the variables) in a formula.

    With a `memo` (an encoder's `symbols`), each subformula is walked once for all the calls that
    share it: verification asks about the same reach formulas thousands of times. The memo keeps
    each formula alive, so that Z3 never gives its id to another."""
    memo = {} if memo is None else memo
    todo: list[tuple[z3.ExprRef, bool]] = [(formula, False)]
    while todo:
        e, expanded = todo.pop()
        key = e.get_id()
        if key in memo:
            continue
        if z3.is_const(e):
            own = e.decl().kind() == z3.Z3_OP_UNINTERPRETED
            memo[key] = (e, frozenset((e.decl().name(),)) if own else frozenset())
        elif expanded:
            memo[key] = (e, frozenset().union(*(memo[c.get_id()][1] for c in e.children())))
        else:
            todo.append((e, True))
            todo.extend((c, False) for c in e.children() if c.get_id() not in memo)
    return memo[formula.get_id()][1]


def case_from_model(model: z3.ModelRef, names: Iterable[str], encoder: Encoder,
                    facts: Mapping[str, ir.Fact]) -> Case:
    """The case a model describes, as a case file writes it: only the named facts it knows."""
    case: Case = {}
    inverse = {i: v for v, i in encoder.enum_ids.items()}

    def value_of(term: Any) -> Any:
        return model.eval(term, model_completion=True)

    for name in names:
        value = encoder.values[name]
        if not z3.is_true(value_of(value.known)):
            continue
        match value.kind:
            case "bool":
                case[name] = z3.is_true(value_of(value.term))
            case "number":
                case[name] = _number(value_of(value.term), facts[name])
            case "enum":
                case[name] = inverse[value_of(value.term).as_long()]
            case "set":
                case[name] = [v for v, flag in value.term.items() if z3.is_true(value_of(flag))]
            case "date":
                case[name] = dt.date.fromordinal(value_of(value.term).as_long()).isoformat()
            case "duration":
                months, days = (value_of(t).as_long() for t in value.term)
                case[name] = f"{months} months" if months else f"{days} days"
    return case


def block(model: z3.ModelRef, encoder: Encoder, names: Iterable[str]) -> list[z3.BoolRef]:
    """Equalities pinning the named facts to this model's values (negate their conjunction to block it)."""
    same = []
    for name in names:
        value = encoder.values[name]
        for term in [value.known, *value.terms()]:
            same.append(term == model.eval(term, model_completion=True))
    return same


def _number(value: Any, fact: ir.Fact) -> int | float:
    if z3.is_int_value(value):
        return int(value.as_long())
    fraction = Fraction(value.numerator_as_long(), value.denominator_as_long())
    if fraction.denominator == 1 or getattr(fact.type, "integer", False):
        return int(fraction)
    return float(fraction)


__all__ = ["ATTEMPTS", "Case", "Encoding", "find_case", "fact_names", "domain", "case_from_model", "block"]
