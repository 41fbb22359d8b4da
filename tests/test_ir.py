"""Every pass handles every IR expression class: adding a class without its case fails here."""

from __future__ import annotations

import datetime as dt
import typing

import pytest

from consilium.engine.lang import ir
from consilium.engine.evaluation.compile import Compiler, facts_read
from consilium.engine.lang.values import Duration

SAMPLES = {
    ir.BoolLit: ir.BoolLit(value=True),
    ir.NumberLit: ir.NumberLit(value=3),
    ir.DurationLit: ir.DurationLit(value=Duration(days=42)),
    ir.DateLit: ir.DateLit(value=dt.date(2024, 1, 1)),
    ir.Name: None,  # never reaches the compiler: check resolves it
    ir.FactRef: ir.FactRef(id="a"),
    ir.DefineRef: ir.DefineRef(id="d"),
    ir.EnumLit: ir.EnumLit(value="mutant"),
    ir.SetLit: ir.SetLit(values=("x",)),
    ir.And: ir.And(operands=(ir.FactRef(id="a"), ir.BoolLit(value=True))),
    ir.Or: ir.Or(operands=(ir.FactRef(id="a"), ir.BoolLit(value=False))),
    ir.Not: ir.Not(operand=ir.FactRef(id="a")),
    ir.Compare: ir.Compare(op="<", left=ir.FactRef(id="n"), right=ir.NumberLit(value=3)),
    ir.InRange: ir.InRange(operand=ir.FactRef(id="n"), interval=ir.Interval(
        low=ir.Bound(value=1, closed=True), high=ir.Bound(value=3, closed=False))),
    ir.Member: ir.Member(element=ir.EnumLit(value="x"), collection=ir.FactRef(id="s")),
    ir.IsKnown: ir.IsKnown(operand=ir.FactRef(id="a")),
    ir.Arith: ir.Arith(op="+", left=ir.FactRef(id="n"), right=ir.NumberLit(value=1)),
    ir.Negate: ir.Negate(operand=ir.FactRef(id="n")),
    ir.Coalesce: ir.Coalesce(operands=(ir.FactRef(id="missing"), ir.FactRef(id="n"))),
    ir.Extreme: ir.Extreme(op="min", operands=(ir.FactRef(id="n"), ir.NumberLit(value=1))),
    ir.Absolute: ir.Absolute(operand=ir.Negate(operand=ir.FactRef(id="n"))),
    ir.Round: ir.Round(operand=ir.FactRef(id="n"), places=1),
    ir.MonthsBetween: ir.MonthsBetween(start=ir.DateLit(value=dt.date(2024, 1, 31)), end=ir.FactRef(id="d0")),
}
CASE = {"a": True, "n": 2, "s": frozenset({"x"}), "d0": dt.date(2024, 3, 1)}
DEFINES = {"d": ir.Define(id="d", expr=ir.FactRef(id="a"))}


def test_every_expression_class_has_a_sample():
    assert set(SAMPLES) == set(typing.get_args(ir.Expr))


@pytest.mark.parametrize("cls", [c for c, s in SAMPLES.items() if s is not None], ids=lambda c: c.__name__)
def test_compiler_and_static_walks_handle_each_class(cls):
    sample = SAMPLES[cls]
    value = Compiler(DEFINES).expr(sample)(CASE)
    assert value is not None
    assert isinstance(ir.children(sample), tuple)
    facts_read(sample, DEFINES)


def test_spans_are_not_part_of_equality():
    from consilium.engine.lang.diagnostics import Span
    a = ir.FactRef(id="a", span=Span("x.rules", 1, 1, 1, 2))
    b = ir.FactRef(id="a", span=Span("y.rules", 9, 9, 9, 10))
    assert a == b and hash(a) == hash(b)
