"""What `check` returns: `Checked`, a knowledge base's resolved declarations by kind.

Its own module so that what reads a checked knowledge base (the evaluator, the cache, which
keeps it) does not import the checker: a load from the cache runs no check.
"""

from __future__ import annotations

from dataclasses import field

from .records import record
from . import ir


@record
class Checked:
    """The resolved declarations of a knowledge base, by kind, in declaration order."""

    sources: dict[str, ir.Source]
    facts: dict[str, ir.Fact]
    defines: dict[str, ir.Define]
    pathways: tuple[ir.Pathway, ...]
    plans: dict[str, ir.Plan]
    safeties: tuple[ir.Safety, ...]
    scenarios: tuple[ir.Scenario, ...]
    sites: dict[str, ir.Site] = field(default_factory=dict)
    define_types: dict[str, object] = field(default_factory=dict)  # a FactType, or ANY where it failed
    code_systems: dict[str, ir.CodeSystem] = field(default_factory=dict)
    findings: tuple[ir.Finding, ...] = ()
    constraints: tuple[ir.Constraint, ...] = ()
