"""Every pass over expressions handles every IR expression class: adding a class without its
case fails here. The passes: the code writer (what evaluation runs), the Z3 encoder (verify),
the words of a condition (charts), the type checker, and the static walks (children, reads)."""

from __future__ import annotations

import datetime as dt
import typing

import pytest

from consilium.engine.lang import ir
from consilium.engine.evaluation.codegen import build, expression
from consilium.engine.lang.check import Checked, _Checker
from consilium.engine.lang.reads import facts_read
from consilium.engine.lang.values import Duration

SAMPLES = {
    ir.BoolLit: ir.BoolLit(value=True),
    ir.NumberLit: ir.NumberLit(value=3),
    ir.DurationLit: ir.DurationLit(value=Duration(days=42)),
    ir.DateLit: ir.DateLit(value=dt.date(2024, 1, 1)),
    ir.Name: ir.Name(id="a"),  # check resolves it: no later pass sees one
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
    ir.Coalesce: ir.Coalesce(operands=(ir.FactRef(id="m"), ir.FactRef(id="n"))),
    ir.Extreme: ir.Extreme(op="min", operands=(ir.FactRef(id="n"), ir.NumberLit(value=1))),
    ir.Absolute: ir.Absolute(operand=ir.Negate(operand=ir.FactRef(id="n"))),
    ir.Round: ir.Round(operand=ir.FactRef(id="n"), places=1),
    ir.MonthsBetween: ir.MonthsBetween(start=ir.DateLit(value=dt.date(2024, 1, 31)), end=ir.FactRef(id="d0")),
}
CASE = {"a": True, "n": 2, "s": frozenset({"x"}), "d0": dt.date(2024, 3, 1)}
DEFINES = {"d": ir.Define(id="d", expr=ir.FactRef(id="a"))}


def test_every_expression_class_has_a_sample():
    assert set(SAMPLES) == set(typing.get_args(ir.Expr))


FACTS = {"a": ir.Fact(id="a", type=ir.BoolType(), label="A"),
         "n": ir.Fact(id="n", type=ir.NumberType(integer=True), label="N"),
         "s": ir.Fact(id="s", type=ir.SetType(values=("x",)), label="S"),
         "m": ir.Fact(id="m", type=ir.NumberType(integer=True), label="M"),
         "d0": ir.Fact(id="d0", type=ir.DateType(), label="D0")}
RESOLVED = [c for c in SAMPLES if c is not ir.Name]  # what every pass after check sees
CONDITIONS = (ir.BoolLit, ir.FactRef, ir.DefineRef, ir.And, ir.Or, ir.Not, ir.Compare, ir.InRange, ir.Member,
              ir.IsKnown)


def _checked() -> Checked:
    return Checked(sources={}, facts=FACTS, defines=DEFINES, pathways=(), plans={}, safeties=(), scenarios=())


@pytest.mark.parametrize("cls", RESOLVED, ids=lambda c: c.__name__)
def test_the_code_writer_handles_each_class(cls):
    code = build(expression(_checked(), SAMPLES[cls]), "<test>")
    assert code["value"](CASE.get) is not None
    assert code["value"]({}.get) is None or cls in (ir.BoolLit, ir.NumberLit, ir.DurationLit, ir.DateLit,
                                                      ir.EnumLit, ir.SetLit, ir.IsKnown)


@pytest.mark.parametrize("cls", RESOLVED, ids=lambda c: c.__name__)
def test_the_static_walks_handle_each_class(cls):
    assert isinstance(ir.children(SAMPLES[cls]), tuple)
    facts_read(SAMPLES[cls], DEFINES)


@pytest.mark.parametrize("cls", RESOLVED, ids=lambda c: c.__name__)
def test_the_z3_encoder_handles_each_class(cls):
    from consilium.engine.analysis.verify.encode import Encoder
    encoder = Encoder(FACTS, DEFINES)
    sample = SAMPLES[cls]
    if cls is ir.SetLit:  # a set of values stands only on the right of `in`
        sample, cls = ir.Member(element=ir.EnumLit(value="x"), collection=sample), ir.Member
    assert (encoder.truth(sample) if cls in CONDITIONS else encoder.value(sample)) is not None


@pytest.mark.parametrize("cls", RESOLVED, ids=lambda c: c.__name__)
def test_condition_words_handle_each_class(cls):
    from consilium.render.words import condition_words
    words = condition_words(SAMPLES[cls], FACTS, DEFINES)
    assert words and words != str(SAMPLES[cls])


@pytest.mark.parametrize("cls", list(SAMPLES), ids=lambda c: c.__name__)
def test_the_type_checker_handles_each_class(cls):
    checker = _Checker([])
    checker.facts, checker.defines = dict(FACTS), dict(DEFINES)
    resolved, _ = checker.expressions.expr(SAMPLES[cls])
    assert not isinstance(resolved, ir.Name)


def test_spans_are_not_part_of_equality():
    from consilium.engine.lang.diagnostics import Span
    a = ir.FactRef(id="a", span=Span("x.rules", 1, 1, 1, 2))
    b = ir.FactRef(id="a", span=Span("y.rules", 9, 9, 9, 10))
    assert a == b and hash(a) == hash(b)
