"""The review record: who signed off which rule, when, with what verdict; read and appended.

The record is a TOML file beside the knowledge base's root file (`REVIEWS.toml`), one
`[[review]]` table per sign-off, appended in the order they were made, so that a git diff
of a review round reads as the list of reviews it adds:

    [[review]]
    rule = "staged_hepatectomy"
    verdict = "approved"            # approved | questioned | rejected
    by = "A. Auditor"
    date = 2026-11-29
    digest = "sha256:…"             # what the rule said when it was reviewed
    revision = "8f0e14e96bb6"       # the git commit, when the knowledge base is in git
    comment = "Matches Table 8."

`read_record` parses it (Python's `tomllib`) and checks every entry, reporting each problem
with its line and column (positions found by reading the lines of the file, since TOML
parsers keep none); it raises one `ReviewRecordError` carrying all of them. `append` adds
reviews to the record's text and writes it atomically (a temporary file, then a rename),
after reading it again under a lock: an earlier review is never dropped or rewritten.
It does not decide what a rule's review state is (engine/analysis/review.py does).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import tempfile
import tomllib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..lang.diagnostics import Diagnostic, DiagnosticsError, Span
from ..lang.load import display_path

RECORD_NAME = "REVIEWS.toml"
VERDICTS = ("approved", "questioned", "rejected")
FIELDS = ("rule", "verdict", "by", "date", "digest", "revision", "comment")
REQUIRED = ("rule", "verdict", "by", "date", "digest")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")

HEADER = """\
# Reviews of this knowledge base's rules, one [[review]] per sign-off, oldest first.
# Written by `consilium review sign RULE... --by NAME --verdict approved|questioned|rejected`;
# a rule's latest review counts, and expires when the rule's digest changes.
"""


class ReviewRecordError(DiagnosticsError):
    """A review record could not be read, or a review could not be recorded."""


@dataclass(frozen=True, slots=True)
class Review:
    rule: str
    verdict: str
    by: str
    date: _dt.date
    digest: str
    revision: str | None = None
    comment: str | None = None
    span: Span | None = None  # where its [[review]] table starts

    def to_json(self) -> dict:
        return {"rule": self.rule, "verdict": self.verdict, "by": self.by, "date": self.date.isoformat(),
                "digest": self.digest, "revision": self.revision, "comment": self.comment,
                "span": self.span.to_json() if self.span else None}


@dataclass(frozen=True, slots=True)
class Record:
    path: Path
    reviews: tuple[Review, ...]   # in the order written: the last one of a rule counts
    text: str

    @property
    def name(self) -> str:
        return display_path(self.path)


def record_path(root_file: str | Path) -> Path:
    """Where the record of a knowledge base lives: beside its root rule file."""
    return Path(root_file).resolve().parent / RECORD_NAME


def read_record(path: Path) -> Record:
    """The reviews of a record file (none when it does not exist yet); raises ReviewRecordError."""
    if not path.exists():
        return Record(path, (), "")
    name = display_path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReviewRecordError([Diagnostic("not-utf8", f"the review record is not UTF-8 text ({exc.reason})",
                                            Span(name, 1, 1, 1, 1))]) from None
    except OSError as exc:
        raise ReviewRecordError([Diagnostic("file-not-found", f"cannot read the review record '{name}': "
                                            f"{exc.strerror or exc}")]) from None
    return Record(path, parse_record(text, name), text)


def parse_record(text: str, name: str) -> tuple[Review, ...]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ReviewRecordError([_syntax(str(exc), text, name)], {name: text}) from None
    where = _Positions(text, name)
    problems: list[Diagnostic] = []
    reviews: list[Review] = []
    for key in data:
        if key != "review":
            problems.append(Diagnostic("review-invalid", f"'{key}' is not part of a review record",
                                       where.top(key), hint="each review is a [[review]] table"))
    entries = data.get("review", [])
    if not isinstance(entries, list):
        problems.append(Diagnostic("review-invalid", "'review' must be a list of [[review]] tables",
                                   where.top("review")))
        entries = []
    for index, entry in enumerate(entries):
        review = _entry(index, entry, where, problems)
        if review is not None:
            reviews.append(review)
    if problems:
        raise ReviewRecordError(problems, {name: text})
    return tuple(reviews)


def _entry(index: int, entry: object, where: "_Positions", problems: list[Diagnostic]) -> Review | None:
    head = where.table(index)
    if not isinstance(entry, dict):
        problems.append(Diagnostic("review-invalid", "a review must be a table of fields", head))
        return None
    found = len(problems)
    for key in entry:
        if key not in FIELDS:
            problems.append(Diagnostic("review-invalid", f"a review has no field '{key}'", where.key(index, key),
                                       hint=f"the fields are {', '.join(FIELDS)}"))
    for key in REQUIRED:
        if key not in entry:
            problems.append(Diagnostic("review-invalid", f"this review has no '{key}'", head,
                                       hint=f"add {key} = {_EXAMPLES[key]}"))
    for key in ("rule", "by", "verdict", "digest", "revision", "comment"):
        if key in entry and not isinstance(entry[key], str):
            problems.append(Diagnostic("review-invalid", f"'{key}' must be a string in quotes",
                                       where.key(index, key)))
    if isinstance(entry.get("by"), str) and not entry["by"].strip():
        problems.append(Diagnostic("review-invalid", "'by' is empty: say who reviewed", where.key(index, "by")))
    if isinstance(entry.get("rule"), str) and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", entry["rule"]):
        problems.append(Diagnostic("review-invalid", f"'{entry['rule']}' is not a rule id",
                                   where.key(index, "rule")))
    verdict = entry.get("verdict")
    if isinstance(verdict, str) and verdict not in VERDICTS:
        problems.append(Diagnostic("review-invalid", f"unknown verdict '{verdict}'", where.key(index, "verdict"),
                                   hint=f"a verdict is one of {', '.join(VERDICTS)}"))
    date = entry.get("date")
    if "date" in entry and (not isinstance(date, _dt.date) or isinstance(date, _dt.datetime)):
        problems.append(Diagnostic("review-invalid", f"'date' must be a date such as 2026-11-29, not "
                                   f"{_shown(date)}", where.key(index, "date"),
                                   hint="write the date without quotes: date = 2026-11-29"))
    digest = entry.get("digest")
    if isinstance(digest, str) and not _DIGEST.fullmatch(digest):
        problems.append(Diagnostic("review-invalid", "'digest' must be 'sha256:' and 64 hexadecimal digits",
                                   where.key(index, "digest"),
                                   hint="the digest is written by `consilium review sign`; do not edit it"))
    if len(problems) > found:
        return None
    # required, and of their types, or a problem was reported above
    assert isinstance(verdict, str) and isinstance(date, _dt.date) and isinstance(digest, str)
    return Review(rule=entry["rule"], verdict=verdict, by=entry["by"].strip(), date=date, digest=digest,
                  revision=entry.get("revision"), comment=entry.get("comment") or None, span=head)


_EXAMPLES = {"rule": '"rule_id"', "verdict": '"approved"', "by": '"Your Name"', "date": "2026-11-29",
             "digest": '"sha256:…" (written by `consilium review sign`)'}


def _shown(value: object) -> str:
    return json.dumps(value) if isinstance(value, str) else str(value)


_TOML_AT = re.compile(r"^(?P<message>.*?)\s*\(at line (?P<line>\d+), column (?P<column>\d+)\)\s*$")


def _syntax(message: str, text: str, name: str) -> Diagnostic:
    """tomllib's error as a diagnostic: it says "... (at line L, column C)" or "(at end of document)"."""
    match = _TOML_AT.match(message)
    if match:
        line, column = int(match["line"]), int(match["column"])
        message = match["message"]
    else:
        message = message.replace("(at end of document)", "").strip()
        lines = text.splitlines() or [""]
        line, column = len(lines), len(lines[-1]) + 1
    return Diagnostic("review-syntax", f"the review record is not valid TOML: {message[:1].lower()}{message[1:]}",
                      Span(name, line, column, line, column + 1),
                      hint="each review is a [[review]] table of `key = value` lines, strings in double quotes")


