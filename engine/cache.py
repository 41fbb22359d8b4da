"""A cache of parsed knowledge bases, invalidated when any of their rule files changes.

Parsing is most of the cost of loading a knowledge base. After a knowledge base has loaded
without error, its parsed declarations are pickled under the user's cache folder, with the
SHA-256 of every rule file it read (and of the grammar and the engine's version). A later
load of the same root reads the files again, and uses the pickle only when every hash still
matches; a new include changes the including file, so it is seen too. Any problem with the
cache (none yet, unreadable, another version) is a miss, never an error. CONSILIUM_CACHE=off
turns it off; CONSILIUM_CACHE_DIR moves it.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path

from .lang.load import Loaded

VERSION = "1"


def _folder() -> Path | None:
    if os.environ.get("CONSILIUM_CACHE", "").lower() in ("off", "0", "no"):
        return None
    base = os.environ.get("CONSILIUM_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "consilium"


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _grammar_digest() -> str:
    from .lang.load import grammar_path
    return _digest(grammar_path().read_bytes() + VERSION.encode())


def _entry(root: Path) -> Path | None:
    folder = _folder()
    if folder is None:
        return None
    # spans hold paths as shown from the working folder: one entry per root and working folder
    return folder / (_digest(f"{root.resolve()}\0{Path.cwd()}".encode())[:32] + ".pickle")


def read_entry(name: str) -> bytes | None:
    """An entry's bytes, or None (a miss) for anything absent or unreadable."""
    folder = _folder()
    if folder is None:
        return None
    try:
        return (folder / name).read_bytes()
    except OSError:
        return None


def write_entry(name: str, data: bytes) -> None:
    """Write an entry atomically; silently nothing where the cache cannot be written."""
    folder = _folder()
    if folder is None:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, delete=False) as handle:
            handle.write(data)
        os.replace(handle.name, folder / name)  # atomic: a reader never sees half a file
    except OSError:
        return


def get(root: Path) -> Loaded | None:
    """The cached parse of `root`, if every file it read is unchanged."""
    entry = _entry(root)
    if entry is None or not entry.is_file():
        return None
    try:
        with entry.open("rb") as handle:
            grammar, hashes, loaded = pickle.load(handle)
        if grammar != _grammar_digest():
            return None
        for path, digest in hashes.items():
            if _digest(Path(path).read_bytes()) != digest:
                return None
        return loaded
    except Exception:  # noqa: BLE001 - a cache that cannot be read is a miss
        return None


def put(root: Path, loaded: Loaded, files: list[Path]) -> None:
    """Remember a parse that loaded without error; silently nothing where the cache cannot be written."""
    entry = _entry(root)
    if entry is None:
        return
    try:
        hashes = {str(path.resolve()): _digest(path.read_bytes()) for path in files}
        entry.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=entry.parent, delete=False) as handle:
            pickle.dump((_grammar_digest(), hashes, loaded), handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(handle.name, entry)  # atomic: a reader never sees half a file
    except Exception:  # noqa: BLE001 - the cache is an optimisation; failing to write it loses nothing
        return
