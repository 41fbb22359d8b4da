"""`consilium eval`'s text: one case's result as a clinician reads it, and the editors' trace.

Takes a `Result` and its knowledge base; returns the text `consilium eval` prints: the
recommendations with their quotes and why, the warnings said once, what is still to find
out, the decisions a condition without value leaves open (`1 / 0`), the safety checks
not completed, the plans, and the view per source and per site, by
labels (engine/wording.py), then with `--trace` every node visited, with ids and lines.
"""

from __future__ import annotations

from typing import Any

from .analysis.scenarios import format_fact_value
from .evaluation.result import Result
from .kb import KnowledgeBase

# Decisions and rules left open that no missing fact could decide: the case gives every fact they
# read, or lacks only facts that could not change them (a later branch's); each says why
UNDECIDED_HEADING = "Undecided, and no missing fact could decide them"

_MODALITY_WORDS = {"strongly_recommended": "strongly recommended", "recommended": "recommended",
                   "option": "option", "not_recommended": "not recommended", "avoid": "avoid"}


def stuck_decisions(result: Result) -> list[tuple[Any, str]]:
    """The decisions and rules left undecided that no missing fact could decide, with why
    (`Result.undecided`: such a step lists no need; `1 / 0` has no value)."""
    return [(stuck, stuck.reason) for stuck in result.undecided]


