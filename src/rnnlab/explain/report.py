"""``RUN/report.html``: one self-contained page about a trained classification run.

Sections (each a ``<section id=…>``): ``summary``, ``metrics`` (with 95 % intervals, the
baselines and McNemar's test), ``evaluations`` (every later ``rnnlab evaluate RUN --data X``,
from ``RUN/evaluations/*/metrics.json``), ``curves`` (loss and validation metrics per epoch),
``confusion``, ``lengths`` (accuracy by text length), ``examples`` (texts coloured by
integrated-gradients attribution, each with its gate trace), ``mistakes`` and ``config``.

Everything comes from the run directory (config.toml, metrics.json, history.jsonl,
analysis/*.csv, evaluations/) except the explained examples, computed here with the
predictor from the texts chosen at evaluation time (``analysis/examples.json``). Figures are
PNGs embedded as base64 data URIs and the style sheet is inline, so the file reads offline
and can be mailed as it is; nothing on the page loads from the network.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rnnlab.errors import MissingDependencyError
from rnnlab.evaluate.comparison import (
    caution_sentences,
    compared_systems,
    mcnemar_sentences,
    setting_sentences,
)
from rnnlab.explain.charts import confusion_figure, learning_curves_figure, length_buckets_figure
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
from rnnlab.explain.plots import gate_trace_figure, pca_figure
from rnnlab.fileio import atomic_write_text

__all__ = ["EXAMPLES_FILE", "REPORT_FILE", "SECTIONS", "render_report", "write_report"]

Example = str | tuple[str, str | None]  # a text, or (text, its true label)
# A completeness gap above this (in probability) marks attributions as unreliable: the
# prediction changes too abruptly along the path for the quadrature to follow.
GAP_WARNING = 0.05
SECTIONS = (
    "summary",
    "metrics",
    "evaluations",
    "curves",
    "confusion",
    "lengths",
    "examples",
    "mistakes",
    "config",
)


def _metrics_section(metrics: dict[str, Any]) -> str:
    rows = [
        [html.escape(title.strip()), ci_cell(sub, "accuracy"), ci_cell(sub, "macro_f1")]
        for title, sub in compared_systems(metrics)
    ]
    parts = [
        f"<p>{metrics.get('num_examples', '?')} texts of the {metrics.get('split', '?')} split; "
        f"95 % percentile bootstrap intervals over {metrics.get('ci_resamples', 1000)} "
        "resamples in brackets.</p>",
        table(["system", "accuracy [95% CI]", "macro-F1 [95% CI]"], rows),
    ]
    sentences = setting_sentences(metrics) + mcnemar_sentences(metrics)
    parts += [f"<p>{html.escape(sentence)}</p>" for sentence in sentences]
    parts += [
        f'<p style="color:#8a4b00"><b>Note:</b> {html.escape(sentence)}</p>'
        for sentence in caution_sentences(metrics)
    ]
    if "baselines_skipped" in metrics:
        parts.append(
            f"<p class=muted>Baselines skipped: {html.escape(metrics['baselines_skipped'])}</p>"
        )
    labels = metrics.get("labels", [])
    per_class = [
        [html.escape(str(label)), number(metrics.get(f"precision_{label}")),
         number(metrics.get(f"recall_{label}")), number(metrics.get(f"f1_{label}")),
         str(metrics.get(f"support_{label}", "–"))]
        for label in labels
    ]  # fmt: skip
    if per_class:
        parts.append(table(["class", "precision", "recall", "F1", "support"], per_class))
    return "".join(parts)


def _evaluations_section(run_dir: Path) -> str:
    rows = []
    for name, m in evaluation_rows(run_dir):
        tfidf = {k.removeprefix("baseline_tfidf_"): v for k, v in m.items()}
        rows.append(
            [
                html.escape(name),
                html.escape(str(m.get("data", "?"))),
                str(m.get("num_examples", "?")),
                ci_cell(m, "accuracy"),
                ci_cell(m, "macro_f1"),
                ci_cell(tfidf, "accuracy") if "baseline_tfidf_accuracy" in m else "–",
                f"{m['mcnemar_p']:.4g}" if "mcnemar_p" in m else "–",
            ]
        )
    if not rows:
        return (
            "<p class=muted>No other evaluations yet; <code>rnnlab evaluate RUN --data X</code> "
            "adds one under evaluations/.</p>"
        )
    return table(
        ["name", "data", "texts", "accuracy [95% CI]", "macro-F1 [95% CI]", "TF-IDF accuracy",
         "McNemar p"],
        rows,
    ) + "<p class=muted>Each in evaluations/NAME/ (metrics.json, analysis/).</p>"  # fmt: skip


def _token_spans(tokens: Sequence[str], scores: Sequence[float]) -> str:
    scale = max((abs(s) for s in scores), default=0.0) or 1.0
    spans = []
    for token, score in zip(tokens, scores, strict=True):
        alpha = min(1.0, abs(score) / scale) * 0.85
        rgb = "34,139,34" if score >= 0 else "214,39,40"
        spans.append(
            f'<span class=tok style="background:rgba({rgb},{alpha:.2f})" '
            f'title="{score:+.4f}">{html.escape(token)}</span>'
        )
    return " ".join(spans)


def _examples_section(predictor: Any, examples: Sequence[Example], steps: int) -> str:
    if not examples:
        return "<p class=muted>No examples to explain.</p>"
    pairs = [(e, None) if isinstance(e, str) else (e[0], e[1]) for e in examples]
    texts = [text for text, _ in pairs]
    try:
        explanations = predictor.explain(texts, method="ig", steps=steps)
        method = "integrated gradients (baseline: all padding)"
    except MissingDependencyError:
        explanations = predictor.explain(texts, method="occlusion")
        method = "occlusion (captum is not installed)"
    parts = [
        f"<p>Token attributions by {method} towards the predicted label. "
        "<span class=legend><span style='background:rgba(34,139,34,.6)'>pushes towards it</span>"
        "<span style='background:rgba(214,39,40,.6)'>pushes away</span></span> "
        "Hover a token for its value.</p>"
    ]
    for i, (explanation, (_, true)) in enumerate(zip(explanations, pairs, strict=True)):
        probs = ", ".join(f"{k}: {v:.3f}" for k, v in explanation.probabilities.items())
        verdict = ""
        if true is not None:
            right = str(true) == explanation.label
            verdict = f" — true {html.escape(str(true))}, " + (
                "correct" if right else "<b>mistake</b>"
            )
        gap = explanation.completeness_gap
        gap_text = "" if gap is None else f"; completeness gap {gap:.2e}"
        if gap is not None and gap > GAP_WARNING:
            gap_text += " — <b>large: the integral is inexact here, use more steps</b>"
        trace = predictor.trace(explanation.text)
        parts.append(
            f"<div class=example><p><b>predicted {html.escape(explanation.label)}</b>{verdict} "
            f"<span class=muted>({probs}; Σ attributions {sum(explanation.attributions):+.4f}"
            f"{gap_text})</span></p>"
            f"<div class=tokens>{_token_spans(explanation.tokens, explanation.attributions)}</div>"
            f"{image(gate_trace_figure(trace), 'gate trace')}"
            + (image(pca_figure(trace), "hidden-state PCA") if i == 0 else "")
            + "</div>"
        )
    return "".join(parts)


def _summary_section(predictor: Any, metrics: dict[str, Any], labels: Sequence[str]) -> str:
    model = predictor.model.config
    data = f", data {html.escape(str(metrics['data']))}" if "data" in metrics else ""
    split = html.escape(str(metrics.get("split", "?")))
    return (
        f"<p>{model.num_layers}-layer {'bidirectional ' if model.bidirectional else ''}"
        f"{model.cell.upper()}, hidden size {model.hidden_size}, embeddings "
        f"{model.embedding_dim}, pooling {model.pooling}; vocabulary {len(predictor.vocab):,}; "
        f"labels {', '.join(html.escape(str(x)) for x in labels)}.</p>"
        f"<p>Evaluated on {metrics.get('num_examples', '?')} texts ({split}{data}); "
        f"best epoch {metrics.get('best_epoch', '?')}, trained in "
        f"{metrics.get('train_seconds', '?')} s.</p>"
    )


def _lengths_section(buckets: Sequence[dict[str, str]]) -> str:
    if not buckets:
        return "<p class=muted>No length analysis in this run.</p>"
    rows = [
        [
            b["bucket"],
            b["count"],
            ci_cell({k: float(v) for k, v in b.items() if "acc" in k}, "accuracy"),
        ]
        for b in buckets
    ]
    return image(length_buckets_figure(buckets), "accuracy by length") + table(
        ["tokens", "texts", "accuracy [95% CI]"], rows
    )


def _mistakes_section(mistakes: Sequence[dict[str, str]]) -> str:
    if not mistakes:
        return "<p class=muted>No mistakes recorded.</p>"
    rows = []
    for m in mistakes:
        text = m["text"][:400] + ("…" if len(m["text"]) > 400 else "")
        rows.append([html.escape(m["true"]), html.escape(m["predicted"]), m["confidence"],
                     html.escape(text)])  # fmt: skip
    return table(["true", "predicted", "confidence", "text"], rows) + (
        "<p class=muted>All of them: analysis/mistakes.csv; confusions and length buckets "
        "beside it.</p>"
    )


def _saved_examples(run_dir: Path) -> list[Example]:
    path = run_dir / "analysis" / EXAMPLES_FILE
    try:
        return [(text, label) for text, label in json.loads(path.read_text("utf-8"))]
    except (OSError, ValueError, TypeError):
        return []


def render_report(
    run_dir: str | Path,
    predictor: Any,
    examples: Sequence[Example] | None = None,
    *,
    steps: int = 50,
) -> str:
    """The report page for ``run_dir`` as an HTML string (see the module docstring);
    ``examples`` default to those saved in ``analysis/examples.json``."""
    run_dir = Path(run_dir)
    if examples is None:
        examples = _saved_examples(run_dir)
    metrics, config_text = run_files(run_dir)
    history = read_jsonl(run_dir / "history.jsonl")
    buckets = read_csv_rows(run_dir / "analysis" / "length_buckets.csv")
    mistakes = read_csv_rows(run_dir / "analysis" / "mistakes.csv")[:10]
    labels = metrics.get("labels") or [str(label) for label in predictor.labels]
    curves = (
        image(learning_curves_figure(history), "learning curves")
        if history
        else "<p class=muted>No history.jsonl in this run.</p>"
    )
    confusion = (
        image(confusion_figure(metrics["confusion_matrix"], labels), "confusion matrix")
        if "confusion_matrix" in metrics
        else "<p class=muted>No confusion matrix in metrics.json.</p>"
    )
    blocks = {
        "summary": ("Summary", _summary_section(predictor, metrics, labels)),
        "metrics": ("Metrics, intervals and baselines", _metrics_section(metrics)),
        "evaluations": ("Evaluations on other data", _evaluations_section(run_dir)),
        "curves": ("Learning curves", curves),
        "confusion": ("Confusion matrix", confusion),
        "lengths": ("Accuracy by text length", _lengths_section(buckets)),
        "examples": ("Explained examples", _examples_section(predictor, examples, steps)),
        "mistakes": ("Most confident mistakes", _mistakes_section(mistakes)),
        "config": ("Configuration", f"<pre>{html.escape(config_text)}</pre>"),
    }
    return page(run_dir, blocks)


def write_report(
    run_dir: str | Path,
    predictor: Any,
    examples: Sequence[Example] | None = None,
    *,
    steps: int = 50,
) -> Path:
    """Render and write ``run_dir/report.html`` atomically; returns its path."""
    path = Path(run_dir) / REPORT_FILE
    atomic_write_text(path, render_report(run_dir, predictor, examples, steps=steps))
    return path
