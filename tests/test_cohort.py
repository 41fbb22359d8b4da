"""Cohorts: JSON Lines, CSV and Parquet in and out, one row per case, bad rows reported and counted."""

from __future__ import annotations

import csv
import json

import pytest

from conftest import KB, ROOT, run_cli, run_process

from consilium import load_kb

CASES = [
    {"metastatic_sites": ["liver"], "complete_resection_feasible": True, "primary_r0_resectable": True,
     "primary_status": "in_place", "future_liver_remnant": 45, "hepatectomy_segments": 2},
    {"metastatic_sites": ["peritoneum"], "peritoneal_pci": 8, "systemic_disease": False, "peritoneal_p_category": "P1"},
    {"hepatectomy_segments": 12},
    {"metastatic_sites": ["lung"], "lung_metastases_resectable": False},
]


def write_jsonl(path):
    lines = [json.dumps(c) for c in CASES[:2]] + ["{not json"] + [json.dumps(c) for c in CASES[2:]]
    path.write_text("\n".join(lines) + "\n")
    return path


def check_rows(rows):
    assert [r["row"] for r in rows] == [1, 2, 3, 4, 5]
    assert "simultaneous_surgery" in rows[0]["recommendations"] and "simultaneous_surgery" in rows[0]["SUMMARY"]
    assert "nccn_liver_resectable" in rows[0]["NCCN"] and "esmo_upfront_resection" in rows[0]["ESMO"]
    assert set(rows[1]["JSCCR"]) == {"jsccr_p1_resection"} and rows[1]["ESMO"] == ["esmo_cytoreductive_surgery"]
    assert "not valid JSON" in rows[2]["error"]
    assert "outside its range" in rows[3]["error"]
    assert rows[4]["NCCN"] == ["nccn_lung_unresectable"] and "oligometastatic_disease" in rows[4]["needs"]


@pytest.mark.parametrize("jobs", [1, 2])
def test_jsonl_to_jsonl(tmp_path, jobs):
    run = run_process("eval", KB, "--cohort", write_jsonl(tmp_path / "cases.jsonl"), "-o", tmp_path / "out.jsonl",
                      "--jobs", jobs)
    assert run.code == 1  # some rows had errors
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    check_rows(rows)
    assert "cases.jsonl:3: error: not valid JSON" in run.err and "cases.jsonl:4: error:" in run.err
    assert "5 cases in" in run.err and "2 with errors" in run.err
    assert "Traceback" not in run.err


