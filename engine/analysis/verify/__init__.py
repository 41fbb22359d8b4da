"""Static verification: holes and contradictions in a knowledge base, each with a case that shows it.

Takes a checked knowledge base; returns findings, each a `Diagnostic` with a stable code, a
severity (the code's default, `diagnostics.SEVERITY`), the place in the rule file, the
declaration it is about, and (where a case can show it) a case `consilium eval` accepts as
is, confirmed by evaluating it:

- gap (error): a decision without `otherwise` whose branches can all be false;
- overlap (warning): two branches of a decision that can both hold (unless it says `first`);
- conflict (error): a case where a source recommends an action it also advises against;
- discordance (info): the same across two sources;
- unreachable (warning): a branch or rule no case reaches;
- unused-fact (warning), untested-fact (info), unused-define (warning).

Reasoning is exact for the language: every fact is a Z3 variable with an unknown flag, and
conditions are encoded in three-valued logic. A finding written `waive CODE "reason"` on its
rule, decision, fact or definition is kept, marked waived, and does not fail.

    encode.py    the language in Z3: facts as variables, conditions as (true, false) formulas
    reach.py     when each node is reached and each rule fires, as formulas
    solve.py     a formula -> a case the real evaluator confirms (what `diff` uses too)
    findings.py  the questions asked, and the findings they give
"""

from .findings import AGAINST, CODES, verify

__all__ = ["verify", "CODES", "AGAINST"]
