"""Nothing lost in the SQL engines either (issue #12 and #15): a DuckDB run stopped by SIGINT or
SIGTERM, in a real process, says how far it got and leaves nothing under the output's name;
a complete run takes the name only once written; an output that is an input is refused."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from conftest import KB, ROOT, run_cli
from test_outputs import CASE, final_and_partial, interrupt

pytest.importorskip("duckdb")


def start(tmp_path, output: str, rows: int = 400_000) -> subprocess.Popen[str]:
    (tmp_path / "big.jsonl").write_text((json.dumps(CASE) + "\n") * rows)
    return subprocess.Popen([sys.executable, "-m", "consilium", "eval", str(KB), "--cohort",
                             str(tmp_path / "big.jsonl"), "-o", str(tmp_path / output), "--engine", "duckdb",
                             "--memory-limit", "500MB"],
                            stderr=subprocess.PIPE, text=True, cwd=ROOT, start_new_session=True)


def wait_for_the_partial_file(tmp_path, output: str, process: subprocess.Popen[str]) -> None:
    """Until DuckDB is writing beside the output's name, so that the signal lands mid-run."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if [p for p in tmp_path.iterdir() if p.name.startswith(f".{output}.")]:
            time.sleep(0.3)
            return
        assert process.poll() is None, process.communicate()[1]
        time.sleep(0.02)
    raise AssertionError("the run wrote nothing in 60 s")


@pytest.mark.parametrize("how", ["SIGINT to the group (Ctrl-C)", "SIGTERM to the process"])
@pytest.mark.parametrize("output", ["out.parquet", "out.jsonl"])
def test_a_signal_stops_a_duckdb_cohort_and_leaves_no_file(tmp_path, how, output):
    process = start(tmp_path, output)
    wait_for_the_partial_file(tmp_path, output, process)
    if process.poll() is not None:
        pytest.skip("the run ended before the signal could land (a very fast machine)")
    signum, err, stopped_in = interrupt(process, how, timeout=30)
    assert stopped_in < 5
    assert process.returncode == 128 + signum, err
    assert f"stopped by {signal.Signals(signum).name}" in err and f"{output} was not written" in err, err
    assert "Traceback" not in err
    assert final_and_partial(tmp_path, output) == (False, [])


@pytest.mark.parametrize("output", ["out.parquet", "out.csv", "out.jsonl"])
def test_a_complete_duckdb_cohort_takes_its_name_with_its_row_errors_said(tmp_path, output):
    lines = [json.dumps(CASE)] * 300 + ["{broken"] + [json.dumps(CASE)] * 50
    (tmp_path / "c.jsonl").write_text("\n".join(lines) + "\n")
    run = run_cli("eval", KB, "--cohort", tmp_path / "c.jsonl", "-o", tmp_path / output, "--engine", "duckdb")
    assert run.code == 1 and "c.jsonl:301: error: not valid JSON" in run.err, run.err
    assert final_and_partial(tmp_path, output) == (True, [])
    assert "351 cases" in run.err and "1 with errors" in run.err


def test_the_cohort_as_the_duckdb_output_is_refused(tmp_path):
    cohort = tmp_path / "same.jsonl"
    cohort.write_text(json.dumps(CASE) + "\n")
    before = cohort.read_bytes()
    run = run_cli("eval", KB, "--cohort", cohort, "-o", cohort, "--engine", "duckdb")
    assert run.code == 2 and "is also an input" in run.err
    assert cohort.read_bytes() == before
