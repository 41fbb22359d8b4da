"""The git revision of a knowledge base's files, without running git when nothing has changed.

`git_revision(folder, files)` is the last commit that changed the files (not HEAD: committing
anything else, charts included, does not change it), with "+dirty" when one of them differs
from it; None outside git (an installed wheel), for files never committed, or without git.

That takes two git processes (`git log -1 -- FILES`, `git status --porcelain -- FILES`), about
13 ms: more than the rest of a short `consilium eval`. Yet their answer is a function of a few
things that can be read directly, cheaply: the commit HEAD names (read from .git's HEAD, refs
and packed-refs), the index (its file's size, times and inode: git replaces it whenever it
changes), the files' content and modes, and what can change how git sees a file's content
(configuration and attributes files, the shallow and grafts files). That state is the key of
an entry in Consilium's sealed cache (lang/sealed.py) holding git's answer; git runs only for
a state not seen before, and an answer is kept only when it cannot depend on anything else:
every file tracked (an untracked file's status depends on ignore rules too), and the state the
same after git ran as before. Where the layout is one this module does not read (GIT_DIR and
the like set, a reftable, a bare repository), git runs every time, as before.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from ..lang.sealed import read_entry, write_entry

_HEX = frozenset("0123456789abcdef")
_WORKTREE_REFS = ("refs/bisect/", "refs/worktree/", "refs/rewritten/")  # kept per worktree, not shared
# Variables that put the repository, its index, its history or its configuration somewhere else;
# every other GIT_* variable (GIT_SSL_CAINFO, GIT_CONFIG_COUNT...) is part of the state by its value.
_ELSEWHERE = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_OBJECT_DIRECTORY",
              "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_CEILING_DIRECTORIES", "GIT_DISCOVERY_ACROSS_FILESYSTEM",
              "GIT_CONFIG", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM", "GIT_SHALLOW_FILE", "GIT_GRAFT_FILE",
              "GIT_NAMESPACE", "GIT_REPLACE_REF_BASE")


def git_revision(folder: Path, files: tuple[str, ...] | list[str] = ()) -> str | None:
    """The last commit that changed `files` (short), "+dirty" when one differs from it; None outside git."""
    paths = [str(p) for p in files] or ["."]
    repository = _repository(Path(folder).resolve())
    if repository is False:
        return None  # no .git above the folder: git would find no repository either
    before = _state(repository, Path(folder), paths)
    if before is not None:
        name = "revision-" + hashlib.sha256(before.encode()).hexdigest()[:32] + ".json"
        kept = read_entry(name)
        if kept is not None:
            try:
                return json.loads(kept)["revision"]
            except (ValueError, KeyError, TypeError):
                pass
    revision, cacheable = _ask_git(Path(folder), paths)
    if before is not None and cacheable and _state(repository, Path(folder), paths) == before:
        write_entry(name, json.dumps({"revision": revision}).encode())
    return revision


def _ask_git(folder: Path, paths: list[str]) -> tuple[str | None, bool]:
    """git's answer, and whether it may be kept (every file tracked)."""
    import subprocess  # only here: a process of its own is what a kept answer saves
    try:
        last = subprocess.run(["git", "-C", str(folder), "log", "-1", "--format=%h", "--abbrev=12", "--", *paths],
                              capture_output=True, text=True, timeout=10)
        if last.returncode != 0 or not last.stdout.strip():
            return None, False
        status = subprocess.run(["git", "-C", str(folder), "status", "--porcelain", "--ignored", "--", *paths],
                                capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None, False
    if status.returncode != 0:
        return None, False
    lines = status.stdout.splitlines()
    # "!!" is an ignored file, which plain `git status` does not show; "??" an untracked one
    dirty = any(not line.startswith("!!") for line in lines)
    cacheable = not any(line.startswith(("??", "!!")) for line in lines)
    return last.stdout.strip() + ("+dirty" if dirty else ""), cacheable


# ---- what git's answer depends on, read without git ------------------------------------------------

def _repository(folder: Path) -> tuple[Path, Path, Path] | bool | None:
    """(work tree, git dir, common dir) of the repository holding `folder`; False when there is
    none; None when this module cannot tell (git must be asked)."""
    if any(name in os.environ for name in _ELSEWHERE):
        return None  # the repository, its index or its configuration are not where this module looks
    for top in (folder, *folder.parents):
        dot = top / ".git"
        try:
            if dot.is_dir():
                git_dir = dot
            elif dot.is_file():
                text = dot.read_text(encoding="utf-8").strip()
                if not text.startswith("gitdir:"):
                    return None
                git_dir = (top / text.removeprefix("gitdir:").strip()).resolve()
            elif (top / "HEAD").is_file() and (top / "objects").is_dir():
                return None  # a bare repository, or a git dir itself
            else:
                continue
            common = git_dir / "commondir"
            common_dir = (git_dir / common.read_text(encoding="utf-8").strip()).resolve() if common.is_file() \
                else git_dir
        except (OSError, UnicodeDecodeError):
            return None
        return top, git_dir, common_dir
    return False


def _state(repository: tuple[Path, Path, Path] | bool | None, folder: Path, paths: list[str]) -> str | None:
    """Everything git's answer for `paths` (from `folder`) depends on, as text; None when it cannot be read."""
    if not isinstance(repository, tuple):
        return None
    top, git_dir, common_dir = repository
    head = _head(git_dir, common_dir)
    if head is None:
        return None
    try:  # git refuses a repository another user owns (safe.directory)
        owners = (os.stat(top).st_uid, os.stat(git_dir).st_uid)
    except OSError:
        return None
    state: list[object] = [str(top), str(git_dir), head, owners, _stat(git_dir / "index"),
                           sorted((k, v) for k, v in os.environ.items() if k.startswith("GIT_"))]
    home = Path.home()
    config = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config") / "git"
    for path in (common_dir / "config", git_dir / "config.worktree", common_dir / "info" / "attributes",
                 common_dir / "shallow", common_dir / "info" / "grafts", home / ".gitconfig",
                 config / "config", config / "attributes", Path("/etc/gitconfig")):
        state.append(_stat(path))
    resolved: dict[Path, Path] = {}  # each file's folder, as given -> resolved (once per folder)
    levels: set[Path] = set()         # every folder from the work tree's top down to a file's
    for name in sorted(paths):
        path = folder / name
        try:
            if path.parent not in resolved:
                resolved[path.parent] = path.parent.resolve()
                below = resolved[path.parent].relative_to(top).parts
                levels.update(top.joinpath(*below[:i]) for i in range(len(below) + 1))
            state += [name, os.stat(path).st_mode, hashlib.sha256(path.read_bytes()).hexdigest()]
        except (OSError, ValueError):
            return None
    state += [(str(level), _stat(level / ".gitattributes")) for level in sorted(levels)]
    return json.dumps(state)


def _stat(path: Path) -> tuple[int, int, int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)


def _head(git_dir: Path, common_dir: Path) -> str | None:
    """The commit HEAD names ("unborn" before the first commit), or None when it cannot be read."""
    if (common_dir / "reftable").exists():
        return None
    ref = "HEAD"
    for _ in range(5):  # symbolic refs, followed as git does, a few levels deep
        where = git_dir if ref == "HEAD" or ref.startswith(_WORKTREE_REFS) else common_dir
        try:
            text: str | None = (where / ref).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            text = _packed(common_dir, ref)
        except (OSError, UnicodeDecodeError):
            return None
        if text is None:
            return "unborn"
        if text.startswith("ref:"):
            ref = text.removeprefix("ref:").strip()
            continue
        return text if len(text) in (40, 64) and set(text) <= _HEX else None
    return None


def _packed(common_dir: Path, ref: str) -> str | None:
    """The commit a ref names in packed-refs; None when it is not there; "?" when unreadable."""
    try:
        lines = (common_dir / "packed-refs").read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError):
        return "?"  # not a commit: HEAD cannot be read
    for line in lines:
        sha, _, name = line.partition(" ")
        if name == ref and not line.startswith(("#", "^")):
            return sha
    return None
