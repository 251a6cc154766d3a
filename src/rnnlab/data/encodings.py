"""Text encodings of the files rnnlab reads: tell which, decode line by line, explain failures.

A table or text file may be UTF-8 (with or without a byte order mark), UTF-16 (with one),
GBK/GB18030, Big5 or cp1252 — what Excel, Windows Notepad and older Chinese software save.
:func:`detect_encoding` looks at the first :data:`SAMPLE_BYTES` of the file:

1. a byte order mark names UTF-8, UTF-16 or UTF-32;
2. a sample that decodes as UTF-8 *is* UTF-8 — the fast path, no detector involved (ASCII
   included; a later line that is not UTF-8 is reported with the encoding it looks like);
3. otherwise charset-normalizer decides. It is asked first among the encodings users of
   rnnlab meet (:data:`PREFERRED`), then among all it knows: on short texts it readily
   answers cp1250 for Western text or cp949 for a line of Chinese, whose decodings are as
   clean but wrong, so the preferred answer wins unless the open answer is clearly cleaner
   (by :data:`_MARGIN` of its "chaos" score); Czech cp1250 or Japanese Shift-JIS, which the
   preferred encodings cannot decode cleanly, still get their own.

Answers are normalised to the widest member of their family: GB2312 and GBK to GB18030 (a
superset), Latin-1 and ASCII to cp1252 (as web browsers do; Latin-1 would turn cp1252's
curly quotes into control characters).

:class:`DecodedLines` then yields the file's lines as text, strictly decoded, counting physical
lines so that an undecodable byte is reported by line, record and byte, with the
``--encoding`` that would read it. Byte-oriented encodings (UTF-8, GB18030, Big5, cp1252, …)
never use the byte ``\\n`` inside a character, so the file is split on it and each line fed
to an incremental decoder; UTF-16 and UTF-32 do (``\\n`` is one byte of many characters), so
they are decoded as a stream of chunks and split into lines after decoding.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from rnnlab.errors import ConfigError, DataError

__all__ = [
    "AUTO",
    "PREFERRED",
    "SAMPLE_BYTES",
    "DecodedLines",
    "check_encoding",
    "check_sample",
    "detect_encoding",
    "encoding_candidates",
    "file_encoding",
    "is_utf8",
    "resolve_encoding",
]

AUTO = "auto"
SAMPLE_BYTES = 64 * 1024
# Asked first, in this order of preference on ties (see the module docstring).
PREFERRED: tuple[str, ...] = ("gb18030", "big5", "cp1252")
_MARGIN = 0.05  # how much cleaner (charset-normalizer "chaos") another answer must be to win
_FAMILY = {"gb2312": "gb18030", "gbk": "gb18030", "iso8859-1": "cp1252", "ascii": "cp1252"}
_UTF8 = ("utf-8", "utf-8-sig")
_WIDE = ("utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be")
_BOMS = (  # longest first: the UTF-32 LE mark starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CHUNK = 1 << 16
_EXAMPLES = "gb18030, big5 or cp1252"


def check_encoding(name: str | None) -> str:
    """``"auto"`` (also for ``None`` and ``""``), or the canonical name of the Python codec
    ``name`` (``"GBK"`` → ``"gbk"``); an unknown name is one sentence."""
    if name is None or not str(name).strip() or str(name).strip().lower() == AUTO:
        return AUTO
    try:
        info = codecs.lookup(str(name).strip())
    except LookupError:
        raise ConfigError(
            f"--encoding {name!r} is not an encoding Python knows; pass one such as utf-8, "
            f"{_EXAMPLES}, or auto to detect it."
        ) from None
    if not getattr(info, "_is_text_encoding", True):  # base64, rot13, zlib: not text
        raise ConfigError(
            f"--encoding {name!r} is not a text encoding; pass one such as utf-8, "
            f"{_EXAMPLES}, or auto to detect it."
        )
    return info.name


def is_utf8(name: str) -> bool:
    """True for UTF-8, with or without the byte order mark codec."""
    return check_encoding(name) in _UTF8


def normalise(name: str) -> str:
    """The canonical codec name, widened to its family's superset (gbk → gb18030)."""
    canonical = codecs.lookup(name).name
    return _FAMILY.get(canonical, canonical)


def detect_encoding(sample: bytes, *, complete: bool = False) -> str | None:
    """The encoding of a file that starts with ``sample`` (all of it when ``complete``), or
    ``None`` when no encoding decodes it sensibly. See the module docstring for how."""
    for bom, name in _BOMS:
        if sample.startswith(bom):
            return name
    if b"\x00" not in sample and _decodes(sample, "utf-8", complete):
        return "utf-8"  # the fast path: no detector (NUL bytes suggest BOM-less UTF-16)
    return _guess(sample, complete)


