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

from functools import lru_cache
from itertools import combinations
from typing import Any, Iterable, Mapping, NamedTuple

from ..lang import ir
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

    def to_json(self) -> dict[str, Any]:
        return {"recommends": list(self.recommends), "advises_against": list(self.advises_against),
                "rules": list(self.rules), "silent": self.silent, "pending": list(self.pending)}


class Relation(NamedTuple):
    first: str
    second: str
    relation: str               # concordant | complementary | conflicting | silent
    actions: tuple[str, ...]    # shared (concordant) or opposed (conflicting) actions

    def to_json(self) -> dict[str, Any]:
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

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "present": self.present,
                "sources": {s.source: s.to_json() for s in self.sources},
                "relations": [r.to_json() for r in self.relations]}


class Concordance:
    """The per-site view of one knowledge base, built once; `views` gives it for one evaluation.

    A site's view depends only on whether the case has the site, which rules fired there
    for each source and which facts are pending: views are kept for the inputs seen last,
    so a cohort pays for each distinct combination once.
    """

    def __init__(self, sites: Mapping[str, str], sources: tuple[str, ...], rules: Mapping[str, ir.Recommend],
                 pathways: tuple[ir.Pathway, ...]):
        """`sites`: id -> label, in declaration order; `rules`: every recommendation, by id."""
        self._sites = tuple(sites.items())
        self._sources = sources
        index = {site: i for i, site in enumerate(sites)}
        self._pathway_sites = {p.id: tuple(index[s] for s in p.sites) for p in pathways}
        self._pathway_source = {p.id: p.source for p in pathways}
        self._rules = {rule_id: (r.provenance.source, r.actions, r.modality in AGAINST) for rule_id, r in rules.items()}
        self._view = lru_cache(maxsize=4096)(self._make_view)

    def views(self, recommendations: Iterable[Recommendation], present: tuple[bool | None, ...],
              pending: Mapping[str, tuple[str, ...]]) -> tuple[SiteView, ...]:
        """`present`: per site, does the case have it; `pending`: pathway -> facts it still needs.

        A recommendation counts at each site of its pathway that the case has.
        """
        if not present:
            return ()
        fired: list[list[str]] = [[] for _ in present]
        for r in recommendations:
            for i in self._pathway_sites.get(r.pathway, ()):
                fired[i].append(r.id)
        waiting: list[list[tuple[str, tuple[str, ...]]]] = [[] for _ in present]
        for pathway, facts in pending.items():
            for i in self._pathway_sites[pathway]:
                waiting[i].append((pathway, facts))
        view = self._view
        return tuple([view(i, here, tuple(rules) if here is True else (), tuple(facts))
                      for i, (here, rules, facts) in enumerate(zip(present, fired, waiting))])

    def _make_view(self, i: int, present: bool | None, fired: tuple[str, ...],
                   waiting: tuple[tuple[str, tuple[str, ...]], ...]) -> SiteView:
        """`fired`: the rules that count at the site, in order; `waiting`: (pathway, facts) at the site."""
        at_site = []
        for source in self._sources:
            recommends: dict[str, None] = {}
            against: dict[str, None] = {}
            rules: dict[str, None] = {}
            for rule in fired:
                rule_source, actions, opposed = self._rules[rule]
                if rule_source == source:
                    rules[rule] = None
                    (against if opposed else recommends).update(dict.fromkeys(actions))
            pending: dict[str, None] = {}
            for pathway, facts in waiting:
                if self._pathway_source[pathway] == source:
                    pending.update(dict.fromkeys(facts))
            at_site.append(SourceAtSite(source, tuple(recommends), tuple(against), tuple(rules), tuple(pending)))
        site, label = self._sites[i]
        return SiteView(site, label, present, tuple(at_site),
                        tuple(_relate(a, b) for a, b in combinations(at_site, 2)))


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
