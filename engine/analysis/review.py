"""Sign-off per rule: which rules are reviewed, which changed since, and recording a review.

Takes a knowledge base and its review record (engine/analysis/review_record.py); returns
the state of every rule: `unreviewed` (never signed), `changed` (signed, but the rule's
digest differs from the one reviewed), or the latest verdict (`approved`, `questioned`,
`rejected`); and the reviews of rules that no longer exist, which are reported, never
dropped. `sign` records reviews of named rules (an unknown rule is refused, with a
suggestion); `changes_since_review` shows what changed in each changed rule, with the
semantic diff (engine/analysis/diff.py) between the revision it was reviewed at and now.
It does not print anything; the command line and the report do.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import io
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..lang.diagnostics import Diagnostic, suggest
from .identity import RuleRef, git_revision, rules
from .review_record import (VERDICTS, Record, Review, ReviewRecordError, append, read_record,
                            record_path)

if TYPE_CHECKING:
    from ..kb import KnowledgeBase
    from .diff import Change, Region

STATES = ("unreviewed", "changed", "rejected", "questioned", "approved")
# what a release gate (`consilium check --require-review`) refuses
BLOCKING = ("unreviewed", "changed", "rejected")
STATE_WORDS = {"unreviewed": "never reviewed", "changed": "changed since its review",
               "rejected": "rejected", "questioned": "questioned", "approved": "approved"}


@dataclass(frozen=True, slots=True)
class RuleState:
    rule: RuleRef
    state: str                      # one of STATES
    review: Review | None           # the latest review, if any
    history: tuple[Review, ...]     # every review of the rule, oldest first

    def to_json(self) -> dict:
        span = self.rule.span
        return {"rule": self.rule.id, "kind": self.rule.kind, "label": self.rule.label, "state": self.state,
                "digest": self.rule.digest, "span": span.to_json() if span else None,
                "review": self.review.to_json() if self.review else None,
                "reviews": len(self.history)}


@dataclass(frozen=True, slots=True)
class Status:
    record: Record
    rules: tuple[RuleState, ...]
    orphans: tuple[Review, ...]     # reviews of rules the knowledge base no longer has

    def count(self, state: str) -> int:
        return sum(1 for r in self.rules if r.state == state)

    def blocking(self) -> list[RuleState]:
        return [r for r in self.rules if r.state in BLOCKING]

    def of(self, rule_id: str) -> RuleState | None:
        return next((r for r in self.rules if r.rule.id == rule_id), None)

    def orphan_diagnostics(self) -> list[Diagnostic]:
        return [Diagnostic("review-unknown-rule", f"the review of '{o.rule}' ({o.verdict}, {o.by}, "
                           f"{o.date.isoformat()}) names a rule this knowledge base no longer has", o.span,
                           severity="warning", hint="keep it as history, or delete it from the record by hand")
                for o in self.orphans]

    def to_json(self) -> dict:
        return {"record": self.record.name, "counts": {s: self.count(s) for s in STATES},
                "rules": [r.to_json() for r in self.rules], "orphans": [o.to_json() for o in self.orphans]}


def status(kb: "KnowledgeBase", record: Record | None = None) -> Status:
    """Every rule's review state; raises ReviewRecordError when the record is malformed."""
    if record is None:
        record = read_record(record_path(kb.paths[0]))
    known = rules(kb)
    history: dict[str, list[Review]] = {}
    for review in record.reviews:
        history.setdefault(review.rule, []).append(review)
    states = []
    for rule_id, rule in known.items():
        reviews = tuple(history.get(rule_id, ()))
        latest = reviews[-1] if reviews else None
        if latest is None:
            state = "unreviewed"
        elif latest.digest != rule.digest:
            state = "changed"
        else:
            state = latest.verdict
        states.append(RuleState(rule, state, latest, reviews))
    orphans = tuple(r for r in record.reviews if r.rule not in known)
    return Status(record, tuple(states), orphans)


def sign(kb: "KnowledgeBase", rule_ids: list[str], by: str, verdict: str, comment: str | None = None,
         today: _dt.date | None = None) -> tuple[Review, ...]:
    """Record one review per rule (all or none); raises ReviewRecordError on bad input."""
    known = rules(kb)
    problems = []
    for rule_id in rule_ids:
        if rule_id not in known:
            problems.append(Diagnostic("review-unknown-rule", f"no rule '{rule_id}' in this knowledge base",
                                       hint=suggest(rule_id, known) or "`consilium review status` lists the rules"))
    if not by.strip():
        problems.append(Diagnostic("review-invalid", "--by is empty: say who reviewed"))
    if verdict not in VERDICTS:
        problems.append(Diagnostic("review-invalid", f"unknown verdict '{verdict}'",
                                   hint=f"a verdict is one of {', '.join(VERDICTS)}"))
    if verdict in ("questioned", "rejected") and not (comment or "").strip():
        problems.append(Diagnostic("review-invalid", f"a rule {verdict} needs a comment saying why",
                                   hint="add --comment TEXT"))
    if not rule_ids:
        problems.append(Diagnostic("review-invalid", "name at least one rule to sign"))
    if problems:
        raise ReviewRecordError(problems)
    path = record_path(kb.paths[0])
    revision = git_revision(path.parent, kb.paths)
    date = today or _dt.date.today()
    reviews = [Review(rule=r, verdict=verdict, by=by.strip(), date=date, digest=known[r].digest,
                      revision=revision, comment=(comment or "").strip() or None)
               for r in dict.fromkeys(rule_ids)]
    append(path, reviews)
    return tuple(reviews)


