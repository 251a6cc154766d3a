"""Read texts and labels from CSV, TSV, JSONL and Parquet tables, with one-sentence errors.

:func:`read_table` loads a whole table into a :class:`LabeledTexts` (training, evaluation);
:func:`iter_table_chunks` streams the text column in bounded memory (prediction on files larger
than memory). Both check what users most often get wrong — the column names, empty texts,
missing labels, bytes that are not UTF-8 — and say where (file, row, line) and how to fix it,
naming the command-line flags (``--text-col``, ``--label-col``, ``--skip-empty``) since the
command line shows these messages verbatim.

Example::

    data = read_table("reviews.csv", text_col="review", label_col="sentiment")
    classes = check_classes(data.labels, data.source)
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rnnlab.data.formats import ColumnBatch, TableStream, open_table
from rnnlab.data.labels import Label, normalize_labels
from rnnlab.data.messages import did_you_mean, have, quote_list, where_indices
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
            header is not a row), so that later messages can point back into the file.
        dropped_empty: how many rows with empty or missing text ``skip_empty`` dropped.
    """

    texts: list[str]
    labels: list[Label] | None
    source: str
    row_numbers: list[int] = field(default_factory=list)
    dropped_empty: int = 0

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
) -> LabeledTexts:
    """Read a text column and a label column from a CSV, TSV, JSONL or Parquet table.

    Args:
        path: the table; its suffix (``.csv .tsv .jsonl .ndjson .parquet``) gives the format.
        text_col: name of the text column (``--text-col``).
        label_col: name of the label column (``--label-col``); ``None`` reads no labels.
        format: ``"csv"``, ``"tsv"``, ``"jsonl"`` or ``"parquet"`` to override the suffix.
        skip_empty: drop rows whose text is empty, blank or missing (``--skip-empty``) and
            count them in ``dropped_empty``; otherwise such rows are an error.
        require_labels: if false, a table without ``label_col`` gives ``labels=None``
            (prediction input) instead of an error. A label column that exists must still be
            complete.

    Returns:
        :class:`LabeledTexts`. Labels keep their type: whole numbers become ``int``.

    Raises:
        RnnlabFileNotFoundError: the file does not exist.
        DataError: unknown format or column, empty table, empty text, missing label,
            undecodable bytes, broken quoting or JSON — each naming the file and rows.
    """
    with open_table(path, format) as table:
        _check_column(table, text_col, "--text-col", "text")
        if label_col is not None and label_col not in table.columns:
            if require_labels:
                _check_column(table, label_col, "--label-col", "label")
            label_col = None
        names = [text_col] if label_col is None else [text_col, label_col]
        batches = list(table.batches(names))
    rows = [r for b in batches for r in b.rows]
    lines = None if table.format == "parquet" else [n for b in batches for n in b.lines or []]
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
    return LabeledTexts(texts, labels, source, rows, dropped)


def iter_table_chunks(
    path: str | Path,
    text_col: str = "text",
    *,
    chunk_rows: int = 10_000,
    format: str | None = None,
    skip_empty: bool = False,
) -> Iterator[TextChunk]:
    """Stream the text column of a table in chunks of at most ``chunk_rows`` rows.

    Memory stays bounded by the chunk size whatever the file size: CSV/TSV and JSONL are read
    line by line, Parquet one batch at a time. Each chunk carries the row numbers of its texts
    so that outputs can be matched back to the input. Errors are those of :func:`read_table`;
    an empty text is reported with the rows of the chunk where it was found (the rest of the
    file is not read first).
    """
    if chunk_rows < 1:
        raise ValueRangeError(f"chunk_rows must be at least 1, got {chunk_rows}")
    with open_table(path, format, batch_rows=chunk_rows) as table:
        _check_column(table, text_col, "--text-col", "text")
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


def _check_column(table: TableStream, name: str, flag: str, role: str) -> None:
    if not table.columns:
        raise DataError(
            f"{table.path}: the file is empty (no header and no rows); expected a table with "
            f"a {role} column {name!r}"
        )
    if name not in table.columns:
        what = "object keys" if table.format == "jsonl" else "columns"
        raise DataError(
            f"{table.path}: no {role} column {name!r}; the {what} are "
            f"{quote_list(table.columns)}{did_you_mean(name, table.columns)} — "
            f"choose the {role} column with {flag}"
        )


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
