"""`consilium codegen [PATH] [--pathway ID]`: print the Python a knowledge base is evaluated by.

The generated module as `KnowledgeBase.generated_source()` gives it: one function per
pathway for the values only (`decide_X`) and one for the full walk (`walk_X`), each node's
code under a comment naming its rule file and line. With `--pathway`, only that pathway's
two functions. For reading and debugging the rules; nothing here changes what runs.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, Callable

from .kb import bundled_kb_path, load_kb
from .lang.diagnostics import KnowledgeBaseError, UsageError


def add_parser(commands: Any) -> None:
    codegen = commands.add_parser("codegen", help="print the Python generated from a knowledge base")
    codegen.add_argument("path", nargs="?", help="knowledge-base folder or root .rules file")
    codegen.add_argument("--pathway", metavar="ID", help="only this pathway's functions")


def run(args: argparse.Namespace, report: Callable[[KnowledgeBaseError, str], None]) -> int:
    """Print the source; 2 when the knowledge base does not load or has no such pathway."""
    try:
        kb = load_kb(args.path if args.path is not None else bundled_kb_path())
        print(kb.generated_source(args.pathway), end="")
    except KnowledgeBaseError as error:
        report(error, "text")
        return 2
    except UsageError as error:
        pathways = ", ".join(p.id for p in kb.pathways)
        print(f"consilium codegen: {error}; its pathways: {pathways}", file=sys.stderr)
        return 2
    return 0
