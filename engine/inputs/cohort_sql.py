"""Cohorts in SQL engines: the knowledge base's query run where the data is, DuckDB or Spark.

Takes a knowledge base and a cohort (a JSON Lines, CSV or Parquet file, or a table in a
DuckDB database or a Spark catalog); runs the staging query (engine/inputs/sql_stage.py,
text cells -> typed facts and their errors) and the lowered knowledge base
(engine/evaluation/sql.py) as one query in the engine, and writes the Python cohort's
rows: `row`, `error`, `recommendations`, each source's, `warnings`, `needs`. A row that
cannot be read is a row error and the run goes on; a fact with no column is unknown for
every row, and a column that is no fact is ignored, each said once on standard error.

DuckDB runs embedded, bounded by `memory_limit` (it spills to a temporary folder beyond
it) and writes Parquet, CSV or JSON Lines itself. Spark runs on a master URL (`local[2]`,
a cluster) or a Spark Connect URL (`sc://host:15002`); its rows come back in order
through the driver and are written like the Python cohort's. Not here: the rules' logic
(all in the query) or evaluation in Python.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable, Protocol

from ..lang import ir
from ..lang.diagnostics import ConsiliumError, UsageError
from ..lang.files import atomic_path, kind_of, refuse_overwrite
from . import csv_sql, jsonl_sql
from .rows import NOT_VALID, SPACE
from .cohort import SHOWN_ERRORS, Interrupted, Summary, _format, _Signal, _stop_on_signals, _Writer, ignoring

ENGINES = ("python", "duckdb", "spark")


def _say(message: str) -> None:
    print(f"consilium: {message}", file=sys.stderr)


def _columns_said(kb, columns: list[str], where: str) -> list[str]:
    """The facts the input gives; a missing fact and an extra column said once each."""
    facts = list(kb.facts)
    present = [c for c in columns if c in kb.facts]
    missing = [f for f in facts if f not in present]
    extra = [c for c in columns if c not in kb.facts and c not in ("row", "line")]
    if missing and columns:  # (a file of no column at all, an empty CSV, is an empty cohort, as in Python)
        _say(f"{where}: no column for {', '.join(missing)}: unknown for every row")
    if extra:
        print(ignoring(where, extra), file=sys.stderr)
    return present


SAMPLED_KEYS = 1000  # JSON Lines rows whose keys are looked at for names that are no fact


def _keys_said(kb, cohort: Path | None, where: str) -> None:
    """The keys of a JSON Lines file's first rows that name no fact, said once as the Python
    cohort says them: the engines' JSON readers ignore such keys without a word. (The Python
    cohort, which reads every row, names a key first given further down too.)"""
    extra: dict[str, None] = {}
    try:
        with open(cohort or "", "rb") as handle:
            for raw in itertools.islice(handle, SAMPLED_KEYS):
                try:
                    row = json.loads(raw)
                except ValueError:  # (not UTF-8 either) the row's error, not a key
                    continue
                if isinstance(row, dict) and "resourceType" not in row:
                    extra.update((key, None) for key in row if key not in kb.facts)
    except OSError:
        return
    if extra:
        print(ignoring(where, extra), file=sys.stderr)


def _typed_ok(fact: ir.Fact, column_type: str) -> bool:
    """Does a column of this engine type hold the fact's values as the lowering reads them?"""
    t = column_type.upper().replace(" ", "")
    match fact.type:
        case ir.BoolType():
            return t == "BOOLEAN"
        case ir.NumberType(integer=True):
            return t in ("BIGINT", "INTEGER", "INT", "SMALLINT", "TINYINT")
        case ir.NumberType():  # a DOUBLE is read from the text it writes (0.1, exactly), like a JSON number
            return t in ("BIGINT", "INTEGER", "INT", "SMALLINT", "TINYINT") or t.startswith("DECIMAL")
        case ir.EnumType():
            return t in ("VARCHAR", "STRING")
        case ir.SetType():
            return t in ("VARCHAR[]", "ARRAY<STRING>")
        case ir.DateType():
            return t == "DATE"
    return False


class QueryStore(Protocol):
    """Where built queries are kept between runs (engine/cache.py: sealed entries in the user's cache)."""

    def read_entry(self, name: str) -> bytes | None: ...

    def write_entry(self, name: str, data: bytes) -> None: ...

    def engine_digest(self) -> str: ...


