"""records.py: a `@record` class behaves as `@dataclass(frozen=True, slots=True)` would make it."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from dataclasses import field

import pytest

from consilium.engine.lang.records import make_record, record


def _pair(body: dict, kw_only: bool = False):
    """The same class made by `record` (or `make_record`) and by `dataclass`."""
    ours = make_record(type("Thing", (), dict(body)), kw_only=kw_only)
    theirs = dataclasses.dataclass(frozen=True, slots=True, kw_only=kw_only)(type("Thing", (), dict(body)))
    return ours, theirs


BODY = {"__annotations__": {"a": "int", "b": "str", "c": "list", "d": "str"}, "b": "x",
        "c": field(default_factory=list, compare=False), "d": field(default="hidden", compare=False, repr=False)}


@pytest.mark.parametrize("kw_only", [False, True])
def test_a_record_is_made_as_dataclass_would_make_it(kw_only):
    ours, theirs = _pair(BODY, kw_only)
    assert [(f.name, f.default, f.compare, f.repr) for f in dataclasses.fields(ours)] == \
        [(f.name, f.default, f.compare, f.repr) for f in dataclasses.fields(theirs)]
    assert ours.__match_args__ == theirs.__match_args__ and ours.__slots__ == theirs.__slots__
    for make in ((lambda cls: cls(a=1)), (lambda cls: cls(a=1, b="y", c=[2], d="shown"))):
        mine, twin = make(ours), make(theirs)
        assert repr(mine) == repr(twin) and dataclasses.astuple(mine) == dataclasses.astuple(twin)
        assert mine == make(ours) and hash(mine) == hash(make(ours)) and hash(mine) == hash(twin)
        assert (mine == ours(a=2)) is (twin == theirs(a=2)) is False
        assert mine.c is not make(ours).c  # a fresh default per object, as a default factory gives
        assert copy.copy(mine) == mine and copy.deepcopy(mine) == mine  # through __getstate__, as pickle
        assert dataclasses.replace(mine, a=5) == ours(a=5, b=mine.b, c=mine.c, d="other")  # d: not compared
        for change in ((lambda x: setattr(x, "a", 2)), (lambda x: delattr(x, "a")),
                       (lambda x: setattr(x, "new", 2))):
            with pytest.raises(dataclasses.FrozenInstanceError):
                change(mine)
    if not kw_only:
        assert ours(1, "y") == ours(a=1, b="y")
    with pytest.raises(TypeError, match="missing 1 required"):
        ours() if not kw_only else ours(b="y")
    with pytest.raises(TypeError):
        ours(1, 2) if kw_only else ours(1, "y", [], "d", "too many")


def test_records_pickle():
    from consilium.engine.lang.diagnostics import Diagnostic, Span
    diagnostic = Diagnostic("syntax", "unexpected ':'", Span("kb/main.rules", 3, 4, 3, 5), hint="remove it")
    assert pickle.loads(pickle.dumps(diagnostic)) == diagnostic and diagnostic.severity == "error"


def test_a_record_keeps_its_own_methods_and_runs_post_init():
    @record
    class Span:
        line: int
        column: int = 1
        seen: list = field(default_factory=list, init=False, compare=False)

        def __post_init__(self) -> None:
            if self.line < 1:
                raise ValueError("lines start at 1")
            object.__setattr__(self, "column", max(self.column, 1))

        def __eq__(self, other: object) -> bool:
            return isinstance(other, Span) and other.line == self.line

        __hash__ = None  # type: ignore[assignment]

    assert Span(3, 0).column == 1 and Span(3).seen == [] and Span(3, 5) == Span(3, 7)
    with pytest.raises(ValueError, match="lines start at 1"):
        Span(0)
    with pytest.raises(TypeError):
        hash(Span(3))
    match Span(4, 2):
        case Span(line, column):
            assert (line, column) == (4, 2)
