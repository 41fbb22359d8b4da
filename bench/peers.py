"""One decision, written in each engine a user might pick instead of Consilium.

The decision (issue 6), derived from the hepatic-metastases summary. Inputs may be missing;
a missing input is unknown, and an output that depends on an unknown is None:

- resectable: liver_resectable and not extrahepatic_unresectable and remnant > 30
  (three-valued: false as soon as one part is false);
- surgery: simultaneous (resectable, <= 3 segments), liver_first_or_staged (> 3, no
  symptoms), staged_primary_first (> 3, symptomatic), conversion (not resectable);
- regimen: anti_egfr (KRAS wild type), bevacizumab (mutant), test_kras (unknown status);
- bev_warning: resectable and the last bevacizumab dose known and fewer than 42 days ago;
- crs_hipec: the PCI known and below 12.

Each engine is a function case -> (surgery, regimen, bev_warning, crs_hipec), built by a
`make_*` function that returns None with a reason where the engine cannot be imported.
"""

from __future__ import annotations

import json
from pathlib import Path

FIELDS = ("liver_resectable", "extrahepatic_unresectable", "primary_symptomatic", "hepatectomy_segments",
          "future_liver_remnant_pct", "kras", "days_since_last_bevacizumab", "peritoneal_pci")
SURGERY = ("conversion", "simultaneous", "liver_first_or_staged", "staged_primary_first")
REGIMEN = ("anti_egfr", "bevacizumab", "test_kras")


def reference(c: dict) -> tuple:
    """The plain-Python reference, and the hand-written limit every engine is measured against."""
    g = c.get
    lr, ex, rem = g("liver_resectable"), g("extrahepatic_unresectable"), g("future_liver_remnant_pct")
    if lr is False or ex is True or (rem is not None and rem <= 30):
        resectable = False
    elif lr is None or ex is None or rem is None:
        resectable = None
    else:
        resectable = True
    surgery = None
    if resectable is False:
        surgery = "conversion"
    elif resectable:
        seg = g("hepatectomy_segments")
        if seg is not None:
            if seg <= 3:
                surgery = "simultaneous"
            else:
                sym = g("primary_symptomatic")
                if sym is not None:
                    surgery = "liver_first_or_staged" if sym == "none" else "staged_primary_first"
    kras = g("kras")
    regimen = None if kras is None else ("anti_egfr" if kras == "wild_type" else
                                         "bevacizumab" if kras == "mutant" else "test_kras")
    days = g("days_since_last_bevacizumab")
    pci = g("peritoneal_pci")
    return surgery, regimen, resectable is True and days is not None and days < 42, pci is not None and pci < 12


# ---- Consilium ------------------------------------------------------------------------------------

def as_reference(recommendations, warnings) -> tuple:
    """Consilium's answer (ids of recommendations and warnings) in the reference's shape (one pass
    over the recommendations: the hand-written answer and Consilium's both go through it)."""
    surgery = regimen = None
    crs_hipec = False
    for r in recommendations:
        if r in _SURGERY:
            surgery = r
        elif r in _REGIMEN:
            regimen = r
        elif r == "crs_hipec":
            crs_hipec = True
    return surgery, regimen, "bevacizumab_interval" in warnings, crs_hipec


_SURGERY, _REGIMEN = frozenset(SURGERY), frozenset(REGIMEN)


def make_consilium(kb_path: Path):
    import consilium
    kb = consilium.load_kb(kb_path)
    # called as a user calls them (a `partial` with a keyword builds a dict of keywords per call)
    decide, evaluate = kb.decide, kb.evaluate

    def values(case):
        d = decide(case, validated=True)
        return as_reference(d.recommendations, d.warnings)

    def full(case):
        result = evaluate(case, validated=True)
        return as_reference(result.recommendation_ids(), result.warning_ids())

    return values, full