def _query(kb, dialect: str, kind: str, present: list[str], typed: frozenset[str],
           store: QueryStore | None = None) -> str:
    """The staging query and the lowered knowledge base as one query's text.

    Built with sqlglot (0.15 s and sqlglot's import for the bench decision, more for a larger
    knowledge base), so kept in `store` when given: the text is a function of the rule files'
    texts, the engine's code (its digest) and the arguments alone, and a run that finds it
    neither imports sqlglot nor builds."""
    name = None
    if store is not None:
        key = json.dumps([store.engine_digest(), dialect, kind, present, sorted(typed),
                          sorted(kb.loaded.texts.items())], ensure_ascii=False)
        name = "sql-" + hashlib.sha256(key.encode()).hexdigest()[:32] + ".sql"
        data = store.read_entry(name)
        if data is not None:
            return data.decode("utf-8")
    from sqlglot import exp

    from ..evaluation import sql
    from .sql_stage import Stage
    stage = Stage(kb.facts, dialect, kind).query(exp.to_table("raw"), present, typed)
    columns = ["row", "error", *present, "__errors"] + (["__hint"] if kind == "csv" else [])
    for fact in present:
        if fact not in typed or isinstance(kb.facts[fact].type, ir.SetType):  # (a typed list may hold NULL)
            columns.append(fact + "__error")
        if fact not in typed and isinstance(kb.facts[fact].type, ir.DurationType):
            columns.append(fact + "__months")
    staged = exp.Subquery(this=stage, alias=exp.TableAlias(this=exp.to_identifier("staged")))
    # DuckDB's staging reads an enum cell into an ENUM of its values (sql_stage.py): listed already
    listed = [f for f in present if f not in typed and isinstance(kb.facts[f].type, ir.EnumType)] \
        if dialect == "duckdb" else []
    text = sql.lower(kb.checked, table=staged, columns=columns, dialect=dialect, listed=listed).sql(
        dialect=dialect, identify=True, copy=False)
    if store is not None and name is not None:
        store.write_entry(name, text.encode("utf-8"))
    return text


def _output_columns(kb) -> list[str]:
    from ..evaluation import sql
    return sql.output_columns(kb.checked)


# ---- DuckDB ----------------------------------------------------------------------------------

def _literal(text: str) -> str:
    """A DuckDB string literal (a quote doubled; a backslash is no escape in DuckDB's strings)."""
    return "'" + text.replace("'", "''") + "'"


def run_duckdb(kb: Any, cohort: Path | None, output: Path | None, *, database: str | None = None,
               table: str | None = None, memory_limit: str | None = None, threads: int | None = None,
               progress: bool = False, store: QueryStore | None = None) -> Summary:
    """Evaluate a cohort file (or `table` of a DuckDB `database`) in DuckDB; the query's text is
    kept in `store` between runs (engine/cache.py), when given.

    Raises UsageError (DuckDB cannot open or run it), OutputError (the output is an input,
    or cannot be written) or Interrupted (SIGINT, SIGTERM); the output is then untouched."""
    duckdb = _import("duckdb", "duckdb")
    if output is not None:
        refuse_overwrite(output, [p for p in (cohort, database) if p is not None] + list(kb.loaded.paths))
    started = time.perf_counter()
    try:
        con = duckdb.connect(database or ":memory:", read_only=bool(database and table))
    except duckdb.Error as error:
        raise UsageError(f"cannot open the DuckDB database '{database}': {_first_line(error)}") from None
    summary = Summary()
    scratch = tempfile.TemporaryDirectory(prefix="consilium-")  # a CSV file as rows.py reads it, when needed
    try:
        with _stop_on_signals():
            if memory_limit:
                con.execute(f"SET memory_limit = {_literal(memory_limit)}")
            if threads:
                con.execute(f"SET threads = {int(threads)}")
            con.execute("SET preserve_insertion_order = true")
            if progress:
                con.execute("SET enable_progress_bar = true")
            query, where, tolerant = _duckdb_source(kb, con, cohort, table, Path(scratch.name), store)
            _duckdb_write(kb, con, query, output, where, summary, tolerant)
    except (_Signal, KeyboardInterrupt) as stop:
        raise Interrupted.of(stop, summary.rows) from None
    except duckdb.Error as error:
        raise UsageError(f"DuckDB could not run the cohort: {_first_line(error)}") from None
    finally:
        try:
            con.close()
        except duckdb.Error:  # still busy with a call a signal cut short: the process is ending anyway
            pass
        scratch.cleanup()
    summary.seconds = time.perf_counter() - started
    return summary


