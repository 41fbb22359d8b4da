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
"""

from __future__ import annotations

import csv
import json
import multiprocessing
import sys
import time
from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator, Mapping, TextIO

from ..lang import ir
from ..lang.diagnostics import CaseError, UsageError
from ..lang.values import number

CHUNK = 2000
IN_FLIGHT = 4  # chunks handed to the workers at once: what bounds memory


@dataclass
class Summary:
    rows: int = 0
    errors: int = 0
    seconds: float = 0.0


# ---- reading ------------------------------------------------------------------------------------

def _format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix in (".csv",):
        return "csv"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    raise UsageError(f"'{path}': a cohort is a .jsonl, .csv or .parquet file")


def read_rows(path: Path) -> Iterator[tuple[int, str, Any]]:
    """(line or row number, what the payload is, payload) for each case of the file.

    JSON Lines are handed over as text, so that the workers parse them, not the reader."""
    if path.is_dir():  # a folder of case files, one case (flat JSON or a FHIR Bundle) each
        for number, file in enumerate(sorted(path.glob("*.json")), start=1):
            yield number, "json", file.read_text(encoding="utf-8").replace("\n", " ")
        return
    kind = _format(path)
    if kind == "jsonl":
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    yield number, "json", line
    elif kind == "csv":
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            for row in reader:
                yield reader.line_num, "csv", {k: v for k, v in row.items() if k is not None}
    else:
        parquet = _pyarrow_parquet()
        number = 0
        for batch in parquet.ParquetFile(path).iter_batches(batch_size=CHUNK):
            for row in batch.to_pylist():
                number += 1
                yield number, "mapping", {k: v for k, v in row.items() if v is not None}


def _pyarrow_parquet():
    try:
        import pyarrow.parquet as parquet
    except ImportError:
        raise UsageError("Parquet needs the pyarrow package: pip install 'consilium[cohort]'") from None
    return parquet


def from_csv(raw: dict[str, str], facts: Mapping[str, ir.Fact]) -> dict[str, Any]:
    """A CSV row's text cells as the values a JSON case would hold; an empty cell is unknown.

    true/false for yes-no facts, numbers for numeric ones, values separated by '|' for sets;
    other text stays text and is validated like any case value.
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
            case ir.NumberType() if _is_number(text):
                case[name] = number(text)  # exact: 0.1 is one tenth
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


def _is_number(text: str) -> bool:
    try:
        number(text)
    except ValueError:
        return False
    return True


# ---- evaluating (in the workers) ----------------------------------------------------------------

_KB = None


def _init(kb_path: str | None) -> None:
    global _KB
    from ..kb import bundled_kb_path, load_kb
    _KB = load_kb(kb_path if kb_path is not None else bundled_kb_path())


def _evaluate_chunk(chunk: list[tuple[int, str, Any]], as_jsonl: bool = False):
    """The rows of a chunk; as JSON Lines text already, when that is the output (less to send back)."""
    kb = _KB
    assert kb is not None, "_init loads the knowledge base when the worker starts"
    source_of = _sources_of(kb)
    rows = []
    for line_number, kind, raw in chunk:
        row: dict[str, Any] = {"row": line_number}
        if kind == "json":
            try:
                raw = json.loads(raw, parse_float=Decimal)
            except json.JSONDecodeError as exc:
                row["error"] = f"not valid JSON: {exc.msg} at column {exc.colno}"
                rows.append(row)
                continue
        if not isinstance(raw, dict):
            row["error"] = "not a mapping of fact names to values"
        else:
            try:
                if "resourceType" in raw:  # a FHIR Bundle, read through the facts' bindings
                    case = kb.read_bundle(raw, name=f"row {line_number}").values
                else:
                    case = kb.validate_case(from_csv(raw, kb.facts) if kind == "csv" else raw)
            except CaseError as error:
                row["error"] = "; ".join(d.message for d in error.diagnostics)
                if kind == "csv":
                    row["error"] += _csv_hint(raw, kb.facts)
            else:
                decision = kb.decide(case, validated=True)
                row["recommendations"] = list(decision.recommendations)
                for source in kb.sources:
                    row[source] = [r for r in decision.recommendations if source_of.get(r) == source]
                row["warnings"] = list(decision.warnings)
                row["needs"] = list(decision.needs)
        rows.append(row)
    if as_jsonl:
        errors = [(row["row"], row["error"]) for row in rows if "error" in row]
        return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), len(rows), errors
    return rows


