"""The knowledge base lowered to SQL: the same rows as the Python cohort, in DuckDB and in Spark.

Python, DuckDB and Spark are run on the same generated cohorts (100,000 cases across the
knowledge bases, a third of the facts unknown, boundary values, and seeded bad rows: text
in a number column, an unknown enum value, a date that does not exist, a set written as
text, a line that is not JSON) and must give the same rows, in the same order. Spark runs
in one local[2] session for the module, so its share of the suite stays a fixed budget.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import random
import subprocess
import sys

import pytest
import sqlglot

import consilium
from casegen import as_written, random_case
from conftest import DATA, KB, ROOT, run_cli
from consilium.engine.evaluation import sql
from consilium.engine.inputs.cohort import run_cohort
from consilium.engine.inputs.cohort_sql import run_duckdb, run_spark, spark_session
from consilium.engine.lang import ir
from consilium.engine.lang.diagnostics import KnowledgeBaseError

# (knowledge base, cases): 100,000 in all, the bundled one the largest share
COHORTS = [(KB, 50_000), (DATA / "plans", 10_000), (DATA / "concordance", 10_000),
           (ROOT / "bench" / "decision", 10_000), (DATA / "render", 10_000), (DATA / "walk", 10_000)]


def _bad_value(fact: ir.Fact, rng: random.Random):
    """A value that does not fit its fact, as a user's file might hold it."""
    match fact.type:
        case ir.NumberType():
            return rng.choice(["abc", "12 parsecs", 1000000])
        case ir.EnumType():
            return "no_such_value"
        case ir.SetType(values=values):
            return rng.choice([f"{values[0]},{values[-1]}", ["no_such_value"]])
        case ir.DateType():
            return rng.choice(["2024-02-30", "yesterday"])
        case ir.BoolType():
            return "yes"
    return "??"


def _cohort(path, kb, size: int, seed: int):
    rng = random.Random(seed)
    facts = list(kb.facts.values())
    with path.open("w") as handle:
        for i in range(size):
            if i % 1000 == 999:
                handle.write("{not json\n")
                continue
            case = {k: as_written(v) for k, v in random_case(kb.facts, rng).items()}
            if i % 50 == 25:
                fact = rng.choice(facts)
                case[fact.id] = _bad_value(fact, rng)
            handle.write(json.dumps(case) + "\n")


def _rows(path) -> list[dict]:
    with path.open() as handle:
        return [{k: v for k, v in json.loads(line).items() if v is not None} for line in handle]


def _same(python: list[dict], other: list[dict]) -> None:
    assert len(python) == len(other)
    for a, b in zip(python, other, strict=True):
        if a.get("error", "").startswith("not valid JSON"):  # Python names the JSON parser's complaint
            assert b["row"] == a["row"] and b["error"].startswith("not valid JSON"), (a, b)
            continue
        assert a == b


@pytest.fixture(scope="module")
def spark():
    session = spark_session("local[2]")
    yield session
    session.stop()


@pytest.mark.parametrize("path,size", COHORTS, ids=lambda p: getattr(p, "name", str(p)))
def test_python_duckdb_and_spark_give_the_same_rows(path, size, tmp_path, spark):
    kb = consilium.load_kb(path)
    cohort = tmp_path / "cohort.jsonl"
    _cohort(cohort, kb, size, seed=size + len(kb.facts))
    run_cohort(kb, str(path), cohort, tmp_path / "python.jsonl", jobs=1)
    run_duckdb(kb, cohort, tmp_path / "duckdb.jsonl", memory_limit="1GB")
    run_spark(kb, cohort, tmp_path / "spark.jsonl", session=spark)
    python = _rows(tmp_path / "python.jsonl")
    _same(python, _rows(tmp_path / "duckdb.jsonl"))
    _same(python, _rows(tmp_path / "spark.jsonl"))
    # the comparison is not vacuous: rows with recommendations, warnings, needs and each kind of error
    assert any(r.get("recommendations") or r.get("warnings") for r in python) and any(r.get("needs") for r in python)
    errors = [r["error"] for r in python if "error" in r]
    assert any("not valid JSON" in e for e in errors) and len(errors) >= size // 60
    if path == KB:  # findings and the team's options, in the rows of every engine
        assert sum(bool(r.get("findings")) for r in python) > size // 10
        assert sum(bool(r.get("options")) for r in python) > size // 100
        assert any(r.get("warnings") for r in python)
        assert any("is not a value of" in e for e in errors) and any("is a date" in e for e in errors)


