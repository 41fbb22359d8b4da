"""Compiled generated code, kept between runs: Python source -> its code object.

Compiling the generated Python is most of what a load costs after the parse cache. The
code object is marshalled into a store of named entries that the caller provides (kb.py
passes the user's cache, engine/cache.py, which decides where entries live and whether one
can be trusted: loading a code object is running it). The entry is named by the SHA-256 of
the source, its file name and the Python version. Any problem is a miss, never an error.
Knows nothing of rule files or folders: it takes text and returns code.
"""

from __future__ import annotations

import hashlib
import marshal
import sys
from types import CodeType
from typing import Protocol


class Store(Protocol):
    """Named entries of bytes: None for an entry absent or not to be trusted; writing may do nothing."""

    def read_entry(self, name: str) -> bytes | None: ...

    def write_entry(self, name: str, data: bytes) -> None: ...


def compiled(source: str, filename: str, store: Store | None = None) -> CodeType:
    """The code object of `source`, from `store` when the same source was compiled before."""
    if store is None:
        return compile(source, filename, "exec")
    name = "code-" + hashlib.sha256(f"{sys.version}\0{filename}\0{source}".encode()).hexdigest()[:32] + ".marshal"
    data = store.read_entry(name)
    if data is not None:
        try:
            code = marshal.loads(data)
            if isinstance(code, CodeType):
                return code
        except (EOFError, ValueError, TypeError):
            pass
    code = compile(source, filename, "exec")
    store.write_entry(name, marshal.dumps(code))
    return code
