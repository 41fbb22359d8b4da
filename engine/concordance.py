"""Concordance: for each metastatic site, what each source recommends, and how they relate.

Takes the recommendations of one evaluation and the sites of the pathways they came from;
returns, per site, each source's recommended and advised-against actions (the vocabulary
the rules share through `action`), and for each pair of sources one relation:

- silent: one of the two says nothing for this site and case;
- conflicting: one recommends an action the other advises against (modality avoid or not
  recommended);
- concordant: they recommend at least one action in common;
- complementary: they recommend different actions, none opposed.
"""

from __future__ import annotations

from itertools import combinations
from typing import Iterable, Mapping, NamedTuple

from .result import Recommendation

AGAINST = ("not_recommended", "avoid")


class SourceAtSite(NamedTuple):
    source: str
    recommends: tuple[str, ...]        # actions
    advises_against: tuple[str, ...]   # actions
    rules: tuple[str, ...]             # the recommendation ids behind them
    pending: tuple[str, ...] = ()      # facts its pathways here still need: silent for now, not for good

    @property
    def silent(self) -> bool:
        return not self.rules

    def to_json(self) -> dict:
        return {"recommends": list(self.recommends), "advises_against": list(self.advises_against),
                "rules": list(self.rules), "silent": self.silent, "pending": list(self.pending)}


class Relation(NamedTuple):
    first: str
    second: str
    relation: str               # concordant | complementary | conflicting | silent
    actions: tuple[str, ...]    # shared (concordant) or opposed (conflicting) actions

    def to_json(self) -> dict:
        return {"sources": [self.first, self.second], "relation": self.relation, "actions": list(self.actions)}


class SiteView(NamedTuple):
    site: str
    label: str
    present: bool | None  # does the case have this site? None: unknown
    sources: tuple[SourceAtSite, ...]
    relations: tuple[Relation, ...]

    def relation(self, a: str, b: str) -> Relation:
        for r in self.relations:
            if {r.first, r.second} == {a, b}:
                return r
        raise KeyError((a, b))

    def source(self, source: str) -> SourceAtSite:
        for s in self.sources:
            if s.source == source:
                return s
        raise KeyError(source)

    def to_json(self) -> dict:
        return {"label": self.label, "present": self.present,
                "sources": {s.source: s.to_json() for s in self.sources},
                "relations": [r.to_json() for r in self.relations]}


def by_site(recommendations: Iterable[Recommendation], pathway_sites: Mapping[str, tuple[str, ...]],
            sites: Mapping[str, tuple[str, bool | None]], sources: tuple[str, ...],
            pending: Mapping[tuple[str, str], tuple[str, ...]]) -> tuple[SiteView, ...]:
    """`sites`: id -> (label, present); `pending`: (site, source) -> facts still needed there.

    A recommendation counts at each site of its pathway that the case has.
    """
    table: dict[tuple[str, str], tuple[dict, dict, dict]] = {
        (site, source): ({}, {}, {}) for site in sites for source in sources}
    for r in recommendations:
        for site in pathway_sites.get(r.pathway, ()):
            if sites[site][1] is not True:
                continue
            recommends, against, rules = table[site, r.source]
            rules.setdefault(r.id)
            for action in r.actions:
                (against if r.modality in AGAINST else recommends).setdefault(action)
    views = []
    for site, (label, present) in sites.items():
        at_site = tuple(SourceAtSite(source, tuple(table[site, source][0]), tuple(table[site, source][1]),
                                     tuple(table[site, source][2]), pending.get((site, source), ()))
                        for source in sources)
        views.append(SiteView(site, label, present, at_site,
                              tuple(_relate(a, b) for a, b in combinations(at_site, 2))))
    return tuple(views)


def _relate(a: SourceAtSite, b: SourceAtSite) -> Relation:
    if a.silent or b.silent:
        return Relation(a.source, b.source, "silent", ())
    opposed = (set(a.recommends) & set(b.advises_against)) | (set(b.recommends) & set(a.advises_against))
    if opposed:
        return Relation(a.source, b.source, "conflicting", tuple(sorted(opposed)))
    shared = (set(a.recommends) & set(b.recommends)) | (set(a.advises_against) & set(b.advises_against))
    if shared:
        return Relation(a.source, b.source, "concordant", tuple(sorted(shared)))
    return Relation(a.source, b.source, "complementary", ())
