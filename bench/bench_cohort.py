"""Time and memory of `consilium eval --cohort`, in every engine, beside hand-written pipelines.

    python bench/bench_cohort.py [--sizes 10000 1000000] [--jobs 2] [--big 10000000] [--spark 100000]

Generates JSON Lines cohorts of random cases under bench/out/ (fixed seed, a third of the
facts missing; the bundled knowledge base's with a bad row every 10,000), runs each
command as a separate process, end to end (start, read, decide, write), and prints wall
time, cases per second and the peak memory of the process and its children together
(sampled from /proc every 20 ms). In one run:

- the bench decision (bench/decision) on `--sizes`: hand-written DuckDB SQL and a
  hand-written polars pipeline of the same decision (typed JSON in, Parquet out, the
  engine's columns: recommendations, the source's, warnings and needs, in its order; no
  checking of values, no row errors), then Consilium's DuckDB engine, and the ratio of the
  engine to the hand-written DuckDB;
- the bundled knowledge base on `--sizes`: the Python cohort and the DuckDB engine, and
  their ratio, and the floor of that ratio on JSON Lines (`FLOOR`: DuckDB only reading the file
  as the engine must and writing the engine's rows, deciding nothing); then (`--parquet 1`, the
  default) the same cases as a Parquet file of typed columns (`parquet_cohort`), read by both
  engines, their ratio, and whether they wrote the same rows;
- `--big` cases of the bundled knowledge base in DuckDB with a 1 GB memory limit (the
  peak shows whether memory is bounded);
- `--spark` cases of each on Spark local[2] (0 skips it).

After each size of the decision it checks that the hand-written DuckDB pipeline wrote the
engine's rows (a fair baseline), then runs the two `--pairs` more times in turn and prints
the median of the pairs' ratios (on a shared machine one pair can be off by half).
`--only decision|kb` runs one half (with its Spark run; `--big` is the bundled knowledge base's).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import consilium  # noqa: E402
from casegen import as_written, random_case  # noqa: E402

OUT = ROOT / "bench" / "out"
DECISION = ROOT / "bench" / "decision"


def cohort(size: int, kb_path: Path = ROOT / "kb", bad_rows: bool = True) -> Path:
    name = "cohort" if kb_path == ROOT / "kb" else kb_path.name
    path = OUT / f"{name}-{size}.jsonl"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    kb = consilium.load_kb(kb_path)
    rng = random.Random(11)
    pool = [json.dumps({k: as_written(v) for k, v in random_case(kb.facts, rng).items()}) for _ in range(5000)]
    with path.open("w") as handle:
        for i in range(size):
            handle.write("{broken\n" if bad_rows and i % 10_000 == 9_999 else pool[rng.randrange(len(pool))] + "\n")
    return path


def parquet_cohort(path: Path) -> Path:
    """The same cases as a warehouse holds them: one typed Parquet column a fact (yes-no BOOLEAN,
    whole numbers BIGINT, other numbers DOUBLE, enums VARCHAR, sets VARCHAR[], dates DATE), rows
    in the file's order; a line that is not JSON is a row of unknowns (Parquet has no such row).
    DuckDB's typed JSON reader writes it: exact for these generated values (each the JSON type
    of its fact)."""
    target = path.with_suffix(".parquet")
    if target.exists():
        return target
    import duckdb
    from consilium.engine.lang import ir
    kb = consilium.load_kb(ROOT / "kb")

    def typed(t) -> str:
        match t:
            case ir.BoolType():
                return "BOOLEAN"
            case ir.NumberType(integer=True):
                return "BIGINT"
            case ir.NumberType():
                return "DOUBLE"
            case ir.SetType():
                return "VARCHAR[]"
            case ir.DateType():
                return "DATE"
        return "VARCHAR"
    struct = "STRUCT(" + ", ".join(f'"{name}" {typed(fact.type)}' for name, fact in kb.facts.items()) + ")"
    columns = ", ".join(f'j."{name}" AS "{name}"' for name in kb.facts)
    duckdb.connect().execute(
        f"COPY (SELECT {columns} FROM read_json('{path}', format = 'newline_delimited', records = false, "
        f"columns = {{'j': '{struct}'}}, ignore_errors = true) WITH ORDINALITY ORDER BY ordinality) "
        f"TO '{target}' (FORMAT parquet)")
    return target


def _rss_tree(pid: int) -> int:
    """Resident memory of a process and all its descendants, in KiB."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
        todo.extend(children.get(p, []))
    return total


