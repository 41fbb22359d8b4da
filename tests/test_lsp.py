"""The language server, driven over stdio as an editor drives it: the real `consilium lsp` process.

Each test starts the server on a copy of the bundled knowledge base, opens files the way an
editor does (unsaved buffers), and checks what an editor shows: diagnostics as you type, hover,
definition, references, completion, rename, symbols, quick fixes, colours, Z3 findings on save.
The last tests send what an editor can send by accident and check the server still answers.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import sys
import time
from pathlib import Path
from typing import Any, Awaitable, Callable

import pytest
from lsprotocol import types as lsp
from pygls.uris import from_fs_path
from pytest_lsp import client_capabilities, make_test_lsp_client

from conftest import KB

TIMEOUT = 30


def run(test: Callable[[Any, Path], Awaitable[None]], kb: Path) -> None:
    """Start the server, initialise a session with the folder as workspace, run the test, shut down."""
    async def main() -> None:
        client = make_test_lsp_client()
        await client.start_io(sys.executable, "-m", "consilium", "lsp")
        try:
            await client.initialize_session(lsp.InitializeParams(
                capabilities=client_capabilities("visual-studio-code"), root_uri=from_fs_path(str(kb)),
                workspace_folders=[lsp.WorkspaceFolder(uri=from_fs_path(str(kb)), name="kb")]))
            await asyncio.wait_for(test(client, kb), TIMEOUT)
            await asyncio.wait_for(client.shutdown_session(), TIMEOUT)
        except BaseException:
            if client._server is not None and client._server.returncode is None:
                client._server.kill()  # a failed test must not wait on a server that was not shut down
            raise
        finally:
            await client.stop()
    asyncio.run(main())


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    shutil.copytree(KB, tmp_path / "kb")
    return tmp_path / "kb"


def uri(path: Path) -> str:
    return from_fs_path(str(path))


def open_file(client: Any, path: Path, text: str | None = None) -> str:
    text = path.read_text(encoding="utf-8") if text is None else text
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        text_document=lsp.TextDocumentItem(uri=uri(path), language_id="consilium-rules", version=1, text=text)))
    return text


def change(client: Any, path: Path, text: str, version: int) -> None:
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=uri(path), version=version),
        content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=text)]))


async def diagnostics_for(client: Any, path: Path, until: Callable[[list], bool] = lambda d: True) -> list:
    """Wait until the server has published diagnostics for the file that satisfy `until`."""
    while True:
        found = client.diagnostics.get(uri(path))
        if found is not None and until(list(found)):
            return list(found)
        await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)


def position_of(text: str, needle: str, offset: int = 0) -> lsp.Position:
    index = text.index(needle) + offset
    line = text.count("\n", 0, index)
    return lsp.Position(line=line, character=index - (text.rfind("\n", 0, index) + 1))


def test_diagnostics_as_you_type_and_the_did_you_mean_fix(kb: Path):
    async def test(client: Any, kb: Path) -> None:
        liver = kb / "liver.rules"
        text = open_file(client, liver)
        assert await diagnostics_for(client, liver) == []
        broken = text.replace("hepatectomy_segments <= 3", "hepatectomy_segmnts <= 3", 1)
        change(client, liver, broken, 2)
        [problem] = await diagnostics_for(client, liver, lambda d: len(d) > 0)
        assert problem.code == "unknown-fact" and problem.severity == lsp.DiagnosticSeverity.Error
        assert problem.range.start == position_of(broken, "hepatectomy_segmnts")
        actions = await client.text_document_code_action_async(lsp.CodeActionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri(liver)), range=problem.range,
            context=lsp.CodeActionContext(diagnostics=[problem])))
        [fix] = [a for a in actions if a.title.startswith("Change to")]
        [edit] = fix.edit.changes[uri(liver)]
        assert edit.new_text == "hepatectomy_segments" and edit.range == problem.range
        change(client, liver, text, 3)  # fixed again: the diagnostic goes away
        assert await diagnostics_for(client, liver, lambda d: d == []) == []
        # a syntax error in another file of the knowledge base is published for that file
        facts = kb / "facts.rules"
        open_file(client, facts, facts.read_text().replace("fact kras : enum", "fact kras enum", 1))
        [syntax] = await diagnostics_for(client, facts, lambda d: len(d) > 0)
        assert syntax.code == "syntax" and "':'" in syntax.message
    run(test, kb)


def test_hover_definition_references_and_rename_across_files(kb: Path):
    async def test(client: Any, kb: Path) -> None:
        liver = kb / "liver.rules"
        text = open_file(client, liver)
        await diagnostics_for(client, liver)
        at = position_of(text, "hepatectomy_segments <=", 3)
        document = lsp.TextDocumentIdentifier(uri=uri(liver))
        hover = await client.text_document_hover_async(lsp.HoverParams(text_document=document, position=at))
        assert "hepatectomy_segments" in hover.contents.value and "integer" in hover.contents.value
        assert "How many liver segments" in hover.contents.value or "segments" in hover.contents.value
        where = await client.text_document_definition_async(lsp.DefinitionParams(text_document=document, position=at))
        facts_text = (kb / "facts.rules").read_text()
        assert where.uri == uri(kb / "facts.rules")
        assert where.range.start == position_of(facts_text, "fact hepatectomy_segments", 5)
        found = await client.text_document_references_async(lsp.ReferenceParams(
            text_document=document, position=at, context=lsp.ReferenceContext(include_declaration=True)))
        files = {r.uri for r in found}
        assert uri(kb / "facts.rules") in files and uri(liver) in files and len(found) >= 4
        edit = await client.text_document_rename_async(lsp.RenameParams(
            text_document=document, position=at, new_name="segments_resected"))
        edits = [e for changes in edit.changes.values() for e in changes]
        assert len(edits) == len(found) and {e.new_text for e in edits} == {"segments_resected"}
        # a source cited by a rule: hover says its title, definition finds it in sources.rules
        at_source = position_of(text, "source SUMMARY", 8)
        hover = await client.text_document_hover_async(lsp.HoverParams(text_document=document, position=at_source))
        assert "Treatment of Rectal Cancer with Hepatic Metastases" in hover.contents.value
        # a rule's hover shows its modality and quote; a step's target goes to its node
        at_target = position_of(text, "choose simultaneous_surgery", 8)
        where = await client.text_document_definition_async(
            lsp.DefinitionParams(text_document=document, position=at_target))
        assert where.uri == uri(liver) and where.range.start == position_of(text, "recommend simultaneous_surgery", 10)
        hover = await client.text_document_hover_async(lsp.HoverParams(text_document=document, position=at_target))
        assert "recommended" in hover.contents.value and "Standard approach" in hover.contents.value
        # a rename to something that is not a name is refused
        with pytest.raises(Exception):  # noqa: B017 - the server's error, raised by the client library as its own
            await client.text_document_rename_async(lsp.RenameParams(
                text_document=document, position=at, new_name="two words"))
    run(test, kb)


def test_completion_symbols_and_semantic_tokens(kb: Path):
    async def test(client: Any, kb: Path) -> None:
        liver = kb / "liver.rules"
        text = open_file(client, liver)
        await diagnostics_for(client, liver)
        document = lsp.TextDocumentIdentifier(uri=uri(liver))
        typed = text + "\nsafety x_check \"x\"\n    when kras = "
        change(client, liver, typed, 2)
        await diagnostics_for(client, liver, lambda d: len(d) > 0)
        end = lsp.Position(line=typed.count("\n"), character=len(typed.rsplit("\n", 1)[1]))
        completions = await client.text_document_completion_async(
            lsp.CompletionParams(text_document=document, position=end))
        assert {i.label for i in completions.items} == {"wild_type", "mutant"}
        typed = text + "\n    when hepatectomy_segments > 2 and future_liv"
        change(client, liver, typed, 3)
        end = lsp.Position(line=typed.count("\n"), character=len(typed.rsplit("\n", 1)[1]))
        completions = await client.text_document_completion_async(
            lsp.CompletionParams(text_document=document, position=end))
        assert [i.label for i in completions.items] == ["future_liver_remnant"]
        change(client, liver, text, 4)
        symbols = await client.text_document_document_symbol_async(lsp.DocumentSymbolParams(text_document=document))
        [pathway] = [s for s in symbols if s.name == "hepatic_metastases"]
        assert "simultaneous_surgery" in {c.name for c in pathway.children}
        tokens = await client.text_document_semantic_tokens_full_async(
            lsp.SemanticTokensParams(text_document=document))
        assert len(tokens.data) % 5 == 0 and len(tokens.data) > 500
    run(test, kb)


def test_static_findings_arrive_on_save(kb: Path):
    async def test(client: Any, kb: Path) -> None:
        liver = kb / "liver.rules"
        text = liver.read_text()
        gap = text.replace("        otherwise -> staged_approaches",
                           "        when hepatectomy_segments > 4 -> staged_approaches", 1)
        assert gap != text
        liver.write_text(gap)
        open_file(client, liver, gap)
        client.text_document_did_save(lsp.DidSaveTextDocumentParams(text_document=lsp.TextDocumentIdentifier(uri=uri(liver))))
        found = await diagnostics_for(client, liver, lambda d: any(x.code == "gap" for x in d))
        [gap_found] = [d for d in found if d.code == "gap"]
        actions = await client.text_document_code_action_async(lsp.CodeActionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri(liver)), range=gap_found.range,
            context=lsp.CodeActionContext(diagnostics=[gap_found])))
        assert any(a.title.startswith("Waive 'gap'") for a in actions)
    run(test, kb)


def test_the_server_survives_what_an_editor_can_send(kb: Path, tmp_path: Path):
    async def test(client: Any, kb: Path) -> None:
        liver = kb / "liver.rules"
        text = open_file(client, liver)
        await diagnostics_for(client, liver)
        document = lsp.TextDocumentIdentifier(uri=uri(liver))
        version = 2
        rng = random.Random(2026)
        buffers = [text[: len(text) // 3], text[:7], "", "\x00\x01\xff garbage \ud800", "fact" * 5000,
                   "(" * 10_000, '"""' + "x" * 1000, "pathway p \"x\"\n  decide d \"q\"\n\twhen ->\n",
                   "x" * 10_500_000]
        buffers += ["".join(rng.choice(text) for _ in range(rng.randint(1, 400))) for _ in range(20)]
        started = time.monotonic()
        for buffer in buffers:
            change(client, liver, buffer, version)
            version += 1
            for position in (lsp.Position(line=0, character=0), lsp.Position(line=10_000, character=500),
                             lsp.Position(line=3, character=2)):
                await client.text_document_hover_async(lsp.HoverParams(text_document=document, position=position))
                await client.text_document_completion_async(
                    lsp.CompletionParams(text_document=document, position=position))
                await client.text_document_definition_async(
                    lsp.DefinitionParams(text_document=document, position=position))
            await client.text_document_semantic_tokens_full_async(lsp.SemanticTokensParams(text_document=document))
            await client.text_document_document_symbol_async(lsp.DocumentSymbolParams(text_document=document))
        assert time.monotonic() - started < TIMEOUT
        # an include cycle, and a file deleted and another renamed under the server
        main = kb / "main.rules"
        open_file(client, main, main.read_text() + '\ninclude "main.rules"\n')
        found = await diagnostics_for(client, main, lambda d: any(x.code == "include-cycle" for x in d))
        assert found
        (kb / "mdt.rules").unlink()
        (kb / "plans.rules").rename(kb / "plans_renamed.rules")
        change(client, liver, text, version)
        found = await diagnostics_for(client, main, lambda d: any(x.code == "include-not-found" for x in d))
        assert found
        # still answering
        hover = await client.text_document_hover_async(lsp.HoverParams(
            text_document=document, position=position_of(text, "hepatectomy_segments <=", 2)))
        assert hover is None or "hepatectomy_segments" in hover.contents.value
    run(test, kb)
