"""A result in a clinician's words: labels for ids, one warning per thing said, needs by weight.

Takes a `Result` and its knowledge base; returns what the text output (cli.format_result)
and the review report show a clinician who has never seen the rule files:

- `why`: the answers that led to a recommendation ("hepatic metastases → all four
  criteria met → more than 3 segments"), not the ids of the nodes it passed;
- `warnings`: warnings that say the same thing (the same quote from the same source, as a
  pathway's warning and a safety rule often do) merged into one, with both origins;
- `needs`: the missing facts ordered by how many open decisions an answer would settle on
  its own; facts that settle nothing alone (each answer only leads to needing another fact)
  are grouped with the facts they need, as one question that decides together;
- labels for facts, rules and actions, and the plan's anchor said in words when missing.

Pure: it reads the result and the knowledge base, never evaluates.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .lang import ir
from .lang.records import record

if TYPE_CHECKING:
    from .evaluation.merged import MergedWarning
    from .evaluation.result import Need, Result, Unchecked
    from .kb import KnowledgeBase

_STILL = re.compile(r"^still undecided: needs (?P<facts>[A-Za-z0-9_, ]+)$")


# abbreviations clinicians write in capitals, wherever they stand in an id
ABBREVIATIONS = {"folfox", "folfiri", "folfoxiri", "capox", "xelox", "kras", "nras", "braf", "egfr", "vegf",
                 "hipec", "pci", "scrt", "crt", "tme", "omd", "mdt", "r0", "r1", "r2", "ct", "mri", "pet", "rfa"}


def words(identifier: str) -> str:
    """An action or enum value as written in prose: 'liver_resection' -> 'liver resection',
    'kras_testing' -> 'KRAS testing'."""
    return " ".join(w.upper() if w in ABBREVIATIONS else w for w in identifier.split("_"))


def fact_label(kb: "KnowledgeBase", fact: str) -> str:
    return kb.facts[fact].label if fact in kb.facts else words(fact)


def rule_labels(kb: "KnowledgeBase") -> dict[str, str]:
    found = {n.id: getattr(n, "label", None) or getattr(n, "question", None) or n.id
             for p in kb.pathways for n in p.nodes}
    found.update({s.id: s.label for s in kb.safeties})
    found.update({p.id: p.label for p in kb.plans.values()})
    return found


def why(kb: "KnowledgeBase", result: "Result", rule_id: str, path: tuple[str, ...]) -> str:
    """The answers taken at each decision on the way to a rule, in words."""
    decisions = {n.id: n for p in kb.pathways for n in p.nodes if isinstance(n, ir.Decide)}
    labels = rule_labels(kb)
    taken = {(t.pathway, t.node): t.branch for t in result.trace if t.branch is not None}
    pathway = next((p.id for p in kb.pathways if any(n.id == rule_id for n in p.nodes)), None)
    steps = []
    for node in path:
        decide = decisions.get(node)
        branch = taken.get((pathway, node))
        if decide is None or branch is None or not 1 <= branch <= len(decide.branches):
            continue
        chosen = decide.branches[branch - 1]
        # the branch's own words; else its condition, when it is simply said; else where it leads
        steps.append(chosen.label or _simple(kb, chosen.condition)
                     or _lower(labels.get(chosen.target or "", "the pathway ends")))
    return " → ".join(steps)


def _simple(kb: "KnowledgeBase", expr) -> str | None:
    """A branch's condition in a few words, for the forms that say themselves; None otherwise."""
    match expr:
        case None:
            return "otherwise"
        case ir.FactRef(id=name):
            return _lower(fact_label(kb, name))
        case ir.DefineRef(id=name):
            define = kb.defines.get(name)
            return _lower(define.label) if define is not None and define.label else words(name)
        case ir.Member(element=ir.EnumLit(value=value), collection=ir.FactRef()):
            return words(value)
        case ir.Compare(op="=", left=ir.FactRef(), right=ir.EnumLit(value=value)):
            return words(value)
        case ir.Not(operand=inner):
            said = _simple(kb, inner)
            return f"not {said}" if said else None
    return None


# ---- warnings --------------------------------------------------------------------------------------

def origin_words(kb: "KnowledgeBase", said: "MergedWarning") -> list[str]:
    """Where a warning comes from, each origin in words: the pathway or safety rule and its source."""
    out = []
    for w in said.origins:
        if w.kind == "safety":
            out.append(f"safety rule “{w.label}” ({w.source})")
        elif w.kind == "plan":
            out.append(f"plan step “{w.label}”")
        elif w.kind == "contradiction":  # a constraint the case breaks (advice's warnings)
            out.append(f"consistency check of the case: {w.note}" if w.note else "consistency check of the case")
        else:
            pathway = next((p.label for p in kb.pathways if p.id == w.pathway), w.pathway)
            out.append(f"pathway “{pathway}” ({w.source})")
    return out


