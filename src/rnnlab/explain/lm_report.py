"""``RUN/report.html`` of a language-model run: one self-contained page.

Sections (each a ``<section id=…>``): ``summary``, ``metrics`` (per-token NLL in nats and
bits, perplexity; bits per character at character level), ``evaluations`` (every later
``rnnlab evaluate RUN --data X``), ``curves`` (perplexity per epoch), ``samples`` (one
prompt continued at three temperatures, seeded, so the page can be rendered again with
the same text), ``surprisal`` (−log₂ p of every token of one validation text, the plot
psycholinguists read) and ``config``.

Everything comes from the run directory except the samples and the surprisal, computed here
with the predictor from the prompt and text chosen at training time
(``analysis/examples.json``: ``{"prompt": …, "text": …}``).
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any

from rnnlab.explain.charts import perplexity_curves_figure, surprisal_figure
from rnnlab.explain.page import (
    EXAMPLES_FILE,
    REPORT_FILE,
    evaluation_rows,
    image,
    number,
    page,
    read_jsonl,
    run_files,
    table,
)
from rnnlab.fileio import atomic_write_text

__all__ = ["LM_SECTIONS", "SAMPLE_TEMPERATURES", "render_lm_report", "write_lm_report"]

LM_SECTIONS = (
    "summary",
    "metrics",
    "evaluations",
    "curves",
    "samples",
    "surprisal",
    "config",
)
# Cautious, moderate and the model's own distribution: how much a sample owes to sampling.
SAMPLE_TEMPERATURES = (0.5, 0.8, 1.0)
SAMPLE_SEED = 0


def _unit(level: str) -> str:
    return "character" if level == "char" else "word"


def _summary_section(predictor: Any, metrics: dict[str, Any]) -> str:
    model = predictor.model.config
    softmax = "two-level (adaptive)" if predictor.model.adaptive is not None else "full"
    tied = "tied to the embedding" if model.tie_weights else "untied"
    return (
        f"<p>{_unit(predictor.level)}-level language model: {model.num_layers}-layer "
        f"{model.cell.upper()}, hidden size {model.hidden_size}, embeddings "
        f"{model.embedding_dim}, {softmax} softmax {tied}; vocabulary "
        f"{len(predictor.vocab):,}.</p>"
        f"<p>Trained on {html.escape(str(metrics.get('data', '?')))}; best epoch "
        f"{metrics.get('best_epoch', '?')}, trained in {metrics.get('train_seconds', '?')} s.</p>"
    )


def _score_row(name: str, m: dict[str, Any], prefix: str) -> list[str]:
    bits = m.get(f"{prefix}bits_per_token")
    nats = bits * math.log(2) if isinstance(bits, (int, float)) else None
    tokens = m.get(f"{prefix}tokens")
    return [
        html.escape(name),
        f"{tokens:,}" if isinstance(tokens, int) else "–",
        number(nats),
        number(bits),
        number(m.get(f"{prefix}perplexity"), 2),
    ]


_SCORE_HEADER = ["split", "tokens scored", "NLL (nats/token)", "bits/token", "perplexity"]


def _metrics_section(metrics: dict[str, Any], level: str) -> str:
    rows = [
        _score_row(split, metrics, f"{split}_")
        for split in ("valid", "test")
        if f"{split}_perplexity" in metrics
    ]
    if not rows:
        return "<p class=muted>No scores in metrics.json.</p>"
    header = list(_SCORE_HEADER)
    if level == "char":
        header[3] = "bits/character (bpc)"
    return table(header, rows) + (
        "<p class=muted>Every token of each split is scored once, the hidden state carried "
        "through the text (the numbers do not depend on the evaluation batch size); "
        "perplexity = exp(NLL) = 2<sup>bits</sup>.</p>"
    )


def _evaluations_section(run_dir: Path) -> str:
    rows = [
        [html.escape(str(m.get("data", "?"))), *_score_row(name, m, "")[1:]]
        for name, m in evaluation_rows(run_dir)
    ]
    if not rows:
        return (
            "<p class=muted>No other evaluations yet; <code>rnnlab evaluate RUN --data X</code> "
            "adds one under evaluations/.</p>"
        )
    return table(["data", *_SCORE_HEADER[1:]], rows)


def _samples_section(predictor: Any, prompt: str, max_new_tokens: int) -> str:
    if not prompt:
        return "<p class=muted>No prompt saved in analysis/examples.json.</p>"
    rows = []
    joint = "" if predictor.level == "char" else " "  # characters carry their own spaces
    for temperature in SAMPLE_TEMPERATURES:
        text = predictor.generate(
            prompt, max_new_tokens, temperature=temperature, seed=SAMPLE_SEED
        )[0]
        rows.append(
            [
                f"{temperature:g}",
                f"<div class=sample><b>{html.escape(prompt)}</b>{joint}{html.escape(text)}</div>",
            ]
        )
    return (
        f"<p>The prompt in bold, continued by up to {max_new_tokens} {_unit(predictor.level)}s "
        f"(<code>rnnlab generate RUN --prompt … --temperature T --seed {SAMPLE_SEED}</code>; "
        "lower temperatures keep to the likeliest tokens).</p>"
        + table(["temperature", "sample"], rows)
    )


def _surprisal_section(predictor: Any, text: str) -> str:
    if not text:
        return "<p class=muted>No validation text saved in analysis/examples.json.</p>"
    (scored,) = predictor.surprisal([text])
    unit = _unit(predictor.level)
    parts = [
        f"<p>A validation text, {len(scored.tokens)} {unit}s: {scored.total_bits:.1f} bits in "
        f"all, {scored.total_bits / max(len(scored.bits), 1):.3f} bits per {unit}, "
        f"perplexity {scored.perplexity:.2f}. <code>rnnlab score RUN --data texts.txt --out "
        "surprisal.tsv</code> writes the same for any texts.</p>",
        image(surprisal_figure(scored.tokens, scored.bits, unit), "surprisal per token"),
    ]
    pairs = scored.words if scored.words else list(zip(scored.tokens, scored.bits, strict=True))
    top = sorted(pairs, key=lambda pair: -pair[1])[:8]
    word = "word (sum of its characters)" if scored.words else unit
    parts.append(table([word, "surprisal (bits)"], [[html.escape(t), f"{b:.2f}"] for t, b in top]))
    return "".join(parts)


def _saved_examples(run_dir: Path) -> dict[str, str]:
    try:
        found = json.loads((run_dir / "analysis" / EXAMPLES_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in found.items() if isinstance(v, str)} if isinstance(found, dict) else {}


def render_lm_report(
    run_dir: str | Path,
    predictor: Any,
    *,
    prompt: str | None = None,
    text: str | None = None,
) -> str:
    """The report page of a language-model run as an HTML string (see the module
    docstring); ``prompt`` and ``text`` default to those in ``analysis/examples.json``."""
    run_dir = Path(run_dir)
    saved = _saved_examples(run_dir)
    prompt = saved.get("prompt", "") if prompt is None else prompt
    text = saved.get("text", "") if text is None else text
    metrics, config_text = run_files(run_dir)
    history = read_jsonl(run_dir / "history.jsonl")
    curves = (
        image(perplexity_curves_figure(history), "perplexity per epoch")
        if history
        else "<p class=muted>No history.jsonl in this run.</p>"
    )
    length = 200 if predictor.level == "char" else 40
    blocks = {
        "summary": ("Summary", _summary_section(predictor, metrics)),
        "metrics": ("Perplexity and bits", _metrics_section(metrics, predictor.level)),
        "evaluations": ("Evaluations on other text", _evaluations_section(run_dir)),
        "curves": ("Learning curves", curves),
        "samples": ("Samples at three temperatures", _samples_section(predictor, prompt, length)),
        "surprisal": ("Surprisal of a validation text", _surprisal_section(predictor, text)),
        "config": ("Configuration", f"<pre>{html.escape(config_text)}</pre>"),
    }
    return page(run_dir, blocks)


def write_lm_report(
    run_dir: str | Path, predictor: Any, *, prompt: str | None = None, text: str | None = None
) -> Path:
    """Render and write ``run_dir/report.html`` atomically; returns its path."""
    path = Path(run_dir) / REPORT_FILE
    atomic_write_text(path, render_lm_report(run_dir, predictor, prompt=prompt, text=text))
    return path
