"""Nothing lost in the SQL engines either (issue #12 and #15): a DuckDB run stopped by SIGINT or
SIGTERM, in a real process, says how far it got and leaves nothing under the output's name;
a complete run takes the name only once written; an output that is an input is refused."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import KB, ROOT, run_cli
from test_outputs import CASE, _session_processes, final_and_partial, interrupt, reported_stop

pytest.importorskip("duckdb")


def start(tmp_path, output: str, rows: int = 400_000) -> subprocess.Popen[str]:
    (tmp_path / "big.jsonl").write_text((json.dumps(CASE) + "\n") * rows)
    process = subprocess.Popen([sys.executable, "-m", "consilium", "eval", str(KB), "--cohort",
                                str(tmp_path / "big.jsonl"), "-o", str(tmp_path / output), "--engine", "duckdb",
                                "--memory-limit", "500MB"],
                               stderr=subprocess.PIPE, text=True, cwd=ROOT, start_new_session=True)
    STARTED.append(process)
    return process


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
    assert reported_stop(err) <= 2 and stopped_in < 20, (err, stopped_in)  # as measured by the run; the wall loosely
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


# ---- Spark, in local mode: a real signal to a real process ----------------------------------------

TINY = """source S "s"
fact d : number
pathway p "P" source S
    decide q "Q?"
        when d > 1 -> r
        otherwise -> end
    recommend r "R"
        modality recommended
        quote "q"