def _decodes(data: bytes, encoding: str, complete: bool = True) -> bool:
    """Whether ``data`` decodes strictly; a sample cut mid-character still counts."""
    try:
        codecs.getincrementaldecoder(encoding)("strict").decode(data, final=complete)
    except UnicodeDecodeError:
        return False
    return True


def _guess(data: bytes, complete: bool = True) -> str | None:
    """charset-normalizer's answer, preferring :data:`PREFERRED` (module docstring); failing
    both, the first preferred encoding that decodes ``data`` at all."""
    from charset_normalizer import from_bytes

    preferred = from_bytes(data, cp_isolation=list(PREFERRED)).best()
    if preferred is not None and preferred.chaos == 0:
        return normalise(preferred.encoding)
    anything = from_bytes(data).best()
    if preferred is not None and (anything is None or preferred.chaos <= anything.chaos + _MARGIN):
        return normalise(preferred.encoding)
    if anything is not None:
        return normalise(anything.encoding)
    return next((name for name in PREFERRED if _decodes(data, name, complete)), None)


def encoding_candidates(raw: bytes, exclude: str, likely: tuple[str, ...] = ()) -> list[str]:
    """Encodings that decode ``raw`` (an offending line), likeliest first, ``exclude`` (the
    one that failed) left out: ``likely`` ones (the whole file's detected encoding, a surer
    guess than one line's), UTF-8, the detector's answer for the line, and the other Chinese
    encoding beside a Chinese one (GB18030 and Big5 share most byte ranges)."""
    names = [name for name in likely if _decodes(raw, name)]
    if _decodes(raw, "utf-8"):
        names.append("utf-8")
    guess = _guess(raw)
    if guess is not None and _decodes(raw, guess):
        names.append(guess)
    for chinese, other in (("gb18030", "big5"), ("big5", "gb18030")):
        if chinese in names and _decodes(raw, other):
            names.append(other)
    excluded = {"utf-8", "utf-8-sig"} if is_utf8(exclude) else {check_encoding(exclude)}
    return [name for name in dict.fromkeys(names) if name not in excluded][:3]


def resolve_encoding(sample: bytes, encoding: str | None, path: Path, *, complete: bool) -> str:
    """The encoding to read ``path`` with: ``encoding`` checked, or detected from ``sample``
    when it is ``"auto"``; a file whose encoding cannot be told is one sentence."""
    chosen = check_encoding(encoding)
    if chosen != AUTO:
        return chosen
    detected = detect_encoding(sample, complete=complete)
    if detected is None:
        raise DataError(
            f"{path}: cannot tell the file's text encoding (its first bytes are not UTF-8 and "
            f"match no other encoding); pass --encoding with it, for example {_EXAMPLES}."
        )
    return detected


