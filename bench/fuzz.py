"""The long fuzzing run: generated rule files and cases until a number of inputs or a time is reached.

    python bench/fuzz.py [--inputs 1000000] [--minutes 120] [--seed 1] [--findings FILE]

The same strategies (tests/strategies.py) and properties (tests/fuzzing.py) as the test
suite's budgeted run, on new random inputs: each rule file is loaded (parse, check, graphs,
code generation; `verify` on one in `--verify-every`), then cases drawn for its facts (the
first three by the Hypothesis strategy, the rest by `strategies.random_case` from a drawn
seed: the same values, about a hundred times faster) are validated and, when valid,
evaluated through `decide`, `evaluate` and the reference interpreter, which must agree, and
written to JSON. One in ten examples draws cases for the bundled knowledge base instead. An
input is one rule file or one case. A crash (any exception but a `ConsiliumError`) or a
disagreement is written to `--findings` with its input and the run goes on; it prints a
line a minute and a summary at the end (also as JSON with --summary), ending with the row
docs/reliability.md's table of runs takes: the commit, the command, the counts.
Exit status 1 when anything was found.

Every module of the engine is imported before the first input, and the engine's digest
(engine/cache.py's: its modules and the grammar) is taken again at the end: a run during
which the code changed (a merge in the checkout it runs from) says so, and its counts are
not a result for either version. Run it from a checkout nobody changes meanwhile.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
import traceback
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import consilium  # noqa: E402
from fuzzing import load, run_case  # noqa: E402
from strategies import cases, random_case, rule_files  # noqa: E402

def import_everything() -> list[str]:
    """Import every module of the engine now, so a file changed on disk during the run cannot
    be imported half-way through it (mixed code); the names that need a missing extra."""
    import importlib
    import pkgutil

    import consilium.engine
    missing = []
    for module in pkgutil.walk_packages(consilium.engine.__path__, "consilium.engine."):
        try:
            importlib.import_module(module.name)
        except ImportError:
            missing.append(module.name)
    return missing


def commit() -> str:
    """The checkout's commit, with '+changes' when the engine, the grammar or the tests differ from it."""
    import subprocess
    try:
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=30, check=True).stdout.strip()
        changed = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "engine", "grammar",
                                  "consilium", "render", "tests", "bench"], capture_output=True, text=True,
                                 timeout=30, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return f"unknown ({ROOT} is not a git checkout)"
    return head + ("+changes" if changed else "")


COUNTS = dict.fromkeys(["rule_files", "rule_files_loaded", "verified", "cases", "cases_valid", "crashes",
                        "disagreements"], 0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--inputs", type=int, default=1_000_000, help="stop after this many inputs")
    parser.add_argument("--minutes", type=float, default=120, help="stop after this long")
    parser.add_argument("--seed", type=int, default=1, help="the first round's seed (each round adds 1)")
    parser.add_argument("--round", type=int, default=100, help="rule files per Hypothesis run")
    parser.add_argument("--cases", type=int, default=150, help="cases drawn for each rule file")
    parser.add_argument("--verify-every", type=int, default=50, help="run verify (Z3) on one rule file in N")
    parser.add_argument("--findings", type=Path, default=Path("fuzz-findings.txt"))
    parser.add_argument("--summary", type=Path, help="write the counts as JSON here")
    args = parser.parse_args()
    os.environ["CONSILIUM_CACHE"] = "off"  # a generated rule file is seen once: caching it only fills a folder
    sys.set_int_max_str_digits(0)  # Hypothesis prints the huge integers it draws when it reports
    from consilium.engine.cache import engine_digest
    import_everything()
    digest, checkout = engine_digest(), commit()
    bundled = consilium.load_kb()
    started = time.monotonic()
    deadline = started + args.minutes * 60
    last_report = started
    findings = args.findings.open("w", encoding="utf-8", errors="backslashreplace")

    def found(kind: str, text: str | None, raw) -> None:
        COUNTS["crashes" if kind == "crash" else "disagreements"] += 1
        findings.write(f"==== {kind} after {total()} inputs\n--- rule file\n{text}\n--- case\n{raw!r}\n"
                       f"--- traceback\n{traceback.format_exc()}\n")
        findings.flush()

    def total() -> int:
        return COUNTS["rule_files"] + COUNTS["cases"]

    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        round_number = 0
        while total() < args.inputs and time.monotonic() < deadline:  # checked between rounds
            @seed(args.seed + round_number)
            @settings(max_examples=args.round, deadline=None, database=None, phases=[Phase.generate],
                      suppress_health_check=list(HealthCheck))
            @given(rule_files(), st.data())
            def one(text, data):
                if data.draw(st.integers(0, 9)) == 0:
                    kb, text = bundled, None
                else:
                    COUNTS["rule_files"] += 1
                    verify = zlib.crc32(text.encode("utf-8", "surrogatepass")) % args.verify_every == 0
                    try:
                        kb = load(text, folder, verify=verify)
                    except Exception:  # noqa: BLE001 - a crash: recorded, and the run goes on
                        found("crash", text, None)
                        return
                    if kb is None:
                        return
                    COUNTS["rule_files_loaded"] += 1
                    COUNTS["verified"] += verify
                rng = random.Random(data.draw(st.integers(0, 2 ** 32)))
                for i in range(args.cases):
                    # the first few cases from the Hypothesis strategy, the rest from the same
                    # values drawn fast (strategies.random_case)
                    raw = data.draw(cases(kb.facts)) if i < 3 else random_case(kb.facts, rng)
                    COUNTS["cases"] += 1
                    try:
                        COUNTS["cases_valid"] += run_case(kb, raw)
                    except AssertionError:
                        found("disagreement", text, raw)
                    except Exception:  # noqa: BLE001
                        found("crash", text, raw)
            one()
            round_number += 1
            if time.monotonic() - last_report > 60:
                last_report = time.monotonic()
                print(f"{time.monotonic() - started:7.0f} s  {total():9,} inputs  {COUNTS}", flush=True)
    findings.close()
    elapsed = time.monotonic() - started
    changed = engine_digest.__wrapped__() != digest  # read the files again, not the cached digest
    summary = dict(COUNTS, inputs=total(), seconds=round(elapsed), rounds=round_number, first_seed=args.seed,
                   command=" ".join(sys.argv), commit=checkout, engine_digest=digest[:16],
                   code_changed_during_run=changed)
    print(json.dumps(summary, indent=2))
    arguments = " ".join(sys.argv[1:])
    print("\nThe row for docs/reliability.md's table of runs:\n"
          f"| N | {checkout} | `{arguments}` ({elapsed / 60:.0f} min) | {total():,} | "
          f"{COUNTS['rule_files']:,} ({COUNTS['rule_files_loaded']:,}) | {COUNTS['cases']:,} "
          f"({COUNTS['cases_valid']:,}) | {COUNTS['verified']:,} | {COUNTS['crashes']:,} "
          f"({COUNTS['disagreements']:,} disagreements) |")
    if changed:
        print("\nThe engine's code changed while this run went on: its counts belong to neither version.",
              file=sys.stderr)
    if args.summary:
        args.summary.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return 1 if COUNTS["crashes"] or COUNTS["disagreements"] or changed else 0


if __name__ == "__main__":
    sys.exit(main())