def test_csv_and_parquet_in_every_engine_with_a_missing_and_an_extra_column(tmp_path, spark, capfd):
    kb = consilium.load_kb(KB)
    rng = random.Random(7)
    names = [n for n in kb.facts if n != "kras"] + ["favourite_colour"]  # kras missing, one extra column
    a_set = next(n for n in names if isinstance(kb.facts[n].type, ir.SetType))
    rows = []
    for i in range(2000):
        case = {k: as_written(v) for k, v in random_case(kb.facts, rng).items()}
        row = {n: ("|".join(case[n]) if isinstance(case.get(n), list) else case.get(n, "")) for n in names}
        row["favourite_colour"] = "blue"
        if i % 100 == 3:
            row["primary_tumour_symptoms" if "primary_tumour_symptoms" in names else names[0]] = "perhaps"
        if i % 100 == 7:  # a set written with commas: its row's error says how CSV writes a set
            row[a_set] = ",".join(kb.facts[a_set].type.values[:2])
        rows.append(row)
    cohort = tmp_path / "cohort.csv"
    with cohort.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=names)
        writer.writeheader()
        writer.writerows(rows)
    without = {n: ("" if n == "favourite_colour" else v) for n, v in rows[0].items()}  # the Python cohort's input
    python_input = tmp_path / "python.csv"
    with python_input.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=[n for n in names if n != "favourite_colour"])
        writer.writeheader()
        writer.writerows([{k: v for k, v in r.items() if k != "favourite_colour"} for r in rows])
    assert without
    run_cohort(kb, None, python_input, tmp_path / "python.jsonl", jobs=1)
    capfd.readouterr()
    run_duckdb(kb, cohort, tmp_path / "duckdb.jsonl")
    said = capfd.readouterr().err
    assert said.count("no column for kras") == 1 and said.count("ignoring column favourite_colour") == 1
    run_spark(kb, cohort, tmp_path / "spark.jsonl", session=spark)
    python = _rows(tmp_path / "python.jsonl")
    assert sum("in CSV, a set's values are separated by '|'" in r.get("error", "") for r in python) >= 20
    _same(python, _rows(tmp_path / "duckdb.jsonl"))
    _same(python, _rows(tmp_path / "spark.jsonl"))
    # Parquet: typed columns (yes-no, numbers, lists) and text ones (dates), out as Parquet
    import pyarrow as pa
    import pyarrow.parquet as pq
    parquet = tmp_path / "cohort.parquet"
    cases = [{n: as_written(v) for n, v in random_case(kb.facts, rng).items()} for _ in range(2000)]
    pq.write_table(pa.Table.from_pylist([{n: c.get(n) for n in kb.facts} for c in cases]), parquet)
    run_cohort(kb, None, parquet, tmp_path / "python-parquet.jsonl", jobs=1)
    run_duckdb(kb, parquet, tmp_path / "duckdb.parquet")
    written = pq.read_table(tmp_path / "duckdb.parquet").to_pylist()
    got = [{k: v for k, v in r.items() if v is not None} for r in written]
    _same(_rows(tmp_path / "python-parquet.jsonl"), got)


def test_an_existing_duckdb_table(tmp_path):
    import duckdb
    kb = consilium.load_kb(ROOT / "bench" / "decision")
    database = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute("CREATE TABLE patients AS SELECT * FROM (VALUES (true, false, 40.0, 'wild_type'), "
                    "(true, false, 20.0, 'mutant'), (NULL, NULL, NULL, 'martian')) "
                    "t(liver_resectable, extrahepatic_unresectable, future_liver_remnant_pct, kras)")
    done = run_cli("eval", ROOT / "bench" / "decision", "--engine", "duckdb", "--database", database,
                   "--table", "patients", "-o", tmp_path / "rows.jsonl")
    rows = _rows(tmp_path / "rows.jsonl")
    assert done.code == 1 and [r["row"] for r in rows] == [1, 2, 3]
    expected = kb.decide({"liver_resectable": True, "extrahepatic_unresectable": False,
                          "future_liver_remnant_pct": 40.0, "kras": "wild_type"})
    assert rows[0]["recommendations"] == list(expected.recommendations)
    assert rows[2]["error"] == "'martian' is not a value of 'kras'; expected one of {wild_type, mutant, unknown}"


