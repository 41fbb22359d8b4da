#!/usr/bin/env python3
"""Latency of the language server as an editor meets it: diagnostics after a keystroke, completion.

Starts `consilium lsp` over stdio on a copy of the bundled knowledge base, opens kb/liver.rules
and types into it: each keystroke is a didChange of the whole buffer, timed until the server
publishes that file's diagnostics (the server waits DEBOUNCE = 30 ms of quiet first, as it does
for a person typing). Completion is timed after `when kras = `. The baseline, measured in the
same run, is a round trip the server answers without work (a hover on a blank line).
Targets: diagnostics within 150 ms, completion within 50 ms.

    python bench/bench_editors.py [--keystrokes 60]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types as lsp
from pygls.uris import from_fs_path
from pytest_lsp import client_capabilities, make_test_lsp_client

ROOT = Path(__file__).resolve().parent.parent


async def main(keystrokes: int) -> None:
    folder = Path(tempfile.mkdtemp()) / "kb"
    shutil.copytree(ROOT / "kb", folder)
    liver = folder / "liver.rules"
    uri = from_fs_path(str(liver))
    client = make_test_lsp_client()
    await client.start_io(sys.executable, "-m", "consilium", "lsp")
    await client.initialize_session(lsp.InitializeParams(capabilities=client_capabilities("visual-studio-code"),
                                                         root_uri=from_fs_path(str(folder))))
    text = liver.read_text()
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        text_document=lsp.TextDocumentItem(uri=uri, language_id="consilium-rules", version=1, text=text)))
    await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    document = lsp.TextDocumentIdentifier(uri=uri)

    async def round_trip() -> float:
        started = time.perf_counter()
        await client.text_document_hover_async(lsp.HoverParams(text_document=document,
                                                               position=lsp.Position(line=0, character=0)))
        return time.perf_counter() - started

    diagnostics, baseline = [], []
    typed = "The four criteria, typed"
    anchor = text.index("The four criteria")
    for i in range(keystrokes):
        baseline.append(await round_trip())
        word = typed[: i % len(typed) + 1]
        buffer = text[:anchor] + word + text[anchor + len(word):]
        started = time.perf_counter()
        client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=i + 2),
            content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=buffer)]))
        while True:
            await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
            if uri in client.diagnostics:
                break
        diagnostics.append(time.perf_counter() - started)

    completion = []
    line = text.count("\n") + 1
    for i in range(keystrokes):
        buffer = text + "\nsafety bench_check \"x\"\n    when kras = "
        client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=1000 + i),
            content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=buffer)]))
        await asyncio.sleep(0.1)  # the analysis of the typed text has run: what is timed is the request
        started = time.perf_counter()
        items = await client.text_document_completion_async(lsp.CompletionParams(
            text_document=document, position=lsp.Position(line=line + 1, character=len("    when kras = "))))
        completion.append(time.perf_counter() - started)
        assert {i.label for i in items.items} == {"wild_type", "mutant"}
    await client.shutdown_session()
    await client.stop()

    def row(name: str, times: list[float], target: float | None) -> None:
        ms = sorted(t * 1000 for t in times)
        p50, p95 = statistics.median(ms), ms[int(0.95 * (len(ms) - 1))]
        base = statistics.median(baseline) * 1000
        verdict = "" if target is None else \
            ("  meets" if p95 <= target else "  MISSES") + f" the {target:.0f} ms target"
        print(f"{name:<38} median {p50:7.1f} ms  p95 {p95:7.1f} ms  ({p50 / base:5.1f}x the round trip){verdict}")

    print(f"consilium lsp on kb/ ({len(text.splitlines())} lines in liver.rules), {keystrokes} keystrokes")
    row("round trip (hover on nothing)", baseline, None)
    row("diagnostics after a keystroke", diagnostics, 150)
    row("completion after 'when kras = '", completion, 50)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keystrokes", type=int, default=60)
    asyncio.run(main(parser.parse_args().keystrokes))
