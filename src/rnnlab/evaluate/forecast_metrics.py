r"""Point and interval accuracy of forecasts, by the published formulas.

For actual values y_1..y_H, forecasts ŷ_1..ŷ_H and the training part x_1..x_n before the
forecast origin, with season length m (Hyndman & Koehler 2006; the M4 competition):

    MAE   = (1/H) Σ |y_t − ŷ_t|
    RMSE  = √((1/H) Σ (y_t − ŷ_t)²)
    sMAPE = (200/H) Σ |y_t − ŷ_t| / (|y_t| + |ŷ_t|)            (0 … 200; M4's definition)
    MASE  = MAE / ((1/(n−m)) Σ_{t=m+1..n} |x_t − x_{t−m}|)     (in-sample seasonal naive scale)

and for a quantile forecast q̂ at level τ the pinball loss (1/H) Σ max(τ(y−q̂), (τ−1)(y−q̂));
the coverage of an interval [lo, hi] is the share of actual values inside it.

Over several windows or series, MASE and sMAPE are averaged per window (each window has its
own scale, as M4 averages per series); MAE and RMSE are computed over all points together.
scikit-learn has MAE and RMSE but neither sMAPE in M4's form nor MASE with an in-sample
scale, so these few lines are written out here.
"""

from __future__ import annotations

import numpy as np

__all__ = ["coverage", "mae", "mase", "mase_scale", "pinball", "rmse", "smape"]


def mae(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Mean absolute error."""
    return float(np.mean(np.abs(np.asarray(actual) - np.asarray(forecast))))


def rmse(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Root mean squared error."""
    return float(np.sqrt(np.mean((np.asarray(actual) - np.asarray(forecast)) ** 2)))


def smape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Symmetric MAPE in M4's form, 0 … 200; a point where both are 0 counts 0."""
    actual, forecast = np.asarray(actual, float), np.asarray(forecast, float)
    denominator = np.abs(actual) + np.abs(forecast)
    ratio = np.divide(
        np.abs(actual - forecast), denominator, out=np.zeros_like(denominator),
        where=denominator > 0,
    )  # fmt: skip
    return float(200.0 * np.mean(ratio))


def mase_scale(history: np.ndarray, season: int) -> float:
    """The in-sample mean absolute seasonal difference (1/(n−m)) Σ |x_t − x_{t−m}| of the
    data before the origin; the naive lag 1 when the history is shorter than two seasons."""
    history = np.asarray(history, float)
    lag = season if len(history) > season else 1
    diffs = np.abs(history[lag:] - history[:-lag])
    return float(np.mean(diffs)) if diffs.size else float("nan")


def mase(actual: np.ndarray, forecast: np.ndarray, history: np.ndarray, season: int) -> float:
    """MAE scaled by :func:`mase_scale` of ``history``: < 1 beats the in-sample seasonal
    naive forecast's one-step error; ``inf`` for a constant history."""
    scale = mase_scale(history, season)
    error = mae(actual, forecast)
    if scale == 0:
        return 0.0 if error == 0 else float("inf")
    return error / scale


def pinball(actual: np.ndarray, quantile_forecast: np.ndarray, level: float) -> float:
    """Mean pinball (quantile) loss of ``quantile_forecast`` at level τ = ``level``."""
    diff = np.asarray(actual, float) - np.asarray(quantile_forecast, float)
    return float(np.mean(np.maximum(level * diff, (level - 1.0) * diff)))


def coverage(actual: np.ndarray, low: np.ndarray, high: np.ndarray) -> float:
    """Share of ``actual`` values inside [low, high]."""
    actual = np.asarray(actual, float)
    return float(np.mean((actual >= np.asarray(low)) & (actual <= np.asarray(high))))
