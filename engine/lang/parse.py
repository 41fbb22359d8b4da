"""Phase 1, parse: the text of one rule file -> a Lark parse tree, or syntax diagnostics.

Takes a file's bytes, checks they are UTF-8 text holding something, checks that brackets
balance and that no expression nests too deep, then parses with the LALR parser built
once from `grammar/consilium.lark`. When the parse fails, the file is cut into its
top-level declarations and each is parsed on its own, so that one run reports every
syntax error of the file, not just the first. Lark objects never leave this module and
`lower`: callers get a tree to lower, or diagnostics.
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata

from lark import Lark, Token, Tree
from lark.exceptions import (LarkError, UnexpectedCharacters, UnexpectedEOF,
                             UnexpectedInput, UnexpectedToken)
from lark.indenter import DedentError, Indenter

from .diagnostics import Diagnostic, Span, suggest
from .load import grammar_path

MAX_DEPTH = 64  # nesting of brackets; deeper is certainly a mistake, and recursion-unsafe
MAX_TREE_DEPTH = 3 * MAX_DEPTH  # a parse tree spends a few levels per bracket

_OPENERS = {"(": ")", "[": "]", "{": "}"}
_CLOSERS = {")": "(", "]": "[", "}": "{"}


class _RuleIndenter(Indenter):
    NL_type = "_NL"
    OPEN_PAREN_types = ["LPAR", "LSQB", "LBRACE"]
    CLOSE_PAREN_types = ["RPAR", "RSQB", "RBRACE"]
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"
    tab_len = 8


@functools.cache
def parser() -> Lark:
    return Lark(grammar_path().read_text(encoding="utf-8"), parser="lalr",
                postlex=_RuleIndenter(), propagate_positions=True,
                maybe_placeholders=False, cache=True)


def decode(path: str, data: bytes) -> tuple[str | None, list[Diagnostic]]:
    """The file's text, or a diagnostic when it is not UTF-8."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        span = Span(path, line, column, line, column + 1)
        return None, [Diagnostic("not-utf8", f"the file is not UTF-8 text: byte 0x{data[exc.start]:02x} "
                                 f"cannot be decoded", span, hint="save the file as UTF-8")]
    # Line ends as Windows (CRLF) and classic Mac OS (a lone CR) write them read as LF: the
    # lines and columns a diagnostic shows are the editor's, and no raw CR reaches a message.
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n"), []


def parse_text(path: str, text: str) -> tuple[Tree | None, list[Diagnostic]]:
    """Parse one file's text; a tree of its declarations, or every syntax error found."""
    if not _has_content(text):
        span = Span(path, 1, 1, 1, 1)
        return None, [Diagnostic("empty-file", "the file holds no declaration", span,
                                 hint="add a declaration (source, fact, define, pathway, ...) "
                                      "or remove the file")]
    if not text.endswith("\n"):
        text += "\n"
    problems = _check_controls(path, text) or _check_left_open(path, text)
    if not problems:
        brackets = _check_brackets(path, text)
        if brackets and any(_closing_keyword(text, m) for m in _TOKENS.finditer(text)):
            # a string's opening quotes are missing: the strings after it read inside out, their
            # brackets as code; the parser says where, at the text that stands outside its quotes
            brackets = []
        problems = brackets or _check_tabs(path, text)
    if problems:
        return None, problems
    lalr = parser()  # built outside the try: a broken grammar is a bug, not the user's syntax error
    try:
        tree = lalr.parse(text)
    except (LarkError, DedentError, AssertionError):
        return None, _syntax_errors_per_declaration(path, text)
    too_deep = _check_depth(path, tree)
    return (None, too_deep) if too_deep else (tree, [])


def _has_content(text: str) -> bool:
    return any(line.strip() and not line.lstrip().startswith("#") for line in text.splitlines())


def _syntax_errors_per_declaration(path: str, text: str) -> list[Diagnostic]:
    lines = text.splitlines(keepends=True)
    diagnostics = []
    lalr = parser()
    for first, last in _declaration_chunks(text):
        chunk = "\n" * first + "".join(lines[first:last])
        try:
            lalr.parse(chunk)
        except DedentError as exc:
            diagnostics.append(_dedent_error(path, text, first, last, exc))
        except UnexpectedInput as exc:
            diagnostics.append(_glued_word(path, chunk, exc) or _unexpected(path, chunk, exc))
        except (LarkError, AssertionError) as exc:  # pragma: no cover - defensive
            diagnostics.append(Diagnostic("syntax", f"the text cannot be read: {exc}",
                                          Span(path, first + 1, 1, first + 1, 2)))
    return diagnostics or [Diagnostic("syntax", "the file cannot be read as a whole",
                                      Span(path, 1, 1, 1, 2))]


