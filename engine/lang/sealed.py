"""Sealed entries in the user's cache folder: data that cannot be edited or planted unnoticed.

Every cache Consilium keeps (the parse cache, engine/cache.py; the compiled generated code,
engine/evaluation/bytecode.py) stores its entries through `read_entry` and `write_entry`.
An entry is sealed with an HMAC-SHA256 of its bytes under a secret key kept in the cache
folder (`key`, 32 random bytes, readable by its owner only), and is read back only when
the seal verifies: an entry edited, truncated, or copied from another user's or machine's
cache is a miss. That matters most for compiled code, where loading an entry (marshal) is
running it. The folder must belong to the user and be writable by nobody else, and the key
must be private; otherwise the cache is off. Entries are written beside their name and
renamed (concurrent writers are safe: the last rename wins, a reader never sees half an
entry), and the folder is bounded: beyond CONSILIUM_CACHE_MAX_MB (64 by default) the entries
used least recently are removed. Any problem is a miss, never an error. CONSILIUM_CACHE=off
turns every cache off; CONSILIUM_CACHE_DIR moves them.

It lives in `lang`, the lowest room, so that `evaluation` may use it; it knows no entry's content.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
import time
from pathlib import Path

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
    import tempfile  # only here: a short command that reads the cache never writes (and tempfile costs 3 ms)
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


__all__ = ["folder", "seal", "unseal", "read_entry", "write_entry", "DEFAULT_MAX_MB"]
