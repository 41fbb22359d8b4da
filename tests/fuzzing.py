"""The properties the fuzzers check, on one rule file and on one case.

`load(text, folder)`: the rule file loads, or fails with a `ConsiliumError` whose diagnostics
format as text and JSON. `run_case(kb, raw)`: the case validates or fails with a `CaseError`;
a valid case gives the same recommendations, warnings and needs through `decide`, through
`evaluate` and through the reference interpreter (tests/interpreter.py), and its result's
`to_json` is JSON. Any other exception is a crash: it propagates to the caller.
"""

from __future__ import annotations

import json
from pathlib import Path

import consilium
from consilium import CaseError, ConsiliumError, format_text
from consilium.engine.lang.diagnostics import DiagnosticsError, format_json
from interpreter import walk


def load(text: str, folder: Path, *, verify: bool = False):
    """The knowledge base of `text`, or None when it is rejected with a ConsiliumError."""
    (folder / "main.rules").write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        kb = consilium.load_kb(folder, use_cache=False)
    except ConsiliumError as error:
        _show(error)
        return None
    if verify:
        from consilium.engine.analysis.verify import verify as run_verify
        run_verify(kb)
    return kb


def _show(error: ConsiliumError) -> None:
    if isinstance(error, DiagnosticsError):
        assert error.diagnostics, "an error without diagnostics"
        format_text(error.diagnostics, dict(error.texts))
        json.dumps(format_json(error.diagnostics))
    str(error)


def run_case(kb, raw: dict) -> bool:
    """Check one raw case; True when it was valid (and so evaluated)."""
    try:
        valid = kb.validate_case(raw)
    except CaseError as error:
        _show(error)
        return False
    fast = kb.decide(valid, validated=True)
    full = kb.evaluate(valid, validated=True)
    json.dumps(full.to_json(), allow_nan=False)
    seen = walk(kb, valid).values()
    assert (list(fast.recommendations), list(fast.warnings), list(fast.needs)) == seen, ("decide", raw)
    assert (full.recommendation_ids(), full.warning_ids(), full.needed_facts()) == seen, ("evaluate", raw)
    return True
