"""Where every name of a knowledge base is declared and used: declarations + tokens -> an `Index`.

The language server's questions (go to definition, find references, rename, hover, semantic
colours) are all "which declaration does the word under the cursor name?". The IR answers it for
expressions (fact and definition references carry their spans); for the other places a name is
written (a branch's target, a rule's source, a pathway's sites, a plan's anchor, a scenario's
given facts and expectations) the word before it says what it is. Words that are values rather
than names (enum values, units, actions, waived codes, severities) name nothing.

Works on whatever parsed: a file with a syntax error simply contributes no declarations, so the
rest of the knowledge base still answers.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Iterable

from . import ir
from .diagnostics import Span
from .tokens import Token, significant, tokenize

# What a word names, by the word before it.
_AFTER = {
    "source": ("source",), "site": ("site",), "anchor": ("fact",), "actual": ("fact",), "needs": ("fact",),
    "before": ("plan_step",), "after": ("plan_step",), "schedule": ("plan",), "->": ("node",), "then": ("node",),
    "recommend": ("node", "safety"), "warning": ("node", "safety"), "on": ("site",),
}
# Words after these are values, not names.
_VALUES_AFTER = {"waive", "severity", "action", "modality", "integer", "number", "percent"}
# Declarations and nodes, by the keyword that opens them.
DECLARING = {"fact": "fact", "define": "define", "source": "source", "site": "site", "pathway": "pathway",
             "plan": "plan", "safety": "safety", "scenario": "scenario", "decide": "node", "step": "node",
             "recommend": "node", "warn": "node"}


@dataclass(frozen=True)
class Symbol:
    """A declared name: what kind of thing, its id, the declaration, and where its name is written."""

    kind: str       # fact, define, source, site, pathway, node, plan, plan_step, safety, scenario
    id: str
    decl: Any
    name_span: Span
    container: str | None = None  # the pathway of a node, the plan of a plan step


@dataclass
class Index:
    symbols: list[Symbol] = field(default_factory=list)
    by_name: dict[str, list[Symbol]] = field(default_factory=dict)
    # (file, line, column) of a word -> the symbol it names (1-based, as spans are)
    uses: dict[tuple[str, int, int], Symbol] = field(default_factory=dict)
    words: dict[tuple[str, int, int], Token] = field(default_factory=dict)
    tokens: dict[str, list[Token]] = field(default_factory=dict)

    def symbol_at(self, file: str, line: int, column: int) -> tuple[Symbol, Token] | None:
        """The symbol named by the word at a 1-based position, and that word."""
        for token in self.tokens.get(file, ()):
            if token.line + 1 == line and token.column + 1 <= column <= token.column + len(token.text) + 1 \
                    and token.kind == "name":
                symbol = self.uses.get((file, token.line + 1, token.column + 1))
                if symbol is not None:
                    return symbol, token
        return None

    def references(self, symbol: Symbol) -> list[tuple[str, Token]]:
        """Every place the symbol's name is written, its declaration included."""
        found = [(key[0], self.words[key]) for key, used in self.uses.items() if used is symbol]
        return sorted(found, key=lambda item: (item[0], item[1].line, item[1].column))


def build_index(declarations: Iterable[ir.Declaration], texts: dict[str, str],
                memo: dict[tuple[str, str], Any] | None = None) -> Index:
    """The index of a knowledge base's declarations, over the texts of its files. `memo` keeps each
    file's tokens and expression words by its text, so an editor re-reads only the file typed in."""
    memo = {} if memo is None else memo
    declarations = list(declarations)
    by_file: dict[str, list[Any]] = {}
    for decl in declarations:
        if decl.span is not None:
            by_file.setdefault(decl.span.file, []).append(decl)
    index = Index()
    expression_words: dict[tuple[str, int, int], tuple[str, str]] = {}
    for file, text in texts.items():
        key = (file, text)
        if key not in memo:
            memo[key] = (tokenize(text), _expression_words(by_file.get(file, [])))
        index.tokens[file], words = memo[key]
        expression_words.update(words)
    for file, tokens in index.tokens.items():
        for token in tokens:
            if token.kind == "name":
                index.words[(file, token.line + 1, token.column + 1)] = token
    named: dict[tuple[str, str], list[Token]] = {}
    for (file, _, _), token in index.words.items():
        named.setdefault((file, token.text), []).append(token)
    for decl in declarations:
        for symbol in _symbols(decl, named):
            index.symbols.append(symbol)
            index.by_name.setdefault(symbol.id, []).append(symbol)
            index.uses[(symbol.name_span.file, symbol.name_span.line, symbol.name_span.column)] = symbol
    pathways = [(s.decl.span.file, s.decl.span.line, s.decl.span.end_line, s.id) for s in index.symbols
                if s.kind == "pathway" and s.decl.span is not None]
    for file, tokens in index.tokens.items():
        _resolve_words(index, file, significant(tokens), expression_words,
                       [(first, last, pathway) for f, first, last, pathway in pathways if f == file])
    return index


