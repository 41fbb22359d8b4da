"""Cohorts: evaluate many cases in a stream, JSON Lines / CSV / Parquet in and out.

A JSON Lines row, or a file of a folder of .json files, may be a FHIR R4 Bundle instead of
a flat case: it is read through the facts' bindings (inputs/fhir.py).

Reads cases a chunk at a time, evaluates each chunk on a pool of worker processes (the fast
path, `decide`, per worker with the knowledge base loaded once), and writes one row per
case as results come back, in input order: its row number, the recommendations of each
source, the warnings, the facts needed, and an error for a row that could not be read or
validated. A bad row is reported with its line number and the run goes on; every row read
is written and counted. At most a few chunks are in flight, so memory does not grow with
the cohort. Parquet needs the optional `pyarrow` package (`pip install 'consilium[cohort]'`).

Nothing is lost: the output is written beside its name and renamed when the run is
complete (engine/lang/files.py), an output that is the input is refused, and SIGINT or
SIGTERM stop the run within moments, raising `Interrupted` with the number of rows done,
with the output left as it was. Reading rows is `rows.py`'s job.
"""

from __future__ import annotations

import csv
import json
import multiprocessing
import os
import queue
import re
import signal
import sys
import threading
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from ..lang import ir
from ..lang.diagnostics import CaseError, Diagnostic
from ..lang.files import OutputError, atomic_output, atomic_path, kind_of, refuse_overwrite
from .case import _Invalid, parse_json
from .rows import NOT_A_MAPPING, NOT_VALID, InputError, cohort_format, pyarrow_parquet, read_rows

CHUNK = 2000
IN_FLIGHT = 4       # chunks handed to the workers at once: what bounds memory
SHOWN_ERRORS = 100  # row errors printed on standard error; the output's error column has them all
MAX_JOBS = 64


@dataclass
class Summary:
    rows: int = 0
    errors: int = 0
    internal: int = 0  # rows that met a bug in Consilium (reported as their row's error)
    seconds: float = 0.0


class Interrupted(KeyboardInterrupt):
    """The run was stopped by SIGINT or SIGTERM; `rows` were done, the output was not written.
    `signalled_at` is when the signal arrived (`time.monotonic()`), so that the command can say
    how long the stop took: `stopped_in()` when it has finished cleaning up."""

    def __init__(self, signum: int, rows: int, signalled_at: float | None = None):
        super().__init__(signal.Signals(signum).name)
        self.signum, self.rows = signum, rows
        self.signalled_at = time.monotonic() if signalled_at is None else signalled_at

    def stopped_in(self) -> float:
        """Seconds from the signal's arrival until now."""
        return time.monotonic() - self.signalled_at

    @classmethod
    def of(cls, stop: BaseException, rows: int) -> "Interrupted":
        """The `Interrupted` of a `_Signal` (or a bare KeyboardInterrupt: SIGINT, now)."""
        if isinstance(stop, _Signal):
            return cls(stop.signum, rows, stop.at)
        return cls(signal.SIGINT, rows)


# ---- reading (rows.py reads the files) --------------------------------------------------------

_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")


def from_csv(raw: dict[str, str], facts: Mapping[str, ir.Fact]) -> dict[str, Any]:
    """A CSV row's text cells as the values a JSON case would hold; an empty cell is unknown.

    true/false for yes-no facts, numbers (written as JSON writes them) for numeric ones,
    values separated by '|' for sets; other text stays text and is validated like any case value.
    """
    case: dict[str, Any] = {}
    for name, text in raw.items():
        text = text.strip()
        if text == "":
            continue
        fact = facts.get(name)
        match fact.type if fact else None:
            case ir.BoolType() if text.lower() in ("true", "false"):
                case[name] = text.lower() == "true"
            case ir.NumberType() if _JSON_NUMBER.fullmatch(text):
                try:
                    case[name] = parse_json(text)  # the exact number a JSON case would give
                except _Invalid:
                    case[name] = text  # thousands of digits: validated (and refused) as text
            case ir.SetType():
                case[name] = [part.strip() for part in text.split("|") if part.strip()]
            case _:
                case[name] = text
    return case


