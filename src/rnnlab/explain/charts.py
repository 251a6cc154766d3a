"""Figures of a whole run: learning curves (loss and scores, or perplexity), confusion matrix,
accuracy by text length, and the surprisal of one text under a language model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from rnnlab.explain.plots import new_figure

__all__ = [
    "confusion_figure",
    "learning_curves_figure",
    "length_buckets_figure",
    "perplexity_curves_figure",
    "surprisal_figure",
]


def learning_curves_figure(history: Sequence[dict[str, Any]], metric: str = "accuracy") -> Any:
    """Loss (train and valid) and the validation ``metric`` per epoch, from history.jsonl."""
    epochs = [record["epoch"] for record in history]
    figure, (loss_ax, metric_ax) = new_figure(9.0, 3.2, rows=1, cols=2)
    for key, label in (("train_loss", "train"), ("valid_loss", "valid")):
        values = [record.get(key) for record in history]
        if any(v is not None for v in values):
            loss_ax.plot(epochs, [np.nan if v is None else v for v in values], marker="o",
                         label=label)  # fmt: skip
    loss_ax.set(xlabel="epoch", ylabel="cross-entropy loss", title="loss")
    loss_ax.legend(fontsize=8)
    for key in (f"valid_{metric}", "valid_macro_f1"):
        values = [record.get(key) for record in history]
        if any(v is not None for v in values):
            metric_ax.plot(epochs, [np.nan if v is None else v for v in values], marker="o",
                           label=key.removeprefix("valid_"))  # fmt: skip
    metric_ax.set(xlabel="epoch", ylabel="validation score", title="validation metrics")
    metric_ax.legend(fontsize=8)
    for ax in (loss_ax, metric_ax):
        ax.grid(alpha=0.3)
        ax.set_xticks(epochs)
    return figure


def confusion_figure(matrix: Sequence[Sequence[int]], labels: Sequence[str]) -> Any:
    """Heat map of the confusion matrix, rows = true, columns = predicted; each cell shows the
    count and its share of the true class."""
    counts = np.asarray(matrix, dtype=np.float64)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    size = min(9.0, 2.2 + 0.7 * len(labels))
    figure, (ax,) = new_figure(size + 1.0, size)
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(labels)):
        for j in range(len(labels)):
            color = "white" if shares[i, j] > 0.6 else "black"
            ax.text(j, i, f"{int(counts[i, j])}\n{shares[i, j]:.0%}", ha="center", va="center",
                    color=color, fontsize=9)  # fmt: skip
    ax.set_xticks(range(len(labels)), labels=list(labels))
    ax.set_yticks(range(len(labels)), labels=list(labels))
    ax.set(xlabel="predicted", ylabel="true", title="confusion matrix")
    figure.colorbar(image, ax=ax, label="share of the true class")
    return figure


def length_buckets_figure(rows: Sequence[dict[str, Any]]) -> Any:
    """Accuracy per text-length bucket with its bootstrap 95 % interval, and bucket sizes."""
    names = [str(row["bucket"]) for row in rows]
    acc = np.array([float(row["accuracy"]) for row in rows])
    low = np.array([float(row["accuracy_ci_low"]) for row in rows])
    high = np.array([float(row["accuracy_ci_high"]) for row in rows])
    figure, (ax,) = new_figure(6.5, 3.2)
    x = np.arange(len(rows))
    ax.bar(x, acc, color="#4c78a8", yerr=np.vstack([acc - low, high - acc]), capsize=4)
    for i, row in enumerate(rows):
        ax.text(i, 0.02, f"n={row['count']}", ha="center", va="bottom", color="white", fontsize=8)
    ax.set_xticks(x, labels=names)
    ax.set(xlabel="text length (tokens)", ylabel="accuracy", ylim=(0, 1),
           title="accuracy by text length (95% CI)")  # fmt: skip
    ax.grid(axis="y", alpha=0.3)
    return figure


def perplexity_curves_figure(history: Sequence[dict[str, Any]]) -> Any:
    """Perplexity per epoch on a log scale: training (exp of the epoch's mean training loss,
    dropout and the AR/TAR penalties included, so above what the weights score) and
    validation (exact, every token)."""
    epochs = [record["epoch"] for record in history]
    figure, (ax,) = new_figure(6.5, 3.4)
    train = [record.get("train_loss") for record in history]
    if any(v is not None for v in train):
        values = [np.nan if v is None else float(np.exp(min(v, 700.0))) for v in train]
        ax.plot(epochs, values, marker="o", label="train (with dropout, AR/TAR)")
    valid = [record.get("valid_perplexity") for record in history]
    if any(v is not None for v in valid):
        ax.plot(epochs, [np.nan if v is None else v for v in valid], marker="o", label="valid")
    ax.set_yscale("log")
    ax.set(xlabel="epoch", ylabel="perplexity (log scale)", title="perplexity per epoch")
    ax.grid(alpha=0.3, which="both")
    ax.set_xticks(epochs)
    ax.legend(fontsize=8)
    return figure


def surprisal_figure(tokens: Sequence[str], bits: Sequence[float], unit: str = "token") -> Any:
    """One bar per token: its surprisal −log₂ p(token | context) in bits, the token under it.
    Long texts keep their first 80 tokens so that the labels stay readable."""
    tokens, bits = list(tokens)[:80], list(bits)[:80]
    width = min(16.0, 2.0 + 0.22 * len(tokens))
    figure, (ax,) = new_figure(width, 3.4)
    x = np.arange(len(tokens))
    ax.bar(x, bits, color="#4c78a8")
    labels = ["␣" if t == " " else t for t in tokens]
    ax.set_xticks(x, labels=labels, rotation=90, fontsize=7)
    ax.set(ylabel="surprisal (bits)", title=f"surprisal per {unit}, −log₂ p(next {unit})")
    ax.grid(axis="y", alpha=0.3)
    ax.set_xlim(-0.6, len(tokens) - 0.4)
    return figure
