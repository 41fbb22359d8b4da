"""Reading a cohort's rows: JSON Lines, CSV and Parquet, each row on its own.

`read_rows(path)` yields `(line or row number, kind, payload)` for every row of a file,
where kind is "json" (a line's text, parsed by the workers), "csv" (cell texts by column),
"mapping" (a Parquet row's values) or "error" (a message: the row could not be read).
Whatever is wrong with one row, be it bytes that are not UTF-8, a CSV row with too few or
too many cells, a quote that is never closed, a column given twice, is that row's error,
and reading goes on with the next; a UTF-8 byte-order mark is skipped. A CSV row whose
cells are all empty (`,,`) is a row (a case whose every fact is unknown), as in DuckDB and
Spark; a blank line, of nothing or spaces only, is not (as in JSON Lines). Problems with the
file as a whole (it cannot be opened, a Parquet file is truncated or corrupt) raise
`InputError`. It validates no value: `case.validate_case` does, in the workers.
"""

from __future__ import annotations

import csv
from collections import deque
from pathlib import Path
from typing import IO, Any, Iterator

from ..lang.diagnostics import ConsiliumError, UsageError

BATCH = 2000
MAX_RECORD_LINES = 100        # a quoted CSV cell may span lines, but not more than this many...
MAX_RECORD_BYTES = 128 * 1024  # ...or bytes: beyond, the quote is taken as never closed
BOM = b"\xef\xbb\xbf"
# a JSON Lines row's words, in every engine (engine/inputs/cohort.py, sql_stage.py, cohort_sql.py):
# a line that is not JSON (no parser's detail: the SQL engines cannot give one), JSON that is
# not an object
NOT_VALID = "not valid JSON"
# What `str.strip` takes off (a CSV cell; a JSON Lines line of only these is blank): every character
# Python calls white space, a no-break space and U+3000 among them; the SQL engines trim the same.
SPACE = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())
NOT_A_MAPPING = "not a mapping of fact names to values"

Row = tuple[int, str, Any]


class InputError(ConsiliumError):
    """A cohort file cannot be read as a whole (missing, unreadable, a corrupt Parquet file)."""


def cohort_format(path: Path, role: str = "a cohort") -> str:
    """The kind of a cohort's file (or, with `role`, of the rows' output) by its name."""
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix in (".csv",):
        return "csv"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    raise UsageError(f"'{path}': {role} is a .jsonl, .csv or .parquet file")


def read_rows(path: Path, columns: list[str] | None = None) -> Iterator[Row]:
    """(line or row number, what the payload is, payload) for each row of the file; for a folder,
    (file number, "json", text) for each of its .json files, one case (flat or a FHIR Bundle) each.
    `columns`, when given, receives a CSV file's header or a Parquet file's column names once read
    (JSON Lines and folders have none)."""
    if path.is_dir():
        yield from _folder_rows(path)
        return
    kind = cohort_format(path)
    if kind == "parquet":
        yield from _parquet_rows(path, columns)
        return
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InputError(f"cannot read the cohort '{path}': {exc.strerror or exc}") from None
    with handle:
        try:
            yield from (_jsonl_rows(handle) if kind == "jsonl" else _csv_rows(handle, columns))
        except OSError as exc:  # the disk, not a row
            raise InputError(f"cannot read the cohort '{path}': {exc.strerror or exc}") from None


def _decode(raw: bytes, number: int) -> str:
    """A line's text; raises _BadLine when it is not UTF-8."""
    if number == 1 and raw.startswith(BOM):
        raw = raw[len(BOM):]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _BadLine(number, f"the line is not UTF-8 text: byte 0x{raw[exc.start]:02x} at column "
                               f"{len(raw[:exc.start].decode('utf-8', 'replace')) + 1}") from None


class _BadLine(Exception):
    def __init__(self, number: int, message: str):
        super().__init__(message)
        self.number, self.message = number, message


