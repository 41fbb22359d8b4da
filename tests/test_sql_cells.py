"""Odd cells, one a row, in every engine: the same row errors in the same words, the same decided rows.

A table of cells that do not fit their fact, or nearly do not (sets with null, numbers, lists
or mappings inside, given as text or twice; numbers as yes-no, text, huge, -0, with exponents;
dates outside the calendar, of the wrong length, as numbers; enum values in the wrong case or
as numbers; yes-no as text or 1; text over 80 characters; JSON null; a line that is not
UTF-8), each on its own row of the bundled knowledge base's cohort, as JSON Lines and as CSV,
run by the Python cohort (the reference), DuckDB and Spark (one local[2] session for the module).
"""

from __future__ import annotations

import csv
import json


import consilium
from conftest import KB, cohort_rows
from consilium.engine.inputs.cohort import run_cohort
from consilium.engine.inputs.cohort_sql import run_duckdb, run_spark

LONG = "x" * 100
# (fact, JSON value): the bundled knowledge base's facts of each type
JSON_CELLS = [
    # a set
    ("metastatic_sites", [None]), ("metastatic_sites", ["liver", None]), ("metastatic_sites", [1]),
    ("metastatic_sites", [1.5]), ("metastatic_sites", [True]), ("metastatic_sites", [["liver"]]),
    ("metastatic_sites", {"a": 1}), ("metastatic_sites", []), ("metastatic_sites", ["liver", "liver"]),
    ("metastatic_sites", "liver"), ("metastatic_sites", ["Liver"]), ("metastatic_sites", [LONG]),
    ("metastatic_sites", LONG), ("metastatic_sites", 3), ("metastatic_sites", True), ("metastatic_sites", None),
    ("metastatic_sites", ["liver", "lung"]), ("metastatic_sites", [{"a": 1}]),
    # numbers
    ("hepatectomy_segments", True), ("hepatectomy_segments", False), ("hepatectomy_segments", "abc"),
    ("hepatectomy_segments", "3"), ("hepatectomy_segments", 10 ** 30), ("hepatectomy_segments", -0),
    ("hepatectomy_segments", 3.5), ("hepatectomy_segments", [3]), ("hepatectomy_segments", {"a": 1}),
    ("hepatectomy_segments", LONG), ("hepatectomy_segments", None), ("hepatectomy_segments", 4),
    ("future_liver_remnant", "12 parsecs"), ("future_liver_remnant", "31 %"), ("future_liver_remnant", -0.0),
    ("future_liver_remnant", True), ("future_liver_remnant", LONG), ("future_liver_remnant", 35.5),
    # dates
    ("chemoradiation_end", "2024-02-30"), ("chemoradiation_end", "2024-13-01"), ("chemoradiation_end", "2024-3-1"),
    ("chemoradiation_end", "20240301"), ("chemoradiation_end", 20240301), ("chemoradiation_end", "12025-01-01"),
    ("chemoradiation_end", True), ("chemoradiation_end", ["2024-03-01"]), ("chemoradiation_end", LONG),
    ("chemoradiation_end", None), ("chemoradiation_end", "2024-03-01"),
    # enums
    ("kras", "Wild_type"), ("kras", 1), ("kras", True), ("kras", ["mutant"]), ("kras", {"a": 1}), ("kras", LONG),
    ("kras", "mutant "), ("kras", None), ("kras", "mutant"),
    # yes-no
    ("conversion_therapy_under_way", "true"), ("conversion_therapy_under_way", 1),
    ("conversion_therapy_under_way", "yes"), ("conversion_therapy_under_way", [True]),
    ("conversion_therapy_under_way", LONG), ("conversion_therapy_under_way", None),
    ("conversion_therapy_under_way", False),
]
# (fact, CSV text)
CSV_CELLS = [
    ("metastatic_sites", "liver|liver"), ("metastatic_sites", "liver,lung"), ("metastatic_sites", "|"),
    ("metastatic_sites", "Liver"), ("metastatic_sites", LONG), ("metastatic_sites", "liver|" + LONG),
    ("metastatic_sites", "liver| lung"), ("metastatic_sites", "1"),
    ("hepatectomy_segments", "true"), ("hepatectomy_segments", "abc"), ("hepatectomy_segments", "-0"),
    ("hepatectomy_segments", "1e0"), ("hepatectomy_segments", "3.5"), ("hepatectomy_segments", LONG),
    ("hepatectomy_segments", "1" * 30), ("future_liver_remnant", "3.5e1"), ("future_liver_remnant", "31 %"),
    ("future_liver_remnant", "12 parsecs"),
    ("chemoradiation_end", "2024-02-30"), ("chemoradiation_end", "2024-3-1"), ("chemoradiation_end", "20240301"),
    ("chemoradiation_end", LONG),
    ("kras", "Wild_type"), ("kras", "1"), ("kras", LONG), ("kras", "mutant"),
    ("conversion_therapy_under_way", "TRUE"), ("conversion_therapy_under_way", "1"),
    ("conversion_therapy_under_way", "yes"), ("conversion_therapy_under_way", LONG),
]
# the differences README's SQL section names: (fact, the cell as JSON) -> what each SQL engine says
# instead (None: it reads the cell). A JSON string reaches SQL unquoted, so "3" and "true" read as
# the number and the yes-no, and "20240301" is shown bare; SQL holds a whole number to 19 digits;
# DuckDB's JSON reader cannot tell a line that is not UTF-8 from one that is not JSON, and Spark's
# text reader keeps the column of the byte but not the byte
SAID_OTHERWISE = {
    ("hepatectomy_segments", '"3"'): {"duckdb": None, "spark": None},
    ("conversion_therapy_under_way", '"true"'): {"duckdb": None, "spark": None},
    ("chemoradiation_end", '"20240301"'): dict.fromkeys(
        ("duckdb", "spark"), "'chemoradiation_end' is a date (YYYY-MM-DD), not 20240301"),
    ("hepatectomy_segments", str(10 ** 30)): dict.fromkeys(("duckdb", "spark"), (
        "'hepatectomy_segments' is 1000000000000000000000000000000: more digits than the SQL engines hold "
        "exactly (a whole number up to 9223372036854775807); evaluate this cohort with --engine python")),
    ("kras", "not UTF-8"): {"duckdb": "not valid JSON (or not UTF-8 text), or not a mapping of fact names to values",
                            "spark": "the line is not UTF-8 text: a byte at column 17"},
}
CSV_SAID_OTHERWISE = {
    ("hepatectomy_segments", "1" * 30): dict.fromkeys(("duckdb", "spark"), (
        f"'hepatectomy_segments' is {'1' * 30}: more digits than the SQL engines hold exactly (a whole number "
        "up to 9223372036854775807); evaluate this cohort with --engine python")),
}
BASE = {"metastatic_sites": ["liver"], "kras": "wild_type", "conversion_therapy_under_way": False}