# Every command runs as installed: pip compiles the bytecode of what it installs, so a user's process
# never compiles Consilium's modules (nor DuckDB's or polars'); PYTHONDONTWRITEBYTECODE, set in some
# shells, would make each engine run compile Consilium's again (0.07 s of CPU a run, measured), and
# nothing of the hand-written pipelines, whose libraries came with their bytecode.
ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def measure(command: list[str], errors_expected: bool = False) -> tuple[float, int]:
    """Wall time and peak memory (KiB) of a command, its children included; its CPU time (user and
    system, children included) is kept in CPU[-1] (under load, the steadier figure)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    peak = 0

    def sample():
        nonlocal peak
        while process.poll() is None:
            peak = max(peak, _rss_tree(process.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    process.wait()
    sampler.join()
    if process.returncode not in ((0, 1) if errors_expected else (0,)):  # 1: rows with errors, as seeded
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode})")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return time.perf_counter() - started, peak


CPU: list[float] = []


def consilium_cmd(kb: Path, path: Path, engine: str, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "consilium", "eval", str(kb), "--cohort", str(path), "-o", str(out),
            "--engine", engine, *extra]


# ---- the hand-written pipelines of the bench decision ----------------------------------------------

HAND_DUCKDB = r"""
import duckdb, sys
source, target = sys.argv[1], sys.argv[2]
duckdb.sql(f'''
COPY (
  WITH c AS (
    SELECT row_number() OVER () AS "row", * FROM read_json('{source}', format = 'newline_delimited', columns = {{
      liver_resectable: 'BOOLEAN', extrahepatic_unresectable: 'BOOLEAN', primary_symptomatic: 'VARCHAR',
      hepatectomy_segments: 'BIGINT', future_liver_remnant_pct: 'DOUBLE', kras: 'VARCHAR',
      days_since_last_bevacizumab: 'BIGINT', peritoneal_pci: 'BIGINT'}})
  ), r AS (
    SELECT *, liver_resectable AND NOT extrahepatic_unresectable AND future_liver_remnant_pct > 30 AS resectable FROM c
  ), d AS (
    SELECT "row", list_filter([
      CASE WHEN resectable IS FALSE THEN 'conversion' END,
      CASE WHEN resectable AND hepatectomy_segments <= 3 THEN 'simultaneous' END,
      CASE WHEN resectable AND hepatectomy_segments > 3 AND primary_symptomatic = 'none'
           THEN 'liver_first_or_staged' END,
      CASE WHEN resectable AND hepatectomy_segments > 3 AND primary_symptomatic <> 'none'
           THEN 'staged_primary_first' END,
      CASE WHEN kras = 'wild_type' THEN 'anti_egfr' END, CASE WHEN kras = 'mutant' THEN 'bevacizumab' END,
      CASE WHEN kras = 'unknown' THEN 'test_kras' END,
      CASE WHEN peritoneal_pci IS NOT NULL AND peritoneal_pci < 12 THEN 'crs_hipec' END], lambda x: x IS NOT NULL)
      AS recommendations,
    list_filter([CASE WHEN resectable AND days_since_last_bevacizumab IS NOT NULL
                      AND days_since_last_bevacizumab < 42 THEN 'bevacizumab_interval' END], lambda x: x IS NOT NULL)
      AS warnings,
    list_filter([
      CASE WHEN resectable IS NULL AND liver_resectable IS NULL THEN 'liver_resectable' END,
      CASE WHEN resectable IS NULL AND extrahepatic_unresectable IS NULL THEN 'extrahepatic_unresectable' END,
      CASE WHEN resectable IS NULL AND future_liver_remnant_pct IS NULL THEN 'future_liver_remnant_pct' END,
      CASE WHEN resectable AND hepatectomy_segments IS NULL THEN 'hepatectomy_segments' END,
      CASE WHEN resectable AND primary_symptomatic IS NULL AND hepatectomy_segments > 3 THEN 'primary_symptomatic' END,
      CASE WHEN kras IS NULL THEN 'kras' END], lambda x: x IS NOT NULL) AS needs
    FROM r
  )
  SELECT "row", CAST(NULL AS VARCHAR) AS error, recommendations, recommendations AS "SUMMARY", warnings, needs FROM d
) TO '{target}' (FORMAT parquet)''')
"""

HAND_POLARS = r"""
import polars as pl, sys
source, target = sys.argv[1], sys.argv[2]
schema = {"liver_resectable": pl.Boolean, "extrahepatic_unresectable": pl.Boolean, "primary_symptomatic": pl.Utf8,
          "hepatectomy_segments": pl.Int64, "future_liver_remnant_pct": pl.Float64, "kras": pl.Utf8,
          "days_since_last_bevacizumab": pl.Int64, "peritoneal_pci": pl.Int64}
