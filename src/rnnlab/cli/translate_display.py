"""The translation task's command-line doors: how ``train``/``evaluate`` show its scores and
how ``predict`` writes its translations.

``print_translation``: BLEU and chrF (cased, detokenised, sacreBLEU) with their 95 %
intervals, lowercased BLEU, the copy-the-source baseline beside them, and sacreBLEU's
signature, so a number is never shown without what it means.

``explain_translations``: ``rnnlab explain`` on a translation run: each sentence's
translation and its attention matrix (source tokens across, target tokens down), as a table,
JSON (``--json``) or a heat map (``--plot``).

``predict_translations``: one source sentence a line (a text file, ``.gz`` included, or
standard input), or the ``--source-col`` column of a table; one translation a line back, in
input order, written in chunks so that output starts before a large file is finished.
"""

from __future__ import annotations

import sys
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

_CHUNK = 512  # sentences translated and written at a time


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


def _sources(request: Any) -> list[str]:
    """The sentences to translate: a table's ``--source-col``, else one per line."""
    from rnnlab.cli.predict import STDIN, input_lines
    from rnnlab.data.formats import SUFFIXES

    data, options = request.data, request.options
    fmt = (options.get("format") or "").lower()
    table = fmt in ("csv", "tsv", "jsonl", "parquet") or (
        data not in (None, STDIN) and fmt != "text" and Path(data).suffix.lower() in SUFFIXES
    )
    if not table:
        if data not in (None, STDIN) and Path(data).suffix == ".gz":
            from rnnlab.tasks.translate.data import read_lines

            return [line for line in read_lines(data, "--data") if line.strip()]
        return input_lines(data, "one sentence per line")
    from rnnlab.data.tables import read_table

    column = options.get("source_col") or "source"
    found = read_table(data, text_col=column, label_col=None, format=fmt or None)
    return found.texts


def predict_translations(request: Any) -> None:
    """Translate the input sentences with the run's decoding settings; one translation a
    line to ``--out`` (atomically) or standard output."""
    from rnnlab.cli.common import refuse_flags
    from rnnlab.deploy.engines import load
    from rnnlab.fileio import atomic_open

    refuse_flags(
        {"--resume": request.resume, "--chunk-rows": request.chunk_rows is not None},
        "for a translation run, which writes its translations in one pass",
    )
    predictor = load(request.run, engine=request.engine)
    sources = _sources(request)

    def write(handle: Any) -> None:
        for start in range(0, len(sources), _CHUNK):
            chunk = sources[start : start + _CHUNK]
            for line in predictor.translate(chunk, batch_size=request.batch_size):
                handle.write(str(line).replace("\n", " ") + "\n")
            handle.flush()

    if request.out is None:
        write(sys.stdout)
        return
    with atomic_open(request.out, "w") as handle:
        write(handle)
    err_console.print(f"wrote {len(sources)} translations to {request.out}")


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
