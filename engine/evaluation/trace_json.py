"""The JSON of a recorded trace: what the walk recorded, and the case's values -> each step's JSON.

Takes a trace as the walk records it (evaluation/result.py's `Trace`): constants made at load,
one per node and outcome, either a whole step (it reads no fact) or a step without what the
case fills in (the facts it read, with their values, and the words naming the missing facts
that could decide a node left open, which the caller gives: those of the result's needs).
Gives the trace's JSON (`TraceStep.to_json` of every step, in order) and the result's
`undecided` JSON (`Stuck.to_json` of the steps left open that no missing fact could decide),
without making the steps themselves.

A result's trace is most of its JSON, and the same few constants come back case after case:
a step's JSON is kept per constant and per the values of the facts it reads (read-only and
shared between results: evaluation/shared.py), so that most steps of most cases are found,
not made. The work per case is done in C as far as it goes (`map` over the trace): per step,
the key of the values read, and a look-up; only a step not found is made in Python.

Keys (`case_json`, once per case for every step). A value of class `bool`, `str`, `date`,
`frozenset` or None is its own key: two equal values of those classes are written alike, and a
value of any other class equal to one of them (1 and True, 1.0 and 1, Decimal("1.0") and 1)
has a key of its own: its class, and its text where equal values of the class are not all
written alike (0.0 and -0.0, Decimal("7.0") and Decimal("7.00")). A set is kept only when its
members are words ({1} and {True} are equal and are not written alike): any other has a key
that cannot be hashed, as has a value that cannot be hashed, and neither is ever kept.

What is kept: a step's JSON per key once that key has come back at that step (the values a
random case gives a step are mostly never given there again: those steps are made, not kept,
which costs less than keeping them), up to `_VALUES_KEPT` a step.

A step's JSON is kept per the values it read: what a step says depends on nothing else (the
facts that could decide an open node are worked out from the node and the values it read:
evaluation/needs.py's `Relevance`).

Does not decide what a step says (the walk and codegen/walk.py do; which facts could decide an
open node, needs.py), nor share anything else of the result's JSON (result.py does).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from itertools import repeat
from operator import call, itemgetter
from typing import Any, NamedTuple

from ..lang.values import to_json_value
from .shared import EMPTY_DICT, shared_dict, shared_list

STUCK_REASON = ("a condition has no value for this case (a division by zero, or a date beyond "
                "0001-01-01 .. 9999-12-31), so no branch is taken")

def stuck_reason(outcome: str) -> str:
    """Why a step left `undecided` with every fact it read given is stuck: what its outcome says
    after the colon, else the general reason."""
    reason = outcome.partition(":")[2].strip()
    return STUCK_REASON if not reason or reason.startswith("needs") else reason


# What a recorded entry is: (step, facts read, words opening a step's outcome that names the
# facts that could decide it, or None, and the words when none could), the step a `TraceStep`.
Parts = tuple[tuple[Any, ...], tuple[str, ...], "str | None", "str | None"]
# (pathway, node) -> the missing facts that could decide the node, left open by the case (else ())
Deciding = Callable[["str | None", str], tuple[str, ...]]

_new = tuple.__new__  # (a named tuple made without its Python-level __new__)
_NONE = ""  # the name a step that reads no fact is looked up by: always None (its one key)

# Per recorded entry (a constant made at load), by its id: (entry, getter of its key from the
# case's keys, its JSON per key, what it needs to be made). The entry is kept beside it, so that
# its id is not reused while the entry lives. Bounded: a process that loads many knowledge
# bases does not grow it without end.
_KEPT: dict[int, tuple[Any, Any, dict[Any, Any], _Maker]] = {}
_KEPT_BOUND = 65536
_VALUES_KEPT = 256       # steps kept per entry, per distinct values read
_SEEN_KEPT = 1024        # keys met once, per entry
_NAMES: dict[str, None] = {_NONE: None}  # every fact a kept entry reads, None: the keys of a case's missing facts
_SETS: dict[frozenset[str], Any] = {}  # a set of words' JSON (a sorted list, read-only), per set
_SETS_BOUND = 4096


class CaseJSON(NamedTuple):
    """What a result's JSON needs of its case, worked out once for all its parts."""

    keys: dict[str, Any]    # every fact a step reads, by name: its value's key (None when missing)
    values: dict[str, Any]  # the case's values in their JSON form (a set's: a read-only list)
    sets: list[str]         # the facts whose JSON is a list

    def fields(self) -> dict[str, Any]:
        """The result's `case`: its values' JSON by name, sorted, its lists its own (a list met in
        two places of a plain container would be one list in a deep copy of it)."""
        values = self.values
        fields = {name: values[name] for name in sorted(values)}
        for name in self.sets:
            fields[name] = list(fields[name])
        return fields


