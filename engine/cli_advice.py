"""The advice of a result in words, and `consilium explain [PATH] CASE [RULE]` (the top floor: cli).

Takes a result (and, for `explain`, the command's arguments); gives text lines for a person:
the findings with the criteria they rest on, contradictions in the case, the choices among
alternatives, the conditional options with the judgement each waits for; and, for
`explain`, why the case did not get a rule (or, without a rule, every rule of the pathways
the case entered that it did not get). `cli.format_result` places the lines; this module
does not evaluate anything itself.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

_MODALITY = {"strongly_recommended": "strongly recommended", "recommended": "recommended", "option": "option",
             "not_recommended": "not recommended", "avoid": "avoid"}


def findings_lines(result: Any) -> list[str]:
    """Findings first: what the case is, and why. (A contradiction of the case is one of the
    warnings: `Result.all_warnings`.)"""
    out: list[str] = []
    if result.findings:
        out.append("Findings")
        for f in result.findings:
            out.append(f"  * {f.label}  [{f.source}]")
            out += [f"     - {r.text}" for r in f.reasons]
            out += [f"     concluded in the pathway “{words}”" for _, _, words in f.concluded_at]
        out.append("")
    return out


def options_lines(result: Any) -> list[str]:
    """After the recommendations: which of them are one choice, and the options the team decides."""
    out: list[str] = []
    if result.choices:
        given = {r.id: r for r in result.recommendations}
        out += ["", "Alternatives (one choice among them)"]
        for c in result.choices:
            source = given[c.alternatives[0]].source if c.alternatives[0] in given else ""
            out.append(f"  {c.label} [{source}]: " + " | ".join(given[a].label if a in given else a
                                                                 for a in c.alternatives))
    if result.options:
        out += ["", "Conditional options (they rest on the team's judgement; not recommendations)"]
        for o in result.options:
            out.append(f"  ? {o.label}  [{_MODALITY.get(o.modality, o.modality)} · {o.source}] — {o.qualifier}")
            if o.quote:
                out.append(f"     “{o.quote}”")
    return out


def contradiction_error(result: Any, case_path: str):
    """`eval --strict`: the contradictions of a case as an input error, one diagnostic each,
    placed at the first fact it names in the case file, the others related."""
    from pathlib import Path as _Path
    from .inputs.case import read_case
    from .lang.diagnostics import CaseError, Diagnostic, Span
    _, positions = read_case(case_path)
    texts = {case_path: _Path(case_path).read_text(encoding="utf-8")}
    diagnostics = []
    for c in result.contradictions:
        spans = [positions[f] for f, _ in c.facts if f in positions]
        diagnostics.append(Diagnostic(
            "contradiction", f"{c.label}: " + "; ".join(r.text for r in c.reasons),
            spans[0] if spans else Span(case_path, 1, 1, 1, 1), severity="error",  # --strict: an error
            hint="correct one of " + ", ".join(f"'{f}'" for f, _ in c.facts),
            related=tuple(("contradicts", s) for s in spans[1:])))
    return CaseError(diagnostics, texts)


def why_not_lines(why: Any) -> list[str]:
    return why.text().splitlines()


def run_explain(kb_loader, paths: list[str], fmt: str) -> int:
    """`consilium explain [PATH] CASE [RULE]`: exit 0, or 2 on bad input."""
    from .lang.diagnostics import DiagnosticsError, format_text, suggest
    if not paths or len(paths) > 3:
        print("consilium explain: give [PATH] CASE [RULE]", file=sys.stderr)
        return 2
    kb_path = None
    if len(paths) == 3 or (len(paths) == 2 and (_kb_like(paths[0]) or _case_like(paths[1]))):
        # three arguments are PATH CASE RULE; of two, the second is a case when it reads as one
        # (a rule's id has no '.'), so a mistyped knowledge base is reported as `eval` reports it
        kb_path, paths = paths[0], paths[1:]
    case_path, rule = paths[0], (paths[1] if len(paths) == 2 else None)
    try:
        kb = kb_loader(kb_path)
        result = kb.evaluate_file(case_path)
    except DiagnosticsError as error:  # as `eval` says it
        print(format_text(error.diagnostics, error.texts), file=sys.stderr)
        count = len(error.diagnostics)
        print(f"{count} error{'s' if count != 1 else ''}", file=sys.stderr)
        return 2
    if rule is not None:
        try:
            whys = [result.why_not(rule)]
        except KeyError:
            known = [n.id for p in kb.pathways for n in p.nodes] + [s.id for s in kb.checked.safeties]
            hint = suggest(rule, known)
            print(f"consilium explain: no rule '{rule}' is declared" + (f"; {hint}" if hint else ""),
                  file=sys.stderr)
            return 2
    else:
        whys = _not_given(kb, result)
    if fmt == "json":
        print(json.dumps({"case": case_path, "findings": [f.to_json() for f in result.findings],
                          "why_not": [w.to_json() for w in whys]}, indent=2, ensure_ascii=False))
        return 0
    out = findings_lines(result)
    if rule is not None:
        out.append("Why")
        out += ["  " + line for line in why_not_lines(whys[0])]
    else:
        out.append("Why not: each place where the case turned away, and the rules it did not get there")
        out += grouped_lines(whys)
    print("\n".join(out))
    return 0


def _kb_like(text: str) -> bool:
    return text.endswith((".rules", "/")) or _quietly(Path(text).is_dir)


def _case_like(text: str) -> bool:
    """A case file's name: standard input, a file that exists, or a case's suffix."""
    return text == "-" or Path(text).suffix.lower() in (".json", ".yaml", ".yml") or _quietly(Path(text).is_file)


def _quietly(test) -> bool:
    try:
        return bool(test())
    except (OSError, ValueError):  # a name too long to look up, a NUL
        return False


def grouped_lines(whys: list) -> list[str]:
    """Why-nots grouped by where they stopped: the reasons once, then the rules."""
    groups: dict[tuple, list] = {}
    for why in whys:
        groups.setdefault((why.status, why.at, why.condition, why.reasons, why.needs), []).append(why)
    out = []
    for (status, at, condition, reasons, needs), members in groups.items():
        out.append(f"  {status} at '{at}' ({condition})")
        out += [f"    - {r.text}" for r in reasons]
        if needs:
            out.append("    still open: needs " + ", ".join(needs))
        out += [f"    · {w.rule}: {w.label}" for w in members]
    return out


def _not_given(kb, result) -> list:
    """Every recommendation and warning of a pathway the case entered, that it did not get."""
    from .lang import ir
    given = set(result.recommendation_ids()) | set(result.warning_ids())
    entered = {step.pathway for step in result.trace if step.next or step.outcome.startswith("undecided")}
    whys = []
    for pathway in kb.pathways:
        if pathway.id not in entered:
            continue
        for node in pathway.nodes:
            if isinstance(node, (ir.Recommend, ir.Warn)) and node.id not in given:
                whys.append(result.why_not(node.id))
    return whys
