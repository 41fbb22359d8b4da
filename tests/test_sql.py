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
import re
import subprocess
import sys

import pytest
import sqlglot

import consilium
from casegen import as_written, random_case
from conftest import DATA, KB, ROOT, cohort_rows, run_cli
from consilium.engine.evaluation import sql
from consilium.engine.inputs.cohort import run_cohort
from consilium.engine.inputs import csv_sql
from consilium.engine.inputs.cohort_sql import run_duckdb, run_spark
from consilium.engine.lang import ir
from consilium.engine.lang.diagnostics import KnowledgeBaseError

# (knowledge base, cases): 100,000 in all, the bundled one the largest share
COHORTS = [(KB, 50_000), (DATA / "plans", 10_000), (DATA / "concordance", 10_000),
           (ROOT / "bench" / "decision", 10_000), (DATA / "render", 10_000), (DATA / "walk", 10_000),
           (DATA / "durations", 5_000)]  # (durations written in every form casegen.py writes)


def _bad_value(fact: ir.Fact, rng: random.Random):
    """A value that does not fit its fact, as a user's file might hold it."""
    match fact.type:  # (a JSON string is never a number, a yes-no or a date; a number never an enum value)
        case ir.NumberType():
            return rng.choice(["abc", "12 parsecs", 1000000, "3", True])
        case ir.EnumType():
            return rng.choice(["no_such_value", 1])
        case ir.SetType(values=values):
            return rng.choice([f"{values[0]},{values[-1]}", ["no_such_value"]])
        case ir.DateType():
            return rng.choice(["2024-02-30", "yesterday", 20240301])
        case ir.BoolType():
            return rng.choice(["yes", "true"])
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


def _same(python: list[dict], other: list[dict]) -> None:
    assert len(python) == len(other)
    for a, b in zip(python, other, strict=True):
        if a.get("error", "").startswith("not valid JSON"):  # Python names the JSON parser's complaint
            assert b["row"] == a["row"] and b["error"].startswith("not valid JSON"), (a, b)
            continue
        assert a == b


@pytest.mark.parametrize("path,size", COHORTS, ids=lambda p: getattr(p, "name", str(p)))
def test_python_duckdb_and_spark_give_the_same_rows(path, size, tmp_path, spark):
    kb = consilium.load_kb(path)
    cohort = tmp_path / "cohort.jsonl"
    _cohort(cohort, kb, size, seed=size + len(kb.facts))
    run_cohort(kb, str(path), cohort, tmp_path / "python.jsonl", jobs=1)
    run_duckdb(kb, cohort, tmp_path / "duckdb.jsonl", memory_limit="1GB")
    run_spark(kb, cohort, tmp_path / "spark.jsonl", session=spark)
    python = cohort_rows(tmp_path / "python.jsonl")
    _same(python, cohort_rows(tmp_path / "duckdb.jsonl"))
    _same(python, cohort_rows(tmp_path / "spark.jsonl"))
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
        writer.writerows(rows[:1000])
        # rows the engines' own readers would read otherwise: each its line's error in every engine
        handle.write("true\n" + ",".join(["x"] * (len(names) + 2)) + "\n" + 'x,"never closed\n')
        writer.writerows(rows[1000:])
    for engine, run in (("python", lambda: run_cohort(kb, None, cohort, tmp_path / "python.jsonl", jobs=2)),
                        ("duckdb", lambda: run_duckdb(kb, cohort, tmp_path / "duckdb.jsonl")),
                        ("spark", lambda: run_spark(kb, cohort, tmp_path / "spark.jsonl", session=spark))):
        capfd.readouterr()
        run()
        said = capfd.readouterr().err
        assert said.count("ignoring column favourite_colour") == 1, (engine, said)
        if engine != "python":  # (the Python cohort reads a missing fact as unknown without a word)
            assert said.count("no column for kras") == 1, (engine, said)
    python = cohort_rows(tmp_path / "python.jsonl")
    # (the quote left open takes in the lines up to the next quoted cell, a set's: one of those rows)
    assert sum("in CSV, a set's values are separated by '|'" in r.get("error", "") for r in python) >= 19
    assert [(r["row"], r.get("error", "")[:28]) for r in python[1000:1002]] == [
        (1002, "the row has 1 cell where the"), (1003, f"the row has {len(names) + 2} cells where t")]
    assert python[1002]["row"] == 1004 and python[1002]["error"].startswith("the row has ")
    assert python[-1]["row"] == 2004 and len(python) < 2003
    _same(python, cohort_rows(tmp_path / "duckdb.jsonl"))
    _same(python, cohort_rows(tmp_path / "spark.jsonl"))
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
    _same(cohort_rows(tmp_path / "python-parquet.jsonl"), got)


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
    rows = cohort_rows(tmp_path / "rows.jsonl")
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
    rows = cohort_rows(tmp_path / "rows.jsonl")
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


