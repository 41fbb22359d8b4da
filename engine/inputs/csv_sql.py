"""How the SQL engines read a CSV cohort row for row as the Python cohort does (engine/inputs/rows.py).

`plan(path)` looks at the file once, in Python, without splitting its cells: the header as
rows.py reads it (its line, its names), where the lines that start no record are (blank lines,
the lines inside a quoted cell), and whether the engines' own readers, given that header and
an explicit dialect (comma, double quote, a quote written twice inside a quoted cell), would
read the same records: not when a line is not UTF-8, ends with a lone CR, holds spaces only,
quotes a cell in a way rows.py reads otherwise (`"ab"c`), opens a quote it does not close
(at the end of the file, or within rows.py's limits), names a column twice, or the places to
renumber are too many. The engine itself then finds the rows with too few or too many cells
(DuckDB's rejects, Spark's corrupt-record column). When either finds a row the engine
would read otherwise, `normalize(path, target)` writes the file as rows.py reads it: one
record per row with its line number, its error (rows.py's words) and its cells, which the
engine reads instead. So every row problem is the row's error with its line, in every engine,
and the engines read clean files (nearly all) themselves. It evaluates nothing.
"""

from __future__ import annotations

import codecs
import csv
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from .rows import MAX_RECORD_BYTES, MAX_RECORD_LINES, _csv_rows, _physical_lines

MAX_GAPS = 200  # places where records and lines part (blank lines, quoted cells over lines) renumbered in SQL

ROW, ERROR = "__row", "__error"  # the normalized file's own columns


@dataclass
class Plan:
    """A CSV file as the engines should read it."""
    header: int = 1                 # the header's line (1 unless blank lines come first)
    names: list[str] = field(default_factory=list)  # the header's names, stripped, as rows.py keys cells
    extra: list[int] = field(default_factory=list)  # per line that starts no record: the next record's place
    spanning: bool = False          # a quoted cell runs over lines (Spark's multiLine)
    exact: bool = True              # the engines' own readers read what rows.py reads
    why: str = ""                   # why not (for the tests and the curious)


# a quoted cell ("" inside is a quote), or an unquoted one without a quote (rows.py reads a quote inside
# a cell, ` "a" ` say, as text; DuckDB reads that one as `a`: such a file is read by rows.py)
_Q = r'"(?:[^"]|"")*"'
_CELL = rf'(?:{_Q}|[^",\r\n]*)'
_CLOSED = re.compile(rf'{_CELL}(?:,{_CELL})*')                 # a line that ends outside quotes
_OPENS = re.compile(rf'(?:{_CELL},)*"(?:[^"]|"")*')            # ... that ends inside a quoted cell
_CLOSES = re.compile(rf'(?:[^"]|"")*"(?:,{_CELL})*')            # a line inside a quoted cell that closes it
_STAYS = re.compile(r'(?:[^"]|"")*')                           # ... that does not
_REOPENS = re.compile(rf'(?:[^"]|"")*"(?:,{_CELL})*,"(?:[^"]|"")*')


def plan(path: Path) -> Plan:
    """The header, the lines that start no record, and whether the engines' readers are exact here."""
    found = Plan()
    try:
        with path.open("rb") as handle:
            header = _header(handle)
            if header is None:
                return Plan(exact=False, why="no header")
            found.names = header
            if len(set(found.names)) != len(found.names):
                found.exact, found.why = False, "a column named twice"
            handle.seek(0)
            first = next((raw for _, raw in _physical_lines(handle) if raw.strip()), b"")
            if not first.removeprefix(b"\xef\xbb\xbf").replace(b",", b"").replace(b'"', b"").strip():
                found.exact, found.why = False, "empty cells above the header"  # rows.py skips them
            handle.seek(0)
            if not _irregular(handle):
                return found
            handle.seek(0)
            _walk(handle, found)
    except OSError:
        return Plan(exact=False, why="unreadable")  # rows.py says what is wrong with the file
    if len(set(found.extra)) > MAX_GAPS:
        found.exact, found.why = False, "too many places to renumber"
    return found


def _header(handle: IO[bytes]) -> list[str] | None:
    names: list[str] = []
    for _ in _csv_rows(handle, names):
        if names:
            break
    return [n.strip() for n in names] if names else None