def test_a_spark_table(tmp_path, spark):
    kb = consilium.load_kb(ROOT / "bench" / "decision")
    spark.createDataFrame([(True, False, 40.0, "wild_type"), (None, None, None, "martian")],
                          "liver_resectable boolean, extrahepatic_unresectable boolean, "
                          "future_liver_remnant_pct double, kras string").createOrReplaceTempView("patients")
    summary = run_spark(kb, None, tmp_path / "rows.jsonl", table="patients", session=spark)
    rows = _rows(tmp_path / "rows.jsonl")
    assert (summary.rows, summary.errors) == (2, 1) and [r["row"] for r in rows] == [1, 2]
    expected = kb.decide({"liver_resectable": True, "extrahepatic_unresectable": False,
                          "future_liver_remnant_pct": 40.0, "kras": "wild_type"})
    assert rows[0]["recommendations"] == list(expected.recommendations)
    assert rows[0]["needs"] == list(expected.needs)
    assert rows[1]["error"] == "'martian' is not a value of 'kras'; expected one of {wild_type, mutant, unknown}"


@pytest.mark.parametrize("dialect", sql.DIALECTS)
def test_consilium_sql_prints_one_query_per_dialect(dialect):
    done = run_cli("sql", "--dialect", dialect)
    assert done.code == 0
    tree = sqlglot.parse_one(done.out, read=dialect)
    kb = consilium.load_kb(KB)
    assert [c.alias_or_name for c in tree.expressions] == sql.output_columns(kb.checked)


def test_a_construct_that_cannot_be_lowered_is_refused_naming_the_rule():
    @dataclasses.dataclass(frozen=True)
    class Mystery:  # an operator the lowering has not learnt
        pass

    kb = consilium.load_kb(ROOT / "bench" / "decision")
    name = next(iter(kb.checked.defines))
    defines = dict(kb.checked.defines)
    defines[name] = dataclasses.replace(defines[name], expr=ir.And(operands=(Mystery(), Mystery())))
    checked = dataclasses.replace(kb.checked, defines=defines)
    with pytest.raises(KnowledgeBaseError) as raised:
        sql.lower(checked)
    (diagnostic,) = raised.value.diagnostics
    assert diagnostic.code == "not-lowerable" and f"'{name}'" in diagnostic.message and "Mystery" in diagnostic.message