def _interruptible(con: Any, work: Callable[[], Any]) -> Any:
    """`work()` (a DuckDB call) in a thread, the main thread free to take SIGINT and SIGTERM:
    on a signal, DuckDB is told to stop, and the signal's exception goes on once it has."""
    done: dict[str, Any] = {}
    # Waited on by polling `is_set` between sleeps, neither Thread.join (a join cut short by a
    # signal may not wait again) nor Event.wait: the signal's exception can land inside
    # Condition.wait between releasing its lock and the `try` that takes it back, and leave
    # "release unlocked lock" to the `with` around it (seen under load); `time.sleep` is cut
    # short cleanly and `is_set` takes no lock.
    finished = threading.Event()

    def run() -> None:
        try:
            done["value"] = work()
        except BaseException as error:  # noqa: BLE001 - handed to the main thread, raised there
            done["error"] = error
        finally:
            finished.set()

    threading.Thread(target=run, daemon=True).start()
    try:
        while not finished.is_set():
            time.sleep(0.02)
    except BaseException:
        con.interrupt()
        while not finished.is_set():
            time.sleep(0.02)
        raise
    if "error" in done:
        raise done["error"]
    return done.get("value")


def _duckdb_source(kb, con, cohort: Path | None, table: str | None, scratch: Path,
                   store: QueryStore | None = None) -> tuple[str, str, Callable[[], None] | None]:
    """The query, where its rows come from, and what to call to read the input again the tolerant
    way when the first, quicker reading stops at a line that is not JSON (the same query then
    reads it; None: no such first reading)."""
    objects = utf8 = False  # (a JSON Lines file's: jsonl_sql.scan)
    if table is not None:
        from sqlglot import exp
        relation = exp.to_table(table, quoted=True).sql(dialect="duckdb")
        where = table
        kind = "table"
    else:
        assert cohort is not None, "a cohort file when there is no table"
        where = str(cohort)
        kind = _format(cohort)
        path = _literal(str(cohort))
        if kind == "jsonl":
            objects, utf8 = jsonl_sql.scan(cohort)
            relation = _duckdb_lines(path) if utf8 else _duckdb_lines(_utf8_copy(cohort, scratch), marked=True)
        elif kind == "csv":
            return _duckdb_csv(kb, con, cohort, scratch, store), where, None
        else:
            relation = f"(SELECT *, file_row_number + 1 AS \"row\" FROM read_parquet({path}, file_row_number = true))"
    if kind == "jsonl":
        _keys_said(kb, cohort, where)
    if kind == "jsonl" and objects and utf8:
        # First read as every well-formed file can be (each line an object: no row error to find),
        # and only if a line is not JSON, again with each line's own error (0.035 s more a million)
        con.execute(f"CREATE TEMP VIEW raw AS SELECT * FROM {_json_fields(kb, path, tolerant=False)}")

        def tolerant() -> None:
            """The input read again, tolerantly, under the same view (after DuckDB's reader stopped
            at a line that is not JSON, or before anything is read, for standard output): the
            query stays the same."""
            con.execute(f"CREATE OR REPLACE TEMP VIEW raw AS SELECT * FROM {_json_fields(kb, path, True)}")
        return _query(kb, "duckdb", "fields", list(kb.facts), frozenset(), store), where, tolerant
    described = {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()}
    if kind == "jsonl":
        con.execute(f"CREATE TEMP VIEW raw AS SELECT * FROM {relation}")
        return _query(kb, "duckdb", "line", list(kb.facts), frozenset(), store), where, None
    names = [c for c in described if c not in ("ordinality", "file_row_number", "row")]
    present = _columns_said(kb, names, where)
    typed = frozenset(n for n in present if _typed_ok(kb.facts[n], described[n]))
    casts = []  # the other columns as JSON text: read as a JSON case's values are ("3" is no number)
    for name in present:
        if name not in typed:
            column = _ident(name)
            casts.append(f"CAST(to_json({column}) AS VARCHAR) AS {column}")
    if casts:
        relation = f"(SELECT * REPLACE ({', '.join(casts)}) FROM {relation})"
    if "row" not in described:
        # a table has no order of its own: rows are numbered as the scan gives them
        relation = f"(SELECT *, row_number() OVER () AS \"row\" FROM {relation})"
    con.execute(f"CREATE TEMP VIEW raw AS SELECT * FROM {relation}")
    return _query(kb, "duckdb", "value", present, typed, store), where, None


