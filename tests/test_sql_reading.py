"""How the DuckDB engine reads a JSON Lines cohort: first the quick way a well-formed file allows, and
again, tolerantly, only when DuckDB's reader stops at a line that is not JSON; enum values as DuckDB
ENUMs, a value not listed said in the lowering's words. Either way, the Python cohort's rows."""

from __future__ import annotations

import json
import random

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
