"""Forecast metrics against their published formulas, written out as loops over the points
(Hyndman & Koehler 2006 for MASE; M4's sMAPE), and against scikit-learn where it has them."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnlab.evaluate import forecast_metrics as fm

floats = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(floats, floats), min_size=1, max_size=30))
def test_point_errors_equal_the_formulas(pairs):
    actual = np.array([a for a, _ in pairs])
    forecast = np.array([f for _, f in pairs])
    n = len(pairs)
    assert fm.mae(actual, forecast) == pytest.approx(sum(abs(a - f) for a, f in pairs) / n)
    assert fm.rmse(actual, forecast) == pytest.approx(
        math.sqrt(sum((a - f) ** 2 for a, f in pairs) / n)
    )
    expected = (
        sum(0.0 if abs(a) + abs(f) == 0 else abs(a - f) / (abs(a) + abs(f)) for a, f in pairs)
        * 200
        / n
    )
    assert fm.smape(actual, forecast) == pytest.approx(expected)
    assert 0 <= fm.smape(actual, forecast) <= 200


def test_agree_with_scikit_learn():
    metrics = pytest.importorskip("sklearn.metrics", reason="scikit-learn is the reference")
    rng = np.random.default_rng(0)
    actual, forecast = rng.normal(size=50), rng.normal(size=50)
    assert fm.mae(actual, forecast) == pytest.approx(metrics.mean_absolute_error(actual, forecast))
    assert fm.rmse(actual, forecast) == pytest.approx(
        math.sqrt(metrics.mean_squared_error(actual, forecast))
    )
    assert fm.pinball(actual, forecast, 0.9) == pytest.approx(
        metrics.mean_pinball_loss(actual, forecast, alpha=0.9)
    )


def test_mase_scales_by_the_in_sample_seasonal_naive_error():
    history = np.array([1, 5, 2, 6, 3, 8, 4, 9], float)  # season 2
    # (1/(n−m)) Σ_{t=m+1..n} |x_t − x_{t−m}| = (1 + 1 + 1 + 2 + 1 + 1) / 6
    scale = (abs(2 - 1) + abs(6 - 5) + abs(3 - 2) + abs(8 - 6) + abs(4 - 3) + abs(9 - 8)) / 6
    assert fm.mase_scale(history, 2) == pytest.approx(scale)
    actual, forecast = np.array([5.0, 10.0]), np.array([4.0, 12.0])
    assert fm.mase(actual, forecast, history, 2) == pytest.approx(1.5 / scale)
    # A history shorter than two seasons falls back to lag 1.
    assert fm.mase_scale(np.array([1.0, 3.0, 4.0]), 12) == pytest.approx(1.5)
    assert fm.mase(actual, actual, np.ones(5), 1) == 0.0
    assert fm.mase(actual, forecast, np.ones(5), 1) == math.inf


def test_pinball_and_coverage():
    actual = np.array([1.0, 2.0, 3.0, 4.0])
    q = np.array([2.0, 2.0, 2.0, 2.0])
    # τ = 0.25: under-forecasts cost τ·e, over-forecasts (1 − τ)·|e|
    expected = (0.75 * 1 + 0 + 0.25 * 1 + 0.25 * 2) / 4
    assert fm.pinball(actual, q, 0.25) == pytest.approx(expected)
    assert fm.coverage(actual, np.array([0, 2, 3.5, 3]), np.array([1, 3, 4, 5])) == 0.75