def _duckdb_csv(kb, con, cohort: Path, scratch: Path, store: QueryStore | None = None) -> str:
    """A CSV file read by DuckDB with the Python cohort's dialect and header (csv_sql.py): its own
    reader when it reads every record as rows.py does, with no row of too few or too many cells
    (its rejects, found by a first scan), else the file as rows.py reads it (errors included)."""
    found = csv_sql.plan(cohort)
    columns = csv_sql.names(found)
    path = _literal(str(cohort))

    def read(path: str, width: int, skip: int, **more: str) -> str:
        typed = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width))
        options = "".join(f", {k} = {v}" for k, v in more.items())
        return (f"read_csv({path}, columns = {{{typed}}}, header = false, skip = {skip}, delim = ',', quote = '\"', "
                f"escape = '\"', auto_detect = false, strict_mode = true, null_padding = false{options})")

    exact = found.exact
    if exact:
        con.execute(f"SELECT count(*) FROM {read(path, len(columns), found.header, store_rejects='true')}").fetchall()
        exact = con.execute("SELECT count(*) FROM reject_errors").fetchone()[0] == 0
    cells = [c for c in columns if c in kb.facts]
    if exact:
        chosen = ", ".join(f"c{columns.index(c)} AS {_ident(c)}" for c in cells)
        relation = (f"(SELECT {csv_sql.line_of('ordinality', found)} AS \"row\", CAST(NULL AS VARCHAR) AS error"
                    f"{', ' if chosen else ''}{chosen} FROM {read(path, len(columns), found.header)} WITH ORDINALITY)")
    else:
        normalized = scratch / "rows.csv"
        csv_sql.normalize(cohort, normalized, columns)
        chosen = ", ".join(f"c{columns.index(c) + 2} AS {_ident(c)}" for c in cells)
        relation = (f"(SELECT CAST(c0 AS BIGINT) AS \"row\", nullif(c1, '') AS error{', ' if chosen else ''}{chosen} "
                    f"FROM {read(_literal(str(normalized)), len(columns) + 2, 1)})")
    present = _columns_said(kb, columns, str(cohort))
    con.execute(f"CREATE TEMP VIEW raw AS SELECT * FROM {relation}")
    return _query(kb, "duckdb", "csv", present, frozenset(), store)


# DuckDB's line reader stops at a line of more than 2 MB, its default; the Python cohort reads any
# line. 1 GiB costs nothing on a file of short lines (DuckDB's buffers grow only for a long one).
_LONGEST_LINE = 1 << 30


def _duckdb_lines(path: str, marked: bool = False) -> str:
    """One row per line that is not blank: its number (blank lines counted, as the Python cohort
    counts them), its text, and its error: in jsonl_sql's copy of a file that is not UTF-8
    (`marked`), a marked line's words, which follow the mark; none in a file read as it is (where a
    line opening with the mark is the user's text)."""
    lines = (f"(SELECT ordinality AS \"row\", line FROM read_csv({path}, columns = {{'line': 'VARCHAR'}}, "
             f"header = false, delim = '\\x01', quote = '', escape = '', auto_detect = false, "
             f"strict_mode = false, max_line_size = {_LONGEST_LINE}) WITH ORDINALITY "
             f"WHERE ltrim(line, {_literal(SPACE)}) <> '')")
    if not marked:
        return f"(SELECT \"row\", line, CAST(NULL AS VARCHAR) AS error FROM {lines})"
    mark = f"starts_with(line, chr({ord(jsonl_sql.MARK)}))"
    return (f"(SELECT \"row\", CASE WHEN NOT {mark} THEN line END AS line, "
            f"CASE WHEN {mark} THEN substr(line, 2) END AS error FROM {lines})")


def _utf8_copy(cohort: Path, scratch: Path) -> str:
    """A copy of a file holding bytes that are not UTF-8, which DuckDB's readers stop at: each
    such line its row's error (jsonl_sql.py); the copy's path, as a DuckDB literal."""
    copy = scratch / "lines.jsonl"
    jsonl_sql.utf8_copy(cohort, copy)
    return _literal(str(copy))


