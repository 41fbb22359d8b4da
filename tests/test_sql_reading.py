"""How the DuckDB engine reads a JSON Lines cohort: first the quick way a well-formed file allows, and
again, tolerantly, only when DuckDB's reader stops at a line that is not JSON; enum values as DuckDB
ENUMs, a value not listed said in the lowering's words. Either way, the Python cohort's rows."""

from __future__ import annotations

import json
import random

import duckdb
import pytest

import consilium
from casegen import as_written, random_case
from conftest import ROOT, cohort_rows
from consilium.engine.inputs import cohort_sql
from consilium.engine.inputs.cohort import run_cohort
from consilium.engine.inputs.cohort_sql import run_duckdb

DECISION = ROOT / "bench" / "decision"


def _lines(kb, count: int) -> list[str]:
    rng = random.Random(count)
    return [json.dumps({k: as_written(v) for k, v in random_case(kb.facts, rng).items()}) for _ in range(count)]


@pytest.mark.parametrize("where", ["none", "first", "middle", "last"])
def test_a_line_that_is_not_json_anywhere_gives_the_python_cohorts_rows(tmp_path, where, monkeypatch):
    kb = consilium.load_kb(DECISION)
    lines = _lines(kb, 3000)
    at = {"none": None, "first": 0, "middle": 1500, "last": len(lines) - 1}[where]
    if at is not None:
        lines[at] = '{"kras": "mutant", broken'
    cohort = tmp_path / "cohort.jsonl"
    cohort.write_text("\n".join(lines) + "\n")
    readings: list[bool] = []
    quick = cohort_sql._json_fields
    monkeypatch.setattr(cohort_sql, "_json_fields", lambda kb, path, tolerant, *said: readings.append(tolerant)
                        or quick(kb, path, tolerant, *said))
    run_cohort(kb, str(DECISION), cohort, tmp_path / "python.jsonl", jobs=1)
    run_duckdb(kb, cohort, tmp_path / "duckdb.parquet")
    run_duckdb(kb, cohort, tmp_path / "duckdb.jsonl")
    python = cohort_rows(tmp_path / "python.jsonl")
    duckdb = cohort_rows(tmp_path / "duckdb.jsonl")
    assert len(duckdb) == len(python) == 3000
    for a, b in zip(python, duckdb, strict=True):
        if "error" in a:  # Python names the JSON parser's complaint
            assert b["row"] == a["row"] == at + 1 and b["error"].startswith("not valid JSON")
        else:
            assert a == b
    # the quick reading alone for a well-formed file; read again, tolerantly, only after a line that is not
    # JSON stopped it (a file) or before anything was written (standard output: rows cannot be taken back)
    assert readings == [False, True, False, True] if at is not None else readings == [False, False]


def test_an_enum_value_not_listed_is_the_rows_error_in_the_lowerings_words(tmp_path):
    kb = consilium.load_kb(DECISION)
    cases = [{"kras": "no_such_value"}, {"kras": 3}, {"kras": "Mutant", "primary_symptomatic": "none"},
             {"kras": "mutant", "primary_symptomatic": " none"}, {"kras": "unknown"}]
    cohort = tmp_path / "cohort.jsonl"
    cohort.write_text("".join(json.dumps(c) + "\n" for c in cases))
    table = tmp_path / "cohort.csv"
    table.write_text("kras,primary_symptomatic\nno_such_value,\nwild_type,obstruction\nMutant,none\n")
    for source in (cohort, table):
        run_cohort(kb, str(DECISION), source, tmp_path / "python.jsonl", jobs=1)
        run_duckdb(kb, source, tmp_path / "duckdb.jsonl")
        python, duckdb = cohort_rows(tmp_path / "python.jsonl"), cohort_rows(tmp_path / "duckdb.jsonl")
        assert python == duckdb
        assert duckdb[0]["error"] == ("'no_such_value' is not a value of 'kras'; expected one of "
                                      "{wild_type, mutant, unknown}")
        assert duckdb[2]["error"].startswith("'Mutant' is not a value of 'kras'")
        assert duckdb[1].get("recommendations") == (None if source == cohort else ["anti_egfr"])