def _runs(kb, cohort, tmp_path, spark) -> list[tuple[str, list[dict]]]:
    run_cohort(kb, None, cohort, tmp_path / "python.jsonl", jobs=1)
    run_duckdb(kb, cohort, tmp_path / "duckdb.jsonl")
    run_spark(kb, cohort, tmp_path / "spark.jsonl", session=spark)
    return [(engine, cohort_rows(tmp_path / f"{engine}.jsonl")) for engine in ("python", "duckdb", "spark")]


def _differences(cells, runs, said_otherwise) -> list[str]:
    (_, python), *others = runs
    found = []
    for engine, rows in others:
        assert [r["row"] for r in rows] == [r["row"] for r in python], engine
        for cell, a, b in zip(cells, python, rows, strict=True):
            key = (cell[0], cell[1] if said_otherwise is CSV_SAID_OTHERWISE or cell[1] == "not UTF-8"
                   else json.dumps(cell[1]))
            if key in said_otherwise:
                assert "error" in a, cell  # Python refuses each of them
                said = said_otherwise[key][engine]
                if b.get("error") != said:
                    found.append(f"{engine} {cell!r}: the documented difference changed: {b.get('error', b)}")
            elif a != b:
                found.append(f"{engine} {cell!r}:\n  python {a.get('error', a)}\n  {engine} {b.get('error', b)}")
    return found


def test_odd_json_cells_are_the_same_row_errors_in_every_engine(tmp_path, spark):
    kb = consilium.load_kb(KB)
    cohort = tmp_path / "cohort.jsonl"
    cells: list = []
    with cohort.open("wb") as handle:
        for fact, value in JSON_CELLS:
            handle.write(json.dumps({**BASE, fact: value}).encode() + b"\n")
            cells.append((fact, value))
        handle.write(b'{"kras": "mutant\xff"}\n')  # not UTF-8
        cells.append(("kras", "not UTF-8"))
        handle.write(b'{"kras": "mutant"}\n')  # the row after it is read
        cells.append(("kras", "mutant"))
    runs = _runs(kb, cohort, tmp_path, spark)
    assert not _differences(cells, runs, SAID_OTHERWISE), "\n".join(_differences(cells, runs, SAID_OTHERWISE))
    python = runs[0][1]
    # not vacuous: the malformed cells are errors, the well-formed ones decide
    assert python[0]["error"].startswith("None is not a value of 'metastatic_sites'")
    assert "not UTF-8" in python[-2]["error"] and "error" not in python[-1]
    assert sum("error" in r for r in python) >= len(cells) - 17  # (16 cells are well-formed)


def test_odd_csv_cells_are_the_same_row_errors_in_every_engine(tmp_path, spark):
    kb = consilium.load_kb(KB)
    cohort = tmp_path / "cohort.csv"
    names = sorted({fact for fact, _ in CSV_CELLS})
    base = {"metastatic_sites": "liver", "kras": "wild_type", "conversion_therapy_under_way": "false"}
    with cohort.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=names)
        writer.writeheader()
        for fact, text in CSV_CELLS:
            writer.writerow({n: base.get(n, "") for n in names} | {fact: text})
    runs = _runs(kb, cohort, tmp_path, spark)
    found = _differences(CSV_CELLS, runs, CSV_SAID_OTHERWISE)
    assert not found, "\n".join(found)
    assert sum("error" in r for r in runs[0][1]) >= len(CSV_CELLS) - 8


def test_a_typed_list_holding_null_is_a_row_error_in_every_engine(tmp_path, spark):
    # a Parquet list column is read as it is typed: its NULL element was passed over, a set accepted
    import pyarrow as pa
    import pyarrow.parquet as pq
    kb = consilium.load_kb(KB)
    cohort = tmp_path / "cohort.parquet"
    sites = [[None], ["liver", None], ["liver"], None, ["lung", "liver"]]
    pq.write_table(pa.table({"metastatic_sites": pa.array(sites, pa.list_(pa.string())),
                             "kras": ["wild_type"] * len(sites)}), cohort)
    runs = _runs(kb, cohort, tmp_path, spark)
    cells = [("metastatic_sites", s) for s in sites]
    found = _differences(cells, runs, {})
    assert not found, "\n".join(found)
    assert [r.get("error", "")[:17] for r in runs[0][1]] == ["None is not a val"] * 2 + [""] * 3