def hand_decide(case: dict) -> tuple:
    """Consilium's values-only answer written by hand as plain Python: the ids of the
    recommendations and warnings in the order the rules visit them, and the facts that would
    decide what is open, in the order first met (tests/test_bench.py holds it to `decide`)."""
    g = case.get
    recs, warns, needs = [], [], {}
    lr, ex, rem = g("liver_resectable"), g("extrahepatic_unresectable"), g("future_liver_remnant_pct")
    seg, sym, kras = g("hepatectomy_segments"), g("primary_symptomatic"), g("kras")
    if lr is False or ex is True or (rem is not None and rem <= 30):
        resectable = False
    elif lr is None or ex is None or rem is None:
        resectable = None
    else:
        resectable = True
    if resectable is None:
        needs.update(dict.fromkeys(f for f, v in (("liver_resectable", lr), ("extrahepatic_unresectable", ex),
                                                  ("future_liver_remnant_pct", rem)) if v is None))
    elif not resectable:
        recs.append("conversion")
    elif seg is None:  # the symptoms matter only beyond 3 segments: not asked before the segments are known
        needs["hepatectomy_segments"] = None
    elif seg > 3 and sym is None:
        needs["primary_symptomatic"] = None
    elif seg <= 3:
        recs.append("simultaneous")
    else:
        recs.append("liver_first_or_staged" if sym == "none" else "staged_primary_first")
    if kras is None:
        needs["kras"] = None
    else:
        recs.append("anti_egfr" if kras == "wild_type" else "bevacizumab" if kras == "mutant" else "test_kras")
    days, pci = g("days_since_last_bevacizumab"), g("peritoneal_pci")
    if days is not None and days < 42:
        if resectable:
            warns.append("bevacizumab_interval")
        elif resectable is None:
            needs.update(dict.fromkeys(f for f, v in (("liver_resectable", lr), ("extrahepatic_unresectable", ex),
                                                      ("future_liver_remnant_pct", rem)) if v is None))
    if pci is not None and pci < 12:
        recs.append("crs_hipec")
    return tuple(recs), tuple(warns), tuple(needs)


def hand_written_same_answer(case: dict) -> tuple:
    """`hand_decide` through the same adapter as Consilium's values: the limit for them."""
    recs, warns, _ = hand_decide(case)
    return as_reference(recs, warns)


# ---- zen-engine: a decision graph of decision tables, and bare expressions ------------------------

def _table(node_id, name, inputs, output, rules):
    ids = [f"{node_id}_i{i}" for i in range(len(inputs))]
    return {"id": node_id, "type": "decisionTableNode", "name": name, "position": {"x": 0, "y": 0},
            "content": {"hitPolicy": "first",
                        "inputs": [{"id": i, "name": f, "type": "expression", "field": f} for i, f in zip(ids, inputs, strict=True)],
                        "outputs": [{"id": f"{node_id}_o", "name": output, "type": "expression", "field": output}],
                        "rules": [{"_id": f"{node_id}_r{n}", **dict(zip(ids, cells, strict=True)), f"{node_id}_o": out}
                                  for n, (cells, out) in enumerate(rules)]}}


RESECTABLE = ("liver_resectable == true and extrahepatic_unresectable == false and "
              "future_liver_remnant_pct != null and future_liver_remnant_pct > 30")
NOT_RESECTABLE = ("liver_resectable == false or extrahepatic_unresectable == true or "
                  "(future_liver_remnant_pct != null and future_liver_remnant_pct <= 30)")


def jdm_graph() -> dict:
    known = "$ != null and "
    surgery = _table("surgery", "Surgery",
                     ["liver_resectable", "extrahepatic_unresectable", "future_liver_remnant_pct",
                      "hepatectomy_segments", "primary_symptomatic"],
                     "surgery",
                     [(["false", "", "", "", ""], '"conversion"'),
                      (["", "true", "", "", ""], '"conversion"'),
                      (["", "", known + "$ <= 30", "", ""], '"conversion"'),
                      (["true", "false", known + "$ > 30", known + "$ <= 3", ""], '"simultaneous"'),
                      (["true", "false", known + "$ > 30", known + "$ > 3", '"none"'], '"liver_first_or_staged"'),
                      (["true", "false", known + "$ > 30", known + "$ > 3", '"hemorrhage", "obstruction"'],
                       '"staged_primary_first"')])
    regimen = _table("regimen", "Regimen", ["kras"], "regimen",
                     [(['"wild_type"'], '"anti_egfr"'), (['"mutant"'], '"bevacizumab"'),
                      (['"unknown"'], '"test_kras"')])
    checks = {"id": "checks", "type": "expressionNode", "name": "Checks", "position": {"x": 0, "y": 0},
              "content": {"expressions": [
                  {"id": "bev", "key": "bev_warning", "value": f"({RESECTABLE}) and days_since_last_bevacizumab != "
                                                             "null and days_since_last_bevacizumab < 42"},
                  {"id": "crs", "key": "crs_hipec", "value": "peritoneal_pci != null and peritoneal_pci < 12"}]}}
    nodes = [{"id": "in", "type": "inputNode", "name": "Request", "position": {"x": 0, "y": 0}},
             {"id": "out", "type": "outputNode", "name": "Response", "position": {"x": 0, "y": 0}},
             surgery, regimen, checks]
    edges = [{"id": f"e{i}", "type": "edge", "sourceId": s, "targetId": t}
             for i, (s, t) in enumerate([("in", "surgery"), ("in", "regimen"), ("in", "checks"),
                                         ("surgery", "out"), ("regimen", "out"), ("checks", "out")])]
    return {"contentType": "application/vnd.gorules.decision", "nodes": nodes, "edges": edges}


