"""`consilium lsp` and `consilium preview`: the editors' long-running companions.

`lsp` speaks the Language Server Protocol on standard input and output (an editor starts it);
`preview [PATH] [--port N]` serves a page of the knowledge base's flowcharts and scenario results
on the loopback that redraws whenever a rule file changes. Both live in engine/service/; this
module only reads their arguments, and imports them only when they run.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_parsers(commands: Any) -> None:
    commands.add_parser("lsp", help="the language server for editors (speaks LSP on stdin/stdout)")
    preview = commands.add_parser("preview", help="a live page of the flowcharts and scenarios, redrawn on change")
    preview.add_argument("path", nargs="?", help="knowledge-base folder or root .rules file")
    preview.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    preview.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765)")
    preview.add_argument("--no-browser", action="store_true", help="do not open a browser")


def run(args: argparse.Namespace) -> int:
    try:
        if args.command == "lsp":
            from .service.lsp import serve_stdio
            return serve_stdio()
        from .service.preview import serve
    except ImportError as exc:
        from .cli import shadow_message, shadowing_folder
        if shadowing_folder() is not None:  # not a missing extra: the wrong `consilium` was imported
            print(f"consilium {args.command}: {shadow_message()}", file=sys.stderr)
            return 2
        print(f"consilium {args.command}: {exc.name or exc} is not installed; "
              "install the editors' tools with: pip install 'consilium[editors]'", file=sys.stderr)
        return 2
    if not 1 <= args.port <= 65535:
        print(f"consilium preview: --port must be between 1 and 65535, not {args.port}", file=sys.stderr)
        return 2
    return serve(args.path, args.host, args.port, open_browser=not args.no_browser)