@pytest.mark.parametrize("name", ["error", "row", "v_error", "kras__error"])
def test_a_fact_named_as_a_column_of_the_query_is_refused_naming_it(tmp_path, name):
    """A fact named as a column the query makes for itself was read as that column: a fact
    `error` left every row unknown, a fact `v_error` made every row an error, `row` stopped
    DuckDB. The knowledge base is refused, the fact named at its line, with nothing run."""
    rules = (ROOT / "bench" / "decision" / "main.rules").read_text(encoding="utf-8")
    (tmp_path / "main.rules").write_text(re.sub(r"\bkras\b", name, rules), encoding="utf-8")
    (tmp_path / "cohort.jsonl").write_text(f'{{"{name}": "mutant", "liver_resectable": true}}\n', encoding="utf-8")
    for command in (("sql", tmp_path / "main.rules"),
                    ("eval", tmp_path / "main.rules", "--cohort", tmp_path / "cohort.jsonl", "--engine", "duckdb")):
        done = _consilium(*command)
        assert done.returncode == 2 and not done.stdout, done
        assert f"main.rules:12:6: error: the fact '{name}' cannot be lowered to SQL" in done.stderr
        assert "Traceback" not in done.stderr and "Binder" not in done.stderr
    assert _consilium("eval", tmp_path / "main.rules", "--cohort", tmp_path / "cohort.jsonl").returncode == 0


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
        python = cohort_rows(tmp_path / "python.jsonl")
        assert not any("error" in r for r in python)
        ids = [set(r["recommendations"]) for r in python]
        assert {"at_most", "exactly"} in ids and {"above", "below"} in ids and {"at_most", "over"} in ids
        _same(python, cohort_rows(tmp_path / "duckdb.jsonl"))
        _same(python, cohort_rows(tmp_path / "spark.jsonl"))


def test_a_number_sql_cannot_hold_exactly_is_a_row_error_not_rounded(tmp_path):
    kb = consilium.load_kb(DATA / "decimals")
    cohort = tmp_path / "c.csv"
    cohort.write_text("a,b,dose\n0.1234567890123456789012,0.2,2.675\n0.1,0.2,2.675\n")
    run_duckdb(kb, cohort, tmp_path / "out.jsonl")
    rows = cohort_rows(tmp_path / "out.jsonl")
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
    python, duckdb = cohort_rows(tmp_path / "python.jsonl"), cohort_rows(tmp_path / "duckdb.jsonl")
    assert [bool(r.get("error")) for r in python] == [True] * 4 + [False]
    assert [bool(r.get("error")) for r in duckdb] == [True] * 4 + [False]
    assert "'hepatectomy_segments'" in duckdb[0]["error"] and "3.0000000000000000001" in duckdb[0]["error"]
    _same(python[1:], duckdb[1:])  # the first: Python's 'a whole number', DuckDB's 'more digits than it holds'
    assert duckdb[4]["recommendations"] == ["simultaneous"]


