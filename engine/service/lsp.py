"""`consilium lsp`: the language server editors start for `.rules` files (pygls, LSP over stdio).

As you type, a buffer's knowledge base (the nearest folder above it with a `main.rules` that
includes it, else the file alone) is loaded from the editor's unsaved buffers and checked:
syntax, names, types, units, ranges and the pathway checks, published as diagnostics for every
file of it. Only the changed file is parsed again (`lang/load.py`'s `parse` hook with a memo);
the Z3 findings (`consilium check`'s static analysis) follow on save, in a worker thread.

The other features read an `Index` of the knowledge base (`lang/index.py`): hover (a fact's type,
unit, range, label and question; a rule's modality, source and quote; a source's title), go to
definition, find references and rename across included files, completion (facts, enum values
after a comparison, units, node ids after `->`, sources, keywords), document symbols, code
actions (the did-you-mean fixes the hints know; a `waive` for a static finding) and semantic
tokens.

It never crashes or hangs on what an editor sends: every handler answers "nothing" rather than
fail (and logs why), a buffer over MAX_LIVE characters is not parsed as you type, positions past
the end are answered with nothing, and a file deleted or renamed under it is simply read again.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, TypeVar

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from ..lang import ir
from ..lang.check import Checked, check
from ..lang.diagnostics import Diagnostic, Span
from ..lang.index import DECLARING, Index, Symbol, build_index
from ..lang.load import ROOT_FILE, Loaded, load, parse_file
from ..lang.shape import shapes as shapes_of
from ..lang.tokens import Token, keywords, significant, tokenize
from ..lang.values import DURATION_UNITS, NUMBER_UNITS

MAX_LIVE = 2_000_000      # characters of one buffer checked as you type
DEBOUNCE = 0.03           # seconds of quiet before a change is checked
VERIFY_DEBOUNCE = 0.3     # seconds after a save before the Z3 findings run
MEMO = 256                # parsed file texts remembered

log = logging.getLogger("consilium.lsp")
T = TypeVar("T")

TOKEN_TYPES = ["keyword", "string", "comment", "number", "operator", "variable", "function", "namespace",
               "class", "type", "property", "event", "enumMember"]
_SYMBOL_TOKEN = {"fact": "variable", "define": "function", "source": "namespace", "node": "class",
                 "pathway": "type", "plan": "type", "plan_step": "class", "scenario": "type", "site": "property",
                 "safety": "event"}
_SYMBOL_KIND = {"fact": lsp.SymbolKind.Variable, "define": lsp.SymbolKind.Function,
                "source": lsp.SymbolKind.Namespace, "node": lsp.SymbolKind.Class, "pathway": lsp.SymbolKind.Module,
                "plan": lsp.SymbolKind.Module, "plan_step": lsp.SymbolKind.Event, "scenario": lsp.SymbolKind.Method,
                "site": lsp.SymbolKind.Property, "safety": lsp.SymbolKind.Event}
_SEVERITY = {"error": lsp.DiagnosticSeverity.Error, "warning": lsp.DiagnosticSeverity.Warning,
             "info": lsp.DiagnosticSeverity.Information}
_DID_YOU_MEAN = re.compile(r"did you mean '([^']+)'")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_COMPARATORS = {"=", "!=", "≠"}


@dataclass
class Analysis:
    """One knowledge base as the editor's buffers have it now."""

    root: Path
    loaded: Loaded
    checked: Checked | None
    diagnostics: list[Diagnostic]
    files: dict[str, str] = field(default_factory=dict)    # absolute path -> display path
    memo: dict[tuple[str, str], Any] = field(default_factory=dict)  # the server's, shared by its analyses
    _index: Index | None = None

    @property
    def index(self) -> Index:
        if self._index is None:
            self._index = build_index(self.loaded.declarations, self.loaded.texts, self.memo)
            if len(self.memo) > MEMO:
                for key in list(self.memo)[: len(self.memo) - MEMO]:
                    self.memo.pop(key, None)
        return self._index

    def display(self, path: str) -> str | None:
        return self.files.get(os.path.abspath(path))