def _csv_hint(raw: dict[str, str], facts: Mapping[str, ir.Fact]) -> str:
    """How to write a set in CSV, when a set's cell seems to list its values another way."""
    for name, text in raw.items():
        fact = facts.get(name)
        if fact and isinstance(fact.type, ir.SetType) and "|" not in text and any(sep in text for sep in ",;"):
            example = "|".join(fact.type.values[:2])
            return f" (in CSV, a set's values are separated by '|', as in {example})"
    return ""


# ---- evaluating (in the workers) ----------------------------------------------------------------

_KB = None


def _init(kb_path: str | None) -> None:
    # Ctrl-C on a terminal signals the whole process group: the parent stops the run and
    # terminates the workers, which must not die on their own half-way through a chunk.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # A worker has nothing to tell a user: its results and errors go back to the parent, and
    # when the parent is killed a worker's broken pipe is not the user's concern.
    sys.stderr = open(os.devnull, "w")
    global _KB
    if _KB is None:  # forked workers inherit the parent's; spawned ones load it
        from ..kb import bundled_kb_path, load_kb
        _KB = load_kb(kb_path if kb_path is not None else bundled_kb_path())


def ignoring(where: str, names: Iterable[str]) -> str:
    """The one warning of a run whose input has columns (or JSON keys) that name no fact."""
    names = list(names)
    return (f"consilium: {where}: ignoring column{'s' if len(names) > 1 else ''} {', '.join(names)}: "
            "no fact of the knowledge base has that name")


def _in_declared_order(kb, raw: dict[str, Any], kind: str) -> tuple[Diagnostic, ...] | None:
    """A row's problems in the order its facts are declared, as the SQL engines write them
    (validate_case gives them in the row's order of keys). Only on a row of several problems."""
    order = {name: i for i, name in enumerate(kb.facts)}
    ordered = dict(sorted(raw.items(), key=lambda item: order.get(item[0], len(order))))
    try:
        kb.validate_case(from_csv(ordered, kb.facts) if kind == "csv" else ordered)
    except CaseError as error:
        return error.diagnostics
    return None


def _evaluate_row(kb, source_of, number: int, kind: str, raw: Any,
                  ignored: dict[str, None] | None = None) -> tuple[dict[str, Any], bool]:
    """One row of output, and whether it met a bug; every problem is the row's error. A column
    (or key) that names no fact is left out and added to `ignored` (said once for the run)."""
    row: dict[str, Any] = {"row": number}
    if kind == "error":
        row["error"] = raw
        return row, False
    try:
        if kind == "json":
            try:
                raw = parse_json(raw)
            except _Invalid as problem:
                # a syntax error (it has a hint) without the parser's detail and column, which the
                # SQL engines cannot give: the same words in every engine (rows.py)
                syntax = problem.hint is not None and problem.message.startswith("the case is not valid JSON: ")
                row["error"] = NOT_VALID if syntax else problem.message.removeprefix("the case is ")
                return row, False
        if not isinstance(raw, dict):
            row["error"] = NOT_A_MAPPING
            return row, False
        try:
            if "resourceType" in raw:  # a FHIR Bundle, read through the facts' bindings
                case = kb.read_bundle(raw, name=f"row {number}").values
            else:
                if not raw.keys() <= kb.facts.keys():  # a column no fact has: ignored, as in DuckDB and Spark
                    if ignored is not None:
                        ignored.update((name, None) for name in raw if name not in kb.facts)
                    raw = {name: value for name, value in raw.items() if name in kb.facts}
                case = kb.validate_case(from_csv(raw, kb.facts) if kind == "csv" else raw)
        except CaseError as error:
            diagnostics = error.diagnostics
            if len(diagnostics) > 1 and "resourceType" not in raw:
                diagnostics = _in_declared_order(kb, raw, kind) or diagnostics
            row["error"] = _printable_all("; ".join(d.message for d in diagnostics))
            if kind == "csv":
                row["error"] += _csv_hint(raw, kb.facts)
            return row, False
        decision = kb.decide(case, validated=True)
    except Exception as exc:  # noqa: BLE001 - a bug must not cost the other rows; it is counted and shown
        return {"row": number, "error": f"internal error: {type(exc).__name__}: {_printable_all(str(exc))} "
                                        "(a bug in Consilium; please report it)"}, True
    row["recommendations"] = list(decision.recommendations)
    for source in kb.sources:
        row[source] = [r for r in decision.recommendations if source_of.get(r) == source]
    row["warnings"] = list(decision.warnings)
    row["needs"] = list(decision.needs)
    if kb.checked.findings:
        row["findings"] = [f.id for f in kb.checked.findings if (f.scope is None or kb.value(f.scope, case) is True)
                           and kb.value(f.condition, case) is True]
    judgements = _judgements(kb)
    if judgements:
        # an option waits only for the team's judgements, so one of them is needed: the whole
        # evaluation (which works options out) runs only for those rows
        options = kb.evaluate(case, validated=True).options if judgements.intersection(decision.needs) else ()
        rank = _recommendation_rank(kb)
        row["options"] = sorted((o.id for o in options), key=rank.__getitem__)
    return row, False