def make_zen_graph():
    import zen
    decision = zen.ZenEngine().create_decision(json.dumps(jdm_graph()))

    def run(case):
        r = decision.evaluate({f: case.get(f) for f in FIELDS})["result"]
        return r.get("surgery"), r.get("regimen"), bool(r.get("bev_warning")), bool(r.get("crs_hipec"))
    return run


def make_zen_expressions():
    import zen
    surgery = zen.compile_expression(
        f"({NOT_RESECTABLE}) ? 'conversion' : (({RESECTABLE}) and hepatectomy_segments != null) ? "
        "(hepatectomy_segments <= 3 ? 'simultaneous' : primary_symptomatic == null ? null : "
        "primary_symptomatic == 'none' ? 'liver_first_or_staged' : 'staged_primary_first') : null")
    regimen = zen.compile_expression("kras == 'wild_type' ? 'anti_egfr' : kras == 'mutant' ? 'bevacizumab' : "
                                     "kras == 'unknown' ? 'test_kras' : null")
    bev = zen.compile_expression(f"({RESECTABLE}) and days_since_last_bevacizumab != null and "
                                 "days_since_last_bevacizumab < 42")
    crs = zen.compile_expression("peritoneal_pci != null and peritoneal_pci < 12")

    def run(case):
        context = {f: case.get(f) for f in FIELDS}
        return surgery.evaluate(context), regimen.evaluate(context), bev.evaluate(context), crs.evaluate(context)
    return run


# ---- rule-engine --------------------------------------------------------------------------------------

def make_rule_engine():
    import rule_engine
    context = rule_engine.Context(default_value=None)
    resectable = ("liver_resectable == true and extrahepatic_unresectable == false and "
                  "future_liver_remnant_pct != null and future_liver_remnant_pct > 30")
    surgery = [(rule_engine.Rule(text, context=context), value) for text, value in [
        ("liver_resectable == false or extrahepatic_unresectable == true or "
         "(future_liver_remnant_pct != null and future_liver_remnant_pct <= 30)", "conversion"),
        (f"{resectable} and hepatectomy_segments != null and hepatectomy_segments <= 3", "simultaneous"),
        (f"{resectable} and hepatectomy_segments != null and hepatectomy_segments > 3 and "
         "primary_symptomatic == 'none'", "liver_first_or_staged"),
        (f"{resectable} and hepatectomy_segments != null and hepatectomy_segments > 3 and "
         "primary_symptomatic != null and primary_symptomatic != 'none'", "staged_primary_first")]]
    regimen = [(rule_engine.Rule(f"kras == '{k}'", context=context), v)
               for k, v in [("wild_type", "anti_egfr"), ("mutant", "bevacizumab"), ("unknown", "test_kras")]]
    bev = rule_engine.Rule(f"{resectable} and days_since_last_bevacizumab != null and "
                           "days_since_last_bevacizumab < 42", context=context)
    crs = rule_engine.Rule("peritoneal_pci != null and peritoneal_pci < 12", context=context)

    def first(rules, case):
        for rule, value in rules:
            if rule.matches(case):
                return value
        return None

    def run(case):
        return first(surgery, case), first(regimen, case), bev.matches(case), crs.matches(case)
    return run


# ---- durable-rules -------------------------------------------------------------------------------------

