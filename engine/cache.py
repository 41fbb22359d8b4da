"""A cache of loaded and checked knowledge bases that cannot lie and cannot run code.

Parsing and checking are most of the cost of loading a knowledge base. After a knowledge
base has loaded and checked without error, its checked declarations (and its files' texts)
are written under the user's cache folder as JSON data (engine/lang/irjson.py: no pickle),
with the SHA-256 of every rule file it read; a later load takes them from there and runs
neither the parser nor the checker (`get` gives a `Cached`). The scenarios, most of the
data and read by no evaluation, are kept as JSON text in the entry and decoded when a
command asks for them (`scenarios`); the declarations as parsed are not kept (nothing reads
them once checked). An entry is used only when all of these hold, and is otherwise a miss,
parsed again and rewritten:

- its seal verifies: every entry carries an HMAC-SHA256 of its bytes under a secret key
  kept in the cache folder (`key`, readable by its owner only), so an entry edited,
  truncated or copied from elsewhere is refused;
- it was written by the same engine: the key of an entry covers Consilium's version, the
  engine's own modules (engine/**/*.py, by size and modification time, as Python checks its
  bytecode) and the grammar, so an upgrade or an edit to the engine is never served a parse
  made by the old code;
- every rule file it read still has the same SHA-256 (a new include changes the including
  file, so it is seen too), and includes were allowed outside the folder alike.

The folder must belong to the user and be writable by nobody else, and the key must be
private; otherwise the cache is off. Entries are written beside their name and renamed
(concurrent writers are safe: the last rename wins, a reader never sees half an entry).
The folder is bounded: beyond CONSILIUM_CACHE_MAX_MB (64 by default) the entries used
least recently are removed. Any problem with the cache is a miss, never an error.
CONSILIUM_CACHE=off turns it off; CONSILIUM_CACHE_DIR moves it.

Sealing, the key, the folder's checks and its bound are engine/lang/sealed.py's, shared with
the cache of compiled generated code (engine/evaluation/bytecode.py). This module's
`read_entry` and `write_entry` are those sealed ones: a store of named entries that can be
handed to any other cache, and that never returns an entry whose seal does not verify. The
SQL cohorts keep their built queries in it (engine/inputs/cohort_sql.py), named by
`engine_digest` and the rule files' texts.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import NamedTuple

from .lang import ir
from .lang.checked import Checked
from .lang.irjson import from_data, to_data
from .lang.load import Loaded
from .lang.sealed import folder, read_entry, write_entry

FORMAT = "consilium-cache 4"


# ---- what an entry depends on -------------------------------------------------------------------

def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@functools.cache
def engine_digest() -> str:
    """Consilium's version, its engine's modules and its grammar, as one digest.

    A module counts by its size and modification time, as Python's own bytecode cache checks
    it (reading all of them took a tenth of a cached load); the grammar by its text."""
    from .. import __version__
    from .lang.load import grammar_path
    h = hashlib.sha256(f"{FORMAT}\0{__version__}\0{sys.version}".encode())
    engine = Path(__file__).resolve().parent
    for name, size, mtime in sorted(_modules(str(engine))):
        h.update(f"{os.path.relpath(name, engine)}\0{size}\0{mtime}\0".encode())
    h.update(grammar_path().read_bytes())
    return h.hexdigest()


def _modules(folder: str) -> list[tuple[str, int, int]]:
    """Every .py file under `folder`: its path, size and modification time (ns)."""
    found = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False) and entry.name != "__pycache__":
                found += _modules(entry.path)
            elif entry.name.endswith(".py") and entry.is_file():
                info = entry.stat()
                found.append((entry.path, info.st_size, info.st_mtime_ns))
    return found


def _entry_name(root: Path, allow_outside: bool) -> str:
    # spans hold paths as shown from the working folder: one entry per root and working folder
    return "parse-" + _digest(f"{root.resolve()}\0{Path.cwd()}\0{allow_outside}".encode())[:32] + ".json"


# ---- the parse cache ----------------------------------------------------------------------------

class Cached(NamedTuple):
    """A knowledge base as the cache holds it: checked, its scenarios still as their data."""

    loaded: Loaded      # the files and their texts (declarations: (), the checked ones are below)
    checked: Checked    # scenarios: () here; `scenarios(cached.scenarios)` gives them
    scenarios: str      # the scenarios' data (JSON text), decoded only when a command asks for them


def get(root: Path, allow_outside: bool = False) -> Cached | None:
    """The cached, checked knowledge base at `root`, if its entry verifies and every file it read is unchanged."""
    try:
        data = read_entry(_entry_name(root, allow_outside))
        if data is None:
            return None
        entry = json.loads(data)
        if entry.get("engine") != engine_digest() or entry.get("allow_outside") is not allow_outside:
            return None
        for path, digest in entry["files"].items():
            if _digest(Path(path).read_bytes()) != digest:
                return None
        loaded, checked, scenarios = from_data(entry["loaded"]), from_data(entry["checked"]), entry["scenarios"]
        if isinstance(loaded, Loaded) and isinstance(checked, Checked) and isinstance(scenarios, str):
            return Cached(loaded, checked, scenarios)
        return None
    except Exception:  # noqa: BLE001 - a cache that cannot be read is a miss
        return None


def scenarios(data: str) -> tuple[ir.Scenario, ...] | None:
    """The scenarios of a `Cached`; None when its data is not theirs (never, for an entry that verified)."""
    try:
        found = from_data(json.loads(data))
    except ValueError:  # JSON's errors included
        return None
    return found if isinstance(found, tuple) and all(isinstance(s, ir.Scenario) for s in found) else None


def put(root: Path, loaded: Loaded, checked: Checked, files: list[Path], allow_outside: bool = False) -> None:
    """Remember a knowledge base that loaded and checked without error; silently nothing where the
    cache cannot be written."""
    if folder() is None:
        return
    try:
        entry = {"engine": engine_digest(), "allow_outside": allow_outside,
                 "files": {str(path.resolve()): _digest(path.read_bytes()) for path in files},
                 "loaded": to_data(dataclasses.replace(loaded, declarations=())),
                 "checked": to_data(dataclasses.replace(checked, scenarios=())),
                 "scenarios": json.dumps(to_data(checked.scenarios), separators=(",", ":"), ensure_ascii=False)}
        data = json.dumps(entry, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    except (OSError, TypeError, ValueError):  # e.g. a value the IR codec does not know: no entry
        return
    write_entry(_entry_name(root, allow_outside), data)


__all__ = ["Cached", "get", "put", "scenarios", "engine_digest", "folder", "read_entry", "write_entry"]
