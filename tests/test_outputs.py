"""Nothing lost: every output appears complete or not at all, never over an input (issue #12, part 1).

Real processes and real signals: a cohort is stopped with SIGINT (to the whole process group,
as Ctrl-C on a terminal does) and SIGTERM, and killed with SIGKILL, while it writes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import KB, ROOT, run_cli

CASE = {"metastatic_sites": ["liver"], "complete_resection_feasible": True, "primary_r0_resectable": True,
        "primary_status": "in_place", "future_liver_remnant": 45, "hepatectomy_segments": 2}


def final_and_partial(folder, name):
    return (folder / name).exists(), [p.name for p in folder.iterdir() if p.name.startswith(f".{name}.")]


def test_an_output_that_is_the_input_is_refused_and_untouched(tmp_path):
    cohort = tmp_path / "same.jsonl"
    cohort.write_text(json.dumps(CASE) + "\n" + json.dumps(CASE) + "\n")
    before = cohort.read_bytes()
    for output in (cohort, tmp_path / "." / "same.jsonl"):
        run = run_cli("eval", KB, "--cohort", cohort, "-o", output)
        assert run.code == 2 and "is also an input" in run.err
        assert cohort.read_bytes() == before
    link = tmp_path / "link.jsonl"
    link.symlink_to(cohort)
    assert run_cli("eval", KB, "--cohort", cohort, "-o", link).code == 2 and cohort.read_bytes() == before


def test_an_output_over_a_rule_file_is_refused(tmp_path):
    import shutil
    shutil.copytree(KB, tmp_path / "kb")
    cohort = tmp_path / "c.jsonl"
    cohort.write_text(json.dumps(CASE) + "\n")
    rules = tmp_path / "kb" / "main.rules"
    before = rules.read_bytes()
    run = run_cli("eval", tmp_path / "kb", "--cohort", cohort, "-o", tmp_path / "kb" / "main.rules")
    assert run.code == 2 and rules.read_bytes() == before


@pytest.mark.parametrize("command", [
    ["eval", KB, "--cohort", "{cohort}", "-o", "{missing}/out.jsonl"],
    ["eval", KB, "--cohort", "{cohort}", "-o", "/proc/nope.jsonl"],
    ["render", KB, "--chart", "safety", "-o", "{file}"],
    ["render", KB, "--chart", "safety", "-o", "/proc/nope"],
    ["report", KB, "-o", "{file}"],
    ["report", KB, "-o", "/proc/nope"],
    ["diff", KB, KB, "--render", "/proc/nope"],
])
def test_every_unwritable_output_exits_2_with_a_clear_message(tmp_path, command):
    cohort = tmp_path / "c.jsonl"
    cohort.write_text(json.dumps(CASE) + "\n")
    (tmp_path / "a_file").write_text("keep me")
    args = [str(a).format(cohort=cohort, missing=tmp_path / "missing", file=tmp_path / "a_file") for a in command]
    run = run_cli(*args)
    assert run.code == 2, run.err
    assert "cannot" in run.err and "internal error" not in run.err and "Traceback" not in run.err
    assert (tmp_path / "a_file").read_text() == "keep me"


@pytest.mark.parametrize("command, said", [
    (["eval", KB, "--cohort", "{cohort}", "-o", "{t}/out.jsonl/"], "did you mean '{t}/out.jsonl'?"),
    (["eval", KB, "--cohort", "{cohort}", "-o", "{t}/out.csv//"], "did you mean '{t}/out.csv'?"),
    (["eval", KB, "--cohort", "{cohort}", "-o", "{t}/folder/"], "e.g. '{t}/folder/rows.jsonl'"),
    (["eval", KB, "--cohort", "{cohort}", "-o", "{t}/folder/."], "e.g. '{t}/folder/rows.jsonl'"),
    (["eval", KB, "--cohort", "{cohort}", "--engine", "duckdb", "-o", "{t}/out.parquet/"], "did you mean"),
    (["audit", KB, "--rows", "{cohort}", "-o", "{t}/audit.html/"], "did you mean '{t}/audit.html'?"),
    (["schema", "case", KB, "-o", "{t}/case.json/"], "did you mean '{t}/case.json'?"),
    (["render", KB, "--chart", "safety", "-o", "{t}/a_file/"], "'{t}/a_file': it is a file"),
    (["report", KB, "-o", "{t}/a_file/"], "'{t}/a_file': it is a file"),
    (["diff", KB, KB, "--render", "{t}/a_file/"], "'{t}/a_file': it is a file"),
])
def test_an_output_ending_with_a_slash_is_refused_unless_it_is_a_folder(tmp_path, command, said):
    """`-o out.jsonl/` (a typo, or a folder meant): exit 2, saying what to give, and nothing written."""
    if "duckdb" in command:
        pytest.importorskip("duckdb")
    cohort = tmp_path / "c.jsonl"
    cohort.write_text(json.dumps(CASE) + "\n")
    (tmp_path / "folder").mkdir()
    (tmp_path / "a_file").write_text("keep me")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    run = run_cli(*[str(a).format(cohort=cohort, t=tmp_path) for a in command])
    assert run.code == 2, run.err
    assert said.format(t=tmp_path) in run.err and "internal error" not in run.err
    assert "names a folder" in run.err or "it is a file, and this option names a folder" in run.err
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # no file, no partial, no folder made
    assert (tmp_path / "a_file").read_text() == "keep me"


def test_a_folder_output_with_a_slash_is_written_into(tmp_path):
    run = run_cli("render", KB, "--chart", "safety", "--format", "dot", "-o", f"{tmp_path}/charts/")
    assert run.code == 0 and list((tmp_path / "charts").glob("*.dot"))


def _rows(tmp_path):
    cohort = tmp_path / "c.jsonl"
    cohort.write_text(json.dumps(CASE) + "\n" + json.dumps(CASE) + "\n")
    rows = tmp_path / "rows.jsonl"
    assert run_cli("eval", KB, "--cohort", cohort, "-o", rows).code == 0
    return cohort, rows


def test_audit_and_schema_refuse_to_write_over_an_input(tmp_path):
    import shutil
    shutil.copytree(KB, tmp_path / "kb")
    cohort, rows = _rows(tmp_path)
    rules = tmp_path / "kb" / "main.rules"
    kept = {p: p.read_bytes() for p in (cohort, rows, rules)}
    for command in (["audit", tmp_path / "kb", "--rows", rows, "-o", rows],
                    ["audit", tmp_path / "kb", "--rows", rows, "--cohort", cohort, "-o", cohort],
                    ["audit", tmp_path / "kb", "--rows", rows, "-o", rules],
                    ["schema", "case", tmp_path / "kb", "-o", rules],
                    ["schema", "case", tmp_path / "kb", "-o", tmp_path / "kb" / "." / "main.rules"]):
        run = run_cli(*command)
        assert run.code == 2 and "is also an input" in run.err, (command, run.err)
        assert {p: p.read_bytes() for p in kept} == kept
    cohort.write_text(json.dumps({**CASE, "received": ["liver_resection"]}) + "\n")  # the treatment received
    assert run_cli("audit", tmp_path / "kb", "--rows", rows, "--cohort", cohort, "-o", tmp_path / "a.html").code == 0
    assert "<html" in (tmp_path / "a.html").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.html", "c.jsonl", "kb", "rows.jsonl"]  # nothing partial


@pytest.mark.parametrize("output", ["/proc/nope.html", "{folder}", "{file}/x.html"])
def test_an_unwritable_audit_page_exits_2(tmp_path, output):
    _, rows = _rows(tmp_path)
    (tmp_path / "folder").mkdir()
    (tmp_path / "a_file").write_text("keep me")
    run = run_cli("audit", KB, "--rows", rows, "-o", output.format(folder=tmp_path / "folder",
                                                                    file=tmp_path / "a_file"))
    assert run.code == 2 and "cannot" in run.err and "internal error" not in run.err, run.err
    assert (tmp_path / "a_file").read_text() == "keep me"


@pytest.mark.parametrize("name, data, expected", [
    ("bad.jsonl", b'{"row": 1, "needs": ["\xe9"]}\n', "not UTF-8"),
    ("list.jsonl", b'\n{"row": 1}\n[1, 2]\n', "list.jsonl:3: not a row"),
    ("shape.jsonl", b'{"row": "x", "recommendations": 5}\n', "row number"),
    ("needs.jsonl", b'{"row": 1, "needs": 5}\n', "needs are not a list"),
    ("number.csv", b"row,error\nx,\n", "number.csv:2: not a row"),
    ("short.csv", b"row,error,needs\n1\n", "more or fewer cells"),
    ("empty.parquet", b"", "cannot read the rows"),
    ("half.parquet", b"PAR1" + bytes(100), "cannot read the rows"),
])
def test_audit_rows_that_are_not_rows_are_a_clear_error(tmp_path, name, data, expected):
    (tmp_path / name).write_bytes(data)
    run = run_cli("audit", KB, "--rows", tmp_path / name, "-o", tmp_path / "a.html")
    assert run.code == 2 and expected in run.err and "internal error" not in run.err, run.err
    assert not (tmp_path / "a.html").exists()


@pytest.mark.parametrize("received", ['5', '["hepatectomy", {"a": 1}]'])
def test_audit_received_of_the_wrong_kind_is_a_clear_error(tmp_path, received):
    _, rows = _rows(tmp_path)
    cohort = tmp_path / "received.jsonl"
    cohort.write_text('{"received": %s}\n' % received)
    run = run_cli("audit", KB, "--rows", rows, "--cohort", cohort, "-o", tmp_path / "a.html")
    assert run.code == 2 and "received.jsonl:1: the column 'received'" in run.err, run.err


@pytest.mark.parametrize("name, text", [("cohort.csv", "kras,treatment\nmutant,folfox\n"),
                                        ("cohort.jsonl", '{"kras": "mutant", "treatment": ["folfox"]}\n')])
def test_audit_cohort_without_the_received_column_is_a_clear_error(tmp_path, name, text):
    # Without it every patient would count as having received nothing: 0 % concordant care.
    _, rows = _rows(tmp_path)
    cohort = tmp_path / name
    cohort.write_text(text)
    run = run_cli("audit", KB, "--rows", rows, "--cohort", cohort, "-o", tmp_path / "a.html")
    assert run.code == 2 and f"{name}: no row has a column 'received'" in run.err, run.err
    assert "--received" in run.err and not (tmp_path / "a.html").exists()
    named = run_cli("audit", KB, "--rows", rows, "--cohort", cohort, "--received", "treatment",
                    "-o", tmp_path / "a.html")
    assert named.code == 0, named.err


def test_audit_names_received_treatments_no_rule_names(tmp_path):
    # 'Liver_Resection' and 'hepatectomy' are no rule's action: they follow nothing, and the page says so
    _, rows = _rows(tmp_path)
    cohort = tmp_path / "received.jsonl"
    cohort.write_text('{"received": ["Liver_Resection", "hepatectomy"]}\n{"received": ["liver_resection"]}\n')
    run = run_cli("audit", KB, "--rows", rows, "--cohort", cohort, "-o", tmp_path / "a.html")
    assert run.code == 0, run.err
    page = (tmp_path / "a.html").read_text(encoding="utf-8")
    assert ("Treatments received that no rule names, so that they follow no recommendation (a rule's "
            "<code>action</code> words are the vocabulary): <code>Liver_Resection</code> (1 patient), "
            "<code>hepatectomy</code> (1 patient).") in page
    cohort.write_text('{"received": ["liver_resection"]}\n')
    run_cli("audit", KB, "--rows", rows, "--cohort", cohort, "-o", tmp_path / "a.html")
    assert "no rule names" not in (tmp_path / "a.html").read_text(encoding="utf-8")


def test_the_audit_page_is_the_same_bytes_from_one_run_to_the_next(tmp_path):
    # the rules followed as often were listed in a set's order, which changes with each process
    import os
    import subprocess
    import sys
    _, rows = _rows(tmp_path)
    cohort = tmp_path / "received.jsonl"
    cohort.write_text('{"received": ["liver_resection"]}\n{"received": ["systemic_therapy"]}\n')
    pages = []
    for seed in ("1", "2", "3"):
        page = tmp_path / f"audit-{seed}.html"
        subprocess.run([sys.executable, "-m", "consilium", "audit", str(KB), "--rows", str(rows), "--cohort",
                        str(cohort), "-o", str(page)], check=True, capture_output=True, timeout=120,
                       env={**os.environ, "PYTHONHASHSEED": seed})
        pages.append(page.read_bytes())
    assert pages[0] == pages[1] == pages[2]


def test_charts_and_report_replace_old_files_whole(tmp_path):
    out = tmp_path / "charts"
    out.mkdir()
    (out / "safety.dot").write_text("old")
    assert run_cli("render", KB, "--chart", "safety", "--whole", "--format", "dot", "-o", out).code == 0
    assert (out / "safety.dot").read_text().startswith("digraph")
    assert [p.name for p in out.iterdir()] == ["safety.dot"]  # no temporary file left beside it
    assert run_cli("report", KB, "-o", tmp_path / "report").code == 0
    assert [p.name for p in (tmp_path / "report").iterdir()] == ["index.html"]


def big_cohort(path, rows=300_000):
    line = json.dumps(CASE) + "\n"
    path.write_text(line * rows)
    return path


def start_cohort(tmp_path, *extra):
    return subprocess.Popen([sys.executable, "-m", "consilium", "eval", str(KB), "--cohort",
                             str(tmp_path / "big.jsonl"), "-o", str(tmp_path / "out.jsonl"), *extra],
                            stderr=subprocess.PIPE, text=True, cwd=ROOT, start_new_session=True)


def wait_for_rows(tmp_path, process):
    """Until the run is writing (its temporary file has grown), so that a signal lands mid-run."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        partial = [p for p in tmp_path.iterdir() if p.name.startswith(".out.jsonl.")]
        if partial and partial[0].stat().st_size > 100_000:
            return
        assert process.poll() is None, process.stderr.read()
        time.sleep(0.05)
    raise AssertionError("the cohort wrote nothing in 60 s")


