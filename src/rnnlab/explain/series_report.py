"""The report page of a series-classification run: accuracy beside the baselines, the
confusion matrix, the most confident mistakes drawn as series, and the training curve.

Built from the run's own files (``metrics.json``, ``analysis/predictions.csv``,
``history.jsonl``, ``config.toml``), so it can be rendered again at any time; one
self-contained HTML file as the other reports (:mod:`rnnlab.explain.page`).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rnnlab.explain.charts import confusion_figure
from rnnlab.explain.page import (
    REPORT_FILE,
    ci_cell,
    image,
    loss_curve,
    number,
    page,
    read_csv_rows,
    run_files,
    table,
)
from rnnlab.explain.plots import new_figure
from rnnlab.fileio import atomic_write_text

__all__ = ["PREDICTIONS_FILE", "render_series_report", "write_series_report"]

PREDICTIONS_FILE = "predictions.csv"
_MAX_MISTAKES = 6
_BASELINES = (("majority", "majority class"), ("1nn", "1-NN, Euclidean"),
              ("1nn_dtw", "1-NN, DTW (full window)"))  # fmt: skip


def mistakes_figure(rows: Sequence[dict[str, str]]) -> Any:
    """The most confident mistakes, one panel each: the test series, its true and predicted
    class and the probability the model gave the wrong one."""
    figure, axes = new_figure(8.0, 1.6 * len(rows), rows=len(rows))
    for ax, row in zip(axes, rows, strict=True):
        values = [float(v) for v in row["values"].split()]
        ax.plot(range(len(values)), values, color="tab:red")
        ax.set_title(f"series {row['index']}: true {row['truth']}, predicted "
                     f"{row['predicted']} (p = {float(row['confidence']):.2f})",
                     fontsize=8)  # fmt: skip
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=7)
    return figure


def _accuracy_section(metrics: dict[str, Any]) -> str:
    rows = [["rnnlab (recurrent)", ci_cell(metrics, "accuracy"), ci_cell(metrics, "macro_f1")]]
    for key, title in _BASELINES:
        if f"baseline_{key}_accuracy" in metrics:
            rows.append([title, number(metrics[f"baseline_{key}_accuracy"]), ""])
    mcnemar = ""
    if "mcnemar_1nn_p_value" in metrics:
        mcnemar = (f"<p>McNemar against 1-NN (Euclidean): only the model right on "
                   f"{metrics['mcnemar_1nn_model_only']} series, only 1-NN on "
                   f"{metrics['mcnemar_1nn_baseline_only']}; p = "
                   f"{number(metrics['mcnemar_1nn_p_value'], 4)}.</p>")  # fmt: skip
    where = html.escape(str(metrics.get("data", "")))
    header = ["system", "accuracy [95 % CI]", "macro-F1 [95 % CI]"]
    return (f"<p class=muted>{where}: {metrics.get('test_size')} test series</p>"
            + table(header, rows) + mcnemar)  # fmt: skip


def _errors_section(rows: list[dict[str, str]]) -> str:
    if not rows:
        return "<p class=muted>No analysis/predictions.csv in this run.</p>"
    labels = sorted({r["truth"] for r in rows} | {r["predicted"] for r in rows})
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for row in rows:
        matrix[index[row["truth"]]][index[row["predicted"]]] += 1
    wrong = sorted((r for r in rows if r["truth"] != r["predicted"]),
                   key=lambda r: -float(r["confidence"]))[:_MAX_MISTAKES]  # fmt: skip
    shown = (image(mistakes_figure(wrong), "the most confident mistakes") if wrong
             else "<p>No test series is misclassified.</p>")  # fmt: skip
    return image(confusion_figure(matrix, labels), "confusion matrix") + shown


def render_series_report(run_dir: str | Path) -> str:
    """The report page of a series-classification run as an HTML string."""
    run_dir = Path(run_dir)
    metrics, config_text = run_files(run_dir)
    blocks = {
        "accuracy": ("Accuracy beside the baselines", _accuracy_section(metrics)),
        "errors": ("Confusions and the most confident mistakes",
                   _errors_section(read_csv_rows(run_dir / "analysis" / PREDICTIONS_FILE))),
        "curves": ("Training", loss_curve(run_dir)),
        "config": ("Configuration", f"<pre>{html.escape(config_text)}</pre>"),
    }  # fmt: skip
    return page(run_dir, blocks)


def write_series_report(run_dir: str | Path) -> Path:
    """Render and write ``run_dir/report.html`` atomically; returns its path."""
    path = Path(run_dir) / REPORT_FILE
    atomic_write_text(path, render_series_report(run_dir))
    return path
