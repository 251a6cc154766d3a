"""Bootstrap confidence intervals for any metric computed from per-item data.

The percentile bootstrap (Efron & Tibshirani, 1993): draw B resamples of the n items with
replacement, compute the metric θ*_b on each, and take the α/2 and 1 − α/2 quantiles of
θ*_1 … θ*_B as the (1 − α) interval:

    CI = [ q_{α/2}(θ*), q_{1−α/2}(θ*) ],   α = 1 − confidence

The items are resampled *jointly* (paired): a resample of (y_true, y_pred) keeps each item's
gold label with its prediction, and per-sentence counts of an entity tagger stay together.
Seed semantics match ``scipy.stats.bootstrap(..., paired=True, method="percentile")`` with
``rng=np.random.default_rng(seed)``: indices come from ``rng.integers(0, n, (B, n))`` and the
quantiles are NumPy's linear interpolation, so both give the same interval; scipy is not
needed at run time, and ragged per-item data (token lists) works here too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from rnnlab.errors import ShapeError, ValueRangeError
from rnnlab.evaluate.metrics import confusion_matrix

__all__ = ["ConfidenceInterval", "accuracy", "bootstrap_ci", "classification_cis", "macro_f1"]

_CHUNK_ITEMS = 4_000_000  # indices drawn at once (32 MB), so memory stays flat for large n


@dataclass(frozen=True)
class ConfidenceInterval:
    """A point estimate on all items and its percentile bootstrap interval."""

    estimate: float
    low: float
    high: float
    confidence: float
    n_resamples: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _as_items(values: Any) -> np.ndarray:
    """An array indexable along axis 0; ragged per-item sequences become an object array."""
    if isinstance(values, np.ndarray):
        return values
    values = list(values)
    if values and isinstance(values[0], (list, tuple, set, dict)):
        items = np.empty(len(values), dtype=object)
        items[:] = values
        return items
    return np.asarray(values)


def bootstrap_ci(
    data: Sequence[Any] | np.ndarray | tuple[Any, ...],
    metric: Callable[..., float],
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> ConfidenceInterval:
    """Percentile bootstrap interval of ``metric`` over per-item data.

    Args:
        data: a tuple of per-item arrays of equal length n, resampled together and passed to
            ``metric`` as positional arguments (``(y_true, y_pred)``); or one array, passed
            alone. Each is indexed along its first axis.
        metric: maps the (resampled) arrays to a number.
        n_resamples: B, the number of resamples.
        confidence: 1 − α, e.g. 0.95.
        seed: seeds ``np.random.default_rng``; the same seed gives the same interval.

    Example:
        >>> correct = np.array([1, 1, 0, 1, 0, 1, 1, 1])
        >>> bootstrap_ci(correct, np.mean, seed=0)     # accuracy 0.75 and its interval
        ConfidenceInterval(estimate=0.75, low=0.375, high=1.0, confidence=0.95, n_resamples=1000)
    """
    arrays = [_as_items(d) for d in data] if isinstance(data, tuple) else [_as_items(data)]
    sizes = {len(a) for a in arrays}
    if len(sizes) != 1:
        raise ShapeError(
            f"bootstrap_ci: every per-item array must have the same length, got {sorted(sizes)}."
        )
    n = sizes.pop()
    if n == 0:
        raise ShapeError("bootstrap_ci: no items to resample; pass at least one item.")
    if not isinstance(n_resamples, int) or n_resamples < 1:
        raise ValueRangeError(f"bootstrap_ci: n_resamples must be ≥ 1, got {n_resamples!r}.")
    if not 0.0 < confidence < 1.0:
        raise ValueRangeError(f"bootstrap_ci: confidence must lie in (0, 1), got {confidence!r}.")
    rng = np.random.default_rng(seed)
    thetas = np.empty(n_resamples)
    rows = max(1, _CHUNK_ITEMS // n)
    for start in range(0, n_resamples, rows):
        index = rng.integers(0, n, (min(rows, n_resamples - start), n))
        for offset, row in enumerate(index):
            thetas[start + offset] = metric(*(a[row] for a in arrays))
    alpha = 1.0 - confidence
    low, high = np.quantile(thetas, [alpha / 2, 1 - alpha / 2])
    return ConfidenceInterval(
        estimate=float(metric(*arrays)),
        low=float(low),
        high=float(high),
        confidence=confidence,
        n_resamples=n_resamples,
    )


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Share of items with y_pred = y_true."""
    return float(np.mean(y_true == y_pred))


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> float:
    """Unweighted mean over classes of F1_k = 2 C_kk / (Σ_i C_ik + Σ_j C_kj) (0 when undefined),
    the definition of :func:`rnnlab.evaluate.metrics.classification_metrics`."""
    matrix = confusion_matrix(y_true, y_pred, num_classes)
    tp = np.diag(matrix).astype(np.float64)
    denominator = matrix.sum(axis=0) + matrix.sum(axis=1)
    f1 = np.zeros(num_classes)
    np.divide(2 * tp, denominator, out=f1, where=denominator > 0)
    return float(f1.mean())


def classification_cis(
    y_true: Sequence[int],
    y_pred: Sequence[int],
    num_classes: int,
    *,
    prefix: str = "",
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> dict[str, float]:
    """Flat ``{prefix}accuracy_ci_low/high`` and ``{prefix}macro_f1_ci_low/high`` keys."""
    data = (np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64))
    metrics: dict[str, Callable[..., float]] = {
        "accuracy": accuracy,
        "macro_f1": lambda t, p: macro_f1(t, p, num_classes),
    }
    flat = {}
    for name, fn in metrics.items():
        ci = bootstrap_ci(data, fn, n_resamples=n_resamples, confidence=confidence, seed=seed)
        flat[f"{prefix}{name}_ci_low"] = ci.low
        flat[f"{prefix}{name}_ci_high"] = ci.high
    return flat