def test_a_date_is_ten_characters_in_every_engine(tmp_path, spark):
    """A date is YYYY-MM-DD and exists, in every engine as in Python: the engines' casts take a
    year past 9999 ('12025-01-01', which they write back as it came), a leading space or a short
    month; each is its row's error in the same words."""
    kb = consilium.load_kb(KB)
    texts = ["12025-01-01", "2025-01-01", " 2025-01-01", "2025-1-01", "2024-02-29", "2025-02-29", "0000-01-01",
             "0001-01-01", "9999-12-31", "99999-12-31", "2025-01-01T00:00", "+2025-01-01"]
    cohort = tmp_path / "cohort.jsonl"
    cohort.write_text("".join(json.dumps({"chemoradiation_end": t, "evaluation_date": "2025-03-01"}) + "\n"
                              for t in texts))
    run_cohort(kb, str(KB), cohort, tmp_path / "python.jsonl", jobs=1)
    run_duckdb(kb, cohort, tmp_path / "duckdb.jsonl")
    run_spark(kb, cohort, tmp_path / "spark.jsonl", session=spark)
    python = cohort_rows(tmp_path / "python.jsonl")
    assert [("error" in r) for r in python] == [True, False, True, True, False, True, True, False, False, True,
                                                True, True]
    assert python[0]["error"] == "'chemoradiation_end' is a date (YYYY-MM-DD), not '12025-01-01'"
    _same(python, cohort_rows(tmp_path / "duckdb.jsonl"))
    _same(python, cohort_rows(tmp_path / "spark.jsonl"))


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
    python = cohort_rows(tmp_path / "python.jsonl")
    assert [r["row"] for r in python] == [2, 3, 4, 5, 6, 7]
    unknown = kb.decide({})
    for row in (python[1], python[3], python[5]):
        assert "error" not in row and row["needs"] == list(unknown.needs) and row["needs"]
    _same(python, cohort_rows(tmp_path / "duckdb.jsonl"))
    _same(python, cohort_rows(tmp_path / "spark.jsonl"))
    # blank lines between rows, above the header, and a quoted cell over two lines: each row still
    # has its line's number in every engine (DuckDB and Spark count records, not lines)
    cohort.write_text('\na,b,dose\n0.1,0.2,2.675\n\n,,\n0.3,"0.2\n",2\n\n\n0.1,0.1,"2.675 mg"\n')
    run_cohort(kb, str(path), cohort, tmp_path / "python.jsonl", jobs=1)
    run_duckdb(kb, cohort, tmp_path / "duckdb.jsonl")
    run_spark(kb, cohort, tmp_path / "spark.jsonl", session=spark)
    python = cohort_rows(tmp_path / "python.jsonl")
    assert [r["row"] for r in python] == [3, 5, 6, 10]
    _same(python, cohort_rows(tmp_path / "duckdb.jsonl"))
    _same(python, cohort_rows(tmp_path / "spark.jsonl"))


# Every kind of bad CSV row, with the line and the words the Python cohort gives it (tests/data/decimals:
# facts a, b, dose); the header has a column that names no fact ('colour') and starts with a BOM
BAD_CSV = (b"\xef\xbb\xbfa,b,dose,colour\n"
           b"0.1,0.2,2.675,blue\n"            # 2: a row
           b"0.1\n"                          # 3: too few cells
           b"0.1,0.2,2.675,red,9\n"           # 4: too many
           b"\n"                             # 5: a blank line: no row
           b'0.3,"0.2\n",2,green\n'          # 6-7: a quoted cell over two lines (a number)
           b'0.3,"x\ny",2,\n'                 # 8-9: ... that is not a number: its line ends escaped
           b"0.1,\xff,2,\n"                   # 10: not UTF-8
           b'0.1,"ab"c,2,\n'                  # 11: a quote closed before the cell ends
           b"   \n"                           # 12: spaces only: no row
           b",,,\n"                           # 13: every cell empty: a row of unknowns
           b'0.3,0.1,"2,\n'                   # 14: a quote never closed: the lines after it read again
           b"0.1,0.1,1,\n"                    # 15
           b"0.2,0.1,3 mg,\n")                # 16