def format_result(result: Result, kb: KnowledgeBase, case_name: str, trace: bool = False) -> str:
    """The result for a person: what is recommended, by whom, why, and what is missing, in a
    clinician's words (labels, not ids: engine/wording.py); `--trace` adds the editors' view."""
    from . import wording
    from .cli_advice import findings_lines, options_lines
    name = kb.identity.name
    out = [f"Case {case_name} — {name} ({result.knowledge_base})", ""]
    out += findings_lines(result)  # where the patient stands, and why (issue #11)
    one_of = {a: c.label for c in result.choices for a in c.alternatives}
    out.append("Recommendations")
    if not result.recommendations:
        out.append("  (none)")
    number = {}
    for i, r in enumerate(result.recommendations, start=1):
        number[r.id] = i
        out.append(f"  {i}. {r.label}  [{_MODALITY_WORDS[r.modality]} · {r.source}]")
        where = "; ".join(x for x in (r.section, ("refs " + ", ".join(map(str, r.refs))) if r.refs else None) if x)
        if r.quote:
            out.append(f"     “{r.quote}”" + (f" ({where})" if where else ""))
        if r.note:
            out.append(f"     note: {r.note}")
        because = wording.why(kb, result, r.id, r.path)
        if because:
            out.append(f"     because: {because}")
        if r.id in one_of:
            out.append(f"     one choice of: {one_of[r.id]}")
    out += options_lines(result)
    said = wording.warnings(result)
    if said:
        out += ["", "Warnings"]
        for w in said:
            out.append(f"  ! {w.severity.upper()}  {w.label}")
            if w.quote:
                out.append(f"     “{w.quote}”")
            if w.instead:
                out.append(f"     instead: {w.instead}")
            out.append("     " + wording.said_by(wording.origin_words(kb, w)))
    asked = wording.questions(kb, result)
    if asked:
        out += ["", "Still to find out (first what settles the most)"]
        for q in asked:
            if q.together:
                out.append("  - Together: " + " and ".join(n.label for n in q.needs)
                           + f" (they decide only together; {_settles(q.settles)})")
                for n in q.needs:
                    if n.question:
                        out.append(f"      {n.question}")
                out.append("      bears on: " + "; ".join(q.decides))
                continue
            [n] = q.needs
            out.append(f"  - {n.label}" + (f": {n.question}" if n.question else "") + f" ({_settles(q.settles)})")
            sources = {p.id: p.source for p in kb.pathways}
            for d in n.decides:
                source = sources.get(d.pathway) if d.pathway else None
                out.append(f"      {d.question}" + (f"  [{source}]" if source else ""))
                for a in d.answers:
                    out.append(f"        if {wording.answer_words(a.answer)}: {wording.outcome_words(kb, a.outcome)}")
    stuck = stuck_decisions(result)
    if stuck:
        out += ["", UNDECIDED_HEADING]
        for step, reason in stuck:
            where = f"{step.pathway}/{step.node}" if step.pathway else step.node
            out.append(f"  - {where} ({step.span}): {reason}")
    if result.unchecked:
        out += ["", "Safety checks not completed (the case does not say enough)"]
        for u in result.unchecked:
            out.append(f"  - {u.label} — " + wording.unchecked_words(kb, result, u))
    if result.plans:
        out += ["", "Plans"]
        for p in result.plans:
            out.append(f"  {p.label}  [{p.source}]")
            out.append(f"    {wording.anchor_words(kb, p)}")
            for s in p.steps:
                dates = ""
                if s.earliest is not None:
                    dates = f"  {s.earliest}" + (f" to {s.latest}" if s.latest != s.earliest else "")
                elif s.latest is not None:
                    dates = f"  by {s.latest}"
                if s.actual is not None:
                    dates += f"; actual {s.actual}"
                status = {None: "", True: "  (on time)", False: "  (OUTSIDE ITS WINDOW)"}[s.on_time]
                out.append(f"    - {s.label}: {s.timing}{dates}{status}")
    out += ["", "By source"]
    for v in result.by_source:
        if v.silent:
            out.append(f"  {v.source:<8} silent for this case")
            continue
        listed = [f"{number[r]}" for r in v.recommendations if r in number]
        line = f"  {v.source:<8} recommends {_numbers(listed)}" if listed else f"  {v.source:<8} recommends nothing"
        if v.warnings:  # a warning said twice (pathway and safety rule) is named once, as above
            line += "; warns: " + "; ".join(m.label for m in said if any(o.id in v.warnings for o in m.origins))
        out.append(line)
    for site in result.by_site:
        if site.present is False:
            continue
        present = "" if site.present else " (not known whether the case has this site)"
        out += ["", f"{site.label}: what each source says{present}"]
        for said_here in site.sources:
            if said_here.silent:
                pending = "; ".join(wording.fact_label(kb, f) for f in said_here.pending)
                line = "silent" + (f" for now (needs: {pending})" if said_here.pending else "")
            else:
                line = ", ".join(map(wording.words, said_here.recommends)) or "-"
                if said_here.advises_against:
                    line += "; advises against: " + ", ".join(map(wording.words, said_here.advises_against))
            out.append(f"  {said_here.source:<8} {line}")
        for relation in site.relations:
            if relation.relation != "silent":
                actions = f": {', '.join(map(wording.words, relation.actions))}" if relation.actions else ""
                out.append(f"  {relation.first} and {relation.second}: "
                           f"{_RELATION_WORDS.get(relation.relation, relation.relation)}{actions}")
    origins: dict[str, Any] = getattr(result, "origins", None) or {}  # a case from FHIR: each fact's source
    if origins:
        out += ["", "Read from FHIR"]
        for fact, where in sorted(origins.items()):
            value = format_fact_value(kb, fact, result.case[fact]) if fact in result.case else "?"
            out.append(f"  {wording.fact_label(kb, fact)} = {value}  from " + "; ".join(str(o) for o in where))
    if trace:
        out += ["", "Trace"]
        for i, t in enumerate(result.trace, start=1):
            read = ", ".join(f"{k} = {format_fact_value(kb, k, v)}"
                             + (f" (from {'; '.join(o.reference for o in origins[k])})" if origins and k in origins
                                else "") for k, v in t.read)
            out.append(f"  {i:>2}. {t.span}  {t.kind} '{t.node}'" + (f" read {read}" if read else "")
                       + f": {t.outcome}")
    return "\n".join(out)


_RELATION_WORDS = {"concordant": "agree (concordant)", "complementary": "complement each other",
                   "conflicting": "CONFLICT", "silent": "silent"}


def _settles(count: int) -> str:
    return f"settles {count} open decision{'s' if count != 1 else ''}" if count else "settles nothing alone"


def _numbers(items: list[str]) -> str:
    """'1, 2, 3, 5' as '1–3, 5' (the recommendations listed above)."""
    values = sorted(int(x) for x in items)
    runs, start = [], None
    for i, v in enumerate(values):
        if start is None:
            start = v
        if i + 1 == len(values) or values[i + 1] != v + 1:
            runs.append(f"{start}–{v}" if v > start + 1 else (f"{start}, {v}" if v == start + 1 else f"{start}"))
            start = None
    return ("no. " if len(values) == 1 else "nos. ") + ", ".join(runs) + " above"
