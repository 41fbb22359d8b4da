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


def _ir_values():
    """Every IR object of the bundled knowledge base, by class (frozen dataclasses of ir.py)."""
    import dataclasses
    from pathlib import Path

    import consilium
    from consilium.engine.lang.load import load
    loaded, _ = load(Path(consilium.bundled_kb_path()) / "main.rules")
    found: dict[type, list] = {}
    todo = list(loaded.declarations)
    while todo:
        value = todo.pop()
        if isinstance(value, (tuple, list, frozenset)):
            todo.extend(value)
        elif isinstance(value, dict):
            todo.extend(value.values())
        elif dataclasses.is_dataclass(value) and type(value).__module__ == ir.__name__:
            found.setdefault(type(value), []).append(value)
            todo.extend(getattr(value, f.name) for f in dataclasses.fields(value))
    return found


def test_ir_classes_compare_hash_and_show_as_dataclasses_would():
    """ir_class shares one __eq__, __hash__ and __repr__ among the IR's classes: each must
    behave as the one `dataclass` would have generated for that class."""
    import dataclasses
    found = _ir_values()
    assert len(found) > 30
    for cls, values in found.items():
        twin = dataclasses.make_dataclass(cls.__name__, [(f.name, object, dataclasses.field(
            default=None, compare=f.compare, repr=f.repr)) for f in dataclasses.fields(cls)], frozen=True,
            kw_only=True)
        twin.__qualname__ = cls.__qualname__

        def as_twin(value, twin=twin):
            return twin(**{f.name: getattr(value, f.name) for f in dataclasses.fields(value)})

        sample = values[:40]
        for a in sample:
            assert repr(a) == repr(as_twin(a))
            moved = dataclasses.replace(a, span=None) if hasattr(a, "span") else a
            assert moved == a and hash(moved) == hash(a)
            for b in sample:
                assert (a == b) == (as_twin(a) == as_twin(b)), (a, b)
                assert a != b or hash(a) == hash(b)
        assert ir.BoolType() != ir.DateType() and ir.BoolType() == ir.BoolType()
