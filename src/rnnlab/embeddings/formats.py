"""Reading and writing word vectors: rnnlab's own format and the three classic text/binary ones.

Formats (the ``format`` names ``load``/``save`` accept):

``rnnlab``
    A directory with ``vectors.safetensors`` (tensor ``vectors`` ``(V, D)`` float32, plus
    ``ngrams`` ``(bucket, D)`` for FastText) and ``vectors.json`` (format tag and version,
    words, counts, method, parameters, corpus, n-gram sizes). No pickle anywhere.
``word2vec``
    Text: a header line ``V D``, then ``word x1 ... xD`` per line, space separated.
``word2vec-binary``
    Header ``V D\\n``, then per word its UTF-8 bytes, a space, ``D`` little-endian float32
    and a newline (what the original C tool and gensim write).
``glove``
    Text like ``word2vec`` without the header line (Stanford GloVe releases).

:func:`detect_format` tells them apart from the first bytes: a directory or ``.json`` /
``.safetensors`` file is ``rnnlab``; a first line of two integers is a word2vec header, and
the bytes after it decide text or binary; anything else is ``glove``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from rnnlab.embeddings.vectors import Subwords, Vectors
from rnnlab.errors import ConfigError, DataError, RnnlabFileNotFoundError
from rnnlab.fileio import atomic_open

__all__ = ["FORMATS", "detect_format", "read_vectors", "write_vectors"]

FORMATS: tuple[str, ...] = ("rnnlab", "word2vec", "word2vec-binary", "glove")
_TAG = "rnnlab-vectors"
_VERSION = 1
_TENSORS = "vectors.safetensors"
_META = "vectors.json"


def _check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ConfigError(
            f"format: expected one of {', '.join(FORMATS)}, got {fmt!r}; pick one of those."
        )
    return fmt


# ----------------------------------------------------------------------------- detection
def detect_format(path: str | os.PathLike[str]) -> str:
    """The format of the vectors at ``path`` (see the module docstring)."""
    p = Path(path)
    if p.is_dir() or p.suffix in (".json", ".safetensors"):
        return "rnnlab"
    with open(p, "rb") as handle:
        head = handle.read(4096)
    first, _, rest = head.partition(b"\n")
    fields = first.split()
    if len(fields) == 2 and all(f.isdigit() for f in fields):
        # text vectors hold printable characters only; float32 bytes almost always include
        # control bytes or invalid UTF-8
        if any(b < 0x20 and b not in (9, 10, 13) for b in rest):
            return "word2vec-binary"
        try:
            rest.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(rest) - 4:  # not just a character cut at the sample's end
                return "word2vec-binary"
        return "word2vec"
    return "glove"


# ----------------------------------------------------------------------------- rnnlab
def _rnnlab_dir(path: Path) -> Path:
    return path if path.is_dir() or path.suffix not in (".json", ".safetensors") else path.parent


def _read_rnnlab(path: Path) -> Vectors:
    from safetensors.numpy import load_file

    folder = _rnnlab_dir(path)
    meta_file, tensor_file = folder / _META, folder / _TENSORS
    for f in (meta_file, tensor_file):
        if not f.is_file():
            raise RnnlabFileNotFoundError(
                f"{folder}: expected an rnnlab vectors directory holding {_META} and "
                f"{_TENSORS}, but {f.name} is missing; train one with `rnnlab embed train`."
            )
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(
            f"{meta_file}: expected UTF-8 JSON, got unreadable content ({exc})."
        ) from None
    if not isinstance(meta, dict) or meta.get("format") != _TAG:
        raise DataError(f"{meta_file}: expected 'format': {_TAG!r}; not an rnnlab vectors file.")
    if meta.get("version") != _VERSION:
        raise DataError(
            f"{meta_file}: expected vectors format version {_VERSION}, got "
            f"{meta.get('version')!r}; upgrade rnnlab to read it."
        )
    try:
        tensors = load_file(str(tensor_file))
    except Exception as exc:  # safetensors raises its own error types
        raise DataError(f"{tensor_file}: unreadable safetensors file ({exc}).") from None
    words = meta.get("words")
    if not isinstance(words, list) or "vectors" not in tensors:
        raise DataError(f"{folder}: expected 'words' in {_META} and 'vectors' in {_TENSORS}.")
    if tensors["vectors"].shape[0] != len(words):
        raise DataError(
            f"{folder}: {_META} lists {len(words)} words but {_TENSORS} holds "
            f"{tensors['vectors'].shape[0]} vectors; the directory is damaged."
        )
    subwords = None
    if "ngrams" in tensors:
        subwords = Subwords(tensors["ngrams"], int(meta["min_n"]), int(meta["max_n"]))
    extra = {k: v for k, v in meta.items() if k not in ("format", "version", "words", "counts")}
    extra.pop("min_n", None)
    extra.pop("max_n", None)
    return Vectors(words, tensors["vectors"], meta.get("counts"), extra, subwords)


def _write_rnnlab(vectors: Vectors, path: Path) -> None:
    """Write the directory next to its final place, then rename: never half-written."""
    from safetensors.numpy import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        tensors = {"vectors": vectors.matrix}
        meta: dict[str, Any] = {"format": _TAG, "version": _VERSION, **vectors.metadata}
        if vectors.subwords is not None:
            tensors["ngrams"] = vectors.subwords.ngrams
            meta.update(min_n=vectors.subwords.min_n, max_n=vectors.subwords.max_n)
        meta["words"] = vectors.words
        meta["counts"] = None if vectors.counts is None else vectors.counts.tolist()
        save_file(tensors, str(tmp / _TENSORS))
        (tmp / _META).write_text(json.dumps(meta, ensure_ascii=False) + "\n", encoding="utf-8")
        replace_dir(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def replace_dir(tmp: Path, target: Path) -> None:
    """Move the finished directory ``tmp`` to ``target``, replacing an old one."""
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)
        os.replace(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, target)


# ----------------------------------------------------------------------------- text formats
def _parse_text(path: Path, header: bool) -> Vectors:
    words: list[str] = []
    rows: list[np.ndarray] = []
    dim: int | None = None
    expected_rows: int | None = None
    with open(path, encoding="utf-8", errors="strict") as handle:
        line_no = 0
        try:
            for line_no, line in enumerate(handle, start=1):
                if header and line_no == 1:
                    fields = line.split()
                    if len(fields) != 2 or not all(f.isdigit() for f in fields):
                        raise DataError(
                            f"{path} line 1: expected a word2vec header 'count dim', got "
                            f"{line.strip()[:60]!r}; use format 'glove' for files without one."
                        )
                    expected_rows, dim = int(fields[0]), int(fields[1])
                    continue
                text = line.rstrip("\n").rstrip("\r").rstrip(" ")
                if not text:
                    continue
                if dim is None:
                    dim = len(text.split(" ")) - 1
                    if dim < 1:
                        raise DataError(
                            f"{path} line {line_no}: expected a word followed by numbers, got "
                            f"{text[:60]!r}; the file is not a vectors file."
                        )
                parts = text.rsplit(" ", dim)
                if len(parts) != dim + 1 or not parts[0]:
                    raise DataError(
                        f"{path} line {line_no}: expected a word and {dim} numbers, got "
                        f"{len(parts) - 1} fields; the file is truncated or malformed."
                    )
                try:
                    rows.append(np.array(parts[1:], dtype=np.float32))
                except ValueError:
                    bad = next(p for p in parts[1:] if not _is_float(p))
                    raise DataError(
                        f"{path} line {line_no}: expected {dim} numbers after the word "
                        f"{parts[0]!r}, got {bad[:30]!r}; the file is malformed."
                    ) from None
                words.append(parts[0])
        except UnicodeDecodeError:
            raise DataError(
                f"{path} line {line_no + 1}: expected UTF-8 text, got undecodable bytes; for a "
                "binary word2vec file pass format='word2vec-binary'."
            ) from None
    if not words:
        raise DataError(f"{path}: expected word vectors, got an empty file.")
    if expected_rows is not None and expected_rows != len(words):
        raise DataError(
            f"{path}: the header promises {expected_rows} vectors, the file holds "
            f"{len(words)}; the file is truncated or the header is wrong."
        )
    _check_distinct(path, words)
    return Vectors(words, np.stack(rows), None, {"source": str(path)})


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _check_distinct(path: Path, words: list[str]) -> None:
    seen: dict[str, int] = {}
    for i, w in enumerate(words):
        if w in seen:
            raise DataError(
                f"{path}: the word {w!r} appears twice (vectors {seen[w] + 1} and {i + 1}); "
                "remove the duplicate."
            )
        seen[w] = i


def _write_text(vectors: Vectors, path: Path, header: bool) -> None:
    for w in vectors.words:
        if not w or any(ch.isspace() for ch in w):
            raise DataError(
                f"word {w!r}: text vector formats separate fields by spaces, so words may not "
                "be empty or contain whitespace; save in the 'rnnlab' format instead."
            )
    with atomic_open(path, "w", newline="\n") as handle:
        if header:
            handle.write(f"{len(vectors)} {vectors.dim}\n")
        for word, row in zip(vectors.words, vectors.matrix, strict=True):
            handle.write(word + " " + " ".join(f"{x:.6g}" for x in row.tolist()) + "\n")


# ----------------------------------------------------------------------------- binary
def _read_binary(path: Path) -> Vectors:
    data = path.read_bytes()
    end = data.find(b"\n")
    fields = data[:end].split() if end >= 0 else []
    if len(fields) != 2 or not all(f.isdigit() for f in fields):
        raise DataError(
            f"{path} line 1: expected a word2vec header 'count dim'; not a binary file."
        )
    count, dim = int(fields[0]), int(fields[1])
    width = 4 * dim
    if count * (width + 2) > len(data) - end:  # checked before allocating count × dim floats
        raise DataError(
            f"{path} line 1: the header promises {count} vectors of {dim} values, more than the "
            f"file's {len(data):,} bytes can hold; the file is truncated or the header is wrong."
        )
    words: list[str] = []
    matrix = np.empty((count, dim), dtype=np.float32)
    pos = end + 1
    for i in range(count):
        while pos < len(data) and data[pos : pos + 1] in (b"\n", b"\r"):
            pos += 1
        space = data.find(b" ", pos)
        if space < 0 or space + 1 + width > len(data):
            raise DataError(
                f"{path} vector {i + 1} (of {count} in the header): expected a word, a space "
                f"and {dim} float32 values, got the end of the file; the file is truncated."
            )
        try:
            words.append(data[pos:space].decode("utf-8"))
        except UnicodeDecodeError:
            raise DataError(
                f"{path} vector {i + 1}: the word is not valid UTF-8; the file is malformed."
            ) from None
        matrix[i] = np.frombuffer(data, dtype="<f4", count=dim, offset=space + 1)
        pos = space + 1 + width
    _check_distinct(path, words)
    return Vectors(words, matrix, None, {"source": str(path)})


def _write_binary(vectors: Vectors, path: Path) -> None:
    for w in vectors.words:
        if not w or " " in w or "\n" in w:
            raise DataError(
                f"word {w!r}: binary word2vec ends a word at a space, so words may not be empty "
                "or contain spaces; save in the 'rnnlab' format instead."
            )
    with atomic_open(path, "wb") as handle:
        handle.write(f"{len(vectors)} {vectors.dim}\n".encode())
        little = vectors.matrix.astype("<f4", copy=False)
        for word, row in zip(vectors.words, little, strict=True):
            handle.write(word.encode("utf-8") + b" " + row.tobytes() + b"\n")


# ----------------------------------------------------------------------------- entry points
def read_vectors(path: str | os.PathLike[str], format: str | None = None) -> Vectors:
    """Read vectors from ``path`` in ``format`` (detected when ``None``)."""
    p = Path(path)
    if not p.exists():
        raise RnnlabFileNotFoundError(
            f"path: expected a vectors file or directory, got {str(p)!r}, which does not "
            "exist; check the path."
        )
    fmt = _check_format(format) if format else detect_format(p)
    if fmt == "rnnlab":
        return _read_rnnlab(p)
    if fmt == "word2vec-binary":
        return _read_binary(p)
    return _parse_text(p, header=fmt == "word2vec")


def write_vectors(vectors: Vectors, path: str | os.PathLike[str], format: str = "rnnlab") -> Path:
    """Write ``vectors`` to ``path`` in ``format``, atomically; returns the path."""
    p = Path(path)
    fmt = _check_format(format)
    if fmt == "rnnlab":
        _write_rnnlab(vectors, p)
    elif fmt == "word2vec-binary":
        _write_binary(vectors, p)
    else:
        _write_text(vectors, p, header=fmt == "word2vec")
    return p
