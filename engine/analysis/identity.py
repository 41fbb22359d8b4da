"""What exactly was reviewed: the identity of a knowledge base, and a digest of each rule.

Takes a loaded and checked knowledge base; returns an `Identity` (its name, the Consilium
version, a digest of every rule file, the git revision of the folder where there is one)
and, per rule, a digest of what the rule says. The revision is read by revision.py (git runs
only when the repository's state is one not seen before). It does not say when something was
generated: a time stamp belongs to an output (`generated_at`), never to the identity, so
that charts stay byte-stable.

The knowledge base's digest covers the bytes of every file it reads, named relative to the
root file's folder, so the same files give the same digest wherever they sit. A rule's
digest covers its meaning (the frozen IR node, positions left out), not its layout:
re-indenting a rule or moving it to another line does not expire its review; changing a
word of its label, quote, condition or targets does.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..lang.records import record
from ..lang import ir
from ..lang.checked import Checked
from ..lang.diagnostics import Span
from ..lang.load import Loaded
from .revision import git_revision

if TYPE_CHECKING:
    from ..kb import KnowledgeBase


@record
class Identity:
    """The knowledge base a report, result or chart was made from."""

    name: str                  # the knowledge base's name (see `kb_name`)
    root: str                  # the root rule file, as given
    consilium_version: str
    digest: str                # "sha256:<64 hex>" over every rule file
    files: int
    revision: str | None       # the git commit of the folder, "+dirty" when its files differ from it

    @property
    def short_digest(self) -> str:
        return self.digest.split(":", 1)[1][:12]

    def words(self) -> str:
        """One line for a chart or a page footer."""
        return (f"{self.name} · Consilium {self.consilium_version} · knowledge base sha256:{self.short_digest}"
                + (f" · revision {self.revision}" if self.revision else ""))

    def to_json(self) -> dict:
        return {"name": self.name, "root": self.root, "consilium_version": self.consilium_version,
                "digest": self.digest, "files": self.files, "revision": self.revision}


def identify(loaded: Loaded) -> Identity:
    from ... import __version__
    base = Path(loaded.paths[0]).parent if loaded.paths else Path(loaded.root).parent
    digest = hashlib.sha256()
    for path in sorted(loaded.paths, key=lambda p: _relative(p, base)):
        data = Path(path).read_bytes() if Path(path).is_file() else b""
        name = _relative(path, base).encode("utf-8")
        # length-prefixed, so that no two different sets of files give the same stream
        digest.update(b"%d:%s%d:" % (len(name), name, len(data)) + data)
    return Identity(name=kb_name(loaded), root=loaded.root, consilium_version=__version__,
                    digest="sha256:" + digest.hexdigest(), files=len(loaded.paths),
                    revision=git_revision(base, loaded.paths))


def kb_name(loaded: Loaded) -> str:
    """The knowledge base's name: the first line of its root file when that is a comment
    ("# Consilium knowledge base: management of metastatic rectal cancer." names it
    "Management of metastatic rectal cancer"), else its folder (or the root file's name)."""
    text = loaded.texts.get(loaded.files[0], "") if loaded.files else ""
    first = text.lstrip("\ufeff").split("\n", 1)[0].strip()
    if first.startswith("#") and first.lstrip("#").strip():
        name = first.lstrip("#").strip().rstrip(".")
        prefix = "consilium knowledge base:"
        if name.lower().startswith(prefix):
            name = name[len(prefix):].strip()
        return name[:1].upper() + name[1:]
    root = Path(loaded.paths[0]) if loaded.paths else Path(loaded.root)
    return (root.parent.name if root.name == "main.rules" else root.stem) or root.stem


def _relative(path: str, base: Path) -> str:
    try:
        return Path(path).relative_to(base).as_posix()
    except ValueError:
        return Path(path).as_posix()


def generated_at(omit: bool = False) -> str | None:
    """The time an output is generated, ISO 8601 in UTC: SOURCE_DATE_EPOCH when set (the
    reproducible-builds convention), now otherwise; None when left out on purpose."""
    if omit:
        return None
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    moment = _dt.datetime.fromtimestamp(int(epoch), _dt.UTC) if epoch.isdigit() else _dt.datetime.now(_dt.UTC)
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


# ---- the rules an auditor signs off, and the digest of each ---------------------------------------

@record
class RuleRef:
    """One reviewable rule: its id, what kind it is, its label, where it is written."""

    id: str
    kind: str            # decision | step | recommendation | warning | safety rule | definition | plan
    label: str
    pathway: str | None
    span: Span | None
    digest: str
    node: Any            # the IR node


_KINDS = {ir.Decide: "decision", ir.Step: "step", ir.Recommend: "recommendation", ir.Warn: "warning",
          ir.Safety: "safety rule", ir.Define: "definition", ir.Plan: "plan"}


def rules(checked: "Checked | KnowledgeBase") -> dict[str, RuleRef]:
    """Every rule a reviewer signs off, by id, in reading order: pathway nodes (a `schedule`
    is its plan's), safety rules, definitions and plans (of a checked knowledge base, or of a
    loaded one, which offers the same)."""
    found: dict[str, RuleRef] = {}

    def add(node, pathway: str | None) -> None:
        label = getattr(node, "label", None) or getattr(node, "question", None) or node.id
        found[node.id] = RuleRef(node.id, _KINDS[type(node)], label, pathway, node.span, rule_digest(node), node)

    for pathway in checked.pathways:
        for node in pathway.nodes:
            if not isinstance(node, ir.Schedule):
                add(node, pathway.id)
    for safety in checked.safeties:
        add(safety, None)
    for define in checked.defines.values():
        add(define, None)
    for plan in checked.plans.values():
        add(plan, None)
    return dict(sorted(found.items(), key=lambda item: _position(item[1].span)))


def _position(span: Span | None) -> tuple:
    return (span.file, span.line, span.column) if span else ("", 0, 0)


def rule_digest(node: Any) -> str:
    """sha256 of what a rule says: its IR without positions, fields at their default left out
    (so that a field added to the language later does not expire every review)."""
    text = json.dumps(_canonical(node), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _canonical(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {"": type(value).__name__}
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            if isinstance(item, Span) or f.name.endswith("span"):
                continue
            if f.default is not dataclasses.MISSING and item == f.default:
                continue
            out[f.name] = _canonical(item)
        return out
    if isinstance(value, (tuple, list)):
        return [_canonical(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)  # dates, durations: their text form is their identity