def row_columns(kb) -> list[str]:
    """A cohort row's columns: `findings` when the knowledge base declares findings, `options`
    (recommendations waiting only for the team's judgements, in the knowledge base's order)
    when it declares judgement facts."""
    return (["row", "error", "recommendations", *kb.sources, "warnings", "needs"]
            + (["findings"] if kb.checked.findings else []) + (["options"] if _judgements(kb) else []))


_KEPT_FOR: dict[int, tuple[Any, frozenset[str], dict[str, int]]] = {}  # per knowledge base: made once


def _kept_for(kb) -> tuple[frozenset[str], dict[str, int]]:
    found = _KEPT_FOR.get(id(kb.checked))
    if found is None or found[0] is not kb.checked:
        judgements = frozenset(name for name, fact in kb.checked.facts.items() if fact.judgement)
        rank = {n.id: i for i, n in enumerate(
            n for p in kb.checked.pathways for n in p.nodes if isinstance(n, ir.Recommend))}
        found = _KEPT_FOR[id(kb.checked)] = (kb.checked, judgements, rank)
    return found[1], found[2]


def _judgements(kb) -> frozenset[str]:
    return _kept_for(kb)[0]


def _recommendation_rank(kb) -> dict[str, int]:
    """Each recommendation's place in the knowledge base: the order of a row's options."""
    return _kept_for(kb)[1]


def _work(tasks, results, kb_path: str | None) -> None:
    """A worker process: chunks in, rows out, in order, until told to stop (None)."""
    _init(kb_path)
    threading.Thread(target=_leave_with, args=(os.getppid(),), daemon=True).start()
    results.cancel_join_thread()  # the parent has read every result before it says stop
    while (task := tasks.get()) is not None:
        try:
            results.put(("rows", _evaluate_chunk(*task)))
        except Exception as exc:  # noqa: BLE001 - e.g. MemoryError: the parent reports it
            results.put(("failed", f"{type(exc).__name__}: {exc}"))