def _json_fields(kb, path: str, tolerant: bool) -> str:
    """One row per line: its number, its error when it is not a JSON object, each fact's field
    as its JSON text (DuckDB's JSON type, cast to text: a string quoted, so that "3" is not read
    as the number 3; JSON's null is NULL), and `line`, the line as DuckDB's JSON reader writes it
    back, where a key given twice can be found (sql_stage.py).

    Not `tolerant`: DuckDB's reader stops at the first line that is not JSON or gives a fact
    twice (an error the caller takes as the sign to read again, tolerant), and reads the rest
    0.035 s a million lines faster, its fields not in a STRUCT; no `line`. `tolerant`: each line
    is read whole (NULL when it is not JSON, that row's error), written back with a key
    given twice kept twice, and its fields taken from that text (`json_transform`, which keeps a
    key's first value, as DuckDB's STRUCT reader does): as quick as the STRUCT reader beside a
    second reading of the lines joined by position, which held every line in memory."""
    if not tolerant:
        columns = ", ".join(f"{_literal(name)}: 'JSON'" for name in kb.facts)
        return ("(SELECT ordinality AS \"row\", CAST(NULL AS VARCHAR) AS error, "
                + ", ".join(f"CAST({_ident(name)} AS VARCHAR) AS {_ident(name)}" for name in kb.facts)
                + ", CAST(NULL AS VARCHAR) AS line"
                + f" FROM read_json({path}, format = 'newline_delimited', columns = {{{columns}}}) WITH ORDINALITY)")
    structure = _literal("{" + ", ".join(f'{json.dumps(name)}: "JSON"' for name in kb.facts) + "}")
    return (f"(SELECT ordinality AS \"row\", CASE WHEN j IS NULL THEN {_literal(NOT_VALID)} END AS error, "
            + ", ".join(f"CAST(t.{_ident(name)} AS VARCHAR) AS {_ident(name)}" for name in kb.facts)
            + f", CAST(j AS VARCHAR) AS line FROM (SELECT ordinality, j, json_transform(j, {structure}) AS t "
              f"FROM read_json({path}, format = 'newline_delimited', records = false, columns = {{'j': 'JSON'}}, "
              "ignore_errors = true) WITH ORDINALITY))")


def _duckdb_write(kb: Any, con: Any, query: str, output: Path | None, where: str, summary: Summary,
                  tolerant: Callable[[], None] | None = None) -> None:
    """Run the query into `output` (standard output when None); `tolerant()` makes the input be
    read again the tolerant way, when the first reading stops at a line that is not JSON."""
    shown = _Shown(where)
    if output is None or kind_of(output) == "other":  # standard output, a pipe: written as it comes
        if tolerant is not None:  # (rows once written cannot be taken back to read again)
            tolerant()
        writer = _Writer(output, _output_columns(kb))
        try:
            result = _interruptible(con, lambda: con.execute(query))
            names = [d[0] for d in result.description]
            while batch := _interruptible(con, lambda: result.fetchmany(10_000)):
                rows = [{k: v for k, v in zip(names, r, strict=True) if v is not None} for r in batch]
                writer.write(rows)
                _count(summary, rows, shown)
        finally:
            writer.close()
        return
    kind = _format(output)
    if kind == "csv":
        lists = [c for c in _output_columns(kb) if c not in ("row", "error")]
        joined = ", ".join(f"array_to_string({_ident(c)}, {_literal(chr(124))}) AS {_ident(c)}" for c in lists)
        query = f"SELECT * REPLACE ({joined}) FROM ({query})"
        options = "FORMAT csv, HEADER true"
    elif kind == "jsonl":
        options = "FORMAT json"
    else:
        options = "FORMAT parquet"
    reader = {"csv": "read_csv", "jsonl": "read_json", "parquet": "read_parquet"}[kind]
    not_json = sys.modules["duckdb"].InvalidInputException  # (run_duckdb imported DuckDB)
    # DuckDB writes the file beside its name; it takes the name only once complete and counted
    with atomic_path(output) as temporary:
        target = _literal(str(temporary))
        try:
            _interruptible(con, lambda: con.execute(f"COPY ({query}) TO {target} ({options})"))
        except not_json:  # a line that is not JSON, or a key given twice: DuckDB's reader stopped there
            if tolerant is None:
                raise
            tolerant()
            _interruptible(con, lambda: con.execute(f"COPY ({query}) TO {target} ({options})"))
        counted = f"SELECT count(*) FROM {reader}({target}"
        summary.rows = _interruptible(con, lambda: con.execute(
            counted + (", format = 'newline_delimited')" if kind == "jsonl" else ")")).fetchone())[0]
        json_format = f", format = {_literal('newline_delimited')}" if kind == "jsonl" else ""
        errors = [] if not summary.rows else _interruptible(con, lambda: con.execute(  # (no row: JSON has no columns)
            f"SELECT \"row\", error FROM {reader}({target}{json_format}) WHERE error IS NOT NULL").fetchall())
        _count(summary, [{"row": r, "error": e} for r, e in errors], shown, count_rows=False)


class _Shown:
    """Row errors said on standard error, as the Python cohort says them: the first hundred."""

    def __init__(self, where: str):
        self.where, self.count = where, 0

    def say(self, row: Any, error: str) -> None:
        if self.count < SHOWN_ERRORS:
            print(f"{self.where}:{row}: error: {error}", file=sys.stderr)
        self.count += 1
        if self.count == SHOWN_ERRORS:
            print(f"{self.where}: (only the first {SHOWN_ERRORS} row errors are shown here; the output's "
                  "'error' column has every one)", file=sys.stderr)


