"""Classification metrics from the confusion matrix.

Accuracy, per-class precision / recall / F1 and their macro and weighted averages, with the
definitions of scikit-learn's ``precision_recall_fscore_support`` (a class with no predicted
or no true members gets 0 for the undefined ratio). Written on NumPy so that evaluation needs
no scikit-learn at run time; the tests check every number against scikit-learn.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["classification_metrics", "confusion_matrix"]


def confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int], num_classes: int) -> np.ndarray:
    """C[i, j] = number of items of true class i predicted as class j, shape (K, K)."""
    true = np.asarray(y_true, dtype=np.int64)
    pred = np.asarray(y_pred, dtype=np.int64)
    flat = true * num_classes + pred
    return np.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def _safe_divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    out = np.zeros_like(numerator, dtype=np.float64)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def classification_metrics(
    y_true: Sequence[int], y_pred: Sequence[int], labels: Sequence[str]
) -> dict[str, float | list[list[int]]]:
    """Flat metrics: ``accuracy``, ``macro_f1``, ``macro_precision``, ``macro_recall``,
    ``weighted_f1``, ``precision_<label>``, ``recall_<label>``, ``f1_<label>``,
    ``support_<label>`` and ``confusion_matrix`` (rows = true, columns = predicted).

    precision_k = C_kk / Σ_i C_ik,  recall_k = C_kk / Σ_j C_kj,
    F1_k = 2 P_k R_k / (P_k + R_k),  macro = unweighted mean over classes.
    """
    matrix = confusion_matrix(y_true, y_pred, len(labels))
    true_positive = np.diag(matrix).astype(np.float64)
    predicted = matrix.sum(axis=0).astype(np.float64)
    support = matrix.sum(axis=1).astype(np.float64)
    precision = _safe_divide(true_positive, predicted)
    recall = _safe_divide(true_positive, support)
    f1 = _safe_divide(2 * precision * recall, precision + recall)
    total = matrix.sum()
    metrics: dict[str, float | list[list[int]]] = {
        "accuracy": float(true_positive.sum() / total) if total else 0.0,
        "macro_f1": float(f1.mean()),
        "macro_precision": float(precision.mean()),
        "macro_recall": float(recall.mean()),
        "weighted_f1": float((f1 * support).sum() / support.sum()) if support.sum() else 0.0,
    }
    for k, label in enumerate(labels):
        metrics[f"precision_{label}"] = float(precision[k])
        metrics[f"recall_{label}"] = float(recall[k])
        metrics[f"f1_{label}"] = float(f1[k])
        metrics[f"support_{label}"] = int(support[k])
    metrics["confusion_matrix"] = matrix.tolist()
    return metrics
