"""A cache of compiled generated code: Python source -> its code object, kept between runs.

Compiling the generated Python is most of what a load costs after the parse cache. The
code object is marshalled under the user's cache folder (the one the parse cache uses:
CONSILIUM_CACHE=off turns both off, CONSILIUM_CACHE_DIR moves them), named by the SHA-256
of the source, its file name and the Python version. Any problem with the cache is a miss,
never an error. Knows nothing of rule files: it takes text and returns code.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
import tempfile
from pathlib import Path
from types import CodeType


def _folder() -> Path | None:
    if os.environ.get("CONSILIUM_CACHE", "").lower() in ("off", "0", "no"):
        return None
    base = os.environ.get("CONSILIUM_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "consilium"


def compiled(source: str, filename: str) -> CodeType:
    """The code object of `source`, from the cache when the same source was compiled before."""
    folder = _folder()
    key = hashlib.sha256(f"{sys.version}\0{filename}\0{source}".encode()).hexdigest()[:32]
    entry = folder / f"code-{key}.marshal" if folder else None
    if entry is not None and entry.is_file():
        try:
            code = marshal.loads(entry.read_bytes())
            if isinstance(code, CodeType):
                return code
        except Exception:  # noqa: BLE001 - a miss
            pass
    code = compile(source, filename, "exec")
    if entry is not None:
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=entry.parent, delete=False) as handle:
                handle.write(marshal.dumps(code))
            os.replace(handle.name, entry)  # atomic: a reader never sees half a file
        except Exception:  # noqa: BLE001 - the cache is an optimisation
            pass
    return code