def _walk(handle: IO[bytes], found: Plan) -> None:
    """Lines one by one: which start no record, and anything the engines would read otherwise."""
    places, quoted, header, span_lines, span_bytes = 0, False, 0, 0, 0

    def inexact(why: str) -> None:
        if found.exact:
            found.exact, found.why = False, why

    for number, raw in _physical_lines(handle):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            inexact(f"line {number} is not UTF-8")
            text = raw.decode("utf-8", "replace")
        if text.endswith("\r") and not text.endswith("\r\n"):
            inexact(f"line {number} ends with a lone CR")
        line = text.rstrip("\r\n")
        starts = not quoted and line.strip() != ""
        if not quoted and line and not line.strip():
            inexact(f"line {number} holds spaces only")
        if not quoted and not line and header and len(found.names) == 1:
            inexact(f"line {number} is blank in a file of one column")  # DuckDB reads an empty cell
        if '"' in line:
            if quoted:
                if _CLOSES.fullmatch(line):
                    quoted = False
                elif _REOPENS.fullmatch(line) or _STAYS.fullmatch(line):
                    quoted = True
                else:
                    inexact(f"line {number} quotes a cell as the engines do not read it")
            elif _CLOSED.fullmatch(line):
                pass
            elif _OPENS.fullmatch(line):
                quoted = True
            else:
                inexact(f"line {number} quotes a cell as the engines do not read it")
        if quoted:
            span_lines, span_bytes = span_lines + 1, span_bytes + len(text)
            if span_lines >= MAX_RECORD_LINES or span_bytes > MAX_RECORD_BYTES:
                inexact(f"a quoted cell runs past line {number}")
        else:
            span_lines = span_bytes = 0
        if not header:
            header = number if starts else 0
            if quoted:
                inexact("the header runs over lines")  # the engines skip its first line alone
            continue
        if starts:
            places += 1
        else:
            found.extra.append(places + 1)
            found.spanning = found.spanning or line.strip() != "" or quoted
    if quoted:
        inexact("a quoted cell is never closed")
    found.header = header or 1


def _irregular(handle: IO[bytes]) -> bool:
    """Has the file a quote, a blank line, a lone CR, a line that may hold spaces only, or bytes
    that are not UTF-8 (checked in blocks)?"""
    last = b"\n"
    decoder = codecs.getincrementaldecoder("utf-8")()
    while block := handle.read(1 << 22):
        joined = last + block
        if b'"' in block or b"\n\n" in joined or b"\n\r\n" in joined or b"\r" in block.replace(b"\r\n", b""):
            return True
        if b"\n " in joined or b"\n\t" in joined:
            return True
        try:
            decoder.decode(block)
        except UnicodeDecodeError:
            return True
        last = block[-1:]
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return True
    return False


def line_of(place: str, found: Plan) -> str:
    """SQL for the line of the record at `place` (1, 2, ...), numbered as rows.py numbers CSV rows:
    the engines count records, and skip blank lines and read a quoted cell over lines as rows.py
    does, so each line that starts no record moves the records after it one line down."""
    steps = sorted(set(found.extra))
    shift = "0"
    if steps:
        counted = [sum(1 for e in found.extra if e <= step) for step in steps]
        shift = "CASE " + " ".join(f"WHEN {place} >= {step} THEN {count}" for step, count
                                   in reversed(list(zip(steps, counted, strict=True)))) + " ELSE 0 END"
    return f"({place} + {found.header} + {shift})"


def names(found: Plan) -> list[str]:
    """The columns a row's cells are keyed by: the header's names, each once (rows.py's keys)."""
    return list(dict.fromkeys(found.names))


def normalize(path: Path, target: Path, columns: list[str]) -> None:
    """Write `path` as rows.py reads it into `target`: columns `__row`, `__error`, then `columns`
    (`names(plan)`); one record a row, a row rows.py cannot read with its error and no cells."""
    with path.open("rb") as handle, target.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([ROW, ERROR, *columns])
        for number, kind, payload in _csv_rows(handle):
            if kind == "error":
                writer.writerow([number, payload, *([""] * len(columns))])
            else:
                writer.writerow([number, "", *(payload.get(n, "") for n in columns)])


__all__ = ["Plan", "plan", "names", "line_of", "normalize", "MAX_GAPS", "ROW", "ERROR"]
