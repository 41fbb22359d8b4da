"""Writing output files so that nothing is ever lost: beside the target, then renamed.

Every command that writes (cohort rows, charts, the review page) goes through here. A file
is written under a temporary name in the target's folder (`.NAME.XXXX.partial`), flushed to
disk, and renamed onto its final name only when complete, so an interrupted, failed or
killed run never leaves a partial file under the final name, and an existing file is
replaced whole or not at all. An output that is also one of the command's inputs is
refused before anything is touched, and any problem with the target (a missing folder, a
folder where a file is expected, no permission) is an `OutputError`, which the command line
reports as a usage error (exit 2).

It lives in `lang`, the lowest room, because `inputs` (cohorts) and `render` both write
and may import nothing above their own room; it reads nothing and knows no format.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import IO, Iterable, Iterator

from .diagnostics import ConsiliumError

PARTIAL = ".partial"


class OutputError(ConsiliumError):
    """An output cannot be written where asked, or would overwrite one of the inputs."""


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file (through links and `..` alike); False when either is absent."""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        try:
            return a.resolve() == b.resolve()
        except (OSError, RuntimeError):
            return False


def refuse_overwrite(output: Path, inputs: Iterable[Path | str], what: str = "output") -> None:
    """Raise OutputError when `output` is one of `inputs` (nothing is touched)."""
    for source in inputs:
        if same_file(Path(output), Path(source)):
            raise OutputError(f"the {what} '{output}' is also an input ('{source}'): writing it would destroy "
                              "the input; choose another name")


def _separators() -> tuple[str, ...]:
    return tuple(s for s in (os.sep, os.altsep) if s)


def file_output(text: str, what: str = "-o names the file to write", example: str = "rows.jsonl") -> Path:
    """The path of an output that is a file; OutputError when its text can only name a folder.

    `Path` drops a trailing separator (`out.jsonl/` becomes `out.jsonl`) and a last `.`, so this
    reads the text as typed: a name ending with a separator, `.` or `..` names a folder, whether
    it is a typo or meant as one, and writing a file of another name is not what was asked."""
    last = text
    for separator in _separators():
        last = last.rsplit(separator, 1)[-1]
    if not text.endswith(_separators()) and last not in (".", ".."):
        return Path(text)
    name = text.rstrip("".join(_separators()))
    if kind_of(Path(text)) == "folder" or not name or Path(name).name in ("", ".", ".."):
        fix = f"give the file's name in that folder, e.g. '{Path(text) / example}'"
    else:
        fix = f"did you mean '{name}'?"
    raise OutputError(f"'{_shown(Path(text)) if len(text) > 120 else text}' names a folder, and {what}: {fix}")


def kind_of(path: Path) -> str | None:
    """'file', 'folder' or 'other' (a device, a pipe) for what stands at `path`; None when nothing
    does; OutputError when the name itself cannot be looked up (too long, a NUL, a link loop)."""
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (OSError, ValueError) as exc:
        raise OutputError(f"cannot use '{_shown(path)}': {getattr(exc, 'strerror', None) or exc}") from None
    return "file" if stat.S_ISREG(mode) else "folder" if stat.S_ISDIR(mode) else "other"


def _shown(path: Path) -> str:
    text = str(path)
    return text if len(text) <= 120 else text[:120] + "…"


def _describe(path: Path, exc: OSError) -> str:
    folder = path.parent if str(path.parent) else Path(".")
    if isinstance(exc, FileNotFoundError) and not _quietly(folder.is_dir):
        return f"cannot write '{path}': the folder '{folder}' does not exist"
    if isinstance(exc, (IsADirectoryError,)) or _quietly(path.is_dir):
        return f"cannot write '{path}': it is a folder"
    if isinstance(exc, NotADirectoryError):
        return f"cannot write '{path}': '{folder}' is not a folder"
    return f"cannot write '{_shown(path)}': {exc.strerror or exc}"


def _quietly(test) -> bool:
    try:
        return bool(test())
    except (OSError, ValueError):
        return False


def _mode_for(path: Path) -> int:
    """The permissions the file would get if opened plainly: the old file's, or 0666 less the umask."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside `path`; renamed onto `path` when the block ends without an exception.

    On any exception (KeyboardInterrupt included) the temporary file is removed and the
    target is left as it was."""
    path = file_output(path, "the output is a file") if isinstance(path, str) else path
    if kind_of(path) == "folder":
        raise OutputError(f"cannot write '{path}': it is a folder")
    import tempfile  # here, not at the top: the command line imports this module, few commands write
    try:
        handle, name = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".",
                                        prefix=f".{path.name}.", suffix=PARTIAL)
        os.close(handle)
    except OSError as exc:
        raise OutputError(_describe(path, exc)) from None
    temporary = Path(name)
    try:
        yield temporary
    except BaseException:
        _remove(temporary)
        raise
    try:
        with open(temporary, "rb+") as written:  # make the data durable before it takes the name
            os.fsync(written.fileno())
        os.chmod(temporary, _mode_for(path))
        os.replace(temporary, path)
    except OSError as exc:
        _remove(temporary)
        raise OutputError(_describe(path, exc)) from None


@contextlib.contextmanager
def atomic_output(path: str | Path, binary: bool = False) -> Iterator[IO]:
    """An open file beside `path` (text: UTF-8, no newline translation), renamed onto it when complete."""
    with atomic_path(path) as temporary:
        try:
            handle = open(temporary, "wb") if binary else open(temporary, "w", encoding="utf-8", newline="")
        except OSError as exc:
            raise OutputError(_describe(Path(path), exc)) from None
        with handle:
            yield handle


def write_file(path: str | Path, data: bytes | str) -> Path:
    """Write a whole file atomically; returns its path."""
    with atomic_output(path, binary=isinstance(data, bytes)) as handle:
        try:
            handle.write(data)
        except OSError as exc:  # a full disk: the target stays as it was
            raise OutputError(_describe(Path(path), exc)) from None
    return Path(path)


def ensure_folder(folder: str | Path) -> Path:
    """The output folder, created if needed; OutputError when it cannot be (a file stands there, ...)."""
    folder = Path(folder)
    if kind_of(folder) not in (None, "folder"):
        raise OutputError(f"cannot write into '{folder}': it is a file, and this option names a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the folder '{_shown(folder)}': {exc.strerror or exc}") from None
    return folder


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


__all__ = ["OutputError", "file_output", "kind_of", "atomic_path", "atomic_output", "write_file", "ensure_folder",
           "refuse_overwrite", "same_file"]
