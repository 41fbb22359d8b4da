"""Arithmetic at the SQL engines' limits: one bad row is that row's error, never the end of the run.

A value outside its fact's range used to feed the decision's sums (99999999999999999999 + 3
left DECIMAL(38, 18) and DuckDB stopped the whole cohort); a fact without a range can hold
values whose sum, difference, product or quotient leaves DECIMAL(38, 18) or BIGINT; a date
moved by a duration can leave the calendar. The Python engine computes all of these exactly
(a date out of the calendar is unknown): DuckDB and Spark must give its rows for the rows
they can decide, and a row error naming what overflowed for the rest.
"""

from __future__ import annotations

import json
import random


import consilium
from casegen import as_written, random_case
from conftest import DATA, cohort_rows, run_cli
from consilium.engine.evaluation import sql
from consilium.engine.inputs.cohort import run_cohort
from consilium.engine.inputs.cohort_sql import run_duckdb, run_spark

LIMIT = "beyond the numbers the SQL engines hold exactly"


def _engines(kb, path, cohort, tmp_path, spark) -> tuple[list[dict], list[dict], list[dict]]:
    run_cohort(kb, str(path), cohort, tmp_path / "python.jsonl", jobs=1)
    run_duckdb(kb, cohort, tmp_path / "duckdb.jsonl")
    run_spark(kb, cohort, tmp_path / "spark.jsonl", session=spark)
    python, duckdb, spark_rows = (cohort_rows(tmp_path / f"{engine}.jsonl") for engine in ("python", "duckdb", "spark"))
    return python, duckdb, spark_rows


def test_a_value_out_of_its_range_is_its_row_s_error_and_the_run_goes_on(tmp_path, spark):
    """The report's reproducer: 'a' in 0..10 given as 99999999999999999999, then a good row."""
    path = DATA / "decimals"
    cohort = tmp_path / "cohort.jsonl"
    cohort.write_text('{"a": 99999999999999999999, "b": 3}\n{"a": 1, "b": 2}\n'
                      '{"a": -99999999999999999999, "b": -99999999999999999999, "dose": 2}\n')
    run = run_cli("eval", path, "--cohort", cohort, "--engine", "duckdb", "-o", tmp_path / "out.jsonl")
    assert run.code == 1 and "could not run" not in run.err, run.err  # 1: rows with errors, all written
    assert "'a' is 99999999999999999999, outside its range [0 .. 10]" in run.err
    python, duckdb, spark_rows = _engines(consilium.load_kb(path), path, cohort, tmp_path, spark)
    assert cohort_rows(tmp_path / "out.jsonl") == duckdb == spark_rows == python
    assert python[1]["recommendations"] == ["above"] and "error" not in python[1]
    assert python[2]["error"].startswith("'a' is -99999999999999999999, outside its range")


def _extreme_cohort(path, size: int, seed: int) -> None:
    rng = random.Random(seed)
    numbers = [99999999999999999999, -99999999999999999999, 9e19, -9e19, 5e19, 1, -3, 0, 2.5, 0.000001, None]
    integers = [9223372036854775807, -9223372036854775807, -9223372036854775808, 4611686018427387904, 7, -7, 0, None]
    dates = ["9999-12-31", "9999-11-30", "0001-01-01", "2020-01-31", None]
    waits = ["99999999999 days", "999999999 months", "2 months", "P99999999999M", "3 days", "P1M", None]
    with path.open("w") as handle:
        for _ in range(size):
            case = {"x": rng.choice(numbers), "y": rng.choice(numbers), "n": rng.choice(integers),
                    "m": rng.choice(integers), "a": rng.choice([1, 5, 99999999999999999999, None]),
                    "start": rng.choice(dates), "wait": rng.choice(waits)}
            handle.write(json.dumps({k: v for k, v in case.items() if v is not None}) + "\n")