BAD_CSV_ERRORS = {
    3: "the row has 1 cell where the header has 4 columns: a cell is missing",
    4: "the row has 5 cells where the header has 4 columns: a cell too many, or a comma inside a cell that is "
       "not quoted",
    8: "'b' is a number, not 'x\\ny'",
    10: "the line is not UTF-8 text: byte 0xff at column 5",
    11: "'b' is a number, not 'abc'",
    14: "a quoted cell opened on this line is never closed",
}


def test_every_bad_csv_row_is_its_line_s_error_in_every_engine(tmp_path, spark, capfd):
    """Short and long rows, an unbalanced quote, a BOM, a blank line, a quoted cell over two lines,
    bytes that are not UTF-8: each is its row's error with its line, worded alike by Python,
    DuckDB and Spark, and the run goes on; a column that names no fact is said once in each."""
    path = DATA / "decimals"
    kb = consilium.load_kb(path)
    cohort = tmp_path / "cohort.csv"
    cohort.write_bytes(BAD_CSV)
    said = {}
    for engine, run in (("python", lambda out: run_cohort(kb, str(path), cohort, out, jobs=2)),
                        ("duckdb", lambda out: run_duckdb(kb, cohort, out)),
                        ("spark", lambda out: run_spark(kb, cohort, out, session=spark))):
        capfd.readouterr()
        summary = run(tmp_path / f"{engine}.jsonl")
        said[engine] = capfd.readouterr().err
        assert (summary.rows, summary.errors) == (11, 6), engine
    python = cohort_rows(tmp_path / "python.jsonl")
    assert [r["row"] for r in python] == [2, 3, 4, 6, 8, 10, 11, 13, 14, 15, 16]
    assert {r["row"]: r["error"] for r in python if "error" in r} == BAD_CSV_ERRORS
    assert python[0]["recommendations"] == ["at_most", "exactly"]  # the BOM and 'colour' cost nothing
    assert python[3]["recommendations"] == ["above", "below"]      # "0.2\n" is 0.2
    assert python[-1]["recommendations"] == ["at_most", "over"]    # read again after the open quote
    _same(python, cohort_rows(tmp_path / "duckdb.jsonl"))
    _same(python, cohort_rows(tmp_path / "spark.jsonl"))
    for engine, err in said.items():
        assert err.count("ignoring column colour: no fact of the knowledge base has that name") == 1, (engine, err)
        assert f"cohort.csv:3: error: {BAD_CSV_ERRORS[3]}" in err and "Traceback" not in err, (engine, err)


@pytest.mark.parametrize("body,why,errors", [
    (b"a,b,dose\n0.1,0.2,2.675\n0.1\n", "", 1),                      # short: the engine's own reader finds it
    (b"a,b,dose\n", "", 0),                                          # a header alone: no row, no error
    (b"a,b,dose\n0.1,0.2,2.675\n   \n", "spaces only", 0),
    (b"a,b,dose\n0.1,\xff,2\n", "not UTF-8", 1),
    (b'a,b,dose\n0.1,"ab"c,2\n', "quotes a cell", 1),
    (b'a,b,dose\n "0.1" ,0.2,3\n', "quotes a cell", 1),               # DuckDB alone would read 0.1
    (b'a,b,dose\n0.1,"2,2\n0.1,0.2,3\n', "never closed", 1),
    (b"a,b,a\n0.1,,0.2\n0.1,,\n", "a column named twice", 1),
    (b"a\n0.1\n\n0.2\n", "one column", 0),                             # DuckDB alone would read a row
    (b"a,b,dose\r0.1,0.2,2\r", "lone CR", 0),
    (b",,\na,b,dose\n0.1,0.2,2\n", "above the header", 0),          # rows.py's header is line 2
    (b'a,"b\n",dose\n0.1,0.2,2\n', "header runs over lines", 0),
    (b"a,b,dose\n" + b"0.1,0.2,2.675\n\n" * 201, "too many places", 0),
], ids=["short", "header", "spaces", "utf8", "quote-in-cell", "spaced-quote", "unclosed", "twice", "one-column",
        "cr", "above-header", "header-over-lines", "gaps"])
