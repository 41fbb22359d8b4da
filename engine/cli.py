"""The `consilium` command: check, eval and test a knowledge base.

A thin shell over the Python API: it parses arguments, calls `load_kb`, evaluates or runs
scenarios, and turns results and errors into text or JSON and an exit code. It owns the
promise that no Python traceback reaches a user: bad input is reported as diagnostics,
and an internal error as one line asking for a bug report.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from pathlib import Path
from typing import Any

from .lang.diagnostics import (ConsiliumError, DiagnosticsError, KnowledgeBaseError, UsageError,
                          format_json, format_text)
from .kb import KnowledgeBase, bundled_kb_path, load_kb
from .result_text import format_result  # noqa: F401 - `consilium eval`'s text, importable from here too

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3

# Every command, as `_parser` registers them. A command's own module (cli_*.py, the analyses, the
# service) is imported when that command runs: a short `eval` pays for none of the others.
COMMANDS = ("check", "eval", "test", "render", "diff", "sql", "audit", "serve", "explain", "report", "schema",
            "review", "codegen", "fmt", "cds-request", "lsp", "preview")

DESCRIPTION = """\
Consilium: clinical guidelines as rules a machine can run and a person can audit.

commands:
  check [PATH]          parse, type-check and validate the graphs of a knowledge base
  eval [PATH] CASE      evaluate one case (JSON or YAML) and show what the rules recommend
  eval [PATH] --cohort FILE [-o OUT]   evaluate many (JSON Lines, CSV, Parquet), one row each
  test [PATH]           run the knowledge base's scenario tests
  render [PATH]         draw the flowcharts (DOT, SVG, PNG), with --case to draw a case's path
  report [PATH] -o DIR  write the auditors' HTML review page, with --case to include a case
  diff OLD NEW          what changes between two versions (folders, files or git revisions)
  schema case [PATH]    the JSON Schema of a case of a knowledge base; `schema result`: of a result
  sql [PATH] --dialect duckdb|spark|postgres   the knowledge base as one SQL query
  eval --cohort FILE --engine duckdb|spark     a cohort evaluated by that query, where the data is
  audit [PATH] --rows ROWS [--cohort FILE] -o OUT.html   the cohort audit report
  review status [PATH]  rules never reviewed, changed since their review, questioned or rejected
  review sign RULE... --by NAME --verdict V [--comment TEXT]   record an auditor's review
  codegen [PATH]        print the Python the rules are evaluated by (--pathway ID for one)
  serve [PATH]          run the CDS Hooks 2.0 service (patient-view, order-select, order-sign)
  cds-request [PATH] BUNDLE   print the CDS Hooks request `serve` takes for a FHIR bundle
  fmt [PATH...]         put rule files in the canonical layout (--check, --diff)
  lsp                   the language server editors start (LSP over stdin/stdout)
  preview [PATH]        a live page of the flowcharts and scenarios, redrawn when a rule file changes
  explain [PATH] CASE [RULE]   why a case did not get a rule (all rules not given, without RULE)

PATH is a knowledge-base folder (holding main.rules) or a root .rules file; without it,
the bundled knowledge base is used.

exit codes:
  0  success
  1  findings: the knowledge base has errors (check) or scenarios fail (test)
  2  usage or input errors: bad arguments, a broken knowledge base or case (eval, test)
  3  an internal error in Consilium (please report it)
