"""Phase 3, load: a root rule file -> the declarations of it and of every file it includes.

Reads the root file, parses and lowers it, then follows `include "file"` (relative to the
including file) depth-first, in order, each file once. Reports missing files, include
cycles, encoding problems and every syntax error of every file, all together. Returns the
declarations in reading order and the text of each file (for showing diagnostics).

An include stays inside the knowledge base's folder (the root file's folder), through
`..`, absolute paths and symbolic links alike, unless the caller allows otherwise
(`allow_outside`, the command line's --allow-outside-includes); and it names a regular
file ending in `.rules`. So a knowledge base from elsewhere (a git revision for `diff`,
a shared folder) reads no other file, and no diagnostic prints the lines of one.
`including_root` finds, for a file checked alone, the root file above it that includes it.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Callable

from .records import record
from . import ir
from .diagnostics import Diagnostic, Span, suggest

ROOT_FILE = "main.rules"


def grammar_path() -> Path:
    """The grammar file, `consilium/grammar/consilium.lark` (here, not in parse.py, so that the parse
    cache can check it without importing Lark).

    pyproject.toml installs grammar/ as the subpackage consilium.grammar beside consilium.engine, so
    the same relative path holds in a checkout (grammar/ beside engine/) and in a wheel."""
    return Path(__file__).resolve().parents[2] / "grammar" / "consilium.lark"


@record
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
    try:
        p.stat()
    except (FileNotFoundError, NotADirectoryError):
        pass
    except (OSError, ValueError) as exc:  # a name too long, a link loop, a NUL in the name
        return None, [Diagnostic("file-not-found", f"cannot read '{path}': "
                                 f"{getattr(exc, 'strerror', None) or exc}", None)]
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
        if p.suffix != ".rules":  # e.g. a case given where the knowledge base goes
            return None, [Diagnostic("not-rules", f"'{path}' is not a rule file (*.rules)", None,
                                     hint="give a knowledge-base folder (with main.rules) or its root .rules file")]
        return p, []
    return None, [Diagnostic("file-not-found", f"no such file or folder: '{path}'", None)]


def _named(name: str) -> str:
    """A file name as a message shows it: control characters escaped, a very long one cut."""
    if not name.isprintable():
        name = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in name)
    return name if len(name) <= 120 else name[:120] + "…"


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder)
    except (ValueError, OSError, RuntimeError):
        return False
    return True


def _include_problem(target: Path, decl: ir.Include, folder: Path, allow_outside: bool) -> Diagnostic | None:
    """Why an include may not be read, or None (a missing file is reported by the caller, with a hint)."""
    try:
        target.stat()
    except (FileNotFoundError, NotADirectoryError):
        pass
    except OSError as exc:  # a name too long, no permission, a link loop
        loop = exc.errno == errno.ELOOP
        return Diagnostic("include-not-found", f"the included file '{_named(decl.path)}' "
                          + ("is a symbolic link that leads round in a loop" if loop
                             else f"cannot be read: {exc.strerror or exc}"), decl.span,
                          hint="point the link at a rule file" if loop else None)
    except ValueError:  # a NUL in the name
        return Diagnostic("include-not-found", f"'{_named(decl.path)}' is not a file name", decl.span)
    try:
        target.resolve(strict=False)
    except (OSError, RuntimeError):  # RuntimeError: Python 3.11's "Symlink loop"
        return Diagnostic("include-not-found", f"the included file '{_named(decl.path)}' is a symbolic link that leads "
                          "round in a loop", decl.span, hint="point the link at a rule file")
    if not allow_outside and not _inside(target, folder):
        return Diagnostic("include-outside", f"the included file '{_named(decl.path)}' is outside the knowledge base's "
                          f"folder ({display_path(folder)})", decl.span,
                          hint="move it into the folder, or allow it with --allow-outside-includes")
    if target.exists() and not target.is_file():
        kind = "a folder" if target.is_dir() else "not a regular file"
        return Diagnostic("include-not-found", f"the included file '{_named(decl.path)}' is {kind}", decl.span,
                          hint="an include names a rule file")
    if target.suffix != ".rules" and target.exists():
        return Diagnostic("not-rules", f"the included file '{_named(decl.path)}' is not a rule file (*.rules)",
                          decl.span, hint="rule files end in .rules")
    return None


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


def load(root: Path, allow_outside: bool = False, *, read: Callable[[Path], bytes] | None = None,
         parse: Callable[[str, str], tuple[ir.RuleFile | None, list[Diagnostic]]] = parse_file,
         ) -> tuple[Loaded, list[Diagnostic]]:
    """Every file from the root down its includes. `allow_outside`: includes may leave the
    root's folder. `read` gives a file's bytes (an editor passes its unsaved buffers); `parse`
    turns a file's text into declarations (an editor remembers them per text, so a keystroke
    re-parses one file)."""
    from .parse import decode

    read_bytes = read or Path.read_bytes
    diagnostics: list[Diagnostic] = []
    try:
        folder = root.parent.resolve()
    except (OSError, RuntimeError):
        folder = root.parent.absolute()
    texts: dict[str, str] = {}
    files: list[str] = []
    paths: list[str] = []
    declarations: list[ir.Declaration] = []
    done: set[Path] = set()

    def visit(path: Path, chain: tuple[Path, ...], include_span: Span | None) -> None:
        shown = display_path(path)
        try:
            real = path.resolve()
        except (OSError, RuntimeError):  # a symbolic link loop (RuntimeError in Python 3.11)
            diagnostics.append(Diagnostic("include-not-found" if include_span else "file-not-found",
                                          f"cannot read '{shown}': its symbolic links lead round in a loop",
                                          include_span))
            return
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
                problem = _include_problem(target, decl, folder, allow_outside)
                if problem is not None:
                    diagnostics.append(problem)
                    continue
                if not target.is_file() and target.resolve() not in chain + (real,):
                    siblings = sorted(p.name for p in path.parent.glob("*.rules"))
                    diagnostics.append(Diagnostic(
                        "include-not-found", f"the included file '{_named(decl.path)}' does not exist", decl.span,
                        hint=suggest(decl.path, siblings) or f"looked for {display_path(target)}"))
                    continue
                visit(target, chain + (real,), decl.span)
            else:
                declarations.append(decl)

    if not allow_outside and not _inside(root, folder) and root.exists():
        diagnostics.append(Diagnostic("include-outside", f"the root file '{display_path(root)}' is a link to a file "
                                      f"outside its folder ({display_path(folder)})", None,
                                      hint="allow it with --allow-outside-includes"))
    else:
        visit(root, (), None)
    return Loaded(root=display_path(root), files=tuple(files), paths=tuple(paths), texts=texts,
                  declarations=tuple(declarations)), diagnostics


def including_root(path: Path) -> Path | None:
    """The nearest main.rules above a rule file that includes it (the file was checked alone,
    without the facts and sources the rest of its knowledge base declares), or None."""
    if path.suffix != ".rules" or path.name == ROOT_FILE or not path.is_file():
        return None
    target = str(path.resolve())
    folder = path.absolute().parent
    for _ in range(12):
        candidate = folder / ROOT_FILE
        if candidate.is_file() and target in load(candidate)[0].paths:
            return candidate
        if folder.parent == folder:
            return None
        folder = folder.parent
    return None
