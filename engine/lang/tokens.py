"""The words of a rule file as an editor sees them: text -> a list of `Token`s, never an error.

The formatter and the language server need what the parser throws away: comments, the exact
spelling and place of every word, and something sensible for text that does not parse (an editor
asks about a buffer while it is being typed). This scanner is regular, total and linear: every
character of any text lands in exactly one token, unknown characters in an `error` token.

The keywords are read from the grammar file (its quoted words), so a clause added to the
language is a keyword here without a change to this module.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

KINDS = ("coding", "comment", "string", "date", "number", "name", "keyword", "operator", "open", "close", "newline",
         "space", "error")

_PATTERN = re.compile(r'''
    (?P<coding>[A-Za-z][A-Za-z0-9_]*\#[A-Za-z0-9][A-Za-z0-9:._\-]*)
  | (?P<string>"""(?:[^"\\]|\\.|"(?!""))*(?:"""|\Z)|"(?:[^"\\\n]|\\.)*"?)
  | (?P<comment>\#[^\n]*)
  | (?P<newline>\r\n|\r|\n)
  | (?P<space>[ \t\f\v]+)
  | (?P<date>\d{4}-\d{2}-\d{2}(?![\w-]))
  | (?P<number>\d+(?:\.\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<operator>\.\.|->|<=|>=|!=|[=<>≤≥≠+\-*/:,.%])
  | (?P<open>[(\[{])
  | (?P<close>[)\]}])
  | (?P<error>.)
''', re.VERBOSE | re.DOTALL)


@dataclass(frozen=True, slots=True)
class Token:
    """One word of a text: its kind, its text, and where it starts (0-based line and column)."""

    kind: str
    text: str
    line: int
    column: int
    offset: int

    @property
    def end_line(self) -> int:
        return self.line + self.text.count("\n") + self.text.count("\r") - self.text.count("\r\n")

    @property
    def end_column(self) -> int:
        last = re.split(r"\r\n|\r|\n", self.text)[-1]
        return len(last) if self.end_line != self.line else self.column + len(self.text)


def _grammar_file() -> Path:
    # grammar/ sits beside engine/ in a checkout and is installed beside consilium.engine in a wheel
    return Path(__file__).resolve().parents[2] / "grammar" / "consilium.lark"


@functools.cache
def keywords() -> frozenset[str]:
    """Every word the grammar spells out in quotes ("fact", "when", "otherwise", ...)."""
    text = _grammar_file().read_text(encoding="utf-8")
    text = re.sub(r"//[^\n]*", "", text)
    return frozenset(re.findall(r'"([a-z][a-z_]*)"', text))


def tokenize(text: str) -> list[Token]:
    """Every token of the text, spaces and newlines included, in order; never raises."""
    tokens: list[Token] = []
    line = column = 0
    words = keywords()
    for match in _PATTERN.finditer(text):
        kind = match.lastgroup or "error"
        value = match.group()
        if kind == "name" and value in words:
            kind = "keyword"
        tokens.append(Token(kind, value, line, column, match.start()))
        breaks = value.count("\n") + value.count("\r") - value.count("\r\n")
        if breaks:
            line += breaks
            column = len(re.split(r"\r\n|\r|\n", value)[-1])
        else:
            column += len(value)
    return tokens


def significant(tokens: list[Token]) -> list[Token]:
    """The tokens that carry meaning: no spaces, newlines or comments."""
    return [t for t in tokens if t.kind not in ("space", "newline", "comment")]


def token_at(tokens: list[Token], line: int, column: int) -> Token | None:
    """The name, keyword or other significant token under a 0-based position (or just before it)."""
    best = None
    for token in tokens:
        if token.kind in ("space", "newline"):
            continue
        if token.line > line:
            break
        if token.line == line and token.column <= column <= token.column + len(token.text):
            best = token
            if column < token.column + len(token.text):
                return token
        elif token.line < line <= token.end_line:
            best = token
    return best
