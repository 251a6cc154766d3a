"""The translation task's command-line doors: how ``train``/``evaluate`` show its scores and
how ``predict`` writes its translations.

``print_translation``: BLEU and chrF (cased, detokenised, sacreBLEU) with their 95 %
intervals, lowercased BLEU, the copy-the-source baseline beside them, and sacreBLEU's
signature, so a number is never shown without what it means.

``explain_translations``: ``rnnlab explain`` on a translation run: each sentence's
translation and its attention matrix (source tokens across, target tokens down), as a table,
JSON (``--json``) or a heat map (``--plot``).

``predict_translations``: one source sentence a line (a text file, ``.gz`` included, or
standard input), or the ``--source-col`` column of a table (CSV, TSV, JSONL, Parquet). The
input is read, translated and written ``--chunk-rows`` sentences at a time (default
:data:`~rnnlab.deploy.batch_predict.CHUNK_ROWS`), so memory is bounded by one chunk. To
standard output (no ``--out``) or to an ``--out`` that is not a table, it writes one
translation a line; a ``.csv``, ``.jsonl`` or ``.parquet`` ``--out`` is a table of the source
column and a ``translation`` column. An ``--out`` file is written like a classifier's batch
prediction (:mod:`rnnlab.deploy.batch_predict`): each chunk committed as it finishes, an
interrupted job continued with ``--resume`` into the same file an uninterrupted one writes,
the finished file put in place atomically.

Blank lines keep their place: a blank source line gives an empty translation line, so line
``i`` of the output is always the translation of line ``i`` of the input (an empty cell of a
table is an error, as for every table rnnlab reads).
"""

from __future__ import annotations

import contextlib
import hashlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from rnnlab.cli.common import err_console

__all__ = [
    "explain_translations",
    "predict_translations",
    "print_translation",
    "translation_headline",
]


def translation_headline(metrics: dict[str, Any]) -> str:
    """One line: BLEU with its interval, chrF, and the copy baseline."""
    split = metrics.get("split", "test")
    line = f"{split} BLEU {metrics['bleu']:.2f}"
    if "bleu_ci_low" in metrics:
        line += f" [{metrics['bleu_ci_low']:.2f}, {metrics['bleu_ci_high']:.2f}]"
    line += f"  chrF {metrics['chrf']:.2f}  lowercased BLEU {metrics['bleu_lowercase']:.2f}"
    if "copy_bleu" in metrics:
        line += f"  (copy-the-source BLEU {metrics['copy_bleu']:.2f})"
    return line


def print_translation(metrics: dict[str, Any], title: str, console: Console) -> None:
    """The model's scores beside the copy-the-source baseline, then the signature."""
    table = Table(title=title, show_header=True)
    for column in ("system", "BLEU", "95% interval", "chrF", "BLEU lowercased"):
        table.add_column(column, justify="left" if column == "system" else "right")

    def interval(name: str) -> str:
        if f"{name}_ci_low" not in metrics:
            return ""
        return f"[{metrics[f'{name}_ci_low']:.2f}, {metrics[f'{name}_ci_high']:.2f}]"

    beam = metrics.get("beam")
    system = f"rnnlab (beam {beam})" if beam else "rnnlab"
    table.add_row(
        system,
        f"{metrics['bleu']:.2f}",
        interval("bleu"),
        f"{metrics['chrf']:.2f}",
        f"{metrics['bleu_lowercase']:.2f}",
    )
    if "copy_bleu" in metrics:
        table.add_row("copy the source", f"{metrics['copy_bleu']:.2f}", "",
                      f"{metrics['copy_chrf']:.2f}", "")  # fmt: skip
    console.print(table)
    console.print(translation_headline(metrics))
    if "bleu_signature" in metrics:
        console.print(f"sacreBLEU {metrics['bleu_signature']}", soft_wrap=True)


def _is_table(data: str | None, format: str | None) -> bool:
    """True when the input is a table (a table ``--format``, or a table's suffix without
    ``--format text``), False for one sentence a line."""
    from rnnlab.cli.predict import STDIN, is_text_format
    from rnnlab.data.formats import SUFFIXES

    if data in (None, STDIN) or is_text_format(format):
        return False
    if format is not None:
        return True
    return Path(data).suffix.lower() in SUFFIXES


