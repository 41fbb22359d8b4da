"""A bounded memo that keeps an entry from its key's second sight: the evaluation's caches.

The evaluator and its advice keep what they work out per distinct input (a source's views per
the rules fired, a node's needs per the values it read, a finding's reasons per values, ...):
a cohort's cases repeat, and what is kept is worked out once. A stream of distinct cases (a
registry, the benchmarks' random cases) mostly meets a key once: an entry kept for a key never
met again costs memory and, above all, the garbage collector's time, since every full
collection scans every object the caches hold. Measured on distinct cases of the bundled
knowledge base, the caches grew by about 19 tracked objects a case, and full collections took
half of the collector's time (docs/benchmarks.md, "`to_json` and the garbage collector").

So a key met for the first time is only noted, by its hash (a number: nothing for the
collector to scan), and its value is kept when the key comes again. Two keys of one hash only
make the second kept on its first sight. Bounded: emptied when full (the cases of a cohort of
distinct answers are then worked out again), and so is the note of the keys met once.

`Memo` is a `dict`: a look-up is `dict.get`, at C speed; only a miss calls `keep`. It decides
nothing about what is worked out, nor whether a value may be shared (the callers do).
"""

from __future__ import annotations

from typing import Any, TypeVar

_V = TypeVar("_V")


class Memo(dict):
    """A `dict` of at most `bound` entries, each kept from its key's second sight (`keep`)."""

    __slots__ = ("bound", "_met")

    def __init__(self, bound: int) -> None:
        super().__init__()
        self.bound = bound
        self._met: set[int] = set()  # the hashes of the keys met once

    def keep(self, key: Any, value: _V) -> _V:
        """`value`, kept under `key` when the key was met before; noted otherwise. Raises
        `TypeError` for a key that cannot be hashed, as a look-up of it does."""
        hashed = hash(key)
        met = self._met
        if hashed in met:
            if len(self) >= self.bound:
                self.clear()
            self[key] = value
        else:
            if len(met) >= 4 * self.bound:
                met.clear()
            met.add(hashed)
        return value

    def __reduce__(self) -> tuple[Any, ...]:
        return (Memo, (self.bound,))  # (pickled empty: what a memo holds is worked out again)


__all__ = ["Memo"]
