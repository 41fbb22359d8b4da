"""Frozen, slotted dataclasses made cheaply: `record` (fields by position or keyword) and `make_record`.

A class decorated `@record` is what `@dataclass(frozen=True, slots=True)` makes of it: the same
fields (`dataclasses.fields`, `replace`, `__match_args__`), `__init__` (defaults, default
factories, `__post_init__`), equality and hash over the fields that take part in comparison,
repr, frozen assignment and deletion (FrozenInstanceError), pickling and copying. What differs
is the cost of making the class, which a short command pays for every class it imports:
`dataclass` writes and compiles five or six functions per class, where these share one
`__eq__`, `__hash__`, `__repr__`, `__setattr__`, `__delattr__` and pickling pair among all
classes, and write `__init__` when a class is first instantiated (a tenth of the cost).
A class that defines `__eq__`, `__hash__` or `__repr__` itself keeps its own, as with
`dataclass`. ir.py's `ir_class` is `make_record(cls, kw_only=True)`.

It lives in `lang`, the lowest room, and imports nothing of Consilium.
"""

from __future__ import annotations

from dataclasses import MISSING, FrozenInstanceError, dataclass, field, fields
from operator import attrgetter
from typing import Any, Callable, TypeVar, dataclass_transform

_T = TypeVar("_T")


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def record(cls: type[_T]) -> type[_T]:
    """`@dataclass(frozen=True, slots=True)`, made cheaply (see above)."""
    return make_record(cls, kw_only=False)


def make_record(cls: type[_T], *, kw_only: bool) -> type[_T]:
    """`cls` as a frozen, slotted dataclass (keyword-only with `kw_only`). A class without a
    docstring gets a short one, which `dataclass` would work out with `inspect.signature`."""
    if not cls.__doc__:
        named = ", ".join(cls.__dict__.get("__annotations__", ()))
        cls.__doc__ = f"{cls.__name__}({'*, ' if kw_only and named else ''}{named})"
    own = {name for name in ("__eq__", "__hash__", "__repr__") if name in cls.__dict__}
    made: Any = dataclass(init=False, slots=True, kw_only=kw_only, eq=False, repr=False)(cls)
    made._compared = _getter(tuple(f.name for f in fields(made) if f.compare))
    made._shown = tuple(f.name for f in fields(made) if f.repr)
    for name, shared in (("__eq__", _eq), ("__hash__", _hash), ("__repr__", _repr)):
        if name not in own:
            setattr(made, name, shared)
    made.__setattr__, made.__delattr__ = _frozen_set, _frozen_delete
    made.__getstate__, made.__setstate__ = _state, _set_state
    made.__init__ = _first_init(made)
    return made


def _first_init(cls: Any) -> Callable[..., None]:
    """An `__init__` that writes the class's own on its first call and then gives way to it."""
    def first(self: Any, /, *args: Any, **kwargs: Any) -> None:
        cls.__init__ = _init_of(cls)
        cls.__init__(self, *args, **kwargs)
    return first


def _init_of(cls: Any) -> Callable[..., None]:
    """The `__init__` `dataclass(frozen=True)` would write for `cls`: its fields in order, the
    keyword-only ones after `*`, each with its default; set past the frozen `__setattr__`."""
    names: dict[str, Any] = {"_set": object.__setattr__, "_none": MISSING}
    positional: list[str] = []
    keyword: list[str] = []
    body: list[str] = []
    for f in fields(cls):
        if f.default is not MISSING:
            names[f"_default_{f.name}"] = f.default
            value = f"_default_{f.name}"
        elif f.default_factory is not MISSING:
            names[f"_factory_{f.name}"] = f.default_factory
            value = "_none"
        else:
            value = ""
        if not f.init:  # not a parameter: its default, if it has one, as `dataclass` sets it
            if value:
                body.append(f"    _set(self, {f.name!r}, {value if value != '_none' else f'_factory_{f.name}()'})")
            continue
        (keyword if f.kw_only else positional).append(f"{f.name}={value}" if value else f.name)
        if value == "_none":
            body.append(f"    if {f.name} is _none: {f.name} = _factory_{f.name}()")
        body.append(f"    _set(self, {f.name!r}, {f.name})")
    if hasattr(cls, "__post_init__"):
        body.append("    self.__post_init__()")
    parameters = ", ".join(["self", *positional, *(["*", *keyword] if keyword else [])])
    source = f"def __init__({parameters}) -> None:\n" + "\n".join(body or ["    pass"]) + "\n"
    exec(source, names)  # noqa: S102 - written from the class's own field names
    init = names["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


def _getter(names: tuple[str, ...]) -> Callable[[Any], tuple]:
    """The tuple of an object's `names` fields, as `dataclass`'s __eq__ and __hash__ compare them."""
    if len(names) > 1:
        return attrgetter(*names)
    if names:
        one = attrgetter(names[0])
        return lambda value: (one(value),)
    return lambda value: ()


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is not self.__class__:
        return NotImplemented
    key = self.__class__._compared
    return key(self) == key(other)


def _hash(self: Any) -> int:
    return hash(self.__class__._compared(self))


def _repr(self: Any) -> str:
    shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__class__._shown)
    return f"{self.__class__.__qualname__}({shown})"


def _frozen_set(self: Any, name: str, value: Any) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delete(self: Any, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


def _state(self: Any) -> list[Any]:
    """What pickle and `copy` keep of a record: its fields' values, in order."""
    return [getattr(self, f.name) for f in fields(self)]


def _set_state(self: Any, state: list[Any]) -> None:
    for f, value in zip(fields(self), state, strict=True):
        object.__setattr__(self, f.name, value)  # frozen: past the class's own __setattr__


__all__ = ["record", "make_record"]
