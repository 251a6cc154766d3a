"""Atomic file writes: a reader never sees a half-written file.

Each writer writes to a temporary file in the target's directory, flushes and fsyncs it, then
``os.replace``-s it over the target (atomic on POSIX and Windows). An interrupted process
leaves either the old file or the new one, never a torn mix.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import functools
import io
import json
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from rnnlab.errors import ConfigError, WriteError

__all__ = [
    "atomic_open",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "csv_text",
    "make_dir",
    "refuse_existing",
]


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "w", **kwargs: Any) -> Iterator[IO]:
    """Open a temporary sibling of ``path`` for writing; on success replace ``path`` with it.

    On an exception inside the ``with`` block the temporary file is removed and ``path`` is
    left untouched.
    """
    if not any(flag in mode for flag in "wx"):
        raise ValueError(f"atomic_open: mode must be a write mode ('w' or 'wb'), got {mode!r}")
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(fd)
    except OSError as exc:
        raise _write_error(target, exc) from None
    os.chmod(tmp_name, _file_mode(target))  # mkstemp makes 0600; a user's file is 0666 & ~umask
    if "b" not in mode:
        kwargs.setdefault("encoding", "utf-8")
    try:
        with open(tmp_name, mode.replace("x", "w"), **kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        if isinstance(exc, OSError) and exc.errno in _WRITE_ERRNOS:
            raise _write_error(target, exc) from None
        raise


# Why a write fails for reasons of the place, not of the program: the fix is the user's.
_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG}


def _write_error(target: Path, exc: OSError) -> Exception:
    """One sentence for a write that failed: which file, why, and what to do; other errors
    are returned as they are."""
    if exc.errno not in _WRITE_ERRNOS:
        return exc
    full = exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
    fix = "free space there" if full else "choose a place you can write to"
    error = WriteError(
        f"Cannot write {target}: {os.strerror(exc.errno).lower()}; {fix} (e.g. another --out) "
        "and run again — files written before are intact."
    )
    error.errno = exc.errno
    return error


def _file_mode(target: Path) -> int:
    """The mode a plain ``open(target, "w")`` would give: the existing one, else 0666 & ~umask."""
    with contextlib.suppress(FileNotFoundError):
        return target.stat().st_mode & 0o7777
    return 0o666 & ~_umask()


@functools.cache
def _umask() -> int:
    mask = os.umask(0o022)  # the only way to read it is to set it; restored at once
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_open(path, "w") as handle:
        handle.write(text)


def atomic_write_json(path: str | os.PathLike[str], obj: Any, *, indent: int | None = 2) -> None:
    """Serialise ``obj`` as JSON (UTF-8, non-ASCII kept readable) to ``path`` atomically."""
    atomic_write_text(path, json.dumps(obj, ensure_ascii=False, indent=indent) + "\n")


def csv_text(rows: Sequence[Mapping[str, Any]]) -> str:
    """Rows as CSV text: a header of every key in first-seen order, one line per row (empty
    text for no rows); ready for :func:`atomic_write_text`."""
    if not rows:
        return ""
    buffer = io.StringIO()
    columns = list(dict.fromkeys(key for row in rows for key in row))
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def make_dir(path: str | os.PathLike[str]) -> Path:
    """Create the directory ``path`` (and its parents) if needed; a place that cannot be
    written (read-only, no permission, full) is one sentence naming it."""
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _write_error(folder, exc) from None
    return folder


def refuse_existing(path: str | os.PathLike[str], overwrite: bool, flag: str = "--out") -> None:
    """Refuse to write over an existing file unless ``overwrite`` (``--overwrite``) was given,
    and refuse a folder where a file is meant: a command never loses what a user had there
    by accident. Call it before the work starts, so a refusal costs nothing."""
    target = Path(path)
    if target.is_dir():
        raise ConfigError(f"{flag} {target} is a folder; pass the name of a file to write.")
    if target.exists() and not overwrite:
        raise ConfigError(f"{target} exists; pass --overwrite to replace it.")