def reported_stop(err: str) -> float:
    """The seconds from the signal to the stop, as the run itself reports them."""
    import re
    found = re.search(r", (\d+\.\d+) s after the signal;", err)
    assert found, err
    return float(found.group(1))


def interrupt(process, how: str, timeout: float) -> tuple[int, str, float]:
    """Signal a running command as `how` says (SIGINT or SIGTERM, to its group or to it alone) and
    wait for it: (the signal, its standard error, seconds from the signal to its end)."""
    signum = signal.SIGINT if "SIGINT" in how else signal.SIGTERM
    started = time.monotonic()
    if "group" in how:
        os.killpg(process.pid, signum)
    else:
        process.send_signal(signum)
    try:
        err = process.communicate(timeout=timeout)[1]
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    return signum, err, time.monotonic() - started


@pytest.mark.parametrize("how", ["SIGINT to the group (Ctrl-C)", "SIGTERM to the group", "SIGTERM to the parent"])
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_signal_stops_a_cohort_within_2_s_and_leaves_no_file(tmp_path, how, jobs):
    big_cohort(tmp_path / "big.jsonl")
    process = start_cohort(tmp_path, "--jobs", jobs)
    wait_for_rows(tmp_path, process)
    signum, err, stopped_in = interrupt(process, how, timeout=30)
    # the stop, from the signal's arrival until the workers are gone and the partial file removed,
    # as the run measures it; the wall clock (which counts a loaded machine's scheduling) loosely
    assert reported_stop(err) <= 2 and stopped_in < 20, (err, stopped_in)
    assert process.returncode == 128 + signum
    assert f"stopped by {signal.Signals(signum).name} after" in err and " s after the signal; " in err
    assert "was not written" in err
    assert "Traceback" not in err
    assert final_and_partial(tmp_path, "out.jsonl") == (False, [])
    time.sleep(0.3)
    assert _descendants(process.pid) == []


