"""Cohorts: JSON Lines, CSV and Parquet in and out, one row per case, bad rows reported and counted."""

from __future__ import annotations

import csv
import json

import pytest

from conftest import KB, run_process

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
