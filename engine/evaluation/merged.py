"""One warning per thing said: a result's warnings with those saying the same thing merged.

Takes a result's warnings (`RuleWarning`s); returns `MergedWarning`s, most severe first.
Warnings quoting the same sentence of the same source (a pathway's `warn` and a safety rule
often do: "liver-first is contraindicated if the primary is bleeding") are one warning,
naming every rule and source it comes from. The text output, the report and the result's
JSON (`merged_warnings`) all show these, so each says the same; the JSON's `warnings` keeps
one entry per rule, for tools that count rules. Pure; it does not word origins for people
(engine/wording.py does).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, NamedTuple

from .memo import Memo

if TYPE_CHECKING:  # result.py imports this module: its JSON holds the merged warnings
    from .result import RuleWarning

_SEVERITY = {"critical": 0, "warning": 1, "info": 2}


class MergedWarning(NamedTuple):
    """One warning as shown: the most severe of the warnings that say it gives the words."""

    severity: str
    label: str
    quote: str | None
    instead: str | None            # the first origin's that has one
    origins: tuple["RuleWarning", ...]

    @property
    def rules(self) -> tuple[str, ...]:
        return tuple(w.id for w in self.origins)

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(w.source for w in self.origins if w.source))

    def to_json(self) -> dict[str, Any]:
        return {"severity": self.severity, "label": self.label, "quote": self.quote, "instead": self.instead,
                "rules": list(self.rules), "sources": list(self.sources),
                "origins": [{"id": w.id, "kind": w.kind, "label": w.label, "severity": w.severity,
                             "source": w.source, "section": w.section, "references": list(w.refs),
                             "pathway": w.pathway} for w in self.origins]}


def merge_warnings(warnings: Iterable["RuleWarning"]) -> tuple[MergedWarning, ...]:
    """The warnings with the same source and quote (compared without case or spacing) merged,
    most severe first, in the order raised among equals; a warning without a quote stays alone.
    Kept per distinct list of warnings, up to a bound: the cases of a cohort repeat them."""
    warnings = tuple(warnings)
    try:
        found = _MERGED.get(warnings)
    except TypeError:  # a field that cannot be hashed: worked out, not kept
        return _merge(warnings)
    if found is None:
        found = _MERGED.keep(warnings, _merge(warnings))
    return found


_MERGED = Memo(4096)  # tuple[RuleWarning, ...] -> tuple[MergedWarning, ...], from its second sight


def _merge(warnings: tuple["RuleWarning", ...]) -> tuple[MergedWarning, ...]:
    groups: dict[tuple, list["RuleWarning"]] = {}
    for w in warnings:
        key = (w.source, _normal(w.quote)) if w.quote else ("", w.kind, w.id)
        groups.setdefault(key, []).append(w)
    merged = []
    for group in groups.values():
        first = min(group, key=lambda w: _SEVERITY.get(w.severity, 3))
        merged.append(MergedWarning(first.severity, first.label, first.quote,
                                    next((w.instead for w in group if w.instead), None), tuple(group)))
    return tuple(sorted(merged, key=lambda m: _SEVERITY.get(m.severity, 3)))


def _normal(text: str | None) -> str:
    found = _NORMAL.get(text)
    if found is None:
        found = " ".join((text or "").lower().split())
        if len(_NORMAL) >= 4096:
            _NORMAL.clear()
        _NORMAL[text] = found
    return found


_NORMAL: dict[str | None, str] = {}  # a quote as compared, per quote: the same quotes case after case
