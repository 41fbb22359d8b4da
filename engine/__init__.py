"""Consilium's engine: load a knowledge base of clinical rules and evaluate patient cases.

The embedding API is small and stable:

    import engine
    kb = engine.load_kb("kb")                 # parse, check, build graphs, compile: once
    result = kb.evaluate({"kras": "mutant"})  # validate and evaluate a case: many times
    result.to_json()                          # the documented JSON form

Errors are exceptions of one hierarchy rooted in `ConsiliumError`: `KnowledgeBaseError`
and `CaseError` carry the diagnostics (file, line, column, code, message, hint).
"""

from .case import read_case
from .diagnostics import (CaseError, ConsiliumError, Diagnostic, DiagnosticsError, KnowledgeBaseError,
                          Span, UsageError, format_text)
from .kb import KnowledgeBase, bundled_kb_path, load_kb
from .result import SCHEMA_VERSION, Result
from .scenarios import run_scenarios

__all__ = ["load_kb", "bundled_kb_path", "KnowledgeBase", "Result", "SCHEMA_VERSION", "read_case",
           "run_scenarios", "ConsiliumError", "DiagnosticsError", "KnowledgeBaseError", "CaseError",
           "UsageError", "Diagnostic", "Span", "format_text"]
