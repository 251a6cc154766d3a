"""``rnnlab predict``: label new inputs with a run's model, in input order.

Each task reads and writes its own kind of input, by the writer its ``Task`` names as
``write_predictions`` (the built-in tasks' writers are here): a classifier streams tables or
text files (one text per line) of any size in resumable chunks
(:mod:`rnnlab.deploy.batch_predict`), a tagger reads one tokenised sentence per line (or a
CoNLL / CoNLL-U file with ``--format``) and writes token TAB tag lines or entity spans, a
forecaster writes its forecasts rounded to the decimals of its data. A task without a writer
of its own gets one input per line and one ``input TAB prediction`` line back. The
data-reading flags of ``rnnlab train <task>`` that apply to unlabelled input are accepted
for its runs; ``--format text`` (one input per line) for every run that reads text.

``--out`` never replaces an existing file without ``--overwrite``, and every file is written
atomically (a temporary sibling, then a rename), so an interrupted command leaves the old
file or the new one, never a torn mix.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from rnnlab.cli.common import clean_errors, err_console, refuse_flags
from rnnlab.errors import ConfigError, RnnlabFileNotFoundError

__all__ = ["EPILOG", "SHORT_HELP", "STDIN", "build", "input_lines", "is_text_format", "predict"]

STDIN = "-"  # --data -: standard input, as when --data is left out

EPILOG = (
    "Examples:\n\n  rnnlab predict runs/imdb --data reviews.csv --out labelled.csv\n\n"
    "  rnnlab predict runs/imdb --data big.parquet --out labelled.parquet --resume\n\n"
    "  echo 'A triumph.' | rnnlab predict runs/imdb\n\n"
    "  rnnlab predict runs/imdb --data reviews.txt --out labelled.csv --overwrite\n\n"
    "  rnnlab predict runs/ner --data test.conllu --format conllu --out entities.jsonl\n\n"
    "  rnnlab predict runs/airline --horizon 12 --out forecast.csv\n\n"
    "  rnnlab predict runs/imdb --data 'corpus/*.parquet' --out labelled/ --backend ray"
)


@dataclass(frozen=True)
class Request:
    """What ``rnnlab predict`` was asked: the run, its task, input, output and settings
    (``options``: the data-reading flags given, by config key)."""

    run: Path
    task: Any
    data: str | None
    out: Path | None
    options: dict[str, Any]
    batch_size: int
    chunk_rows: int | None
    resume: bool
    engine: str
    horizon: int | None = None
    future: str | None = None


def is_text_format(format: str | None) -> bool:
    """True for ``--format text`` (or its alias ``txt``): one input per line, whatever the
    suffix."""
    from rnnlab.deploy.batch_predict import TEXT_NAMES

    return format is not None and format.lower().lstrip(".") in TEXT_NAMES


def input_lines(data: str | None, what: str) -> list[str]:
    """Non-blank lines of the text file ``data`` (standard input for None or ``-``), without
    their line ends; a missing file or bytes that are not UTF-8 are one sentence."""
    from rnnlab.deploy.batch_predict import text_lines

    if data is None or data == STDIN:
        lines: Iterable[str] = sys.stdin
        return [line.rstrip("\r\n") for line in lines if line.strip()]
    if not Path(data).is_file():
        raise RnnlabFileNotFoundError(f"{data} does not exist; pass a text file with {what}.")
    return [line for _, line in text_lines(data)]


def _write(out: Path | None, text: str, what: str) -> None:
    from rnnlab.fileio import atomic_open

    if out is None:
        sys.stdout.write(text)
        return
    with atomic_open(out, "w") as handle:
        handle.write(text)
    err_console.print(f"wrote {what} to {out}")


def predict_table(request: Request) -> None:
    """A classifier: a table or a text file (one text per non-blank line) streamed in chunks
    (``--out``: committed, resumable), or the lines of standard input; text, label and one
    probability column per label."""
    from rnnlab.cli.progress import run_batch_job
    from rnnlab.data.formats import FORMATS
    from rnnlab.deploy import batch_predict as bp
    from rnnlab.deploy.engines import load

    data, out, options = request.data, request.out, request.options
    text_flags = {
        "--text-col": "text_col" in options,
        "--skip-empty": bool(options.get("skip_empty")),
        "--delimiter": "delimiter" in options,
        "--sheet": "sheet" in options,
    }
    if data is None:
        refuse_flags(
            {
                "--text-col": text_flags["--text-col"],
                "--format": "format" in options and not is_text_format(options["format"]),
                "--chunk-rows": request.chunk_rows is not None,
                "--resume": request.resume,
                "--skip-empty": text_flags["--skip-empty"],
                "--delimiter": text_flags["--delimiter"],
                "--sheet": text_flags["--sheet"],
                "--encoding": "encoding" in options,
            },
            "without --data, where every non-blank line of stdin is one text",
            ", or pass a table with --data",
        )
    elif bp.input_format(data, options.get("format")) == bp.TEXT_FORMAT:
        refuse_flags(
            text_flags,
            f"for the text file {data}, where every non-blank line is one text (blank lines "
            "are skipped)",
            f", or pass a table with --format {'|'.join(FORMATS)}",
        )
    if data is not None and out is None:
        refuse_flags(
            {"--resume": request.resume},
            "without --out, as CSV on stdout cannot be resumed",
            ", or write to a file with --out",
        )
    predictor = load(request.run, engine=request.engine)
    if data is None:
        texts = input_lines(None, "one text per line")
        count = bp.predict_texts(predictor, texts, out or sys.stdout, request.batch_size)
        if out is not None:
            err_console.print(f"wrote {count} predictions to {out}")
        return
    settings = {
        "text_col": options.get("text_col") or bp.default_text_col(request.run),
        "format": options.get("format"),
        "chunk_rows": bp.CHUNK_ROWS if request.chunk_rows is None else request.chunk_rows,
        "batch_size": request.batch_size,
        "skip_empty": bool(options.get("skip_empty")),
        # new input is read as it is: detected unless --encoding says (not the run's own)
        "encoding": options.get("encoding") or "auto",
        "delimiter": options.get("delimiter"),
        "sheet": options.get("sheet"),
    }
    if out is None:
        bp.stream_csv(predictor, data, sys.stdout, **settings)
        return
    summary = run_batch_job(
        err_console, out,
        lambda progress: bp.predict_file(
            predictor, data, out, resume=request.resume, on_progress=progress, **settings
        ),
    )  # fmt: skip
    dropped = f", {summary.dropped_empty} empty rows dropped" if summary.dropped_empty else ""
    err_console.print(
        f"wrote {summary.rows} predictions to {out} ({summary.rows_per_s:,.0f} rows/s{dropped})",
        soft_wrap=True,
    )


def _sentences(request: Request) -> list[list[str]]:
    """Tokenised sentences: one per non-blank line, or the tokens of a tagged file read
    like training data when ``--format`` is given (its tags are not used)."""
    options = request.options
    if "format" not in options or is_text_format(options["format"]):
        refuse_flags(
            {f"--{k.replace('_', '-')}": k in options for k in ("token_col", "tag_col")}
            | {"--conllu-tags": "conllu_tags" in options},
            "without --format (or with --format text), where every non-blank line is one "
            "tokenised sentence",
            ", or read a tagged file with --format conll or conllu",
        )
        lines = input_lines(request.data, "one tokenised sentence per line")
        return [line.split() for line in lines]
    if request.data is None:
        refuse_flags({"--format": True}, "without --data", ", or pass the file with --data")
    from rnnlab.runs import read_run_config
    from rnnlab.tasks.base import with_read_options
    from rnnlab.tasks.tag.data import read_tagged_file

    reading = {k: v for k, v in options.items() if k != "scheme"}
    config = with_read_options(read_run_config(request.run, request.task.config_type), reading)
    return read_tagged_file(request.data, config.data).tokens


def predict_tags(request: Request) -> None:
    """A tagger: token TAB tag lines (a blank line after each sentence), or entity spans as
    JSON lines when ``--out`` ends in ``.jsonl``; tags in ``--scheme`` (default: the
    training data's)."""
    from rnnlab.deploy.engines import load

    refuse_flags(
        {
            "--chunk-rows": request.chunk_rows is not None,
            "--resume": request.resume,
            "--skip-empty": bool(request.options.get("skip_empty")),
        },
        "for a tagging run, which reads its sentences whole and skips blank lines",
    )
    predictor = load(request.run, engine=request.engine)
    sentences = _sentences(request)
    scheme = request.options.get("scheme")
    out = request.out
    if out is not None and out.suffix.lower() == ".jsonl":
        rows = predictor.predict_entities(sentences, batch_size=request.batch_size)
        text = "".join(
            json.dumps({"tokens": tokens, "entities": found}, ensure_ascii=False) + "\n"
            for tokens, found in zip(sentences, rows, strict=True)
        )
        _write(out, text, f"entities of {len(sentences)} sentences")
        return
    tags = predictor.predict(sentences, batch_size=request.batch_size, scheme=scheme)
    text = "".join(
        "".join(f"{token}\t{tag}\n" for token, tag in zip(toks, tgs, strict=True)) + "\n"
        for toks, tgs in zip(sentences, tags, strict=True)
    )
    _write(out, text, f"tags of {len(sentences)} sentences")


def predict_lines(request: Request) -> None:
    """Any other task: one input per non-blank line, ``input TAB prediction`` per line."""
    from rnnlab.deploy.engines import load

    predictor = load(request.run, engine=request.engine)
    inputs = input_lines(request.data, "one input per line")
    outputs = predictor.predict(inputs, batch_size=request.batch_size)
    text = "".join(f"{x}\t{y}\n" for x, y in zip(inputs, outputs, strict=True))
    _write(request.out, text, f"{len(inputs)} predictions")


def predict_forecast(request: Request) -> None:
    """A forecaster: ``--horizon`` steps after the end of each series — the training series
    (stored in the model file) or those of ``--data`` — with their intervals, as CSV (or
    JSONL for a ``.jsonl`` --out): each quantity in one column, rounded to the decimals
    the series carry (the stored training history's, and ``--data``'s)."""
    from rnnlab.runs import read_run_config
    from rnnlab.tasks.base import with_read_options
    from rnnlab.tasks.forecast.predictor import ForecastPredictor
    from rnnlab.tasks.forecast.workflow import load_series_for, rows_text, value_decimals

    predictor = ForecastPredictor.from_file(request.run)
    found = None
    if request.data is not None:
        config = with_read_options(read_run_config(request.run, request.task.config_type),
                                   request.options)  # fmt: skip
        found = load_series_for(config.data, request.data)
    future = None
    if request.future is not None:
        from rnnlab.data.series import read_future

        future = read_future(
            request.future, predictor.fitted.layout.future,
            time_col=request.options.get("time_col", ""), id_col=request.options.get("id_col", ""),
        )  # fmt: skip
    rows = predictor.forecast(found, request.horizon, future)
    histories = [*predictor.tails.values(), *(found.series if found is not None else [])]
    decimals = value_decimals(*(item.values for item in histories))
    suffix = request.out.suffix.lower() if request.out is not None else ".csv"
    text = rows_text(rows, "jsonl" if suffix == ".jsonl" else "csv", levels=predictor.levels,
                     decimals=decimals)  # fmt: skip
    _write(request.out, text, f"{len(rows)} forecast steps")


def predict_on_ray(
    run: Path,
    task: Any,
    data: str | None,
    out: Path | None,
    text_col: str | None,
    id_col: str | None,
    address: str | None,
    workers: int | None,
    batch_size: int,
    engine: str,
) -> None:
    """``--backend ray``: a task with ``"ray"`` among its ``predict_backends`` (a classifier
    labels, a translation model translates) predicts the files of ``data`` on Ray Data into
    the Parquet folder ``out`` (:mod:`rnnlab.deploy.ray_predict`). The text column is
    ``text_col`` (``--text-col``, or ``--source-col`` for a task that reads a source), else
    the run's own, else the task's default."""
    from rnnlab.deploy import batch_predict as bp
    from rnnlab.deploy.ray_predict import predict_with_ray

    if "ray" not in task.predict_backends:
        from rnnlab.tasks.base import get_task, task_names

        able = [get_task(n).title for n in task_names() if "ray" in get_task(n).predict_backends]
        kinds = " or ".join(f"a {title}" for title in able) or "no installed task"
        raise ConfigError(
            f"--backend ray labels texts with {kinds}; {run} is a {task.title}: drop --backend ray."
        )
    if data is None or out is None:
        raise ConfigError("--backend ray needs --data (files, folder or glob) and --out FOLDER.")
    if text_col is None:
        has_config = (Path(run) / "config.toml").is_file()
        text_col = bp.default_text_col(run) if has_config else task.config_type().data.text_col
    summary = predict_with_ray(
        run, data, out,
        text_col=text_col, id_col=id_col or "id",
        address=address, workers=2 if workers is None else workers,
        batch_size=batch_size, engine=engine,
        text_flag="--source-col" if "source_col" in task.predict_options else "--text-col",
    )  # fmt: skip
    err_console.print(
        f"wrote {summary.rows} predictions to {summary.out}/ (Parquet; {summary.workers} "
        f"actors, {summary.rows_per_s:,.0f} rows/s)",
        soft_wrap=True,
    )


def predict(
    run: Annotated[Path, typer.Argument(help="Run directory (or model file).")],
    data: Annotated[
        str | None,
        typer.Option(
            help="Table (CSV/TSV/JSONL/Parquet), or a .txt file with one input per line (a "
            "classifier skips blank lines, a translation gives each an empty line; messages "
            "name line numbers); - or none: the lines of stdin."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="CSV, JSONL or Parquet to write (default: stdout); a translation writes one "
            "line per input to any other suffix. An existing file is kept unless --overwrite."
        ),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace --out if it exists.")
    ] = False,
    batch_size: Annotated[int, typer.Option(help="Inputs per model batch.")] = 64,
    chunk_rows: Annotated[
        int | None,
        typer.Option(
            help="Rows read, predicted and committed at a time (bounds memory); default 5000."
        ),
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue an interrupted --out job, same settings.")
    ] = False,
    engine: Annotated[str, typer.Option(help="torch or onnx (onnxruntime).")] = "torch",
    horizon: Annotated[
        int | None, typer.Option(help="Forecasting runs: steps ahead (default: the trained).")
    ] = None,
    future: Annotated[
        str | None,
        typer.Option(help="Forecasting: future covariate values after the end of the data."),
    ] = None,
    backend: Annotated[
        str,
        typer.Option(help="local (this process) or ray: Ray Data over a folder or glob of files."),
    ] = "local",
    address: Annotated[
        str | None, typer.Option(help="--backend ray: cluster to join (default: start one here).")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="--backend ray: actors, each with the model (default 2).")
    ] = None,
    *,
    reading: dict[str, Any],
) -> None:
    """Label texts: the text, the label and one probability column per label, in input order.

    Tables and text files (one text per line) of any size stream in chunks; with --out each
    chunk is committed as it is done, so an interrupted job continues with --resume. A
    tagging run reads one tokenised sentence per line and writes token TAB tag lines
    (entity spans for a .jsonl --out). --out is written atomically and never replaces an
    existing file unless --overwrite is given.
    """
    from rnnlab.fileio import refuse_existing
    from rnnlab.tasks.base import refuse_options, task_of_run

    task = task_of_run(run)
    if backend not in ("local", "ray"):
        raise ConfigError(f"--backend {backend!r}: expected local or ray.")
    if backend == "ray":
        refuse_flags(
            {"--resume": resume, "--chunk-rows": chunk_rows is not None,
             "--format": "format" in reading, "--skip-empty": "skip_empty" in reading},
            "with --backend ray (Ray reads the files by their suffix and retries failed work)",
        )  # fmt: skip
        refuse_flags({"--overwrite": overwrite},
                     "with --backend ray, which writes a new folder and never replaces one",
                     ", or remove the folder first")  # fmt: skip
        text_col = reading.get("text_col") or reading.get("source_col")
        return predict_on_ray(run, task, data, out, text_col, reading.get("id_col"), address,
                              workers, batch_size, engine)  # fmt: skip
    refuse_flags(
        {"--address": address is not None, "--workers": workers is not None},
        "without --backend ray",
        ", or add --backend ray",
    )
    options = dict(reading)
    forecaster = hasattr(task.predictor_type, "horizon")
    if (
        is_text_format(reading.get("format"))
        and "format" not in task.predict_options
        and not forecaster
    ):
        del options["format"]  # these runs read one input per line whatever the suffix
    refuse_options(task, list(options), task.predict_options, "predict")
    refuse_flags({"--horizon": horizon is not None and not forecaster,
                  "--future": future is not None and not forecaster},
                 f"for a {task.title} (it applies to forecasters)")  # fmt: skip
    if data == STDIN:
        if forecaster:
            raise ConfigError(
                "--data -: a forecasting run reads its series from a file, not stdin; pass "
                "--data FILE, or leave --data out to forecast the training series."
            )
        data = None
    if out is not None:
        from rnnlab.deploy.batch_predict import parts_dir

        if not (resume and parts_dir(out).is_dir()):  # a job resumed replaces what it began
            refuse_existing(out, overwrite)
    request = Request(
        run=run,
        task=task,
        data=data,
        out=out,
        options=options,
        batch_size=batch_size,
        chunk_rows=chunk_rows,
        resume=resume,
        engine=engine,
        horizon=horizon,
        future=future,
    )
    (task.door("write_predictions") or predict_lines)(request)


SHORT_HELP = "Label texts, sentences or series with a trained model, streaming large files."

# What predict's reading flags mean when it says something else than evaluate.
_READING_HELP = {
    "format": "csv, tsv, jsonl or parquet (default: from the suffix), or text (alias txt): "
    "one text per line whatever the suffix; tagging runs also: conll, wordtag or conllu to "
    "read the tokens of a tagged file.",
    "scheme": "Tagging runs: write tags as auto (the training data's), bio or bioes.",
    "label_col": "Refused: predict reads no labels (evaluate does).",
    "skip_empty": "Drop empty texts.",
    "id_col": "Forecasting: the series column; --backend ray: the id column (id).",
}


def build() -> Any:
    """The ``predict`` command, with the reading flags of every registered task."""
    from rnnlab.cli.lazy import command_of
    from rnnlab.cli.reading import reading_flags

    return command_of(clean_errors(reading_flags(help=_READING_HELP)(predict)), "predict", EPILOG)