c = pl.scan_ndjson(source, schema=schema).with_row_index("row", offset=1)
resectable = (pl.col("liver_resectable") & ~pl.col("extrahepatic_unresectable")
              & (pl.col("future_liver_remnant_pct") > 30))
c = c.with_columns(resectable.alias("resectable"))
r, seg, sym = pl.col("resectable"), pl.col("hepatectomy_segments"), pl.col("primary_symptomatic")
def when(cond, name):
    return pl.when(cond.fill_null(False)).then(pl.lit(name))
def null(name):
    return pl.col(name).is_null()
recs = pl.concat_list([
    when(r == False, "conversion"), when(r & (seg <= 3), "simultaneous"),
    when(r & (seg > 3) & (sym == "none"), "liver_first_or_staged"),
    when(r & (seg > 3) & (sym != "none"), "staged_primary_first"),
    when(pl.col("kras") == "wild_type", "anti_egfr"), when(pl.col("kras") == "mutant", "bevacizumab"),
    when(pl.col("kras") == "unknown", "test_kras"), when(pl.col("peritoneal_pci") < 12, "crs_hipec")]).list.drop_nulls()
warns = pl.concat_list([when(r & (pl.col("days_since_last_bevacizumab") < 42), "bevacizumab_interval")])
warns = warns.list.drop_nulls()
needs = pl.concat_list([
    when(r.is_null() & null("liver_resectable"), "liver_resectable"),
    when(r.is_null() & null("extrahepatic_unresectable"), "extrahepatic_unresectable"),
    when(r.is_null() & null("future_liver_remnant_pct"), "future_liver_remnant_pct"),
    when(r & null("hepatectomy_segments"), "hepatectomy_segments"),
    when(r & null("primary_symptomatic") & (seg > 3), "primary_symptomatic"),
    when(null("kras"), "kras")]).list.drop_nulls()
c.select("row", pl.lit(None, pl.Utf8).alias("error"), recs.alias("recommendations"), recs.alias("SUMMARY"),
         warns.alias("warnings"), needs.alias("needs")).sink_parquet(target)
"""


# The floor of the JSON Lines path: DuckDB reading the file as the engine must when a line is not
# JSON (each line whole, each fact's field as its JSON text taken from it, and the length of the
# line, where a fact given twice is found: summed, so that no field goes unread), then writing the
# engine's own rows (read back from its output), deciding nothing: what is left of the ratio to the
# Python cohort once no time goes to reading cells, checking them or deciding.
FLOOR = r"""
import duckdb, json, sys
source, rows, target, facts = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
structure = "{" + ", ".join(f'"{f}": "JSON"' for f in facts) + "}"
lengths = " + ".join(f'coalesce(strlen(CAST(t."{f}" AS VARCHAR)), 0)' for f in facts)
duckdb.sql(f"SELECT sum({lengths} + coalesce(strlen(CAST(j AS VARCHAR)), 0)) FROM (SELECT j, json_transform(j, "
           f"'{structure}') AS t FROM read_json('{source}', format = 'newline_delimited', records = false, "
           "columns = {'j': 'JSON'}, ignore_errors = true))").fetchall()
