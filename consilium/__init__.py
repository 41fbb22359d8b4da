"""Consilium: load a knowledge base of clinical rules and evaluate patient cases.

The embedding API is small and stable:

    import consilium
    kb = consilium.load_kb("kb")                 # parse, check, build graphs, compile: once
    result = kb.evaluate({"kras": "mutant"})  # validate and evaluate a case: many times
    result.to_json()                          # the documented JSON form

Errors are exceptions of one hierarchy rooted in `ConsiliumError`: `KnowledgeBaseError`
and `CaseError` carry the diagnostics (file, line, column, code, message, hint).
"""

import gc as _gc

# Importing the package makes many long-lived objects (classes, functions): the garbage collector
# would scan them again and again on the way, about a seventh of a short command's time.
_collecting = _gc.isenabled()
_gc.disable()
try:
    from .engine.inputs.case import read_case
    from .engine.lang.diagnostics import (CaseError, ConsiliumError, Diagnostic, DiagnosticsError,
                                          KnowledgeBaseError, Span, UsageError, format_text)
    from .engine.kb import KnowledgeBase, bundled_kb_path, load_kb
    from .engine.evaluation.result import SCHEMA_VERSION, Result
    from .engine.analysis.scenarios import run_scenarios
finally:
    if _collecting:
        _gc.enable()

__version__ = "0.2.0"

__all__ = ["__version__", "load_kb", "bundled_kb_path", "KnowledgeBase", "Result", "SCHEMA_VERSION", "read_case",
           "run_scenarios", "ConsiliumError", "DiagnosticsError", "KnowledgeBaseError", "CaseError",
           "UsageError", "Diagnostic", "Span", "format_text"]