def _declaration_chunks(text: str) -> list[tuple[int, int]]:
    """Line ranges [first, last) of the top-level declarations (lines starting at column 0)."""
    lines = text.splitlines()
    starts = [number - 1 for number, depth, in_triple in _line_starts(text)
              if depth == 0 and not in_triple and lines[number - 1][:1] not in ("", " ", "\t", "#")]
    return list(zip(starts, starts[1:] + [len(lines)], strict=True))


def _line_starts(text: str):
    """(line number, bracket depth, inside a triple-quoted string) at the start of each line."""
    depth = 0
    in_triple = False
    pending = 1
    for number, _column, ch in _scan(text):
        while pending <= number:  # lines up to this event's start in the state before it
            yield pending, depth, in_triple
            pending += 1
        if ch == '"""':
            in_triple = not in_triple
        elif ch in _OPENERS:
            depth += 1
        elif ch in _CLOSERS:
            depth = max(0, depth - 1)
    for number in range(pending, len(text.splitlines()) + 1):
        yield number, depth, in_triple


_TOKENS = re.compile(r'"""(?:[^"\\]|\\.|"(?!""))*"""|"""|"(?:[^"\\\n]|\\.)*"?|#[^\n]*|[()\[\]{}]')


def _scan(text: str):
    """The brackets and triple quotes of a text, skipping strings and comments: (line, column, text)."""
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def where(offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(line_starts, offset)
        return line, offset - line_starts[line - 1] + 1

    for match in _TOKENS.finditer(text):
        token = match.group()
        if token.startswith('"""'):
            yield (*where(match.start()), '"""')
            if len(token) >= 6:  # closed: the closing quotes too
                yield (*where(match.end() - 3), '"""')
        elif token in _OPENERS or token in _CLOSERS:
            yield (*where(match.start()), token)


# Characters no rule file needs and a reader cannot see: C0 controls but tab and line ends
# (a NUL in a quote), and the bidirectional embeddings, overrides and isolates with which a
# line can show other text than it holds ("Trojan Source"), in strings and comments alike.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
_SHOWN_CONTROLS = 20


def _check_controls(path: str, text: str) -> list[Diagnostic]:
    diagnostics: list[Diagnostic] = []
    for match in _CONTROLS.finditer(text):
        if len(diagnostics) == _SHOWN_CONTROLS:
            break
        line = text.count("\n", 0, match.start()) + 1
        column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
        ch = match.group()
        name = unicodedata.name(ch, "a control character")
        diagnostics.append(Diagnostic(
            "syntax", f"an invisible character U+{ord(ch):04X} ({name.lower()})",
            Span(path, line, column, line, column + 1),
            hint="remove it: a rule file holds no control or text-direction characters, which can make "
                 "a line show other text than it holds"))
    return diagnostics


def _check_brackets(path: str, text: str) -> list[Diagnostic]:
    """Unbalanced brackets and over-deep nesting, found before the parser gets confused.

    Intervals may close with the other kind of bracket ("(30 % .. 100 %]"), so round and
    square brackets pair with each other; braces pair only with braces.
    """
    stack: list[tuple[str, int, int]] = []
    diagnostics: list[Diagnostic] = []
    for number, column, ch in _scan(text):
        if ch in _OPENERS:
            stack.append((ch, number, column))
            if len(stack) > MAX_DEPTH:
                return [Diagnostic("too-deep", f"brackets are nested more than {MAX_DEPTH} levels deep",
                                   Span(path, number, column, number, column + 1),
                                   hint="split the expression with 'define'")]
        elif ch in _CLOSERS:
            if not stack or stack[-1][0] not in ("{" if ch == "}" else "(["):
                diagnostics.append(Diagnostic(
                    "unbalanced-bracket", f"'{ch}' closes no open bracket",
                    Span(path, number, column, number, column + 1),
                    hint="remove it, or add the opening bracket it belongs to"))
            else:
                stack.pop()
    for ch, number, column in stack:
        diagnostics.append(Diagnostic(
            "unbalanced-bracket", f"'{ch}' is never closed",
            Span(path, number, column, number, column + 1),
            hint=f"add the closing '{_OPENERS[ch]}'"))
    return diagnostics


def _check_depth(path: str, tree: Tree) -> list[Diagnostic]:
    """Refuse trees deeper than MAX_DEPTH (long chains such as a + a + ... + a) without recursing."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_TREE_DEPTH:
            meta = node.meta
            span = Span(path, meta.line, meta.column, meta.end_line, meta.end_column) \
                if not meta.empty else Span(path, 1, 1, 1, 2)
            return [Diagnostic("too-deep", "the expression is nested too deep to read",
                               span, hint="split the expression with 'define'")]
        stack.extend((child, depth + 1) for child in node.children if isinstance(child, Tree))
    return []


def _indents(text: str, first: int = 0, last: int | None = None):
    """(line index, leading whitespace) of each line from `first` to `last` that the indenter
    measures: not blank, not a comment, not inside brackets or a triple-quoted string."""
    lines = text.splitlines()
    for number, depth, in_triple in _line_starts(text):
        index = number - 1
        if index < first or (last is not None and index >= last) or depth or in_triple:
            continue
        stripped = lines[index].lstrip(" \t")
        if stripped and not stripped.startswith("#"):
            yield index, lines[index][:len(lines[index]) - len(stripped)]


def _width(lead: str) -> int:
    return lead.count(" ") + lead.count("\t") * _RuleIndenter.tab_len  # as the indenter counts


def _block_indent(text: str, first: int, before: int) -> int:
    """The indentation of the innermost block open just before line `before`: that of the line
    above it (its clause lines are the ones a misindented line most likely belongs with)."""
    widths = [_width(lead) for index, lead in _indents(text, first, before)]
    return widths[-1] if widths else 0


def _check_tabs(path: str, text: str) -> list[Diagnostic]:
    """Tabs and spaces mixed in the indentation of one file: an error on each line that indents
    unlike the file's first indented line. A tab counts as 8 columns, which almost never lines
    up with the spaces around it, so a mixed file would be read with blocks its author did not see."""
    indented = [(index, lead) for index, lead in _indents(text) if lead]
    if not indented:
        return []
    kinds = {index: (" " in lead) + 2 * ("\t" in lead) for index, lead in indented}  # 1 spaces, 2 tabs, 3 both
    if len(set(kinds.values())) == 1 and 3 not in kinds.values():
        return []
    usual = "spaces" if kinds[indented[0][0]] != 2 else "tabs"
    problems = []
    for index, lead in indented:
        if kinds[index] == (1 if usual == "spaces" else 2):
            continue
        span = Span(path, index + 1, 1, index + 1, len(lead) + 1)
        if usual == "spaces":
            around = _block_indent(text, 0, index)
            problems.append(Diagnostic(
                "mixed-indentation", "this line is indented with a tab, but the file indents with spaces",
                span, hint=f"indent it with spaces only: {around} spaces, like the lines of its block"))
        else:
            problems.append(Diagnostic(
                "mixed-indentation", "this line is indented with spaces, but the file indents with tabs",
                span, hint="indent it with tabs only, like the other lines of the file"))
    return problems


def _dedent_error(path: str, text: str, first: int, last: int, exc: DedentError) -> Diagnostic:
    # The indenter does not say where; find the first line whose indentation matches no block.
    levels = [0]
    for number, lead in _indents(text, first, last):
        indent = _width(lead)
        if indent > levels[-1]:
            levels.append(indent)
            continue
        inner = levels[-1]  # the block the line above is in: the line belongs with its lines
        while indent < levels[-1]:
            levels.pop()
        if indent != levels[-1]:
            span = Span(path, number + 1, 1, number + 1, indent + 1)
            return Diagnostic("indentation", "this line is indented to a level no block opened",
                              span, hint=f"indent it by {inner} spaces, like the lines of its block")
    return Diagnostic("indentation", str(exc), Span(path, first + 1, 1, first + 1, 2))


def _keyword_text(terminal: str) -> str | None:
    """The literal text of an anonymous keyword terminal, or None for named terminals."""
    try:
        pattern = parser().get_terminal(terminal).pattern
    except KeyError:
        return None
    if pattern.type == "str":
        return pattern.value
    return None


@functools.cache
def _keywords() -> frozenset[str]:
    """Every keyword of the language ('quote', 'note', ...)."""
    return frozenset(k for k in (_keyword_text(t.name) for t in parser().terminals) if k and k.isalpha())


_TERMINAL_WORDS = {
    "NAME": "a name", "STRING": "a quoted string", "NUMBER": "a number", "INT": "a whole number",
    "DATE": "a date (YYYY-MM-DD)", "_NL": "the end of the line", "_INDENT": "an indented block",
    "_DEDENT": "the end of the block", "$END": "the end of the file", "COMPARATOR": "a comparison",
    "LPAR": "'('", "RPAR": "')'", "LSQB": "'['", "RSQB": "']'", "LBRACE": "'{'", "RBRACE": "'}'",
    "PERCENT": "'%'", "_COALESCE": "'coalesce('", "_MIN": "'min('", "_MAX": "'max('", "_ABS": "'abs('",
    "_ROUND": "'round('", "_MONTHS_BETWEEN": "'months_between('",
}


def _describe_expected(expected: set[str]) -> list[str]:
    words = []
    for name in sorted(expected):
        keyword = _keyword_text(name)
        words.append(f"'{keyword}'" if keyword else _TERMINAL_WORDS.get(name, name))
    return sorted(set(words))


def _describe_token(token: Token) -> str:
    match token.type:
        case "_NL":
            return "the end of the line"
        case "_INDENT":
            return "an indented line"
        case "_DEDENT":
            return "the end of the block"
        case "$END":
            return "the end of the file"
    return f"'{token.value}'"


def _unexpected(path: str, text: str, exc: UnexpectedInput) -> Diagnostic:
    line, column = max(exc.line, 1) if exc.line else 1, max(exc.column, 1) if exc.column else 1
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream if exc.pos_in_stream is not None else len(text)
        ch = text[pos] if pos < len(text) else ""
        if ch == '"' and text.startswith('"""', max(pos - 2, 0)):  # `""` was read as an empty string
            end = len(text.splitlines()[line - 1]) + 1
            return Diagnostic("unterminated-string", 'this """ string has no closing """',
                              Span(path, line, max(column - 2, 1), line, end),
                              hint='close it with """ (on this line or a later one)')
        if ch == '"':
            end = len(text.splitlines()[line - 1]) + 1
            return Diagnostic("unterminated-string", "this string has no closing quote",
                              Span(path, line, column, line, end),
                              hint='close it with \'"\' on the same line, or use """...""" for '
                                   "a string that spans lines")
        if ch.isdigit():  # ３, ٣: Python's \d would read them, the language does not
            return Diagnostic("syntax", f"unexpected character '{ch}': a digit of another script",
                              Span(path, line, column, line, column + 1), hint="write numbers with the digits 0-9")
        return Diagnostic("syntax", f"unexpected character '{ch}'", Span(path, line, column, line, column + 1),
                          hint="expected " + ", ".join(_describe_expected(set(exc.allowed or ()))))
    if isinstance(exc, UnexpectedEOF):
        lines = text.splitlines()
        last = len(lines)
        return Diagnostic("syntax", "the file ends in the middle of a declaration",
                          Span(path, last, 1, last, len(lines[-1]) + 1 if lines else 2),
                          hint="expected " + ", ".join(_describe_expected(set(exc.expected))))
    assert isinstance(exc, UnexpectedToken)
    token = exc.token
    expected = set(exc.expected)
    found = _describe_token(token)
    if token.type in ("_NL", "$END", "_DEDENT", "_INDENT"):
        # These tokens sit at the start of the next line; point at the end of the line instead.
        if token.type == "_INDENT":
            at = token.end_line or line
            block = _block_indent(text, 0, at - 1)
            hint = (f"indent it by {block} spaces, like the lines of its block" if block
                    else "remove the indentation, or check the line above")
            return Diagnostic("indentation", "this line is indented, but nothing above opens a block",
                              Span(path, at, 1, at, (token.end_column or 2)), hint=hint)
        span = Span(path, line, column, line, column + 1)
    else:
        span = Span(path, line, column, token.end_line or line,
                    token.end_column or column + len(str(token.value)))
    expected_words = _describe_expected(expected)
    keywords = [k for k in (_keyword_text(n) for n in expected) if k and k.isalpha()]
    if token.type == "NAME" and keywords and "NAME" not in expected:
        return Diagnostic("unknown-keyword",
                          f"unknown keyword '{token.value}'; expected one of: "
                          + ", ".join(expected_words), span,
                          hint=suggest(str(token.value), keywords))
    # "unexpected end of the line", not "unexpected the end of the line"
    return Diagnostic("syntax", f"unexpected {found.removeprefix('the ')}; expected " + _join_or(expected_words), span,
                      hint=_branch_hint(text, line, expected_words))


def _branch_hint(text: str, line: int, expected: list[str]) -> str | None:
    """How a branch is written, when a decision's branch fails where its '->' could stand: the
    parser, reading `when x <= 3 target`, takes the target for a unit and fails after it."""
    lines = text.splitlines()
    words = lines[line - 1].split() if 0 < line <= len(lines) else []
    if "'->'" in expected and words[:1] in (["when"], ["otherwise"]) and "->" not in words:
        return "a branch reads: when CONDITION -> TARGET \"label\" (is '->' missing?)"
    return None


def _check_left_open(path: str, text: str) -> list[Diagnostic]:
    '''A triple-quoted string whose closing quotes were forgotten, if the text has one.

    Such a string runs on to the next triple quotes, those meant to open a later clause's string
    (`note """` after a `quote`), and every string after it is read inside out: the parser, or the
    brackets' check, fails far from the mistake. A string that a clause opens (`quote """`) and
    that triple quotes standing on their line after a keyword alone close was left open.'''
    for string in _TOKENS.finditer(text):
        keyword = _closing_keyword(text, string)
        opened_by = text[text.rfind("\n", 0, string.start()) + 1:string.start()].split()[-1:]
        if keyword is None or not opened_by or opened_by[0] not in _keywords():  # opened by a clause, too
            continue
        closed_at = string.end()
        line = text.count("\n", 0, string.start()) + 1
        column = string.start() - (text.rfind("\n", 0, string.start()) + 1) + 1
        end = len(text.splitlines()[line - 1]) + 1
        later = text.count("\n", 0, closed_at) + 1
        return [Diagnostic("unterminated-string", f'this """ string has no closing """: it runs on to line {later}, '
                           f"where the \"\"\" after '{keyword}' was meant to open another",
                           Span(path, line, column, line, end), hint='close it with """ where its text ends')]
    return []


def _closing_keyword(text: str, string: re.Match) -> str | None:
    """The keyword before the quotes that close a triple-quoted string, when they stand on their
    line after it alone (`    note \"\"\"`: meant to open a string, not to close one), else None;
    a string's last line is text (`resection\"\"\"`)."""
    token = string.group()
    if not token.startswith('"""') or len(token) < 6 or "\n" not in token:
        return None
    line_start = text.rfind("\n", 0, string.end() - 3) + 1
    before = text[line_start:string.end() - 3]
    keyword = before.strip()
    if keyword in _keywords() and before[:1].isspace() and before[-1:].isspace():
        return keyword
    return None


def _glued_word(path: str, text: str, exc: UnexpectedInput) -> Diagnostic | None:
    """The diagnostic for a keyword written with more letters ('modality optional'), or None.

    Where only keywords may stand, the lexer reads the keyword the word starts with ('option')
    and then the rest as a name ('al'), so the parser fails on the rest. Parsed again with the
    whole word masked as a name no keyword starts with, the parser fails at the word's start,
    expecting what could stand there: the diagnostic names the word the editor wrote."""
    if not isinstance(exc, UnexpectedToken) or exc.token.type != "NAME" or exc.token.start_pos is None:
        return None
    end = exc.token.start_pos
    start = end
    while start > 0 and (text[start - 1].isascii() and (text[start - 1].isalnum() or text[start - 1] == "_")):
        start -= 1
    if start == end:  # the name stands on its own: the usual diagnostic says it right
        return None
    word = text[start:exc.token.end_pos]
    masked = text[:start] + "Z" * len(word) + text[exc.token.end_pos:]  # keywords are lower case
    try:
        parser().parse(masked)
    except UnexpectedToken as again:
        if again.token.start_pos != start:
            return None
        diagnostic = _unexpected(path, masked, again)
        keywords = [k for k in (_keyword_text(n) for n in again.expected) if k and k.isalpha()]
    except (LarkError, DedentError, AssertionError):
        return None
    else:
        return None
    if diagnostic.code != "unknown-keyword":
        return None
    return Diagnostic("unknown-keyword", diagnostic.message.replace(f"'{'Z' * len(word)}'", f"'{word}'", 1),
                      diagnostic.span, hint=suggest(word, keywords))


def _join_or(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words) or "nothing"
    return ", ".join(words[:-1]) + " or " + words[-1]
