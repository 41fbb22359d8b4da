"""Diagnostics: where something is wrong, what, and how to fix it.

Every phase reports problems as `Diagnostic` values (code, severity, message, span, hint)
and collects all of them before the orchestrator raises one `KnowledgeBaseError` or
`CaseError`. This module also renders diagnostics for people (`path:line:col: error: ...`,
the source line, a caret under the span, the hint) and for tools (JSON). It does no I/O
beyond reading a file's text to show the offending line.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import field
from pathlib import Path
from typing import Any, Iterable

from .records import record

# The stable codes, kebab-case. Tools match on these; never rename one.
CODES: dict[str, str] = {
    # reading and syntax
    "file-not-found": "a rule, case or include file does not exist",
    "not-utf8": "a file is not valid UTF-8 text",
    "empty-file": "a rule file holds no declaration",
    "syntax": "the text does not follow the grammar",
    "unknown-keyword": "a word stands where a keyword is expected",
    "unterminated-string": "a string has no closing quote",
    "unbalanced-bracket": "a bracket is not closed, or closes nothing",
    "indentation": "a line is indented to a level no block opened",
    "mixed-indentation": "a file indents some lines with tabs and others with spaces",
    "too-deep": "an expression is nested deeper than the language allows",
    "include-not-found": "an included file does not exist",
    "include-cycle": "files include each other in a cycle",
    "include-outside": "an included file lies outside the knowledge base's folder",
    "not-rules": "a file read as rules (a root or an include) is not a rule file (*.rules)",
    "no-root": "a knowledge-base folder has no main.rules",
    # declarations
    "missing-clause": "a declaration lacks a clause it requires",
    "duplicate-clause": "a clause is given twice",
    "invalid-clause": "a clause does not belong to this declaration",
    "invalid-replacement": "a safety rule's replacement is not an order its rule could offer",
    "invalid-value": "a clause has a value outside what it allows",
    "duplicate-id": "two declarations share an id",
    "invalid-range": "a declared range is empty or malformed",
    # names and types
    "unknown-fact": "an expression names a fact or definition that is not declared",
    "unknown-source": "a rule cites a source that is not declared",
    "unknown-enum-value": "a value is not among the values of its enum",
    "unknown-unit": "a unit is not one the language knows",
    "type-mismatch": "an operation is applied to values of the wrong type",
    "unit-mismatch": "quantities of different units are compared or combined",
    "unknown-plan": "a pathway schedules a plan that is not declared",
    "unknown-site": "a pathway or scenario names a site that is not declared",
    "unknown-rule": "a scenario expects a rule that is not declared",
    "define-cycle": "definitions refer to each other in a cycle",
    # FHIR bindings of facts (engine/lang/check_binding.py)
    "unknown-code-system": "a binding's code names a code system that is not declared",
    "invalid-binding": "a FHIR binding cannot give a value of its fact's type",
    "fhirpath-syntax": "a binding's FHIRPath expression does not parse",
    # graphs
    "unknown-target": "a branch or step leads to a node that does not exist",
    "pathway-cycle": "a pathway leads back to a node it came from",
    "multiple-entries": "a pathway node cannot be reached from the pathway's entry",
    # static verification (analysis/verify): findings, each with a case that shows it
    "gap": "a decision without 'otherwise' whose branches can all be false",
    "overlap": "two branches of a decision hold for the same case",
    "conflict": "a source recommends an action it also advises against, for one case",
    "discordance": "one source recommends an action another advises against, for one case",
    "unreachable": "no case reaches a branch or rule",
    "unused-fact": "a declared fact no rule reads",
    "untested-fact": "a fact no scenario gives or expects to be needed",
    "unused-define": "a definition no rule uses",
    # consistency (engine/analysis/consistency): constraints and modality
    "constraint-never-holds": "no case breaks a constraint: it can never warn",
    "constraints-exclude-every-case": "the constraints together admit no case with every fact known",
    "modality-firmer-than-quote": "a recommendation is firmer than its quote's permissive verb",
    "contradiction": "a case gives facts a constraint says cannot hold together",
    # cases
    "case-malformed": "a case file is not valid JSON or YAML",
    "case-not-mapping": "a case is not a mapping of fact names to values",
    "case-unknown-fact": "a case names a fact the knowledge base does not declare",
    "case-wrong-type": "a case gives a value of the wrong type for its fact",
    "case-out-of-range": "a case gives a value outside its fact's range",
    "case-unknown-value": "a case gives a value outside its fact's enum",
    "case-duplicate-fact": "a case gives the same fact twice",
    # lowering to SQL (engine/evaluation/sql.py)
    "not-lowerable": "a rule uses a construct the SQL lowering cannot express",
    # FHIR bundles (engine/inputs/fhir.py)
    "fhir-malformed": "a FHIR input is not a Bundle of resources, or a resource has no resourceType",
    "fhir-invalid-resource": "a resource does not fit its FHIR R4 model (an element of the wrong type)",
    "fhir-unknown-code": "a bound element holds a code its binding does not map",
    "fhir-unresolved-reference": "a reference names a resource the bundle does not hold",
    "fhir-conflict": "two resources give different values for one fact, which stays unknown",
    "facts-without-bundle": "facts are given beside a case that is not a FHIR bundle",
    "fhir-wrong-value": "a bound element's value does not fit its fact (type, unit, range)",
    # scenarios
    "scenario-failed": "a scenario test's expectation does not hold",
    # evaluation
    "evaluation-failed": "a rule could not be evaluated for a case (a date out of range, a value of the wrong type)",
    # the review record (engine/analysis/review_record.py)
    "review-syntax": "the review record is not valid TOML",
    "review-invalid": "a review lacks a field, or gives a field a value it cannot have",
    "review-unknown-rule": "a review names a rule the knowledge base does not have",
}

# The severity a code has when its diagnostic does not say; a code not listed is an error.
SEVERITY: dict[str, str] = {
    "overlap": "warning", "discordance": "info", "unreachable": "warning", "unused-fact": "warning",
    "untested-fact": "info", "unused-define": "warning", "constraint-never-holds": "warning",
    "contradiction": "warning",
}


@record
class Span:
    """A region of a file: 1-based lines and columns, end exclusive."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"

    def to_json(self) -> dict:
        return {"file": self.file, "line": self.line, "column": self.column,
                "end_line": self.end_line, "end_column": self.end_column}


