"""JSON Lines files as the SQL engines read them: a look at the file's bytes before DuckDB reads it.

Takes a JSON Lines file; `scan` says whether DuckDB's bulk JSON reader can read it (every line
an object, so one row per line, numbered as the Python cohort numbers them) and whether it is
UTF-8 text. DuckDB's readers stop at a byte that is not UTF-8, losing every row, so `utf8_copy`
writes a copy DuckDB can read: each line that is not UTF-8 replaced by MARK and the Python
cohort's words for it (engine/inputs/rows.py), every other line as it is, its line ends kept, so
the rows and their numbers are the file's. cohort_sql.py reads such a copy line by line and takes
a marked line's words as its row's error. Not here: running DuckDB, or any of the rows' facts.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from .rows import NOT_VALID, _BadLine, _decode

# Opens a line of the copy that is a row's error (its words follow). A line of the file that
# opens with it is no JSON: written as its error, so a mark is never the file's own text
MARK = b"\x02"
# a line (after a newline) that does not open with '{'; the file's final newline is followed by nothing
_NOT_AN_OBJECT = re.compile(rb"\n[^{]")
_BLOCK = 1 << 22


def scan(path: Path) -> tuple[bool, bool]:
    """Does every line of the file open with '{' (no blank line, no lone CR ending a line)? Is
    the file UTF-8 text?

    Then DuckDB's bulk JSON reader gives one row per line, in order, so its row numbers
    are the line numbers the Python cohort gives. One search for a newline followed by
    anything but '{' costs a fraction of reading the lines as text; a file that fails the
    test is read line by line instead. UTF-8 is looked at in the same reading (a block of ASCII
    alone is UTF-8: 0.08 s a GB, where decoding it took 0.5 s). A file that cannot be read is
    left to DuckDB's line reader, which says why."""
    objects, utf8 = True, True
    last = b"\n"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb", buffering=0) as handle:
            while (objects or utf8) and (block := handle.read(_BLOCK)):
                if objects and (last == b"\n" and block[:1] != b"{" or _NOT_AN_OBJECT.search(block)
                                # a CR alone ends a line for DuckDB's reader (one at a block's end: the slow way)
                                or b"\r" in block and (block.count(b"\r") != block.count(b"\r\n")
                                                       or block.endswith(b"\r"))):
                    objects = False
                if utf8 and not (block.isascii() and not decoder.getstate()[0]):
                    try:
                        decoder.decode(block)
                    except UnicodeDecodeError:
                        utf8 = False
                last = block[-1:]
        if utf8:
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        utf8 = False
    except OSError:
        return False, True
    return objects, utf8


def utf8_copy(path: Path, copy: Path) -> None:
    """Write `path` to `copy`, each line that is not UTF-8 text (or that opens with MARK) as MARK
    and its row's error in the Python cohort's words; the rest byte for byte. Blocks of whole
    lines that decode and hold no MARK at a line's start (nearly all) are written as they are."""
    with open(path, "rb") as source, open(copy, "wb") as out:
        first, rest = True, b""
        while True:
            block = source.read(_BLOCK)
            data = rest + block
            if block:  # whole lines only (a character never spans a newline)
                cut = data.rfind(b"\n") + 1
                data, rest = data[:cut], data[cut:]
            if data:
                out.write(_lines(data, first))
                first = False
            if not block:
                return


def _lines(data: bytes, first: bool) -> bytes:
    try:
        data.decode("utf-8")
        if not (data.startswith(MARK) or b"\n" + MARK in data or b"\r" + MARK in data):
            return data
    except UnicodeDecodeError:
        pass
    out = []
    # the Python cohort's lines: ended by LF, CRLF or a lone CR (rows.py's _physical_lines)
    for index, piece in enumerate(data.splitlines(keepends=True)):
        body = piece.rstrip(b"\r\n")
        ending = piece[len(body):]
        try:
            _decode(piece, 1 if first and index == 0 else 2)  # (line 1 may open with a byte-order mark)
        except _BadLine as bad:
            out.append(MARK + bad.message.encode() + ending)
            continue
        out.append(MARK + NOT_VALID.encode() + ending if piece.startswith(MARK) else piece)
    return b"".join(out)


__all__ = ["MARK", "scan", "utf8_copy"]