duckdb.sql(f"COPY (SELECT * FROM read_parquet('{rows}')) TO '{target}' (FORMAT parquet)")
"""


def hand(script: str, path: Path, out: Path) -> list[str]:
    return [sys.executable, "-c", script, str(path), str(out)]


def row(label: str, size: int, seconds: float, peak: int, ratio: str = "", cpu_ratio: str = "") -> None:
    print(f"| {label} | {size:,} | {seconds:.1f} s | {CPU[-1]:.1f} s | {size / seconds:,.0f} | {peak / 1024:,.0f} MiB "
          f"| {ratio} | {cpu_ratio} |", flush=True)


def same(hand_written: Path, engine: Path) -> None:
    """Is the baseline a fair one: the same rows as the engine's, on this cohort?"""
    import duckdb
    a, b = f"SELECT * FROM read_parquet('{hand_written}')", f"SELECT * FROM read_parquet('{engine}')"
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    differ = sum(con.execute(f"SELECT count(*) FROM ({x} EXCEPT ALL {y})").fetchall()[0][0]
                 for x, y in ((a, b), (b, a)))
    print(f"hand-written DuckDB and the engine: {f'{differ:,} rows differ' if differ else 'the same rows'}")


def kb_parquet(path: Path, size: int, jobs: int) -> None:
    """The bundled knowledge base on the Parquet file of the same cases, in both engines."""
    import duckdb
    t_py, peak = measure(consilium_cmd(ROOT / "kb", path, "python", OUT / "kb-python-pq.parquet", "--jobs", str(jobs)))
    c_py = CPU[-1]
    row("bundled KB, Parquet in: --engine python", size, t_py, peak, "1.0× (baseline)", "1.0× (baseline)")
    t, peak = measure(consilium_cmd(ROOT / "kb", path, "duckdb", OUT / "kb-duckdb-pq.parquet"))
    row("bundled KB, Parquet in: --engine duckdb", size, t, peak, f"{t_py / t:.1f}× faster than python",
        f"{c_py / CPU[-1]:.1f}× less CPU than python")
    a, b = (f"SELECT * FROM read_parquet('{OUT / name}')" for name in ("kb-python-pq.parquet", "kb-duckdb-pq.parquet"))
    con = duckdb.connect()
    differ = sum(con.execute(f"SELECT count(*) FROM ({x} EXCEPT ALL {y})").fetchall()[0][0]
                 for x, y in ((a, b), (b, a)))
    print(f"Parquet in, python and duckdb: {f'{differ:,} rows differ' if differ else 'the same rows'}", flush=True)


