"""A cache of parsed knowledge bases that cannot lie and cannot run code.

Parsing is most of the cost of loading a knowledge base. After a knowledge base has loaded
without error, its parsed declarations are written under the user's cache folder as JSON
data (engine/lang/irjson.py: no pickle), with the SHA-256 of every rule file it read. An
entry is used only when all of these hold, and is otherwise a miss, parsed again and
rewritten:

- its seal verifies: every entry carries an HMAC-SHA256 of its bytes under a secret key
  kept in the cache folder (`key`, readable by its owner only), so an entry edited,
  truncated or copied from elsewhere is refused;
- it was written by the same engine: the key of an entry covers Consilium's version, a
  digest of the engine's own modules (engine/**/*.py) and of the grammar, so an upgrade or
  an edit to the engine is never served a parse made by the old code;
- every rule file it read still has the same SHA-256 (a new include changes the including
  file, so it is seen too), and includes were allowed outside the folder alike.

The folder must belong to the user and be writable by nobody else, and the key must be
private; otherwise the cache is off. Entries are written beside their name and renamed
(concurrent writers are safe: the last rename wins, a reader never sees half an entry).
The folder is bounded: beyond CONSILIUM_CACHE_MAX_MB (64 by default) the entries used
least recently are removed. Any problem with the cache is a miss, never an error.
CONSILIUM_CACHE=off turns it off; CONSILIUM_CACHE_DIR moves it.

`seal`, `unseal`, `read_entry` and `write_entry` are the same rule for any other entry,
such as the generated code's compiled form (marshal, which must never be read unsealed:
loading a code object is running it).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import marshal
import os
import stat
import sys
import tempfile
import time
from pathlib import Path

from .lang.irjson import from_data, to_data
from .lang.load import Loaded

FORMAT = "consilium-cache 2"
DEFAULT_MAX_MB = 64
_KEY = "key"


# ---- where, and whether it can be trusted -------------------------------------------------------

def folder() -> Path | None:
    """The cache folder, or None when the cache is off."""
    if os.environ.get("CONSILIUM_CACHE", "").lower() in ("off", "0", "no", "false"):
        return None
    base = os.environ.get("CONSILIUM_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "consilium"


def _private(path: Path, *, secret: bool) -> bool:
    """Owned by this user, writable by nobody else (and, for a secret, readable by nobody else)."""
    if not hasattr(os, "getuid"):  # Windows: the folder's ACL is the user's profile's
        return True
    info = path.lstat()
    if stat.S_ISLNK(info.st_mode) or info.st_uid != os.getuid():
        return False
    return not info.st_mode & (0o077 if secret else 0o022)


def _key(where: Path, create: bool) -> bytes | None:
    """The folder's secret key; made on first use; None when the folder or key is not private."""
    path = where / _KEY
    try:
        if create:
            where.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _private(where, secret=False):
            return None
        if create and not path.exists():
            try:
                handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process made it first: use theirs
                pass
            else:
                with os.fdopen(handle, "wb") as out:
                    out.write(os.urandom(32))
        if not _private(path, secret=True):
            return None
        key = path.read_bytes()
        return key if len(key) == 32 else None
    except OSError:
        return None


def seal(data: bytes, create: bool = True) -> bytes | None:
    """`data` with its HMAC in front, or None when the cache is off or cannot be trusted."""
    where = folder()
    key = _key(where, create) if where is not None else None
    if key is None:
        return None
    return hmac.new(key, data, hashlib.sha256).hexdigest().encode() + b"\n" + data


def unseal(blob: bytes) -> bytes | None:
    """The data of a sealed blob, or None when its HMAC does not verify (edited, foreign, damaged)."""
    where = folder()
    key = _key(where, create=False) if where is not None else None
    mac, _, data = blob.partition(b"\n")
    if key is None or not hmac.compare_digest(mac, hmac.new(key, data, hashlib.sha256).hexdigest().encode()):
        return None
    return data


