"""The IR as plain JSON data and back, for the parse cache: data in, data out, no code run.

`to_data(value)` turns a loaded knowledge base (frozen dataclasses of `lang`, tuples, dicts,
sets, dates, decimals) into JSON-ready values; `from_data(data)` rebuilds it. A tuple is a
JSON array; every other value that JSON has no form for is an object with one key, its tag:
a dataclass is `{"ir:Fact": [its fields' values, in their order]}` (the class named by its
module under `consilium.engine.lang` and its name), and the rest are `{"@dict": ...}`,
`{"@set": ...}`, `{"@date": ...}`, `{"@decimal": ...}`. Fields go by position, not by name:
the cache keys every entry by the engine's own code (engine/cache.py), so an entry is only
ever read by the code that wrote it, and half the bytes of a knowledge base were its field
names.

Unlike pickle, decoding can only build the dataclasses and enums defined in
`consilium.engine.lang` modules already imported, tuples, dicts, sets, dates and decimals
(the IR's numbers are ints and decimals): whatever a file holds, reading it runs no code of
its choosing. A value of any other type cannot be encoded (TypeError), and a malformed
document cannot be decoded (ValueError): for the cache, both are a miss.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
import sys
from decimal import Decimal
from typing import Any, Callable

_PACKAGE = __name__.rsplit(".", 1)[0]  # consilium.engine.lang: the only classes data may name
_new = object.__new__
_set = object.__setattr__  # frozen, slotted: set the fields as dataclasses' __init__ does
_PLAIN = frozenset({str, int, float, bool, type(None)})  # what JSON gives as it is (most of the values)


def _tag(cls: type) -> str:
    module = cls.__module__
    if module != _PACKAGE and not module.startswith(_PACKAGE + "."):
        raise TypeError(f"cannot encode {module}.{cls.__qualname__}")
    return f"{module[len(_PACKAGE) + 1:]}:{cls.__qualname__}"


def _class(tag: str) -> type:
    """The class a tag names: a dataclass or an enum of a `lang` module already imported."""
    module_name, _, qualname = tag.partition(":")
    module = sys.modules.get(f"{_PACKAGE}.{module_name}") if module_name.isidentifier() else None
    cls = getattr(module, qualname, None) if module is not None and qualname.isidentifier() else None
    if isinstance(cls, type) and (dataclasses.is_dataclass(cls) or issubclass(cls, enum.Enum)):
        return cls
    raise ValueError(f"{tag} is not a class of the IR")  # never import: data must not choose what code loads


def to_data(value: Any) -> Any:
    """JSON-ready data for an IR value; TypeError for a value the IR should not hold."""
    if value is None or isinstance(value, (bool, int, str)):
        if isinstance(value, int) and not isinstance(value, bool) and type(value) is not int:
            raise TypeError(f"cannot encode {type(value).__name__}")
        return value
    if type(value) is float:
        return value if value == value and abs(value) != float("inf") else {"@float": repr(value)}
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return [to_data(v) for v in value]
    if isinstance(value, enum.Enum):
        return {_tag(type(value)): value.name}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {_tag(type(value)): [to_data(getattr(value, f.name)) for f in dataclasses.fields(value)]}
    if type(value) is dict:
        return {"@dict": [[to_data(k), to_data(v)] for k, v in value.items()]}
    if type(value) is list:
        return {"@list": [to_data(v) for v in value]}
    if type(value) in (frozenset, set):
        return {"@frozenset" if type(value) is frozenset else "@set": [to_data(v) for v in value]}
    if type(value) is _dt.date:
        return {"@date": value.isoformat()}
    if type(value) is Decimal:
        return {"@decimal": str(value)}
    raise TypeError(f"cannot encode {type(value).__name__}")


def from_data(data: Any) -> Any:
    """The IR value that `to_data` gave `data` for; ValueError when `data` is not such data."""
    kind = type(data)
    if kind is list:
        return tuple([v if type(v) in _PLAIN else from_data(v) for v in data])
    if kind is dict and len(data) == 1:
        for tag, payload in data.items():
            make = _MAKERS.get(tag) or _maker(tag)
            return make(payload)
    if kind in _PLAIN:
        return data
    raise ValueError(f"not IR data: {str(data)[:80]}")


def _maker(tag: Any) -> Callable[[Any], Any]:
    """How to rebuild a value of a class tag (a dataclass or an enum of the IR), found once."""
    if not isinstance(tag, str) or tag.startswith("@"):
        raise ValueError(f"not IR data: {tag!r}")
    cls: Any = _class(tag)
    make = _enum_maker(tag, cls) if issubclass(cls, enum.Enum) else _dataclass_maker(tag, cls)
    _MAKERS[tag] = make
    return make


def _enum_maker(tag: str, cls: type[enum.Enum]) -> Callable[[Any], Any]:
    members = cls.__members__

    def make(name: Any) -> Any:
        if type(name) is not str or name not in members:
            raise ValueError(f"{tag} has no member {name!r}")
        return members[name]
    return make


def _dataclass_maker(tag: str, cls: Any) -> Callable[[Any], Any]:
    names = tuple(f.name for f in dataclasses.fields(cls))

    def make(values: Any) -> Any:
        if type(values) is not list or len(values) != len(names):
            raise ValueError(f"the fields of {tag} do not match")
        instance = _new(cls)
        for name, value in zip(names, values):  # noqa: B905 - the lengths were compared above
            _set(instance, name, value if type(value) in _PLAIN else from_data(value))
        return instance
    return make


def _floats(payload: Any) -> float:
    if payload in ("inf", "-inf", "nan"):
        return float(payload)
    raise ValueError(f"not IR data: a float {payload!r}")


def _pairs(payload: Any) -> dict:
    if type(payload) is not list or any(type(pair) is not list or len(pair) != 2 for pair in payload):
        raise ValueError("not IR data: a dict")
    return {from_data(k): from_data(v) for k, v in payload}


def _items(payload: Any) -> list:
    if type(payload) is not list:
        raise ValueError("not IR data: a collection")
    return [from_data(v) for v in payload]


def _text(payload: Any) -> str:
    if type(payload) is not str:
        raise ValueError("not IR data: a text form")
    return payload


# Rebuilding each tag: the values JSON has no form for, then the IR's classes as they are met.
_MAKERS: dict[str, Callable[[Any], Any]] = {
    "@float": _floats, "@dict": _pairs, "@list": _items,
    "@set": lambda payload: set(_items(payload)), "@frozenset": lambda payload: frozenset(_items(payload)),
    "@date": lambda payload: _dt.date.fromisoformat(_text(payload)),
    "@decimal": lambda payload: Decimal(_text(payload))}


__all__ = ["to_data", "from_data"]
