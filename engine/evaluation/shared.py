"""Read-only dicts and lists: the parts of a result's JSON that many results share.

Why they exist: `Result.to_json()` returns JSON-ready dicts and lists, and most of what it
holds is the same case after case (a recommendation with its provenance, a trace step's span,
a site's view for a given answer). Building each afresh per call cost several evaluations'
worth of time (a result of the bundled knowledge base is about 480 containers), so those parts
are made once and shared between results, and made read-only so that what one caller does to
its JSON cannot change what another result says.

`SharedDict` and `SharedList` are a `dict` and a `list` (so `isinstance`, `==` with plain ones,
`json.dumps` and JSON Schema validation treat them as such) whose mutating methods all raise
`TypeError`, saying the part is shared and to take `copy.deepcopy(...)` for a copy to change.
`copy.copy` gives a plain dict or list (its items still shared); `copy.deepcopy` gives plain
containers all the way down, a fresh one for each place a shared part appears (so changing the
copy in one place changes it nowhere else); pickling round-trips them as they are.

`frozen(value)` makes plain JSON (dicts, lists, and the scalars JSON has) read-only, deeply.
Does not decide what is shared, nor keep anything: the result's JSON writers do (result.py).
"""

from __future__ import annotations

import copy
from typing import Any, NoReturn

_MESSAGE = ("this part of a result's JSON is shared with other results and read-only; "
            "take copy.deepcopy(...) for a copy you can change")


def _refuse(self: Any, *args: Any, **kwargs: Any) -> NoReturn:
    raise TypeError(_MESSAGE)  # (the words README's "Result JSON" quotes)


class SharedDict(dict):
    """A read-only `dict`, shared between results (see the module's docstring)."""

    __slots__ = ()

    def __new__(cls, *args: Any, **kwargs: Any) -> SharedDict:
        made = dict.__new__(cls)
        dict.update(made, *args, **kwargs)  # filled here: `__init__` can fill nothing later
        return made

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Filled by `__new__`; called again to refill it, refuses."""
        if (args or kwargs) and not dict.__eq__(self, dict(*args, **kwargs)):
            _refuse(self)

    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __copy__(self) -> dict:
        return dict(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> dict:
        return _thawed(self, memo)

    def __reduce__(self) -> tuple[Any, ...]:
        return (SharedDict, (dict(self),))

    @classmethod
    def fromkeys(cls, iterable: Any, value: Any = None) -> SharedDict:
        return cls(dict.fromkeys(iterable, value))


class SharedList(list):
    """A read-only `list`, shared between results (see the module's docstring)."""

    __slots__ = ()

    def __new__(cls, *args: Any) -> SharedList:
        made = list.__new__(cls)
        if args:
            list.extend(made, *args)  # filled here: `__init__` (which would refill it) does nothing
        return made

    def __init__(self, *args: Any) -> None:
        """Filled by `__new__`; called again to refill it, refuses."""
        if args and not list.__eq__(self, list(*args)):
            _refuse(self)

    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse
    append = extend = insert = pop = remove = clear = sort = reverse = _refuse

    def __copy__(self) -> list:
        return list(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> list:
        return _thawed(self, memo)

    def __reduce__(self) -> tuple[Any, ...]:
        return (SharedList, (list(self),))


EMPTY_LIST = SharedList()  # (a shared empty list: never a field of its own at a JSON's top level)
EMPTY_DICT = SharedDict()

_new_dict, _fill_dict, _new_list, _fill_list = dict.__new__, dict.update, list.__new__, list.extend


def shared_dict(items: Any) -> SharedDict:
    """`SharedDict(items)` at the speed of `dict(items)`: made in C, without the class's
    `__new__`, which is written in Python (what the result's JSON writers make many of)."""
    made = _new_dict(SharedDict)
    _fill_dict(made, items)
    return made


def shared_list(items: Any) -> SharedList:
    """`SharedList(items)`, made in C: see `shared_dict`."""
    made = _new_list(SharedList)
    _fill_list(made, items)
    return made


def _thawed(value: Any, memo: dict[int, Any]) -> Any:
    """A plain deep copy; a shared part is copied afresh each time it is met, not once per
    deep copy as `copy.deepcopy` would (the memo), since results share it where a caller sees
    separate places."""
    if isinstance(value, dict):
        return {k: _thawed(v, memo) for k, v in value.items()}
    if isinstance(value, list):
        return [_thawed(v, memo) for v in value]
    if value is None or value.__class__ in _SCALARS:
        return value
    return copy.deepcopy(value, memo)


_SCALARS = frozenset({bool, int, float, str})


def frozen(value: Any) -> Any:
    """`value` (JSON: dicts, lists, scalars) with every dict and list read-only, deeply; parts
    already read-only are taken as they are."""
    cls = value.__class__
    if cls is dict:
        return shared_dict({k: frozen(v) if v.__class__ in _PLAIN_CONTAINERS else v for k, v in value.items()})
    if cls is list:
        return shared_list([frozen(v) if v.__class__ in _PLAIN_CONTAINERS else v for v in value])
    return value


_PLAIN_CONTAINERS = frozenset({dict, list})


__all__ = ["EMPTY_DICT", "EMPTY_LIST", "SharedDict", "SharedList", "frozen", "shared_dict", "shared_list"]