def make_durable_rules():
    from durable.engine import MessageNotHandledException
    from durable.lang import assert_fact, m, retract_fact, ruleset, when_all
    out: dict = {}
    counter = [0]
    name = "consilium_bench"
    res = (m.liver_resectable == True) & (m.extrahepatic_unresectable == False) & (  # noqa: E712
        m.future_liver_remnant_pct > 30)
    with ruleset(name):
        @when_all((m.liver_resectable == False) | (m.extrahepatic_unresectable == True)  # noqa: E712
                  | (m.future_liver_remnant_pct <= 30))
        def conversion(c):
            out["surgery"] = "conversion"

        @when_all(res & (m.hepatectomy_segments <= 3))
        def simultaneous(c):
            out["surgery"] = "simultaneous"

        @when_all(res & (m.hepatectomy_segments > 3) & (m.primary_symptomatic == "none"))
        def liver_first_or_staged(c):
            out["surgery"] = "liver_first_or_staged"

        @when_all(res & (m.hepatectomy_segments > 3) & ((m.primary_symptomatic == "hemorrhage")
                                                        | (m.primary_symptomatic == "obstruction")))
        def staged_primary_first(c):
            out["surgery"] = "staged_primary_first"

        @when_all(m.kras == "wild_type")
        def anti_egfr(c):
            out["regimen"] = "anti_egfr"

        @when_all(m.kras == "mutant")
        def bevacizumab(c):
            out["regimen"] = "bevacizumab"

        @when_all(m.kras == "unknown")
        def test_kras(c):
            out["regimen"] = "test_kras"

        @when_all(res & (m.days_since_last_bevacizumab < 42))
        def bev_warning(c):
            out["bev"] = True

        @when_all(m.peritoneal_pci < 12)
        def crs_hipec(c):
            out["crs"] = True

    def run(case):
        # a fact (not an event) so that every rule that matches it fires; retracted afterwards
        out.clear()
        counter[0] += 1
        fact = {"case": counter[0], **case}
        try:
            assert_fact(name, fact)
        except MessageNotHandledException:  # no rule matched: nothing to report
            return None, None, False, False
        retract_fact(name, fact)
        return out.get("surgery"), out.get("regimen"), out.get("bev", False), out.get("crs", False)
    return run


# ---- CLIPS (clipspy) -----------------------------------------------------------------------------------

CLIPS_RULES = """
(deftemplate case (slot lr) (slot ex) (slot sym) (slot seg) (slot rem) (slot kras) (slot days) (slot pci))
(deftemplate out (slot key) (slot value))
(defrule conversion (case (lr ?lr) (ex ?ex) (rem ?rem))
  (test (or (eq ?lr FALSE) (eq ?ex TRUE) (and (numberp ?rem) (<= ?rem 30))))
  => (assert (out (key surgery) (value conversion))))
(defrule simultaneous (case (lr TRUE) (ex FALSE) (rem ?rem&:(numberp ?rem)&:(> ?rem 30)) (seg ?s&:(numberp ?s)&:(<= ?s 3)))
  => (assert (out (key surgery) (value simultaneous))))
(defrule liver-first-or-staged (case (lr TRUE) (ex FALSE) (rem ?rem&:(numberp ?rem)&:(> ?rem 30)) (seg ?s&:(numberp ?s)&:(> ?s 3)) (sym none))
  => (assert (out (key surgery) (value liver_first_or_staged))))
(defrule staged-primary-first (case (lr TRUE) (ex FALSE) (rem ?rem&:(numberp ?rem)&:(> ?rem 30)) (seg ?s&:(numberp ?s)&:(> ?s 3)) (sym hemorrhage|obstruction))
  => (assert (out (key surgery) (value staged_primary_first))))
(defrule anti-egfr (case (kras wild_type)) => (assert (out (key regimen) (value anti_egfr))))
(defrule bevacizumab (case (kras mutant)) => (assert (out (key regimen) (value bevacizumab))))
(defrule test-kras (case (kras unknown)) => (assert (out (key regimen) (value test_kras))))
(defrule bev-warning (case (lr TRUE) (ex FALSE) (rem ?rem&:(numberp ?rem)&:(> ?rem 30)) (days ?d&:(numberp ?d)&:(< ?d 42)))
  => (assert (out (key bev) (value TRUE))))
(defrule crs-hipec (case (pci ?p&:(numberp ?p)&:(< ?p 12))) => (assert (out (key crs) (value TRUE))))
"""


def _constructs(text: str) -> list[str]:
    found, depth, start = [], 0, None
    for i, ch in enumerate(text):
        if ch == "(":
            if depth == 0:
                start = i
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                found.append(text[start:i + 1])
    return found