"""


@pytest.fixture(autouse=True)
def no_run_left_behind():
    """A test that fails before its signal must not leave its run (and Spark's JVM) at work."""
    yield
    for process in STARTED:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    STARTED.clear()


STARTED: list[subprocess.Popen[str]] = []


def start_spark(tmp_path, rows: int, partition_bytes: int | None = None) -> subprocess.Popen[str]:
    """A Spark cohort of a one-decision knowledge base (planned in seconds, not the bundled one's
    minute) over many small rows, so that it is still at work when the signal comes; with
    `partition_bytes`, the file is read in partitions that small, so rows come early and long."""
    pytest.importorskip("pyspark")
    from consilium.engine.inputs.cohort_sql import _java_found
    if not _java_found():
        pytest.skip("Spark needs Java")
    (tmp_path / "kb").mkdir()
    (tmp_path / "kb" / "main.rules").write_text(TINY)
    (tmp_path / "big.jsonl").write_text('{"d": 3}\n' * rows)
    env = dict(os.environ)
    if partition_bytes:
        env["PYSPARK_SUBMIT_ARGS"] = f"--conf spark.sql.files.maxPartitionBytes={partition_bytes} pyspark-shell"
    process = subprocess.Popen([sys.executable, "-m", "consilium", "eval", str(tmp_path / "kb"), "--cohort",
                                str(tmp_path / "big.jsonl"), "-o", str(tmp_path / "out.jsonl"), "--engine", "spark"],
                               stderr=subprocess.PIPE, text=True, cwd=ROOT, start_new_session=True, env=env)
    STARTED.append(process)
    return process


def wait_for_partial_output(tmp_path, process, written: bool) -> None:
    """Until the run has opened its output beside out.jsonl (with `written`, put rows in it);
    Spark starts slowly on a loaded machine."""
    deadline = time.monotonic() + 300
    while True:
        partial = [p for p in tmp_path.iterdir() if p.name.startswith(".out.jsonl.")]
        if partial and (not written or partial[0].stat().st_size > 0):
            return
        assert time.monotonic() < deadline and process.poll() is None, process.communicate()[1][-3000:]
        time.sleep(0.05)


def assert_ctrl_c_stops_cleanly(tmp_path, process) -> str:
    """Ctrl-C to the run's group: exit 130 within 2 s of the signal by the run's own measure, no
    traceback, nothing under out.jsonl and nothing left beside it; the run's standard error."""
    signum, err, stopped_in = interrupt(process, "SIGINT to the group (Ctrl-C)", timeout=60)
    assert process.returncode == 130, err[-3000:]
    assert "out.jsonl was not written" in err, err[-3000:]
    assert reported_stop(err) <= 2 and stopped_in < 20, (err[-3000:], stopped_in)
    assert "Traceback" not in err and "internal error" not in err
    assert final_and_partial(tmp_path, "out.jsonl") == (False, [])
    return err


def test_ctrl_c_stops_a_spark_cohort_while_spark_works_within_2_s(tmp_path):
    """Ctrl-C while Spark plans and runs the query (the rows are numbered, the output is open):
    the hardest moment, the JVM busy and Python waiting for it."""
    process = start_spark(tmp_path, rows=300_000)
    wait_for_partial_output(tmp_path, process, written=False)
    time.sleep(1)
    if process.poll() is not None:
        pytest.skip("the run ended before the signal could land (a very fast machine)")
    err = assert_ctrl_c_stops_cleanly(tmp_path, process)
    assert "stopped by SIGINT" in err, err[-3000:]


def test_ctrl_c_stops_a_spark_cohort_while_it_writes_within_2_s(tmp_path):
    process = start_spark(tmp_path, rows=1_000_000, partition_bytes=256 * 1024)
    wait_for_partial_output(tmp_path, process, written=True)
    err = assert_ctrl_c_stops_cleanly(tmp_path, process)
    # (rows are counted once a batch is written: a signal landing inside the first batch's write
    # finds none counted, and the run says "before the output was complete")
    assert "stopped by SIGINT " in err, err[-3000:]


def test_sigterm_stops_a_spark_cohort_while_spark_starts(tmp_path):
    """SIGTERM to the process group reaches Spark's JVM too, which dies of it: the run still stops
    with its message, no traceback and no file."""
    process = start_spark(tmp_path, rows=1000)
    deadline = time.monotonic() + 120
    while not any("java" in _command(p) for p in _session_processes(process.pid)):
        assert time.monotonic() < deadline and process.poll() is None, process.communicate()[1][-3000:]
        time.sleep(0.05)
    signum, err, stopped_in = interrupt(process, "SIGTERM to the group", timeout=60)
    assert process.returncode == 143, err[-3000:]
    assert "stopped by SIGTERM before the output was complete" in err and "out.jsonl was not written" in err
    assert reported_stop(err) <= 2 and stopped_in < 20, (err[-3000:], stopped_in)
    assert "Traceback" not in err and "internal error" not in err
    assert final_and_partial(tmp_path, "out.jsonl") == (False, [])


def _command(pid: int) -> str:
    try:
        return open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace")
    except OSError:
        return ""


def test_a_spark_failure_says_its_cause_not_only_the_call_that_failed():
    from consilium.engine.inputs.cohort_sql import _spark_cause
    seen = ("An error occurred while calling o85.getResult.\n: org.apache.spark.SparkException: Exception thrown in "
            "awaitResult: \n\tat org.apache.spark.util.SparkThreadUtils$.awaitResult\nCaused by: org.apache.spark."
            "SparkException: Job aborted due to stage failure: Task 0 in stage 3.0 failed 1 times, most recent "
            "failure: Lost task 0.0 in stage 3.0 (TID 3) (localhost executor driver): java.lang.OutOfMemoryError: "
            "Java heap space\n\tat java.base/java.util.Arrays.copyOf")  # a 400,000-row cohort in local[2], 1 GB
    said = _spark_cause(RuntimeError(seen))
    assert said.startswith("Spark ran out of memory (java.lang.OutOfMemoryError: Java heap space)")
    assert "--driver-memory" in said
    other = _spark_cause(RuntimeError("An error occurred while calling o1.x.\nCaused by: java.io.IOException: "
                                      "No space left on device\n\tat x"))
    assert other == "An error occurred while calling o1.x. (java.io.IOException: No space left on device)"
