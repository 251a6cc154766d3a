"""Low-level table access: tell the format, read columns in batches, locate every record.

One streaming reader per format, all yielding :class:`ColumnBatch` objects (a few thousand
records each) so that memory stays bounded however large the file is:

- **CSV / TSV** — Python's ``csv`` module fed one strictly decoded line at a time
  (:class:`~rnnlab.data.encodings.DecodedLines`: UTF-8, UTF-16, GB18030, Big5, cp1252, …,
  detected from the file's first 64 KB unless ``encoding`` is given). It handles quoted
  fields that span lines, and because we hand it the lines ourselves we know the exact line
  where each record starts and the exact line of any undecodable byte. (pyarrow's CSV reader
  is somewhat faster, but reports neither the record nor the line of a bad byte or a broken
  quote; precise messages are worth the fraction of a second.) TSV follows the same quoting
  rules as CSV (what pandas, pyarrow and spreadsheets write). A CSV file's delimiter — ``,``
  ``;`` tab or ``|`` — is told from its first lines (:func:`sniff_delimiter`) unless given.
- **JSONL** — one JSON object per line, parsed with :mod:`json`, decoded as CSV is.
- **Parquet** — pyarrow, one row group batch at a time, only the requested columns.
- **xlsx** — openpyxl's read-only mode, one sheet (the first unless ``sheet`` names one),
  row by row. (pandas' ``read_excel`` uses the same openpyxl, but pandas is not a core
  dependency, it loads the whole sheet, and it drops the sheet's row numbers.)

Row numbers count data records from 1 (the header is not a row; blank lines are skipped),
except in workbooks, where they are the sheet's own row numbers (the header usually on row
1), the numbers a user sees in the spreadsheet; line numbers are the file's physical lines,
for formats that have them. Reading options apply to the formats they concern — the
encoding to text formats, the delimiter to CSV and TSV, the sheet to workbooks — so one
setting can serve a run's training, validation and test files of different formats.
"""

from __future__ import annotations

import contextlib
import csv
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnnlab.data.encodings import AUTO, SAMPLE_BYTES, DecodedLines, check_encoding, resolve_encoding
from rnnlab.data.messages import quote_list
from rnnlab.errors import ConfigError, DataError, MissingDependencyError, RnnlabFileNotFoundError

__all__ = [
    "DELIMITERS",
    "FORMATS",
    "SUFFIXES",
    "TEXT_FORMATS",
    "ColumnBatch",
    "TableStream",
    "check_delimiter",
    "detect_format",
    "open_table",
    "sniff_delimiter",
]

FORMATS: tuple[str, ...] = ("csv", "tsv", "jsonl", "parquet", "xlsx")
TEXT_FORMATS: tuple[str, ...] = ("csv", "tsv", "jsonl")  # those an encoding applies to
SUFFIXES: dict[str, str] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
}
# The delimiters sniff_delimiter chooses among, in order of preference on ties.
DELIMITERS: tuple[str, ...] = (",", "\t", ";", "|")
_DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
_SNIFF_LINES = 50
_EXAMPLE_JSON = '{"text": "…", "label": "pos"}'


@dataclass
class ColumnBatch:
    """A run of consecutive records: their row numbers, start lines and requested columns.

    ``values[name][i]`` is the raw value of column ``name`` in record ``rows[i]``: a string for
    CSV/TSV, any JSON value for JSONL, a Python scalar for Parquet, a cell's value (text,
    number, date) for workbooks; ``None`` when absent. ``lines`` is ``None`` for formats
    without lines (Parquet, workbooks).
    """

    rows: list[int]
    lines: list[int] | None
    values: dict[str, list[object]]


