"""Where each key of a JSON object stands in its text, found when asked.

Takes the text of a JSON case (an object at the top); `KeyPositions` maps each top-level key
to its `Span` (the first place of a key given twice). The text is scanned from the start only
as far as the key asked for, with the json module's own string scanner and decoder (both in
C), and what was passed is kept: positions are needed only for the keys a diagnostic names,
so a valid case costs nothing, and a case of 100,000 wrong keys (whose diagnostics name the
first few) little more. Does not validate: where the text is not as expected, the scan stops
(the caller has parsed the text with `json.loads` already).
"""

from __future__ import annotations

import bisect
import json
import re
from json.decoder import scanstring  # type: ignore[attr-defined]  # in the module (C or Python), not in typeshed
from typing import Iterator, Mapping

from ..lang.diagnostics import Span

_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def _skip_space(text: str, pos: int) -> int:
    """Where the white space from `pos` ends."""
    match = _SPACE.match(text, pos)
    assert match is not None  # `[ \t\n\r]*` matches everywhere, if only the empty string
    return match.end()


class KeyPositions(Mapping[str, Span]):
    def __init__(self, name: str, text: str):
        self.name, self.text = name, text
        self.found: dict[str, Span] = {}
        self._starts: list[int] | None = None
        pos = _skip_space(text, 0)
        self._pos: int | None = pos + 1 if text[pos:pos + 1] == "{" else None  # None: the scan is over

    def _place(self, offset: int) -> tuple[int, int]:
        if self._starts is None:
            self._starts = [0] + [m.end() for m in re.finditer("\n", self.text)]
        line = bisect.bisect_right(self._starts, offset)
        return line, offset - self._starts[line - 1] + 1

    def _next(self) -> str | None:
        """Scan one more key; None when there is none."""
        text, pos = self.text, self._pos
        if pos is None:
            return None
        self._pos = None
        try:
            pos = _skip_space(text, pos)
            if text[pos:pos + 1] != '"':
                return None
            key, end = scanstring(text, pos + 1)
            if key not in self.found:
                self.found[key] = Span(self.name, *self._place(pos), *self._place(end))
            pos = _skip_space(text, end)
            if text[pos:pos + 1] != ":":
                return key
            _, pos = _DECODER.raw_decode(text, _skip_space(text, pos + 1))
            pos = _skip_space(text, pos)
            if text[pos:pos + 1] == ",":
                self._pos = pos + 1
        except (ValueError, RecursionError):  # the caller reports what is wrong with the text
            return None
        return key

    def __getitem__(self, key: str) -> Span:
        while key not in self.found:
            if self._next() is None:
                raise KeyError(key)
        return self.found[key]

    def __iter__(self) -> Iterator[str]:
        while self._next() is not None:
            pass
        return iter(self.found)

    def __len__(self) -> int:
        return len(list(iter(self)))


def key_positions(name: str, text: str) -> KeyPositions:
    return KeyPositions(name, text)
