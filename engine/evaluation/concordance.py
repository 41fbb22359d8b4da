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

from .memo import Memo
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
        # SourceAtSite.to_json and Relation.to_json, written out: a result has a view per site
        return {"label": self.label, "present": self.present,
                "sources": {s.source: {"recommends": list(s.recommends), "advises_against": list(s.advises_against),
                                       "rules": list(s.rules), "silent": not s.rules, "pending": list(s.pending)}
                            for s in self.sources},
                "relations": [{"sources": [r.first, r.second], "relation": r.relation, "actions": list(r.actions)}
                              for r in self.relations]}


class Concordance:
    """The per-site view of one knowledge base, built once; `views` gives it for one evaluation.

    A site's view depends only on whether the case has the site, which rules fired there
    for each source and which facts are pending: views are kept for the inputs seen last,
    so a cohort pays for each distinct combination once (the views of all sites per distinct
    whole input, and each site's view per distinct input at that site).
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
        # a site's view is made of one part per source and one relation per pair: each kept too,
        # since they repeat across sites and cases far more than whole views do
        self._at_site = lru_cache(maxsize=4096)(self._source_at_site)
        # a pair's relation, by the two parts' ids (hashing the parts would cost more than relating
        # them); both parts kept beside it, so neither id is reused while the entry lives
        self._relations: Memo = Memo(4096)  # (id, id) -> (SourceAtSite, SourceAtSite, Relation)
        self._silent: dict[tuple[str, str], Relation] = {}
        self._views: Memo = Memo(4096)  # the whole answer (tuple[SiteView, ...]), per distinct input

    def views(self, fired: tuple[str, ...], recommendations: Iterable[Recommendation],
              present: tuple[bool | None, ...], pending: Mapping[str, tuple[str, ...]]) -> tuple[SiteView, ...]:
        """`fired`: the ids of `recommendations`; `present`: per site, does the case have it;
        `pending`: pathway -> facts it still needs.

        A recommendation counts at each site of its pathway that the case has.
        """
        if not present:
            return ()
        key = (present, fired, tuple(pending.items()))
        found = self._views.get(key)
        if found is None:
            found = self._views.keep(key, self._views_of(recommendations, present, pending))  # (bounded)
        return found

    def _views_of(self, recommendations: Iterable[Recommendation], present: tuple[bool | None, ...],
                  pending: Mapping[str, tuple[str, ...]]) -> tuple[SiteView, ...]:
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
                      for i, (here, rules, facts) in enumerate(zip(present, fired, waiting, strict=True))])

    def _make_view(self, i: int, present: bool | None, fired: tuple[str, ...],
                   waiting: tuple[tuple[str, tuple[str, ...]], ...]) -> SiteView:
        """`fired`: the rules that count at the site, in order; `waiting`: (pathway, facts) at the site."""
        rules: dict[str | None, list[str]] = {source: [] for source in self._sources}
        pending: dict[str | None, dict[str, None]] = {source: {} for source in self._sources}
        for rule in fired:
            rules[self._rules[rule][0]].append(rule)
        for pathway, facts in waiting:
            source = self._pathway_source[pathway]
            if source in pending:
                pending[source].update(dict.fromkeys(facts))
        at_site = tuple([self._at_site(source, tuple(rules[source]), tuple(pending[source]))
                         for source in self._sources])
        site, label = self._sites[i]
        return SiteView(site, label, present, at_site, tuple([self._relate(a, b) for a, b in combinations(at_site, 2)]))

    def _relate(self, a: SourceAtSite, b: SourceAtSite) -> Relation:
        if not a.rules or not b.rules:  # one says nothing here: the same for every case
            silent = self._silent.get((a.source, b.source))
            if silent is None:
                silent = self._silent[a.source, b.source] = Relation(a.source, b.source, "silent", ())
            return silent
        kept = self._relations.get((id(a), id(b)))
        if kept is not None and kept[0] is a and kept[1] is b:
            return kept[2]
        return self._relations.keep((id(a), id(b)), (a, b, _relate(a, b)))[2]  # (bounded)

    def _source_at_site(self, source: str, rules: tuple[str, ...], pending: tuple[str, ...]) -> SourceAtSite:
        """One source at one site: what its rules that fired there recommend and advise against."""
        recommends: dict[str, None] = {}
        against: dict[str, None] = {}
        for rule in rules:
            _, actions, opposed = self._rules[rule]
            (against if opposed else recommends).update(dict.fromkeys(actions))
        return SourceAtSite(source, tuple(recommends), tuple(against), rules, pending)


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