def _consilium(*args, env=None):
    return subprocess.run([sys.executable, "-m", "consilium", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=300)


def test_a_spark_that_cannot_start_is_a_clear_error(tmp_path):
    cohort = tmp_path / "c.jsonl"
    cohort.write_text('{"kras": "mutant"}\n')
    bad_master = _consilium("eval", "--cohort", cohort, "--engine", "spark", "--spark-master", "nowhere://x")
    no_java = _consilium("eval", "--cohort", cohort, "--engine", "spark",
                         env={**os.environ, "JAVA_HOME": str(tmp_path / "no-java"), "PATH": str(tmp_path)})
    for done in (bad_master, no_java):
        assert done.returncode == 2, done.stderr
        assert "Spark" in done.stderr and "Traceback" not in done.stderr and "Exception" not in done.stderr
    assert "is not a Spark master URL" in bad_master.stderr and "no Java found" in no_java.stderr


def test_decimals_at_their_boundaries_decide_alike_in_every_engine(tmp_path, spark):
    """Numbers are exact decimals in SQL too (DECIMAL, not DOUBLE): 0.1 + 0.2 is at most 0.3
    and 2.675 mg is not below 2.675 mg, in JSON Lines and in CSV (where '0.10' is written)."""
    path = DATA / "decimals"
    kb = consilium.load_kb(path)
    values = [0.1, 0.2, 0.3, 0.05, 0.25, 0.15, 0, 0.30000000000001, 0.299999999999999]
    doses = [2.675, "2.675 mg", 2.67, 2.68, 2.674999999999, 2.675000000001, "2675e-3", 2]
    rng = random.Random(3)
    cases = [{"a": rng.choice(values), "b": rng.choice(values), "dose": rng.choice(doses)} for _ in range(300)]
    cohort = tmp_path / "cohort.jsonl"
    cohort.write_text("".join(json.dumps(c).replace('"2675e-3"', "2675e-3") + "\n" for c in cases))
    table = tmp_path / "cohort.csv"
    table.write_text("a,b,dose\n" + "".join(f"{c['a']:.2f}0,{c['b']},{c['dose']}\n" for c in cases))
    for source in (cohort, table):
        run_cohort(kb, str(path), source, tmp_path / "python.jsonl", jobs=1)
        run_duckdb(kb, source, tmp_path / "duckdb.jsonl")
        run_spark(kb, source, tmp_path / "spark.jsonl", session=spark)
        python = _rows(tmp_path / "python.jsonl")
        assert not any("error" in r for r in python)
        ids = [set(r["recommendations"]) for r in python]
        assert {"at_most", "exactly"} in ids and {"above", "below"} in ids and {"at_most", "over"} in ids
        _same(python, _rows(tmp_path / "duckdb.jsonl"))
        _same(python, _rows(tmp_path / "spark.jsonl"))


def test_a_number_sql_cannot_hold_exactly_is_a_row_error_not_rounded(tmp_path):
    kb = consilium.load_kb(DATA / "decimals")
    cohort = tmp_path / "c.csv"
    cohort.write_text("a,b,dose\n0.1234567890123456789012,0.2,2.675\n0.1,0.2,2.675\n")
    run_duckdb(kb, cohort, tmp_path / "out.jsonl")
    rows = _rows(tmp_path / "out.jsonl")
    assert rows[0]["error"].startswith("'a' is 0.1234567890123456789012: more digits than the SQL engines hold exactly")
    assert "--engine python" in rows[0]["error"] and rows[1]["recommendations"] == ["at_most", "exactly"]


def test_a_whole_number_with_decimals_is_never_rounded_to_one(tmp_path):
    """DuckDB's cast reads '3.0000000000000000001' and '3.5' as whole numbers (3, 4): a whole-number
    cell with decimals is its row's error, as in Python, whatever the decimals, and so is hexadecimal."""
    kb = consilium.load_kb(ROOT / "bench" / "decision")
    cohort = tmp_path / "c.csv"
    cohort.write_text("hepatectomy_segments,liver_resectable,extrahepatic_unresectable,future_liver_remnant_pct\n"
                      "3.0000000000000000001,true,false,50\n3.00000000000000001,true,false,50\n3.5,true,false,50\n"
                      "0x10,true,false,50\n3,true,false,50\n")
    run_cohort(kb, str(ROOT / "bench" / "decision"), cohort, tmp_path / "python.jsonl", jobs=1)
    run_duckdb(kb, cohort, tmp_path / "duckdb.jsonl")
    python, duckdb = _rows(tmp_path / "python.jsonl"), _rows(tmp_path / "duckdb.jsonl")
    assert [bool(r.get("error")) for r in python] == [True] * 4 + [False]
    assert [bool(r.get("error")) for r in duckdb] == [True] * 4 + [False]
    assert "'hepatectomy_segments'" in duckdb[0]["error"] and "3.0000000000000000001" in duckdb[0]["error"]
    _same(python[1:], duckdb[1:])  # the first: Python's 'a whole number', DuckDB's 'more digits than it holds'
    assert duckdb[4]["recommendations"] == ["simultaneous"]


def test_a_csv_row_of_empty_cells_is_a_row_of_unknowns_in_every_engine(tmp_path, spark):
    """`,,` in a CSV cohort (a patient whose facts are all unknown) is a row with its line number in
    Python, DuckDB and Spark alike, never dropped; a blank line at the end is no row."""
    path = DATA / "decimals"
    kb = consilium.load_kb(path)
    cohort = tmp_path / "cohort.csv"
    cohort.write_text("a,b,dose\n0.1,0.2,2.675\n,,\n0.1,0.2,2.675\n , , \n0.3,,2\n,,\n\n\n")
    run_cohort(kb, str(path), cohort, tmp_path / "python.jsonl", jobs=1)
    run_duckdb(kb, cohort, tmp_path / "duckdb.jsonl")
    run_spark(kb, cohort, tmp_path / "spark.jsonl", session=spark)
    python = _rows(tmp_path / "python.jsonl")
    assert [r["row"] for r in python] == [2, 3, 4, 5, 6, 7]
    unknown = kb.decide({})
    for row in (python[1], python[3], python[5]):
        assert "error" not in row and row["needs"] == list(unknown.needs) and row["needs"]
    _same(python, _rows(tmp_path / "duckdb.jsonl"))
    _same(python, _rows(tmp_path / "spark.jsonl"))
    # blank lines between rows, above the header, and a quoted cell over two lines: each row still
    # has its line's number in every engine (DuckDB and Spark count records, not lines)
    cohort.write_text('\na,b,dose\n0.1,0.2,2.675\n\n,,\n0.3,"0.2\n",2\n\n\n0.1,0.1,"2.675 mg"\n')
    run_cohort(kb, str(path), cohort, tmp_path / "python.jsonl", jobs=1)
    run_duckdb(kb, cohort, tmp_path / "duckdb.jsonl")
    run_spark(kb, cohort, tmp_path / "spark.jsonl", session=spark)
    python = _rows(tmp_path / "python.jsonl")
    assert [r["row"] for r in python] == [3, 5, 6, 10]
    _same(python, _rows(tmp_path / "duckdb.jsonl"))
    _same(python, _rows(tmp_path / "spark.jsonl"))


@pytest.mark.parametrize("body", ["0.1,0.2,2.675\n0.1\n0.1,0.2,2.675,9\n0.3,,2\n",  # a short and a long row
                                  "0.1,0.2,2.675\n   \n0.3,,2\n",  # a line of spaces
                                  ], ids=["short-and-long-rows", "line-of-spaces"])
def test_a_csv_duckdb_would_read_as_one_column_is_refused_not_read_as_all_unknown(tmp_path, body):
    """DuckDB's dialect sniffer took such files for one column named 'a,b,dose': every row came out
    with every fact unknown and exit 0. Now the run stops before writing, and says what to do."""
    cohort = tmp_path / "c.csv"
    cohort.write_text("a,b,dose\n" + body)
    done = run_cli("eval", DATA / "decimals", "--cohort", cohort, "--engine", "duckdb", "-o", tmp_path / "o.jsonl")
    assert done.code == 2 and "finds 1 column(s) where the header has 3" in done.err, done.err
    assert "--engine python" in done.err and "Traceback" not in done.err
    assert not (tmp_path / "o.jsonl").exists()
    cohort.write_text("a;b;dose\n0.1;0.2;2.675\n")  # another delimiter: Python reads one column, so does DuckDB now
    done = run_cli("eval", DATA / "decimals", "--cohort", cohort, "--engine", "duckdb", "-o", tmp_path / "o.jsonl")
    assert done.code == 2 and "finds 3 column(s) where the header has 1" in done.err, done.err


def test_a_csv_with_too_many_blank_lines_is_refused_by_the_sql_engines_not_misnumbered(tmp_path):
    cohort = tmp_path / "c.csv"
    cohort.write_text("a,b,dose\n" + "0.1,0.2,2.675\n\n" * 201)
    done = run_cli("eval", DATA / "decimals", "--cohort", cohort, "--engine", "duckdb", "-o", tmp_path / "o.jsonl")
    assert done.code == 2 and "in 201 places" in done.err and "--engine python" in done.err, done.err
    assert not (tmp_path / "o.jsonl").exists()
    python = run_cli("eval", DATA / "decimals", "--cohort", cohort, "-o", tmp_path / "o.jsonl")
    assert python.code == 0 and [r["row"] for r in _rows(tmp_path / "o.jsonl")][-1] == 402