class _Positions:
    """Lines and columns of the record's tables and keys, read from its text."""

    _TABLE = re.compile(r"^\s*\[\[\s*review\s*\]\]")
    _KEY = re.compile(r'^\s*"?(?P<key>[A-Za-z0-9_-]+)"?\s*=\s*(?P<value>\S)?')

    def __init__(self, text: str, name: str):
        self.name = name
        self.tables: list[int] = []
        self.keys: dict[tuple[int, str], tuple[int, int, int]] = {}
        self.top_keys: dict[str, tuple[int, int, int]] = {}
        lines = text.splitlines()
        for number, line in enumerate(lines, start=1):
            if self._TABLE.match(line):
                self.tables.append(number)
                continue
            key = self._KEY.match(line)
            if key:
                start = key.start("value") + 1 if key["value"] else key.end("key") + 1
                place = (number, start, len(line.rstrip()) + 1)
                if self.tables:
                    self.keys.setdefault((len(self.tables) - 1, key["key"]), place)
                else:
                    self.top_keys.setdefault(key["key"], place)

    def table(self, index: int) -> Span:
        line = self.tables[index] if index < len(self.tables) else 1
        return Span(self.name, line, 1, line, 11)

    def key(self, index: int, key: str) -> Span:
        place = self.keys.get((index, key))
        if place is None:
            return self.table(index)
        line, start, end = place
        return Span(self.name, line, start, line, max(end, start + 1))

    def top(self, key: str) -> Span:
        line, start, end = self.top_keys.get(key, (1, 1, 2))
        return Span(self.name, line, 1, line, max(end, 2))


# ---- writing --------------------------------------------------------------------------------------

def format_review(review: Review) -> str:
    lines = ["[[review]]", f"rule = {_string(review.rule)}", f"verdict = {_string(review.verdict)}",
             f"by = {_string(review.by)}", f"date = {review.date.isoformat()}", f"digest = {_string(review.digest)}"]
    if review.revision:
        lines.append(f"revision = {_string(review.revision)}")
    if review.comment:
        lines.append(f"comment = {_string(review.comment)}")
    return "\n".join(lines) + "\n"


def _string(text: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's, except DEL, which TOML wants escaped too."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def append(path: Path, reviews: list[Review]) -> Record:
    """Add reviews at the end of the record and write it atomically; returns the record as written.

    The record is read again under a lock, so that reviews signed at the same time by two
    people both land; a record that does not parse is never overwritten."""
    with _locked(path.parent):
        record = read_record(path)
        text = record.text or HEADER
        if not text.endswith("\n"):
            text += "\n"
        text += "".join("\n" + format_review(r) for r in reviews)
        parse_record(text, record.name)  # what we write must read back: never leave a broken record
        _write_atomically(path, text)
    return read_record(path)


def _write_atomically(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        if path.exists():
            os.chmod(temporary, path.stat().st_mode & 0o777)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """An exclusive lock on the record's folder while it is read and rewritten (POSIX only)."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks here; the rename is still atomic
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