def case_json(case: Mapping[str, Any], names: Mapping[str, None] | None = None) -> CaseJSON:
    """The keys and JSON values of a case's facts (see the module's docstring). `names`: the
    knowledge base's facts, each None, if known (else every fact a kept step reads, of every
    knowledge base this process has written a trace's JSON for)."""
    keys: dict[str, Any] = dict(_NAMES if names is None else names)
    keys.update(case)
    values = dict(case)
    sets, lists = _SETS, []
    for name, v in case.items():
        c = v.__class__
        if c is bool or c is str or v is None:  # (most values: their own key and JSON)
            continue
        if c is date:
            values[name] = v.isoformat()
        elif c is frozenset:
            found = sets.get(v)
            if found is None:
                found = _set_json(v)
                if v not in sets:  # a set of other than words: never kept (a key that cannot be hashed)
                    keys[name] = [v]
            values[name] = found
            lists.append(name)
        elif c is int:
            keys[name] = (v, c)
        elif c is float:  # (equal floats are written alike but for 0.0 and -0.0)
            keys[name] = (v, c) if v else (v, c, str(v))
        else:
            keys[name] = (v, c, str(v))
            values[name] = to_json_value(v)
    keys[_NONE] = None
    return _new(CaseJSON, (keys, values, lists))


class _Maker:
    """How one recorded entry's JSON is made for the values it read."""

    __slots__ = ("base", "reads", "needs", "otherwise", "may_stick", "done", "seen")

    def __init__(self, parts: Parts, done: dict[Any, Any]):
        step, reads, needs, otherwise = parts
        pathway, node, kind, span, _, outcome, following, branch, code = step
        span_json = None if span is None else shared_dict({
            "file": span.file, "line": span.line, "column": span.column, "end_line": span.end_line,
            "end_column": span.end_column})
        self.base = {"pathway": pathway, "node": node, "kind": kind, "span": span_json, "read": EMPTY_DICT,
                     "outcome": outcome, "code": code, "next": shared_list(following), "branch": branch}
        self.reads, self.needs, self.otherwise = tuple(reads), needs, otherwise
        # whether the step can be one of the result's `undecided` (`result.stuck_steps`)
        self.may_stick = code == "undecided" or any(
            words is not None and words.startswith("undecided") for words in (outcome, needs, otherwise))
        self.done = done
        # the hashes of the keys met once (numbers: nothing for the garbage collector to scan; two
        # keys of one hash only keep a step met once): a step is kept when its values come again
        self.seen: set[int] = set()

    def make(self, values: Mapping[str, Any], deciding: Deciding, key: Any = None,
             keep: bool = False) -> tuple[dict[str, Any], Any]:
        """The step's JSON for the case's JSON `values`, and its `Stuck.to_json` (or None); an
        open step names the facts `deciding` gives it. With `keep`, kept per `key`, read-only,
        when that key was met before (most values met once at a step are never met there again:
        those are made, not kept); else the step's own dicts fresh (its span and `next` shared
        all the same)."""
        fields = self.base.copy()
        reads, needs = self.reads, self.needs
        if reads:
            # read-only even in a step made fresh: a set's JSON in it is the case's, shared
            fields["read"] = shared_dict(zip(reads, map(values.get, reads), strict=True))
        named: tuple[str, ...] = ()
        if needs is not None:
            named = deciding(fields["pathway"], fields["node"]) if reads else ()
            fields["outcome"] = needs + ", ".join(named) if named or self.otherwise is None else self.otherwise
        stopped = None
        if self.may_stick and not named:
            outcome = fields["outcome"]
            if fields["code"] == "undecided" or outcome.startswith("undecided"):
                stopped = shared_dict({"pathway": fields["pathway"], "node": fields["node"], "kind": fields["kind"],
                                       "span": fields["span"], "reason": stuck_reason(outcome)})
        if keep:
            seen, hashed = self.seen, hash(key)
            if hashed in seen or not reads:
                made = (shared_dict(fields), stopped)
                done = self.done
                if len(done) >= _VALUES_KEPT:
                    done.clear()
                    seen.clear()
                done[key] = made
                return made
            if len(seen) >= _SEEN_KEPT:
                seen.clear()
            seen.add(hashed)
        return fields, stopped


