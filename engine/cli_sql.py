"""The command line's SQL faces: `consilium sql`, `eval --cohort --engine duckdb|spark`, `audit`.

Thin: parses nothing itself (engine/cli.py does), loads the knowledge base, calls the
lowering, the engines or the audit report, and turns their errors into a message and an
exit code as engine/cli.py does for the other commands.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from .lang.diagnostics import ConsiliumError, DiagnosticsError, format_text

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT = 0, 1, 2


def _load(path: str | None):
    from .kb import bundled_kb_path, load_kb
    return load_kb(path if path is not None else bundled_kb_path())


def _diagnostics(error: DiagnosticsError) -> None:
    print(format_text(error.diagnostics, error.texts), file=sys.stderr)


def _bundle_line(path: Path) -> int | None:
    """The line of a JSON Lines cohort's first case when that case is a FHIR Bundle, else None."""
    if path.suffix.lower() not in (".jsonl", ".ndjson", ".json") or not path.is_file():
        return None
    try:
        with path.open("rb") as handle:
            for number, line in enumerate(handle, 1):
                if line.strip():
                    first = json.loads(line)
                    return number if isinstance(first, dict) and first.get("resourceType") == "Bundle" else None
    except (OSError, ValueError):  # the engine reports an unreadable file, or a line that is not JSON
        return None
    return None


def sql_command(args) -> int:
    from .evaluation.sql import to_sql
    try:
        kb = _load(args.path)
        print(to_sql(kb.checked, args.dialect, table=args.table))
    except DiagnosticsError as error:
        _diagnostics(error)
        return EXIT_INPUT
    return EXIT_OK


def cohort_in_engine(args) -> int:
    from .inputs.cohort import Interrupted
    from .inputs.cohort_sql import run_duckdb, run_spark
    if len(args.paths) > 1:
        print("consilium eval --cohort: give at most a knowledge base besides the cohort", file=sys.stderr)
        return EXIT_INPUT
    if not args.cohort and not args.table:
        print("consilium eval: --engine needs --cohort FILE or --table NAME", file=sys.stderr)
        return EXIT_INPUT
    if args.table and args.engine == "python":
        print("consilium eval: --table needs --engine duckdb or spark", file=sys.stderr)
        return EXIT_INPUT
    if args.cohort and not Path(args.cohort).exists():
        print(f"consilium eval: no cohort file '{args.cohort}'", file=sys.stderr)
        return EXIT_INPUT
    bundle = _bundle_line(Path(args.cohort)) if args.cohort and not args.table else None
    if bundle is not None:  # read as a flat case, a bundle names no fact: every row would be empty
        print(f"consilium eval: {args.cohort}:{bundle}: a FHIR bundle, which --engine {args.engine} cannot read "
              "(it reads a fact per key or column); evaluate bundles with --engine python", file=sys.stderr)
        return EXIT_INPUT
    if args.engine == "duckdb" and args.table and not args.database:
        print("consilium eval: --table with --engine duckdb needs --database FILE", file=sys.stderr)
        return EXIT_INPUT
    progress = sys.stderr.isatty()
    output = None
    try:
        from .lang.files import file_output
        output = file_output(args.output) if args.output else None  # `-o out.jsonl/`: nothing is written
        kb = _load(args.paths[0] if args.paths else None)
        cohort = Path(args.cohort) if args.cohort and not args.table else None
        if output is not None:  # never over the cohort, the database or a rule file (exit 2, nothing touched)
            from .lang.files import refuse_overwrite
            refuse_overwrite(output, [p for p in (cohort, args.database) if p] + list(kb.loaded.paths))
        if args.engine == "duckdb":
            from . import cache  # the built query is kept there: a later run neither imports sqlglot nor builds
            summary = run_duckdb(kb, cohort, output, database=args.database, table=args.table,
                                 memory_limit=args.memory_limit, progress=progress, store=cache)
        else:
            summary = run_spark(kb, cohort, output, master=args.spark_master, table=args.table, progress=progress)
    except Interrupted as stop:
        where = f"{output} was not written" if output else "the rows so far are on standard output"
        # DuckDB writes a file whole: until it is done no row is (the rows so far are counted otherwise)
        done = f"after {stop.rows:,} rows" if stop.rows else "before the output was complete"
        print(f"consilium eval: stopped by {stop.args[0]} {done}, {stop.stopped_in():.2f} s after the signal; {where}",
              file=sys.stderr)
        if args.engine == "spark":
            # The run is over and its output cleaned up. What is left is Python's finalizers,
            # and pyspark's local iterator, left unfinished by the stop, reads the rest of its
            # partition from the JVM in its __del__: 0.3 to 3 s measured, on a loaded machine,
            # that the user would wait for after the stop.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(128 + stop.signum)
        return 128 + stop.signum
    except DiagnosticsError as error:
        _diagnostics(error)
        return EXIT_INPUT
    except ConsiliumError as error:
        print(f"consilium eval: {error}", file=sys.stderr)
        return EXIT_INPUT
    cases = f"{summary.rows:,} case{'s' if summary.rows != 1 else ''}"
    print(f"{cases} in {summary.seconds:.1f} s ({args.engine}), {summary.errors:,} with errors"
          + (f"; rows written to {output}" if output else ""), file=sys.stderr)
    return EXIT_FINDINGS if summary.errors else EXIT_OK


def audit_command(args) -> int:
    from ..render.audit import write_audit
    try:
        kb = _load(args.path)
        from .lang.files import file_output
        written = write_audit(kb, Path(args.rows), file_output(args.output, example="audit.html"),
                              cohort=Path(args.cohort) if args.cohort else None, received=args.received,
                              progress=sys.stderr.isatty())
    except DiagnosticsError as error:
        _diagnostics(error)
        return EXIT_INPUT
    except ConsiliumError as error:
        print(f"consilium audit: {error}", file=sys.stderr)
        return EXIT_INPUT
    print(f"wrote {written}")
    return EXIT_OK


__all__ = ["audit_command", "cohort_in_engine", "sql_command"]
