"""Significance of a difference between two classifiers, and the spread of repeated runs.

**McNemar's test** compares two classifiers on the same items through the discordant pairs
only: b = items the model gets right and the baseline wrong, c = the reverse. Under
H₀ (equal error rates) each discordant item falls either way with probability ½.

* Exact binomial test, used when b + c < 25 (where the χ² approximation is poor):
  p = min(1, 2 · P(X ≤ min(b, c))), X ~ Binomial(b + c, ½).
* Otherwise χ² with Edwards' continuity correction, one degree of freedom:
  χ² = (|b − c| − 1)² / (b + c),  p = P(χ²₁ ≥ χ²) = erfc(√(χ²/2)).

Both match ``statsmodels.stats.contingency_tables.mcnemar`` (``exact=True`` and
``exact=False, correction=True``); written with the standard library so that evaluation needs
neither statsmodels nor scipy.

**Repeated runs** (seeds, folds) are summarised by mean ± sample standard deviation and the
Student-t interval of the mean: x̄ ± t_{1−α/2, n−1} · s / √n.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from rnnlab.errors import MissingDependencyError, ShapeError

__all__ = ["EXACT_BELOW", "McNemarResult", "MeanSummary", "mcnemar", "summarize_runs"]

EXACT_BELOW = 25  # use the exact binomial test when b + c is below this


@dataclass(frozen=True)
class McNemarResult:
    """b: only the model right; c: only the baseline right; the test used and its p-value."""

    model_only: int
    baseline_only: int
    statistic: float
    p_value: float
    method: str  # "exact binomial" or "chi-square with continuity correction"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _binomial_cdf_half(k: int, n: int) -> float:
    """P(X ≤ k) for X ~ Binomial(n, ½), summed exactly in integers."""
    return sum(math.comb(n, i) for i in range(k + 1)) / 2**n


def mcnemar(
    model_correct: Sequence[bool] | np.ndarray,
    baseline_correct: Sequence[bool] | np.ndarray,
    *,
    exact: bool | None = None,
) -> McNemarResult:
    """McNemar's test on per-item correctness of two classifiers (same items, same order).

    ``exact=None`` picks the exact binomial test when b + c < 25, the continuity-corrected χ²
    test otherwise; ``True`` / ``False`` force one.
    """
    a = np.asarray(model_correct, dtype=bool)
    z = np.asarray(baseline_correct, dtype=bool)
    if a.shape != z.shape or a.ndim != 1:
        raise ShapeError(
            f"mcnemar: model_correct and baseline_correct must be 1-D and of equal length, got "
            f"shapes {a.shape} and {z.shape}."
        )
    return mcnemar_from_counts(int((a & ~z).sum()), int((~a & z).sum()), exact=exact)


def mcnemar_from_counts(b: int, c: int, *, exact: bool | None = None) -> McNemarResult:
    """McNemar's test from the discordant counts b (model only right) and c (baseline only)."""
    discordant = b + c
    if exact is None:
        exact = discordant < EXACT_BELOW
    if exact:
        p = 1.0 if discordant == 0 else min(1.0, 2 * _binomial_cdf_half(min(b, c), discordant))
        return McNemarResult(b, c, float(min(b, c)), p, "exact binomial")
    statistic = (abs(b - c) - 1) ** 2 / discordant if discordant else 0.0
    p = math.erfc(math.sqrt(statistic / 2)) if discordant else 1.0
    return McNemarResult(b, c, statistic, p, "chi-square with continuity correction")


@dataclass(frozen=True)
class MeanSummary:
    """Mean, sample standard deviation and Student-t interval of the mean of n runs."""

    mean: float
    sd: float
    ci_low: float
    ci_high: float
    n: int
    values: list[float]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarize_runs(values: Sequence[float], confidence: float = 0.95) -> MeanSummary:
    """x̄, s (n − 1 in the denominator) and x̄ ± t_{1−α/2, n−1} s/√n; one run has no spread
    (sd 0, interval = the value)."""
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1 or x.size == 0:
        raise ShapeError(f"summarize_runs: need a 1-D list of run scores, got shape {x.shape}.")
    mean = float(x.mean())
    if x.size == 1:
        return MeanSummary(mean, 0.0, mean, mean, 1, x.tolist())
    try:
        from scipy.stats import t
    except ImportError:
        raise MissingDependencyError(
            "The interval of the mean over runs needs scipy; install it with "
            "pip install 'rnnlab[explain]'."
        ) from None
    sd = float(x.std(ddof=1))
    half = float(t.ppf(1 - (1 - confidence) / 2, x.size - 1)) * sd / math.sqrt(x.size)
    return MeanSummary(mean, sd, mean - half, mean + half, int(x.size), x.tolist())
