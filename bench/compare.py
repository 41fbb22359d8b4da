"""Consilium against the rule engines a user might pick instead, on one decision, side by side.

    python bench/compare.py [--cases 100000] [--seed 2026] [--markdown] [--only zen,consilium]

Generates cases (fixed seed, boundary values, about a third of the inputs missing), checks
that every engine agrees with the plain-Python reference on every case, then times them one
case at a time through each engine's Python API, interleaved batch by batch in one process,
and prints the per-case medians and their ratio to the hand-written function. The batch
limit (NumPy over the whole batch) is timed once over all cases. The peers are optional
(`pip install -e '.[bench]'`); one that does not import is listed with the reason.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import peers  # noqa: E402


def generate(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    values = {
        "liver_resectable": [True, False],
        "extrahepatic_unresectable": [True, False],
        "primary_symptomatic": ["none", "hemorrhage", "obstruction"],
        "hepatectomy_segments": [1, 2, 3, 3, 4, 4, 5, 8],
        "future_liver_remnant_pct": [0, 29, 29.5, 30, 30.5, 31, 45, 100],
        "kras": ["wild_type", "mutant", "unknown"],
        "days_since_last_bevacizumab": [0, 14, 41, 42, 43, 90],
        "peritoneal_pci": [0, 5, 11, 12, 13, 39],
    }
    cases = []
    for _ in range(n):
        cases.append({k: rng.choice(v) for k, v in values.items() if rng.random() >= 1 / 3})
    return cases


def per_case(functions: dict, cases: list[dict], batch: int = 1000) -> dict[str, float]:
    """Median seconds per case of each function, batch by batch, taking turns. The time is the
    process's CPU time, not the wall clock: on a machine busy with other work, the time this
    process waits for a core is not counted (it would be, unevenly, against whoever ran then)."""
    timings: dict[str, list[float]] = {name: [] for name in functions}
    names = list(functions)
    for start in range(0, len(cases), batch):
        chunk = cases[start:start + batch]
        names = names[1:] + names[:1]  # interleave, and rotate who goes first
        for name in names:
            fn = functions[name]
            t0 = time.process_time()
            for case in chunk:
                fn(case)
            timings[name].append((time.process_time() - t0) / len(chunk))
    return {name: statistics.median(v) for name, v in timings.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--only", help="run only the engines whose names contain one of these words "
                        "(comma-separated; the hand-written function always runs)")
    args = parser.parse_args()
    wanted = [w.strip().lower() for w in args.only.split(",")] if args.only else None

    def chosen(name: str) -> bool:
        return wanted is None or name == "hand-written Python" or any(w in name.lower() for w in wanted)

    cases = generate(args.cases, args.seed)
    expected = [peers.reference(c) for c in cases]

    values, full = peers.make_consilium(HERE / "decision")
    functions = {"hand-written Python": peers.reference,
                 "hand-written Python, Consilium's answer (needs too)": peers.hand_written_same_answer,
                 "Consilium, values only": values, "Consilium, full result": full}
    notes: dict[str, str] = {}
    functions = {name: fn for name, fn in functions.items() if chosen(name)}
    for name, make in peers.ENGINES:
        if not chosen(name):
            continue
        if make is None:
            notes[name] = "installs; its decision is not written yet"
            continue
        try:
            fn = make()
        except Exception as exc:  # noqa: BLE001 - a peer that cannot be set up is reported, not fatal
            notes[name] = f"does not import here: {type(exc).__name__}: {exc}"
            continue
        if fn is None:
            notes[name] = "imports, but its decision is not written yet"
            continue
        functions[name] = fn
    for name, fn in functions.items():  # every answer must agree before anything is timed
        for i, case in enumerate(cases):
            got = fn(case)
            if got != expected[i]:
                print(f"{name} disagrees with the reference on case {i}: {case}\n  got {got}\n  expected {expected[i]}")
                return 1
    batch_answers = None
    if chosen("NumPy, whole batch"):
        try:
            t0 = time.perf_counter()
            batch_answers = peers.numpy_batch(cases)
            numpy_time = (time.perf_counter() - t0) / len(cases)
        except ImportError as exc:
            notes["NumPy, whole batch"] = f"does not import here: {exc}"
    if batch_answers is not None and batch_answers != expected:
        print("NumPy batch disagrees with the reference")
        return 1
    medians = per_case(functions, cases)
    if batch_answers is not None:
        medians["NumPy, whole batch (limit)"] = numpy_time
    base = medians["hand-written Python"]
    rows = sorted(medians.items(), key=lambda kv: kv[1])
    print(f"{len(cases):,} cases, seed {args.seed}; every engine agrees with the reference on every case; "
          f"Python {platform.python_version()}, {platform.machine()}; load average {os.getloadavg()[0]:.1f} at the end")
    if args.markdown:
        print("\n| engine | median per case | ratio to hand-written |\n|---|---:|---:|")
        for name, value in rows:
            print(f"| {name} | {value * 1e6:,.3f} µs | {value / base:,.2f}× |")
        for name, note in notes.items():
            print(f"| {name} | — | {note} |")
    else:
        width = max(len(name) for name in list(medians) + list(notes))
        print(f"{'engine':<{width}} {'median per case':>16} {'ratio':>9}")
        for name, value in rows:
            print(f"{name:<{width}} {value * 1e6:>13.3f} µs {value / base:>8.2f}x")
        for name, note in notes.items():
            print(f"{name:<{width}} {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