def _ident(name: str) -> str:
    """A quoted DuckDB identifier (a double quote doubled)."""
    return '"' + name.replace('"', '""') + '"'


def _count(summary: Summary, rows: list[dict[str, Any]], shown: _Shown, *, count_rows: bool = True) -> None:
    """Count the rows and the errors, each error said on standard error as the Python cohort does."""
    if count_rows:
        summary.rows += len(rows)
    for row in rows:
        if row.get("error"):
            summary.errors += 1
            shown.say(row["row"], row["error"])


# ---- Spark -----------------------------------------------------------------------------------

_MASTER = re.compile(r"^(local(\[(\d+|\*)(,\d+)?\])?|yarn|(spark|k8s|mesos|sc)://\S+)$")


def _java_found() -> bool:
    home = os.environ.get("JAVA_HOME")
    if home:
        return (Path(home) / "bin" / "java").exists()
    return shutil.which("java") is not None


def spark_session(master: str):
    """A Spark session on `master` (local[2], spark://..., or a Spark Connect sc://... URL)."""
    _import("pyspark", "spark")
    needs = ("Spark needs Java 17 or newer on the PATH or in JAVA_HOME, and a master URL such as local[2], "
             "spark://host:7077 or sc://host:15002")
    if not _MASTER.match(master):
        raise UsageError(f"'{master}' is not a Spark master URL ({needs})")
    if not master.startswith("sc://") and not _java_found():
        raise UsageError(f"Spark cannot start: no Java found ({needs})")
    if master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # local mode talks over the loopback only
    from pyspark.sql import SparkSession
    builder = SparkSession.builder.appName("consilium")
    builder = builder.remote(master) if master.startswith("sc://") else builder.master(master)
    builder = (builder.config("spark.sql.ansi.enabled", "false")  # a cell that does not parse is NULL
               .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", "4")
               # a sum of DECIMAL(38, 18)s stays DECIMAL(38, 18), NULL where it leaves it (the row's
               # error, engine/evaluation/sql.py), not DECIMAL(38, 17), its 18th decimal rounded
               .config("spark.sql.decimalOperations.allowPrecisionLoss", "false")
               # the query is many thin layers of columns: collapsing them costs minutes of planning
               .config("spark.sql.optimizer.excludedRules",
                       "org.apache.spark.sql.catalyst.optimizer.CollapseProject"))
    try:
        session = builder.getOrCreate()
        if not master.startswith("sc://"):
            session.sparkContext.setLogLevel("ERROR")
            _quiet_codegen(session)
        return session
    except Exception as error:  # noqa: BLE001 - pyspark raises many kinds: no Java, a bad URL, a refused connection
        raise UsageError(f"Spark could not start on '{master}': {_first_line(error)} ({needs})") from None


def _quiet_codegen(session) -> None:
    """No error and Java stack trace on the console when a stage of the query is too large for
    one compiled method (64 KB: a knowledge base of many number facts): Spark then runs that
    stage without whole-stage code generation (spark.sql.codegen.fallback), with the same rows."""
    try:
        jvm = session.sparkContext._jvm
        jvm.org.apache.logging.log4j.core.config.Configurator.setLevel(
            "org.apache.spark.sql.catalyst.expressions.codegen.CodeGenerator", jvm.org.apache.logging.log4j.Level.OFF)
    except Exception:  # noqa: BLE001 - only the console's noise: a JVM without log4j 2 keeps it
        pass


def run_spark(kb: Any, cohort: Path | None, output: Path | None, *, master: str = "local[2]",
              table: str | None = None, session: Any = None, progress: bool = False) -> Summary:
    """Evaluate a cohort file (or a table of the Spark catalog) on Spark.

    Raises UsageError, OutputError or Interrupted as `run_duckdb` does."""
    if output is not None:
        refuse_overwrite(output, [p for p in (cohort,) if p is not None] + list(kb.loaded.paths))
    started = time.perf_counter()
    sessions: list[Any] = []  # the session, once the thread has it: what a stop cancels

    def start() -> Any:
        spark = session or spark_session(master)
        sessions.append(spark)
        if progress and session is None:
            spark.conf.set("spark.ui.showConsoleProgress", "true")
        return spark

    summary = Summary()
    scratch = tempfile.TemporaryDirectory(prefix="consilium-")  # a CSV file as rows.py reads it, when needed
    try:
        with _stop_on_signals():
            # Spark is started and called from a thread of its own (`_spark_batches`), the main
            # thread only waits for its rows: a py4j call cut short by a signal leaves its
            # connection out of step (the next call on it reads the last one's answer, and py4j
            # logs a traceback), a query being planned cannot be cancelled, and a session started
            # off the main thread does not put in its own SIGINT handler. So a signal lands where
            # nothing of Spark's is under way.
            batches = _spark_batches(kb, start, cohort, table, Path(scratch.name))
            shown = _Shown(next(batches))
            writer = _Writer(output, _output_columns(kb))
            try:
                for batch in batches:
                    writer.write(batch)
                    _count(summary, batch, shown)
            finally:
                writer.close()
    except (_Signal, KeyboardInterrupt) as stop:
        for spark in sessions:
            _cancel_spark(spark, master)
        raise Interrupted.of(stop, summary.rows) from None
    except ConsiliumError:
        raise
    except Exception as error:  # noqa: BLE001 - Spark's analysis errors, a file it cannot read: py4j's and pyspark's kinds
        raise UsageError(f"Spark could not run the cohort: {_spark_cause(error)}") from None
    finally:
        scratch.cleanup()
    summary.seconds = time.perf_counter() - started
    return summary


