"""Low-level table access: tell the format, read columns in batches, locate every record.

One streaming reader per format, all yielding :class:`ColumnBatch` objects (a few thousand
records each) so that memory stays bounded however large the file is:

- **CSV / TSV** — Python's ``csv`` module fed one strictly decoded line at a time. It handles
  quoted fields that span lines, and because we hand it the lines ourselves we know the exact
  line where each record starts and the exact line of any undecodable byte. (pyarrow's CSV
  reader is somewhat faster, but reports neither the record nor the line of a bad byte or a
  broken quote; precise messages are worth the fraction of a second.)
  TSV follows the same quoting rules as CSV (what pandas, pyarrow and spreadsheets write).
- **JSONL** — one JSON object per line, parsed with :mod:`json`.
- **Parquet** — pyarrow, one row group batch at a time, only the requested columns.

Row numbers count data records from 1 (the header is not a row; blank lines are skipped);
line numbers are the file's physical lines, for formats that have them.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from rnnlab.errors import ConfigError, DataError, RnnlabFileNotFoundError

__all__ = [
    "FORMATS",
    "SUFFIXES",
    "ColumnBatch",
    "TableStream",
    "detect_format",
    "open_table",
]

FORMATS: tuple[str, ...] = ("csv", "tsv", "jsonl", "parquet")
SUFFIXES: dict[str, str] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
}
_EXAMPLE_JSON = '{"text": "…", "label": "pos"}'


@dataclass
class ColumnBatch:
    """A run of consecutive records: their row numbers, start lines and requested columns.

    ``values[name][i]`` is the raw value of column ``name`` in record ``rows[i]``: a string for
    CSV/TSV, any JSON value for JSONL, a Python scalar for Parquet; ``None`` when absent.
    """

    rows: list[int]
    lines: list[int] | None
    values: dict[str, list[object]]


@dataclass
class TableStream:
    """An opened table: the columns it declares and a way to stream batches of records.

    ``columns`` is the CSV/TSV header, the Parquet schema, or the keys of the first JSONL
    object. ``batches(names)`` yields :class:`ColumnBatch` objects holding those columns.
    """

    path: Path
    format: str
    columns: list[str]
    batches: Callable[[Sequence[str]], Iterator[ColumnBatch]]


def detect_format(path: str | Path, format: str | None = None) -> str:
    """The table format of ``path``: ``format`` if given, else from the file suffix."""
    if format is not None:
        name = format.lower().lstrip(".")
        name = SUFFIXES.get(f".{name}", name)
        if name not in FORMATS:
            raise ConfigError(
                f"format={format!r} is not a table format rnnlab reads; "
                f"expected one of {', '.join(FORMATS)}"
            )
        return name
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        got = f"suffix {suffix!r}" if suffix else "no suffix"
        raise DataError(
            f"{path}: cannot tell the table format from {got}; expected one of "
            f"{', '.join(SUFFIXES)} — rename the file or pass the format explicitly "
            f"(format='csv')"
        )
    return SUFFIXES[suffix]


@contextlib.contextmanager
def open_table(
    path: str | Path, format: str | None = None, *, batch_rows: int = 8192
) -> Iterator[TableStream]:
    """Open ``path`` for streaming; the file stays open inside the ``with`` block."""
    path = Path(path)
    if not path.exists():
        raise RnnlabFileNotFoundError(
            f"{path}: no such file; check the path (relative paths start at {Path.cwd()})"
        )
    if path.is_dir():
        raise DataError(f"{path}: is a directory, expected a table file ({', '.join(SUFFIXES)})")
    fmt = detect_format(path, format)
    if fmt == "parquet":
        yield _open_parquet(path, batch_rows)
        return
    with open(path, "rb") as handle:
        lines = _Lines(handle, path)
        if fmt == "jsonl":
            yield _open_jsonl(path, lines, batch_rows)
        else:
            yield _open_csv(path, fmt, lines, batch_rows)


class _Lines:
    """Iterate a binary file's lines as strictly decoded UTF-8 text, counting them.

    A UTF-8 byte order mark at the start is dropped. ``row`` is kept up to date by the
    consumer so that a decoding error can name the record as well as the line.
    """

    def __init__(self, handle: IO[bytes], path: Path) -> None:
        self._handle = handle
        self._path = path
        self.number = 0  # physical lines read so far
        self.row: int | None = None  # record being read; None while reading the header

    def __iter__(self) -> Iterator[str]:
        for raw in self._handle:
            self.number += 1
            if self.number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise self._decode_error(raw, exc) from None

    def _decode_error(self, raw: bytes, exc: UnicodeDecodeError) -> DataError:
        bad = raw[exc.start : exc.end]
        before = raw[max(0, exc.start - 24) : exc.start].decode("utf-8", "replace").strip()
        after = f" after {before!r}" if before else ""
        record = "the header" if self.row is None else f"row {self.row}"
        return DataError(
            f"{self._path} line {self.number} ({record}): bytes {bad!r} at byte {exc.start + 1} "
            f"of the line{after} are not valid UTF-8; re-save the file as UTF-8 "
            f"(for example: iconv -f latin1 -t utf-8 in.csv > out.csv)"
        )


def _open_csv(path: Path, fmt: str, lines: _Lines, batch_rows: int) -> TableStream:
    delimiter = "\t" if fmt == "tsv" else ","
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    records = _csv_records(path, reader, lines)
    header = next(records, None)
    columns = [] if header is None else header[2]

    def batches(names: Sequence[str]) -> Iterator[ColumnBatch]:
        index = [_column_index(path, columns, name) for name in names]
        width = len(columns)
        for chunk in _chunked(records, batch_rows):
            values: dict[str, list[object]] = {name: [] for name in names}
            for row, line, fields in chunk:
                if len(fields) > width and any(f.strip() for f in fields[width:]):
                    raise DataError(
                        f"{path} line {line} (row {row}): {len(fields)} fields but the header "
                        f"has {width} columns; quote fields that contain the delimiter "
                        f"({'a tab' if delimiter == chr(9) else repr(delimiter)})"
                    )
                for name, i in zip(names, index, strict=True):
                    values[name].append(fields[i] if i < len(fields) else None)
            yield ColumnBatch(
                rows=[r for r, _, _ in chunk], lines=[n for _, n, _ in chunk], values=values
            )

    return TableStream(path, fmt, columns, batches)


def _csv_records(
    path: Path, reader: Iterator[list[str]], lines: _Lines
) -> Iterator[tuple[int, int, list[str]]]:
    """Yield ``(row, start_line, fields)``; the header first with row 0; blank lines skipped."""
    row = 0  # the record being read: 0 is the header, data rows count from 1
    end = 0  # last physical line consumed by the previous record
    while True:
        start = end + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _csv_error(path, exc, start, lines, row) from None
        end = lines.number
        if not fields:
            continue
        yield row, start, fields
        row += 1
        lines.row = row


def _csv_error(path: Path, exc: csv.Error, start: int, lines: _Lines, row: int) -> DataError:
    record = f"row {row}" if row else "the header"
    message = str(exc)
    if "unexpected end of data" in message:
        return DataError(
            f"{path} line {start} ({record}): a quoted field opened here is never closed; "
            f'close the quote, and double any quote inside a quoted field ("")'
        )
    if "field larger than field limit" in message:
        return DataError(
            f"{path} line {start} ({record}): a field is longer than "
            f"{csv.field_size_limit():,} characters, usually the sign of an unclosed quote; "
            f"fix the quoting, or store very long texts as JSONL or Parquet"
        )
    if "expected after" in message:
        return DataError(
            f"{path} line {lines.number} ({record}): text follows the closing quote of a field; "
            f'quote the whole field and double the quotes inside it ("")'
        )
    return DataError(
        f"{path} line {start} ({record}): cannot parse the record ({message}); check its quoting"
    )


def _open_jsonl(path: Path, lines: _Lines, batch_rows: int) -> TableStream:
    objects = _jsonl_objects(path, lines)
    first = next(objects, None)
    columns = [] if first is None else list(first[2])

    def batches(names: Sequence[str]) -> Iterator[ColumnBatch]:
        for name in names:
            _column_index(path, columns, name)
        stream = objects if first is None else _prepend(first, objects)
        for chunk in _chunked(stream, batch_rows):
            values = {name: [obj.get(name) for _, _, obj in chunk] for name in names}
            yield ColumnBatch(
                rows=[r for r, _, _ in chunk], lines=[n for _, n, _ in chunk], values=values
            )

    return TableStream(path, "jsonl", columns, batches)


def _jsonl_objects(path: Path, lines: _Lines) -> Iterator[tuple[int, int, dict]]:
    """Yield ``(row, line, object)`` for each non-blank line."""
    row = 0
    lines.row = 1
    for text in lines:
        if not text.strip():
            continue
        row += 1
        lines.row = row + 1
        where = f"{path} line {lines.number} (row {row})"
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(
                f"{where}: not valid JSON ({exc.msg} at character {exc.colno}); each line "
                f"must hold one JSON object such as {_EXAMPLE_JSON}"
            ) from None
        if not isinstance(obj, dict):
            raise DataError(
                f"{where}: expected a JSON object such as {_EXAMPLE_JSON}, "
                f"got a JSON {type(obj).__name__}"
            )
        yield row, lines.number, obj


def _open_parquet(path: Path, batch_rows: int) -> TableStream:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, … for non-Parquet bytes
        raise DataError(
            f"{path}: not a readable Parquet file ({' '.join(str(exc).split())}); check the "
            "file, or give it the "
            f"suffix of its real format ({', '.join(SUFFIXES)})"
        ) from None
    columns = list(parquet.schema_arrow.names)

    def batches(names: Sequence[str]) -> Iterator[ColumnBatch]:
        for name in names:
            _column_index(path, columns, name)
        row = 0
        stream = parquet.iter_batches(batch_size=batch_rows, columns=list(dict.fromkeys(names)))
        while True:
            try:
                batch = next(stream, None)
                if batch is None:
                    return
                values = {name: batch.column(name).to_pylist() for name in names}
            except Exception as exc:  # a damaged page: ArrowInvalid, OSError, …
                reason = " ".join(str(exc).split())
                raise DataError(
                    f"{path}: the Parquet data after row {row} cannot be read ({reason}); the "
                    "file is damaged: write it again."
                ) from None
            n = batch.num_rows
            yield ColumnBatch(rows=list(range(row + 1, row + n + 1)), lines=None, values=values)
            row += n

    return TableStream(path, "parquet", columns, batches)


def _column_index(path: Path, columns: list[str], name: str) -> int:
    """Position of ``name`` in ``columns``; callers check existence first, this guards it."""
    if columns.count(name) > 1:
        raise DataError(
            f"{path}: column {name!r} appears {columns.count(name)} times in the header; "
            f"rename the copies so that each column name is unique"
        )
    if name not in columns:
        raise DataError(f"{path}: no column {name!r}")
    return columns.index(name)


def _chunked(items: Iterable, size: int) -> Iterator[list]:
    chunk: list = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _prepend(first: object, rest: Iterator) -> Iterator:
    yield first
    yield from rest
