"""`consilium fmt [PATH...] [--check] [--diff]`: put rule files in the canonical layout.

PATH is a rule file or a folder (every `*.rules` below it); without one, the current folder.
Each file is formatted on its own (`lang/fmt.py`), which proves the result means the same before
anything is written; a file is replaced atomically (written beside it, then renamed), and only
when it changes. `--check` writes nothing and exits 1 when a file would change; `--diff` prints
the changes as a unified diff and writes nothing. A file that does not parse is not touched: its
diagnostics are printed and the exit code is 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from .lang.diagnostics import format_text as format_diagnostics
from .lang.load import display_path


def add_parser(commands: Any) -> None:
    fmt = commands.add_parser("fmt", help="format rule files in the canonical layout")
    fmt.add_argument("paths", nargs="*", metavar="PATH", help="rule files or folders (default: the current folder)")
    fmt.add_argument("--check", action="store_true", help="write nothing; exit 1 when a file would change")
    fmt.add_argument("--diff", action="store_true", help="print what would change; write nothing")


def run(args: argparse.Namespace) -> int:
    # Imported here: the formatter needs the parser (Lark), which `consilium eval` must not load.
    from .lang.fmt import FormatError, FormatRefused, format_text
    from .lang.parse import decode

    files, missing = _rule_files(args.paths or ["."])
    for name in missing:
        print(f"consilium fmt: no such file or folder: '{name}'", file=sys.stderr)
    if missing:
        return 2
    changed: list[str] = []
    refused = 0
    for path in files:
        shown = display_path(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            print(f"consilium fmt: cannot read '{shown}': {exc.strerror or exc}", file=sys.stderr)
            refused += 1
            continue
        text, problems = decode(shown, data)
        try:
            if text is None:
                raise FormatRefused(problems)
            result = format_text(shown, text)
        except FormatRefused as refusal:
            print(format_diagnostics(refusal.diagnostics, {shown: text} if text is not None else {}),
                  file=sys.stderr)
            refused += 1
            continue
        except FormatError as error:
            print(f"consilium fmt: {error}", file=sys.stderr)
            refused += 1
            continue
        if result == text:
            continue
        changed.append(shown)
        if args.diff:
            import difflib  # here, not at the top: every command imports this module, few show a diff
            sys.stdout.writelines(difflib.unified_diff(text.splitlines(keepends=True), result.splitlines(keepends=True),
                                                       f"{shown} (now)", f"{shown} (formatted)"))
        elif not args.check:
            try:
                _replace(path, result)
            except OSError as exc:
                print(f"consilium fmt: cannot write '{shown}': {exc.strerror or exc}", file=sys.stderr)
                refused += 1
    verb = "would be reformatted" if args.check or args.diff else "reformatted"
    noun = "file" if len(files) == 1 else "files"
    for shown in changed if args.check else ():
        print(f"would reformat {shown}")
    print(f"{len(changed)} of {len(files)} {noun} {verb}" + (f", {refused} left as they were" if refused else ""),
          file=sys.stderr)
    if refused:
        return 2
    return 1 if changed and args.check else 0


def _rule_files(paths: list[str]) -> tuple[list[Path], list[str]]:
    files: list[Path] = []
    missing: list[str] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*.rules") if p.is_file() and ".venv" not in p.parts))
        elif path.is_file():
            files.append(path)
        else:
            missing.append(name)
    return files, missing


def _replace(path: Path, text: str) -> None:
    """Write beside the file, then rename over it: a reader never sees half a file."""
    import tempfile  # here, not at the top: every command imports this module (tempfile costs 3 ms)
    mode = path.stat().st_mode & 0o777
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
