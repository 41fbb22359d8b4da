"""Phase 3, load: a root rule file -> the declarations of it and of every file it includes.

Reads the root file, parses and lowers it, then follows `include "file"` (relative to the
including file) depth-first, in order, each file once. Reports missing files, include
cycles, encoding problems and every syntax error of every file, all together. Returns the
declarations in reading order and the text of each file (for showing diagnostics).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import ir
from .diagnostics import Diagnostic, Span, suggest

ROOT_FILE = "main.rules"


def grammar_path() -> Path:
    """The grammar file, `consilium/grammar/consilium.lark` (here, not in parse.py, so that the parse
    cache can check it without importing Lark).

    pyproject.toml installs grammar/ as the subpackage consilium.grammar beside consilium.engine, so
    the same relative path holds in a checkout (grammar/ beside engine/) and in a wheel."""
    return Path(__file__).resolve().parents[2] / "grammar" / "consilium.lark"


@dataclass(frozen=True, slots=True)
class Loaded:
    root: str
    files: tuple[str, ...]             # display paths, in reading order
    paths: tuple[str, ...]             # the same files, absolute: what the cache checks
    texts: dict[str, str]              # display path -> text
    declarations: tuple[ir.Declaration, ...]


def display_path(path: Path) -> str:
    """A path as a person would type it: relative to the working folder when below it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return rel if not rel.startswith("..") else str(path)


def resolve_root(path: str | Path) -> tuple[Path | None, list[Diagnostic]]:
    """The root rule file for a path that names a file or a knowledge-base folder."""
    p = Path(path)
    if p.is_dir():
        root = p / ROOT_FILE
        if root.is_file():
            return root, []
        rules = sorted(x.name for x in p.glob("*.rules"))
        return None, [Diagnostic("no-root", f"the folder '{display_path(p)}' has no {ROOT_FILE}",
                                 Span(display_path(p), 1, 1, 1, 1),
                                 hint=("name the root file, e.g. " + display_path(p / rules[0])) if rules
                                 else "a knowledge base is a main.rules file and the files it includes")]
    if p.is_file():
        return p, []
    return None, [Diagnostic("file-not-found", f"no such file or folder: '{path}'", None)]


def parse_file(path: str, text: str) -> tuple[ir.RuleFile | None, list[Diagnostic]]:
    """Phases 1 and 2 for one file's text: its declarations, or what is wrong with it."""
    # Lark and the lowering are imported here, not at the top: a load from the parse cache never
    # parses, and importing them is a sixth of a short `consilium eval`'s time.
    from .lower import lower
    from .parse import parse_text

    tree, problems = parse_text(path, text)
    if tree is None:
        return None, problems
    rule_file, lowered = lower(path, tree)
    return rule_file, problems + lowered


def load(root: Path, *, read: Callable[[Path], bytes] | None = None,
         parse: Callable[[str, str], tuple[ir.RuleFile | None, list[Diagnostic]]] = parse_file,
         ) -> tuple[Loaded, list[Diagnostic]]:
    """Every file from the root down its includes. `read` gives a file's bytes (an editor passes
    its unsaved buffers); `parse` turns a file's text into declarations (an editor remembers them
    per text, so a keystroke re-parses one file)."""
    from .parse import decode

    read_bytes = read or Path.read_bytes
    diagnostics: list[Diagnostic] = []
    texts: dict[str, str] = {}
    files: list[str] = []
    paths: list[str] = []
    declarations: list[ir.Declaration] = []
    done: set[Path] = set()

    def visit(path: Path, chain: tuple[Path, ...], include_span: Span | None) -> None:
        real = path.resolve()
        shown = display_path(path)
        if real in chain:
            cycle = " -> ".join(display_path(p) for p in chain[chain.index(real):]) + " -> " + shown
            diagnostics.append(Diagnostic("include-cycle", f"files include each other in a cycle: {cycle}",
                                          include_span, hint="remove one of these includes"))
            return
        if real in done:
            return
        done.add(real)
        try:
            data = read_bytes(path)
        except OSError as exc:
            code = "include-not-found" if include_span else "file-not-found"
            diagnostics.append(Diagnostic(code, f"cannot read '{shown}': {exc.strerror or exc}", include_span))
            return
        text, problems = decode(shown, data)
        if text is None:
            diagnostics.extend(problems)
            return
        texts[shown] = text
        files.append(shown)
        paths.append(str(real))
        rule_file, problems = parse(shown, text)
        diagnostics.extend(problems)
        if rule_file is None:
            return
        for decl in rule_file.declarations:
            if isinstance(decl, ir.Include):
                target = path.parent / decl.path
                if not target.is_file() and target.resolve() not in chain + (real,):
                    siblings = sorted(p.name for p in path.parent.glob("*.rules"))
                    diagnostics.append(Diagnostic(
                        "include-not-found", f"the included file '{decl.path}' does not exist", decl.span,
                        hint=suggest(decl.path, siblings) or f"looked for {display_path(target)}"))
                    continue
                visit(target, chain + (real,), decl.span)
            else:
                declarations.append(decl)

    visit(root, (), None)
    return Loaded(root=display_path(root), files=tuple(files), paths=tuple(paths), texts=texts,
                  declarations=tuple(declarations)), diagnostics