# ---- what changed since a review ------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ChangeSinceReview:
    state: RuleState
    reviewed_at: str | None             # the revision it was reviewed at, when that version is available
    changes: tuple["Change", ...]       # the declarations changed (this rule's, from the semantic diff)
    regions: tuple["Region", ...]       # the cases for which this rule now fires or no longer fires
    note: str | None = None             # why no diff could be shown
    text: tuple[str, ...] = ()          # the rule's text then and now, as diff lines ("-" then, "+" now)

    def to_json(self) -> dict:
        return {"rule": self.state.rule.id, "reviewed_at": self.reviewed_at,
                "changes": [c.to_json() for c in self.changes], "regions": [r.to_json() for r in self.regions],
                "note": self.note, "text": list(self.text)}


def changes_since_review(kb: "KnowledgeBase", current: Status) -> list[ChangeSinceReview]:
    """For each rule changed since its review, the semantic diff from the reviewed version.

    The reviewed version is the git revision recorded with the review, when the rule there
    has the digest that was reviewed (a review signed on uncommitted text has none)."""
    from .diff import Diff, diff
    changed = [s for s in current.rules if s.state == "changed"]
    folder = Path(kb.paths[0]).parent
    root_name = Path(kb.paths[0]).name
    versions: dict[str, KnowledgeBase | None] = {}
    diffs: dict[str, Diff] = {}
    out = []
    for state in changed:
        review = state.review
        assert review is not None  # a rule is "changed" only against a review of it
        revision = (review.revision or "").removesuffix("+dirty")
        if not revision:
            out.append(ChangeSinceReview(state, None, (), (), "the review recorded no git revision"))
            continue
        if revision not in versions:
            versions[revision] = _version_at(folder, root_name, revision)
        old = versions[revision]
        if old is None:
            out.append(ChangeSinceReview(state, None, (), (), f"revision {revision} cannot be read from git"))
            continue
        old_rule = rules(old).get(state.rule.id)
        if old_rule is None or old_rule.digest != review.digest:
            out.append(ChangeSinceReview(state, None, (), (), f"the text reviewed is not the one committed at "
                                         f"{revision} (it was signed on uncommitted changes)"))
            continue
        if revision not in diffs:
            diffs[revision] = diff(old, kb, revision, "now")
        d = diffs[revision]
        # a rule that fires: the cases where it now fires or no longer does; a decision, step,
        # definition or plan fires nothing itself: the cases whose result changes at all
        fires = state.rule.kind in ("recommendation", "warning", "safety rule")
        out.append(ChangeSinceReview(state, revision, tuple(c for c in d.changes if c.id == state.rule.id),
                                     tuple(r for r in d.regions if r.rule == state.rule.id or not fires),
                                     text=_text_diff(rule_text(old, old_rule.span), rule_text(kb, state.rule.span))))
    return out


def rule_text(kb: "KnowledgeBase", span) -> list[str]:
    """The lines a rule is written on: its declaration and the lines indented under it."""
    if span is None or span.file not in kb.texts:
        return []
    lines = kb.texts[span.file].splitlines()[span.line - 1:]
    if not lines:
        return []
    indent = len(lines[0]) - len(lines[0].lstrip())
    block = [lines[0]]
    for line in lines[1:]:
        if line.strip() and len(line) - len(line.lstrip()) <= indent and not line.lstrip().startswith(")"):
            break
        block.append(line)
    while block and not block[-1].strip():
        block.pop()
    return [line[indent:] if line[:indent].isspace() else line.lstrip() for line in block]


def _text_diff(then: list[str], now: list[str]) -> tuple[str, ...]:
    """The lines of a rule then and now, each marked: "-" then only, "+" now only, " " both."""
    return tuple(line for line in difflib.ndiff(then, now) if not line.startswith("? "))


def _version_at(folder: Path, root_name: str, revision: str):
    """The knowledge base as it was at a git revision (None when git cannot give it)."""
    from ..kb import load_kb
    from ..lang.diagnostics import ConsiliumError
    try:
        archive = subprocess.run(["git", "-C", str(folder), "archive", "--format=tar", revision],
                                 capture_output=True, check=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    with tempfile.TemporaryDirectory(prefix="consilium-review-") as target:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(target, filter="data")
        try:  # everything is read into memory: the folder can go
            return load_kb(Path(target) / root_name, use_cache=False)
        except ConsiliumError:
            return None


__all__ = ["status", "sign", "changes_since_review", "Status", "RuleState", "ChangeSinceReview", "STATES",
           "BLOCKING", "STATE_WORDS", "ReviewRecordError"]
