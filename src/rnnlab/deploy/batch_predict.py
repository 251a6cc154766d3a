"""Streaming batch prediction: label a table larger than memory, resumably, in input order.

The input is read in chunks of ``chunk_rows`` rows (:func:`rnnlab.data.iter_table_chunks`:
CSV/TSV/JSONL line by line, Parquet batch by batch), so memory is bounded by one chunk
whatever the file size. Each chunk's predictions become one numbered part file, written
atomically, and only then recorded in the manifest::

    out.csv.parts/
      manifest.json        input and model fingerprints, settings, the committed parts
      part-000000.csv      rows of chunk 0 (no header)
      part-000001.csv      …

An interruption (Ctrl-C, a killed process, a full disk) leaves every committed part intact;
a part written but not yet in the manifest is simply redone. ``resume=True`` checks that
the input, the model and the settings are unchanged, skips the committed chunks without
running the model on them, and continues. When the last chunk is committed, the parts are
joined in order into a temporary sibling of ``out`` that replaces ``out`` atomically, and
the parts folder is removed: ``out`` is either absent, the previous file, or complete.

Bad input (an empty text, a broken quote) stops the job with the reader's one-sentence
error and removes the parts, since resuming needs an unchanged input anyway.

Besides tables, the input may be a plain text file (``.txt``, or ``format="text"`` for any
suffix; a ``.gz`` one is decompressed as it is read): one text per line, blank lines skipped,
each text's row number its line number.
It streams, commits and resumes like a table.

Output columns, in every format: ``text``, ``label``, then ``p_<label>`` for each label.
A task whose predictions are other columns (a translation) passes :class:`OutputColumns`:
its text column's name, its own columns and the function that fills them for a chunk; such
a job may also write ``format="text"``: the values of its one column, one line per input row.
A text input read with ``keep_blank=True`` keeps its blank lines as empty texts, so that
output row ``i`` belongs to input line ``i``.

Example::

    >>> import rnnlab
    >>> texts = ["a wonderful, moving film", "dull and far too long", "lovely acting", "dull plot"]
    >>> labels = ["pos", "neg", "pos", "neg"]
    >>> clf = rnnlab.TextClassifier(epochs=1, hidden_size=8).fit(texts * 5, labels * 5)
    >>> clf.save("films.safetensors")
    PosixPath('films.safetensors')
    >>> import csv
    >>> with open("big.csv", "w", newline="") as table:
    ...     csv.writer(table).writerows([["review"], *([text] for text in texts * 10)])
    >>> predictor = rnnlab.load("films.safetensors")
    >>> summary = predict_file(predictor, "big.csv", "labelled.csv", text_col="review")
    >>> summary.rows, summary.rows_per_s > 0
    (40, True)
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import hashlib
import io
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from rnnlab.data.encodings import AUTO, SAMPLE_BYTES, DecodedLines, resolve_encoding
from rnnlab.data.formats import FORMATS, SUFFIXES, detect_format
from rnnlab.data.tables import TextChunk, iter_table_chunks
from rnnlab.errors import (
    ConfigError,
    DataError,
    RnnlabError,
    RnnlabFileNotFoundError,
    ValueRangeError,
)
from rnnlab.fileio import atomic_open, atomic_write_json

__all__ = [
    "OUTPUT_FORMATS",
    "TEXT_FORMAT",
    "TEXT_NAMES",
    "BatchProgress",
    "BatchSummary",
    "OutputColumns",
    "default_text_col",
    "input_format",
    "iter_predictions",
    "iter_text_chunks",
    "output_format",
    "parts_dir",
    "predict_file",
    "predict_texts",
    "stream_csv",
    "text_lines",
    "write_csv_rows",
]

OUTPUT_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".parquet": "parquet"}
MANIFEST = "manifest.json"
MANIFEST_FORMAT = "rnnlab-batch-predict"
CHUNK_ROWS = 5000
TEXT_FORMAT = "text"  # one text per line
TEXT_NAMES = (TEXT_FORMAT, "txt")  # what --format accepts for it
TEXT_SUFFIX = ".txt"


@dataclass(frozen=True)
class BatchProgress:
    """Where a batch job stands after a chunk.

    Attributes:
        rows: input rows done so far, including those committed before a resume.
        total: rows in the input when the format says so up front (Parquet), else None.
        new_rows: input rows done by this process (excludes resumed ones).
        seconds: time this process has spent since it started.
        resumed_rows: rows skipped because an earlier run had committed them.
    """

    rows: int
    total: int | None
    new_rows: int
    seconds: float
    resumed_rows: int

    @property
    def rows_per_s(self) -> float:
        return self.new_rows / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class BatchSummary:
    """The finished job: output path, rows written, empty rows dropped, input rows skipped
    on resume, and the speed of this process (input rows per second)."""

    out: Path
    rows: int
    dropped_empty: int
    resumed_rows: int
    seconds: float
    rows_per_s: float


@dataclass(frozen=True)
class OutputColumns:
    """The output of a task that writes its own columns instead of a label and
    probabilities: the input text under ``text_name``, then ``names``, which ``predict``
    fills for a chunk of texts (one value per text for each name, in order).

    Example (a translation run)::

        OutputColumns(("translation",), lambda texts: {"translation": translate(texts)},
                      text_name="source")
    """

    names: tuple[str, ...]
    predict: Callable[[list[str]], dict[str, Sequence[Any]]]
    text_name: str = "text"


def parts_dir(out: str | os.PathLike[str]) -> Path:
    """The folder holding the committed parts of ``out`` while a job runs."""
    out = Path(out)
    return out.with_name(out.name + ".parts")


def output_format(out: str | os.PathLike[str]) -> str:
    """csv, jsonl or parquet, from the suffix of ``out``."""
    suffix = Path(out).suffix.lower()
    if suffix not in OUTPUT_FORMATS:
        raise ConfigError(
            f"--out {out}: cannot tell the output format from "
            f"{repr(suffix) if suffix else 'no suffix'}; name the file with one of "
            f"{', '.join(OUTPUT_FORMATS)}."
        )
    return OUTPUT_FORMATS[suffix]


def input_format(data: str | os.PathLike[str], format: str | None = None) -> str:
    """The input's format: ``text`` (``format`` text or txt, or a ``.txt`` file without a
    ``format``), else a table format (:func:`rnnlab.data.formats.detect_format`). An unknown
    suffix or format is one sentence naming ``--format`` and its choices."""
    choices = "|".join((*FORMATS, TEXT_FORMAT))
    if format is not None:
        name = format.lower().lstrip(".")
        if name in TEXT_NAMES:
            return TEXT_FORMAT
        if SUFFIXES.get(f".{name}", name) not in FORMATS:
            raise ConfigError(
                f"--format {format}: not a format rnnlab reads; pass --format {choices}."
            )
        return detect_format(data, name)
    suffix = Path(data).suffix.lower()
    if suffix == TEXT_SUFFIX:
        return TEXT_FORMAT
    if suffix not in SUFFIXES:
        if not Path(data).exists():
            raise RnnlabFileNotFoundError(
                f"{data}: no such file; check the path (relative paths start at {Path.cwd()})."
            )
        got = f"its suffix {suffix!r}" if suffix else "a name without a suffix"
        raise ConfigError(
            f"{data}: cannot tell the input format from {got}; rename the file or pass "
            f"--format {choices}."
        )
    return detect_format(data)


def text_lines(
    path: str | os.PathLike[str], encoding: str | None = AUTO, *, keep_blank: bool = False
) -> Iterator[tuple[int, str]]:
    """(line number, text) for each non-blank line of the text file ``path`` (every line with
    ``keep_blank``, a blank one as ``""``), without its line end, in ``encoding``
    (``"auto"``: detected, :mod:`rnnlab.data.encodings`); a leading byte order mark is
    dropped and a ``.gz`` file is decompressed. Read line by line (bounded memory); bytes that
    do not decode are one sentence naming the line and the encoding they look like."""
    path = Path(path)
    if not path.is_file():
        raise RnnlabFileNotFoundError(
            f"{path} does not exist; pass a text file with one text per line."
        )
    packed = path.suffix.lower() == ".gz"
    opener: Callable[..., IO[bytes]] = gzip.open if packed else open
    with opener(path, "rb") as handle:
        try:
            sample = handle.read(SAMPLE_BYTES)
            handle.seek(0)
            chosen = resolve_encoding(sample, encoding, path, complete=len(sample) < SAMPLE_BYTES)
            lines = DecodedLines(handle, path, chosen, detected=encoding in (None, "", AUTO))
            lines.row = -1  # no records: a decoding error names the line
            for line in lines:
                line = line.rstrip("\r\n")
                if line.strip():
                    yield lines.number, line
                elif keep_blank:
                    yield lines.number, ""
        except (OSError, EOFError) as exc:
            if not packed:
                raise
            raise DataError(  # a damaged or truncated .gz
                f"{path} cannot be decompressed ({exc}); check the file is complete."
            ) from None


def iter_text_chunks(
    path: str | os.PathLike[str],
    chunk_rows: int,
    encoding: str | None = AUTO,
    *,
    keep_blank: bool = False,
) -> Iterator[TextChunk]:
    """The non-blank lines of a text file (every line with ``keep_blank``) in chunks of
    ``chunk_rows`` texts, each text's row number its line number; a file with no text at
    all is refused."""
    if chunk_rows < 1:
        raise ValueRangeError(f"chunk_rows must be at least 1, got {chunk_rows}")
    texts: list[str] = []
    numbers: list[int] = []
    seen = False
    for number, line in text_lines(path, encoding, keep_blank=keep_blank):
        seen = seen or bool(line)
        texts.append(line)
        numbers.append(number)
        if len(texts) == chunk_rows:
            yield TextChunk(texts, numbers, 0)
            texts, numbers = [], []
    if not seen:
        raise DataError(f"{path} holds no text (every line is blank); put one text per line.")
    if texts:
        yield TextChunk(texts, numbers, 0)


def _header(labels: Sequence[Any]) -> list[str]:
    return ["text", "label", *[f"p_{label}" for label in labels]]


def write_csv_rows(
    handle: IO[str], texts: Sequence[str], probs: np.ndarray, labels: Sequence[Any]
) -> None:
    """CSV rows ``text, label, p_…`` (probabilities to 6 decimals) for one chunk."""
    writer = csv.writer(handle)
    best = probs.argmax(axis=1)
    for text, k, row in zip(texts, best, probs, strict=True):
        writer.writerow([text, labels[int(k)], *[f"{p:.6f}" for p in row]])


def _write_jsonl_rows(
    handle: IO[str], texts: Sequence[str], probs: np.ndarray, labels: Sequence[Any]
) -> None:
    names = _header(labels)[2:]
    best = probs.argmax(axis=1)
    for text, k, row in zip(texts, best, probs, strict=True):
        record = {"text": text, "label": labels[int(k)]}
        record.update({name: round(float(p), 6) for name, p in zip(names, row, strict=True)})
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def _arrow_table(texts: Sequence[str], probs: np.ndarray, labels: Sequence[Any]) -> Any:
    import pyarrow as pa

    columns: dict[str, Any] = {
        "text": pa.array(texts, type=pa.large_string()),
        "label": pa.array(
            [labels[int(k)] for k in probs.argmax(axis=1)],
            type=pa.int64() if all(isinstance(x, int) for x in labels) else pa.string(),
        ),
    }
    for name, column in zip(_header(labels)[2:], probs.T, strict=True):
        columns[name] = pa.array(np.ascontiguousarray(column, dtype=np.float32))
    return pa.table(columns)


def _write_parquet(path: Path, table: Any) -> None:
    """A pyarrow table as a Parquet file, atomically (written whole in memory first)."""
    import pyarrow.parquet as pq

    sink = io.BytesIO()
    pq.write_table(table, sink)
    with atomic_open(path, "wb") as handle:
        handle.write(sink.getbuffer())


def _write_part(
    path: Path, fmt: str, texts: Sequence[str], probs: np.ndarray, labels: Sequence[Any]
) -> None:
    """One chunk's predictions as a complete file, atomically."""
    if fmt == "parquet":
        _write_parquet(path, _arrow_table(texts, probs, labels))
        return
    with atomic_open(path, "w", newline="") as handle:
        writer = write_csv_rows if fmt == "csv" else _write_jsonl_rows
        writer(handle, texts, probs, labels)