@record
class Diagnostic:
    """One problem found in a rule file or a case.

    A static finding (analysis/verify) also names the declaration it is about (`subject`), a
    case that shows it, as a case file writes it (`case`), and, where a `waive` clause accepts
    it, the reason (`waived`): a waived finding is shown but does not fail."""

    code: str
    message: str
    span: Span | None = None
    severity: str = ""               # empty: the code's own (SEVERITY), else "error"
    hint: str | None = None
    related: tuple[tuple[str, Span], ...] = field(default=())
    subject: str | None = None
    case: dict[str, Any] | None = field(default=None, compare=False)  # a dict: kept out of the hash
    waived: str | None = None

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unregistered diagnostic code {self.code!r}")
        if not self.severity:
            object.__setattr__(self, "severity", SEVERITY.get(self.code, "error"))

    @property
    def fails(self) -> bool:
        """Whether it makes a command fail: an error that is not waived."""
        return self.severity == "error" and self.waived is None

    def to_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "span": self.span.to_json() if self.span else None,
            "hint": self.hint,
            "related": [{"message": m, "span": s.to_json()} for m, s in self.related],
        }
        if self.subject is not None:  # a static finding
            found.update(subject=self.subject, case=self.case, waived=self.waived)
        return found


class ConsiliumError(Exception):
    """The root of the errors Consilium raises for bad input."""


class DiagnosticsError(ConsiliumError):
    """Bad input, described by one or more diagnostics."""

    def __init__(self, diagnostics: Iterable[Diagnostic], texts: dict[str, str] | None = None):
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)
        self.texts: dict[str, str] = dict(texts or {})  # file -> text, to show the offending lines
        first = self.diagnostics[0] if self.diagnostics else None
        summary = f"{first.span}: {first.message}" if first and first.span else (
            first.message if first else "no diagnostics")
        more = len(self.diagnostics) - 1
        super().__init__(summary + (f" (and {more} more)" if more > 0 else ""))