def _leave_with(parent: int) -> None:
    """End this worker when its parent is gone (killed with SIGKILL, say): a read of the parent's
    half-sent chunk would otherwise wait for ever."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


class _Workers:
    """Worker processes, each handed chunks in turn through its own queue, so the results come
    back in input order. Written for this module rather than multiprocessing.Pool, whose
    terminate() can hang when its workers were killed by the signal that stops the run."""

    def __init__(self, jobs: int, kb_path: str | None):
        context: Any = multiprocessing.get_context("fork" if sys.platform != "win32" else "spawn")
        self.tasks = [context.Queue() for _ in range(jobs)]
        self.results = [context.Queue() for _ in range(jobs)]
        self.processes = [context.Process(target=_work, args=(t, r, kb_path), daemon=True)
                          for t, r in zip(self.tasks, self.results, strict=True)]
        for tasks in self.tasks:
            tasks.cancel_join_thread()  # a stopped run must not wait to feed workers that are gone
        for process in self.processes:
            process.start()
        self.sent = self.received = 0

    def submit(self, chunk, as_jsonl: bool) -> None:
        self.tasks[self.sent % len(self.tasks)].put((chunk, as_jsonl))
        self.sent += 1

    def result(self):
        index = self.received % len(self.results)
        while True:
            try:
                kind, payload = self.results[index].get(timeout=0.5)
                break
            except queue.Empty:
                process = self.processes[index]
                if not process.is_alive():
                    raise RuntimeError(f"a worker process ended unexpectedly (exit code {process.exitcode})") from None
        self.received += 1
        if kind == "failed":
            raise RuntimeError(f"a worker process failed: {payload}")
        return payload

    def __enter__(self) -> "_Workers":
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:  # done: let each worker finish and leave
            for tasks in self.tasks:
                tasks.put(None)
            for process in self.processes:
                process.join(timeout=5)
        for process in self.processes:
            if process.is_alive():
                process.terminate()
        for process in self.processes:
            process.join(timeout=1)
            if process.is_alive():
                process.kill()
                process.join()


def _printable_all(text: str) -> str:
    """A message safe to write as UTF-8 (a case's text may hold lone surrogates)."""
    return text if text.isascii() else text.encode("utf-8", "backslashreplace").decode("utf-8")


def _evaluate_chunk(chunk: list[tuple[int, str, Any]], as_jsonl: bool = False):
    """(rows, or the JSON Lines text of them when that is the output: less to send back;
    how many; the (row, error, is a bug) of each row with an error; the columns that name no fact)."""
    kb = _KB
    assert kb is not None, "_init loads the knowledge base when the worker starts"
    source_of = _sources_of(kb)
    rows, errors = [], []
    ignored: dict[str, None] = {}  # in the order first met: a CSV file's in its header's
    for number, kind, raw in chunk:
        row, internal = _evaluate_row(kb, source_of, number, kind, raw, ignored)
        rows.append(row)
        if "error" in row:
            errors.append((number, row["error"], internal))
    if as_jsonl:
        return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), len(rows), errors, ignored
    return rows, len(rows), errors, ignored


def _sources_of(kb) -> dict[str, str]:
    found = {n.id: n.provenance.source for p in kb.pathways for n in p.nodes if isinstance(n, (ir.Recommend, ir.Warn))}
    found.update({s.id: s.provenance.source for s in kb.safeties})
    return found


# ---- writing --------------------------------------------------------------------------------------

