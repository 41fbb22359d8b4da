"""Running generated code: its source -> live functions, and its errors -> the rule's place.

`Loaded` compiles a generated module (through the bytecode cache) and runs it in a namespace
holding the values it names (trace steps, provenance, dates...) and the few helpers it
calls, listed in `HELPERS` below. `rule_error` turns an exception raised inside generated
code into an `EvaluationError` whose diagnostic names the rule's file and line, found
through the module's line map (Jinja's approach to template tracebacks): a person never
sees a line of generated code. `decide` and `walk` call it themselves (`at_rule`), so the
evaluator can hand out the generated `decide` as it is, without a frame around it.
"""

from __future__ import annotations

from typing import Any

from ...lang.diagnostics import Diagnostic, EvaluationError, Span
from ..bytecode import Store, compiled
from ..result import Decision, Recommendation, TraceStep, Unchecked


# What generated code calls by name, beside the values of its own module.
HELPERS: dict[str, Any] = {"new": tuple.__new__,  # makes a named tuple from its fields, skipping __new__
                           "Decision": Decision, "TraceStep": TraceStep, "Recommendation": Recommendation,
                           "Unchecked": Unchecked}


class Loaded:
    """A generated module, run: its functions by name, its text, and the rule behind each line."""

    def __init__(self, source: str, places: list[Span | None], filename: str, values: dict[str, Any],
                 store: Store | None = None):
        self.source, self.places, self.filename = source, places, filename
        self.namespace: dict[str, Any] = {**HELPERS, **values, "at_rule": self.at_rule}
        exec(compiled(source, filename, store), self.namespace)  # noqa: S102 - written from our own IR, never rule text

    def __getitem__(self, name: str) -> Any:
        return self.namespace[name]

    def place(self, exc: BaseException) -> Span | None:
        """The rule whose code raised `exc`: the innermost frame of this module that has one."""
        import traceback  # here: only an error pays for it (and for the modules it imports)
        found = None
        for frame in traceback.extract_tb(exc.__traceback__):
            if frame.filename == self.filename and frame.lineno is not None and 0 < frame.lineno <= len(self.places):
                found = self.places[frame.lineno - 1] or found
        return found

    def at_rule(self, exc: Exception) -> Exception:
        """`exc` as an error at its rule when it came from this module's code; else as it is."""
        return self.rule_error(exc) or exc

    def rule_error(self, exc: Exception) -> EvaluationError | None:
        """`exc` as a diagnostic at the rule it came from; None when it did not come from this module."""
        span = self.place(exc)
        if span is None:
            return None
        detail = str(exc) or type(exc).__name__
        return EvaluationError([Diagnostic("evaluation-failed", f"this rule could not be evaluated for the case: "
                                           f"{detail}", span, hint="check the values the case gives the facts "
                                           "this rule reads")])