def file_encoding(path: str | Path, encoding: str | None = AUTO) -> str:
    """:func:`resolve_encoding` for the file at ``path``, reading only its first bytes."""
    path = Path(path)
    with open(path, "rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    return resolve_encoding(sample, encoding, path, complete=len(sample) < SAMPLE_BYTES)


def check_sample(path: str | Path, encoding: str) -> None:
    """Decode the complete lines of the first :data:`SAMPLE_BYTES` of ``path`` in the given
    ``encoding``, raising :class:`DecodedLines`' one-sentence error (line, bytes, the
    encoding they look like) at the first that fails: a wrong ``--encoding`` is caught before
    any work is done, not when the reader reaches it."""
    path = Path(path)
    with open(path, "rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    if len(sample) == SAMPLE_BYTES:
        if check_encoding(encoding) in _WIDE:
            return  # cut anywhere in a character; UTF-16/32 files rarely fail to decode
        sample = sample[: sample.rfind(b"\n") + 1]  # whole lines only
    lines = DecodedLines(io.BytesIO(sample), path, encoding, detected=False)
    lines.row = -1  # records are not counted here
    for _ in lines:
        pass


class DecodedLines:
    """Iterate a binary file's lines as strictly decoded text, counting them.

    A byte order mark at the start is dropped. ``number`` is the physical line last yielded;
    ``row`` is kept up to date by the consumer (``None`` while it reads a header; -1 when it
    counts no records) so that a decoding error names the record as well as the line.
    ``detected`` says the encoding was detected rather than given, which the error message
    mentions.
    """

    def __init__(self, handle: IO[bytes], path: Path, encoding: str, *, detected: bool) -> None:
        self._handle = handle
        self._path = path
        self.encoding = check_encoding(encoding)
        self._detected = detected
        self.number = 0  # physical lines read so far
        self.row: int | None = None  # record being read; None while reading the header

    def __iter__(self) -> Iterator[str]:
        if self.encoding in _WIDE:
            return self._wide_lines()
        return self._byte_lines()

    # ------------------------------------------------------------------ byte-oriented codecs

    def _byte_lines(self) -> Iterator[str]:
        # UTF-8, the common case, decodes each line whole (bytes.decode, no per-line Python
        # call); other codecs go through an incremental decoder, which carries the state of
        # stateful ones (ISO-2022, HZ) from line to line.
        decoder = codecs.getincrementaldecoder(self.encoding)("strict")
        utf8 = self.encoding == "utf-8"
        raw = b""
        for raw in self._handle:
            self.number += 1
            if self.number == 1 and utf8 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            try:
                yield raw.decode("utf-8") if utf8 else decoder.decode(raw)
            except UnicodeDecodeError as exc:
                raise self._line_error(raw, exc.start, exc.end) from None
        try:  # the file ends inside a character
            tail = decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise self._line_error(raw, len(raw) - len(exc.object) + exc.start, len(raw)) from None
        if tail:
            yield tail

    def _line_error(self, raw: bytes, start: int, end: int) -> DataError:
        before = raw[max(0, start - 24) : start].decode(self.encoding, "replace")
        return self._error(self.number, self.row, raw[start:end], start, before, raw)

    # ------------------------------------------------------------------ UTF-16 and UTF-32

    def _wide_lines(self) -> Iterator[str]:
        codec = self._endian_codec()
        decoder = codecs.getincrementaldecoder(codec)("strict")
        pending = ""  # decoded text of the line being assembled
        first = True
        while True:
            chunk = self._handle.read(_CHUNK)
            error = None
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:  # hand over the lines before it first
                error, text = exc, bytes(exc.object[: exc.start]).decode(codec, "replace")
            if first and text:
                text, first = text.removeprefix("\ufeff"), False
            parts = (pending + text).split("\n")
            pending = parts.pop()
            for part in parts:
                self.number += 1
                yield part + "\n"
            if error is not None:
                raise self._wide_error(codec, pending, error)
            if not chunk:
                break
        if pending:
            self.number += 1
            yield pending

    def _endian_codec(self) -> str:
        """The byte-order-explicit codec of the file, its byte order mark skipped."""
        if self.encoding not in ("utf-16", "utf-32"):
            return self.encoding  # -le / -be given: a leading U+FEFF is dropped after decoding
        width = 2 if self.encoding == "utf-16" else 4
        bom = self._handle.read(width)
        little = codecs.BOM_UTF16_LE if width == 2 else codecs.BOM_UTF32_LE
        big = codecs.BOM_UTF16_BE if width == 2 else codecs.BOM_UTF32_BE
        if bom not in (little, big):
            self._handle.seek(0)  # no mark: little-endian, what Windows writes
        return f"{self.encoding}-{'be' if bom == big else 'le'}"

    def _wide_error(self, codec: str, pending: str, exc: UnicodeDecodeError) -> DataError:
        """The error at ``exc`` once the lines before it have been read (``pending``: the
        start of its own line)."""
        bad = bytes(exc.object[exc.start : exc.end])
        start = len(pending.encode(codec))
        return self._error(self.number + 1, self.row, bad, start, pending[-24:], None)

    # ------------------------------------------------------------------ the message

    def _likely(self) -> tuple[str, ...]:
        """The encoding detected from the file's start, when it was not the one read."""
        if self._detected:
            return ()
        try:
            with open(self._path, "rb") as handle:
                sample = handle.read(SAMPLE_BYTES)
        except OSError:
            return ()
        found = detect_encoding(sample, complete=len(sample) < SAMPLE_BYTES)
        return () if found is None else (found,)

    def _error(
        self, line: int, row: int | None, bad: bytes, start: int, before: str, raw: bytes | None
    ) -> DataError:
        """One sentence: file, line, record (``None``: the header; -1: not known), the bytes
        and where in the line, and the ``--encoding`` that reads the line ``raw`` (when
        given)."""
        name = "UTF-8" if self.encoding in _UTF8 else self.encoding
        after = f" after {before.strip()!r}" if before.strip() else ""
        record = "" if row == -1 else " (the header)" if row is None else f" (row {row})"
        how = " (detected from the start of the file)" if self._detected else ""
        candidates = [] if raw is None else encoding_candidates(raw, self.encoding, self._likely())
        if candidates:
            others = f" (or {', '.join(candidates[1:])})" if len(candidates) > 1 else ""
            fix = (
                f"the text looks like {candidates[0]}{others}: pass --encoding {candidates[0]}, "
                "or re-save the file as UTF-8"
            )
        elif raw is None:  # UTF-16/32: a lone surrogate or a cut character
            fix = (
                "the file is damaged here or in another encoding: re-save it as UTF-8, or pass "
                "--encoding with its real encoding"
            )
        else:
            fix = (
                "pass --encoding with the file's real encoding (for example "
                f"{_EXAMPLES}), or re-save it as UTF-8"
            )
        return DataError(
            f"{self._path} line {line}{record}: bytes {bad!r} at byte {start + 1} of the "
            f"line{after} are not valid {name}{how}; {fix}"
        )