def read_entry(name: str) -> bytes | None:
    """A sealed entry's data, or None (a miss) for anything absent, unreadable or not verified."""
    where = folder()
    if where is None:
        return None
    path = where / name
    try:
        data = unseal(path.read_bytes())
        if data is not None:
            os.utime(path)  # used: the last to be evicted
    except OSError:
        return None
    return data


def write_entry(name: str, data: bytes) -> None:
    """Seal and write an entry atomically, then keep the folder within its bound; silent on failure."""
    blob = seal(data)
    where = folder()
    if blob is None or where is None:
        return
    try:
        with tempfile.NamedTemporaryFile(dir=where, prefix=".tmp-", delete=False) as handle:
            handle.write(blob)
        os.replace(handle.name, where / name)  # atomic: a reader never sees half a file
    except OSError:
        return
    _evict(where)


def _evict(where: Path) -> None:
    """Remove the entries used least recently while the folder is over its bound."""
    try:
        limit = float(os.environ.get("CONSILIUM_CACHE_MAX_MB", DEFAULT_MAX_MB)) * 1024 * 1024
    except ValueError:
        limit = DEFAULT_MAX_MB * 1024 * 1024
    try:
        entries = []
        for path in where.iterdir():
            if path.name == _KEY:
                continue
            info = path.stat()
            if path.name.startswith(".tmp-") and time.time() - info.st_mtime < 3600:
                continue  # another process is writing it
            entries.append((info.st_mtime, info.st_size, path))
        total = sum(size for _, size, _ in entries)
        for _, size, path in sorted(entries, key=lambda e: e[0]):
            if total <= limit:
                break
            path.unlink(missing_ok=True)
            total -= size
    except OSError:
        return


# ---- what an entry depends on -------------------------------------------------------------------

def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@functools.cache
def engine_digest() -> str:
    """Consilium's version, its engine's modules and its grammar, as one digest."""
    from .. import __version__
    from .lang.parse import grammar_path
    h = hashlib.sha256(f"{FORMAT}\0{__version__}\0{sys.version}".encode())
    engine = Path(__file__).resolve().parent
    for path in sorted(engine.rglob("*.py")):
        h.update(str(path.relative_to(engine)).encode() + b"\0" + path.read_bytes() + b"\0")
    h.update(grammar_path().read_bytes())
    return h.hexdigest()


def _entry_name(root: Path, allow_outside: bool) -> str:
    # spans hold paths as shown from the working folder: one entry per root and working folder
    return "parse-" + _digest(f"{root.resolve()}\0{Path.cwd()}\0{allow_outside}".encode())[:32] + ".json"


# ---- the parse cache ----------------------------------------------------------------------------

def get(root: Path, allow_outside: bool = False) -> Loaded | None:
    """The cached parse of `root`, if its entry verifies and every file it read is unchanged."""
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
        loaded = from_data(entry["loaded"])
        return loaded if isinstance(loaded, Loaded) else None
    except Exception:  # noqa: BLE001 - a cache that cannot be read is a miss
        return None


def put(root: Path, loaded: Loaded, files: list[Path], allow_outside: bool = False) -> None:
    """Remember a parse that loaded without error; silently nothing where the cache cannot be written."""
    if folder() is None:
        return
    try:
        entry = {"engine": engine_digest(), "allow_outside": allow_outside,
                 "files": {str(path.resolve()): _digest(path.read_bytes()) for path in files},
                 "loaded": to_data(loaded)}
        data = json.dumps(entry, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    except (OSError, TypeError, ValueError):  # e.g. a value the IR codec does not know: no entry
        return
    write_entry(_entry_name(root, allow_outside), data)


# ---- compiled generated code --------------------------------------------------------------------

def compiled(source: str, name: str):
    """The code object of generated Python, from the cache when the same source was compiled before.

    Entries are sealed like the parse cache's: a code object is only unmarshalled from an
    entry this user's cache wrote, since loading one is running it."""
    entry = f"code-{_digest((source + sys.version).encode())[:32]}.marshal"
    data = read_entry(entry)
    if data is not None:
        try:
            return marshal.loads(data)
        except (EOFError, ValueError, TypeError):
            pass
    code = compile(source, name, "exec")
    write_entry(entry, marshal.dumps(code))
    return code