def said_by(sayers: list[str]) -> str:
    """The origins of a warning in one phrase: "from the …", "said by both the … and the …"."""
    if len(sayers) <= 1:
        return "from the " + "".join(sayers)
    if len(sayers) == 2:
        return "said by both the " + " and the ".join(sayers)
    return "said by the " + ", the ".join(sayers[:-1]) + " and the " + sayers[-1]


def warnings(result: "Result") -> tuple["MergedWarning", ...]:
    """The result's warnings, those with the same source and quote merged, most severe first
    (the JSON's `merged_warnings` holds the same)."""
    return result.merged_warnings


# ---- needs -----------------------------------------------------------------------------------------

@record
class Question:
    """One thing to find out: a missing fact, or several that only decide together."""

    needs: tuple["Need", ...]
    settles: int          # open decisions an answer settles on its own
    decides: tuple[str, ...]  # the labels of the decisions and rules it bears on

    @property
    def together(self) -> bool:
        return len(self.needs) > 1


def questions(kb: "KnowledgeBase", result: "Result") -> list[Question]:
    """The needs, by how many open decisions each answer settles; those that settle nothing
    alone are joined with the facts their answers lead to needing."""
    needs = {n.fact: n for n in result.needs}
    settles: dict[str, int] = {}
    partners: dict[str, set[str]] = {}
    for need in result.needs:
        count = 0
        partners[need.fact] = set()
        for d in need.decides:
            others = [f for a in d.answers for f in _still(a.outcome)]
            partners[need.fact].update(f for f in others if f in needs and f != need.fact)
            # settled by any answer, unless one leaves it open (needing another fact, or none
            # that could decide it: a condition with no value)
            if not any(a.outcome.startswith("still undecided") for a in d.answers):
                count += 1
        settles[need.fact] = count
    # facts that settle nothing alone, joined with those they need (transitively)
    group_of: dict[str, frozenset] = {}
    for fact in needs:
        if settles[fact] or fact in group_of:
            continue
        group, stack = set(), [fact]
        while stack:
            f = stack.pop()
            if f in group:
                continue
            group.add(f)
            stack.extend(p for p in partners[f] if not settles[p])
        for f in group:
            group_of[f] = frozenset(group)
    out, seen = [], set()
    order = list(needs)
    for fact in order:
        if fact in seen:
            continue
        members = sorted(group_of.get(fact, {fact}), key=order.index)
        seen.update(members)
        decided = []
        for f in members:
            for d in needs[f].decides:
                if d.question not in decided:
                    decided.append(d.question)
        together = len(members) > 1
        out.append(Question(tuple(needs[f] for f in members), len(decided) if together else settles[fact],
                            tuple(decided)))
    return sorted(out, key=lambda q: (-q.settles, order.index(q.needs[0].fact)))


def unchecked_words(kb: "KnowledgeBase", result: "Result", unchecked: "Unchecked") -> str:
    """What a safety rule left unchecked waits for: the facts that could check it, by label
    ("needs: Proposed treatment"); when none could (a condition with no value for the case,
    `1 / 0`), why, as its trace step says it."""
    if unchecked.needs:
        return "needs: " + "; ".join(fact_label(kb, f) for f in unchecked.needs)
    said = next((s.outcome for s in result.trace if s.pathway is None and s.node == unchecked.rule), "")
    why = said.removeprefix("not checked").removeprefix(": ")
    return why or "no missing fact could check it"


def _still(outcome: str) -> list[str]:
    match = _STILL.match(outcome)
    return [f.strip() for f in match["facts"].split(",")] if match else []


def outcome_words(kb: "KnowledgeBase", outcome: str) -> str:
    """An answer's outcome as a sentence: ids become labels."""
    still = _still(outcome)
    if still:
        return "then also needs: " + "; ".join(fact_label(kb, f) for f in still)
    if outcome == "-> the pathway ends":
        return "nothing further in this pathway"
    if outcome.startswith("-> "):
        return "leads to: " + outcome[3:]
    for verb, said in (("recommend: ", "recommends: "), ("warn: ", "warns: ")):
        if outcome.startswith(verb):
            return said + outcome[len(verb):]
    return outcome


def answer_words(answer: str) -> str:
    return words(answer)


def anchor_words(kb: "KnowledgeBase", plan) -> str:
    """Where a plan's dates come from, in words, whether the case gives that date or not."""
    from .lang.values import format_value
    label = fact_label(kb, plan.anchor)
    if plan.anchor_date is None:
        return (f"not dated: the case does not give the {_lower(label)}; each step is timed from it")
    return f"dated from the {_lower(label)}, {format_value(plan.anchor_date)}"


def _lower(text: str) -> str:
    return text[0].lower() + text[1:] if len(text) > 1 and text[0].isupper() and text[1].islower() else text