def _name_token(named: dict[tuple[str, str], list[Token]], span: Span | None, name: str) -> Span | None:
    """The span of the first word `name` inside a declaration's span."""
    if span is None:
        return None
    for token in named.get((span.file, name), ()):
        at = (token.line + 1, token.column + 1)
        if (span.line, span.column) <= at <= (span.end_line, span.end_column):
            return Span(span.file, at[0], at[1], at[0], at[1] + len(name))
    return None


def _symbols(decl: Any, index: dict[tuple[str, str], list[Token]]) -> Iterable[Symbol]:
    kind = {ir.Fact: "fact", ir.Define: "define", ir.Source: "source", ir.Pathway: "pathway", ir.Plan: "plan",
            ir.Safety: "safety", ir.Scenario: "scenario"}.get(type(decl))
    if kind is None and type(decl).__name__ == "Site":
        kind = "site"
    if kind is None or not hasattr(decl, "id"):
        return
    span = _name_token(index, decl.span, decl.id)
    if span is not None:
        yield Symbol(kind, decl.id, decl, span)
    for child in getattr(decl, "nodes", ()) if kind == "pathway" else ():
        if isinstance(child, ir.Schedule):
            continue
        child_span = _name_token(index, child.span, child.id)
        if child_span is not None:
            yield Symbol("node", child.id, child, child_span, container=decl.id)
    for step in getattr(decl, "steps", ()) if kind == "plan" else ():
        step_span = _name_token(index, step.span, step.id)
        if step_span is not None:
            yield Symbol("plan_step", step.id, step, step_span, container=decl.id)


def _expression_words(declarations: list) -> dict[tuple[str, int, int], tuple[str, str]]:
    """(file, line, column) -> ("name", id) for references in expressions, ("value", v) for enum values."""
    words: dict[tuple[str, int, int], tuple[str, str]] = {}
    seen: set[int] = set()
    stack: list[Any] = list(declarations)
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, (ir.FactRef, ir.DefineRef, ir.Name)) and item.span is not None:
            words[(item.span.file, item.span.line, item.span.column)] = ("name", item.id)
        elif isinstance(item, ir.EnumLit) and item.span is not None:
            words[(item.span.file, item.span.line, item.span.column)] = ("value", item.value)
        if dataclasses.is_dataclass(item) and not isinstance(item, type):
            for f in dataclasses.fields(item):
                stack.append(getattr(item, f.name))
        elif isinstance(item, (tuple, list)):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return words


def _resolve_words(index: Index, file: str, tokens: list[Token], expression_words: dict,
                   pathways: list[tuple[int, int, str]]) -> None:
    in_braces = 0
    line_start = 0
    for i, token in enumerate(tokens):
        if i == 0 or tokens[i - 1].line != token.line:
            line_start = i
        if token.kind == "open" and token.text == "{":
            in_braces += 1
        elif token.kind == "close" and token.text == "}":
            in_braces = max(0, in_braces - 1)
        if token.kind != "name":
            continue
        key = (file, token.line + 1, token.column + 1)
        if key in index.uses:
            continue  # a declaration's own name
        word = expression_words.get(key)
        if word is not None:
            if word[0] == "name":
                symbol = _pick(index, word[1], ("fact", "define"))
                if symbol is not None:
                    index.uses[key] = symbol
            continue
        if in_braces:
            continue  # enum values, set literals
        previous = _previous_word(tokens, i, line_start)
        if previous in _VALUES_AFTER or previous is not None and previous[:1].isdigit():
            continue
        if previous == "=":
            continue  # a value given to a fact in a scenario
        kinds = _AFTER.get(previous or "")
        if previous == ",":
            kinds = _list_kinds(tokens, i, line_start)
            if kinds is None:
                continue
        if previous is None and i + 1 < len(tokens) and tokens[i + 1].text == "=":
            kinds = ("fact",)  # a scenario's given fact
        line = token.line + 1
        pathway = next((p for first, last, p in pathways if first <= line <= last), None)
        symbol = _pick(index, token.text, kinds, pathway)
        if symbol is not None:
            index.uses[key] = symbol


def _previous_word(tokens: list[Token], i: int, line_start: int) -> str | None:
    return tokens[i - 1].text if i > line_start else None


def _list_kinds(tokens: list[Token], i: int, line_start: int) -> tuple[str, ...] | None:
    """What the words of a comma-separated list name: node targets after `then`, sites after `site`."""
    for j in range(i - 1, line_start - 1, -1):
        word = tokens[j].text
        if word in ("then", "site"):
            return _AFTER[word]
        if word in ("action", "refs"):
            return None
    return None


def _pick(index: Index, name: str, kinds: tuple[str, ...] | None, pathway: str | None = None) -> Symbol | None:
    candidates = index.by_name.get(name, [])
    if kinds is not None:
        candidates = [s for s in candidates if s.kind in kinds]
    if len(candidates) > 1 and pathway is not None:
        same = [s for s in candidates if s.container == pathway]
        candidates = same or candidates
    return candidates[0] if candidates else None