class Refused(Exception):
    """A request the server answers with an error the editor shows (a rename to a non-name)."""


class RulesServer(LanguageServer):
    """The server's state: the analyses of the knowledge bases open in the editor."""

    def __init__(self) -> None:
        from ... import __version__
        super().__init__("consilium", __version__, text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental)
        self.analyses: dict[Path, Analysis] = {}
        self.verified: dict[Path, list[Diagnostic]] = {}
        self.published: dict[Path, set[str]] = {}
        self.parses: dict[tuple[str, str], tuple[ir.RuleFile | None, list[Diagnostic]]] = {}
        self.index_memo: dict[tuple[str, str], Any] = {}
        self.pending: dict[str, int] = {}
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="consilium-check")
        self.verifier = ThreadPoolExecutor(max_workers=1, thread_name_prefix="consilium-verify")
        self.save_serial: dict[Path, int] = {}
        self.dirty: set[str] = set()      # buffers changed since the last analysis that read them
        self.tasks: set[asyncio.Task[None]] = set()

    # ---- reading the editor's buffers ------------------------------------------------------
    def open_documents(self) -> dict[str, Any]:
        try:
            return self.workspace.text_documents
        except RuntimeError:  # not initialised yet (or used as a library): nothing is open
            return {}

    def read(self, path: Path) -> bytes:
        uri = from_fs_path(str(path))
        document = self.open_documents().get(uri) if uri else None
        if document is not None:
            return document.source.encode("utf-8", "surrogatepass")
        return path.read_bytes()

    def parse(self, shown: str, text: str) -> tuple[ir.RuleFile | None, list[Diagnostic]]:
        if len(text) > MAX_LIVE:
            return None, [Diagnostic("syntax", f"the file has {len(text):,} characters, more than the "
                                     f"{MAX_LIVE:,} checked as you type", Span(shown, 1, 1, 1, 2), severity="warning",
                                     hint="run `consilium check` on it")]
        key = (shown, text)
        found = self.parses.get(key)
        if found is None:
            found = parse_file(shown, text)
            if len(self.parses) >= MEMO:
                self.parses.pop(next(iter(self.parses)))
            self.parses[key] = found
        return found

    # ---- analysis --------------------------------------------------------------------------
    def root_for(self, path: Path) -> Path:
        """The root file of the knowledge base a rule file belongs to: the nearest main.rules above
        it that includes it, else the file itself."""
        folder = path.parent
        for _ in range(12):
            candidate = folder / ROOT_FILE
            if candidate.is_file() or from_fs_path(str(candidate)) in self.open_documents():
                if candidate == path:
                    return candidate
                known = self.analyses.get(candidate) or self.analyze(candidate)
                if os.path.abspath(path) in known.files:
                    return candidate
            if folder.parent == folder:
                break
            folder = folder.parent
        return path

    def analyze(self, root: Path) -> Analysis:
        loaded, problems = load(root, read=self.read, parse=self.parse)
        checked = None
        if not any(d.severity == "error" for d in problems):
            checked, found = check(list(loaded.declarations))
            problems = problems + found
            if not any(d.severity == "error" for d in found):
                from ..lang.graph import validate
                shapes = shapes_of(checked.pathways)
                problems += [d for pathway in checked.pathways for d in validate(pathway, shapes[pathway.id])]
        files = {os.path.abspath(shown): shown for shown in loaded.files}
        files.setdefault(os.path.abspath(root), loaded.root)
        analysis = Analysis(root, loaded, checked, problems, files, self.index_memo)
        self.analyses[root] = analysis
        return analysis

    def analysis_of(self, uri: str) -> Analysis | None:
        """The analysis a request about this buffer reads: fresh when the buffer changed since."""
        path = to_fs_path(uri)
        if path is None:
            return None
        root = self.root_for(Path(path))
        if uri in self.dirty or root not in self.analyses:
            self.dirty.discard(uri)
            return self.analyze(root)
        return self.analyses[root]

    def publish(self, analysis: Analysis) -> None:
        by_file: dict[str, list[lsp.Diagnostic]] = {path: [] for path in analysis.files}
        for d in [*analysis.diagnostics, *self.verified.get(analysis.root, ())]:
            path = os.path.abspath(d.span.file) if d.span else os.path.abspath(analysis.root)
            by_file.setdefault(path, []).append(to_lsp_diagnostic(d))
        uris = set()
        for path, diagnostics in by_file.items():
            uri = from_fs_path(path)
            if uri is None:
                continue
            uris.add(uri)
            self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics))
        for stale in self.published.get(analysis.root, set()) - uris:
            self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=stale, diagnostics=[]))
        self.published[analysis.root] = uris

    def verify(self, root: Path) -> list[Diagnostic]:
        """The static analysis of the saved files (Z3), as diagnostics."""
        from ..analysis.verify import verify
        from ..kb import load_kb
        kb = load_kb(root, use_cache=False)
        found = []
        for finding in verify(kb):
            if getattr(finding, "waived", None):
                continue
            if isinstance(finding, Diagnostic):
                found.append(finding)
            else:
                found.append(Diagnostic(finding.code, finding.message, finding.span, severity=finding.severity,
                                        related=tuple(getattr(finding, "related", ()))))
        return found