# a fact given twice, written every way JSON allows: each line its row's error in Python's words
TWICE = ['{"kras": "wild_type", "kras": "mutant"}', '{"kras" : "mutant", "kras" : "wild_type"}',
         '{"kras":"mutant","hepatectomy_segments":2,"kras":"mutant"}', '{"kras": null, "kras": "mutant"}',
         '{"note": "a: b", "kras": "mutant", "note": 1}', '{"kras": "mutant", "note": {"a": 1}}',
         '{"kras": "mutant"}']
TWICE_WORDS = ["the fact 'kras' is given twice"] * 4 + ["the fact 'note' is given twice", None, None]


def _stdout_rows(text: str) -> list[dict]:
    return [{k: v for k, v in json.loads(line).items() if v is not None} for line in text.splitlines()]


@pytest.mark.parametrize("layout", ["objects", "not-json", "blank"])
def test_a_fact_given_twice_is_the_rows_error_on_every_path(tmp_path, layout, capsys):
    """DuckDB's JSON reader keeps a key's first value when it reads tolerantly (a file that also holds
    a line that is not JSON, or any file whose rows go to standard output): the line is the Python
    cohort's row error all the same, to a file, to Parquet and to standard output; so in a file read
    line by line (a blank line)."""
    kb = consilium.load_kb(DECISION)
    lines = _lines(kb, 200)
    for i, line in enumerate(TWICE):
        lines[20 * i + 3] = line
    if layout == "not-json":
        lines[150] = '{"kras": "mutant", broken'
    text = "\n".join(lines) + "\n"
    cohort = tmp_path / "cohort.jsonl"
    cohort.write_text("\n" + text if layout == "blank" else text)
    run_cohort(kb, str(DECISION), cohort, tmp_path / "python.jsonl", jobs=1)
    python = cohort_rows(tmp_path / "python.jsonl")
    assert [python[20 * i + 3].get("error") for i in range(len(TWICE))] == TWICE_WORDS
    run_duckdb(kb, cohort, tmp_path / "duckdb.jsonl")
    run_duckdb(kb, cohort, tmp_path / "duckdb.parquet")
    run_duckdb(kb, cohort, tmp_path / "duckdb.csv")
    capsys.readouterr()
    run_duckdb(kb, cohort, None)
    out = _stdout_rows(capsys.readouterr().out)
    read = duckdb.sql(f"SELECT * FROM '{tmp_path / 'duckdb.parquet'}'")
    parquet = [{k: v for k, v in zip(read.columns, r, strict=True) if v is not None} for r in read.fetchall()]
    csv_errors = [e for (e,) in duckdb.sql(f"SELECT error FROM read_csv('{tmp_path / 'duckdb.csv'}', "
                                           "all_varchar = true) ORDER BY CAST(row AS BIGINT)").fetchall()]
    assert cohort_rows(tmp_path / "duckdb.jsonl") == out == python
    assert [r["row"] for r in parquet] == [r["row"] for r in python]
    assert [r.get("error") for r in parquet] == [r.get("error") for r in python] == csv_errors


@pytest.mark.parametrize("odd", [b'{"kras": "mutant", "note": "\xc3\xa9"}', b'{"kras": "mutant", "note": "\xff"}'],
                         ids=["utf8", "latin1"])
def test_a_line_that_is_not_json_is_worded_by_whether_the_file_is_utf8(tmp_path, odd):
    """DuckDB's JSON reader does not tell a byte that is not UTF-8 from a line that is not JSON: in a
    file holding such a byte, both say so (the file read once for both questions, cohort_sql.py)."""
    kb = consilium.load_kb(DECISION)
    cohort = tmp_path / "cohort.jsonl"
    cohort.write_bytes(b"\n".join([b'{"kras": "mutant"}', odd, b'{broken', b'{"kras": "wild_type"}']) + b"\n")
    run_duckdb(kb, cohort, tmp_path / "duckdb.jsonl")
    errors = [r.get("error") for r in cohort_rows(tmp_path / "duckdb.jsonl")]
    said = "not valid JSON (or not UTF-8 text)"
    assert errors == ([None, None, "not valid JSON", None] if b"\xc3" in odd else [None, said, said, None])