def test_a_killed_cohort_leaves_nothing_under_the_final_name(tmp_path):
    big_cohort(tmp_path / "big.jsonl")
    process = start_cohort(tmp_path, "--jobs", "2")
    wait_for_rows(tmp_path, process)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=10)
    final, partial = final_and_partial(tmp_path, "out.jsonl")
    assert not final and len(partial) == 1 and partial[0].endswith(".partial")
    deadline = time.monotonic() + 5  # the workers notice their parent is gone, and leave
    while _session_processes(process.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _session_processes(process.pid) == []


def test_a_complete_cohort_takes_its_name(tmp_path):
    big_cohort(tmp_path / "big.jsonl", rows=5000)
    process = start_cohort(tmp_path, "--jobs", "2")
    err = process.communicate(timeout=120)[1]
    assert process.returncode == 0, err
    assert final_and_partial(tmp_path, "out.jsonl") == (True, [])
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 5000


def _descendants(pid: int) -> list[int]:
    return [p for p in _session_processes(pid) if p != pid]


def _session_processes(sid: int) -> list[int]:
    """Live processes of the session the run was started in (its workers included)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":  # session id; zombies are gone already
            found.append(int(entry))
    return found


def test_the_duckdb_engine_refuses_an_output_that_is_the_input(tmp_path):
    pytest.importorskip("duckdb")
    cohort = tmp_path / "same.jsonl"
    cohort.write_text(json.dumps(CASE) + "\n")
    before = cohort.read_bytes()
    for output in (cohort, tmp_path / "." / "same.jsonl"):
        run = run_cli("eval", KB, "--cohort", cohort, "--engine", "duckdb", "-o", output)
        assert run.code == 2 and "is also an input" in run.err and cohort.read_bytes() == before