server = RulesServer()


def guarded(default: Any = None) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """A handler that answers `default` instead of failing: an editor must never see the server die."""
    def wrap(handler: Callable[..., T]) -> Callable[..., T]:
        if asyncio.iscoroutinefunction(handler):
            @functools.wraps(handler)
            async def run_async(*args: Any) -> Any:
                try:
                    return await handler(*args)
                except Refused:
                    raise
                except Exception:  # noqa: BLE001 - logged, and answered with nothing
                    log.exception("%s failed", handler.__name__)
                    return default
            return run_async  # type: ignore[return-value]

        @functools.wraps(handler)
        def run(*args: Any) -> Any:
            try:
                return handler(*args)
            except Refused:
                raise
            except Exception:  # noqa: BLE001 - logged, and answered with nothing
                log.exception("%s failed", handler.__name__)
                return default
        return run
    return wrap


# ---- document sync and diagnostics -----------------------------------------------------------

async def _recheck(ls: RulesServer, uri: str) -> None:
    serial = ls.pending[uri] = ls.pending.get(uri, 0) + 1
    await asyncio.sleep(DEBOUNCE)
    if ls.pending.get(uri) != serial:
        return  # a newer change will be checked
    loop = asyncio.get_running_loop()
    ls.dirty.discard(uri)
    analysis = await loop.run_in_executor(ls.worker, _analyze_uri, ls, uri)
    if analysis is not None:
        path = to_fs_path(uri)
        verified = ls.verified.get(analysis.root)
        if verified and path:  # findings of the saved text no longer sit where they were in this file
            ls.verified[analysis.root] = [d for d in verified
                                          if not d.span or os.path.abspath(d.span.file) != os.path.abspath(path)]
        ls.publish(analysis)
        loop.run_in_executor(ls.worker, lambda: analysis.index)  # ready for the next hover


def _analyze_uri(ls: RulesServer, uri: str) -> Analysis | None:
    try:
        path = to_fs_path(uri)
        if path is None:
            return None
        return ls.analyze(ls.root_for(Path(path)))
    except Exception:  # noqa: BLE001 - a buffer the checker chokes on is logged, not fatal
        log.exception("checking %s failed", uri)
        return None