def _physical_lines(handle: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """(number, bytes) of each line, ended by LF, CRLF or a lone CR (as classic Mac OS wrote)."""
    number = 0
    for raw in handle:
        for piece in raw.splitlines(keepends=True) if b"\r" in raw else (raw,):
            number += 1
            yield number, piece


def _jsonl_rows(handle: IO[bytes]) -> Iterator[Row]:
    for number, raw in _physical_lines(handle):
        try:
            line = _decode(raw, number)
        except _BadLine as bad:
            yield number, "error", bad.message
            continue
        if line.strip():
            yield number, "json", line


def _folder_rows(folder: Path) -> Iterator[Row]:
    try:
        files = sorted(folder.glob("*.json"))
    except OSError as exc:
        raise InputError(f"cannot read the folder '{folder}': {exc.strerror or exc}") from None
    for number, file in enumerate(files, start=1):
        try:
            data = file.read_bytes()
        except OSError as exc:  # one unreadable file is that row's error
            yield number, "error", f"cannot read '{file.name}': {exc.strerror or exc}"
            continue
        try:
            text = _decode(data, 1)
        except _BadLine as bad:
            yield number, "error", f"'{file.name}': {bad.message.replace('the line is', 'the file is')}"
            continue
        yield number, "json", text


# ---- CSV ------------------------------------------------------------------------------------------

class _Unclosed(Exception):
    """The current record has run past the limits: its quote is taken as never closed."""


class _Lines:
    """The file's decoded lines for csv.reader, with their numbers, the current record's lines
    remembered so that a record that fails can be skipped and the lines after its first read again."""

    def __init__(self, handle: IO[bytes]):
        self.lines = _physical_lines(handle)
        self.read = 0
        self.pending: deque[tuple[int, Any]] = deque()  # lines to read again (text, or a _BadLine)
        self.record: list[tuple[int, str]] = []
        self.ran_out = False  # the file ended inside the current record

    def start_record(self) -> None:
        self.record = []
        self.ran_out = False

    def __iter__(self):
        return self

    def __next__(self) -> str:
        if self.pending:
            number, text = self.pending.popleft()
            if isinstance(text, _BadLine):
                raise text
        else:
            try:
                self.read, raw = next(self.lines)
            except StopIteration:
                if self.record:
                    self.ran_out = True
                raise
            number, text = self.read, _decode(raw, self.read)
        self.record.append((number, text))
        if len(self.record) > MAX_RECORD_LINES or sum(len(t) for _, t in self.record) > MAX_RECORD_BYTES:
            raise _Unclosed
        return text


def _csv_rows(handle: IO[bytes], header_out: list[str] | None = None) -> Iterator[Row]:
    """The rows of a CSV file; `header_out`, when given, receives the header's cells once read."""
    lines = _Lines(handle)
    reader = csv.reader(lines)
    header: list[str] | None = None
    columns: dict[str, list[int]] = {}
    while True:
        lines.start_record()
        try:
            cells = next(reader)
            problem = None
            if lines.ran_out:
                problem = "a quoted cell opened on this line is never closed"
        except StopIteration:
            return
        except _BadLine as bad:
            if not lines.record:
                yield bad.number, "error", bad.message
            else:  # inside a quoted cell that began earlier: that row fails, the lines after it are read again
                yield lines.record[0][0], "error", f"a quoted cell opened on this line runs into line " \
                                                   f"{bad.number}, which is not UTF-8 text"
                lines.pending.extendleft(reversed([*lines.record[1:], (bad.number, bad)]))
            reader = csv.reader(lines)
            continue
        except _Unclosed:
            cells, problem = None, (f"a quoted cell opened on this line is not closed within {MAX_RECORD_LINES} "
                                    f"lines or {MAX_RECORD_BYTES // 1024} KB")
        except csv.Error as exc:
            cells, problem = None, f"the row cannot be read as CSV: {exc}"
        first = lines.record[0][0] if lines.record else lines.read
        if problem is not None:
            yield first, "error", problem
            lines.pending.extendleft(reversed(lines.record[1:]))  # read the lines after it again
            reader = csv.reader(lines)
            continue
        if not cells or (len(lines.record) == 1 and not lines.record[0][1].strip()):
            continue  # a blank line is no row, as in JSON Lines (a row of empty cells is: `,,`)
        if header is None:
            if all(not c.strip() for c in cells):
                continue  # empty cells above the header: nothing to name the columns by
            header = cells
            if header_out is not None:
                header_out.extend(cells)
            for index, name in enumerate(header):
                columns.setdefault(name.strip(), []).append(index)
            continue
        yield first, *_csv_row(cells, header, columns)


def _csv_row(cells: list[str], header: list[str], columns: dict[str, list[int]]) -> tuple[str, Any]:
    if len(cells) != len(header):
        plural = lambda n, word: f"{n} {word}{'s' if n != 1 else ''}"  # noqa: E731
        why = ": a cell is missing" if len(cells) < len(header) else \
            ": a cell too many, or a comma inside a cell that is not quoted"
        return "error", f"the row has {plural(len(cells), 'cell')} where the header has " \
                        f"{plural(len(header), 'column')}{why}"
    row: dict[str, str] = {}
    for name, indexes in columns.items():
        given = [i for i in indexes if cells[i].strip()]
        if len(given) > 1:
            where = " and ".join(str(i + 1) for i in given)
            return "error", f"'{name}' is given twice (columns {where} of the header)"
        row[name] = cells[given[0]] if given else ""
    return "csv", row


# ---- Parquet --------------------------------------------------------------------------------------

def pyarrow_parquet():
    try:
        import pyarrow.parquet as parquet
    except ImportError:
        raise UsageError("Parquet needs the pyarrow package: pip install 'consilium[cohort]'") from None
    return parquet


def _parquet_rows(path: Path, columns: list[str] | None = None) -> Iterator[Row]:
    parquet = pyarrow_parquet()
    import pyarrow
    number = 0
    try:
        file = parquet.ParquetFile(path)
        if columns is not None:
            columns.extend(file.schema_arrow.names)
        batches = file.iter_batches(batch_size=BATCH)
        for batch in batches:
            for row in batch.to_pylist():
                number += 1
                yield number, "mapping", {k: v for k, v in row.items() if v is not None}
    except (pyarrow.ArrowException, OSError, ValueError) as exc:
        after = f" (after {number:,} rows)" if number else ""
        raise InputError(f"cannot read the Parquet file '{path}'{after}: {exc}") from None


__all__ = ["read_rows", "cohort_format", "pyarrow_parquet", "InputError", "Row"]
