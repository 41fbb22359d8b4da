"""The bundled knowledge base: one case through every source, loading, and a whole `consilium eval`.

    python bench/bench_kb.py [--cases 20000] [--runs 7] [--distinct N] [--profile [evaluate|to_json]]

Per case (random cases of the bundled knowledge base: fixed seed, every fact type, boundary
values, about a third of the facts missing), interleaved in batches in one process:
- reading every fact of the case once (the floor any evaluator pays), the baseline;
- `decide`, the values only;
- `evaluate`, the full result (recommendations with provenance and path, warnings, needs,
  the views per source and per site, plans, the trace);
- `evaluate` then `to_json`, what `consilium eval --json` writes;
- `kb.decide` on the case as a file writes it (sets as lists, dates as text): checking the
  case against the fact schema, then `decide`.
`--distinct N` draws the cases from N distinct ones, as a cohort's repeat (default: every case its own).
Then the two differences issue 10 sets targets for: `to_json` alone against `evaluate`, and
checking alone against `decide`. `to_json` alone is what a caller pays for it, and that
includes the advice (findings, options, contradictions, choices): evaluation work a result does
lazily, when first read, so inside the first `to_json`. So a second pass, over as many other
cases, times each call's parts apart within it: `evaluate`; reading the result's advice; then
`to_json` of that result, which only serialises. It prints `to_json` as a caller pays it
(advice + serialising) against `evaluate`, and serialising alone against the evaluation it
serialises (`evaluate` + its advice).
Those are medians of 500-case batches, which leave out the few batches holding a full
collection of the garbage collector; the same parts' means over the run, which count them,
follow. A collection counts in the part that set it off, mostly `to_json` (the part holding the
most new containers at once), whichever parts' objects it scans.
Loading, each in a fresh process: with nothing cached (parse, check, compile, and the
generated code compiled by Python) and from the cache; and `consilium eval` of one example case
as a whole process, next to a bare `python -c pass`. These are CPU times (user and system, of
the process and any it runs, such as git), which other work on a shared machine disturbs far
less than wall-clock time; the processes take turns, and each row is the median of --runs.
`--profile` prints where `evaluate` spends its time instead (pyinstrument, from the `bench` extra);
`--profile to_json`, where `evaluate` then `to_json` do.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from typing import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

import consilium  # noqa: E402
from casegen import as_written, random_case  # noqa: E402
from compare import per_case  # noqa: E402

_LOAD = ("import time, consilium; t = time.process_time(); consilium.load_kb(use_cache={cache}); "
         "print(time.process_time() - t)")


def _fresh(code: str, env: dict) -> float:
    """CPU seconds a fresh Python process reports for `code` (its load alone, after the import)."""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return float(out.stdout)


def _cpu(command: list[str], env: dict) -> float:
    """CPU seconds of a whole process (user and system, with the processes it waited for)."""
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(process.pid, 0)
    return usage.ru_utime + usage.ru_stime


def profile(evaluate, cases: list[dict]) -> int:
    from pyinstrument import Profiler
    profiler = Profiler(interval=0.0002)
    with profiler:
        for case in cases:
            evaluate(case)
    print(profiler.output_text(color=False, show_all=False))
    return 0


def split(evaluate, cases: list[dict], batch: int) -> tuple[dict[str, float], dict[str, float]]:
    """Per case, the CPU time of `evaluate`, of reading the result's advice (findings, options,
    contradictions, choices: worked out when first read), and of `to_json` of that result, each
    timed apart within one call: the median of each batch's mean, and the mean over the whole
    run. The median leaves out the few batches that hold a full collection of the garbage
    collector (a pause of about a tenth of a second, every few thousand distinct cases); the
    mean counts them, as a run of many cases pays them. The clock's own cost (taken as the
    least of many empty readings) is taken off each part."""
    clock = time.process_time_ns
    empty = min(-clock() + clock() for _ in range(2000))
    parts: dict[str, list[float]] = {"evaluate": [], "advice": [], "serialise": []}
    for start in range(0, len(cases), batch):
        chunk = cases[start:start + batch]
        total = [0, 0, 0]
        for case in chunk:
            t0 = clock()
            result = evaluate(case)
            t1 = clock()
            read = (result.findings, result.options, result.contradictions, result.choices)  # noqa: F841
            t2 = clock()
            result.to_json()
            t3 = clock()
            total[0] += t1 - t0 - empty
            total[1] += t2 - t1 - empty
            total[2] += t3 - t2 - empty
        for name, spent in zip(parts, total, strict=True):
            parts[name].append(spent / len(chunk) / 1e9)
    return ({name: statistics.median(values) for name, values in parts.items()},
            {name: statistics.fmean(values) for name, values in parts.items()})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--distinct", type=int, help="draw the cases from this many distinct ones")
    parser.add_argument("--profile", nargs="?", const="evaluate", choices=("evaluate", "to_json"),
                        help="profile evaluate, or evaluate then to_json (pyinstrument), and stop")
    args = parser.parse_args()

    kb = consilium.load_kb()
    rng = random.Random(args.seed)
    cases = [random_case(kb.facts, rng) for _ in range(min(args.cases, args.distinct or args.cases))]
    if args.distinct:  # each drawn again and again, as a cohort's cases repeat (copies: not the same dict)
        cases = [dict(rng.choice(cases)) for _ in range(args.cases)]
    facts = tuple(kb.facts)
    evaluate = partial(kb.evaluate, validated=True)
    if args.profile:
        return profile(evaluate if args.profile == "evaluate" else lambda case: evaluate(case).to_json(), cases)

    def read_every_fact(case):
        get = case.get
        return [get(f) for f in facts]

    # the two rows whose difference is checking call the same function the same way: each looks
    # its case up (typed, or as a case file writes it) and calls `kb.decide` (the generated function)
    typed = {id(case): case for case in cases}
    written = {id(case): {k: as_written(v) for k, v in case.items()} for case in cases}
    generated = kb.decide
    medians = per_case({"read every fact (baseline)": read_every_fact,
                        "decide (values only)": lambda case: generated(typed[id(case)], validated=True),
                        "evaluate (full result)": evaluate,
                        "evaluate + to_json": lambda case: evaluate(case).to_json(),
                        "check the case, then decide": lambda case: generated(written[id(case)])}, cases, 500)
    base = medians["read every fact (baseline)"]
    print(f"bundled knowledge base: {len(kb.facts)} facts, {len(kb.pathways)} pathways, {len(kb.sources)} sources; "
          f"{len(cases):,} random cases" + (f" drawn from {args.distinct:,}" if args.distinct else "")
          + f", seed {args.seed}")
    print(f"{'one case':<30} {'median':>12} {'ratio':>8}")
    for name, value in medians.items():
        print(f"{name:<30} {value * 1e6:>9.2f} µs {value / base:>7.1f}x")
    # the targets of issue 10 (part 6): each the difference of two rows, against the work it follows
    decided, evaluated = medians["decide (values only)"], medians["evaluate (full result)"]
    to_json = medians["evaluate + to_json"] - evaluated
    checking = medians["check the case, then decide"] - decided
    print(f"{'to_json alone':<30} {to_json * 1e6:>9.2f} µs {to_json / evaluated:>7.2f}x evaluate (target <= 1)")
    print(f"{'checking alone':<30} {checking * 1e6:>9.2f} µs {checking / decided:>7.2f}x decide (target <= 1)")
    # what that `to_json` holds: the advice, worked out when first read, and the serialising itself
    if args.distinct:  # drawn from the same distinct cases
        more = [dict(rng.choice(cases)) for _ in range(args.cases)]
    else:
        more = [random_case(kb.facts, rng) for _ in range(args.cases)]
    parts, means = split(evaluate, more, 500)
    evaluated, advice, serialised = parts["evaluate"], parts["advice"], parts["serialise"]
    print(f"\nthe parts of each call, timed apart ({len(more):,} other cases)")
    print(f"{'evaluate':<30} {evaluated * 1e6:>9.2f} µs")
    print(f"{'its advice, first read':<30} {advice * 1e6:>9.2f} µs   (findings, options, contradictions, choices)")
    print(f"{'serialising (to_json after)':<30} {serialised * 1e6:>9.2f} µs")
    print(f"{'to_json as a caller pays it':<30} {(advice + serialised) * 1e6:>9.2f} µs "
          f"{(advice + serialised) / evaluated:>7.2f}x evaluate (advice + serialising)")
    print(f"{'serialising alone':<30} {serialised * 1e6:>9.2f} µs {serialised / (evaluated + advice):>7.2f}x "
          f"evaluate + its advice (the evaluation it serialises)")
    evaluated, advice, serialised = means["evaluate"], means["advice"], means["serialise"]
    print(f"{'the same, means over the run':<30} {evaluated * 1e6:>9.2f} + {advice * 1e6:.2f} + "
          f"{serialised * 1e6:.2f} µs: serialising {serialised / (evaluated + advice):.2f}x evaluate + its advice "
          f"(full collections counted)")

    with tempfile.TemporaryDirectory() as cache_dir:
        # as installed: pip compiles the bytecode at install, so a user's process never compiles
        # Consilium's modules; PYTHONDONTWRITEBYTECODE (set in some shells) would make every run do so
        env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
        env |= {"CONSILIUM_CACHE_DIR": cache_dir, "PYTHONPATH": str(ROOT)}
        _cpu([sys.executable, "-c", "import consilium.engine.cli, yaml"], env)  # writes the bytecode once
        no_cache = {**env, "CONSILIUM_CACHE": "off"}  # no parse cache, no cached code objects either
        example = ROOT / "examples" / "liver_resectable_three_segments.yaml"
        command = [sys.executable, "-m", "consilium", "eval", str(ROOT / "kb"), str(example)]
        rows: dict[str, Callable[[], float]] = {
            "bare": partial(_cpu, [sys.executable, "-c", "pass"], env),
            "cold": partial(_fresh, _LOAD.format(cache=False), no_cache),
            "cached": partial(_fresh, _LOAD.format(cache=True), env),
            "whole": partial(_cpu, command, env)}
        rows["cached"](), rows["whole"]()  # fill the parse cache, and what a result's identity keeps
        times: dict[str, list[float]] = {name: [] for name in rows}
        for _ in range(args.runs):  # the processes take turns: a busy moment falls on every row alike
            for name, measure in rows.items():
                times[name].append(measure())
        bare, cold, cached, whole = (statistics.median(times[name]) for name in rows)
    print(f"\n{'in a fresh process (CPU)':<30} {'median':>12} {'ratio':>8}")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    print(f"{'python -c pass (baseline)':<30} {bare * 1000:>9.0f} ms {1:>7.1f}x")
    print(f"{'load, no cache':<30} {cold * 1000:>9.0f} ms {cold / bare:>7.1f}x")
    print(f"{'load, from the cache':<30} {cached * 1000:>9.0f} ms {cached / bare:>7.1f}x")
    print(f"{'consilium eval, one case':<30} {whole * 1000:>9.0f} ms {whole / bare:>7.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
