"""The formatter: the text of one rule file -> the same rules in the one canonical layout.

Canonical means: four spaces per level of nesting (continuation lines inside brackets one level
deeper than their line), one space between words except where the language reads better without
(inside brackets, before a comma, a name touching the bracket of its arguments), two spaces before
a trailing comment, at most one blank line in a row, none at either end, `\\n` line endings, the
clauses of a rule in one order (when, action, modality, ..., then, waive; the branches of a
decision keep theirs, they are its meaning), and long strings wrapped into triple quotes (or short
triple-quoted ones put back on one line). Comments are kept, at the level of the code they precede.

Like black's `assert_equivalent`, it proves itself on every run: the IR of the text before and
after must be equal and formatting the result again must change nothing; otherwise the text is
refused (`FormatError`), never written. A file that does not parse is refused with its diagnostics.
It works on tokens (`lang/tokens.py`), so a clause added to the grammar is formatted without a
change here; only the clause order table names clauses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .diagnostics import ConsiliumError, Diagnostic, Span
from .lower import lower
from .parse import parse_text
from .tokens import Token, tokenize

WIDTH = 100
INDENT = "    "

# The order of clauses inside one rule; clauses not listed keep their place after these.
CLAUSE_ORDER = ("when", "action", "modality", "severity", "anchor", "label", "question", "version", "ref",
                "source", "section", "refs", "quote", "instead", "replace", "note", "then", "actual", "waive")
# Declarations and nodes whose clause lines may be put in that order (a decision's lines may not:
# the order of its branches is what it means, and a scenario reads as written).
_REORDERED = {"fact", "define", "source", "site", "recommend", "warn", "safety", "step"}

# Clauses whose long text is wrapped (names and titles on a declaration's first line are not).
_WRAPPED = {"quote", "note", "question", "instead", "label"}
_TIGHT_BEFORE = {",", ")", "]", "}", "."}
_TIGHT_AFTER = {"(", "[", "{", "."}
_TRIPLE_BREAK = re.compile(r"[ \t]*(?:\r\n|\r|\n)[ \t]*")


class FormatError(ConsiliumError):
    """The formatter could not prove its result means the same as the text (a bug, or a file it
    refuses); the file is left as it was."""


@dataclass
class _Line:
    tokens: list[Token]          # the line's tokens without leading space and newline
    width: int                   # its indentation in the text, in columns
    depth: int                   # bracket depth at its start
    level: int = 0               # nesting level worked out from the indentation
    hanging: bool = False        # inside brackets, the rest of a clause the line before began

    @property
    def code(self) -> list[Token]:
        return [t for t in self.tokens if t.kind not in ("space", "comment")]

    @property
    def comment(self) -> Token | None:
        return next((t for t in self.tokens if t.kind == "comment"), None)


def format_text(path: str, text: str) -> str:
    """The canonical layout of a rule file's text; `KnowledgeBaseError`-style diagnostics when it
    does not parse (raised as `FormatRefused`), `FormatError` when the result cannot be proved."""
    before = _declarations(path, text)
    result = _layout(text)
    after = _declarations(path, result, formatted=True)
    if after != before:
        raise FormatError(f"{path}: the formatted text would not mean the same; the file is left as it is")
    if _layout(result) != result:
        raise FormatError(f"{path}: formatting is not stable on this file; the file is left as it is")
    return result


class FormatRefused(ConsiliumError):
    """A file that does not parse is not formatted: its diagnostics say why."""

    def __init__(self, diagnostics: list[Diagnostic]):
        super().__init__("; ".join(d.message for d in diagnostics))
        self.diagnostics = diagnostics


def _declarations(path: str, text: str, formatted: bool = False) -> tuple:
    tree, problems = parse_text(path, text)
    rule_file = None
    if tree is not None:
        rule_file, lowered = lower(path, tree)
        problems = problems + [d for d in lowered if d.severity == "error"]
    if problems or rule_file is None:
        if formatted:
            first = problems[0].message if problems else "?"
            raise FormatError(f"{path}: the formatted text would not parse ({first}); the file is left as it is")
        raise FormatRefused(problems or [Diagnostic("syntax", "the file cannot be read", Span(path, 1, 1, 1, 2))])
    return rule_file.declarations


# ---- layout --------------------------------------------------------------------------------

def _layout(text: str) -> str:
    lines = _lines(tokenize(text))
    _levels(lines)
    lines = _reorder(lines)
    out: list[str] = []
    blank = False
    for line in lines:
        if not line.tokens:
            blank = bool(out)
            continue
        if blank and out:
            out.append("")
        blank = False
        out.append(_render(line))
    return "\n".join(out) + "\n" if out else ""


def _lines(tokens: list[Token]) -> list[_Line]:
    """Physical lines, with indentation width and the bracket depth each starts at."""
    lines: list[_Line] = []
    current: list[Token] = []
    depth = start_depth = 0
    for token in tokens + [Token("newline", "\n", -1, 0, -1)]:
        if token.kind == "newline":
            width = 0
            if current and current[0].kind == "space":
                width = len(current[0].text.expandtabs(8))
                current = current[1:]
            while current and current[-1].kind == "space":
                current.pop()
            lines.append(_Line(current, width, start_depth))
            current, start_depth = [], depth
            continue
        if token.kind == "open":
            depth += 1
        elif token.kind == "close":
            depth = max(0, depth - 1)
        current.append(token)
    while lines and not lines[-1].tokens:
        lines.pop()
    return lines


def _levels(lines: list[_Line]) -> None:
    """Nesting levels from indentation, as the parser's indenter sees them; a comment line takes the
    level of the code line after it."""
    stack = [0]
    for line in lines:
        if not line.code or line.depth > 0:
            continue
        while line.width < stack[-1]:
            stack.pop()
        if line.width > stack[-1]:
            stack.append(line.width)
        line.level = len(stack) - 1
    following = 0
    for line in reversed(lines):
        if line.code and line.depth == 0:
            following = line.level
        elif line.depth == 0:
            line.level = following
    owner = 0
    clause: _Line | None = None  # inside brackets, the clause line whose list goes on (ends with ',')
    for line in lines:  # continuation lines: the level of the line that opened the bracket
        if line.depth == 0:
            owner = line.level
            clause = None
            continue
        line.level = owner
        code = line.code
        if not code:
            continue
        line.hanging = clause is not None and clause.depth == line.depth
        if code[-1].text == "," and (line.hanging or code[0].kind == "keyword"):
            clause = line
        else:
            clause = None


def _reorder(lines: list[_Line]) -> list[_Line]:
    """Clause lines of a rule in CLAUSE_ORDER, each with the comments just above it and its
    continuation lines; a rule with a nested block or a blank line among its clauses is left alone."""
    out: list[_Line] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        out.append(line)
        i += 1
        code = line.code
        if not code or line.depth or code[0].text not in _REORDERED:
            continue
        j = i
        while j < len(lines) and lines[j].tokens and (lines[j].depth or lines[j].level > line.level):
            j += 1
        body = lines[i:j]
        if any(b.code and not b.depth and b.level != line.level + 1 for b in body):
            continue
        groups: list[list[_Line]] = []
        pending: list[_Line] = []
        for b in body:
            if b.depth:
                (groups[-1] if groups else pending).append(b)
            elif b.code:
                groups.append(pending + [b])
                pending = []
            else:
                pending.append(b)
        if pending or not groups:
            continue
        ranked = sorted(groups, key=lambda group: _rank(next(g for g in group if g.code and not g.depth)))
        out.extend(b for group in ranked for b in group)
        i = j
    return out


def _rank(line: _Line) -> int:
    word = line.code[0].text
    return CLAUSE_ORDER.index(word) if word in CLAUSE_ORDER else len(CLAUSE_ORDER)


def _render(line: _Line) -> str:
    indent = INDENT * line.level
    code = line.code
    if line.depth:
        depth = line.depth - (1 if code and code[0].kind == "close" else 0) + (1 if line.hanging else 0)
        indent += INDENT * depth
    words: list[str] = []
    previous: Token | None = None
    for token in code:
        if previous is not None and _spaced(previous, token, words):
            words.append(" ")
        words.append(token.text if token.kind != "string" else _string(token.text))
        previous = token
    text = indent + "".join(words)
    if len(code) >= 2 and code[-1].kind == "string" and code[-2].text in _WRAPPED:
        text = _wrap(text, indent, code[-1])
    comment = line.comment
    if comment is not None:
        text = (text + "  " if code else indent) + comment.text.rstrip()
    return text.rstrip()


def _spaced(a: Token, b: Token, words: list[str]) -> bool:
    if b.text in _TIGHT_BEFORE or a.text in _TIGHT_AFTER and a.kind != "operator" or a.text == ".":
        return False
    if a.kind == "open":
        return False
    if b.kind == "open" and a.kind == "name" and b.offset == a.offset + len(a.text):
        return False  # a function and its arguments: min(a, b)
    if a.text == "-" and _unary(words):
        return False
    return True


def _unary(words: list[str]) -> bool:
    """Whether the '-' just written is a sign (after an operator, a bracket, a keyword or nothing)."""
    before = [w for w in words[:-1] if w != " "]
    if not before:
        return True
    last = before[-1]
    return last in {"(", "[", "{", ",", "..", "->", "=", "!=", "<", "<=", ">", ">=", "≤", "≥", "≠", "+", "-", "*",
                    "/", ":"} or last.isalpha() and last.islower() and last in _keyword_words()


def _keyword_words() -> frozenset[str]:
    from .tokens import keywords
    return keywords()


# ---- strings -------------------------------------------------------------------------------

def _logical(text: str) -> tuple[str, bool]:
    """A string token's raw body as the language reads it, and whether it was triple-quoted."""
    if text.startswith('"""') and text.endswith('"""') and len(text) >= 6:
        return _TRIPLE_BREAK.sub(" ", text[3:-3].strip()), True
    return text[1:-1], False


