"""Odd cells, one a row, in every engine: the same row errors in the same words, the same decided rows.

A table of cells that do not fit their fact, or nearly do not (sets with null, numbers, lists
or mappings inside, given as text or twice; numbers as yes-no, text, huge, -0, with exponents;
dates outside the calendar, of the wrong length, as numbers; enum values in the wrong case or
as numbers; yes-no as text or 1; text over 80 characters; JSON null; a line that is not
UTF-8), each on its own row of the bundled knowledge base's cohort, as JSON Lines and as CSV,
run by the Python cohort (the reference), DuckDB and Spark (one local[2] session for the module).
A JSON string is never a number, a yes-no or a date ("3", "true", "20240301" are refused as
Python refuses them), nor a JSON number an enum value, a date or a duration; a Parquet
column of text is read the same way; in CSV, where every cell is text, '3' is a number.
"""

from __future__ import annotations

import csv
import json


import consilium
from conftest import DATA, KB, cohort_rows
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
    # JSON strings where a number, a yes-no or a date is expected, and other JSON of the wrong type
    ("hepatectomy_segments", "3.0"), ("hepatectomy_segments", " 3"), ("hepatectomy_segments", "1e0"),
    ("hepatectomy_segments", "true"), ("hepatectomy_segments", "-0"), ("hepatectomy_segments", "4 segments"),
    ("hepatectomy_segments", "4 points"), ("hepatectomy_segments", "null"), ("hepatectomy_segments", "3e0 segments"),
    ("hepatectomy_segments", 1e-18), ("hepatectomy_segments", 2.5e0), ("hepatectomy_segments", "0x10"),
    ("future_liver_remnant", "31"), ("future_liver_remnant", "31%"), ("future_liver_remnant", "3.1e1"),
    ("future_liver_remnant", "3.1e1 %"), ("future_liver_remnant", "Infinity"), ("future_liver_remnant", "NaN"),
    ("future_liver_remnant", "+31 %"), ("future_liver_remnant", "1e-18"), ("future_liver_remnant", 1.4e-18),
    ("future_liver_remnant", [31]), ("future_liver_remnant", {"value": 31}), ("future_liver_remnant", -1e-07),
    ("conversion_therapy_under_way", "false"), ("conversion_therapy_under_way", "1"),
    ("conversion_therapy_under_way", 0), ("conversion_therapy_under_way", {"a": True}),
    ("conversion_therapy_under_way", "TRUE"),
    ("kras", "true"), ("kras", "1"), ("kras", "1.5"), ("kras", 1.5), ("kras", "null"), ("kras", "[1]"), ("kras", "{}"),
    ("kras", 'a"b'), ("kras", "a\\b"), ("kras", "tab\there"), ("kras", "é"),
    ("chemoradiation_end", "true"), ("chemoradiation_end", 2024), ("chemoradiation_end", {"d": 1}),
    ("chemoradiation_end", 1.5), ("chemoradiation_end", "2024-03-01 "),
    ("metastatic_sites", '["liver"]'), ("metastatic_sites", "1"), ("metastatic_sites", "true"),
]
# (fact, CSV text)
CSV_CELLS = [
    ("hepatectomy_segments", "3"), ("hepatectomy_segments", "+3"), ("hepatectomy_segments", "03"),
    ("hepatectomy_segments", "3."), ("hepatectomy_segments", "3e0 segments"), ("future_liver_remnant", ".5"),
    ("future_liver_remnant", "+3.5"), ("future_liver_remnant", "03.5"), ("future_liver_remnant", "1_0.5"),
    ("future_liver_remnant", "Infinity"), ("future_liver_remnant", "3.1e1 %"), ("future_liver_remnant", "1e-18"),
    ("kras", "a\nb"), ("chemoradiation_end", "20240301 "),
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
# instead. SQL holds a whole number to 19 digits and a number to 18 decimals (a line that is not
# UTF-8 is worded as Python words it: tests/test_sql_reading.py)
SAID_OTHERWISE = {
    ("future_liver_remnant", "1.4e-18"): {engine: (  # (Python reads it: 19 decimals)
        f"'future_liver_remnant' is {written}: more digits than the SQL engines hold exactly (20 before the point, "
        "18 after); evaluate this cohort with --engine python") for engine, written in (("duckdb", "1.4e-18"),
                                                                                         ("spark", "1.4E-18"))},
    ("hepatectomy_segments", str(10 ** 30)): dict.fromkeys(("duckdb", "spark"), (
        "'hepatectomy_segments' is 1000000000000000000000000000000: more digits than the SQL engines hold "
        "exactly (a whole number up to 9223372036854775807); evaluate this cohort with --engine python")),
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
        handle.write(b'{"kras": "mut\\u0061nt", "hepatectomy_segments": 3.0, "future_liver_remnant": 1E+1}\n')
        cells.append(("kras", "mutant, escaped"))
    runs = _runs(kb, cohort, tmp_path, spark)
    assert not _differences(cells, runs, SAID_OTHERWISE), "\n".join(_differences(cells, runs, SAID_OTHERWISE))
    python = runs[0][1]
    # not vacuous: the malformed cells are errors, the well-formed ones decide
    assert python[0]["error"].startswith("None is not a value of 'metastatic_sites'")
    assert "not UTF-8" in python[-3]["error"] and "error" not in python[-2] and "error" not in python[-1]
    assert sum("error" in r for r in python) >= len(cells) - 22  # (21 cells are well-formed)
    said = {(fact, json.dumps(value)): row.get("error") for (fact, value), row in zip(cells, python, strict=True)}
    assert said["hepatectomy_segments", '"3"'] == "'hepatectomy_segments' is a whole number, not the text '3'"
    assert said["conversion_therapy_under_way", '"true"'] == ("'conversion_therapy_under_way' is true or false, "
                                                              "not 'true'")
    assert said["chemoradiation_end", '"20240301"'] == "'chemoradiation_end' is a date (YYYY-MM-DD), not '20240301'"
    assert said["chemoradiation_end", '"2024-02-30"'] == "'chemoradiation_end': '2024-02-30' is not a calendar date"
    assert said["chemoradiation_end", '"2024-3-1"'] == "'chemoradiation_end' is a date (YYYY-MM-DD), not '2024-3-1'"
    assert said["kras", '"1"'] == "'1' is not a value of 'kras'; expected one of {wild_type, mutant}"
    assert said["future_liver_remnant", '"31 %"'] is None and said["hepatectomy_segments", "1e-18"] == (
        "'hepatectomy_segments' is a whole number, not 0.000000000000000001")


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
    assert sum("error" in r for r in runs[0][1]) >= len(CSV_CELLS) - 11  # (11 cells are well-formed)
    said = {cell: row.get("error") for cell, row in zip(CSV_CELLS, runs[0][1], strict=True)}
    assert said["chemoradiation_end", "2024-02-30"] == "'chemoradiation_end': '2024-02-30' is not a calendar date"


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


def test_a_parquet_column_of_text_is_read_as_json_strings_are(tmp_path, spark):
    """A number, a yes-no or a date in a text column is refused as a JSON string is ("3" is not
    3), a quantity with its unit is read; a number column for an enum is refused; a DOUBLE column
    for a whole number reads 3.0 and refuses 3.5: in every engine, in Python's words."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    kb = consilium.load_kb(KB)
    cells = [("hepatectomy_segments", "3"), ("hepatectomy_segments", "4 segments"), ("future_liver_remnant", "31 %"),
             ("future_liver_remnant", "31"), ("conversion_therapy_under_way", "true"),
             ("chemoradiation_end", "20240301"), ("chemoradiation_end", "2024-03-01"), ("peritoneal_pci", 3.0),
             ("peritoneal_pci", 3.5), ("metastases_timing", 1), ("kras", None)]
    types = {"hepatectomy_segments": pa.string(), "future_liver_remnant": pa.string(),
             "conversion_therapy_under_way": pa.string(), "chemoradiation_end": pa.string(),
             "peritoneal_pci": pa.float64(), "metastases_timing": pa.int64()}
    columns = {name: pa.array([value if fact == name else None for fact, value in cells], kind)
               for name, kind in types.items()}
    columns["kras"] = pa.array(["wild_type"] * len(cells))
    cohort = tmp_path / "cohort.parquet"
    pq.write_table(pa.table(columns), cohort)
    runs = _runs(kb, cohort, tmp_path, spark)
    found = _differences(cells, runs, {})
    assert not found, "\n".join(found)
    python = runs[0][1]
    assert [bool(r.get("error")) for r in python] == [True, False, False, True, True, True, False, False, True,
                                                      True, False]
    assert python[3]["error"] == "'future_liver_remnant' is a number, not the text '31'"
    assert python[9]["error"] == "'metastases_timing' is one of {synchronous, metachronous}, not 1"


def test_odd_json_cells_read_line_by_line_in_duckdb_as_in_python(tmp_path):
    """A file with a blank line is read line by line by DuckDB (json_extract, not its bulk reader):
    the same rows and the same words as Python's, for every odd cell."""
    kb = consilium.load_kb(KB)
    cohort = tmp_path / "cohort.jsonl"
    cohort.write_text("\n" + "".join(json.dumps({**BASE, fact: value}) + "\n" for fact, value in JSON_CELLS))
    run_cohort(kb, None, cohort, tmp_path / "python.jsonl", jobs=1)
    run_duckdb(kb, cohort, tmp_path / "duckdb.jsonl")
    runs = [(engine, cohort_rows(tmp_path / f"{engine}.jsonl")) for engine in ("python", "duckdb")]
    found = _differences(JSON_CELLS, runs, SAID_OTHERWISE)
    assert not found, "\n".join(found)
    assert runs[0][1][0]["row"] == 2 and sum("error" in r for r in runs[0][1]) > len(JSON_CELLS) // 2


# lines that are not a JSON object of facts, or give a key twice, or a number JSON has not: each
# its row's error in Python's words, in every engine (the parser's detail, which SQL cannot give,
# left out of Python's too)
ODD_LINES = [
    '{"kras": "mutant", "kras": "wild_type"}', '{"kras": "mutant", "hepatectomy_segments": 2, "kras": "mutant"}',
    '{"kras": "mutant", "hepatectomy_segments": 2, "hepatectomy_segments": 2}',
    '{"note": "\\"kras\\": \\"kras\\"", "kras": "mutant"}',  # the name twice, inside a string: no error
    '{"kras": "mutant", broken', '{"hepatectomy_segments": NaN}', '{"future_liver_remnant": -Infinity, "kras": 1}',
    '{"future_liver_remnant": Infinity}', '{"kras": NaN}', '{"metastatic_sites": NaN}',
    '{"chemoradiation_end": Infinity}', '{"conversion_therapy_under_way": NaN}', '{"kras": "mutant"}',
]
NOT_OBJECTS = ['not json', '[1, 2]', '"text"', '3', '{"kras": "mutant"} trailing']
ODD_WORDS = ["the fact 'kras' is given twice", "the fact 'kras' is given twice",
             "the fact 'hepatectomy_segments' is given twice", None, "not valid JSON",
             "not valid JSON: NaN is not a JSON number", "not valid JSON: -Infinity is not a JSON number",
             "not valid JSON: Infinity is not a JSON number", "not valid JSON: NaN is not a JSON number",
             "not valid JSON: NaN is not a JSON number", "not valid JSON: Infinity is not a JSON number",
             "not valid JSON: NaN is not a JSON number", None,
             "not valid JSON", "not a mapping of fact names to values", "not a mapping of fact names to values",
             "not a mapping of fact names to values", "not valid JSON"]


def test_odd_lines_are_the_same_row_errors_in_every_engine(tmp_path, spark):
    kb = consilium.load_kb(KB)
    cohort = tmp_path / "cohort.jsonl"
    cohort.write_text("\n".join(ODD_LINES + NOT_OBJECTS) + "\n")  # read line by line by DuckDB
    runs = _runs(kb, cohort, tmp_path, spark)
    (_, python), *others = runs
    assert [r.get("error") for r in python] == ODD_WORDS
    for engine, rows in others:
        assert rows == python, engine


def test_odd_lines_read_by_duckdbs_json_reader_are_pythons_row_errors(tmp_path):
    """A file whose every line opens with '{' is read by DuckDB's JSON reader, which stops at a
    key given twice or a line that is not JSON and reads the file again, tolerantly: the same words
    (a key given twice in a file that also holds a line that is not JSON: the README's difference)."""
    kb = consilium.load_kb(KB)
    for lines in (ODD_LINES[:4] + ODD_LINES[5:], ODD_LINES[:1] + ODD_LINES[-1:], ODD_LINES[4:]):
        cohort = tmp_path / "cohort.jsonl"
        cohort.write_text("\n".join(lines) + "\n")
        run_cohort(kb, None, cohort, tmp_path / "python.jsonl", jobs=1)
        run_duckdb(kb, cohort, tmp_path / "duckdb.jsonl")
        python = cohort_rows(tmp_path / "python.jsonl")
        assert cohort_rows(tmp_path / "duckdb.jsonl") == python
        assert python[0].get("error") == ODD_WORDS[ODD_LINES.index(lines[0])]


def test_an_empty_csv_file_is_an_empty_cohort_in_every_engine(tmp_path, spark, capsys):
    """0 bytes: no row and no word of missing columns (a header that names no fact is still said)."""
    kb = consilium.load_kb(KB)
    cohort = tmp_path / "cohort.csv"
    cohort.write_bytes(b"")
    runs = _runs(kb, cohort, tmp_path, spark)
    assert [rows for _, rows in runs] == [[], [], []]
    assert "no column for" not in capsys.readouterr().err
    cohort.write_text("colour\nred\n")
    run_duckdb(kb, cohort, tmp_path / "duckdb.jsonl")
    assert "no column for" in capsys.readouterr().err


# ---- durations --------------------------------------------------------------------------------
# (fact, text) of tests/data/durations: every form values.parse_duration reads, in any case and
# spacing, and what it refuses; `wait` decides on thresholds and moves `start`, `interval` has a range
DURATION_TEXTS = [
    "6 weeks", "42 days", "2 months", "1 year", "1 year 2 months", "2 months 10 days", "P1Y", "P2M10D", "P6W",
    "PT48H", "P1Y2M3W4DT48H0M0S", "P14MT72H", "PT86400S", "PT86400.000S", "PT1440M", "P1M2W3D", "P0D", "PT0S",
    "0 days", "0 Months 0 DAYS", "1 Year", "3 DAYS", "2 mOnThS", " 3 days ", "\t1\tday", "1year", "1year2months3days",
    "14 months 5 days", "1 day 1 day", "  2 weeks\t3 day  1 month ", "1 Month 1 YEAR 1 week", "83333333333333 years",
    "999999999999999 days", "999999999999999 weeks", "0000000000000000001 days", "P999999999999999D",
    "\u0663 days", "3\u00a0days", "3\u2003weeks\u3000", "\u00a0P1D\u2028", "P1Y\n", "1 week\n2 days",
    "1 day " * 300, "1 month 12 days", "12 months 60 days",  # (decisions that depend on the date: unknown)
    # refused, in Python's words
    "P", "PT", "P1DT", "PT1H", "PT86400,5S", "PT0.5S", "P1.5D", "1 year -2 months", "2 months and 3 days", "-1 days",
    "+1 days", "1.5 days", "1e3 days", "1 dayss", "1 day2", "1 2 days", "1 yr", "12 parsecs", "p1d", "P1D1W",
    "1 da\u017f", "x" * 100, " ", "?",
]
# beyond what the SQL engines hold: their row error says so, where Python reads the cell
DURATION_LIMITS = {text: (f"'wait' is '{text}': more digits than the SQL engines hold exactly (15 in an amount; "
                          "in all, 15 in months and 16 in days); evaluate this cohort with --engine python")
                   for text in ("9999999999999999 days", "999999999999999 years", "P999999999999999Y",
                                "PT" + "9" * 40 + "S")}
INTERVAL_TEXTS = ["30 months", "2 years", "2 years 1 day", "P2Y", "0 days", "P1M", "1 month", "-1 months", "P25M",
                  "730 days", "731 days", "28 days", "30 days"]
DURATIONS = DATA / "durations"


def _duration_rows(cells, python, runs, said_otherwise=DURATION_LIMITS) -> list[str]:
    found = []
    for engine, rows in runs[1:]:
        assert [r["row"] for r in rows] == [r["row"] for r in python], engine
        for cell, a, b in zip(cells, python, rows, strict=True):
            if cell[0] == "wait" and isinstance(cell[1], str) and cell[1] in said_otherwise:
                if b.get("error") != said_otherwise[cell[1]]:
                    found.append(f"{engine} {cell!r}: the documented limit changed: {b.get('error', b)}")
            elif a != b:
                found.append(f"{engine} {cell!r}:\n  python {a.get('error', a)}\n  {engine} {b.get('error', b)}")
    return found


def test_durations_in_every_form_are_read_alike_from_json_csv_and_parquet(tmp_path, spark):
    """Every duration Python reads is read by DuckDB and Spark to the same decisions (thresholds in
    days, weeks, months and years, a date moved by it, a range), every one it refuses is the row's
    error in its words, from JSON Lines, CSV and a Parquet column of text; and a JSON number, list,
    mapping or yes-no is no duration."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    kb = consilium.load_kb(DURATIONS)
    cells = [("wait", t) for t in DURATION_TEXTS + list(DURATION_LIMITS)] + [("interval", t) for t in INTERVAL_TEXTS]
    base = {"start": "2025-01-31"}
    json_cells = cells + [("wait", v) for v in (42, 1.5, True, [1], {"days": 3}, "", None)]
    cohort = tmp_path / "cohort.jsonl"
    cohort.write_text("".join(json.dumps({**base, fact: value}) + "\n" for fact, value in json_cells))
    runs = _runs(kb, cohort, tmp_path, spark)
    python = runs[0][1]
    found = _duration_rows(json_cells, python, runs)
    said = {cell[1]: row for cell, row in zip(json_cells, python, strict=True) if cell[0] == "wait"
            and isinstance(cell[1], str)}
    # not vacuous: the forms decide as the durations they are, the refused are Python's words
    assert "fourteen_months" in said["1 year 2 months"]["recommendations"]
    assert "under_ten_days" in said["PT48H"]["recommendations"] and "year_or_more" in said["1year"]["recommendations"]
    assert said["\u0663 days"]["recommendations"] == said["3 DAYS"]["recommendations"]
    assert said["P"]["error"] == ("'wait': 'P' is not a duration; write it like '6 weeks', '42 days', '2 months', "
                                  "'1 year' … (97 characters)")
    assert said["PT1H"]["error"].startswith("'wait': 'PT1H' is not a whole number of days; durations are counted")
    assert python[len(cells)]["error"] == "'wait' is a duration, not 42"
    assert python[cells.index(("interval", "30 months"))]["error"] == (
        "'interval' is 30 months, outside its range [0 days .. 2 years]")
    assert sum("error" not in said[t] for t in DURATION_TEXTS) == DURATION_TEXTS.index("P")
    # a comparison that depends on the date is unknown (1 month 12 days against 6 weeks: 40 to 43 days;
    # 731 days against 2 years: inside only on some dates, refused)
    assert not {"over_six_weeks", "six_weeks_or_less"} & set(said["1 month 12 days"]["recommendations"])
    assert not {"fourteen_months", "not_fourteen_months"} & set(said["12 months 60 days"]["recommendations"])
    assert python[cells.index(("interval", "731 days"))]["error"].startswith("'interval' is 731 days, outside")
    assert "error" not in python[cells.index(("interval", "730 days"))]
    # CSV (a cell's spaces at its ends are no part of it) and a Parquet column of text
    text_cells = [cell for cell in cells if cell[1].strip()]
    csv_cohort = tmp_path / "cohort.csv"
    with csv_cohort.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["start", "wait", "interval"])
        writer.writeheader()
        for fact, text in text_cells:
            writer.writerow({"start": base["start"], "wait": "", "interval": ""} | {fact: text})
    parquet = tmp_path / "cohort.parquet"
    pq.write_table(pa.table({"start": [base["start"]] * len(text_cells),
                             **{name: pa.array([t if f == name else None for f, t in text_cells], pa.string())
                                for name in ("wait", "interval")}}), parquet)
    for path in (csv_cohort, parquet):
        runs = _runs(kb, path, tmp_path, spark)
        found += _duration_rows(text_cells, runs[0][1], runs)
        assert [r.get("error") for r in runs[0][1]] == [said.get(t, {}).get("error") if f == "wait" else
                                                        r.get("error") for (f, t), r in zip(text_cells, runs[0][1],
                                                                                            strict=True)]
    assert not found, "\n".join(found)


def test_a_duration_cell_is_read_as_python_s_months_and_days(spark):
    """The staged columns themselves: each engine's days and months of a cell are parse_duration's,
    or it gives none and says why in the same words (JSON text and CSV cells)."""
    import duckdb
    from sqlglot import exp

    from consilium.engine.inputs.sql_stage import Stage
    from consilium.engine.lang.fact_values import validate_case
    kb = consilium.load_kb(DURATIONS)
    texts = DURATION_TEXTS + list(DURATION_LIMITS)

    def python(text: str):
        case, diagnostics = validate_case({"wait": text}, kb.facts)
        if diagnostics:
            return None, None, diagnostics[0].message
        return case["wait"].days, case["wait"].months, None
    connection = duckdb.connect()
    for kind in ("value", "csv"):
        cells = [json.dumps(t) for t in texts] if kind == "value" else texts
        data = [(i + 1, None, c) for i, c in enumerate(cells)]
        for dialect in ("duckdb", "spark"):
            query = Stage(kb.facts, dialect, kind).query(exp.to_table("raw"), ["wait"]).sql(dialect=dialect,
                                                                                           identify=True)
            columns = 'select "row", "wait", "wait__months", "wait__error" from ({}) order by "row"'
            if dialect == "duckdb":
                connection.execute("create or replace table raw (row bigint, error varchar, wait varchar)")
                connection.executemany("insert into raw values (?, ?, ?)", data)
                rows = connection.execute(columns.format(query)).fetchall()
            else:
                spark.createDataFrame(data, "row bigint, error string, wait string").createOrReplaceTempView("raw")
                rows = [tuple(r) for r in spark.sql(columns.replace('"', "`").format(query)).collect()]
            for text, (_, days, months, error) in zip(texts, rows, strict=True):
                if kind == "csv" and not text.strip(" \t\n\r\x0b\x0c"):
                    continue  # (an empty CSV cell is unknown)
                want = python(text) if text not in DURATION_LIMITS else (None, None, DURATION_LIMITS[text])
                got = (days, None if days is None else months, error)
                assert got == want, (dialect, kind, text)


def test_durations_compare_from_every_date_in_sql_as_in_python(spark):
    """k months against d days, for k across the 400-year cycle and beyond (negative too) and d
    around the days k months span: each engine's test is values.compare_durations' (TRUE, FALSE or
    unknown), for every operator; and the lowering's table is values.month_span."""
    import random

    import duckdb
    from sqlglot import exp

    from consilium.engine.evaluation.sql_months import compare, spans
    from consilium.engine.lang.values import Duration, compare_durations, month_span
    table = spans()
    for r in range(0, 4800, 7):
        fewest, most = month_span(r)
        code = ord(table[r]) - 48
        assert (fewest, most) == (r * 146097 // 4800 - code // 7, r * 146097 // 4800 - code // 7 + code % 7), r
    rng = random.Random(15)
    pairs = []
    for _ in range(400):
        k = rng.choice([rng.randint(-30, 30), rng.randint(-9600, 9600), rng.randint(-10 ** 12, 10 ** 12)])
        fewest, most = month_span(k)
        pairs.append((k, rng.randint(0, 120), rng.randint(fewest - 2, most + 2)))
    ops = ["<", "<=", ">", ">=", "=", "!="]
    columns = [exp.alias_(compare(op, (exp.column("am"), exp.column("ad")), (exp.column("bm"), exp.column("bd"))),
                          f"c{i}") for i, op in enumerate(ops)]
    # a = (k + m months, d0 days), b = (m months, d0 + delta days): k months against delta days
    rows = [(k + m, d0, m, d0 + delta) for (k, d0, delta), m in zip(pairs, (rng.randint(0, 50) for _ in pairs),
                                                                    strict=False)]
    want = [tuple(compare_durations(op, Duration(am, ad), Duration(bm, bd)) for op in ops) for am, ad, bm, bd in rows]
    connection = duckdb.connect()
    connection.execute("create table t (am bigint, ad bigint, bm bigint, bd bigint, i bigint)")
    connection.executemany("insert into t values (?, ?, ?, ?, ?)", [(*r, i) for i, r in enumerate(rows)])
    query = exp.select(*columns).from_("t").order_by("i")
    assert connection.execute(query.sql("duckdb")).fetchall() == want
    spark.createDataFrame([(*r, i) for i, r in enumerate(rows)], "am long, ad long, bm long, bd long, i long") \
        .createOrReplaceTempView("t")
    assert [tuple(r) for r in spark.sql(query.sql("spark")).collect()] == want
    assert {v for row in want for v in row} == {True, False, None}  # (not vacuous)
