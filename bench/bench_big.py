"""Big inputs: what they cost, and that the cost grows linearly with their size.

    python bench/bench_big.py [--facts 10000,20000,40000,80000] [--keys 10000,100000] [--terms 250,500,1000]

Each input is measured at several sizes in one process (CPU time, best of --runs), and each row gives
the time per unit (per fact, key or term): linear growth keeps that figure flat, so the last
column is the per-unit time at each size over the per-unit time at the smallest (1.0 is
linear; 2.0 at twice the size would be quadratic). The baselines, measured in the same run:
`json.loads` of the same case text for a case, Lark's parse of the same rule file for a
rule file.

- a case of N keys the knowledge base does not declare: read, validated (the first 20 named,
  the rest counted) and formatted, as `consilium eval` does;
- a rule file of N facts: `consilium check --format json` and the text form (load, verify
  with a finding per unused fact, formatting);
- a decision whose condition is an `or` of N terms: load (parse, check, code generation);
- a number of 400 digits in a condition: `consilium check`.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

import consilium  # noqa: E402
from consilium.engine.cli import main as cli  # noqa: E402
from consilium.engine.inputs.case import read_case, validate_case  # noqa: E402
from consilium.engine.lang.parse import parser  # noqa: E402

DECISION = '''pathway p "P" source S
    decide q "Q?"
        when {condition} -> r
        otherwise -> end
    recommend r "R"
        modality recommended
        quote "q"
'''


def best(runs: int, action) -> float:
    times = []
    for _ in range(runs):
        started = time.process_time()  # CPU time: the machine's other work does not count
        action()
        times.append(time.process_time() - started)
    return min(times)


def quiet(args: list[str]) -> int:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        return cli(args)


def row(what: str, size: int, seconds: float, baseline: float | None, first: dict) -> None:
    per = seconds / size
    first.setdefault(what, per)
    base = f"{seconds / baseline:8.1f}x" if baseline else " " * 9
    print(f"{what:<34} {size:>7,} {seconds:9.3f} s {per * 1e6:10.1f} µs/unit {base} {per / first[what]:7.2f}")


def main() -> int:
    parser_ = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser_.add_argument("--facts", default="10000,20000,40000,80000")
    parser_.add_argument("--keys", default="10000,100000")
    parser_.add_argument("--terms", default="250,500,1000")
    parser_.add_argument("--runs", type=int, default=3)
    args = parser_.parse_args()
    sizes = {k: [int(n) for n in getattr(args, k).split(",")] for k in ("facts", "keys", "terms")}
    print(f"{'input':<34} {'size':>7} {'time':>11} {'per unit':>17} {'/ baseline':>9} {'growth':>7}")
    first: dict = {}
    kb = consilium.load_kb()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        for n in sizes["keys"]:
            path = folder / f"case{n}.json"
            text = json.dumps({**{f"unknown_key_{i}": i for i in range(n)}, "kras": "mutant"})
            path.write_text(text, encoding="utf-8")

            def answer(path=path):
                raw, positions = read_case(path)
                _, diagnostics = validate_case(raw, kb.facts, name=str(path), positions=positions)
                assert len(diagnostics) == 21
                consilium.format_text(diagnostics)
            baseline = best(args.runs, lambda text=text: json.loads(text))
            row("case: unknown keys", n, best(args.runs, answer), baseline, first)
        for n in sizes["facts"]:
            kb_dir = folder / f"facts{n}"
            kb_dir.mkdir()
            text = 'source S "s"\n' + "".join(f"fact f{i} : integer in 0..10\n" for i in range(n)) \
                + DECISION.format(condition="f0 > 3")
            (kb_dir / "main.rules").write_text(text, encoding="utf-8")
            baseline = best(1, lambda text=text: parser().parse(text))
            for fmt in ("json", "text"):
                seconds = best(1, lambda kb_dir=kb_dir, fmt=fmt: quiet(["check", str(kb_dir), "--format", fmt]))
                row(f"rule file: facts, check {fmt}", n, seconds, baseline, first)
        for n in sizes["terms"]:
            chain_dir = folder / f"or{n}"
            chain_dir.mkdir()
            condition = " or ".join(f"x = {i}" for i in range(n))
            (chain_dir / "main.rules").write_text('source S "s"\nfact x : integer\n' + DECISION.format(
                condition=condition), encoding="utf-8")
            seconds = best(args.runs, lambda chain_dir=chain_dir: consilium.load_kb(chain_dir, use_cache=False))
            kb_chain = consilium.load_kb(chain_dir, use_cache=False)
            assert kb_chain.evaluate({"x": n - 1}).recommendation_ids() == ["r"]
            row("condition: or of terms, load", n, seconds, None, first)
        big_dir = folder / "digits"
        big_dir.mkdir()
        (big_dir / "main.rules").write_text('source S "s"\nfact x : integer\n' + DECISION.format(
            condition="x > 1" + "0" * 399), encoding="utf-8")
        code = quiet(["check", str(big_dir)])
        print(f"a number of 400 digits: consilium check exits {code}")
        return 0 if code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