def _string(text: str) -> str:
    """A triple-quoted string whose words fit on one line goes back to one line."""
    if not (text.startswith('"""') and text.endswith('"""') and len(text) >= 6):
        return text
    body, _ = _logical(text)
    if '"' in body.replace('\\"', "") or "\\\n" in body:
        return text  # an unescaped quote reads better where it was
    return '"' + body + '"'


def _wrap(text: str, indent: str, token: Token) -> str:
    """The line with its final string wrapped into triple quotes when it is too long."""
    if len(text) <= WIDTH:
        return text
    body, _ = _logical(_string(token.text))
    if (body != body.strip() or body.endswith('"') or '"""' in body or "\t" in body or "\n" in body
            or len(body) < 20):
        return text
    head = text[: len(text) - len(_string(token.text))]
    # break only at single spaces: the language joins a break and its indentation into one space
    words = re.split(r"(?<=\S) (?=\S)", body)
    inner = indent + INDENT
    lines: list[str] = []
    current = head + '"""'
    for word in words:
        candidate = current + ("" if current.endswith('"""') and not lines else " ") + word
        if len(candidate) > WIDTH and not current.endswith('"""'):
            lines.append(current)
            current = inner + word
        else:
            current = candidate
    lines.append(current + '"""')
    return "\n".join(lines)