"""


def _parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser; with `only`, holding that command alone (a short command
    need not build the others: the parsing and help of that command are the same)."""
    parser = argparse.ArgumentParser(prog="consilium", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    from .. import __version__
    parser.add_argument("--version", action="version", version=f"consilium {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def wanted(*names: str) -> bool:
        return only is None or only in names

    if wanted("check"):
        check = commands.add_parser("check", help="parse, type-check and validate a knowledge base")
        check.add_argument("path", nargs="?", help="knowledge-base folder or root .rules file")
        check.add_argument("--format", choices=("text", "json"), default="text")
        check.add_argument("--require-review", action="store_true",
                           help="also fail while a rule is never reviewed, changed since its review, or rejected")
        _outside(check)

    if wanted("eval"):
        evaluate = commands.add_parser("eval", help="evaluate one case")
        evaluate.add_argument("paths", nargs="*", metavar="[PATH] CASE",
                              help="knowledge base (optional) and a JSON or YAML case file")
        evaluate.add_argument("--cohort", metavar="FILE",
                              help="evaluate every case of a .jsonl, .csv or .parquet file, "
                                   "or a folder of .json cases or FHIR bundles")
        evaluate.add_argument("-o", "--output", metavar="OUT",
                              help="with --cohort: write rows to a .jsonl, .csv or .parquet file "
                                   "(default: JSON Lines on stdout)")
        evaluate.add_argument("--jobs", type=_jobs, default=2,
                              help="with --cohort: worker processes, 1 to 64 (default 2)")
        evaluate.add_argument("--engine", choices=("python", "duckdb", "spark"), default="python",
                              help="with --cohort: evaluate in Python (the reference), DuckDB or Spark")
        evaluate.add_argument("--memory-limit", metavar="SIZE",
                              help="with --engine duckdb: e.g. 1GB (DuckDB spills beyond it)")
        evaluate.add_argument("--spark-master", metavar="URL", default="local[2]",
                              help="with --engine spark: local[N], spark://host:port, or a Spark Connect sc://host:port")
        evaluate.add_argument("--database", metavar="FILE",
                              help="with --engine duckdb: a DuckDB database file holding --table")
        evaluate.add_argument("--table", metavar="NAME",
                              help="with --engine duckdb or spark: evaluate this table instead of a file")
        _facts_option(evaluate, "with a FHIR bundle")
        evaluate.add_argument("--json", action="store_true", help="print the result as JSON")
        evaluate.add_argument("--trace", action="store_true", help="also print every step of the trace")
        evaluate.add_argument("--strict", action="store_true",
                              help="a case breaking a constraint (facts that contradict each other) is an error")
        evaluate.add_argument("--format", choices=("text", "json"), default=None,
                              help="format of diagnostics and result (--json is short for --format json)")
        evaluate.add_argument("--no-timestamp", action="store_true",
                              help="leave the time of generation out of the JSON (reproducible output; "
                                   "SOURCE_DATE_EPOCH, when set, is used as that time instead)")
        _outside(evaluate)

    if wanted("test"):
        test = commands.add_parser("test", help="run the scenario tests")
        test.add_argument("path", nargs="?", help="knowledge-base folder or root .rules file")
        test.add_argument("--format", choices=("text", "json"), default="text")
        test.add_argument("--coverage", action="store_true",
                          help="report the nodes, branches and rules the scenarios reach, per file")
        test.add_argument("--fail-under", type=_percent, metavar="PERCENT",
                          help="with --coverage: fail when the total coverage is below PERCENT")
        _outside(test)

    if wanted("render"):
        render = commands.add_parser("render", help="draw the flowcharts")
        render.add_argument("path", nargs="?", help="knowledge-base folder or root .rules file")
        render.add_argument("-o", "--output", default="out/charts", help="folder to write into (default out/charts)")
        render.add_argument("--case", help="a case file whose path to draw")
        _facts_option(render, "with a FHIR bundle as --case")
        render.add_argument("--format", default="dot,svg", help="comma-separated: dot, svg, png (default dot,svg)")
        render.add_argument("--chart", action="append", help="only this chart (repeatable); see --list")
        render.add_argument("--list", action="store_true", help="list the charts and exit")
        drawing = render.add_mutually_exclusive_group()
        drawing.add_argument("--paged", action="store_true",
                             help="the printable pages of the report, as files (large pathways cut into linked pages)")
        drawing.add_argument("--whole", action="store_true",
                             help="one image per chart however large, for the screen (by default a chart too large "
                                  "to print with text of 8 pt is drawn as its pages, or left out)")
        _outside(render)

    if wanted("diff"):
        difference = commands.add_parser("diff", help="compare two versions of a knowledge base")
        difference.add_argument("old", help="folder, root .rules file, or git revision")
        difference.add_argument("new", help="folder, root .rules file, or git revision")
        difference.add_argument("--kb", default="kb",
                                help="the knowledge-base folder inside a git revision (default kb)")
        difference.add_argument("--format", choices=("text", "json"), default="text")
        difference.add_argument("--render", metavar="DIR", help="also draw the new version's charts, changes marked")
        _outside(difference)

    if wanted("sql"):
        lowered = commands.add_parser("sql", help="print the knowledge base as one SQL query over a table of cases")
        lowered.add_argument("path", nargs="?", help="knowledge-base folder or root .rules file")
        lowered.add_argument("--dialect", choices=("duckdb", "spark", "postgres"), default="duckdb")
        lowered.add_argument("--table", default="cases", help="the table of cases the query reads (default cases)")

    if wanted("audit"):
        audit = commands.add_parser("audit", help="write the cohort audit report from a cohort's rows")
        audit.add_argument("path", nargs="?", help="knowledge-base folder or root .rules file")
        audit.add_argument("--rows", required=True, metavar="FILE",
                           help="the rows `eval --cohort` wrote (.jsonl, .csv, .parquet)")
        audit.add_argument("--cohort", metavar="FILE", help="the cohort itself, for the treatment actually received")
        audit.add_argument("--received", metavar="COLUMN", default="received",
                           help="the cohort's column naming the actions received (default received)")
        audit.add_argument("-o", "--output", default="out/audit.html",
                           help="the HTML file to write (default out/audit.html)")
    if wanted("serve"):
        serve = commands.add_parser("serve", help="run the CDS Hooks 2.0 service")
        serve.add_argument("path", nargs="?", help="knowledge-base folder or root .rules file")
        serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        serve.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080)")
        serve.add_argument("--trusted-issuers", metavar="FILE",
                           help="JSON naming the CDS clients' issuers and their keys (a JWKS file or URL)")
        serve.add_argument("--audience", action="append", metavar="URL",
                           help="accept tokens for this audience too (besides the service's own URL)")
        serve.add_argument("--insecure-no-auth", action="store_true", help="accept requests without a JWT (demos only)")
        serve.add_argument("--watch", action="store_true", help="reload the knowledge base when a rule file changes")
        serve.add_argument("--max-request-bytes", type=int, default=5 * 1024 * 1024, metavar="N",
                           help="refuse larger requests (413; default 5 MiB)")
        serve.add_argument("--public-url", metavar="URL", help="the service's URL as clients reach it (for links, aud)")
    if wanted("explain"):
        explain = commands.add_parser("explain", help="why a case did (not) get a rule, and its findings")
        explain.add_argument("paths", nargs="+", metavar="[PATH] CASE [RULE]",
                             help="knowledge base (optional), a case file, and a rule id "
                                  "(optional: every rule not given)")
        explain.add_argument("--format", choices=("text", "json"), default="text")

    if wanted("report"):
        report = commands.add_parser("report", help="write the HTML review report")
        report.add_argument("path", nargs="?", help="knowledge-base folder or root .rules file")
        report.add_argument("-o", "--output", default="out/report", help="folder to write into (default out/report)")
        report.add_argument("--case", help="a case file to evaluate and show on the charts")
        _facts_option(report, "with a FHIR bundle as --case")
        _outside(report)
        report.add_argument("--pdf", action="store_true",
                            help="also print the page to DIR/report.pdf through headless Chromium")
        report.add_argument("--no-timestamp", action="store_true",
                            help="leave the time of generation out (reproducible output; SOURCE_DATE_EPOCH, "
                                 "when set, is used as that time instead)")
    if wanted("schema"):
        from . import cli_schema
        _outside(cli_schema.add_parser(commands))
    if wanted("review"):
        from . import cli_review
        cli_review.add_parser(commands)
    if wanted("codegen"):
        from . import cli_codegen
        cli_codegen.add_parser(commands)
    if wanted("fmt"):
        from . import cli_fmt
        cli_fmt.add_parser(commands)
    if wanted("cds-request"):
        from . import cli_cds
        cli_cds.add_parser(commands)
    if wanted("lsp", "preview"):
        from . import cli_editors
        cli_editors.add_parsers(commands)
    return parser


def _facts_option(command: argparse.ArgumentParser, given: str) -> None:
    """--facts: what a FHIR record does not carry, beside it (eval, render, report)."""
    command.add_argument("--facts", metavar="FILE",
                         help=f"{given}: JSON or YAML of the facts FHIR does not carry (the team's judgements)")


def _outside(command: argparse.ArgumentParser) -> None:
    command.add_argument("--allow-outside-includes", action="store_true",
                         help="let includes read rule files outside the knowledge base's folder")


def _command_of(argv: list[str]) -> str | None:
    """The command `argv` names first, when it is one (then only its parser is built); else None."""
    return argv[0] if argv and argv[0] in COMMANDS else None


def _percent(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"a percentage is a number from 0 to 100, not '{text}'")
    return value


def _jobs(text: str) -> int:
    try:
        jobs = int(text)
    except ValueError:
        jobs = 0
    if not 1 <= jobs <= 64:
        raise argparse.ArgumentTypeError(f"the number of worker processes is a whole number from 1 to 64, not '{text}'")
    return jobs


def run() -> None:
    """The `consilium` command's process (its entry point, and `python -m consilium`).

    As `main`, but the cycle collector, off until the command is known, stays off to the end
    of a short command (see `_short`), when Python would otherwise run it once more on the way
    out: the process ends there and the system takes its memory back at once."""
    gc.disable()
    sys.exit(_guarded(None, True))


def main(argv: list[str] | None = None) -> int:
    """Run the command line with `argv` (sys.argv's arguments when None); return the exit code."""
    collecting = gc.isenabled()
    try:
        return _guarded(argv, collecting)
    finally:
        if collecting:
            gc.enable()


def _guarded(argv: list[str] | None, collecting: bool) -> int:
    gc.disable()  # until the command is known: see _short
    try:
        return _main(argv, collecting)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - the promise: no traceback reaches a user
        if shadowing_folder() is not None:
            print(f"consilium: {shadow_message()}", file=sys.stderr)
            return EXIT_INPUT
        print(f"consilium: internal error: {type(exc).__name__}: {exc}\n"
              "This is a bug in Consilium; please report it with the command and files that caused it.",
              file=sys.stderr)
        return EXIT_INTERNAL


def _short(args: argparse.Namespace) -> bool:
    """A command that evaluates one case (or prints one thing) and ends: what it makes is
    bounded, and freed by reference counting as it goes; the cycle collector, scanning the
    objects of the imports and the knowledge base as they are made, only cost it time (a
    twentieth of a short `eval`). Long or large work (a cohort, the services, the analyses,
    the charts) collects as usual."""
    if args.command == "eval":
        return not args.cohort and args.engine == "python" and not args.table
    return args.command in ("explain", "codegen", "schema", "cds-request")


def shadowing_folder() -> str | None:
    """The folder Python imported as `consilium` instead of this installation, or None.

    `python -m consilium` puts the working folder first on the module path, so a folder named
    `consilium` there (a checkout, a data folder) is imported in place of an editable install's
    package; the failure then looks like a missing module or extra. Cheap: one look at
    sys.modules."""
    top = sys.modules.get("consilium")
    found = [str(folder) for folder in getattr(top, "__path__", None) or ()]
    ours = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the package above engine/
    if not found or any(os.path.abspath(folder) == ours or _same(folder, ours) for folder in found):
        return None
    return found[0]


def _same(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def shadow_message() -> str:
    return (f"the folder '{shadowing_folder()}' was imported as the package 'consilium' instead of the installed "
            "Consilium (`python -m` looks in the working folder first); run it from another folder, rename that "
            "folder, or use the `consilium` command")


_ALLOW_OUTSIDE = False  # --allow-outside-includes, for every knowledge base this command loads


def _main(argv: list[str] | None, collecting: bool = True) -> int:
    global _ALLOW_OUTSIDE
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _parser(_command_of(argv)).parse_args(argv)
    if collecting and not _short(args):
        gc.enable()
    _ALLOW_OUTSIDE = bool(getattr(args, "allow_outside_includes", False))
    if args.command is None:
        _parser().print_help()
        return EXIT_INPUT
    if args.command == "check":
        return _check(args.path, args.format, args.require_review)
    if args.command == "eval" and (args.cohort or args.table) and args.output:
        from .inputs.rows import cohort_format
        from .lang.files import OutputError, file_output, kind_of
        try:  # before any engine starts: the output is at fault, not the cohort
            if args.output == "-":
                raise OutputError("-o -: the rows go to standard output when -o is left out (as JSON Lines)")
            target = file_output(args.output)
            if kind_of(target) == "folder":
                raise OutputError(f"'{args.output}' is a folder, and -o names the file to write: give the file's "
                                  f"name in that folder, e.g. '{target / 'rows.jsonl'}'")
            cohort_format(target, role="the rows' output (-o)")
        except (OutputError, UsageError) as error:
            print(f"consilium eval: {error}", file=sys.stderr)
            return EXIT_INPUT
    if args.command == "eval" and (args.engine != "python" or args.table):
        from .cli_sql import cohort_in_engine
        return cohort_in_engine(args)
    if args.command == "sql":
        from .cli_sql import sql_command
        return sql_command(args)
    if args.command == "eval" and args.cohort:
        if len(args.paths) > 1:
            print("consilium eval --cohort: give at most a knowledge base besides the cohort", file=sys.stderr)
            return EXIT_INPUT
        return _cohort(args.paths[0] if args.paths else None, args.cohort, args.output, args.jobs)
    if args.command == "eval":
        fmt = "json" if args.json else (args.format or "text")
        if not args.paths:
            print("consilium eval: give a case file (or --cohort FILE)", file=sys.stderr)
            return EXIT_INPUT
        if len(args.paths) > 2:
            print("consilium eval: give at most a knowledge base and one case file", file=sys.stderr)
            return EXIT_INPUT
        kb_path, case_path = (args.paths if len(args.paths) == 2 else (None, args.paths[0]))
        return _eval(kb_path, case_path, fmt, args.trace, args.no_timestamp, args.strict, args.facts)
    if args.command == "test":
        return _test(args.path, args.format, args.coverage or args.fail_under is not None, args.fail_under)
    if args.command == "render":
        return _render(args)
    if args.command == "explain":
        from .cli_advice import run_explain
        return run_explain(_load, args.paths, args.format)
    if args.command == "report":
        return _report_command(args)
    if args.command == "diff":
        return _diff(args)
    if args.command == "audit":
        from .cli_sql import audit_command
        return audit_command(args)
    if args.command == "review":
        from . import cli_review
        try:
            return cli_review.run(args, _load)
        except KnowledgeBaseError as error:
            _report(error, getattr(args, "format", "text"))
            return EXIT_INPUT
    if args.command == "codegen":
        from . import cli_codegen
        return cli_codegen.run(args, _report)
    if args.command == "schema":
        from . import cli_schema
        return cli_schema.run(args, _report, _ALLOW_OUTSIDE)
    if args.command == "fmt":
        from . import cli_fmt
        return cli_fmt.run(args)
    if args.command in ("lsp", "preview"):
        from . import cli_editors
        return cli_editors.run(args)
    if args.command == "cds-request":
        from . import cli_cds
        return cli_cds.run(args, _load, _report)
    if args.command == "serve":
        try:
            from .service.serve import main as serve
        except ImportError as exc:
            print(f"consilium serve needs the service's packages: pip install 'consilium[serve]' ({exc})",
                  file=sys.stderr)
            return EXIT_INPUT
        return serve(args)
    raise AssertionError(args.command)


def _render(args) -> int:
    from .. import render
    formats = [f.strip() for f in args.format.split(",") if f.strip()]
    unknown = [f for f in formats if f not in render.FORMATS]
    if unknown or not formats:
        print(f"consilium render: unknown format {', '.join(unknown) or '(none)'}; choose from "
              f"{', '.join(render.FORMATS)}", file=sys.stderr)
        return EXIT_INPUT
    loaded = _load_with_case(args)
    if loaded is None:
        return EXIT_INPUT
    kb, result = loaded
    from .cli_render import render_command
    return render_command(args, kb, result, formats)


def _diff(args) -> int:
    from .analysis.diff import diff, format_diff, load_version
    try:
        old, old_name = load_version(args.old, args.kb, allow_outside_includes=_ALLOW_OUTSIDE)
        new, new_name = load_version(args.new, args.kb, allow_outside_includes=_ALLOW_OUTSIDE)
    except DiagnosticsError as error:
        _report(error, "text")
        return EXIT_INPUT
    except ConsiliumError as error:
        print(f"consilium diff: {error}", file=sys.stderr)
        return EXIT_INPUT
    d = diff(old, new, old_name, new_name)
    if args.render:
        from .. import render
        try:
            render.render_charts(new, args.render, ("dot", "svg"), changed=d.changed_ids)
        except ConsiliumError as error:  # no layout program, an unwritable folder
            print(f"consilium diff: {error}", file=sys.stderr)
            return EXIT_INPUT
    if args.format == "json":
        print(json.dumps(d.to_json(), indent=2, ensure_ascii=False))
    else:
        print(format_diff(d))
    return EXIT_OK


def _cohort(kb_path: str | None, cohort: str, output: str | None, jobs: int) -> int:
    from .inputs.cohort import Interrupted, run_cohort
    from .lang.files import file_output
    try:
        target = file_output(output) if output else None  # `-o out.jsonl/`: nothing is written
    except ConsiliumError as error:
        print(f"consilium eval: {error}", file=sys.stderr)
        return EXIT_INPUT
    try:
        kb = _load(kb_path)
    except DiagnosticsError as error:
        _report(error, "text")
        return EXIT_INPUT
    path = Path(cohort)
    try:
        found = path.is_file() or path.is_dir()
    except (OSError, ValueError):  # a name too long to look up
        found = False
    if not found:
        print(f"consilium eval: no cohort file '{cohort[:120]}'", file=sys.stderr)
        return EXIT_INPUT
    try:
        summary = run_cohort(kb, kb_path, path, target, jobs=jobs,
                             progress=sys.stderr.isatty())
    except Interrupted as stop:
        where = f"{output} was not written" if output else "the rows so far are on standard output"
        print(f"consilium eval: stopped by {stop.args[0]} after {stop.rows:,} rows, {stop.stopped_in():.2f} s after "
              f"the signal; {where}", file=sys.stderr)
        return 128 + stop.signum
    except ConsiliumError as error:
        print(f"consilium eval: {error}", file=sys.stderr)
        return EXIT_INPUT
    print(f"{summary.rows:,} case{'s' if summary.rows != 1 else ''} in {summary.seconds:.1f} s, "
          f"{summary.errors:,} with errors" + (f"; rows written to {output}" if output else ""), file=sys.stderr)
    if summary.internal:
        print(f"consilium eval: {summary.internal:,} rows met an internal error (a bug in Consilium; please "
              "report it with the rows named above)", file=sys.stderr)
        return EXIT_INTERNAL
    return EXIT_FINDINGS if summary.errors else EXIT_OK


def _load_with_case(args):
    """The knowledge base and, with --case, the case's result; None (reported) on bad input."""
    if args.facts and not args.case:
        print(f"consilium {args.command}: --facts goes with --case (the FHIR bundle they complete)", file=sys.stderr)
        return None
    try:
        kb = _load(args.path)
        return kb, (kb.evaluate_file(args.case, facts=args.facts) if args.case else None)
    except DiagnosticsError as error:
        _report(error, "text")
        return None


def _report_command(args) -> int:
    from .. import render
    loaded = _load_with_case(args)
    if loaded is None:
        return EXIT_INPUT
    kb, result = loaded
    from .analysis.identity import generated_at
    try:
        index = render.write_report(kb, args.output, result, args.case,
                                    generated_at=generated_at(args.no_timestamp), pdf=args.pdf)
    except ConsiliumError as error:  # no layout program, an unwritable folder, no Chromium
        print(f"consilium report: {error}", file=sys.stderr)
        return EXIT_INPUT
    print(f"wrote {index}" + (f" and {index.parent / 'report.pdf'}" if args.pdf else ""))
    return EXIT_OK


def _report(error: DiagnosticsError, fmt: str) -> None:
    if fmt == "json":
        print(json.dumps({"ok": False, "diagnostics": format_json(error.diagnostics)}, indent=2,
                         ensure_ascii=False))
    else:
        print(format_text(error.diagnostics, error.texts), file=sys.stderr)
        count = len(error.diagnostics)
        print(f"{count} error{'s' if count != 1 else ''}", file=sys.stderr)


def _load(path: str | None) -> KnowledgeBase:
    return load_kb(path if path is not None else bundled_kb_path(), allow_outside_includes=_ALLOW_OUTSIDE)


def _check(path: str | None, fmt: str, require_review: bool = False) -> int:
    try:
        kb = _load(path)
    except KnowledgeBaseError as error:
        _report(error, fmt)
        from .lang.load import display_path, including_root
        root = including_root(Path(path)) if path and fmt == "text" else None
        if path and root is not None:
            print(f"note: {display_path(Path(path))} is a part of the knowledge base {display_path(root)}, which "
                  f"includes it: check that (consilium check {display_path(root.parent)})", file=sys.stderr)
        return EXIT_FINDINGS if any(d.span for d in error.diagnostics) else EXIT_INPUT
    from .analysis.verify import verify
    from .analysis.consistency import consistency
    findings = verify(kb) + consistency(kb)
    failing = [f for f in findings if f.fails]
    summary: dict[str, Any] = {
        "ok": True, "knowledge_base": kb.root, "files": len(kb.files), "sources": len(kb.sources),
        "facts": len(kb.facts), "definitions": len(kb.defines), "pathways": len(kb.pathways),
        "rules": sum(len(p.nodes) for p in kb.pathways) + len(kb.safeties),
        "plans": len(kb.plans), "scenarios": len(kb.scenarios), "diagnostics": [],
        "findings": [f.to_json() for f in findings],
    }
    summary["ok"] = not failing
    reviewed = True
    if require_review:
        from .cli_review import require_review as gate
        reviewed, summary["review"] = gate(kb, fmt)
        summary["ok"] = summary["ok"] and reviewed
    if fmt == "json":
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        if findings:
            print(format_text(findings, dict(kb.texts)), file=sys.stderr)
        counts = ", ".join(_count(sum(f.severity == s and not f.waived for f in findings), s)
                           for s in ("error", "warning", "info"))
        waived = sum(1 for f in findings if f.waived)
        sizes = ", ".join(_count(summary[key], word) for key, word in (
            ("files", "file"), ("sources", "source"), ("facts", "fact"), ("definitions", "definition"),
            ("pathways", "pathway"), ("rules", "rule"), ("plans", "plan"), ("scenarios", "scenario")))
        print(f"{kb.root}: {'ok' if summary['ok'] else 'findings'} — {sizes}; "
              f"static checks: {counts}" + (f", {waived} waived" if waived else ""))
    return EXIT_FINDINGS if failing or not reviewed else EXIT_OK


def _count(number: int, word: str) -> str:
    """'1 file', '2 files': a count with its noun, singular for one."""
    return f"{number} {word}{'' if number == 1 else 's'}"


def _eval(kb_path: str | None, case_path: str, fmt: str, trace: bool, no_timestamp: bool = False,
          strict: bool = False, facts: str | None = None) -> int:
    try:
        kb = _load(kb_path)
        result = kb.evaluate_file(case_path, facts=facts)
    except DiagnosticsError as error:
        _report(error, fmt)
        return EXIT_INPUT
    warnings = getattr(result, "input_warnings", ())
    if warnings and fmt != "json":  # in JSON they are the result's input_warnings
        print(format_text(warnings), file=sys.stderr)
    if strict and result.contradictions:
        from .cli_advice import contradiction_error
        _report(contradiction_error(result, case_path), fmt)
        return EXIT_INPUT
    if fmt == "json":
        from .analysis.identity import generated_at
        payload = result.to_json()
        payload["identity"] = {**payload["identity"], "generated_at": generated_at(no_timestamp)}
        print(json.dumps(payload, indent=2, ensure_ascii=False))
    else:
        print(format_result(result, kb, "<stdin>" if case_path == "-" else case_path, trace))
    return EXIT_OK


def _test(path: str | None, fmt: str, with_coverage: bool = False, fail_under: float | None = None) -> int:
    try:
        kb = _load(path)
    except KnowledgeBaseError as error:
        _report(error, fmt)
        return EXIT_INPUT
    from .analysis.scenarios import format_outcomes, run_scenarios
    outcomes = run_scenarios(kb)
    from .analysis.coverage import coverage, format_coverage
    cov = coverage(kb, outcomes) if with_coverage else None
    below = cov is not None and fail_under is not None and cov.percent() < fail_under
    if fmt == "json":
        print(json.dumps({
            "coverage": cov.to_json() if cov else None,
            "passed": sum(o.passed for o in outcomes), "failed": sum(not o.passed for o in outcomes),
            "scenarios": [{"id": o.scenario.id, "label": o.scenario.label, "passed": o.passed,
                           "span": o.scenario.span.to_json() if o.scenario.span else None,
                           "failures": [{"expected": f.expected, "actual": f.actual,
                                         "span": f.expectation.span.to_json() if f.expectation.span else None,
                                         "diverged": f.diverged.to_json() if f.diverged else None}
                                        for f in o.failures]} for o in outcomes]}, indent=2))
    else:
        if cov is not None:
            print(format_coverage(cov))
            if below:
                print(f"coverage {cov.percent():.1f}% is below --fail-under {fail_under:g}%")
        print(format_outcomes(outcomes, kb))
    return EXIT_OK if all(o.passed for o in outcomes) and not below else EXIT_FINDINGS


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
