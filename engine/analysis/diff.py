"""Semantic diff: what changes between two versions of a knowledge base, and for which patients.

Takes two knowledge bases (folders, root files, or git revisions of one); returns the
declarations added, removed or changed (as text), and the regions of cases whose result
changes: for each recommendation or warning, the cases where it now fires and did not
before, or no longer fires, each shown by an example case with the recommendations
before and after. Both versions are encoded over one set of facts (a fact of the same name
and type is the same fact), and every example is confirmed by evaluating both versions.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
import z3

from ..lang.diagnostics import UsageError
from ..kb import KnowledgeBase, load_kb
from .verify.encode import Encoder
from .verify.reach import reach
from .verify.solve import Case, Encoding, find_case


@dataclass(frozen=True)
class Change:
    kind: str        # added | removed | changed
    what: str        # fact, rule, decision, ...
    id: str

    def to_json(self) -> dict:
        return {"kind": self.kind, "what": self.what, "id": self.id}


@dataclass(frozen=True)
class Region:
    rule: str
    label: str
    change: str                      # "now fires" | "no longer fires"
    case: dict
    before: tuple[str, ...]          # recommendations and warnings of the old version for the case
    after: tuple[str, ...]

    def to_json(self) -> dict:
        return {"rule": self.rule, "label": self.label, "change": self.change, "case": self.case,
                "before": list(self.before), "after": list(self.after)}


@dataclass
class Diff:
    old: str
    new: str
    changes: list[Change] = field(default_factory=list)
    regions: list[Region] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def changed_ids(self) -> set[str]:
        return {c.id for c in self.changes} | {r.rule for r in self.regions}

    def to_json(self) -> dict:
        return {"old": self.old, "new": self.new, "changes": [c.to_json() for c in self.changes],
                "regions": [r.to_json() for r in self.regions], "notes": self.notes}


def load_version(spec: str, kb_folder: str = "kb") -> tuple[KnowledgeBase, str]:
    """A knowledge base from a path, or from a git revision (its `kb_folder` at that commit)."""
    if Path(spec).exists():
        return load_kb(spec), spec
    try:
        commit = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{spec}^{{commit}}"],
                                capture_output=True, text=True, check=True).stdout.strip()
        prefix = subprocess.run(["git", "rev-parse", "--show-prefix"], capture_output=True, text=True,
                                check=True).stdout.strip()
        archive = subprocess.run(["git", "archive", "--format=tar", commit, f"{prefix}{kb_folder}"],
                                 capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        raise UsageError(f"'{spec}' is neither a path nor a git revision with a '{kb_folder}' folder") from None
    folder = Path(tempfile.mkdtemp(prefix="consilium-diff-"))
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return load_kb(folder / prefix / kb_folder), f"{spec} ({commit[:10]})"


def _declarations(kb: KnowledgeBase) -> dict[tuple[str, str], object]:
    found: dict[tuple[str, str], object] = {}
    found.update((("source", s.id), s) for s in kb.sources.values())
    found.update((("fact", f.id), f) for f in kb.facts.values())
    found.update((("definition", d.id), d) for d in kb.defines.values())
    for pathway in kb.pathways:
        found["pathway", pathway.id] = (pathway.label, pathway.source, pathway.sites,
                                        tuple(n.id for n in pathway.nodes))
        found.update(((type(n).__name__.lower(), n.id), n) for n in pathway.nodes)
    found.update((("safety", s.id), s) for s in kb.safeties)
    found.update((("plan", p.id), p) for p in kb.plans.values())
    return found


def diff(old: KnowledgeBase, new: KnowledgeBase, old_name: str = "old", new_name: str = "new") -> Diff:
    result = Diff(old_name, new_name)
    before, after = _declarations(old), _declarations(new)
    for key in sorted(before.keys() | after.keys()):
        if key not in after:
            result.changes.append(Change("removed", *key))
        elif key not in before:
            result.changes.append(Change("added", *key))
        elif before[key] != after[key]:  # spans are not part of equality: moving text is no change
            result.changes.append(Change("changed", *key))
    _regions(old, new, result)
    return result


def _regions(old: KnowledgeBase, new: KnowledgeBase, result: Diff) -> None:
    enum_ids: dict[str, int] = {}
    e_old = Encoder(dict(old.facts), dict(old.defines), "old.", enum_ids)
    e_new = Encoder(dict(new.facts), dict(new.defines), "new.", enum_ids)
    r_old, r_new = reach(old, e_old), reach(new, e_new)
    solver = z3.Solver()
    solver.set("timeout", 5000)
    solver.add(*e_old.domain, *e_new.domain)
    for name in old.facts.keys() & new.facts.keys():
        if old.facts[name].type != new.facts[name].type:
            result.notes.append(f"the fact '{name}' changed type; the two versions are compared as if it were "
                                "two facts")
            continue
        a, b = e_old.values[name], e_new.values[name]
        solver.add(a.known == b.known, *_same_terms(a.term, b.term))
    labels = {**{k: getattr(v, "label", k) for k, v in r_old.rules.items()},
              **{k: getattr(v, "label", k) for k, v in r_new.rules.items()}}
    for rule in sorted(r_old.fires.keys() | r_new.fires.keys()):
        was = r_old.fires.get(rule, z3.BoolVal(False))
        now = r_new.fires.get(rule, z3.BoolVal(False))
        for change, formula in (("now fires", z3.And(now, z3.Not(was))), ("no longer fires", z3.And(was, z3.Not(now)))):
            # each fact is read from the version that has it (the same value in both, where both do)
            found = find_case(solver, formula, (Encoding(e_new, new.facts), Encoding(e_old, old.facts)),
                              partial(_confirm, old=old, new=new, rule=rule, change=change))
            if found is not None:
                case, (before_ids, after_ids) = found
                result.regions.append(Region(rule, labels[rule], change, case, before_ids, after_ids))


def _same_terms(a, b) -> list:
    if isinstance(a, dict):
        return [a[k] == b[k] for k in a.keys() & b.keys()]
    if isinstance(a, tuple):
        return [x == y for x, y in zip(a, b, strict=True)]
    return [a == b]


def _ids(kb: KnowledgeBase, case: Case) -> tuple[str, ...] | None:
    own = {k: v for k, v in case.items() if k in kb.facts}
    try:
        result = kb.evaluate(own)
    except Exception:  # noqa: BLE001 - a case one version's schema refuses is not an example
        return None
    return tuple(result.recommendation_ids() + result.warning_ids())


def _confirm(case: Case, old: KnowledgeBase, new: KnowledgeBase, rule: str,
             change: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """The recommendations before and after, where the case shows the change; else None."""
    before, after = _ids(old, case), _ids(new, case)
    if before is None or after is None:
        return None
    fired_before, fired_after = rule in before, rule in after
    if (change == "now fires" and fired_after and not fired_before) or \
            (change == "no longer fires" and fired_before and not fired_after):
        return before, after
    return None


def format_diff(d: Diff) -> str:
    import json
    lines = [f"consilium diff {d.old} -> {d.new}"]
    if d.changes:
        lines.append("declarations:")
        lines += [f"  {c.kind:<8} {c.what} '{c.id}'" for c in d.changes]
    else:
        lines.append("declarations: none changed")
    if d.regions:
        lines.append("cases whose result changes:")
        for r in d.regions:
            lines.append(f"  '{r.rule}' {r.change}: {r.label}")
            lines.append(f"    for example {json.dumps(r.case, ensure_ascii=False)}")
            lines.append(f"    before: {', '.join(r.before) or 'nothing'}")
            lines.append(f"    after:  {', '.join(r.after) or 'nothing'}")
    else:
        lines.append("cases whose result changes: none — the two versions decide every case alike")
    lines += [f"note: {n}" for n in d.notes]
    return "\n".join(lines)


__all__ = ["diff", "Diff", "Change", "Region", "load_version", "format_diff"]