class _RowWriter:
    """Rows into an open text file (JSON Lines, CSV) or a Parquet file at `path`."""

    def __init__(self, kind: str, columns: list[str], handle=None, path: Path | None = None, shown: str = ""):
        self.kind, self.columns, self.handle, self.path, self.shown = kind, columns, handle, path, shown
        self.parquet: Any = None  # a pyarrow ParquetWriter once the first rows are written
        if kind == "csv":
            self.csv = csv.DictWriter(handle, fieldnames=columns)
            self._guard(self.csv.writeheader)

    def _guard(self, write, *args) -> None:
        try:
            write(*args)
        except BrokenPipeError:  # `| head`: the reader has what it wanted
            raise
        except OSError as exc:  # a full disk: stop, and leave the target as it was
            raise OutputError(f"cannot write '{self.shown}': {exc.strerror or exc}") from None

    def write(self, rows) -> None:
        if isinstance(rows, str):  # a chunk a worker already wrote as JSON Lines
            self._guard(self.handle.write, rows)
        elif self.kind == "jsonl":
            self._guard(self.handle.write, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
        elif self.kind == "csv":
            self._guard(self.csv.writerows,
                        [{k: ("|".join(v) if isinstance(v, list) else v) for k, v in row.items()} for row in rows])
        else:
            import pyarrow as pa
            table = pa.Table.from_pylist([{c: row.get(c) for c in self.columns} for row in rows],
                                         schema=self._schema(pa))
            if self.parquet is None:
                self.parquet = pyarrow_parquet().ParquetWriter(self.path, table.schema)
            self._guard(self.parquet.write_table, table)

    def _schema(self, pa):
        fields = [pa.field("row", pa.int64()), pa.field("error", pa.string())]
        fields += [pa.field(c, pa.list_(pa.string())) for c in self.columns if c not in ("row", "error")]
        return pa.schema(fields)

    def close(self) -> None:
        if self.kind == "parquet":
            if self.parquet is None:  # no row: still a valid Parquet file, with the columns
                import pyarrow as pa
                self.parquet = pyarrow_parquet().ParquetWriter(self.path, self._schema(pa))
            self._guard(self.parquet.close)
        elif self.handle is not None:
            self._guard(self.handle.flush)


@contextmanager
def _open_writer(output: Path | None, columns: list[str]) -> Iterator[_RowWriter]:
    """A writer whose file takes its name only when the block completes."""
    if output is None:
        yield _RowWriter("jsonl", columns, handle=sys.stdout, shown="standard output")
        return
    kind = cohort_format(output)
    if kind_of(output) == "other":  # /dev/stdout, a pipe: written as it is
        if kind == "parquet":
            writer = _RowWriter(kind, columns, path=output, shown=str(output))
            yield writer
            writer.close()
            return
        with open(output, "w", encoding="utf-8", newline="") as handle:
            writer = _RowWriter(kind, columns, handle=handle, shown=str(output))
            yield writer
            writer.close()
        return
    if kind == "parquet":
        pyarrow_parquet()  # say that pyarrow is missing before any work
        with atomic_path(output) as temporary:
            writer = _RowWriter(kind, columns, path=temporary, shown=str(output))
            yield writer
            writer.close()
    else:
        with atomic_output(output) as handle:
            writer = _RowWriter(kind, columns, handle=handle, shown=str(output))
            yield writer
            writer.close()


class _Writer:
    """Rows to `path` for the SQL engines (cohort_sql.py), JSON Lines on standard output without
    one. The file is written beside its name and renamed by `close()`, unless `close()` runs
    while an exception propagates (in a `finally`), when the target is left as it was."""

    def __init__(self, path: Path | None, columns: list[str]):
        self._context = _open_writer(path, columns)
        self._inner = self._context.__enter__()
        self.kind = self._inner.kind

    def write(self, rows) -> None:
        self._inner.write(rows)

    def close(self) -> None:
        error = sys.exc_info()[1]
        if error is None:
            self._context.__exit__(None, None, None)
            return
        try:  # the partial file is removed; the exception in flight goes on
            self._context.__exit__(type(error), error, error.__traceback__)
        except BaseException:  # noqa: BLE001 - the same exception, re-raised by the context
            pass


_format = cohort_format  # the name cohort_sql.py imports


@contextmanager
def _stop_on_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raised as an exception (`_Signal`), so the run unwinds and removes its
    partial output; the exception holds when the signal arrived.

    Python runs a handler only when the main thread is back in Python code, so the arrival is
    taken by a thread woken through `signal.set_wakeup_fd` (the C-level handler writes the
    signal's number there at once): a stop that waits on something is measured from the signal,
    not from when the main thread noticed it."""
    arrived: list[float] = []

    def stop(signum, frame):
        # one stop is enough: further signals must not interrupt the clean-up
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise _Signal(signum, min(arrived, default=time.monotonic()))

    try:
        previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:  # not the main thread: signals are not ours to handle
        yield
        return
    wakeup = _arrival_clock(arrived)
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        wakeup()


def _arrival_clock(arrived: list[float]):
    """Note in `arrived` the time each signal arrives; returns the function that stops noting."""
    try:
        read, write = os.pipe()
    except OSError:  # no descriptor left: the handler's own time will do
        return lambda: None
    os.set_blocking(write, False)
    try:
        previous = signal.set_wakeup_fd(write, warn_on_full_buffer=False)
    except (ValueError, OSError):
        os.close(read)
        os.close(write)
        return lambda: None

    def watch() -> None:
        try:
            while os.read(read, 64):
                arrived.append(time.monotonic())
        except OSError:
            pass
        finally:
            os.close(read)

    threading.Thread(target=watch, name="consilium-signal-clock", daemon=True).start()

    def done() -> None:
        signal.set_wakeup_fd(previous)
        os.close(write)  # the watcher reads the end of the pipe, and leaves

    return done


class _Signal(BaseException):
    """SIGINT or SIGTERM, raised where the run stands; a BaseException like KeyboardInterrupt, so
    that no `except Exception` on the way (a row's error handling) takes it for a row's problem.
    `at`: when it arrived (`time.monotonic()`)."""

    def __init__(self, signum: int, at: float | None = None):
        super().__init__(signum)
        self.signum = signum
        self.at = time.monotonic() if at is None else at


def run_cohort(kb, kb_path: str | None, cohort: Path, output: Path | None, jobs: int = 2,
               progress: bool = False, inputs: Iterable[Path | str] = ()) -> Summary:
    """Evaluate every case of `cohort`, writing to `output` (JSON Lines on stdout without one).

    Raises OutputError (the output is an input, or cannot be written), InputError (the
    cohort cannot be read as a whole), or Interrupted; in each case the output is untouched."""
    if not 1 <= jobs <= MAX_JOBS:
        raise OutputError(f"--jobs is the number of worker processes, from 1 to {MAX_JOBS}, not {jobs}")
    if output is not None:
        refuse_overwrite(output, [cohort, *inputs, *kb.loaded.paths])
    summary = Summary()
    started = time.perf_counter()
    columns = row_columns(kb)
    shown = 0

    def chunks(rows):
        chunk = []
        for item in rows:
            chunk.append(item)
            if len(chunk) == CHUNK:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    # a folder's row is its n-th .json file in name order (rows.py): an error names the file
    files = sorted(Path(cohort).glob("*.json")) if Path(cohort).is_dir() else []
    ignored: dict[str, None] = {}  # columns or keys that name no fact, said once at the end
    header: list[str] = []  # a CSV or Parquet file's columns: a fact with none is said once at the end

    def take(results, writer) -> None:
        nonlocal shown
        text, count, errors, unknown = results
        ignored.update(unknown)
        writer.write(text)
        summary.rows += count
        summary.errors += len(errors)
        for number, message, internal in errors:
            summary.internal += internal
            if shown < SHOWN_ERRORS:
                where = files[number - 1] if 0 < number <= len(files) else f"{cohort}:{number}"
                print(f"{where}: error: {message}", file=sys.stderr)
            shown += 1
            if shown == SHOWN_ERRORS:
                print(f"{cohort}: (only the first {SHOWN_ERRORS} row errors are shown here; the output's "
                      "'error' column has every one)", file=sys.stderr)
        if progress:
            rate = summary.rows / max(time.perf_counter() - started, 1e-9)
            print(f"\r{summary.rows:,} cases, {summary.errors:,} errors, {rate:,.0f} cases/s", end="",
                  file=sys.stderr, flush=True)

    global _KB
    try:
        with ExitStack() as stack:
            stack.enter_context(_stop_on_signals())
            writer = stack.enter_context(_open_writer(output, columns))
            as_jsonl = writer.kind == "jsonl"
            _KB = kb  # the workers are forked with it (spawned ones load it)
            if jobs == 1:
                for chunk in chunks(read_rows(cohort, header)):
                    take(_evaluate_chunk(chunk, as_jsonl), writer)
            else:
                workers = stack.enter_context(_Workers(jobs, kb_path))
                pending = 0
                for chunk in chunks(read_rows(cohort, header)):
                    workers.submit(chunk, as_jsonl)
                    pending += 1
                    if pending >= IN_FLIGHT:
                        take(workers.result(), writer)
                        pending -= 1
                for _ in range(pending):
                    take(workers.result(), writer)
            missing = [name for name in kb.facts if name not in header] if header else []
            if missing:  # as the SQL engines say it
                print(f"consilium: {cohort}: no column for {', '.join(missing)}: unknown for every row",
                      file=sys.stderr)
            if ignored:
                print(ignoring(str(cohort), ignored), file=sys.stderr)
    except (_Signal, KeyboardInterrupt) as stop:
        raise Interrupted.of(stop, summary.rows) from None
    finally:
        _KB = None
        if progress:
            print(file=sys.stderr)
    summary.seconds = time.perf_counter() - started
    return summary


__all__ = ["run_cohort", "read_rows", "from_csv", "Summary", "Interrupted", "InputError", "OutputError"]