def _assemble(out: Path, fmt: str, parts: list[Path], labels: Sequence[Any]) -> None:
    """Join a classifier's parts in order into ``out``, atomically."""
    _join_parts(
        out, fmt, parts,
        schema=lambda: _arrow_table([], np.zeros((0, len(labels)), np.float32), labels).schema,
        header=_header(labels),
    )  # fmt: skip


def _join_parts(
    out: Path, fmt: str, parts: list[Path], *, schema: Callable[[], Any], header: list[str]
) -> None:
    """Join the parts in order into ``out``, atomically (a temporary sibling, then rename):
    Parquet row groups cast to ``schema()``, or the parts' bytes after the CSV ``header``."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        table_schema = schema()
        with atomic_open(out, "wb") as handle:
            writer = pq.ParquetWriter(handle, table_schema)
            for part in parts:
                writer.write_table(pq.read_table(part).cast(table_schema))
            writer.close()
        return
    with atomic_open(out, "wb") as handle:
        if fmt == "csv":
            text = io.StringIO()
            csv.writer(text).writerow(header)
            handle.write(text.getvalue().encode("utf-8"))
        for part in parts:
            with open(part, "rb") as source:
                shutil.copyfileobj(source, handle, 1 << 20)


def _column_rows(
    texts: Sequence[str], values: dict[str, Sequence[Any]], columns: OutputColumns
) -> Iterator[list[Any]]:
    """The rows text, then each of ``columns.names``, of one chunk (every column checked
    to hold one value per text)."""
    found = [list(values[name]) for name in columns.names]
    for name, column in zip(columns.names, found, strict=True):
        if len(column) != len(texts):
            raise ValueError(f"column {name!r} has {len(column)} values for {len(texts)} texts")
    return (list(row) for row in zip(texts, *found, strict=True))


def _columns_table(
    texts: Sequence[str], values: dict[str, Sequence[Any]], columns: OutputColumns
) -> Any:
    import pyarrow as pa

    table: dict[str, Any] = {columns.text_name: pa.array(texts, type=pa.large_string())}
    for name in columns.names:
        table[name] = pa.array([str(v) for v in values[name]], type=pa.large_string())
    return pa.table(table)


def _write_columns_part(
    path: Path, fmt: str, texts: Sequence[str], values: dict[str, Sequence[Any]],
    columns: OutputColumns,
) -> None:  # fmt: skip
    """One chunk of a task's own columns as a complete file, atomically: CSV or JSONL rows,
    Parquet, or (``text``) the values of its one column, one line each."""
    rows = list(_column_rows(texts, values, columns))
    if fmt == "parquet":
        _write_parquet(path, _columns_table(texts, values, columns))
        return
    with atomic_open(path, "w", newline="") as handle:
        if fmt == "csv":
            csv.writer(handle).writerows(rows)
        elif fmt == "jsonl":
            names = (columns.text_name, *columns.names)
            for row in rows:
                record = dict(zip(names, row, strict=True))
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:  # one line per row: a line break inside a value would shift every later line
            for row in rows:
                handle.write(" ".join(str(row[1]).splitlines()) + "\n")


def _assemble_columns(out: Path, fmt: str, parts: list[Path], columns: OutputColumns) -> None:
    """Join the parts of a task's own columns in order into ``out``, atomically."""
    _join_parts(
        out, fmt, parts,
        schema=lambda: _columns_table([], {name: [] for name in columns.names}, columns).schema,
        header=[columns.text_name, *columns.names],
    )  # fmt: skip