def test_csv_in_and_out(tmp_path):
    facts = sorted({k for c in CASES for k in c})
    with (tmp_path / "cases.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=facts)
        writer.writeheader()
        for case in CASES[:2] + [{"future_liver_remnant": "lots"}] + CASES[2:] + [{"metastatic_sites": "liver;lung"}]:
            writer.writerow({k: ("|".join(v) if isinstance(v, list) else
                                 (str(v).lower() if isinstance(v, bool) else v)) for k, v in case.items()})
    run = run_process("eval", KB, "--cohort", tmp_path / "cases.csv", "-o", tmp_path / "out.csv")
    with (tmp_path / "out.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["row"] for r in rows] == ["2", "3", "4", "5", "6", "7"]  # CSV lines, after the header
    assert "simultaneous_surgery" in rows[0]["SUMMARY"].split("|")
    assert "'future_liver_remnant' is a number in %" in rows[2]["error"]
    assert "(in CSV, a set's values are separated by '|', as in liver|lung)" in rows[5]["error"]
    assert "separated by" not in rows[2]["error"]
    assert "cases.csv:4: error:" in run.err


def test_parquet_in_and_out(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq
    columns = sorted({k for c in CASES for k in c})
    table = pa.Table.from_pylist([{k: c.get(k) for k in columns} for c in CASES])
    pq.write_table(table, tmp_path / "cases.parquet")
    run = run_process("eval", KB, "--cohort", tmp_path / "cases.parquet", "-o", tmp_path / "out.parquet")
    rows = pq.read_table(tmp_path / "out.parquet").to_pylist()
    assert [r["row"] for r in rows] == [1, 2, 3, 4]
    assert "simultaneous_surgery" in rows[0]["SUMMARY"] and rows[2]["error"] and rows[3]["error"] is None
    assert "1 with errors" in run.err


def test_default_output_is_jsonl_on_stdout(tmp_path):
    run = run_process("eval", KB, "--cohort", write_jsonl(tmp_path / "cases.jsonl"))
    check_rows([json.loads(line) for line in run.out.splitlines()])


def test_cohort_usage_errors(tmp_path):
    assert run_process("eval", "--cohort", tmp_path / "missing.jsonl").code == 2
    (tmp_path / "cases.txt").write_text("{}\n")
    bad = run_process("eval", "--cohort", tmp_path / "cases.txt")
    assert bad.code == 2 and "a cohort is a .jsonl, .csv or .parquet file" in bad.err


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_an_output_of_no_known_kind_is_named_as_the_output(tmp_path, engine):
    # `-o rows` (a folder, or a name without .jsonl/.csv/.parquet): the output is at fault, not the cohort
    (tmp_path / "rows").mkdir()
    cases = write_jsonl(tmp_path / "cases.jsonl")
    folder = run_cli("eval", KB, "--cohort", cases, "--engine", engine, "-o", tmp_path / "rows")
    assert folder.code == 2 and f"'{tmp_path / 'rows'}' is a folder, and -o names the file to write: give the " \
        f"file's name in that folder, e.g. '{tmp_path / 'rows' / 'rows.jsonl'}'" in folder.err, folder.err
    text = run_cli("eval", KB, "--cohort", cases, "--engine", engine, "-o", tmp_path / "rows.txt")
    assert text.code == 2 and f"'{tmp_path / 'rows.txt'}': the rows' output (-o) is a .jsonl, .csv or .parquet " \
        "file" in text.err, text.err
    assert not (tmp_path / "rows.txt").exists()
    dash = run_cli("eval", KB, "--cohort", cases, "--engine", engine, "-o", "-")
    assert dash.code == 2 and "-o -: the rows go to standard output when -o is left out" in dash.err, dash.err


def test_the_sql_engines_refuse_a_cohort_of_fhir_bundles(tmp_path):
    # DuckDB read each bundle as a flat case naming no fact: every row empty, 0 errors, exit 0
    bundle = (ROOT / "examples" / "fhir" / "errors_to_avoid.json").read_text(encoding="utf-8")
    cohort = tmp_path / "bundles.ndjson"
    cohort.write_text("\n" + json.dumps(json.loads(bundle)) + "\n")
    run = run_cli("eval", KB, "--cohort", cohort, "--engine", "duckdb", "-o", tmp_path / "rows.csv")
    assert run.code == 2 and f"{cohort}:2: a FHIR bundle, which --engine duckdb cannot read" in run.err, run.err
    assert "--engine python" in run.err and not (tmp_path / "rows.csv").exists()
    assert run_cli("eval", KB, "--cohort", cohort, "-o", tmp_path / "rows.csv").code == 0   # Python reads them


# ---- cohorts survive any row (issue #12, part 2) ----------------------------------------------------

GOOD = json.dumps(CASES[0]).encode()


def rows_of(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_line_that_is_not_utf8_is_that_rows_error(tmp_path):
    (tmp_path / "n.jsonl").write_bytes(GOOD + b'\n{"kras": "mut\xe9ant"}\n' + GOOD + b"\n")
    run = run_process("eval", KB, "--cohort", tmp_path / "n.jsonl", "-o", tmp_path / "o.jsonl", "--jobs", 2)
    rows = rows_of(tmp_path / "o.jsonl")
    assert [r["row"] for r in rows] == [1, 2, 3] and run.code == 1
    assert rows[1]["error"] == "the line is not UTF-8 text: byte 0xe9 at column 14"
    assert "simultaneous_surgery" in rows[2]["recommendations"]


@pytest.mark.parametrize("jobs", [1, 2])
def test_csv_rows_short_long_unclosed_duplicated_or_not_utf8_are_row_errors(tmp_path, jobs):
    (tmp_path / "c.csv").write_bytes(
        b"\xef\xbb\xbfkras,hepatectomy_segments,kras\n"   # a BOM, as Excel writes; kras twice
        b"mutant,3,\n"                                     # 2: fine (the second kras is empty)
        b"mutant\n"                                        # 3: too few cells
        b"wild_type,2,,5\n"                                # 4: too many
        b"mutant,2,wild_type\n"                            # 5: kras given twice
        b"mut\xe9,1,\n"                                    # 6: not UTF-8
        b'"mutant,4,\n'                                    # 7: a quote never closed
        b"wild_type,2,\n")                                 # 8: fine, read again after line 7 failed
    run = run_process("eval", KB, "--cohort", tmp_path / "c.csv", "-o", tmp_path / "o.jsonl", "--jobs", jobs)
    rows = {r["row"]: r for r in rows_of(tmp_path / "o.jsonl")}
    assert sorted(rows) == [2, 3, 4, 5, 6, 7, 8]
    assert "error" not in rows[2] and "error" not in rows[8]
    assert "1 cell where the header has 3 columns" in rows[3]["error"]
    assert "4 cells where the header has 3 columns" in rows[4]["error"]
    assert rows[5]["error"] == "'kras' is given twice (columns 1 and 3 of the header)"
    assert "not UTF-8" in rows[6]["error"] and "never closed" in rows[7]["error"]
    assert run.code == 1 and "7 cases in" in run.err and "5 with errors" in run.err


def test_a_number_row_reads_the_same_in_jsonl_csv_and_a_case_file(tmp_path, bundled_kb):
    case = '{"future_liver_remnant": 4.5e1, "hepatectomy_segments": 2E0}'
    (tmp_path / "case.json").write_text(case)
    (tmp_path / "c.jsonl").write_text(case + "\n")
    (tmp_path / "c.csv").write_text("future_liver_remnant,hepatectomy_segments\n4.5e1,2E0\n")
    from_file = bundled_kb.evaluate_file(tmp_path / "case.json").case
    assert from_file["future_liver_remnant"] == 45 and from_file["hepatectomy_segments"] == 2
    for name in ("c.jsonl", "c.csv"):
        run = run_process("eval", KB, "--cohort", tmp_path / name, "--jobs", 1)
        assert run.code == 0 and "error" not in json.loads(run.out)


def test_values_out_of_range_or_overflowing_are_row_errors(tmp_path):
    rows = [{"hepatectomy_segments": 10 ** 30}, {"future_liver_remnant": 1e308 * 10}, {"scrt_start": "9999-12-31",
            "metastatic_sites": ["liver"], "resectable_synchronous": True}, {"kras": "\ud800"}, CASES[0]]
    text = "\n".join(json.dumps(r) for r in rows[:1]) + '\n{"future_liver_remnant": 1e400}\n' + \
        "\n".join(json.dumps(r) for r in rows[2:]) + "\n" + '{"x": ' + "9" * 5000 + "}\n"
    (tmp_path / "c.jsonl").write_text(text)
    run = run_process("eval", KB, "--cohort", tmp_path / "c.jsonl", "-o", tmp_path / "o.jsonl")
    out = rows_of(tmp_path / "o.jsonl")
    assert [r["row"] for r in out] == [1, 2, 3, 4, 5, 6]  # every row written, whatever happened to one
    assert "outside its range" in out[0]["error"] and "outside its range" in out[1]["error"]  # 1e400, exact
    assert "surrogate" in out[3]["error"] and "error" not in out[4] and "not valid JSON" in out[5]["error"]
    assert "Traceback" not in run.err


@pytest.mark.parametrize("damage", ["empty", "truncated", "corrupt"])
def test_a_broken_parquet_file_exits_2_and_writes_nothing(tmp_path, damage):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq
    table = pa.Table.from_pylist([{"kras": "mutant", "hepatectomy_segments": i % 8 + 1} for i in range(50_000)])
    pq.write_table(table, tmp_path / "c.parquet", row_group_size=5000)
    data = (tmp_path / "c.parquet").read_bytes()
    broken = {"empty": b"", "truncated": data[: len(data) // 2],
              "corrupt": data[:4] + bytes(b ^ 0x5A for b in data[4:len(data) // 2]) + data[len(data) // 2:]}[damage]
    (tmp_path / "c.parquet").write_bytes(broken)
    run = run_process("eval", KB, "--cohort", tmp_path / "c.parquet", "-o", tmp_path / "o.jsonl")
    assert run.code == 2 and "cannot read the Parquet file" in run.err and "internal error" not in run.err
    assert not (tmp_path / "o.jsonl").exists() and not list(tmp_path.glob(".o.jsonl*"))


@pytest.mark.parametrize("jobs", ["0", "-3", "many", "65"])
def test_jobs_is_validated(tmp_path, jobs):
    run = run_process("eval", KB, "--cohort", write_jsonl(tmp_path / "c.jsonl"), "--jobs", jobs)
    assert run.code == 2 and "from 1 to 64" in run.err


def test_an_empty_cohort_writes_a_valid_empty_output(tmp_path):
    (tmp_path / "c.jsonl").write_text("")
    for out in ("o.jsonl", "o.csv", "o.parquet"):
        run = run_process("eval", KB, "--cohort", tmp_path / "c.jsonl", "-o", tmp_path / out)
        assert run.code == 0 and "0 cases in" in run.err and (tmp_path / out).exists()
    import pyarrow.parquet as pq
    assert pq.read_table(tmp_path / "o.parquet").num_rows == 0


def test_cr_only_line_endings_in_csv_and_jsonl(tmp_path):
    (tmp_path / "c.csv").write_bytes(b"kras,hepatectomy_segments\rmutant,3\rwild_type,9\r")
    (tmp_path / "c.jsonl").write_bytes(b'{"kras": "mutant"}\r{"kras": "x"}\r')
    csv_rows = [json.loads(line) for line in run_process("eval", KB, "--cohort", tmp_path / "c.csv").out.splitlines()]
    assert [r["row"] for r in csv_rows] == [2, 3] and "outside its range" in csv_rows[1]["error"]
    rows = [json.loads(line) for line in run_process("eval", KB, "--cohort", tmp_path / "c.jsonl").out.splitlines()]
    assert [r["row"] for r in rows] == [1, 2] and "error" not in rows[0] and "'x' is not a value" in rows[1]["error"]


def test_a_row_of_several_bad_values_says_them_in_the_facts_declared_order(tmp_path):
    # the SQL engines write a row's problems fact by fact as the knowledge base declares them;
    # the Python cohort says them in that order too, whatever the order of the row's keys
    lines = [json.dumps({"proposed_treatment": ["y"], "primary_symptoms": ["x"]}),
             json.dumps({"primary_symptoms": ["x"], "proposed_treatment": ["y"]})]
    (tmp_path / "c.jsonl").write_text("\n".join(lines) + "\n")
    run = run_process("eval", KB, "--cohort", tmp_path / "c.jsonl", "-o", tmp_path / "out.jsonl")
    first, second = [json.loads(line)["error"] for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert run.code == 1 and first == second, (first, second)
    assert first.index("'primary_symptoms'") < first.index("'proposed_treatment'"), first


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_a_fact_with_no_column_is_said_once_as_the_sql_engines_say_it(tmp_path, kind):
    rows = [{"kras": "mutant", "bogus": "1"}, {"kras": "wild_type", "bogus": "2"}]
    cohort = tmp_path / f"c.{kind}"
    if kind == "csv":
        cohort.write_text("kras,bogus\nmutant,1\nwild_type,2\n")
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq
        pq.write_table(pa.Table.from_pylist(rows), cohort)
    run = run_process("eval", KB, "--cohort", cohort, "-o", tmp_path / "out.jsonl")
    assert run.code == 0, run.err
    said = [line for line in run.err.splitlines() if "no column for" in line]
    assert len(said) == 1 and said[0].startswith(f"consilium: {cohort}: no column for ")
    assert said[0].endswith(": unknown for every row")
    named = said[0].split(": no column for ")[1].removesuffix(": unknown for every row").split(", ")
    assert "kras" not in named and "primary_symptoms" in named and len(named) == len(load_kb(KB).facts) - 1
    assert run.err.count("ignoring column bogus") == 1
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 2