def pairs(path: Path, size: int, count: int) -> None:
    """Hand-written DuckDB and the engine in turn, `count` times more: the median of each pair's ratio."""
    if count <= 0:
        return
    wall, cpu = [], []
    for _ in range(count):
        t_hand, _ = measure(hand(HAND_DUCKDB, path, OUT / "hand-duckdb.parquet"))
        c_hand = CPU[-1]
        t_engine, _ = measure(consilium_cmd(DECISION, path, "duckdb", OUT / "decision.parquet"))
        wall.append(t_engine / t_hand)
        cpu.append(CPU[-1] / c_hand)
        print(f"  pair: hand {t_hand:.1f} s ({c_hand:.1f} s CPU), engine {t_engine:.1f} s ({CPU[-1]:.1f} s CPU), "
              f"load average {os.getloadavg()[0]:.1f}", flush=True)
    print(f"{size:,} cases, engine / hand-written DuckDB over {count} more pairs: "
          f"median {statistics.median(wall):.2f}× wall, {statistics.median(cpu):.2f}× CPU "
          f"(each: {', '.join(f'{c:.2f}' for c in cpu)} CPU)", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--big", type=int, default=10_000_000, help="cases for the bounded-memory run (0: none)")
    parser.add_argument("--spark", type=int, default=100_000, help="cases for the Spark runs (0: none)")
    parser.add_argument("--pairs", type=int, default=3,
                        help="more runs of hand-written DuckDB and the engine, in turn, for a median ratio (0: none)")
    parser.add_argument("--only", choices=("decision", "kb"), help="only the bench decision, or only the bundled KB")
    parser.add_argument("--parquet", type=int, default=1, choices=(0, 1),
                        help="the bundled KB's cases as a typed Parquet file too, in both engines (0: not)")
    args = parser.parse_args()
    print(f"load average at the start: {os.getloadavg()[0]:.1f}")
    # the bytecode written once, before anything is measured (see ENV)
    subprocess.run([sys.executable, "-c", "import consilium.engine.cli, consilium.engine.cli_sql, "
                    "consilium.engine.inputs.cohort_sql, consilium.engine.cache"], cwd=ROOT, env=ENV, check=True)
    print("| what | cases | time | CPU time | cases/s | peak memory | ratio (time) | ratio (CPU) |\n"
          "|---|---:|---:|---:|---:|---:|---|---|")
    for size in args.sizes if args.only != "kb" else ():
        path = cohort(size, DECISION, bad_rows=False)
        t_duck, peak = measure(hand(HAND_DUCKDB, path, OUT / "hand-duckdb.parquet"))
        c_duck = CPU[-1]
        row("decision: hand-written DuckDB SQL", size, t_duck, peak, "1.0× (baseline)", "1.0× (baseline)")
        t, peak = measure(hand(HAND_POLARS, path, OUT / "hand-polars.parquet"))
        row("decision: hand-written polars", size, t, peak, f"{t / t_duck:.2f}× hand DuckDB",
            f"{CPU[-1] / c_duck:.2f}× hand DuckDB")
        t, peak = measure(consilium_cmd(DECISION, path, "duckdb", OUT / "decision.parquet"))
        row("decision: Consilium, --engine duckdb", size, t, peak, f"{t / t_duck:.2f}× hand DuckDB",
            f"{CPU[-1] / c_duck:.2f}× hand DuckDB")
        t, peak = measure(consilium_cmd(DECISION, path, "python", OUT / "decision-python.parquet",
                                        "--jobs", str(args.jobs)))
        row("decision: Consilium, --engine python", size, t, peak, f"{t / t_duck:.2f}× hand DuckDB",
            f"{CPU[-1] / c_duck:.2f}× hand DuckDB")
        same(OUT / "hand-duckdb.parquet", OUT / "decision.parquet")
        pairs(path, size, args.pairs)
    for size in args.sizes if args.only != "decision" else ():
        path = cohort(size)
        t_py, peak = measure(consilium_cmd(ROOT / "kb", path, "python", OUT / "kb-python.parquet",
                                           "--jobs", str(args.jobs)), errors_expected=True)
        c_py = CPU[-1]
        row("bundled KB: --engine python", size, t_py, peak, "1.0× (baseline)", "1.0× (baseline)")
        t, peak = measure(consilium_cmd(ROOT / "kb", path, "duckdb", OUT / "kb-duckdb.parquet"), errors_expected=True)
        row("bundled KB: --engine duckdb", size, t, peak, f"{t_py / t:.1f}× faster than python",
            f"{c_py / CPU[-1]:.1f}× less CPU than python")
        facts = json.dumps(list(consilium.load_kb(ROOT / "kb").facts))
        t, peak = measure([sys.executable, "-c", FLOOR, str(path), str(OUT / "kb-duckdb.parquet"),
                           str(OUT / "kb-floor.parquet"), facts])
        row("bundled KB: DuckDB reading the file and writing the rows, deciding nothing (the floor)", size, t, peak,
            f"{t_py / t:.1f}× faster than python", f"{c_py / CPU[-1]:.1f}× less CPU than python")
        if args.parquet:
            kb_parquet(parquet_cohort(path), size, args.jobs)
    if args.big and args.only != "decision":
        path = cohort(args.big)
        t, peak = measure(consilium_cmd(ROOT / "kb", path, "duckdb", OUT / "kb-big.parquet", "--memory-limit", "1GB"),
                          errors_expected=True)
        row("bundled KB: --engine duckdb, --memory-limit 1GB", args.big, t, peak)
    if args.spark:
        halves = {"decision": (DECISION, False), "bundled KB": (ROOT / "kb", True)}
        for label, (kb_path, bad_rows) in halves.items():
            if args.only and args.only != ("decision" if label == "decision" else "kb"):
                continue
            path = cohort(args.spark, kb_path, bad_rows=bad_rows)
            t, peak = measure(consilium_cmd(kb_path, path, "spark", OUT / f"{label[:3]}-spark.parquet",
                                            "--spark-master", "local[2]"), errors_expected=True)
            row(f"{label}: --engine spark, local[2]", args.spark, t, peak)
    return 0


if __name__ == "__main__":
    sys.exit(main())