@dataclass
class TableStream:
    """An opened table: the columns it declares and a way to stream batches of records.

    ``columns`` is the CSV/TSV header, the Parquet schema, the keys of the first JSONL
    object, or a sheet's first non-blank row. ``batches(names)`` yields :class:`ColumnBatch`
    objects holding those columns. ``encoding`` is the text encoding read (detected or
    given; ``None`` for Parquet and workbooks), ``delimiter`` that of CSV/TSV.
    """

    path: Path
    format: str
    columns: list[str]
    batches: Callable[[Sequence[str]], Iterator[ColumnBatch]]
    encoding: str | None = None
    delimiter: str | None = None


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


def check_delimiter(delimiter: str | None) -> str | None:
    """The one-character delimiter that ``delimiter`` names (``"tab"``, ``"\\t"``, ``";"``), or
    ``None`` for ``"auto"``, ``""`` and ``None`` (sniffed); anything else is one sentence."""
    if delimiter is None or delimiter in ("", AUTO):
        return None
    value = _DELIMITER_NAMES.get(delimiter.lower(), delimiter)
    if len(value) != 1 or value in '\r\n"':
        raise ConfigError(
            f"--delimiter {delimiter!r}: expected one character such as ';' or '|', 'tab', "
            "or auto to tell it from the file."
        )
    return value


def sniff_delimiter(text: str, *, complete: bool = False) -> str:
    """The delimiter of a CSV file whose start is ``text`` (all of it when ``complete``).

    Each of :data:`DELIMITERS` parses the first lines with the ``csv`` module (so delimiters
    inside quoted fields do not count); a candidate must split the header into two columns or
    more, and the one that gives the most records the header's width wins, ties going to the
    earlier in :data:`DELIMITERS`. ``,`` when none splits the header (one column). Counting
    whole records is steadier than :class:`csv.Sniffer`, which guesses from character
    frequencies, can pick letters, and raises on samples it cannot decide.
    """
    lines = text.split("\n")
    if not complete and len(lines) > 1:
        lines.pop()  # cut mid-line
    sample = [line + "\n" for line in lines[:_SNIFF_LINES]]
    best, best_share = ",", -1.0
    for delimiter in DELIMITERS:
        try:
            records = [r for r in csv.reader(sample, delimiter=delimiter) if r]
        except csv.Error:
            continue
        if not records or len(records[0]) < 2:
            continue
        width, rest = len(records[0]), records[1:]
        share = sum(len(r) == width for r in rest) / len(rest) if rest else 1.0
        if share > best_share:
            best, best_share = delimiter, share
    return best