def test_sums_products_and_dates_at_the_limits_are_row_errors_or_python_s_rows(tmp_path, spark):
    """Facts without a range (tests/data/overflow): every row Python decides is decided alike
    in DuckDB and Spark, unless its arithmetic leaves the engines' numbers: then it is the
    row's error, naming the definition or rule and what overflowed, and the rows after it go on."""
    path = DATA / "overflow"
    cohort = tmp_path / "cohort.jsonl"
    _extreme_cohort(cohort, 1500, seed=15)
    python, duckdb, spark_rows = _engines(consilium.load_kb(path), path, cohort, tmp_path, spark)
    assert len(python) == len(duckdb) == len(spark_rows) == 1500
    assert duckdb == spark_rows
    limits = []
    for a, b in zip(python, duckdb, strict=True):
        if a != b:
            assert "error" not in a and LIMIT in b["error"] and "--engine python" in b["error"], (a, b)
            assert set(b) == {"row", "error"}, b  # no lists for a row in error
            limits.append(b["error"])
    said = " ".join(limits)
    for what in ("a sum in the definition 'total'", "a difference in the definition 'gap'",
                 "a product in the definition 'scaled'", "a quotient in the decision 'products'",
                 "a negation in the decision 'products'", "a sum in the decision 'products'"):
        assert what in said, what
    assert "(a whole number up to 9223372036854775807)" in said and "(20 digits before the point)" in said
    # not vacuous: most rows decided alike, dates at the calendar's end among them
    decided = [r for r in python if "error" not in r]
    assert len(decided) - len(limits) > 300
    assert any("late" in r["recommendations"] for r in decided) and any("early" in r["recommendations"]
                                                                          for r in decided)


def test_a_date_moved_out_of_the_calendar_is_unknown_as_in_python(tmp_path, spark):
    """A plan's window from 9999-12-31 ends after year 9999: unknown in Python, so no warning
    in any engine (DuckDB went on to year 10000 and warned)."""
    path = DATA / "plans"
    kb = consilium.load_kb(path)
    dates = [f.id for f in kb.facts.values() if type(f.type).__name__ == "DateType"]
    rng = random.Random(4)
    cases = [{k: as_written(v) for k, v in random_case(kb.facts, rng).items()} for _ in range(600)]
    for case in cases[::2]:  # every other case with dates at the calendar's ends
        case.update({d: rng.choice(["9999-12-31", "9999-10-15", "0001-01-01", "0001-02-28"]) for d in dates})
    cohort = tmp_path / "cohort.jsonl"
    cohort.write_text("".join(json.dumps(case) + "\n" for case in cases))
    python, duckdb, spark_rows = _engines(kb, path, cohort, tmp_path, spark)
    assert duckdb == python and spark_rows == python
    assert any(r.get("warnings") for r in python[::2]) and any(r.get("warnings") for r in python[1::2])


def test_a_duration_of_more_digits_than_sql_holds_is_its_row_s_error(tmp_path):
    path = DATA / "overflow"
    cohort = tmp_path / "cohort.jsonl"
    cohort.write_text('{"start": "2020-01-01", "wait": "4611686018427387904 days"}\n'
                      '{"start": "2020-01-01", "wait": "P9999999999999999D"}\n'
                      '{"x": 1, "y": 1, "n": 1, "m": 1, "a": 1, "start": "2020-01-01", "wait": "P1M"}\n')
    run_duckdb(consilium.load_kb(path), cohort, tmp_path / "out.jsonl")
    rows = cohort_rows(tmp_path / "out.jsonl")
    assert rows[0]["error"] == ("'wait' is '4611686018427387904 days': more digits than the SQL engines hold "
                                "exactly (15 in an amount; in all, 15 in months and 16 in days); evaluate this "
                                "cohort with --engine python")
    assert rows[1]["error"].startswith("'wait' is 'P9999999999999999D': more digits")
    assert "error" not in rows[2] and "early" in rows[2]["recommendations"]


def test_ranges_that_bound_a_sum_leave_it_as_it_is():
    """Only arithmetic that can leave the engines' numbers pays for the guard: 'a + b' with
    both in 0..10 is a plain sum (its facts NULL there when out of range); 'x + y' without
    ranges is guarded, in each engine's own form."""
    decimals = consilium.load_kb(DATA / "decimals").checked
    assert "TRY" not in sql.to_sql(decimals, "duckdb").upper()
    overflow = consilium.load_kb(DATA / "overflow").checked
    assert 'TRY("x" + ("y"))' in sql.to_sql(overflow, "duckdb", pretty=False)
    assert "TRY_ADD(`x`, `y`)" in sql.to_sql(overflow, "spark", pretty=False)
