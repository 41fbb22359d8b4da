"""Static checks beside `verify`: constraints proved satisfiable, modality held to the quote's verb.

Takes a loaded knowledge base; returns findings shaped as `verify`'s (code, severity,
message, place, a case that shows it), which `consilium check` lists with them:

- constraint-never-holds (warning): no case breaks the constraint, so it can never warn
  (its condition is contradictory in itself); proved with Z3 over the three-valued encoding;
- constraints-exclude-every-case (error): no case with every fact known satisfies all the
  constraints together: they contradict each other;
- modality-firmer-than-quote (error): a recommendation whose quote speaks permissively
  ("can be considered", "may", "is an option", "is also performed", ...) is encoded firmer
  than an option.

A finding written `waive CODE "reason"` on its rule is kept, marked waived, and does not fail.
Evaluates no case.
"""

from __future__ import annotations

import re
import z3

from ..kb import KnowledgeBase
from ..lang import ir
from ..lang.diagnostics import Diagnostic
from .verify.encode import Encoder

# The source's permissive verbs: what they say is an option, never an order.
PERMISSIVE = re.compile(r"\b(can be considered|may be considered|should be considered|can be|may|is an option|"
                        r"options include|is also performed|is generally performed)\b", re.IGNORECASE)
FIRMER = ("recommended", "strongly_recommended")


def consistency(kb: KnowledgeBase) -> list[Diagnostic]:
    return _constraints(kb) + _modality(kb)


def _constraints(kb: KnowledgeBase) -> list[Diagnostic]:
    constraints = kb.checked.constraints
    if not constraints:
        return []
    encoder = Encoder(dict(kb.facts), dict(kb.checked.defines))
    truths = [encoder.truth(c.condition) for c in constraints]
    solver = z3.Solver()
    solver.set("timeout", 5000)
    solver.add(*encoder.domain)
    found = []
    for constraint, truth in zip(constraints, truths, strict=True):
        solver.push()
        solver.add(truth.true)
        if solver.check() == z3.unsat:
            found.append(Diagnostic("constraint-never-holds",
                                    f"no case breaks the constraint '{constraint.id}': it can never warn",
                                    constraint.span, subject=constraint.id))
        solver.pop()
    # Every fact known: a complete case breaking none of them must exist.
    solver.add(*[v.known for v in encoder.values.values()])
    solver.add(*[truth.false for truth in truths])
    if solver.check() == z3.unsat:
        found.append(Diagnostic("constraints-exclude-every-case",
                                "the constraints together exclude every case whose facts are all known",
                                constraints[0].span, subject=constraints[0].id,
                                related=tuple(("constraint", c.span) for c in constraints[1:] if c.span)))
    return found


def _modality(kb: KnowledgeBase) -> list[Diagnostic]:
    found = []
    for pathway in kb.pathways:
        for node in pathway.nodes:
            if not isinstance(node, ir.Recommend) or node.modality not in FIRMER:
                continue
            quote = node.provenance.quote or ""
            verb = PERMISSIVE.search(quote)
            if verb is None:
                continue
            waived = next((w.reason for w in node.waivers if w.code == "modality-firmer-than-quote"), None)
            found.append(Diagnostic("modality-firmer-than-quote",
                                    f"'{node.id}' is {node.modality.replace('_', ' ')}, but its quote says "
                                    f"'{verb.group(0)}': an option", node.span, subject=node.id, waived=waived))
    return found


__all__ = ["consistency"]