def _sources_of(kb) -> dict[str, str]:
    found = {n.id: n.provenance.source for p in kb.pathways for n in p.nodes if isinstance(n, (ir.Recommend, ir.Warn))}
    found.update({s.id: s.provenance.source for s in kb.safeties})
    return found


# ---- writing --------------------------------------------------------------------------------------

class _Writer:
    def __init__(self, path: Path | None, columns: list[str]):
        self.columns = columns
        self.kind = _format(path) if path else "jsonl"
        self.handle: TextIO | None = path.open("w", encoding="utf-8", newline="") \
            if path and self.kind != "parquet" else (None if path else sys.stdout)
        self.path = path
        self.parquet: Any = None  # a pyarrow ParquetWriter, once the first rows come
        if self.kind == "csv":
            assert self.handle is not None
            self.csv = csv.DictWriter(self.handle, fieldnames=columns)
            self.csv.writeheader()

    def write(self, rows) -> None:
        if isinstance(rows, str):  # a chunk a worker already wrote as JSON Lines
            assert self.handle is not None  # JSON Lines are written to a file or standard output
            self.handle.write(rows)
        elif self.kind == "jsonl":
            assert self.handle is not None
            self.handle.write("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
        elif self.kind == "csv":
            for row in rows:
                self.csv.writerow({k: ("|".join(v) if isinstance(v, list) else v) for k, v in row.items()})
        else:
            import pyarrow as pa
            table = pa.Table.from_pylist([{c: row.get(c) for c in self.columns} for row in rows],
                                         schema=self._schema(pa))
            if self.parquet is None:
                self.parquet = _pyarrow_parquet().ParquetWriter(self.path, table.schema)
            self.parquet.write_table(table)

    def _schema(self, pa):
        fields = [pa.field("row", pa.int64()), pa.field("error", pa.string())]
        fields += [pa.field(c, pa.list_(pa.string())) for c in self.columns if c not in ("row", "error")]
        return pa.schema(fields)

    def close(self) -> None:
        if self.parquet is not None:
            self.parquet.close()
        if self.handle is not None and self.handle is not sys.stdout:
            self.handle.close()


def run_cohort(kb, kb_path: str | None, cohort: Path, output: Path | None, jobs: int = 2,
               progress: bool = False) -> Summary:
    """Evaluate every case of `cohort`, writing to `output` (JSON Lines on stdout without one)."""
    summary = Summary()
    started = time.perf_counter()
    columns = ["row", "error", "recommendations", *kb.sources, "warnings", "needs"]
    writer = _Writer(output, columns)
    rows = read_rows(cohort)

    def chunks():
        chunk = []
        for item in rows:
            chunk.append(item)
            if len(chunk) == CHUNK:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    as_jsonl = writer.kind == "jsonl"

    def take(results) -> None:
        if as_jsonl:
            text, count, errors = results
        else:
            text, count = results, len(results)
            errors = [(row["row"], row["error"]) for row in results if "error" in row]
        writer.write(text)
        summary.rows += count
        summary.errors += len(errors)
        for line_number, message in errors:
            print(f"{cohort}:{line_number}: error: {message}", file=sys.stderr)
        if progress:
            rate = summary.rows / max(time.perf_counter() - started, 1e-9)
            print(f"\r{summary.rows:,} cases, {summary.errors:,} errors, {rate:,.0f} cases/s", end="",
                  file=sys.stderr, flush=True)

    try:
        if jobs <= 1:
            global _KB
            _KB = kb
            for chunk in chunks():
                take(_evaluate_chunk(chunk, as_jsonl))
        else:
            context = multiprocessing.get_context("fork" if sys.platform != "win32" else "spawn")
            with context.Pool(jobs, initializer=_init, initargs=(kb_path,)) as pool:
                pending: deque = deque()
                for chunk in chunks():
                    pending.append(pool.apply_async(_evaluate_chunk, (chunk, as_jsonl)))
                    if len(pending) >= IN_FLIGHT:
                        take(pending.popleft().get())
                while pending:
                    take(pending.popleft().get())
    finally:
        writer.close()
        if progress:
            print(file=sys.stderr)
    summary.seconds = time.perf_counter() - started
    return summary


__all__ = ["run_cohort", "read_rows", "from_csv", "Summary"]