def _changed(ls: RulesServer, uri: str) -> None:
    """A buffer changed: requests from now on see it (they re-analyse while it is dirty), and the
    diagnostics follow once the typing pauses."""
    ls.dirty.add(uri)
    task = asyncio.get_running_loop().create_task(_recheck(ls, uri))
    ls.tasks.add(task)
    task.add_done_callback(ls.tasks.discard)


@server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
@guarded()
def did_open(ls: RulesServer, params: lsp.DidOpenTextDocumentParams) -> None:
    _changed(ls, params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
@guarded()
def did_change(ls: RulesServer, params: lsp.DidChangeTextDocumentParams) -> None:
    _changed(ls, params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
@guarded()
def did_close(ls: RulesServer, params: lsp.DidCloseTextDocumentParams) -> None:
    _changed(ls, params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
@guarded()
async def did_save(ls: RulesServer, params: lsp.DidSaveTextDocumentParams) -> None:
    ls.dirty.add(params.text_document.uri)
    await _recheck(ls, params.text_document.uri)
    analysis = ls.analysis_of(params.text_document.uri)
    if analysis is None or analysis.checked is None or any(d.severity == "error" for d in analysis.diagnostics):
        return
    root = analysis.root
    serial = ls.save_serial[root] = ls.save_serial.get(root, 0) + 1
    await asyncio.sleep(VERIFY_DEBOUNCE)
    if ls.save_serial.get(root) != serial:
        return
    loop = asyncio.get_running_loop()
    try:
        ls.verified[root] = await loop.run_in_executor(ls.verifier, ls.verify, root)
    except Exception:  # noqa: BLE001 - a file changed on disk meanwhile, or Z3 failed: keep what we had
        log.exception("static analysis of %s failed", root)
        return
    current = ls.analyses.get(root)
    if current is not None:
        ls.publish(current)


@server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
@guarded()
async def watched_files_changed(ls: RulesServer, params: lsp.DidChangeWatchedFilesParams) -> None:
    for root in list(ls.analyses):
        loop = asyncio.get_running_loop()
        analysis = await loop.run_in_executor(ls.worker, ls.analyze, root)
        ls.publish(analysis)


# ---- positions ---------------------------------------------------------------------------------

def to_lsp_range(span: Span) -> lsp.Range:
    return lsp.Range(start=lsp.Position(line=max(span.line - 1, 0), character=max(span.column - 1, 0)),
                     end=lsp.Position(line=max(span.end_line - 1, 0), character=max(span.end_column - 1, 0)))


def token_range(token: Token) -> lsp.Range:
    return lsp.Range(start=lsp.Position(line=token.line, character=token.column),
                     end=lsp.Position(line=token.line, character=token.column + len(token.text)))


def to_lsp_diagnostic(d: Diagnostic) -> lsp.Diagnostic:
    span = d.span or Span("", 1, 1, 1, 2)
    related = []
    for message, where in d.related:
        uri = from_fs_path(os.path.abspath(where.file))
        if uri:
            related.append(lsp.DiagnosticRelatedInformation(lsp.Location(uri=uri, range=to_lsp_range(where)), message))
    message = d.message + (f"\nhint: {d.hint}" if d.hint else "")
    return lsp.Diagnostic(range=to_lsp_range(span), message=message, severity=_SEVERITY.get(d.severity),
                          code=d.code, source="consilium", related_information=related or None,
                          data={"hint": d.hint} if d.hint else None)


def _location(symbol_span: Span) -> lsp.Location | None:
    uri = from_fs_path(os.path.abspath(symbol_span.file))
    return lsp.Location(uri=uri, range=to_lsp_range(symbol_span)) if uri else None


def _symbol_at(ls: RulesServer, uri: str, position: lsp.Position) -> tuple[Analysis, Symbol, Token] | None:
    if not _name_under(ls, uri, position):
        return None  # nothing to ask the knowledge base about
    analysis = ls.analysis_of(uri)
    path = to_fs_path(uri)
    if analysis is None or path is None:
        return None
    shown = analysis.display(path)
    if shown is None:
        return None
    found = analysis.index.symbol_at(shown, position.line + 1, position.character + 1)
    return (analysis, *found) if found else None


def _name_under(ls: RulesServer, uri: str, position: lsp.Position) -> bool:
    """Whether a name stands at the position in the buffer as the editor has it now."""
    lines = ls.workspace.get_text_document(uri).lines
    if position.line >= len(lines):
        return False
    line = lines[position.line]
    at = position.character
    is_word = lambda i: 0 <= i < len(line) and (line[i].isalnum() or line[i] == "_")  # noqa: E731
    return is_word(at) or is_word(at - 1)


# ---- navigation ----------------------------------------------------------------------------

@server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
@guarded()
def definition(ls: RulesServer, params: lsp.DefinitionParams) -> lsp.Location | None:
    found = _symbol_at(ls, params.text_document.uri, params.position)
    return _location(found[1].name_span) if found else None


@server.feature(lsp.TEXT_DOCUMENT_REFERENCES)
@guarded(default=[])
def references(ls: RulesServer, params: lsp.ReferenceParams) -> list[lsp.Location]:
    found = _symbol_at(ls, params.text_document.uri, params.position)
    if not found:
        return []
    analysis, symbol, _ = found
    declared = (symbol.name_span.file, symbol.name_span.line - 1, symbol.name_span.column - 1)
    locations = []
    for file, token in analysis.index.references(symbol):
        if not params.context.include_declaration and (file, token.line, token.column) == declared:
            continue
        uri = from_fs_path(os.path.abspath(file))
        if uri:
            locations.append(lsp.Location(uri=uri, range=token_range(token)))
    return locations


@server.feature(lsp.TEXT_DOCUMENT_PREPARE_RENAME)
@guarded()
def prepare_rename(ls: RulesServer, params: lsp.PrepareRenameParams) -> lsp.PrepareRenamePlaceholder | None:
    found = _symbol_at(ls, params.text_document.uri, params.position)
    if not found:
        return None
    return lsp.PrepareRenamePlaceholder(range=token_range(found[2]), placeholder=found[1].id)


@server.feature(lsp.TEXT_DOCUMENT_RENAME)
@guarded()
def rename(ls: RulesServer, params: lsp.RenameParams) -> lsp.WorkspaceEdit | None:
    found = _symbol_at(ls, params.text_document.uri, params.position)
    if not found:
        return None
    name = params.new_name
    if not _IDENTIFIER.match(name) or name in keywords():
        raise Refused(f"'{name}' is not a name the language accepts (a letter or _, then letters, digits, _; "
                         "not a keyword)")
    analysis, symbol, _ = found
    changes: dict[str, list[lsp.TextEdit]] = {}
    for file, token in analysis.index.references(symbol):
        uri = from_fs_path(os.path.abspath(file))
        if uri:
            changes.setdefault(uri, []).append(lsp.TextEdit(range=token_range(token), new_text=name))
    return lsp.WorkspaceEdit(changes=changes)


@server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
@guarded(default=[])
def document_symbols(ls: RulesServer, params: lsp.DocumentSymbolParams) -> list[lsp.DocumentSymbol]:
    analysis = ls.analysis_of(params.text_document.uri)
    path = to_fs_path(params.text_document.uri)
    shown = analysis.display(path) if analysis and path else None
    if shown is None or analysis is None:
        return []
    mine = [s for s in analysis.index.symbols if s.name_span.file == shown]
    parents: dict[str, lsp.DocumentSymbol] = {}
    out: list[lsp.DocumentSymbol] = []
    for symbol in mine:
        span = symbol.decl.span or symbol.name_span
        item = lsp.DocumentSymbol(name=symbol.id, detail=_label(symbol.decl) or symbol.kind,
                                  kind=_SYMBOL_KIND[symbol.kind], range=to_lsp_range(span),
                                  selection_range=to_lsp_range(symbol.name_span), children=[])
        if symbol.container and (symbol.kind in ("node", "plan_step")) and symbol.container in parents:
            parents[symbol.container].children.append(item)  # type: ignore[union-attr]
        else:
            out.append(item)
            if symbol.kind in ("pathway", "plan"):
                parents[symbol.id] = item
    return out


# ---- hover -------------------------------------------------------------------------------------

def _label(decl: Any) -> str | None:
    for name in ("label", "title", "question"):
        value = getattr(decl, name, None)
        if isinstance(value, str):
            return value
    return None


def describe(symbol: Symbol) -> str:
    """A symbol in words, as markdown: what an editor wants to see without opening its file."""
    decl = symbol.decl
    lines = [f"**{symbol.kind.replace('_', ' ')}** `{symbol.id}`" + (f" — {_label(decl)}" if _label(decl) else "")]
    if isinstance(decl, ir.Fact):
        lines.append(f"`{ir.describe_type(decl.type)}`" + _range_words(decl.type))
        if decl.question:
            lines.append(f"Question: {decl.question}")
    for name in ("modality", "severity"):
        value = getattr(decl, name, None)
        if isinstance(value, str):
            lines.append(f"{name.capitalize()}: {value.replace('_', ' ')}")
    if isinstance(decl, ir.Source):
        lines.append(" · ".join(x for x in (decl.version and f"version {decl.version}",
                                             decl.ref is not None and f"ref {decl.ref}" or None) if x))
    provenance = getattr(decl, "provenance", None)
    if provenance is not None:
        where = " · ".join(x for x in (provenance.source, provenance.section,
                                        provenance.refs and "refs " + ", ".join(map(str, provenance.refs))) if x)
        lines.append(f"Source: {where}")
        if provenance.quote:
            lines.append(f"> “{provenance.quote}”")
    note = getattr(decl, "note", None)
    if isinstance(note, str):
        lines.append(f"Note: {note}")
    if symbol.decl.span:
        lines.append(f"*{symbol.decl.span.file}:{symbol.decl.span.line}*")
    return "\n\n".join(line for line in lines if line)


def _range_words(t: Any) -> str:
    interval = getattr(t, "range", None)
    if interval is None:
        return ""
    low, high = interval.low, interval.high
    unit = f" {interval.unit}" if getattr(interval, "unit", None) else ""
    return (f", in {'[' if low.closed else '('}{low.value}{unit} .. {high.value}{unit}"
            f"{']' if high.closed else ')'}")


@server.feature(lsp.TEXT_DOCUMENT_HOVER)
@guarded()
def hover(ls: RulesServer, params: lsp.HoverParams) -> lsp.Hover | None:
    found = _symbol_at(ls, params.text_document.uri, params.position)
    if not found:
        return None
    _, symbol, token = found
    return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=describe(symbol)),
                     range=token_range(token))


# ---- completion ----------------------------------------------------------------------------

DECLARATION_KEYWORDS = ("include", "source", "fact", "define", "site", "pathway", "plan", "safety", "scenario")


@server.feature(lsp.TEXT_DOCUMENT_COMPLETION, lsp.CompletionOptions(trigger_characters=[" ", ">", ","]))
@guarded()
def completion(ls: RulesServer, params: lsp.CompletionParams) -> lsp.CompletionList | None:
    document = ls.workspace.get_text_document(params.text_document.uri)
    lines = document.lines
    if params.position.line >= len(lines):
        return lsp.CompletionList(is_incomplete=False, items=[])
    line = lines[params.position.line][: params.position.character]
    uri = params.text_document.uri
    path = to_fs_path(uri)
    # names change rarely while typing: the last analysis of this knowledge base is good enough
    analysis = ls.analyses.get(ls.root_for(Path(path))) if path else None
    items = complete(line, analysis or ls.analysis_of(uri))
    return lsp.CompletionList(is_incomplete=False, items=items)


def complete(line: str, analysis: Analysis | None) -> list[lsp.CompletionItem]:
    """What may be written at the end of `line` (the text of the line up to the cursor)."""
    words = [t for t in significant(tokenize(line))]
    typing = words[-1].text if words and words[-1].kind in ("name", "keyword") and not line.endswith(" ") else ""
    before = words[:-1] if typing else words
    previous = before[-1].text if before else None
    checked = analysis.checked if analysis else None
    declarations = analysis.loaded.declarations if analysis else ()

    def items(names: Iterable[str], kind: lsp.CompletionItemKind, detail: Callable[[str], str | None] = lambda _: None
              ) -> list[lsp.CompletionItem]:
        return [lsp.CompletionItem(label=n, kind=kind, detail=detail(n)) for n in sorted(set(names))
                if n.startswith(typing)]

    facts = {d.id: d for d in declarations if isinstance(d, ir.Fact)}
    defines = {d.id: d for d in declarations if isinstance(d, ir.Define)}
    if not before and not line[:1].isspace():
        return items(DECLARATION_KEYWORDS, lsp.CompletionItemKind.Keyword)
    if previous in DECLARING and len(before) <= 2:
        return []  # the name of something new
    if previous in ("->", "then") or previous == "," and any(w.text == "then" for w in before):
        nodes = [n.id for d in declarations if isinstance(d, ir.Pathway) for n in d.nodes
                 if not isinstance(n, ir.Schedule)]
        return items([*nodes, "end"], lsp.CompletionItemKind.Reference)
    if previous == "source":
        return items([d.id for d in declarations if isinstance(d, ir.Source)], lsp.CompletionItemKind.Module,
                     lambda n: next((d.title for d in declarations if isinstance(d, ir.Source) and d.id == n), None))
    if previous in ("site", "on") or previous == "," and any(w.text == "site" for w in before):
        return items(checked.sites if checked else [], lsp.CompletionItemKind.Property)
    if before and before[-1].kind == "number":
        return items([*NUMBER_UNITS, *DURATION_UNITS], lsp.CompletionItemKind.Unit)
    enum_values = _enum_values_after(before, facts)
    if enum_values is not None:
        return items(enum_values, lsp.CompletionItemKind.EnumMember)
    if not before:  # an indented line's first word: a clause or a node
        return items(sorted(keywords()), lsp.CompletionItemKind.Keyword)
    return [*items(facts, lsp.CompletionItemKind.Variable, lambda n: facts[n].label),
            *items(defines, lsp.CompletionItemKind.Function, lambda n: defines[n].label),
            *items(("and", "or", "not", "in", "is", "known", "unknown", "true", "false"),
                   lsp.CompletionItemKind.Keyword)]


def _enum_values_after(before: list[Token], facts: dict[str, ir.Fact]) -> list[str] | None:
    """The values of the enum or set fact compared just before the cursor (`kras = `, `x in {a, `)."""
    for k in range(len(before) - 1, 0, -1):
        if before[k].text not in _COMPARATORS and before[k].text != "in":
            continue
        tail = before[k + 1:]
        in_set = bool(tail) and tail[0].text == "{" and all(t.text == "," or t.kind == "name" for t in tail[1:])
        if not (in_set or not tail and before[k].text != "in"):
            return None
        fact = facts.get(before[k - 1].text)
        if fact is not None and isinstance(fact.type, (ir.EnumType, ir.SetType)):
            return list(fact.type.values)
        return None
    return None


# ---- code actions ----------------------------------------------------------------------------

WAIVABLE = {"gap", "overlap", "conflict", "discordance", "unreachable", "unused-fact", "untested-fact",
            "unused-define"}


@server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION)
@guarded(default=[])
def code_actions(ls: RulesServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
    uri = params.text_document.uri
    document = ls.workspace.get_text_document(uri)
    actions = []
    for diagnostic in params.context.diagnostics:
        hint = (diagnostic.data or {}).get("hint") if isinstance(diagnostic.data, dict) else None
        match = _DID_YOU_MEAN.search(hint or diagnostic.message)
        if match:
            actions.append(lsp.CodeAction(
                title=f"Change to '{match.group(1)}'", kind=lsp.CodeActionKind.QuickFix, diagnostics=[diagnostic],
                is_preferred=True,
                edit=lsp.WorkspaceEdit(changes={uri: [lsp.TextEdit(range=diagnostic.range, new_text=match.group(1))]})))
        if diagnostic.code in WAIVABLE:
            line = diagnostic.range.start.line
            text = document.lines[line] if line < len(document.lines) else ""
            indent = " " * (len(text) - len(text.lstrip()) + 4)
            insert = lsp.Position(line=line + 1, character=0)
            actions.append(lsp.CodeAction(
                title=f"Waive '{diagnostic.code}' here, with the reason it is intended",
                kind=lsp.CodeActionKind.QuickFix, diagnostics=[diagnostic],
                edit=lsp.WorkspaceEdit(changes={uri: [lsp.TextEdit(
                    range=lsp.Range(start=insert, end=insert),
                    new_text=f'{indent}waive {diagnostic.code} "the reason this is intended"\n')]})))
    return actions


# ---- semantic tokens ------------------------------------------------------------------------

@server.feature(lsp.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL,
                lsp.SemanticTokensLegend(token_types=TOKEN_TYPES, token_modifiers=["declaration"]))
@guarded()
def semantic_tokens(ls: RulesServer, params: lsp.SemanticTokensParams) -> lsp.SemanticTokens:
    document = ls.workspace.get_text_document(params.text_document.uri)
    text = document.source
    if len(text) > MAX_LIVE:
        return lsp.SemanticTokens(data=[])
    analysis = ls.analysis_of(params.text_document.uri)
    shown = analysis.display(document.path) if analysis and document.path else None
    return lsp.SemanticTokens(data=encode_tokens(tokenize(text), analysis.index if analysis and shown else None,
                                                 shown))


def encode_tokens(tokens: list[Token], index: Index | None, shown: str | None) -> list[int]:
    """LSP's relative encoding of the coloured tokens, one line at a time."""
    data: list[int] = []
    last_line = last_column = 0
    for token in tokens:
        kind = _token_type(token, index, shown)
        if kind is None:
            continue
        use = index.uses.get((shown, token.line + 1, token.column + 1)) if index is not None and shown else None
        declared = use is not None and use.name_span.line == token.line + 1 and \
            use.name_span.column == token.column + 1 and use.name_span.file == shown
        for number, piece in enumerate(re.split(r"\r\n|\r|\n", token.text)):
            line = token.line + number
            column = token.column if number == 0 else 0
            if not piece:
                continue
            delta_line = line - last_line
            delta_column = column - last_column if delta_line == 0 else column
            data += [delta_line, delta_column, len(piece), TOKEN_TYPES.index(kind), 1 if declared else 0]
            last_line, last_column = line, column
    return data


def _token_type(token: Token, index: Index | None, shown: str | None) -> str | None:
    if token.kind in ("keyword", "string", "comment", "operator"):
        return token.kind
    if token.kind in ("number", "date"):
        return "number"
    if token.kind == "coding":
        return "enumMember"
    if token.kind == "name":
        symbol = index.uses.get((shown, token.line + 1, token.column + 1)) if index and shown else None
        return _SYMBOL_TOKEN.get(symbol.kind, "variable") if symbol else "enumMember"
    return None


def serve_stdio() -> int:
    """Run the server on standard input and output until the editor says exit."""
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="consilium lsp: %(message)s")
    server.start_io()
    return 0


__all__ = ["RulesServer", "server", "serve_stdio", "describe", "complete", "encode_tokens"]