class KnowledgeBaseError(DiagnosticsError):
    """A knowledge base failed to read, parse or check."""


class CaseError(DiagnosticsError):
    """A case failed to read or to validate against the fact schema."""


class EvaluationError(DiagnosticsError):
    """A rule could not be evaluated for a case; the diagnostic names the rule's place."""


class UsageError(ConsiliumError):
    """A command or API call was used the wrong way."""


def suggest(word: str, candidates: Iterable[str]) -> str | None:
    """A 'did you mean' hint, or None when nothing is close."""
    import difflib  # only when a problem is reported: not on the way of every command
    close = difflib.get_close_matches(word, sorted(set(candidates)), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None


def sorted_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Diagnostics in reading order: by file, line, column, then code."""
    def key(d: Diagnostic):
        s = d.span
        return (s.file, s.line, s.column, d.code) if s else ("", 0, 0, d.code)
    return sorted(set(diagnostics), key=key)


def format_text(diagnostics: Iterable[Diagnostic], sources: dict[str, str] | None = None) -> str:
    """Render diagnostics for a person, with the offending line and a caret under the span."""
    sources = dict(sources or {})
    split: dict[str, list[str]] = {}  # each file cut into lines once: the cost stays linear
    blocks = []
    for d in diagnostics:
        severity = f"{d.severity} (waived)" if d.waived else d.severity
        if d.span is None:
            lines = [f"{severity}: {d.message} [{d.code}]"]
        else:
            lines = [f"{d.span}: {severity}: {d.message} [{d.code}]"]
            lines += _excerpt(d.span, sources, split)
        for message, span in d.related:
            lines.append(f"  {span}: note: {message}")
        hints = [d.hint] if d.hint else []
        if d.case is not None:  # ready to save as a file for `consilium eval`
            hints.append("a case that shows it: " + json.dumps(d.case, ensure_ascii=False))
        if d.waived:
            hints.append(f"waived: {d.waived}")
        if hints:
            lines.append("  hint: " + "; ".join(hints))
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


def _excerpt(span: Span, sources: dict[str, str], split: dict[str, list[str]]) -> list[str]:
    if span.file not in split:
        if span.file not in sources:
            try:
                sources[span.file] = Path(span.file).read_text(encoding="utf-8", errors="replace")
            except OSError:
                sources[span.file] = ""
        split[span.file] = _lines(sources[span.file])
    text_lines = split[span.file]
    if not 1 <= span.line <= len(text_lines):
        return []
    # a control or text-direction character would reorder or hide the excerpt on a terminal:
    # each is shown as one visible mark, so the caret stays under its column
    line = _INVISIBLE.sub("\ufffd", text_lines[span.line - 1].replace("\t", " "))
    width = (span.end_column - span.column) if span.end_line == span.line else len(line) - span.column + 1
    width = max(1, min(width, len(line) - span.column + 1 if len(line) >= span.column else 1))
    column = span.column
    if len(line) > _MAX_EXCERPT:  # show a window of a very long line around the span
        start = max(0, column - 1 - _MAX_EXCERPT // 3)
        shown = line[start:start + _MAX_EXCERPT]
        line = ("…" if start else "") + shown + ("…" if start + _MAX_EXCERPT < len(line) else "")
        column = column - start + (1 if start else 0)
        width = min(width, _MAX_EXCERPT - (column - 1))
    gutter = f"{span.line} | "
    return [f"  {gutter}{line}", "  " + " " * len(gutter) + " " * (column - 1) + "^" * max(1, width)]


_MAX_EXCERPT = 120
_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


@functools.lru_cache(maxsize=16)
def _lines(text: str) -> list[str]:
    """A file's lines, kept for the next call: callers that format one finding at a time (with
    the same texts) cut each file once, not once per finding. A str keeps its hash, so finding
    the entry again costs nothing."""
    return text.splitlines()


def format_json(diagnostics: Iterable[Diagnostic]) -> list[dict]:
    return [d.to_json() for d in diagnostics]