def make_clips():
    import clips
    env = clips.Environment()
    for construct in _constructs(CLIPS_RULES):  # `build` takes one construct at a time
        env.build(construct)
    template = env.find_template("case")
    slots = {"lr": "liver_resectable", "ex": "extrahepatic_unresectable", "sym": "primary_symptomatic",
             "seg": "hepatectomy_segments", "rem": "future_liver_remnant_pct", "kras": "kras",
             "days": "days_since_last_bevacizumab", "pci": "peritoneal_pci"}
    symbol = clips.Symbol

    def value(v):
        if v is None:
            return symbol("nil")
        if isinstance(v, bool):
            return symbol("TRUE" if v else "FALSE")
        if isinstance(v, str):
            return symbol(v)
        return v

    def run(case):
        env.reset()
        template.assert_fact(**{slot: value(case.get(field)) for slot, field in slots.items()})
        env.run()
        out = {}
        for fact in env.facts():
            if fact.template.name == "out":
                out[str(fact["key"])] = str(fact["value"])
        return out.get("surgery"), out.get("regimen"), "bev" in out, "crs" in out
    return run


# ---- experta (a Python Rete) ------------------------------------------------------------------------------

def make_experta():
    """experta's last release imports `collections.Mapping`, gone since Python 3.10: the import
    below fails here, and the table says so. Its rules are written the day it imports."""
    import experta  # noqa: F401
    return None


# ---- pyDMNrules: the decision as DMN decision tables (bench/decision.dmn) -------------------------------

def make_pydmnrules():
    import pyDMNrules
    dmn = pyDMNrules.DMN()
    problems = dmn.useXML((Path(__file__).resolve().parent / "decision.dmn").read_text(encoding="utf-8"))
    if problems:
        raise RuntimeError(f"pyDMNrules cannot read the DMN: {problems}")

    def run(case):
        status, results = dmn.decide({f: case.get(f) for f in FIELDS})
        r = results[-1]["Result"]  # each table's result carries the earlier ones' outputs
        return r["surgery"], r["regimen"], bool(r["bev_warning"]), bool(r["crs_hipec"])
    return run


# ---- the whole batch at once: NumPy --------------------------------------------------------------------------

def numpy_batch(cases: list[dict]) -> list[tuple]:
    """The same logic over arrays of the whole batch; missing values are NaN (or code -1)."""
    import numpy as np
    n = len(cases)

    def column(field, codes=None):
        data = np.full(n, np.nan)
        for i, c in enumerate(cases):
            v = c.get(field)
            if v is not None:
                data[i] = codes[v] if codes else float(v)
        return data

    sym_codes = {"none": 0, "hemorrhage": 1, "obstruction": 2}
    kras_codes = {"wild_type": 0, "mutant": 1, "unknown": 2}
    lr, ex, rem = column("liver_resectable"), column("extrahepatic_unresectable"), column("future_liver_remnant_pct")
    seg, sym = column("hepatectomy_segments"), column("primary_symptomatic", sym_codes)
    kras, days, pci = column("kras", kras_codes), column("days_since_last_bevacizumab"), column("peritoneal_pci")
    with np.errstate(invalid="ignore"):
        res_false = (lr == 0) | (ex == 1) | (rem <= 30)
        res_true = (lr == 1) & (ex == 0) & (rem > 30)
        surgery = np.full(n, -1)
        surgery[res_false] = 0
        surgery[res_true & (seg <= 3)] = 1
        surgery[res_true & (seg > 3) & (sym == 0)] = 2
        surgery[res_true & (seg > 3) & ((sym == 1) | (sym == 2))] = 3
        bev = res_true & (days < 42)
        crs = pci < 12
    names_s = np.array(list(SURGERY) + [None], dtype=object)
    names_r = np.array(list(REGIMEN) + [None], dtype=object)
    regimen = np.where(np.isnan(kras), -1, kras).astype(int)
    return list(zip(names_s[surgery].tolist(), names_r[regimen].tolist(), bev.tolist(), crs.tolist(), strict=True))


ENGINES = [
    ("zen-engine, decision graph", make_zen_graph),
    ("zen-engine, expressions", make_zen_expressions),
    ("rule-engine", make_rule_engine),
    ("durable-rules", make_durable_rules),
    ("CLIPS (clipspy)", make_clips),
    ("experta", make_experta),
    ("pyDMNrules", make_pydmnrules),
]