def _spark_batches(kb, start: Callable[[], Any], cohort: Path | None, table: str | None, scratch: Path):
    """Where the rows come from, then batches of rows, made by Spark (started by `start()`) in a
    daemon thread; its error raised here. Waiting on the queue is where a signal lands (a lock's
    wait takes signals)."""
    import queue
    handed: queue.Queue = queue.Queue(maxsize=4)

    def work() -> None:
        try:
            spark = start()
            query, where = _spark_source(kb, spark, cohort, table, scratch)
            handed.put(("where", where))
            batch: list[dict[str, Any]] = []
            for record in spark.sql(query).toLocalIterator(prefetchPartitions=True):
                batch.append({k: v for k, v in record.asDict().items() if v is not None})
                if len(batch) == 10_000:
                    handed.put(("rows", batch))
                    batch = []
            if batch:
                handed.put(("rows", batch))
            handed.put(("done", None))
        except BaseException as error:  # noqa: BLE001 - raised in the main thread
            handed.put(("error", error))

    threading.Thread(target=work, name="consilium-spark", daemon=True).start()
    while True:
        kind, payload = handed.get()
        if kind == "error":
            raise payload
        if kind == "done":
            return
        yield payload


def _cancel_spark(spark, master: str) -> None:
    """Ask Spark to drop its jobs, waiting for that at most half a second, whatever state it is in
    (its JVM may be gone already: SIGTERM to the process group reaches it too)."""
    def cancel() -> None:
        try:
            if master.startswith("sc://"):
                spark.interruptAll()
            else:
                spark.sparkContext.cancelAllJobs()
        except Exception:  # noqa: BLE001 - the run is stopping anyway
            pass

    helper = threading.Thread(target=cancel, name="consilium-spark-cancel", daemon=True)
    helper.start()
    helper.join(timeout=0.5)


def _numbered(frame, first: int):
    """Rows numbered in file order, in the JVM: each partition's count, then offsets.

    A monotonically increasing id holds the partition in its upper bits and the record's
    place in it in the lower 33; one small job counts each partition's records."""
    from pyspark.sql import functions as sf
    frame = frame.withColumn("__id", sf.monotonically_increasing_id())
    counts = dict(frame.groupBy(sf.shiftright("__id", 33).alias("p")).count().collect())
    offsets, total = [], first
    for partition in range(max(counts, default=-1) + 1):
        offsets.append(total)
        total += counts.get(partition, 0)
    if not offsets:
        return frame.withColumn("row", sf.lit(first).cast("long")).drop("__id")
    start = sf.element_at(sf.array(*[sf.lit(o) for o in offsets]), (sf.shiftright("__id", 33) + 1).cast("int"))
    return frame.withColumn("row", (sf.col("__id").bitwiseAND((1 << 33) - 1) + start).cast("long")).drop("__id")


