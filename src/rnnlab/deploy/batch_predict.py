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
suffix): one text per line, blank lines skipped, each text's row number its line number.
It streams, commits and resumes like a table.

Output columns, in every format: ``text``, ``label``, then ``p_<label>`` for each label.

Example::

    >>> summary = predict_file(predictor, "big.parquet", "labelled.parquet", text_col="review")
    >>> summary.rows, summary.rows_per_s
"""

from __future__ import annotations

import contextlib
import csv
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

from rnnlab.data.encodings import AUTO, DecodedLines, file_encoding
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
    path: str | os.PathLike[str], encoding: str | None = AUTO
) -> Iterator[tuple[int, str]]:
    """(line number, text) for each non-blank line of the text file ``path``, without its
    line end, in ``encoding`` (``"auto"``: detected, :mod:`rnnlab.data.encodings`); a
    leading byte order mark is dropped. Read line by line (bounded memory); bytes that do not
    decode are one sentence naming the line and the encoding they look like."""
    path = Path(path)
    if not path.is_file():
        raise RnnlabFileNotFoundError(
            f"{path} does not exist; pass a text file with one text per line."
        )
    chosen = file_encoding(path, encoding)
    with open(path, "rb") as handle:
        lines = DecodedLines(handle, path, chosen, detected=encoding in (None, "", AUTO))
        lines.row = -1  # no records: a decoding error names the line
        for line in lines:
            line = line.rstrip("\r\n")
            if line.strip():
                yield lines.number, line


def iter_text_chunks(
    path: str | os.PathLike[str], chunk_rows: int, encoding: str | None = AUTO
) -> Iterator[TextChunk]:
    """The non-blank lines of a text file in chunks of ``chunk_rows`` texts, each text's row
    number its line number; a file with no text at all is refused."""
    if chunk_rows < 1:
        raise ValueRangeError(f"chunk_rows must be at least 1, got {chunk_rows}")
    texts: list[str] = []
    numbers: list[int] = []
    yielded = False
    for number, line in text_lines(path, encoding):
        texts.append(line)
        numbers.append(number)
        if len(texts) == chunk_rows:
            yield TextChunk(texts, numbers, 0)
            yielded, texts, numbers = True, [], []
    if texts:
        yield TextChunk(texts, numbers, 0)
    elif not yielded:
        raise DataError(f"{path} holds no text (every line is blank); put one text per line.")


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


def _write_part(
    path: Path, fmt: str, texts: Sequence[str], probs: np.ndarray, labels: Sequence[Any]
) -> None:
    """One chunk's predictions as a complete file, atomically."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        sink = io.BytesIO()
        pq.write_table(_arrow_table(texts, probs, labels), sink)
        with atomic_open(path, "wb") as handle:
            handle.write(sink.getbuffer())
        return
    with atomic_open(path, "w", newline="") as handle:
        writer = write_csv_rows if fmt == "csv" else _write_jsonl_rows
        writer(handle, texts, probs, labels)


def _assemble(out: Path, fmt: str, parts: list[Path], labels: Sequence[Any]) -> None:
    """Join the parts in order into ``out``, atomically (a temporary sibling, then rename)."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        schema = _arrow_table([], np.zeros((0, len(labels)), np.float32), labels).schema
        with atomic_open(out, "wb") as handle:
            writer = pq.ParquetWriter(handle, schema)
            for part in parts:
                writer.write_table(pq.read_table(part).cast(schema))
            writer.close()
        return
    with atomic_open(out, "wb") as handle:
        if fmt == "csv":
            text = io.StringIO()
            csv.writer(text).writerow(_header(labels))
            handle.write(text.getvalue().encode("utf-8"))
        for part in parts:
            with open(part, "rb") as source:
                shutil.copyfileobj(source, handle, 1 << 20)


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
) -> Iterator[tuple[TextChunk, np.ndarray | None]]:
    """(chunk, probabilities (n, K)) for each chunk of ``data`` (a table, or a text file:
    see :func:`input_format`) in order; the first ``skip_chunks`` chunks are read (to keep
    chunk boundaries) but not predicted (None)."""
    chunks = (
        iter_text_chunks(data, chunk_rows, encoding)
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

    Returns:
        :class:`BatchSummary`.
    """
    out = Path(out)
    data = Path(data)
    fmt = output_format(out)
    in_fmt = input_format(data, format)
    folder = parts_dir(out)
    labels = list(predictor.labels)
    identity = {
        "format": MANIFEST_FORMAT,
        "version": 1,
        "input": _input_fingerprint(data) if data.exists() else {"path": str(data)},
        "model": _model_fingerprint(predictor),
        "text_col": text_col,
        "input_format": in_fmt,
        "chunk_rows": chunk_rows,
        "skip_empty": skip_empty,
        "output_format": fmt,
        # how the input is read, where it is not the default (older manifests lack these)
        **{key: value for key, value in (("encoding", encoding), ("delimiter", delimiter),
                                         ("sheet", sheet)) if value not in (None, "", AUTO)},
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
            name = f"part-{index:06d}.{fmt}"
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
    _assemble(out, fmt, [folder / p["file"] for p in parts], labels)
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