@contextlib.contextmanager
def open_table(
    path: str | Path,
    format: str | None = None,
    *,
    batch_rows: int = 8192,
    encoding: str | None = AUTO,
    delimiter: str | None = None,
    sheet: str | int | None = None,
) -> Iterator[TableStream]:
    """Open ``path`` for streaming; the file stays open inside the ``with`` block.

    Args:
        path: the table; its suffix gives the format unless ``format`` is given.
        format: one of :data:`FORMATS`, overriding the suffix.
        batch_rows: records per :class:`ColumnBatch`.
        encoding: text formats: a Python codec name, or ``"auto"`` to detect it
            (:func:`~rnnlab.data.encodings.detect_encoding`).
        delimiter: CSV and TSV: one character (or ``"tab"``); ``None``/``"auto"``: tab for
            TSV, sniffed for CSV (:func:`sniff_delimiter`).
        sheet: workbooks: a sheet name or 0-based index; ``None``: the first sheet.
    """
    path = Path(path)
    if not path.exists():
        raise RnnlabFileNotFoundError(
            f"{path}: no such file; check the path (relative paths start at {Path.cwd()})"
        )
    if path.is_dir():
        raise DataError(f"{path}: is a directory, expected a table file ({', '.join(SUFFIXES)})")
    fmt = detect_format(path, format)
    given_encoding = check_encoding(encoding)
    given_delimiter = check_delimiter(delimiter)
    if fmt == "parquet":
        yield _open_parquet(path, batch_rows)
        return
    if fmt == "xlsx":
        workbook = _load_workbook(path)
        try:
            yield _open_xlsx(path, workbook, sheet, batch_rows)
        finally:
            workbook.close()
        return
    with open(path, "rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
        complete = len(sample) < SAMPLE_BYTES
        chosen = resolve_encoding(sample, given_encoding, path, complete=complete)
        handle.seek(0)
        lines = DecodedLines(handle, path, chosen, detected=given_encoding == AUTO)
        if fmt == "jsonl":
            yield _open_jsonl(path, lines, batch_rows)
            return
        if given_delimiter is None and fmt == "csv":
            text = sample.decode(lines.encoding, "replace").removeprefix("\ufeff")
            given_delimiter = sniff_delimiter(text, complete=complete)
        yield _open_csv(path, fmt, lines, batch_rows, given_delimiter or "\t")


def _open_csv(
    path: Path, fmt: str, lines: DecodedLines, batch_rows: int, delimiter: str
) -> TableStream:
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

    return TableStream(path, fmt, columns, batches, lines.encoding, delimiter)


def _csv_records(
    path: Path, reader: Iterator[list[str]], lines: DecodedLines
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


def _csv_error(path: Path, exc: csv.Error, start: int, lines: DecodedLines, row: int) -> DataError:
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


def _open_jsonl(path: Path, lines: DecodedLines, batch_rows: int) -> TableStream:
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

    return TableStream(path, "jsonl", columns, batches, lines.encoding)


def _jsonl_objects(path: Path, lines: DecodedLines) -> Iterator[tuple[int, int, dict]]:
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


def _load_workbook(path: Path) -> Any:
    try:
        import openpyxl
    except ImportError:
        raise MissingDependencyError(
            f"{path}: reading .xlsx workbooks needs openpyxl; install it with: pip install openpyxl"
        ) from None
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, InvalidFileException, KeyError, …
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise DataError(
            f"{path}: not a readable .xlsx workbook ({reason}); save it again from the "
            "spreadsheet program as .xlsx, or export the sheet as CSV"
        ) from None


def _open_xlsx(path: Path, workbook: Any, sheet: str | int | None, batch_rows: int) -> TableStream:
    worksheet = _worksheet(path, workbook, sheet)
    worksheet.reset_dimensions()  # read every row, whatever size the file claims
    rows = (
        (number, values)
        for number, values in enumerate(worksheet.iter_rows(min_row=1, values_only=True), 1)
        if any(not _blank(v) for v in values)
    )
    header = next(rows, None)
    columns = [] if header is None else _header_names(header[1])

    def batches(names: Sequence[str]) -> Iterator[ColumnBatch]:
        index = [_column_index(path, columns, name) for name in names]
        for chunk in _chunked(rows, batch_rows):
            values: dict[str, list[object]] = {name: [] for name in names}
            for _, cells in chunk:
                for name, i in zip(names, index, strict=True):
                    values[name].append(cells[i] if i < len(cells) else None)
            yield ColumnBatch(rows=[n for n, _ in chunk], lines=None, values=values)

    return TableStream(path, "xlsx", columns, batches)


def _worksheet(path: Path, workbook: Any, sheet: str | int | None) -> Any:
    """The sheet named ``sheet``, or at 0-based position ``sheet``; the first for ``None``."""
    sheets = workbook.worksheets
    names = [ws.title for ws in sheets]
    if sheet is None or sheet == "":
        if not sheets:
            raise DataError(f"{path}: the workbook has no worksheet; add one with the data")
        return sheets[0]
    if str(sheet) in names:
        return sheets[names.index(str(sheet))]
    text = str(sheet).strip()
    if text.isdigit() and int(text) < len(sheets):
        return sheets[int(text)]
    raise DataError(
        f"{path}: no sheet {sheet!r}; the sheets are {quote_list(names)} — pass --sheet with "
        f"one of these names or a 0-based index (0 to {len(sheets) - 1})"
    )


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _header_names(cells: Sequence[object]) -> list[str]:
    """A header row's cells as column names; trailing empty cells dropped."""
    names = ["" if v is None else str(v).strip() for v in cells]
    while names and not names[-1]:
        names.pop()
    return names


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
