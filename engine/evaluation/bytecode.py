"""A cache of compiled generated code: Python source -> its code object, kept between runs.

Compiling the generated Python is most of what a load costs after the parse cache. The
code object is marshalled under the user's cache folder (the one the parse cache uses:
CONSILIUM_CACHE=off turns both off, CONSILIUM_CACHE_DIR moves them), named by the SHA-256
of the source, its file name and the Python version. Any problem with the cache is a miss,
never an error. Knows nothing of rule files: it takes text and returns code.

Entries are sealed (engine/lang/sealed.py: an HMAC under the cache folder's private key),
and a code object is unmarshalled only from an entry whose seal verifies: loading a code
object is running it, so one planted or edited in the folder must never be loaded.
"""

from __future__ import annotations

import hashlib
import marshal
import sys
from types import CodeType

from ..lang.sealed import read_entry, write_entry


def compiled(source: str, filename: str) -> CodeType:
    """The code object of `source`, from the cache when the same source was compiled before."""
    key = hashlib.sha256(f"{sys.version}\0{filename}\0{source}".encode()).hexdigest()[:32]
    entry = f"code-{key}.marshal"
    data = read_entry(entry)  # None unless this user's cache sealed it
    if data is not None:
        try:
            code = marshal.loads(data)
            if isinstance(code, CodeType):
                return code
        except (EOFError, ValueError, TypeError):  # a miss
            pass
    code = compile(source, filename, "exec")
    write_entry(entry, marshal.dumps(code))
    return code
