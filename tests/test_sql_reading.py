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


# files holding bytes that are not UTF-8, as they come: DuckDB's readers stop at such a byte
GOOD, OTHER = b'{"kras": "mutant"}', b'{"kras": "wild_type", "primary_symptomatic": "none"}'
BAD = b'{"kras": "wild_type", "x": "\xff"}'
NOT_UTF8 = {
    "blank-line": b"\n".join([GOOD, b"", BAD, GOOD]) + b"\n",
    "no-blank-line": b"\n".join([GOOD, BAD, OTHER, b"{broken", GOOD]) + b"\n",
    "crlf": b"\r\n".join([GOOD, b"", BAD, OTHER, b"  ", GOOD]) + b"\r\n",
    "lone-cr": b"\r".join([GOOD, BAD, b"", OTHER]) + b"\r",
    "no-final-newline": b"\n".join([GOOD, b"", OTHER, BAD]),
    "in-a-key": b"\n".join([GOOD, b'{"kr\xe9s": "mutant", "kras": "mutant"}', OTHER]) + b"\n",
    "first-line": b"\n".join([b'{"kras": "\xc3(", "x": 1}', GOOD, b"", OTHER]) + b"\n",
    "cut-short": b"\n".join([GOOD, b'{"kras": "mutant", "note": "caf\xc3"}', b"\xff", OTHER]) + b"\n",
    "a-mark": b"\n".join([b"\x02" + GOOD, BAD, b"\x02not UTF-8", OTHER, b'{"kras": "\xc3\xa9"}']) + b"\n",
    "byte-order-mark": b"\n".join([b"\xef\xbb\xbf" + BAD, OTHER, b""]) + b"\n",
}


@pytest.mark.parametrize("name", sorted(NOT_UTF8))
def test_a_line_that_is_not_utf8_is_its_rows_error_in_pythons_words_on_every_path(tmp_path, name, capsys):
    """A line holding a byte that is not UTF-8 is its row's error, in the Python cohort's words (the
    byte and its column), with the Python cohort's row numbers, and the rows after it are decided:
    to JSON Lines, Parquet, CSV and standard output, whether DuckDB reads the file in bulk (every
    line an object) or line by line (a blank line, CR line ends), and nothing of DuckDB's own words
    reaches the user."""
    kb = consilium.load_kb(DECISION)
    cohort = tmp_path / "cohort.jsonl"
    cohort.write_bytes(NOT_UTF8[name])
    run_cohort(kb, str(DECISION), cohort, tmp_path / "python.jsonl", jobs=1)
    python = cohort_rows(tmp_path / "python.jsonl")
    assert any("is not UTF-8 text: byte 0x" in r.get("error", "") for r in python)
    assert any("error" not in r for r in python)
    capsys.readouterr()
    for output in ("duckdb.jsonl", "duckdb.parquet", "duckdb.csv"):
        run_duckdb(kb, cohort, tmp_path / output)
    run_duckdb(kb, cohort, None)
    captured = capsys.readouterr()
    assert "DuckDB" not in captured.err and "CSV Error" not in captured.err
    assert cohort_rows(tmp_path / "duckdb.jsonl") == _stdout_rows(captured.out) == python
    read = duckdb.sql(f"SELECT \"row\", error FROM '{tmp_path / 'duckdb.parquet'}'").fetchall()
    table = duckdb.sql(f"SELECT CAST(\"row\" AS BIGINT), error FROM read_csv('{tmp_path / 'duckdb.csv'}', "
                       "all_varchar = true)").fetchall()
    assert read == table == [(r["row"], r.get("error")) for r in python]


def test_a_file_without_a_byte_that_is_not_utf8_is_read_as_it_is(tmp_path, monkeypatch):
    """Only a file holding such a byte is copied (cohort_sql.py's `_utf8_copy`) before DuckDB reads it;
    in a file read as it is, a line opening with the copy's mark is the user's text (not valid JSON)."""
    kb = consilium.load_kb(DECISION)
    copies: list[str] = []
    copy = cohort_sql._utf8_copy
    monkeypatch.setattr(cohort_sql, "_utf8_copy", lambda cohort, scratch: copies.append(cohort.name)
                        or copy(cohort, scratch))
    for name, text in (("plain.jsonl", b"\n".join([GOOD, b"", OTHER, b'{"kras": "\xc3\xa9"}', b"\x02words"]) + b"\n"),
                       ("objects.jsonl", b"\n".join([GOOD, OTHER]) + b"\n"), ("odd.jsonl", NOT_UTF8["crlf"])):
        (tmp_path / name).write_bytes(text)
        run_cohort(kb, str(DECISION), tmp_path / name, tmp_path / "python.jsonl", jobs=1)
        run_duckdb(kb, tmp_path / name, tmp_path / "duckdb.jsonl")
        assert cohort_rows(tmp_path / "duckdb.jsonl") == cohort_rows(tmp_path / "python.jsonl"), name
    assert copies == ["odd.jsonl"]


# white space as Python's `str.strip` sees it, around and instead of a line, and a line of 3 MB
_GOOD = '{"kras": "mutant"}'
ODD_LINES = ["\t", "\u3000", "\u00a0", "\x0c", "\x1c", "\t" + _GOOD, _GOOD + "\t", " " + _GOOD + " ",
             "\u3000" + _GOOD, _GOOD + "\u3000", '{"kras": "wild_type", "note": "' + "y" * 3_000_000 + '"}', _GOOD]


@pytest.mark.parametrize("layout", ["blank", "not-json"])
def test_white_space_and_a_long_line_give_the_python_cohorts_rows(tmp_path, layout, capsys):
    """A line of only white space (a tab, a no-break space, U+3000) is blank, as Python's `strip`
    says, not "not valid JSON"; JSON's own spaces around an object do not spoil it, other white
    space does; a line of 3 MB is read, where DuckDB's line reader stopped the run at 2 MB
    ("CSV Error on Line: N"), read line by line (a blank line) or tolerantly (a line not JSON)."""
    kb = consilium.load_kb(DECISION)
    cohort = tmp_path / "cohort.jsonl"
    lines = [_GOOD, "" if layout == "blank" else "{broken", *ODD_LINES]
    cohort.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run_cohort(kb, str(DECISION), cohort, tmp_path / "python.jsonl", jobs=1)
    python = cohort_rows(tmp_path / "python.jsonl")
    assert [r["row"] for r in python if "error" not in r] == [1, 8, 9, 10, 13, 14] and len(python) == 8 + (
        layout == "not-json")
    capsys.readouterr()
    run_duckdb(kb, cohort, tmp_path / "duckdb.jsonl")
    assert "CSV Error" not in capsys.readouterr().err
    assert cohort_rows(tmp_path / "duckdb.jsonl") == python