def _model_fingerprint(predictor: Any) -> str:
    """A hash of the weights, labels, tokenizer and preprocessing (what the output depends on)."""
    digest = hashlib.sha256()
    for name, tensor in predictor.model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    settings = {
        "labels": [str(label) for label in predictor.labels],
        "tokenizer": predictor.tokenizer.to_dict(),
        "max_len": predictor.max_len,
        "truncate": predictor.truncate,
    }
    digest.update(json.dumps(settings, sort_keys=True).encode())
    return digest.hexdigest()


def _input_fingerprint(path: Path) -> dict[str, Any]:
    stat = path.stat()
    return {"path": str(path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _total_rows(path: Path, fmt: str) -> int | None:
    if fmt != "parquet":
        return None
    with contextlib.suppress(Exception):  # an unreadable file is reported by the reader
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows)
    return None


def iter_predictions(
    predictor: Any,
    data: str | os.PathLike[str],
    *,
    text_col: str = "text",
    format: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
    batch_size: int = 64,
    skip_empty: bool = False,
    encoding: str | None = AUTO,
    delimiter: str | None = None,
    sheet: str | None = None,
    skip_chunks: int = 0,
    columns: OutputColumns | None = None,
    keep_blank: bool = False,
) -> Iterator[tuple[TextChunk, Any]]:
    """(chunk, probabilities (n, K)) for each chunk of ``data`` (a table, or a text file:
    see :func:`input_format`) in order; the first ``skip_chunks`` chunks are read (to keep
    chunk boundaries) but not predicted (None). With ``columns``, each chunk's values come
    from ``columns.predict`` (a dict of columns) instead of ``predict_proba``;
    ``keep_blank`` keeps a text file's blank lines as empty texts."""
    chunks = (
        iter_text_chunks(data, chunk_rows, encoding, keep_blank=keep_blank)
        if input_format(data, format) == TEXT_FORMAT
        else iter_table_chunks(
            data,
            text_col,
            chunk_rows=chunk_rows,
            format=format,
            skip_empty=skip_empty,
            encoding=encoding,
            delimiter=delimiter,
            sheet=sheet,
        )
    )
    for index, chunk in enumerate(chunks):
        if index < skip_chunks:
            yield chunk, None
            continue
        if columns is not None:
            yield chunk, columns.predict(list(chunk.texts))
            continue
        probs = (
            predictor.predict_proba(chunk.texts, batch_size=batch_size)
            if chunk.texts
            else np.zeros((0, len(predictor.labels)), dtype=np.float32)
        )
        yield chunk, probs


def _load_manifest(folder: Path, expected: dict[str, Any]) -> list[dict[str, Any]]:
    """The committed parts of an interrupted job, after checking it is the same job."""
    path = folder / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ConfigError(
            f"--resume: {path} is missing or unreadable, so the committed rows are unknown; "
            "run without --resume to start over."
        ) from None
    for key, value in expected.items():
        if manifest.get(key) != value:
            what = {"input": "the input file", "model": "the model"}.get(key, f"'{key}'")
            raise ConfigError(
                f"--resume: {what} differs from the interrupted job in {folder} (was "
                f"{manifest.get(key)!r:.120}); resume with the same input, model and "
                "settings, or run without --resume to start over."
            )
    parts = manifest.get("parts", [])
    for part in parts:
        if not (folder / part["file"]).is_file():
            raise ConfigError(
                f"--resume: committed part {folder / part['file']} is missing; run without "
                "--resume to start over."
            )
    return parts


def predict_file(
    predictor: Any,
    data: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    text_col: str = "text",
    format: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
    batch_size: int = 64,
    skip_empty: bool = False,
    encoding: str | None = AUTO,
    delimiter: str | None = None,
    sheet: str | None = None,
    resume: bool = False,
    on_progress: Callable[[BatchProgress], None] | None = None,
    columns: OutputColumns | None = None,
    out_format: str | None = None,
    keep_blank: bool = False,
    fingerprint: str | None = None,
) -> BatchSummary:
    """Label every row of ``data`` into ``out`` (.csv, .jsonl or .parquet), chunk by chunk.

    Args:
        predictor: a loaded :class:`~rnnlab.tasks.classify.predictor.TextPredictor` (either engine).
        data: the input table (CSV, TSV, JSONL or Parquet) or text file (one text per
            line), of any size.
        out: the output file; its suffix picks the format.
        text_col: the text column (``--text-col``; unused for a text file).
        format: the input format (a table format or ``text``), when the suffix does not
            tell it.
        chunk_rows: rows per chunk: the unit of memory, of commits and of resumption.
        batch_size: texts per model call inside a chunk.
        skip_empty: drop rows with empty text instead of stopping.
        resume: continue an interrupted job on the same input, model and settings.
        on_progress: called after every chunk with a :class:`BatchProgress`.
        columns: the task's own output columns (:class:`OutputColumns`) instead of the
            label and its probabilities.
        out_format: csv, jsonl, parquet or (with ``columns`` of one column) text, when
            the suffix of ``out`` does not tell it.
        keep_blank: keep a text file's blank lines (as empty texts) instead of skipping
            them.
        fingerprint: what the output depends on in the model, for ``resume`` (default: a
            hash of a classifier's weights, labels, tokenizer and preprocessing).

    Returns:
        :class:`BatchSummary`.
    """
    out = Path(out)
    data = Path(data)
    fmt = output_format(out) if out_format is None else out_format
    if fmt == TEXT_FORMAT and (columns is None or len(columns.names) != 1):
        raise ConfigError(
            f"--out {out}: one value per line needs a single output column; name the file "
            f"with one of {', '.join(OUTPUT_FORMATS)}."
        )
    if fmt not in (*OUTPUT_FORMATS.values(), TEXT_FORMAT):
        raise ConfigError(f"output format {fmt!r}: expected csv, jsonl, parquet or text.")
    in_fmt = input_format(data, format)
    folder = parts_dir(out)
    labels = [] if columns is not None else list(predictor.labels)
    identity = {
        "format": MANIFEST_FORMAT,
        "version": 1,
        "input": _input_fingerprint(data) if data.exists() else {"path": str(data)},
        "model": fingerprint if fingerprint is not None else _model_fingerprint(predictor),
        "text_col": text_col,
        "input_format": in_fmt,
        "chunk_rows": chunk_rows,
        "skip_empty": skip_empty,
        "output_format": fmt,
        # how the input is read, where it is not the default (older manifests lack these)
        **{key: value for key, value in (("encoding", encoding), ("delimiter", delimiter),
                                         ("sheet", sheet)) if value not in (None, "", AUTO)},
        # a task's own columns and blank lines kept, where given (classifier jobs lack these)
        **({"columns": [columns.text_name, *columns.names]} if columns is not None else {}),
        **({"keep_blank": True} if keep_blank else {}),
    }  # fmt: skip
    parts: list[dict[str, Any]] = []
    if resume and folder.is_dir():
        parts = _load_manifest(folder, identity)
    else:
        shutil.rmtree(folder, ignore_errors=True)
    resumed = sum(p["rows"] + p["dropped_empty"] for p in parts)
    done = resumed
    total = _total_rows(data, in_fmt)
    start = time.perf_counter()
    try:
        stream = iter_predictions(
            predictor,
            data,
            text_col=text_col,
            format=format,
            chunk_rows=chunk_rows,
            batch_size=batch_size,
            skip_empty=skip_empty,
            encoding=encoding,
            delimiter=delimiter,
            sheet=sheet,
            skip_chunks=len(parts),
            columns=columns,
            keep_blank=keep_blank,
        )
        for index, (chunk, probs) in enumerate(stream):
            if probs is None:
                if len(chunk) != parts[index]["rows"]:
                    raise ConfigError(
                        f"--resume: chunk {index} of {data} now has {len(chunk)} rows, the "
                        f"interrupted job committed {parts[index]['rows']}; run without "
                        "--resume to start over."
                    )
                continue
            name = f"part-{index:06d}.{'txt' if fmt == TEXT_FORMAT else fmt}"
            if columns is not None:
                _write_columns_part(folder / name, fmt, chunk.texts, probs, columns)
            else:
                _write_part(folder / name, fmt, chunk.texts, probs, labels)
            parts.append({"file": name, "rows": len(chunk), "dropped_empty": chunk.dropped_empty})
            atomic_write_json(folder / MANIFEST, {**identity, "parts": parts}, indent=None)
            done += len(chunk) + chunk.dropped_empty
            if on_progress is not None:
                seconds = time.perf_counter() - start
                on_progress(BatchProgress(done, total, done - resumed, seconds, resumed))
    except RnnlabError:
        shutil.rmtree(folder, ignore_errors=True)  # the input must change before a rerun
        raise
    files = [folder / p["file"] for p in parts]
    if columns is not None:
        _assemble_columns(out, fmt, files, columns)
    else:
        _assemble(out, fmt, files, labels)
    shutil.rmtree(folder, ignore_errors=True)
    seconds = time.perf_counter() - start
    return BatchSummary(
        out,
        rows=sum(p["rows"] for p in parts),
        dropped_empty=sum(p["dropped_empty"] for p in parts),
        resumed_rows=resumed,
        seconds=seconds,
        rows_per_s=(done - resumed) / seconds if seconds > 0 else 0.0,
    )


def default_text_col(run: str | os.PathLike[str]) -> str:
    """The text column a run was trained on (its config.toml), else ``"text"``."""
    config_path = Path(run) / "config.toml"
    if not config_path.is_file():
        return "text"
    from rnnlab.tasks.base import task_of_run

    return task_of_run(run).config_type.from_toml(config_path).data.text_col


def predict_texts(
    predictor: Any, texts: Sequence[str], out: str | os.PathLike[str] | IO[str], batch_size: int
) -> int:
    """Label a small list of texts (lines from standard input) into a file, atomically, in
    the format of its suffix (.csv, .jsonl or .parquet), or as CSV on an open text stream;
    returns the number of rows."""
    to_file = isinstance(out, (str, os.PathLike))
    fmt = output_format(out) if to_file else "csv"  # refuse an unknown suffix before predicting
    probs = predictor.predict_proba(list(texts), batch_size=batch_size)
    labels = list(predictor.labels)
    if fmt != "csv":
        _write_part(Path(out), fmt, texts, probs, labels)  # no header in these formats
        return len(texts)

    def write(handle: IO[str]) -> None:
        csv.writer(handle).writerow(_header(labels))
        write_csv_rows(handle, texts, probs, labels)

    if to_file:
        with atomic_open(out, "w", newline="") as handle:
            write(handle)
    else:
        write(out)
    return len(texts)


def stream_csv(
    predictor: Any,
    data: str | os.PathLike[str],
    handle: IO[str],
    *,
    text_col: str = "text",
    format: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
    batch_size: int = 64,
    skip_empty: bool = False,
    encoding: str | None = AUTO,
    delimiter: str | None = None,
    sheet: str | None = None,
) -> int:
    """Label ``data`` chunk by chunk as CSV on an open stream (standard output); returns the
    number of rows. Nothing to resume: a stream cannot be rewound."""
    labels = list(predictor.labels)
    rows, header = 0, False
    for chunk, probs in iter_predictions(
        predictor,
        data,
        text_col=text_col,
        format=format,
        chunk_rows=chunk_rows,
        batch_size=batch_size,
        skip_empty=skip_empty,
        encoding=encoding,
        delimiter=delimiter,
        sheet=sheet,
    ):
        if not header:  # once, before the first chunk (which may be empty after skip_empty)
            csv.writer(handle).writerow(_header(labels))
            header = True
        write_csv_rows(handle, chunk.texts, probs, labels)
        rows += len(chunk)
    handle.flush()
    return rows