def test_a_csv_file_the_engines_would_read_otherwise_is_read_as_the_python_cohort_reads_it(tmp_path, body, why,
                                                                                           errors):
    """What the engines' own CSV readers read otherwise than rows.py is found before they read it
    (or, for rows of too few or too many cells, by their own reader), and the file is then read as
    rows.py reads it: DuckDB gives the Python cohort's rows (the file of 201 blank lines too, which
    it refused before)."""
    cohort = tmp_path / "c.csv"
    cohort.write_bytes(body)
    plan = csv_sql.plan(cohort)
    assert plan.exact is (why == "") and why in plan.why
    kb = consilium.load_kb(DATA / "decimals")
    run_cohort(kb, None, cohort, tmp_path / "python.jsonl", jobs=1)
    run_duckdb(kb, cohort, tmp_path / "duckdb.jsonl")
    python = cohort_rows(tmp_path / "python.jsonl")
    assert sum("error" in r for r in python) == errors and (python or why == "")
    if why == "too many places":
        assert [r["row"] for r in python][-1] == 402
    _same(python, cohort_rows(tmp_path / "duckdb.jsonl"))


def test_a_clean_csv_file_is_read_by_the_engines_own_readers(tmp_path, spark, monkeypatch):
    """Blank lines, a quoted cell over lines, a quote written twice, CRLF: DuckDB and Spark read such a
    file themselves, numbered as the Python cohort numbers it (rows.py's reading is not called)."""
    kb = consilium.load_kb(DATA / "decimals")
    cohort = tmp_path / "c.csv"
    cohort.write_bytes(b'\r\na,b,dose\r\n0.1,0.2,2.675\r\n\r\n"0.3","0.2\r\n",2\r\n0.1,"""0.1""",2\r\n,,\r\n')
    assert csv_sql.plan(cohort).exact
    run_cohort(kb, None, cohort, tmp_path / "python.jsonl", jobs=1)
    monkeypatch.setattr(csv_sql, "normalize", lambda *a: pytest.fail("read by rows.py"))
    run_duckdb(kb, cohort, tmp_path / "duckdb.jsonl")
    run_spark(kb, cohort, tmp_path / "spark.jsonl", session=spark)
    python = cohort_rows(tmp_path / "python.jsonl")
    assert [r["row"] for r in python] == [3, 5, 7, 8] and "error" in python[2]
    _same(python, cohort_rows(tmp_path / "duckdb.jsonl"))
    _same(python, cohort_rows(tmp_path / "spark.jsonl"))


def test_a_json_lines_key_that_names_no_fact_is_ignored_with_one_warning_in_every_engine(tmp_path, spark, capfd):
    """Issue 15: an extra column is ignored with one warning. In JSON Lines too, in every engine: the
    rows are decided as if the key were not there, and the run names the keys once."""
    path = DATA / "decimals"
    kb = consilium.load_kb(path)
    cohort = tmp_path / "cohort.jsonl"
    cohort.write_text('{"a": 0.1, "b": 0.2, "dose": 2.675, "colour": "blue"}\n{"a": 0.3, "b": 0.1}\n'
                      '{"a": 0.1, "b": 0.1, "shoe_size": 44, "colour": "red"}\n{"a": "x", "height": 1}\n' * 50)
    for engine, run in (("python", lambda out: run_cohort(kb, str(path), cohort, out, jobs=2)),
                        ("duckdb", lambda out: run_duckdb(kb, cohort, out)),
                        ("spark", lambda out: run_spark(kb, cohort, out, session=spark))):
        capfd.readouterr()
        summary = run(tmp_path / f"{engine}.jsonl")
        said = capfd.readouterr().err
        assert (summary.rows, summary.errors) == (200, 50), engine
        assert said.count("ignoring columns colour, shoe_size, height: no fact of the knowledge base has "
                          "that name") == 1, (engine, said)
    python = cohort_rows(tmp_path / "python.jsonl")
    assert python[0]["recommendations"] == ["at_most", "exactly"] and python[3]["error"] == "'a' is a number, not 'x'"
    _same(python, cohort_rows(tmp_path / "duckdb.jsonl"))
    _same(python, cohort_rows(tmp_path / "spark.jsonl"))