def _spark_source(kb, spark, cohort: Path | None, table: str | None, scratch: Path) -> tuple[str, str]:
    if table is not None:
        frame, where, kind = spark.table(table), table, "table"
    else:
        assert cohort is not None, "a cohort file when there is no table"
        where, kind = str(cohort), _format(cohort)
        if kind == "jsonl":
            frame = spark.read.text(str(cohort)).withColumnRenamed("value", "line")
        elif kind == "csv":
            return _spark_csv(kb, spark, cohort, scratch), where
        else:
            frame = spark.read.parquet(str(cohort))
    if "row" not in frame.columns:
        frame = _numbered(frame, 1)
    if kind == "jsonl":
        _keys_said(kb, cohort, where)
        frame = frame.where(f"trim(BOTH {_literal(SPACE)} FROM line) <> ''")  # blank as Python says
        frame.createOrReplaceTempView("raw")
        return _query(kb, "spark", "line", list(kb.facts), frozenset()), where
    described = {f.name: f.dataType.simpleString() for f in frame.schema.fields}
    present = _columns_said(kb, [c for c in frame.columns], where)
    typed = frozenset(n for n in present if _typed_ok(kb.facts[n], described[n]))
    from pyspark.sql import functions as sf
    for name in present:
        if name not in typed:  # as JSON text, read as a JSON case's values are ("3" is no number):
            column = sf.col(f"`{name}`")  # (to_json takes a list, and writes [value]: the brackets dropped)
            listed = sf.to_json(sf.array(column))
            frame = frame.withColumn(name, sf.when(column.isNotNull(), listed.substr(sf.lit(2), sf.length(listed) - 2)))
    frame.createOrReplaceTempView("raw")
    return _query(kb, "spark", "value", present, typed), where


def _spark_csv(kb, spark, cohort: Path, scratch: Path) -> str:
    """A CSV file read by Spark with the Python cohort's dialect and header (csv_sql.py): its own
    reader when it reads every record as rows.py does, with no row of too few or too many cells
    (PERMISSIVE mode's corrupt-record column, counted by a first job), else the file as rows.py
    reads it (errors included)."""
    from pyspark.sql import functions as sf
    found = csv_sql.plan(cohort)
    columns = csv_sql.names(found)

    def read(path: Path, width: int, multiline: bool, corrupt: bool = False):
        schema = ", ".join([f"c{i} STRING" for i in range(width)] + (["__corrupt STRING"] if corrupt else []))
        return (spark.read.schema(schema).option("header", True).option("enforceSchema", True)
                .option("mode", "PERMISSIVE").option("columnNameOfCorruptRecord", "__corrupt")
                .option("sep", ",").option("quote", '"').option("escape", '"').option("encoding", "UTF-8")
                .option("multiLine", multiline)  # a quoted cell over lines: one record
                .option("ignoreLeadingWhiteSpace", False).option("ignoreTrailingWhiteSpace", False)
                .csv(str(path)))

    exact = found.exact and bool(columns)
    if exact:
        # Spark reads a row of too few or too many cells all the same, marking it in the corrupt-record
        # column; every column is read (with only some, it does not count a row's cells)
        checked = read(cohort, len(columns), found.spanning, corrupt=True)
        exact = not checked.where(sf.col("__corrupt").isNotNull()).limit(1).collect()
    cells = [c for c in columns if c in kb.facts]
    if exact:
        frame = _numbered(read(cohort, len(columns), found.spanning), 1)
        frame = frame.select(sf.expr(csv_sql.line_of("`row`", found)).alias("row"),
                             sf.lit(None).cast("string").alias("error"),
                             *[sf.col(f"c{columns.index(c)}").alias(c) for c in cells])
    else:
        normalized = scratch / "rows.csv"
        csv_sql.normalize(cohort, normalized, columns)
        frame = read(normalized, len(columns) + 2, True).select(
            sf.col("c0").cast("long").alias("row"), sf.expr("nullif(c1, '')").alias("error"),
            *[sf.col(f"c{columns.index(c) + 2}").alias(c) for c in cells])
    present = _columns_said(kb, columns, str(cohort))
    frame.createOrReplaceTempView("raw")
    return _query(kb, "spark", "csv", present, frozenset())


# ---- shared -----------------------------------------------------------------------------------

def _import(module: str, extra: str) -> Any:
    try:
        return __import__(module)
    except ImportError:
        raise UsageError(f"--engine {extra} needs the {module} package: "
                         f"pip install 'consilium[{extra}]'") from None


def _spark_cause(error: BaseException) -> str:
    """What went wrong in Spark, in a line: py4j's first line names only the call that failed
    ("An error occurred while calling o85.getResult"), the JVM's cause is further down."""
    text = str(error)
    if "java.lang.OutOfMemoryError" in text:
        return ("Spark ran out of memory (java.lang.OutOfMemoryError: "
                + text.split("java.lang.OutOfMemoryError:", 1)[1].strip().splitlines()[0][:100]
                + "); in local mode give its JVM more, e.g. PYSPARK_SUBMIT_ARGS='--driver-memory 4g pyspark-shell'")
    causes = [line.strip() for line in text.splitlines() if line.strip().startswith("Caused by:")]
    first = _first_line(error)
    return f"{first} ({causes[-1].removeprefix('Caused by:').strip()[:300]})" if causes else first


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:400]


__all__ = ["ENGINES", "run_duckdb", "run_spark", "spark_session"]
