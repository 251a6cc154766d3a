"""Where a classifier goes wrong: its most confident mistakes, its confusions, and how
accuracy changes with text length — as tables, and as CSV files in the run directory.

    RUN/analysis/mistakes.csv        the most confident wrong predictions, most confident first
    RUN/analysis/confusions.csv      every (true, predicted) pair with count and share of true
    RUN/analysis/length_buckets.csv  accuracy (with bootstrap 95 % CI) per token-length bucket
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rnnlab.evaluate.bootstrap import bootstrap_ci
from rnnlab.fileio import atomic_open

__all__ = ["ErrorAnalysis", "analyse_errors", "length_edges"]


@dataclass
class ErrorAnalysis:
    """Rows of the three tables; each row is a dict with the CSV's columns."""

    mistakes: list[dict[str, Any]]
    confusions: list[dict[str, Any]]
    length_buckets: list[dict[str, Any]]

    def write_csv(self, folder: str | Path) -> list[Path]:
        """Write the three CSV files (atomically) into ``folder``; returns their paths."""
        folder = Path(folder)
        written = []
        for name, rows in (
            ("mistakes", self.mistakes),
            ("confusions", self.confusions),
            ("length_buckets", self.length_buckets),
        ):
            path = folder / f"{name}.csv"
            columns = _COLUMNS[name]
            with atomic_open(path, "w", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=columns)
                writer.writeheader()
                writer.writerows(rows)
            written.append(path)
        return written


_COLUMNS = {
    "mistakes": ["rank", "true", "predicted", "confidence", "p_true", "tokens", "text"],
    "confusions": ["true", "predicted", "count", "share_of_true"],
    "length_buckets": ["bucket", "min_tokens", "max_tokens", "count", "accuracy",
                       "accuracy_ci_low", "accuracy_ci_high"],
}  # fmt: skip


def length_edges(lengths: Sequence[int], buckets: int = 5) -> list[int]:
    """Upper edges of up to ``buckets`` length buckets holding about equal numbers of texts
    (quantiles of the lengths; repeated edges merged)."""
    x = np.asarray(lengths)
    quantiles = np.quantile(x, np.linspace(0, 1, buckets + 1)[1:], method="higher")
    return sorted({int(q) for q in quantiles})


def analyse_errors(
    texts: Sequence[str],
    y_true: Sequence[int],
    probs: np.ndarray,
    labels: Sequence[str],
    lengths: Sequence[int],
    *,
    top: int = 50,
    buckets: int = 5,
    seed: int = 0,
) -> ErrorAnalysis:
    """Tables of an evaluation: ``probs`` (N, K) of the model, ``lengths`` in tokens."""
    true = np.asarray(y_true, dtype=np.int64)
    pred = probs.argmax(axis=1)
    confidence = probs.max(axis=1)
    wrong = np.flatnonzero(pred != true)
    order = wrong[np.argsort(-confidence[wrong], kind="stable")][:top]
    mistakes = [
        {
            "rank": rank,
            "true": labels[true[i]],
            "predicted": labels[pred[i]],
            "confidence": round(float(confidence[i]), 4),
            "p_true": round(float(probs[i, true[i]]), 4),
            "tokens": int(lengths[i]),
            "text": texts[i],
        }
        for rank, i in enumerate(order, start=1)
    ]
    confusions = []
    for k, label in enumerate(labels):
        members = true == k
        for j, other in enumerate(labels):
            count = int((members & (pred == j)).sum())
            confusions.append(
                {
                    "true": label,
                    "predicted": other,
                    "count": count,
                    "share_of_true": round(count / max(int(members.sum()), 1), 4),
                }
            )
    correct = (pred == true).astype(np.float64)
    size = np.asarray(lengths)
    rows, low = [], -1  # bucket = (previous edge, edge]; the first takes every length ≤ edge
    for edge in length_edges(lengths, buckets):
        members = (size > low) & (size <= edge)
        chosen = correct[members]
        if chosen.size:
            ci = bootstrap_ci(chosen, np.mean, seed=seed)
            rows.append(
                {
                    "bucket": f"{int(size[members].min())}–{edge}",
                    "min_tokens": int(size[members].min()),
                    "max_tokens": edge,
                    "count": int(chosen.size),
                    "accuracy": round(ci.estimate, 4),
                    "accuracy_ci_low": round(ci.low, 4),
                    "accuracy_ci_high": round(ci.high, 4),
                }
            )
        low = edge
    return ErrorAnalysis(mistakes, confusions, rows)
