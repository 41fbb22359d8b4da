"""`consilium schema case [PATH]` and `consilium schema result`: the published JSON Schemas.

Prints a JSON Schema (draft 2020-12): for a case of a knowledge base (the bundled one
without PATH), generated from its facts; or for the result `consilium eval --json` gives.
`-o FILE` writes it instead, beside its name and renamed when complete, never over a rule file. The schemas
themselves are engine/inputs/schema.py's.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Callable

from .inputs.schema import case_schema, result_schema
from .kb import bundled_kb_path, load_kb
from .lang.diagnostics import ConsiliumError, KnowledgeBaseError
from .lang.files import file_output, refuse_overwrite, write_file


def add_parser(commands: Any) -> argparse.ArgumentParser:
    schema = commands.add_parser("schema", help="print the JSON Schema of a case or of a result")
    schema.add_argument("what", choices=("case", "result"), help="case: of a knowledge base's cases; result: of "
                        "`consilium eval --json`")
    schema.add_argument("path", nargs="?", help="with case: knowledge-base folder or root .rules file")
    schema.add_argument("-o", "--output", metavar="FILE", help="write the schema to FILE")
    return schema


def run(args: argparse.Namespace, report: Callable[[KnowledgeBaseError, str], None],
        allow_outside_includes: bool = False) -> int:
    """Print or write the schema; 2 when the knowledge base does not load or the file cannot be written."""
    if args.what == "result":
        if args.path is not None:
            print("consilium schema result: takes no knowledge base (the result's form is the same for all)",
                  file=sys.stderr)
            return 2
        schema = result_schema()
        inputs: list = []
    else:
        try:
            kb = load_kb(args.path if args.path is not None else bundled_kb_path(),
                         allow_outside_includes=allow_outside_includes)
        except KnowledgeBaseError as error:
            report(error, "text")
            return 2
        schema = case_schema(kb.facts, title=f"A case for {kb.root}")
        inputs = list(kb.loaded.paths)
    text = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
    if args.output:
        try:
            file_output(args.output, example="schema.json")
            refuse_overwrite(args.output, inputs, "schema")
            write_file(args.output, text)
        except ConsiliumError as error:
            print(f"consilium schema: {error}", file=sys.stderr)
            return 2
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        print(text, end="")
    return 0
