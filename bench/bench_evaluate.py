"""Evaluate generated cases through Consilium and through a hand-written function, side by side.

    python bench/bench_evaluate.py [--cases 100000] [--seed 7]

The logic is bench/hepatic_slice/main.rules: the hepatic-metastases slice (resectability,
surgical approach, liver-first contraindication, two safety rules), kept fixed so the
hand-written function can mirror it. The hand-written function does
the same with three-valued logic by hand. Both run in one process, interleaved in batches,
on the same cases (fixed seed, boundary values, about a third of the values missing); every
case's answer is checked to agree before anything is timed. Prints per-case medians over
the batches and their ratio to the hand-written function.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import consilium  # noqa: E402
from compare import per_case  # noqa: E402  (the interleaved per-case medians)

MISSING = object()


def generate(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)

    def maybe(value):
        return MISSING if rng.random() < 1 / 3 else value

    cases = []
    for _ in range(n):
        raw = {
            "complete_resection_feasible": maybe(rng.random() < 0.8),
            "primary_r0_resectable": maybe(rng.random() < 0.8),
            "unresectable_extrahepatic_disease": maybe(rng.random() < 0.2),
            "future_liver_remnant": maybe(rng.choice([29, 30, 31, 30.5, rng.uniform(0, 100)])),
            "hepatectomy_segments": maybe(rng.choice([1, 2, 3, 4, rng.randint(1, 8)])),
            "primary_symptoms": maybe(frozenset(rng.sample(["hemorrhage", "obstruction", "other"],
                                                           rng.randint(0, 2)))),
            "proposed_treatment": maybe(frozenset(rng.sample(
                ["simultaneous_resection", "staged_resection", "liver_first"], rng.randint(0, 2)))),
        }
        cases.append({k: v for k, v in raw.items() if v is not MISSING})
    return cases


def _and(*values):
    if False in values:
        return False
    return None if None in values else True


def hand_written(case: dict) -> tuple[list[str], list[str], list[str]]:
    """The slice's logic by hand: (recommendations, warnings, needs)."""
    g = case.get
    recs: list[str] = []
    warns: list[str] = []
    needs: list[str] = []
    ext, flr = g("unresectable_extrahepatic_disease"), g("future_liver_remnant")
    criteria = ("complete_resection_feasible", "primary_r0_resectable", "unresectable_extrahepatic_disease",
                "future_liver_remnant")
    resectable = _and(g("complete_resection_feasible"), g("primary_r0_resectable"),
                      None if ext is None else not ext, None if flr is None else flr > 30)
    if resectable is None:
        needs += [f for f in criteria if g(f) is None]
    elif not resectable:
        recs.append("conversion_chemotherapy")
    else:
        segments = g("hepatectomy_segments")
        if segments is None:
            needs.append("hepatectomy_segments")
        elif segments <= 3:
            recs.append("simultaneous_surgery")
        else:
            recs.append("staged_hepatectomy")
            symptoms = g("primary_symptoms")
            if symptoms is None:
                needs.append("primary_symptoms")
            elif "hemorrhage" in symptoms or "obstruction" in symptoms:
                warns.append("liver_first_contraindicated")
            else:
                recs.append("liver_first")
    proposed, symptoms, segments = g("proposed_treatment"), g("primary_symptoms"), g("hepatectomy_segments")
    bleeding = None if symptoms is None else ("hemorrhage" in symptoms or "obstruction" in symptoms)
    if _and(None if proposed is None else "liver_first" in proposed, bleeding):
        warns.append("liver_first_with_symptomatic_primary")
    if _and(None if proposed is None else "simultaneous_resection" in proposed,
            None if segments is None else segments > 3):
        warns.append("simultaneous_beyond_three_segments")
    return recs, warns, needs


def consilium_full(kb):
    evaluate = kb.evaluate  # (a `partial` with a keyword would build a dict of keywords per call)

    def run(case):
        result = evaluate(case, validated=True)  # the cases are typed values already
        return result.recommendation_ids(), result.warning_ids(), result.needed_facts()
    return run


def consilium_values(kb):
    decide = kb.decide

    def run(case):
        d = decide(case, validated=True)
        return list(d.recommendations), list(d.warnings), list(d.needs)
    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()

    t0 = time.perf_counter()
    kb = consilium.load_kb(Path(__file__).resolve().parent / "hepatic_slice")
    load_ms = (time.perf_counter() - t0) * 1000
    cases = generate(args.cases, args.seed)
    full, values = consilium_full(kb), consilium_values(kb)
    for i, case in enumerate(cases):  # every answer must agree before anything is timed
        theirs = hand_written(case)
        for name, ours in (("full result", full(case)), ("values only", values(case))):
            if ours != theirs:
                print(f"disagreement on case {i}: {case}\n  consilium ({name}): {ours}\n  by hand: {theirs}")
                return 1
    medians = per_case({"hand-written Python": hand_written, "consilium (values only)": values,
                        "consilium (full result)": full}, cases, args.batch)
    base = medians["hand-written Python"]
    print(f"{len(cases):,} cases, seed {args.seed}, all answers agree; knowledge base loaded in {load_ms:.0f} ms")
    print(f"{'evaluator':<28} {'median per case':>16} {'ratio':>8}")
    for name, value in medians.items():
        print(f"{name:<28} {value * 1e6:>13.2f} µs {value / base:>7.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
