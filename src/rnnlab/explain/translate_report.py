"""``RUN/report.html`` of a translation run, and the attention heat map ``rnnlab explain``
draws.

Sections (each a ``<section id=…>``): ``summary``, ``metrics`` (sacreBLEU BLEU and chrF,
cased and detokenised, with 95 % bootstrap intervals, lowercased BLEU and the
copy-the-source baseline beside them, with sacreBLEU's signatures), ``evaluations`` (every
later ``rnnlab evaluate RUN --data X``), ``curves`` (loss and validation perplexity per
epoch), ``worst`` (the test sentences of lowest sentence BLEU, from
``analysis/translations.csv``), ``attention`` (the attention matrix of a few test sentences
as heat maps: source tokens across, target tokens down, each row the distribution one target
token drew over the source) and ``config``.

Everything comes from the run directory except the heat maps, computed here with the
predictor from the sentences chosen at training time (``analysis/examples.json``:
``[[source, reference], …]``), so a report rendered again shows the same sentences.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rnnlab.explain.charts import learning_curves_figure
from rnnlab.explain.page import (
    EXAMPLES_FILE,
    REPORT_FILE,
    ci_cell,
    evaluation_rows,
    image,
    number,
    page,
    read_csv_rows,
    read_jsonl,
    run_files,
    table,
)
from rnnlab.explain.plots import new_figure
from rnnlab.fileio import atomic_write_text

__all__ = [
    "TRANSLATE_SECTIONS",
    "attention_figure",
    "render_translate_report",
    "write_translate_report",
]

TRANSLATE_SECTIONS = (
    "summary",
    "metrics",
    "evaluations",
    "curves",
    "worst",
    "attention",
    "config",
)
WORST_SHOWN = 10  # sentences in the worst-translations table
# The word tokenizers' joiner: marks a token written without a space before it. A label
# shows the token alone (most fonts have no glyph for it).
JOINER = "\uffed"


def token_label(token: str) -> str:
    """``token`` as an axis label: without the joiner mark."""
    return token.replace(JOINER, "") or token


def attention_figure(
    source_tokens: Sequence[str],
    target_tokens: Sequence[str],
    weights: Sequence[Sequence[float]],
    title: str = "",
) -> Any:
    """Heat map of an attention matrix: ``weights[i][j]`` (target token i, source token j)
    drawn with source tokens across and target tokens down (labelled by
    :func:`token_label`), white 0 to dark 1, so each row shows where one target token
    looked."""
    matrix = np.asarray(weights, dtype=np.float64).reshape(len(target_tokens), len(source_tokens))
    width = min(14.0, 2.6 + 0.42 * len(source_tokens))
    height = min(14.0, 1.6 + 0.34 * len(target_tokens))
    figure, (ax,) = new_figure(width, height)
    shown = ax.imshow(matrix, cmap="Greys", vmin=0.0, vmax=1.0, aspect="auto",
                      interpolation="nearest")  # fmt: skip
    across = [token_label(t) for t in source_tokens]
    ax.set_xticks(range(len(across)), labels=across, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(
        range(len(target_tokens)), labels=[token_label(t) for t in target_tokens], fontsize=8
    )
    ax.set(xlabel="source", ylabel="translation")
    if title:
        ax.set_title(title, fontsize=9)
    figure.colorbar(shown, ax=ax, pad=0.01, fraction=0.04, label="attention weight")
    return figure


def _summary_section(predictor: Any, metrics: dict[str, Any]) -> str:
    model = predictor.model.config
    direction = "bidirectional " if model.bidirectional else ""
    feeding = ", input feeding" if model.input_feeding else ""
    tied = ", output layer tied to the target embedding" if model.tie_embeddings else ""
    decoding = predictor.decoding
    search = "greedy search" if decoding.beam == 1 else f"beam search (beam {decoding.beam})"
    return (
        f"<p>Sequence to sequence with attention: {direction}{model.num_layers}-layer "
        f"{model.cell.upper()} encoder, hidden size {model.hidden_size}, embeddings "
        f"{model.embedding_dim}, {html.escape(model.attention)} attention{feeding}{tied}; "
        f"vocabularies {len(predictor.source_vocab):,} (source, "
        f"{html.escape(predictor.source_tokenizer.name)}) and {len(predictor.target_vocab):,} "
        f"(target, {html.escape(predictor.target_tokenizer.name)}); translations by {search}, "
        f"length penalty α = {decoding.length_penalty:g}.</p>"
        f"<p>Scored on {html.escape(str(metrics.get('data', '?')))}; best epoch "
        f"{metrics.get('best_epoch', '?')}, trained in {metrics.get('train_seconds', '?')} s.</p>"
    )


_SCORE_HEADER = ["system", "BLEU [95% CI]", "chrF [95% CI]", "BLEU lowercased"]


def _metrics_section(metrics: dict[str, Any]) -> str:
    if "bleu" not in metrics:
        return "<p class=muted>No scores in metrics.json.</p>"
    rows = [
        [
            "rnnlab" + (f" (beam {metrics['beam']})" if metrics.get("beam") else ""),
            ci_cell(metrics, "bleu", 2),
            ci_cell(metrics, "chrf", 2),
            ci_cell(metrics, "bleu_lowercase", 2),
        ]
    ]
    if "copy_bleu" in metrics:
        rows.append(["copy the source", number(metrics["copy_bleu"], 2),
                     number(metrics.get("copy_chrf"), 2), "–"])  # fmt: skip
    signatures = "".join(
        f"<br><code>{html.escape(str(metrics[key]))}</code>"
        for key in ("bleu_signature", "chrf_signature", "bleu_lowercase_signature")
        if key in metrics
    )
    return table(_SCORE_HEADER, rows) + (
        "<p class=muted>sacreBLEU on detokenised text, 95 % bootstrap intervals; the "
        f"copy-the-source row is the floor a model must clear. Signatures:{signatures}</p>"
    )


def _evaluations_section(run_dir: Path) -> str:
    rows = [
        [
            html.escape(name),
            html.escape(str(m.get("data", "?"))),
            str(m.get("num_sentences", "–")),
            ci_cell(m, "bleu", 2),
            ci_cell(m, "chrf", 2),
        ]
        for name, m in evaluation_rows(run_dir)
    ]
    if not rows:
        return (
            "<p class=muted>No other evaluations yet; <code>rnnlab evaluate RUN --data X</code> "
            "adds one under evaluations/.</p>"
        )
    return table(["evaluation", "data", "sentences", "BLEU [95% CI]", "chrF [95% CI]"], rows)


def _worst_section(run_dir: Path) -> str:
    rows = read_csv_rows(run_dir / "analysis" / "translations.csv")[:WORST_SHOWN]
    if not rows:
        return "<p class=muted>No analysis/translations.csv in this run.</p>"
    cells = [
        [html.escape(r.get(k, "")) for k in ("source", "reference", "translation")]
        + [number(_float(r.get("bleu")), 1), number(_float(r.get("chrf")), 1)]
        for r in rows
    ]
    return (
        "<p>The test sentences of lowest sentence BLEU (all of them, worst first, in "
        "<code>analysis/translations.csv</code>).</p>"
        + table(["source", "reference", "translation", "BLEU", "chrF"], cells)
    )


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _attention_section(predictor: Any, examples: Sequence[Sequence[str]]) -> str:
    if not examples:
        return "<p class=muted>No sentences saved in analysis/examples.json.</p>"
    parts = [
        "<p>Where each target token looked: one row per token of the translation "
        "(<code>&lt;/s&gt;</code> last), one column per source token; each row sums to 1. "
        "<code>rnnlab explain RUN --text … --plot attention.png</code> draws the same for "
        "any sentence.</p>"
    ]
    for source, reference in examples:
        shown = predictor.attention(source)
        figure = attention_figure(shown.source_tokens, shown.target_tokens, shown.weights)
        parts.append(
            "<div class=example>"
            f"<p><b>source</b> {html.escape(source)}<br><b>reference</b> "
            f"{html.escape(reference)}<br><b>translation</b> "
            f"{html.escape(shown.translation)}</p>"
            f"{image(figure, 'attention: ' + source)}</div>"
        )
    return "".join(parts)


def saved_examples(run_dir: Path) -> list[tuple[str, str]]:
    """The (source, reference) pairs in ``analysis/examples.json``; none when missing."""
    try:
        found = json.loads((run_dir / "analysis" / EXAMPLES_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(found, list):
        return []
    return [
        (str(pair[0]), str(pair[1]))
        for pair in found
        if isinstance(pair, (list, tuple)) and len(pair) == 2
    ]


def render_translate_report(
    run_dir: str | Path, predictor: Any, examples: Sequence[Sequence[str]] | None = None
) -> str:
    """The report page of a translation run as an HTML string (see the module docstring);
    ``examples`` ((source, reference) pairs) default to those in ``analysis/examples.json``."""
    run_dir = Path(run_dir)
    examples = saved_examples(run_dir) if examples is None else examples
    metrics, config_text = run_files(run_dir)
    history = read_jsonl(run_dir / "history.jsonl")
    curves = (
        image(learning_curves_figure(history, "perplexity"), "loss and perplexity per epoch")
        if history
        else "<p class=muted>No history.jsonl in this run.</p>"
    )
    blocks = {
        "summary": ("Summary", _summary_section(predictor, metrics)),
        "metrics": ("BLEU and chrF", _metrics_section(metrics)),
        "evaluations": ("Evaluations on other data", _evaluations_section(run_dir)),
        "curves": ("Learning curves", curves),
        "worst": ("Worst translations", _worst_section(run_dir)),
        "attention": ("Attention", _attention_section(predictor, examples)),
        "config": ("Configuration", f"<pre>{html.escape(config_text)}</pre>"),
    }
    return page(run_dir, blocks)


def write_translate_report(
    run_dir: str | Path, predictor: Any, examples: Sequence[Sequence[str]] | None = None
) -> Path:
    """Render and write ``run_dir/report.html`` atomically; returns its path."""
    path = Path(run_dir) / REPORT_FILE
    atomic_write_text(path, render_translate_report(run_dir, predictor, examples))
    return path
