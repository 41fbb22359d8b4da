"""How costs grow with the knowledge base: N renamed copies of the bundled one, side by side.

    python bench/bench_scale.py [--sizes 1,10,60] [--with-100] [--runs 3] [--cases 2000] [--rows evaluate,decide]

For each size N it writes a knowledge base of N copies of kb/ (every declared id renamed, so the
copies are independent: N times the facts, pathways, rules and scenarios; the four sources and
the sites stay one set, as in any larger guideline base) and measures, each in a fresh Python
process so no size warms another:
- cold load: `load_kb` with nothing cached (parse, check, validate, generate and compile code);
- cached load: `load_kb` from the parse cache;
- check: `consilium check` as a whole process with nothing cached (Z3 verification included);
- render: the DOT text of every chart (the pure builder; the layout program is graphviz's cost);
- evaluate: one full evaluation (`evaluate`, pre-validated random cases), the mean per case
  (garbage collection included), after a quarter as many other cases have warmed it (the test of
  a node a need re-runs is compiled when a case first leaves the node open); the cases, made
  before the timing, are frozen (gc.freeze) as the knowledge base is;
- decide: the values only, likewise.
Times are CPU times of the measuring process (of `consilium check`, its whole process), which
other work on a busy machine disturbs far less than wall-clock time; each figure is the best of
--runs runs, the sizes taking turns. Then the ratio of the 60x figure
to the 10x one: linear growth gives 6, quadratic 36. The target (issue #10) is at most 9 for
every row. 100x is behind --with-100: it takes minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import consilium  # noqa: E402

ROWS = ("cold load", "cached load", "check", "render", "evaluate", "decide")
TARGET = 9.0

# The tokens of a rule file that renaming must step over (strings, comments) or may rename (names).
_TOKENS = re.compile(r'(?P<skip>"""(?:[^"\\]|\\.|"(?!""))*"""|"(?:[^"\\\n]|\\.)*")'
                     r'|(?P<system>\b[A-Za-z][A-Za-z0-9_]*)(?P<code>#[A-Za-z0-9][A-Za-z0-9:._\-]*)'  # a coding
                     r'|(?P<comment>#[^\n]*)'
                     r'|(?P<name>\b[A-Za-z_][A-Za-z0-9_]*\b)')


# A larger knowledge base has more facts, pathways and rules, not more guideline bodies or sites
# of metastasis: the copies share the sources and the sites, declared once (by the first copy).
SHARED_FILES = ("sources.rules", "sites.rules")


def declared_ids(kb: consilium.KnowledgeBase) -> set[str]:
    """Every id renamed in a copy: all the knowledge base declares but its sources and sites."""
    ids = set(kb.facts) | set(kb.defines) | set(kb.plans)
    ids |= {p.id for p in kb.pathways} | {n.id for p in kb.pathways for n in p.nodes}
    ids |= {s.id for s in kb.safeties} | {s.id for s in kb.scenarios} | set(kb.code_systems)
    ids |= {f.id for f in kb.findings} | {c.id for c in kb.constraints}
    return ids


def renamed(text: str, ids: set[str], suffix: str) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group("name") or match.group("system")
        if name is None or name not in ids:
            return match.group(0)
        return name + suffix + (match.group("code") or "")
    return _TOKENS.sub(one, text)


def build(folder: Path, copies: int, ids: set[str]) -> Path:
    """A knowledge base of `copies` renamed copies of kb/, each in its own folder under `folder`."""
    source = ROOT / "kb"
    files = sorted(source.rglob("*.rules"))
    includes = []
    for i in range(copies):
        copy = folder / f"copy{i}"
        for path in files:
            target = copy / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            text = renamed(path.read_text(encoding="utf-8"), ids, f"_x{i}")
            if i > 0 and path.name == "main.rules":
                text = "".join(line for line in text.splitlines(keepends=True)
                               if not any(f'include "{shared}"' in line for shared in SHARED_FILES))
            target.write_text(text, encoding="utf-8")
        includes.append(f'include "copy{i}/main.rules"\n')
    (folder / "main.rules").write_text(f"# {copies} renamed copies of the bundled knowledge base\n"
                                       + "".join(includes), encoding="utf-8")
    return folder


# What one fresh process measures in-process, after loading from the cache: a JSON line.
_MEASURE = """
import gc, json, random, sys, time
sys.path.insert(0, {tests!r}); sys.path.insert(0, {bench!r})
import consilium
from consilium import render
from casegen import random_case
t = time.process_time(); kb = consilium.load_kb({path!r}); cached = time.process_time() - t
t = time.process_time()
for spec in render.chart_specs(kb):
    render.chart(kb, spec).source
drawn = time.process_time() - t
gc.collect()
rng = random.Random(5)
cases = [random_case(kb.facts, rng) for _ in range({cases})]  # typed values, as validation gives
warm = [random_case(kb.facts, rng) for _ in range({warm})]
# The cases are the benchmark's input, made before it starts (60 copies: about 150,000 objects):
# frozen, like the knowledge base, so that the collector does not scan them during the timing.
# What evaluation itself keeps (its caches, the tests of the nodes it compiles) is not frozen.
gc.freeze()
def per_case(fn, cases):  # the mean, not the median: the garbage collector's pauses are part of the cost
    t = time.process_time()
    for case in cases:
        fn(case, validated=True)
    return (time.process_time() - t) / len(cases)
# Warmed on other cases first: a node's test is compiled when a case first leaves it open, once
# per knowledge base (a cost of its first cases, not of every case)
per_case(kb.decide, warm)
per_case(kb.evaluate, warm)
print(json.dumps({{"cached load": cached, "render": drawn, "evaluate": per_case(kb.evaluate, cases),
                  "decide": per_case(kb.decide, cases)}}))
"""

_COLD = "import time, consilium; t = time.process_time(); consilium.load_kb({path!r}); print(time.process_time() - t)"


def _python(code: str, env: dict[str, str]) -> str:
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"bench_scale: a measuring process failed:\n{out.stderr}")
    return out.stdout


def measure(paths: dict[int, Path], runs: int, cases: int, env: dict[str, str],
            rows: tuple[str, ...] = ROWS) -> dict[int, dict[str, float]]:
    """Each figure of each size, the best of `runs` fresh processes.

    The sizes take turns within each run, so that a busy moment of the machine falls on one
    figure of every size rather than on every figure of one size; the best of the runs is the
    figure least disturbed by whatever else the machine does (every run does the same work)."""
    no_cache = {**env, "CONSILIUM_CACHE": "off"}
    figures: dict[int, dict[str, list[float]]] = {n: {row: [] for row in rows} for n in paths}
    for path in paths.values():
        _python(_COLD.format(path=str(path)), env)  # fills the cache
    for run in range(runs):
        for n, path in paths.items():
            if "cold load" in rows:
                figures[n]["cold load"].append(float(_python(_COLD.format(path=str(path)), no_cache)))
            if "check" in rows:
                figures[n]["check"].append(_check(path, no_cache))
            code = _MEASURE.format(path=str(path), cases=cases, warm=max(100, cases // 4), tests=str(ROOT / "tests"),
                                   bench=str(ROOT / "bench"))
            for row, value in json.loads(_python(code, env)).items():
                if row in figures[n]:
                    figures[n][row].append(value)
            print(f"  run {run + 1}: {n}x measured", file=sys.stderr, flush=True)
    return {n: {row: min(values) for row, values in found.items()} for n, found in figures.items()}


def _check(path: Path, env: dict[str, str]) -> float:
    """The CPU time of one `consilium check` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    check = subprocess.run([sys.executable, "-m", "consilium", "check", str(path)], cwd=ROOT,
                           env=env, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if check.returncode not in (0, 1):
        raise SystemExit(f"bench_scale: consilium check failed:\n{check.stderr[-2000:]}")
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def _show(row: str, seconds: float) -> str:
    if row in ("evaluate", "decide"):
        return f"{seconds * 1e6:10.1f} µs"
    return f"{seconds:10.3f} s "


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,10,60", help="copies of kb/, comma-separated (default 1,10,60)")
    parser.add_argument("--with-100", action="store_true", help="also 100 copies (minutes)")
    parser.add_argument("--runs", type=int, default=3, help="fresh processes per figure; the best is shown")
    parser.add_argument("--cases", type=int, default=2000, help="random cases per evaluation figure")
    parser.add_argument("--rows", default=",".join(ROWS),
                        help=f"the rows to measure, comma-separated (default all: {','.join(ROWS)})")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()] + ([100] if args.with_100 else [])
    rows = tuple(row for row in ROWS if row in {r.strip() for r in args.rows.split(",")})
    if not rows:
        parser.error(f"--rows: choose among {', '.join(ROWS)}")

    ids = declared_ids(consilium.load_kb(ROOT / "kb"))
    work = Path(tempfile.mkdtemp(prefix="consilium-scale-"))
    try:
        # as installed: bytecode compiled (PYTHONDONTWRITEBYTECODE, set in some shells, would make
        # every process compile Consilium's modules again)
        env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
        env |= {"CONSILIUM_CACHE_DIR": str(work / "cache"), "PYTHONPATH": str(ROOT)}
        paths = {n: build(work / f"kb{n}", n, ids) for n in sizes}
        results = measure(paths, args.runs, args.cases, env, rows)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    ratio = 10 in results and 60 in results
    print(f"{'':<12}" + "".join(f"{str(n) + 'x':>14}" for n in sizes) + ("   60x/10x" if ratio else ""))
    worst = 0.0
    for row in rows:
        line = f"{row:<12}" + "".join(f"{_show(row, results[n][row]):>14}" for n in sizes)
        if ratio:
            r = results[60][row] / results[10][row]
            worst = max(worst, r)
            line += f"   {r:7.1f}"
        print(line)
    if ratio:
        print(f"worst ratio {worst:.1f} (linear 6, quadratic 36; target at most {TARGET:g})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