def _set_json(value: frozenset[Any]) -> Any:
    """A set's JSON: its members sorted, read-only, kept per set of words."""
    made = shared_list(sorted(value))
    if all(m.__class__ is str for m in value):
        if len(_SETS) >= _SETS_BOUND:
            _SETS.clear()
        _SETS[value] = made
    return made


def _register(entry: Any, parts: Callable[[Any], Parts]) -> tuple[Any, Any, dict[Any, Any], _Maker]:
    """What a recorded entry's JSON is made and found by, made when first met, kept by its id."""
    split = parts(entry)
    reads = tuple(split[1])
    done: dict[Any, Any] = {}
    maker = _Maker(split, done)
    getter: Callable[[dict[str, Any]], Any]
    if reads:
        getter = itemgetter(*reads)  # one name: its value's key; several: a tuple of them
        _NAMES.update(dict.fromkeys(reads))
    else:  # the same JSON for every case (it reads no fact: none could decide it)
        getter = itemgetter(_NONE)
        maker.make({}, _NOTHING, None, True)
    if len(_KEPT) >= _KEPT_BOUND:
        _KEPT.clear()
    made = _KEPT[id(entry)] = (entry, getter, done, maker)
    return made


def _nothing(pathway: str | None, node: str) -> tuple[str, ...]:
    return ()


_NOTHING: Deciding = _nothing


def recorded_json(recorded: Sequence[Any], case: CaseJSON, parts: Callable[[Any], Parts],
                  deciding: Deciding) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The JSON of the steps `recorded` (constants made at load) for a case (`case_json`), and
    the result's `undecided` JSON. `parts(entry)`: (step, facts read, needs, otherwise) of an
    entry; `deciding(pathway, node)`: the facts that could decide a node the case leaves open."""
    kept = _KEPT
    found_entries = list(map(kept.get, map(id, recorded)))
    if None in found_entries:  # entries not met before (the knowledge base's first cases)
        found_entries = [m if m is not None else _register(entry, parts)
                         for entry, m in zip(recorded, found_entries, strict=True)]
    if not found_entries:
        return [], []
    _, getters, dones, makers = zip(*found_entries, strict=True)
    try:
        keyed = list(map(call, getters, repeat(case.keys)))
    except KeyError:  # a fact read that the case's keys lack (a step met for the first time): None
        keys = case.keys
        keys.update({name: None for maker in makers for name in maker.reads if name not in keys})
        keyed = list(map(call, getters, repeat(keys)))
    try:
        pairs = list(map(dict.get, dones, keyed))
        hashable = True
    except TypeError:  # a value that cannot be hashed (or kept): each step looked up, or made, on its own
        pairs = [_get(d, k) for d, k in zip(dones, keyed, strict=True)]
        hashable = False
    if None in pairs:
        values = case.values
        for i in [i for i, pair in enumerate(pairs) if pair is None]:
            key = keyed[i]
            pairs[i] = makers[i].make(values, deciding, key, hashable or _hashable(key))
    return list(map(_FIRST, pairs)), list(filter(None, map(_SECOND, pairs)))


_FIRST: Callable[[Any], Any] = itemgetter(0)
_SECOND: Callable[[Any], Any] = itemgetter(1)


def _get(done: dict[Any, Any], key: Any) -> Any:
    try:
        return done.get(key)
    except TypeError:
        return None


def _hashable(key: Any) -> bool:
    try:
        hash(key)
    except TypeError:
        return False
    return True


__all__ = ["STUCK_REASON", "CaseJSON", "case_json", "recorded_json", "stuck_reason"]
