"""The IR as plain JSON data and back, for the parse cache: data in, data out, no code run.

`to_data(value)` turns a loaded knowledge base (frozen dataclasses of `lang`, tuples,
dicts, dates, decimals) into JSON-ready values, each object tagged with what it was;
`from_data(data)` rebuilds it. Unlike pickle, decoding can only build the dataclasses and
enums defined in `consilium.engine.lang` modules already imported, tuples, dicts, sets,
dates, decimals and fractions: whatever a file holds, reading it runs no code of its
choosing. A value of any other type cannot be encoded (TypeError), and a malformed
document cannot be decoded (ValueError): for the cache, both are a miss.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
import sys
from decimal import Decimal
from fractions import Fraction
from typing import Any

_PACKAGE = __name__.rsplit(".", 1)[0]  # consilium.engine.lang: the only classes data may name


def _name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _class(name: Any, kind: str) -> type:
    if not isinstance(name, str) or ":" not in name:
        raise ValueError(f"not a class name: {name!r}")
    module_name, qualname = name.split(":", 1)
    if module_name != _PACKAGE and not module_name.startswith(_PACKAGE + "."):
        raise ValueError(f"{name} is not a class of the IR")
    module = sys.modules.get(module_name)  # never import: data must not choose what code loads
    cls = getattr(module, qualname, None) if module is not None and "." not in qualname else None
    if kind == "dataclass" and isinstance(cls, type) and dataclasses.is_dataclass(cls):
        return cls
    if kind == "enum" and isinstance(cls, type) and issubclass(cls, enum.Enum):
        return cls
    raise ValueError(f"{name} is not a {kind} of the IR")


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
        return {"@enum": _name(type(value)), "name": value.name}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        cls = type(value)
        if not (cls.__module__ == _PACKAGE or cls.__module__.startswith(_PACKAGE + ".")):
            raise TypeError(f"cannot encode {_name(cls)}")
        return {"@": _name(cls), **{f.name: to_data(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    if type(value) is dict:
        return {"@dict": [[to_data(k), to_data(v)] for k, v in value.items()]}
    if type(value) is list:
        return {"@list": [to_data(v) for v in value]}
    if type(value) in (frozenset, set):
        return {"@set": [to_data(v) for v in value], "frozen": type(value) is frozenset}
    if type(value) is _dt.date:
        return {"@date": value.isoformat()}
    if type(value) is Decimal:
        return {"@decimal": str(value)}
    if type(value) is Fraction:
        return {"@fraction": [value.numerator, value.denominator]}
    raise TypeError(f"cannot encode {type(value).__name__}")


def from_data(data: Any) -> Any:
    """The IR value that `to_data` gave `data` for; ValueError when `data` is not such data."""
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return tuple(from_data(v) for v in data)
    if not isinstance(data, dict):
        raise ValueError(f"unexpected {type(data).__name__}")
    if "@" in data:
        cls = _class(data["@"], "dataclass")
        fields = dataclasses.fields(cls)
        if set(data) - {"@"} != {f.name for f in fields}:
            raise ValueError(f"the fields of {data['@']} do not match")
        instance: Any = object.__new__(cls)  # frozen, slotted: set the fields as dataclasses' __init__ does
        for f in fields:
            object.__setattr__(instance, f.name, from_data(data[f.name]))
        return instance
    items: list[tuple[Any, Any]] = list(data.items()) or [(None, None)]
    (tag, payload), *rest = items
    match tag:
        case "@float":
            return float(payload) if payload in ("inf", "-inf", "nan") else _bad(data)
        case "@enum":
            enum: Any = _class(payload, "enum")
            return enum[data["name"]]
        case "@dict" if not rest:
            return {from_data(k): from_data(v) for k, v in payload}
        case "@list" if not rest:
            return [from_data(v) for v in payload]
        case "@set":
            members = (from_data(v) for v in payload)
            return frozenset(members) if data.get("frozen") else set(members)
        case "@date" if not rest:
            return _dt.date.fromisoformat(payload)
        case "@decimal" if not rest:
            return Decimal(payload)
        case "@fraction" if not rest:
            return Fraction(*payload)
    return _bad(data)


def _bad(data: Any):
    raise ValueError(f"not IR data: {str(data)[:80]}")


__all__ = ["to_data", "from_data"]