def test_a_fact_given_twice_is_the_rows_error_in_spark_too(tmp_path, spark):
    """Spark's JSON functions keep a key's last value: the line is the Python cohort's row error (with a
    blank line and a line that is not JSON beside it; DuckDB's paths: tests/test_sql_reading.py)."""
    from test_sql_reading import TWICE, TWICE_WORDS
    kb = consilium.load_kb(ROOT / "bench" / "decision")
    cohort = tmp_path / "cohort.jsonl"
    cohort.write_text("\n".join(["", *TWICE, '{"kras": "mutant", broken']) + "\n")
    run_cohort(kb, None, cohort, tmp_path / "python.jsonl", jobs=1)
    run_spark(kb, cohort, tmp_path / "spark.jsonl", session=spark)
    python = cohort_rows(tmp_path / "python.jsonl")
    assert [r.get("error") for r in python] == [*TWICE_WORDS, "not valid JSON"]
    assert cohort_rows(tmp_path / "spark.jsonl") == python


def test_a_line_that_is_not_utf8_is_its_rows_error_in_pythons_words_in_spark(tmp_path, spark):
    """Spark's text reader keeps a byte that is not UTF-8 as it is: the line is its row's error in the
    Python cohort's words (the byte and its column), with its row number, and the rows after it are
    decided, as in DuckDB (tests/test_sql_reading.py), for every file of bytes DuckDB is held to."""
    from test_sql_reading import NOT_UTF8
    kb = consilium.load_kb(ROOT / "bench" / "decision")
    found = {}
    for name, text in NOT_UTF8.items():
        cohort = tmp_path / f"{name}.jsonl"
        cohort.write_bytes(text)
        run_cohort(kb, None, cohort, tmp_path / "python.jsonl", jobs=1)
        run_spark(kb, cohort, tmp_path / "spark.jsonl", session=spark)
        python, rows = cohort_rows(tmp_path / "python.jsonl"), cohort_rows(tmp_path / "spark.jsonl")
        assert any("not UTF-8 text: byte 0x" in r.get("error", "") for r in python), name
        if rows != python:
            found[name] = (python, rows)
    assert not found, "\n".join(f"{name}:\n  python {a}\n  spark  {b}" for name, (a, b) in found.items())


def test_white_space_and_a_long_line_give_the_python_cohorts_rows_in_spark(tmp_path, spark):
    """A line of only white space (a tab, U+3000) is blank as Python's `strip` says, and JSON's own
    spaces after an object do not spoil it (Spark's TRIM takes spaces alone: `{...}<tab>` was "not
    valid JSON"); DuckDB's paths: tests/test_sql_reading.py."""
    from test_sql_reading import _GOOD, ODD_LINES
    kb = consilium.load_kb(ROOT / "bench" / "decision")
    cohort = tmp_path / "cohort.jsonl"
    cohort.write_text("\n".join([_GOOD, "", *ODD_LINES]) + "\n", encoding="utf-8")
    run_cohort(kb, None, cohort, tmp_path / "python.jsonl", jobs=1)
    run_spark(kb, cohort, tmp_path / "spark.jsonl", session=spark)
    python = cohort_rows(tmp_path / "python.jsonl")
    assert [r["row"] for r in python if "error" not in r] == [1, 8, 9, 10, 13, 14]
    assert cohort_rows(tmp_path / "spark.jsonl") == python