def _fingerprint(run: Path, engine: str) -> str:
    """What a translation depends on, for ``--resume``: the model file's bytes (weights,
    vocabularies, tokenizers and decoding settings) and the engine."""
    from rnnlab.runs import resolve_model_path

    digest = hashlib.sha256(engine.encode())
    with open(resolve_model_path(run), "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _source_col(run: Path) -> str:
    """The source column the run was trained on (its config.toml), else ``"source"``."""
    from rnnlab.deploy.batch_predict import default_text_col

    return default_text_col(run) if (Path(run) / "config.toml").is_file() else "source"


@contextlib.contextmanager
def _source_col_flag() -> Iterator[None]:
    """The table reader names the text column's flag ``--text-col``; a translation run's
    is ``--source-col``, so its messages say that."""
    from rnnlab.errors import DataError

    try:
        yield
    except DataError as exc:
        if "--text-col" not in str(exc):
            raise
        raise DataError(str(exc).replace("--text-col", "--source-col")) from None


def _stdin_chunks(size: int) -> Iterator[list[str]]:
    """The lines of standard input, ``size`` at a time, without their line ends."""
    chunk: list[str] = []
    for line in sys.stdin:
        chunk.append(line.rstrip("\r\n"))
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _one_line(text: str) -> str:
    """A translation on one line (a line break inside would shift every later line)."""
    return " ".join(str(text).splitlines()) + "\n"


def predict_translations(request: Any) -> None:
    """Translate the input sentences with the run's decoding settings, chunk by chunk: to
    standard output (one translation a line) or to ``--out`` (committed chunk by chunk,
    resumable; see the module docstring)."""
    from rnnlab.cli.common import refuse_flags
    from rnnlab.cli.progress import run_batch_job
    from rnnlab.deploy import batch_predict as bp
    from rnnlab.deploy.engines import load
    from rnnlab.errors import ValueRangeError
    from rnnlab.tasks.translate.predictor import translation_columns

    data, out, options = request.data, request.out, request.options
    refuse_flags(
        {"--resume": request.resume and out is None},
        "without --out, as translations written to stdout cannot be resumed",
        ", or write to a file with --out",
    )
    refuse_flags(
        {"--resume": request.resume and data is None},
        "without --data, as standard input cannot be read again",
        ", or pass the file with --data",
    )
    chunk_rows = bp.CHUNK_ROWS if request.chunk_rows is None else request.chunk_rows
    if chunk_rows < 1:
        raise ValueRangeError(f"--chunk-rows {chunk_rows}: expected at least 1 sentence.")
    table = _is_table(data, options.get("format"))
    source_col = options.get("source_col") or _source_col(request.run)
    predictor = load(request.run, engine=request.engine)
    columns = bp.OutputColumns(
        ("translation",),
        lambda texts: translation_columns(predictor, texts, request.batch_size),
        text_name=source_col,
    )
    if data is None:
        for chunk in _stdin_chunks(chunk_rows):
            sys.stdout.writelines(_one_line(t) for t in columns.predict(chunk)["translation"])
            sys.stdout.flush()
        return
    settings = {
        "text_col": source_col,
        "format": options.get("format") if table else bp.TEXT_FORMAT,
        "chunk_rows": chunk_rows,
        "encoding": options.get("encoding") or "auto",
        "columns": columns,
        "keep_blank": True,
    }
    if out is None:
        with _source_col_flag():
            for _, found in bp.iter_predictions(predictor, data, **settings):
                sys.stdout.writelines(_one_line(t) for t in found["translation"])
                sys.stdout.flush()
        return

    def job(progress: Any) -> Any:
        with _source_col_flag():
            return bp.predict_file(
                predictor, data, out, resume=request.resume, on_progress=progress,
                out_format=bp.OUTPUT_FORMATS.get(out.suffix.lower(), bp.TEXT_FORMAT),
                fingerprint=_fingerprint(request.run, request.engine), **settings,
            )  # fmt: skip

    summary = run_batch_job(err_console, out, job)
    err_console.print(
        f"wrote {summary.rows} translations to {out} ({summary.rows_per_s:,.1f} sentences/s)",
        soft_wrap=True,
    )


def explain_translations(
    run: Path,
    texts: list[str],
    *,
    plot: Path | None,
    as_json: bool,
    console: Console,
    err_console: Console,
    options: dict[str, Any],
) -> None:
    """The translation of each text and where each of its tokens looked in the source:
    the attention matrix as a table (or a JSON object with ``--json``), and as a heat map
    with ``--plot`` (one file per text, numbered when there are several)."""
    import json

    from rnnlab.cli.common import refuse_flags
    from rnnlab.deploy.engines import load

    refuse_flags(
        {
            "--method": options.get("method", "ig") != "ig",
            "--target": options.get("target") is not None,
            "--steps": options.get("steps", 50) != 50,
        },
        "for a translation run, whose explanation is its attention",
    )
    predictor = load(run)
    for i, text in enumerate(texts):
        shown = predictor.attention(text)
        if as_json:
            record = {
                "text": text,
                "translation": shown.translation,
                "source_tokens": shown.source_tokens,
                "target_tokens": shown.target_tokens,
                "weights": shown.weights,
            }
            console.print_json(json.dumps(record, ensure_ascii=False))
        else:
            _print_attention(shown, console)
        if plot is not None:
            from rnnlab.explain.plots import save_figure
            from rnnlab.explain.translate_report import attention_figure

            path = plot if len(texts) == 1 else plot.with_stem(f"{plot.stem}-{i + 1}")
            figure = attention_figure(
                shown.source_tokens, shown.target_tokens, shown.weights, shown.translation
            )
            save_figure(figure, path)
            err_console.print(f"wrote {path}")


def _print_attention(shown: Any, console: Console) -> None:
    """The translation, then one row per target token with its weight on each source
    token (the largest of each row in bold)."""
    console.print(f"translation: {shown.translation}", highlight=False, soft_wrap=True)
    table = Table(title="attention (rows: translation, columns: source; rows sum to 1)",
                  show_header=True, box=None)  # fmt: skip
    table.add_column("")
    for token in shown.source_tokens:
        table.add_column(token, justify="right")
    for token, row in zip(shown.target_tokens, shown.weights, strict=True):
        best = max(range(len(row)), key=row.__getitem__) if row else -1
        cells = [f"[bold]{w:.2f}[/bold]" if j == best else f"{w:.2f}" for j, w in enumerate(row)]
        table.add_row(token, *cells)
    console.print(table)
