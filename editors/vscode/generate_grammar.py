#!/usr/bin/env python3
"""Write syntaxes/consilium.tmLanguage.json, the TextMate grammar VS Code colours `.rules` files with.

The keywords come from the language's own grammar (grammar/consilium.lark, through
consilium.engine.lang.tokens.keywords), so a clause added to the language is coloured after
running this again; tests/test_vscode.py fails while the committed file is out of date.

    python editors/vscode/generate_grammar.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "syntaxes" / "consilium.tmLanguage.json"

DECLARATIONS = ["include", "source", "fact", "define", "site", "pathway", "plan", "safety", "scenario"]
NODES = ["decide", "step", "recommend", "warn", "schedule"]
LOGIC = ["and", "or", "not", "in", "is", "known", "unknown"]
CONSTANTS = ["true", "false"]
TYPES = ["bool", "integer", "number", "percent", "enum", "set", "of", "date", "duration"]


def grammar() -> dict:
    from consilium.engine.lang.tokens import keywords
    words = sorted(keywords())
    clauses = [w for w in words if w not in {*LOGIC, *CONSTANTS, *TYPES}]  # "source", "site" are clauses too

    def alternatives(items: list[str]) -> str:
        return "|".join(sorted((w.replace(" ", r"\s+") for w in items), key=lambda w: (-len(w), w)))

    return {
        "$schema": "https://raw.githubusercontent.com/martinring/tmlanguage/master/tmlanguage.json",
        "name": "Consilium rules",
        "scopeName": "source.consilium-rules",
        "fileTypes": ["rules"],
        "patterns": [{"include": "#coding"}, {"include": "#comment"}, {"include": "#declaration"}, {"include": "#node"},
                     {"include": "#string"}, {"include": "#date"}, {"include": "#number"},
                     {"include": "#constant"}, {"include": "#type"}, {"include": "#logic"},
                     {"include": "#keyword"}, {"include": "#operator"}, {"include": "#name"}],
        "repository": {
            "coding": {"name": "constant.other.coding.consilium",
                       "match": r"\b[A-Za-z][A-Za-z0-9_]*#[A-Za-z0-9][A-Za-z0-9:._\-]*"},
            "comment": {"name": "comment.line.number-sign.consilium", "match": "#.*$"},
            "declaration": {
                "match": rf"^({alternatives(DECLARATIONS)})\b(?:\s+([A-Za-z_][A-Za-z0-9_]*))?",
                "captures": {"1": {"name": "keyword.declaration.consilium"},
                             "2": {"name": "entity.name.type.consilium"}}},
            "node": {
                "match": rf"^\s+({alternatives(NODES)})\b(?:\s+([A-Za-z_][A-Za-z0-9_]*))?",
                "captures": {"1": {"name": "keyword.declaration.node.consilium"},
                             "2": {"name": "entity.name.function.consilium"}}},
            "string": {"patterns": [
                {"name": "string.quoted.triple.consilium", "begin": '"""', "end": '"""',
                 "patterns": [{"name": "constant.character.escape.consilium", "match": r"\\."}]},
                {"name": "string.quoted.double.consilium", "begin": '"', "end": '"|$',
                 "patterns": [{"name": "constant.character.escape.consilium", "match": r"\\."}]}]},
            "date": {"name": "constant.numeric.date.consilium", "match": r"\b\d{4}-\d{2}-\d{2}\b"},
            "number": {"match": r"\b(\d+(?:\.\d+)?)\s*(%|[A-Za-z][A-Za-z0-9]*)?",
                       "captures": {"1": {"name": "constant.numeric.consilium"},
                                    "2": {"name": "keyword.other.unit.consilium"}}},
            "constant": {"name": "constant.language.consilium", "match": rf"\b({alternatives(CONSTANTS)})\b"},
            "type": {"name": "storage.type.consilium", "match": rf"\b({alternatives(TYPES)})\b"},
            "logic": {"name": "keyword.operator.logical.consilium", "match": rf"\b({alternatives(LOGIC)})\b"},
            "keyword": {"name": "keyword.other.clause.consilium", "match": rf"\b({alternatives(clauses)})\b"},
            "operator": {"name": "keyword.operator.consilium", "match": r"->|\.\.|<=|>=|!=|[=<>≤≥≠+\-*/]"},
            "name": {"name": "variable.other.consilium", "match": r"\b[A-Za-z_][A-Za-z0-9_]*\b"},
        },
    }


def text() -> str:
    return json.dumps(grammar(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    OUT.write_text(text(), encoding="utf-8")
    print(f"wrote {OUT}", file=sys.stderr)
