"""Read texts and labels from CSV, TSV, JSONL, Parquet and xlsx tables, with one-sentence errors.

:func:`read_table` loads a whole table into a :class:`LabeledTexts` (training, evaluation);
:func:`iter_table_chunks` streams the text column in bounded memory (prediction on files larger
than memory). Both check what users most often get wrong — the column names, empty texts,
missing labels, bytes that are not in the file's encoding — and say where (file, row, line)
and how to fix it, naming the command-line flags (``--text-col``, ``--label-col``,
``--skip-empty``, ``--encoding``) since the command line shows these messages verbatim. A
column that is not there is answered with the columns that look like the text (long strings)
and the label (few distinct values), both at once, as the flags that choose them.

Text files are read in the encoding detected from their first bytes (UTF-8, UTF-16, GB18030,
Big5, cp1252, …; :mod:`rnnlab.data.encodings`) unless ``encoding`` names one; CSV delimiters
(``,`` ``;`` tab ``|``) are told from the first lines unless ``delimiter`` names one; a
workbook's first sheet is read unless ``sheet`` names another.

Example::

    data = read_table("reviews.csv", text_col="review", label_col="sentiment")
    classes = check_classes(data.labels, data.source)
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rnnlab.data.encodings import AUTO
from rnnlab.data.formats import DELIMITERS, ColumnBatch, TableStream, open_table
from rnnlab.data.labels import Label, normalize_labels
from rnnlab.data.messages import close_match, have, quote_list, shell_word, where_indices
from rnnlab.errors import DataError, ShapeError, ValueRangeError

__all__ = ["LabeledTexts", "TextChunk", "iter_table_chunks", "read_table"]


@dataclass
class LabeledTexts:
    """Texts with their labels (``None`` when the table has none) and where they came from.

    Attributes:
        texts: the documents, exactly as stored.
        labels: one ``str`` or ``int`` label per text, or ``None`` for unlabelled data.
        source: the file (or dataset split) the rows came from, for messages.
        row_numbers: for each text, its row in the source (data rows count from 1; the
            header is not a row; in a workbook, the sheet's own row numbers), so that later
            messages can point back into the file.
        dropped_empty: how many rows with empty or missing text ``skip_empty`` dropped.
        encoding: the text encoding the file was read in (detected or given); ``None`` for
            Parquet, workbooks and built-in datasets.
    """

    texts: list[str]
    labels: list[Label] | None
    source: str
    row_numbers: list[int] = field(default_factory=list)
    dropped_empty: int = 0
    encoding: str | None = None

    def __post_init__(self) -> None:
        if not self.row_numbers:
            self.row_numbers = list(range(1, len(self.texts) + 1))
        for name in ("labels", "row_numbers"):
            other = getattr(self, name)
            if other is not None and len(other) != len(self.texts):
                raise ShapeError(
                    f"LabeledTexts({self.source!r}): {len(self.texts)} texts but "
                    f"{len(other)} {name}; give one per text"
                )

    def __len__(self) -> int:
        return len(self.texts)


@dataclass
class TextChunk:
    """A run of consecutive texts from a streamed table and the rows they came from."""

    texts: list[str]
    row_numbers: list[int]
    dropped_empty: int = 0

    def __len__(self) -> int:
        return len(self.texts)


def read_table(
    path: str | Path,
    text_col: str = "text",
    label_col: str | None = "label",
    format: str | None = None,
    *,
    skip_empty: bool = False,
    require_labels: bool = True,
    encoding: str | None = AUTO,
    delimiter: str | None = None,
    sheet: str | int | None = None,
) -> LabeledTexts:
    """Read a text column and a label column from a CSV, TSV, JSONL, Parquet or xlsx table.

    Args:
        path: the table; its suffix (``.csv .tsv .jsonl .ndjson .parquet .xlsx``) gives the
            format.
        text_col: name of the text column (``--text-col``).
        label_col: name of the label column (``--label-col``); ``None`` reads no labels.
        format: ``"csv"``, ``"tsv"``, ``"jsonl"``, ``"parquet"`` or ``"xlsx"`` to override
            the suffix.
        skip_empty: drop rows whose text is empty, blank or missing (``--skip-empty``) and
            count them in ``dropped_empty``; otherwise such rows are an error.
        require_labels: if false, a table without ``label_col`` gives ``labels=None``
            (prediction input) instead of an error. A label column that exists must still be
            complete.
        encoding: text formats: a Python codec name (``"gb18030"``), or ``"auto"`` to detect
            it from the file's first 64 KB (``--encoding``); other formats have none.
        delimiter: CSV/TSV: one character or ``"tab"``; ``None`` or ``"auto"`` tells it from
            the first lines of a CSV file (TSV: tab) (``--delimiter``).
        sheet: workbooks: a sheet name or 0-based index; ``None``: the first (``--sheet``).

    Returns:
        :class:`LabeledTexts`, with the ``encoding`` read. Labels keep their type: whole
        numbers become ``int``.

    Raises:
        RnnlabFileNotFoundError: the file does not exist.
        ConfigError: an unknown encoding or a delimiter that is not one character.
        DataError: unknown format, column or sheet, empty table, empty text, missing label,
            undecodable bytes, broken quoting or JSON — each naming the file and rows.
    """
    reading = {"encoding": encoding, "delimiter": delimiter, "sheet": sheet}
    with open_table(path, format, **reading) as table:
        wanted = [("text", text_col, "--text-col")]
        if label_col is not None and label_col not in table.columns and not require_labels:
            label_col = None
        if label_col is not None:
            wanted.append(("label", label_col, "--label-col"))
        _check_columns(table, wanted)
        names = [text_col] if label_col is None else [text_col, label_col]
        batches = list(table.batches(names))
    rows = [r for b in batches for r in b.rows]
    lines = None if any(b.lines is None for b in batches) else [n for b in batches for n in b.lines]
    texts_raw = [v for b in batches for v in b.values[text_col]]
    source = str(table.path)
    if not rows:
        raise DataError(
            f"{source}: the table has columns {quote_list(table.columns)} but no rows; "
            f"check that the file is complete"
        )
    texts, keep = _clean_texts(texts_raw, rows, lines, source, text_col, skip_empty)
    if not texts:
        raise DataError(
            f"{source}: all {len(rows)} rows have empty text in column {text_col!r}; "
            f"check --text-col"
        )
    dropped = len(rows) - len(keep)
    if dropped:
        rows = [rows[i] for i in keep]
        lines = [lines[i] for i in keep] if lines is not None else None
    labels = None
    if label_col is not None:
        raw = [v for b in batches for v in b.values[label_col]]
        raw = [raw[i] for i in keep] if dropped else raw
        labels = normalize_labels(raw, rows, lines, source=source, column=label_col)
    return LabeledTexts(texts, labels, source, rows, dropped, table.encoding)


def iter_table_chunks(
    path: str | Path,
    text_col: str = "text",
    *,
    chunk_rows: int = 10_000,
    format: str | None = None,
    skip_empty: bool = False,
    encoding: str | None = AUTO,
    delimiter: str | None = None,
    sheet: str | int | None = None,
) -> Iterator[TextChunk]:
    """Stream the text column of a table in chunks of at most ``chunk_rows`` rows.

    Memory stays bounded by the chunk size whatever the file size: CSV/TSV and JSONL are read
    line by line, Parquet one batch at a time, workbooks row by row. Each chunk carries the
    row numbers of its texts so that outputs can be matched back to the input. ``encoding``,
    ``delimiter`` and ``sheet`` are those of :func:`read_table`, and so are the errors; an
    empty text is reported with the rows of the chunk where it was found (the rest of the
    file is not read first).
    """
    if chunk_rows < 1:
        raise ValueRangeError(f"chunk_rows must be at least 1, got {chunk_rows}")
    reading = {"encoding": encoding, "delimiter": delimiter, "sheet": sheet}
    with open_table(path, format, batch_rows=chunk_rows, **reading) as table:
        _check_columns(table, [("text", text_col, "--text-col")])
        seen = 0
        for batch in table.batches([text_col]):
            seen += len(batch.rows)
            yield _text_chunk(batch, text_col, str(table.path), skip_empty)
        if not seen:
            raise DataError(
                f"{table.path}: the table has columns {quote_list(table.columns)} but no rows; "
                f"check that the file is complete"
            )


def _text_chunk(batch: ColumnBatch, text_col: str, source: str, skip_empty: bool) -> TextChunk:
    texts, keep = _clean_texts(
        batch.values[text_col], batch.rows, batch.lines, source, text_col, skip_empty
    )
    rows = batch.rows if len(keep) == len(batch.rows) else [batch.rows[i] for i in keep]
    return TextChunk(texts, rows, len(batch.rows) - len(keep))


def _check_columns(table: TableStream, wanted: list[tuple[str, str, str]]) -> None:
    """One sentence for every ``(role, name, flag)`` whose column ``name`` is missing, with
    the columns that look like each (:func:`_guess_columns`) as the flags that choose them."""
    if not table.columns:
        roles = " and ".join(f"a {role} column {name!r}" for role, name, _ in wanted)
        raise DataError(
            f"{table.path}: the file is empty (no header and no rows); expected a table with "
            f"{roles}"
        )
    missing = [(role, name, flag) for role, name, flag in wanted if name not in table.columns]
    if not missing:
        return
    absent = " and ".join(f"no {role} column {name!r}" for role, name, _ in missing)
    delimiter = _header_delimiter(table, [name for _, name, _ in wanted])
    if delimiter is not None:
        flag = "tab" if delimiter == "\t" else shell_word(delimiter)
        raise DataError(
            f"{table.path}: {absent}; the only column is {table.columns[0]!r}, which looks "
            f"delimited by {delimiter!r} — pass --delimiter {flag}"
        )
    taken = {name for _, name, _ in wanted if name in table.columns}
    guesses, by_name = _guess_columns(table, [(role, name) for role, name, _ in missing], taken)
    what = "object keys" if table.format == "jsonl" else "columns"
    found = [role for role, _, _ in missing if role in guesses]
    if not found:
        looks = ""
    elif set(found) <= by_name:  # spelled nearly like the names asked for
        looks = f"; did you mean {' and '.join(repr(guesses[role]) for role in found)}?"
    else:
        looks = "; " + " and ".join(
            f"the {role} {'looks like column ' if i == 0 else 'like '}{guesses[role]!r}"
            for i, role in enumerate(found)
        )
    flags = " ".join(f"{flag} {shell_word(guesses[r])}" for r, _, flag in missing if r in guesses)
    unguessed = [(role, flag) for role, _, flag in missing if role not in guesses]
    choose = " and ".join(f"the {role} column with {flag}" for role, flag in unguessed)
    if flags and choose:
        fix = f"pass {flags} and choose {choose}"
    else:
        fix = f"pass {flags}" if flags else f"choose {choose}"
    raise DataError(
        f"{table.path}: {absent}; the {what} are {quote_list(table.columns)}{looks} — {fix}"
    )


def _header_delimiter(table: TableStream, names: list[str]) -> str | None:
    """The delimiter that splits a CSV's one-column header into the columns asked for (the
    file was read with another delimiter), or ``None``."""
    if table.format not in ("csv", "tsv") or len(table.columns) != 1:
        return None
    for delimiter in DELIMITERS:
        parts = [part.strip() for part in table.columns[0].split(delimiter)]
        if len(parts) > 1 and any(name in parts for name in names):
            return delimiter
    return None


_SAMPLE_VALUES = 1000
_TEXT_NAMES = ("text", "review", "sentence", "content", "comment", "body", "document", "tweet")
_LABEL_NAMES = ("label", "class", "category", "sentiment", "target", "stance", "tag", "y")


def _guess_columns(
    table: TableStream, missing: list[tuple[str, str]], taken: set[str]
) -> tuple[dict[str, str], set[str]]:
    """Role → the column that looks like it, for the missing ``(role, name)`` pairs, and the
    roles whose guess is a close spelling of the name asked for.

    A close spelling of the name asked for wins (``Text`` for ``text``). Otherwise the first
    rows decide: the text is the column of mostly strings with the longest mean length; the
    label the column with the fewest distinct short values, at least two and at most half the
    rows (an id has as many as rows), ties going to label-like names. ``taken`` columns (the
    ones named that exist) are never proposed."""
    columns = [c for c in dict.fromkeys(table.columns) if table.columns.count(c) == 1]
    free = [c for c in columns if c not in taken]
    guesses: dict[str, str] = {}
    for role, name in missing:
        match = close_match(name, free)
        if match is not None:
            guesses[role] = match
            free.remove(match)
    by_name = set(guesses)
    if len(guesses) == len(missing) or not free:
        return guesses, by_name
    try:
        batch = next(table.batches(free), None)
    except DataError:  # a malformed record early on: no guess from the values
        return guesses, by_name
    if batch is None:
        return guesses, by_name
    values = {c: [v for v in batch.values[c][:_SAMPLE_VALUES] if not _missing(v)] for c in free}
    roles = [role for role, _ in missing if role not in guesses]
    if "text" in roles:
        text = _text_like(values)
        if text is not None:
            guesses["text"] = text
            values.pop(text)
    if "label" in roles:
        label = _label_like(values)
        if label is not None:
            guesses["label"] = label
    return guesses, by_name


def _missing(value: object) -> bool:
    return (
        value is None
        or (isinstance(value, str) and not value.strip())
        or (isinstance(value, float) and math.isnan(value))
    )


def _text_like(values: dict[str, list[object]]) -> str | None:
    """The column of mostly (≥ 80 %) strings with the longest mean length (> 1 character)."""
    best, best_key = None, (0.0, 0)
    for column, column_values in values.items():
        strings = [v for v in column_values if isinstance(v, str)]
        if not strings or len(strings) < 0.8 * len(column_values):
            continue
        mean = sum(len(v) for v in strings) / len(strings)
        key = (mean, int(column.lower() in _TEXT_NAMES))
        if mean > 1 and len(set(strings)) > 1 and key > best_key:
            best, best_key = column, key
    return best


def _label_like(values: dict[str, list[object]]) -> str | None:
    """The column with the fewest distinct short values: between 2 and half the rows."""
    best, best_key = None, None
    for column, column_values in values.items():
        distinct = {str(v) for v in column_values}
        mean = sum(len(v) for v in distinct) / len(distinct) if distinct else 0
        if not 2 <= len(distinct) <= max(2, len(column_values) // 2) or mean > 30:
            continue
        key = (len(distinct), int(column.lower() not in _LABEL_NAMES))
        if best_key is None or key < best_key:
            best, best_key = column, key
    return best


def _clean_texts(
    values: Sequence[object],
    rows: Sequence[int],
    lines: Sequence[int] | None,
    source: str,
    column: str,
    skip_empty: bool,
) -> tuple[list[str], list[int]]:
    """Check the text values: return the kept texts and their indices into ``values``."""
    texts: list[str] = []
    keep: list[int] = []
    empty: list[int] = []
    for i, v in enumerate(values):
        if isinstance(v, bytes):
            v = _decode_cell(v, i, rows, source, column)
        if v is None or (isinstance(v, float) and math.isnan(v)):
            empty.append(i)
            continue
        if not isinstance(v, str):
            raise DataError(
                f"{source} {where_indices([i], rows, lines)}: column {column!r} holds "
                f"{type(v).__name__} value {v!r}, expected text; choose the text column "
                f"with --text-col"
            )
        if not v.strip():
            empty.append(i)
            continue
        texts.append(v)
        keep.append(i)
    if empty and not skip_empty:
        raise DataError(
            f"{source}: {len(empty)} of {len(values)} rows {have(len(empty))} empty or missing "
            f"text in column {column!r} ({where_indices(empty, rows, lines)}); fill them in, or "
            f"pass --skip-empty to drop them"
        )
    return texts, keep


def _decode_cell(value: bytes, i: int, rows: Sequence[int], source: str, column: str) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = value[exc.start : exc.end]
        raise DataError(
            f"{source} row {rows[i]}: bytes {bad!r} at byte {exc.start + 1} of column {column!r} "
            f"are not valid UTF-8; store the text as UTF-8"
        ) from None
