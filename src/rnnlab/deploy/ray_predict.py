"""Batch prediction on Ray Data: label a corpus larger than one machine.

    rnnlab predict RUN --data 'corpus/*.parquet' --out labelled/ --backend ray --workers 8

The input files (CSV, JSONL or Parquet; a folder, a glob or one file) are read with
``ray.data``; text files (``.txt``, one text per line) are first written, chunk by chunk, as
Parquet tables of an id (``<file name>:<line number>``) and the text (blank lines skipped),
which Ray then reads; :meth:`ray.data.Dataset.map_batches` sends their batches to a pool of actors,
each an instance of :class:`Labeller` that loads the one-file model once and labels every
batch it is given; the result is written as Parquet files with the input's id column, the
label and one ``p_<label>`` column per label, or the columns the task names for its outputs
(``Task.output_columns``: a translation model's ``translation``). Any task with ``"ray"``
among its ``predict_backends`` runs here. ``address`` joins a running cluster (``auto``
or ``ray://host:10001``); without one, a local cluster is started with one CPU per actor and
one for reading and writing.

Documents are independent, so throughput grows with the number of actors until reading or
writing the files is the bottleneck (see docs/guides/scale-out.md for the measured figures).
Ray restarts an actor that dies and retries its batches; the output is written into a temporary
sibling folder that replaces ``out`` only when every block is written, so ``out`` is either
absent or complete. A job that succeeds prints no error-level line of Ray's (one benign
message Ray Data causes is kept from the terminal: :data:`_BENIGN_RAY_ERRORS`). Ray is an
optional extra: ``pip install 'rnnlab[ray]'``.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import shutil
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnnlab.errors import ConfigError, DataError

__all__ = ["Labeller", "RaySummary", "input_files", "predict_with_ray"]

_READERS = {
    ".csv": "csv", ".jsonl": "json", ".json": "json", ".parquet": "parquet", ".txt": "text",
}  # fmt: skip
# Rows handed to an actor per call. The predictor sorts a call's texts by length before
# batching them, so bigger calls waste less time on padding (as the local backend's chunks of
# 5,000 rows do); a few thousand short reviews are a few MB.
ROWS_PER_CALL = 2048
# Ray Data starts every actor of a pool with two of its own objects from the object store as
# constructor arguments (its data context and the map function) and with restarts allowed, and
# Ray Core logs that pair at ERROR level on the driver's stderr: "Actor … has constructor
# arguments in the object store and max_restarts > 0 … the actor restart will fail"
# (ray-project/ray#57733, open: any Ray Data actor pool prints it). The warning is about
# arguments lost before a restart; here the driver holds them for the whole job, and an actor
# that dies is restarted with them (tests/deploy/test_ray_predict.py kills one), so on a job
# that succeeds the line only alarms. It is kept from the terminal, not from Ray's driver log.
_BENIGN_RAY_ERRORS = ("has constructor arguments in the object store and max_restarts > 0",)


@dataclass(frozen=True)
class RaySummary:
    """A finished Ray job: rows labelled, output folder, seconds, rows per second, actors."""

    rows: int
    out: Path
    seconds: float
    rows_per_s: float
    workers: int


class Labeller:
    """One Ray actor's work: the model loaded once, then ``__call__`` on batch after batch.

    Args:
        run: run directory or model file.
        text_col, id_col: the input's text and id columns.
        engine: ``torch`` or ``onnx``.
        batch_size: texts per forward pass.
        threads: torch intra-op threads in this actor (1: the actors share the cores).
    """

    def __init__(
        self, run: str, text_col: str, id_col: str, engine: str, batch_size: int, threads: int
    ) -> None:
        import torch

        from rnnlab.deploy.engines import load
        from rnnlab.tasks.base import get_task

        torch.set_num_threads(threads)
        self.predictor = load(run, engine=engine)
        self.text_col, self.id_col, self.batch_size = text_col, id_col, batch_size
        self.labels = [str(label) for label in self.predictor.labels]
        self.columns = get_task(self.predictor.task).door("output_columns")

    def __call__(self, batch: Any) -> Any:
        """A pandas DataFrame of input rows → id, label and ``p_<label>`` columns (or the
        task's own output columns)."""
        import pandas as pd

        texts = ["" if t is None else str(t) for t in batch[self.text_col].tolist()]
        out = pd.DataFrame({self.id_col: batch[self.id_col].to_numpy()})
        if self.columns is not None:
            for name, values in self.columns(self.predictor, texts, self.batch_size).items():
                out[name] = values
            return out
        probs = self.predictor.predict_proba(texts, batch_size=self.batch_size)
        out["label"] = [self.labels[k] for k in probs.argmax(axis=1)]
        for k, label in enumerate(self.labels):
            out[f"p_{label}"] = probs[:, k].astype("float32")
        return out


def input_files(data: str | os.PathLike[str]) -> list[str]:
    """The files ``data`` names: one file, every readable file in a folder, or a glob; all of
    one format (CSV, JSONL, Parquet or text). In a folder or glob that holds tables, ``.txt``
    files (notes beside the data) are not read."""
    text = str(data)
    path = Path(text)
    if path.is_dir() or any(ch in text for ch in "*?["):
        found = path.iterdir() if path.is_dir() else map(Path, glob.glob(text))
        files = sorted(str(p) for p in found if p.suffix.lower() in _READERS)
        if any(_READERS[Path(f).suffix.lower()] != "text" for f in files):
            files = [f for f in files if _READERS[Path(f).suffix.lower()] != "text"]
    elif path.is_file():
        files = [text]
    else:
        raise DataError(f"--data {text}: no such file, folder or glob; check the path.")
    if not files:
        raise DataError(
            f"--data {text}: no .csv, .jsonl, .parquet or .txt files found there; point it at them."
        )
    kinds = {_READERS.get(Path(f).suffix.lower()) for f in files}
    if None in kinds or len(kinds) > 1:
        raise DataError(
            f"--data {text}: the files must all be CSV, all JSONL, all Parquet or all text (found "
            f"{', '.join(sorted(Path(f).suffix or '(none)' for f in set(files)))}); split them."
        )
    return files


def _read(files: Sequence[str], blocks: int) -> Any:
    """The files as a Ray dataset of at least ``blocks`` blocks (so that a single large file
    still keeps every actor busy)."""
    import ray.data

    kind = _READERS[Path(files[0]).suffix.lower()]
    options = {"override_num_blocks": max(len(files), blocks)}
    if kind == "csv":
        return ray.data.read_csv(list(files), **options)
    if kind == "json":
        return ray.data.read_json(list(files), lines=True, **options)
    return ray.data.read_parquet(list(files), **options)


def _text_tables(
    files: Sequence[str], folder: Path, text_col: str, id_col: str, chunk_rows: int = 50_000
) -> list[str]:
    """Write the non-blank lines of the text ``files`` into ``folder`` as Parquet tables of
    ``id_col`` (``<file name>:<line number>``) and ``text_col``, ``chunk_rows`` lines a
    table (bounded memory); returns the tables' paths, in input order."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from rnnlab.deploy.batch_predict import iter_text_chunks

    folder.mkdir(parents=True)
    tables: list[str] = []
    for file in files:
        name = Path(file).name
        for chunk in iter_text_chunks(file, chunk_rows):
            ids = [f"{name}:{number}" for number in chunk.row_numbers]
            table = pa.table({id_col: ids, text_col: pa.array(chunk.texts, pa.large_string())})
            tables.append(str(folder / f"part-{len(tables):06d}.parquet"))
            pq.write_table(table, tables[-1])
    return tables


def _start(address: str | None, workers: int) -> None:
    """Join the cluster at ``address``, or start a local one with ``workers`` CPUs."""
    import ray

    if ray.is_initialized():
        return
    options: dict[str, Any] = {"log_to_driver": False, "configure_logging": False}
    if address:
        ray.init(address=address, **options)
    else:
        # One CPU beyond the actors' for the tasks that read and write the files: with every
        # CPU held by an actor, Ray could never schedule a read and the job would wait forever.
        ray.init(num_cpus=workers + 1, include_dashboard=False, **options)


def predict_with_ray(
    run: str | os.PathLike[str],
    data: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    text_col: str = "text",
    id_col: str = "id",
    address: str | None = None,
    workers: int = 2,
    batch_size: int = 64,
    engine: str = "torch",
    labeller: type = Labeller,
    text_flag: str = "--text-col",
) -> RaySummary:
    """Label every row of ``data`` with the model in ``run`` on a Ray cluster; write Parquet
    files into the folder ``out`` (see the module docstring). ``labeller`` is the actor class
    (:class:`Labeller` or a subclass); ``text_flag`` is the flag that names the text column,
    for messages (``--source-col`` for a translation run)."""
    try:
        import ray
        import ray.data
    except ImportError:
        raise ConfigError(
            "--backend ray needs Ray Data; install it with pip install 'rnnlab[ray]'."
        ) from None
    if workers < 1:
        raise ConfigError(f"--workers {workers}: expected at least 1 actor.")
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(f"--out {out} exists and is not empty; remove it or name a new folder.")
    from rnnlab.deploy.engines import load
    from rnnlab.tasks.base import get_task, task_names

    predictor = load(run, engine=engine)  # a missing or damaged model fails here
    # The registry, not "has predict_proba": a series classifier has one too, and Labeller
    # feeds texts.
    if "ray" not in get_task(predictor.task).predict_backends:
        able = [get_task(n).title for n in task_names() if "ray" in get_task(n).predict_backends]
        raise ConfigError(
            f"{run} is a '{predictor.task}' model; batch prediction on Ray works with "
            f"{' and '.join(t + 's' for t in able) or 'no installed task'}."
        )
    files = input_files(data)
    staged = None
    if _READERS[Path(files[0]).suffix.lower()] == "text":
        staged = out.parent / f".{out.name}.input-{uuid.uuid4().hex[:8]}"
        try:
            files = _text_tables(files, staged, text_col, id_col)
        except BaseException:
            shutil.rmtree(staged, ignore_errors=True)
            raise
    try:
        return _run(ray, files, labeller, run, out, text_col, id_col, engine, batch_size,
                    workers, address, text_flag)  # fmt: skip
    finally:
        if staged is not None:
            shutil.rmtree(staged, ignore_errors=True)


def _run(
    ray: Any, files: list[str], labeller: type, run: Any, out: Path, text_col: str,
    id_col: str, engine: str, batch_size: int, workers: int, address: str | None,
    text_flag: str,
) -> RaySummary:  # fmt: skip
    """Start or join the cluster, check the columns, and label ``files`` into ``out``."""
    with _quiet_ray_data():
        _start(address, workers)
        ray.data.DataContext.get_current().enable_progress_bars = False
        dataset = _read(files, blocks=4 * workers)
        columns = list(dataset.schema().names)
        for flag, column in ((text_flag, text_col), ("--id-col", id_col)):
            if column not in columns:
                raise DataError(
                    f"{flag} {column!r}: no such column in {files[0]} (columns: "
                    f"{', '.join(columns)}); pass {flag} with one of them."
                )
        with _without_benign_ray_errors():
            return _label(ray, dataset, labeller, run, out, text_col, id_col, engine,
                          batch_size, workers)  # fmt: skip


@contextlib.contextmanager
def _quiet_ray_data() -> Iterator[None]:
    """Ray Data logs every execution plan at INFO on stderr; a library keeps quiet, so its
    logger is raised to WARNING for the job (and restored after)."""
    logger = logging.getLogger("ray.data")
    previous = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(previous)


@contextlib.contextmanager
def _without_benign_ray_errors() -> Iterator[None]:
    """While the actors run, pass this process's stderr (file descriptor 2) through a pipe,
    line by line as it comes, less the lines of :data:`_BENIGN_RAY_ERRORS`.

    Why at the descriptor: the line comes from Ray's C++ core, which Python's ``logging`` and
    ``warnings`` never see, and the core's one switch, ``RAY_BACKEND_LOG_LEVEL``, would
    silence every error of the driver (its log file included) and of the local cluster that
    inherits it. Why not ``max_restarts=0``: then an actor that dies fails the job. Call this
    after ``ray.init``, so that the cluster's processes never inherit the pipe. Everything else
    written to stderr (Python's included) reaches it in order; the pipe is drained to its end
    before this returns.
    """
    try:
        terminal = os.dup(2)
    except OSError:  # no stderr at all: nothing to keep clean
        yield
        return
    read_end, write_end = os.pipe()
    forwarder = threading.Thread(
        target=_forward, args=(read_end, terminal), name="rnnlab-ray-stderr", daemon=True
    )
    forwarder.start()  # reads until the last copy of the write end closes
    sys.stderr.flush()
    os.dup2(write_end, 2)
    os.close(write_end)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(terminal, 2)  # the pipe's last write end closes: the forwarder reads to the end
        # A process started meanwhile by another thread may hold a copy of the write end; then
        # the forwarder goes on passing its output through until it exits, and closes after.
        forwarder.join(timeout=10)


def _forward(source: int, target: int) -> None:
    """Copy the lines read from ``source`` to ``target`` until ``source`` ends, except those
    holding a :data:`_BENIGN_RAY_ERRORS` message; then close both. Reading never stops
    early: a full pipe would block every writer to stderr."""
    markers = [message.encode() for message in _BENIGN_RAY_ERRORS]
    pending = b""
    try:
        while chunk := os.read(source, 65536):
            *lines, pending = (pending + chunk).split(b"\n")
            kept = b"".join(line + b"\n" for line in lines if not any(m in line for m in markers))
            _write_all(target, kept)
        if not any(m in pending for m in markers):
            _write_all(target, pending)
    finally:
        os.close(source)
        os.close(target)


def _write_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` to ``fd``; drop it if ``fd`` is gone (a closed terminal)."""
    view = memoryview(data)
    try:
        while view:
            view = view[os.write(fd, view) :]
    except OSError:
        pass


def _label(
    ray: Any, dataset: Any, labeller: type, run: Any, out: Path, text_col: str, id_col: str,
    engine: str, batch_size: int, workers: int,
) -> RaySummary:  # fmt: skip
    """Run the actor pool over ``dataset`` and publish the Parquet folder ``out``."""
    start = time.perf_counter()
    labelled = dataset.select_columns([id_col, text_col]).map_batches(
        labeller,
        fn_constructor_kwargs={
            "run": str(run), "text_col": text_col, "id_col": id_col, "engine": engine,
            "batch_size": batch_size, "threads": 1,
        },
        batch_format="pandas",
        batch_size=ROWS_PER_CALL,  # sorted by length inside: long calls pad less
        compute=ray.data.ActorPoolStrategy(size=workers),
        num_cpus=1,
    )  # fmt: skip
    scratch = out.parent / f".{out.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        labelled.write_parquet(str(scratch))
        rows = ray.data.read_parquet(str(scratch)).count()
        if out.exists():
            out.rmdir()  # empty, checked above
        os.replace(scratch, out)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    seconds = time.perf_counter() - start
    return RaySummary(rows, out, seconds, rows / max(seconds, 1e-9), workers)
